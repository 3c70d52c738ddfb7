/*
 * splitpriv.h - the one header of splitpriv's C hot paths.
 *
 * Everything Python sees of the C side is declared here, and this file is also the cdef that
 * csrc/build_engine.py hands to cffi (without its include guard), so it must stay plain C
 * declarations that cffi can parse: no includes, no macros, no inline code.
 *
 * The engine runs the whole waitpid/ptrace loop of one tracing session in the thread that calls
 * sp_run(); Python drains the events it records from a bounded ring with sp_wait_events(),
 * sp_event_at() and sp_release(), from another thread, in batches.
 */
#ifndef SPLITPRIV_H
#define SPLITPRIV_H

/* Sizes (kept as enum constants so that cffi can read them). */
enum {
    SP_NR_MAX = 1024,        /* syscall numbers per architecture table */
    SP_NARCH = 2,            /* 0: x86_64, 1: i386 (int $0x80 from a 64-bit process) */
    SP_NARGS = 6,
    SP_SEG_MAX = 6,          /* copied memory segments per event (ppoll: 5, pselect6: 6) */
    SP_DATA_MAX = 8192,      /* bytes of copied memory per event */
};

/* What the engine does with a syscall (one rule per arch and number). */
enum sp_action {
    SP_ALLOW = 0,            /* let it run */
    SP_DENY = 1,             /* skip it; the tracee sees -1 and errno = rule value */
    SP_EMULATE = 2,          /* skip it; the tracee sees the rule value as the result */
    SP_CALLBACK = 3,         /* ask Python (sp_py_decide) for a verdict */
    SP_REWRITE = 4,          /* let it run with the arguments in rewrite_mask replaced */
};

/* Rule flags. */
enum {
    SP_RULE_RECORD = 1,      /* record an event for this syscall */
};

/* Below this no user memory is mapped (Linux's mmap_min_addr is larger): a struct argument
 * that is lower is a number (prctl's and fcntl's arguments are either), not worth a read. */
#define SP_LOWEST_ADDRESS 4096

/* What to copy from tracee memory for one argument (the codes of splitpriv.syscalls). */
enum {
    SP_CAPTURE_NONE = 0,
    SP_CAPTURE_CSTRING = 1,  /* NUL-terminated string, copied at entry */
    SP_CAPTURE_ARGV = 2,     /* array of strings (execve's argv), copied at entry: string_array.h */
    SP_CAPTURE_ENVC = 3,     /* array of strings (envp): only its length, an int, at entry */
    SP_CAPTURE_DIRENTS = 4,  /* getdents: how many records it wrote, an int, at exit */
    SP_CAPTURE_POLLFDS = 5,  /* poll's array (8 bytes times the next argument), at entry and
                              * again at exit, labelled argument + SP_SEG_AFTER */
    SP_CAPTURE_SOCKADDR_OUT = 6, /* a socket address the kernel fills in, its socklen_t in/out
                                  * the next argument: that length at entry, and at exit (if the
                                  * call did not fail) the length again, labelled argument + 1 +
                                  * SP_SEG_AFTER, and the address */
    SP_CAPTURE_SIGFRAME_MASK = 7, /* rt_sigreturn (x86_64): the signal mask it restores, 8
                                   * bytes of the frame at the stack pointer, at entry (the
                                   * mechanisms that read the stack pointer: ptrace's) */
    SP_CAPTURE_FDSET = 9,    /* select's fd_set: argument 0 bits (at most 1024), copied at entry
                              * and again at exit (labelled argument + SP_SEG_AFTER) when the
                              * call returned more than 0 */
    SP_CAPTURE_IOVEC_IN = 10,  /* an iovec array of the next argument's count, its buffers
                                * copied at entry (writev): string_array.h */
    SP_CAPTURE_IOVEC_OUT = 11, /* the same, copied at exit, as many bytes as the call returned
                                * (readv) */
    SP_CAPTURE_MSGHDR_IN = 12,  /* a struct msghdr (sendmsg), copied at entry with what it
                                 * points to: its iovecs' buffers, name and control data
                                 * (labelled argument + SP_SEG_IOV, _NAME, _CONTROL) */
    SP_CAPTURE_MSGHDR_OUT = 13, /* the same for recvmsg: the msghdr at entry, then at exit the
                                 * msghdr again (argument + SP_SEG_AFTER) and what it points
                                 * to, as many bytes of buffers as the call returned */
    SP_CAPTURE_BUF_ARG = 16, /* | k: buffer copied at entry, length in argument k */
    SP_CAPTURE_BUF_RET = 32, /* buffer copied at exit, length = return value when > 0 */
    SP_CAPTURE_OUT_INTS = 64, /* | n: n 32-bit ints the kernel wrote, copied at exit when the
                               * call did not fail (a wait status, pipe2's two fds) */
    SP_CAPTURE_IN_WORDS = 128, /* | n (< 32): a struct of n 8-byte words the kernel reads,
                                * copied at entry (a sigaction, a timespec, an rlimit) */
    SP_CAPTURE_OUT_WORDS = 160, /* | n (< 32): one the kernel writes, copied at exit when the
                                 * call did not fail (a struct stat, the old sigaction) */
    SP_CAPTURE_CUT_WORDS = 224, /* | n (< 32): one the kernel writes only when a signal cuts
                                 * the call short (nanosleep's time left), copied at exit when
                                 * it returned -EINTR or a restart code */
    SP_CAPTURE_INOUT_WORDS = 192, /* | n (< 32): one the kernel reads and rewrites (the time a
                                   * select or ppoll had left), copied at entry and again at
                                   * exit (labelled argument + SP_SEG_AFTER) when the call did
                                   * not fail */
};

struct sp_rule {
    unsigned char action;
    unsigned char flags;
    unsigned char capture[6];
    long long value;         /* errno for SP_DENY, return value for SP_EMULATE */
    unsigned int rewrite_mask; /* SP_REWRITE: bit i set = argument i becomes rewrite[i] */
    unsigned long long rewrite[6];
};

/* What a Python callback answers (sp_py_decide fills it). */
struct sp_verdict {
    int action;              /* SP_ALLOW, SP_DENY, SP_EMULATE or SP_REWRITE */
    long long value;
    unsigned int rewrite_mask;
    unsigned long long rewrite[6];
};

/* How syscalls reach the engine. */
enum sp_mode {
    SP_MODE_PTRACE = 1,      /* PTRACE_SYSCALL: a stop at entry and at exit */
    SP_MODE_SYSEMU = 2,      /* PTRACE_SYSEMU: one stop at entry; the kernel skips the call */
    SP_MODE_SECCOMP_TRACE = 3, /* a filter's RET_TRACE: PTRACE_EVENT_SECCOMP stops only */
    SP_MODE_SECCOMP_NOTIFY = 4, /* a filter's RET_USER_NOTIF: a listener fd, no ptrace at all */
    SP_MODE_INPROCESS = 5,   /* this process, Syscall User Dispatch + a SIGSYS handler */
    SP_MODE_SUD = 6,         /* an injected stub, reached by Syscall User Dispatch */
    SP_MODE_SECCOMP_TRAP = 7, /* an injected stub, reached by a seccomp filter's RET_TRAP */
};

/* Where a launch failed (sp_result.launch_stage). */
enum {
    SP_STAGE_EXEC = 0,
    SP_STAGE_SECCOMP = 1,    /* installing the seccomp filter in the child */
    SP_STAGE_ANSWERED = 2,   /* the policy answered the execve (launch_errno: the value it
                              * returned, maybe 0) instead of letting it run */
};

enum sp_event_kind {
    SP_EV_SYSCALL = 1,       /* a syscall, entry and (unless SP_EVF_NORETURN) exit */
    SP_EV_SIGNAL = 2,        /* a signal delivered to the tracee (passed on) */
    SP_EV_EXIT = 3,          /* a task ended: status is the raw wait status */
    SP_EV_EXEC = 4,          /* a successful execve: status is the tid that called it */
    SP_EV_STOPPED = 5,       /* a group-stop (SIGSTOP, SIGTSTP, ...): sig says which */
};

enum {
    SP_EVF_DENIED = 1,       /* the engine answered with -errno instead of running it */
    SP_EVF_EMULATED = 2,     /* the engine answered with a value instead of running it */
    SP_EVF_NORETURN = 4,     /* no exit was seen (exit_group, killed, superseded) */
    SP_EVF_CALLBACK = 8,     /* the verdict came from the Python callback */
    SP_EVF_CONTINUED = 16,   /* seccomp-notify let it run in the kernel: result unknown */
    SP_EVF_REWRITTEN = 32,   /* it ran with rewritten arguments (args holds the new ones) */
    SP_EVF_ENTRY = 64,       /* only the entry of a call still in progress (entry_records) */
    SP_EVF_ENTRY_SHOWN = 128, /* the whole call, whose SP_EVF_ENTRY record came earlier */
    SP_EVF_DETACHED = 256,   /* with NORETURN: the tracer detached while it was in progress */
};

enum {
    SP_SEGF_TRUNCATED = 1,   /* more bytes existed than were copied */
    SP_SEGF_FAULT = 2,       /* the memory could not be read (bad address) */
    SP_SEGF_EXIT = 4,        /* copied at syscall exit */
};

enum {
    SP_SEG_AFTER = 8,        /* added to a segment's argument: its copy at exit (POLLFDS) */
    SP_SEG_IOV = 16,         /* MSGHDR: added to the argument, the buffers of its msg_iov, */
    SP_SEG_NAME = 24,        /* its msg_name, */
    SP_SEG_CONTROL = 32,     /* and its msg_control */
};

struct sp_segment {
    unsigned char arg;       /* which argument the bytes belong to */
    unsigned char flags;
    unsigned short len;
    unsigned short off;      /* offset in sp_event.data */
};

struct sp_event {
    int kind;
    int flags;
    int pid;                 /* thread group id */
    int tid;
    unsigned int arch;       /* AUDIT_ARCH_* of the syscall */
    int nr;
    unsigned long long args[6];
    long long ret;
    long long t_entry_ns;    /* CLOCK_REALTIME */
    long long t_exit_ns;
    int sig;                 /* SIGNAL, STOPPED: the signal number */
    int status;              /* EXIT: wait status; EXEC: former tid */
    int sig_code;
    int sig_pid;
    int sig_uid;
    int sig_status;
    unsigned short nseg;
    unsigned short data_len;
    struct sp_segment seg[6];
    char data[8192];
};

enum sp_cpu_policy {
    SP_CPU_NONE = 0,         /* leave placement to the scheduler */
    SP_CPU_SAME = 1,         /* engine thread and tracees pinned to one CPU */
    SP_CPU_SPREAD = 2,       /* engine thread on one CPU, tracees on another */
};

struct sp_config {
    int mode;                /* enum sp_mode */
    int follow_forks;
    int cpu_policy;          /* enum sp_cpu_policy */
    int attach_pid;          /* > 0: attach to this process instead of launching */
    unsigned int string_limit; /* bytes copied per string or buffer (<= SP_DATA_MAX) */
    unsigned long long ring_bytes; /* the event ring's size (a power of two, >= 64 KiB) */
    int record_signals;      /* emit SP_EV_SIGNAL / SP_EV_STOPPED events */
    const void *filter;      /* seccomp modes: struct sock_filter[filter_len], installed in */
    unsigned int filter_len; /* the child after the handshake and before execve */
    int protect;             /* stub modes: SP_PROTECT_* for the stub's data */
    int entry_records;       /* ptrace, sysemu, seccomp-trace: before any record, first emit
                              * an SP_EVF_ENTRY record for each other task inside a recorded
                              * call (what strace prints as `<unfinished ...>`) */
    void *py_handle;         /* passed back to sp_py_decide */
    struct sp_event *decide_event; /* where a call is copied for sp_py_decide to read: one
                              * buffer that Python views once, not a new view of each
                              * tracee's event at every call */
};

struct sp_result {
    int root_pid;            /* the launched or attached process, once known */
    int root_status;         /* its raw wait status, valid when root_exited */
    int root_exited;
    int launch_errno;        /* execve (or the filter) failed in the child with this errno */
    int launch_stage;        /* SP_STAGE_*: which */
    int notify_sync_wakeup;  /* seccomp-notify: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is on */
    int error_errno;         /* the engine stopped on an unexpected error */
    char error_where[64];    /* ... in this call */
    int cancelled;
};

struct sp_session;

struct sp_session *sp_session_new(const struct sp_config *config);
void sp_session_free(struct sp_session *session);
/* SP_NR_MAX + 1 rules: one per number, then the rule for numbers out of range. */
struct sp_rule *sp_rules(struct sp_session *session, int arch_index);

/* Engine thread: launch (or attach) and trace until every tracee is gone. Returns 0 or -errno. */
int sp_run(struct sp_session *session, const char *path, char **argv, char **envp);

/* Any thread: stop the session: launched tracees are killed, attached ones are detached. */
void sp_cancel(struct sp_session *session);

/* Consumer thread: wait up to timeout_ms for events; the count ready, or -1 when the session
 * has ended and every event was released. The ready events are contiguous records from byte
 * offset sp_ring_tail() on (modulo the ring size), each sp_event_size() bytes long; read them in
 * place, then hand back their count and total size with sp_release(). */
int sp_wait_events(struct sp_session *session, int timeout_ms);
void *sp_ring_memory(struct sp_session *session, unsigned long long *size);
unsigned long long sp_ring_tail(struct sp_session *session);
struct sp_event *sp_event_at(struct sp_session *session, unsigned long long offset);
unsigned long long sp_event_size(const struct sp_event *event);
void sp_release(struct sp_session *session, unsigned int count, unsigned long long bytes);
/* Consumer thread: how many of the (at most limit) ready records from byte offset `offset` on
 * repeat the first in everything but their times, with nothing copied (0 when the first has
 * copied memory); *bytes: their total size. A loop's records, for a consumer that writes one
 * line for them all without reading each. */
unsigned int sp_ring_repeats(struct sp_session *session, unsigned long long offset,
                             unsigned int limit, unsigned long long *bytes);

const struct sp_result *sp_result(struct sp_session *session);
const unsigned long long *sp_counts(struct sp_session *session, int arch_index);
const unsigned long long *sp_error_counts(struct sp_session *session, int arch_index);
unsigned long long sp_stops(struct sp_session *session);

/* The in-process unprivileged mode (unpriv.c): from sp_unpriv_enter() to sp_unpriv_exit(),
 * every syscall of the calling thread traps to splitpriv's SIGSYS handler (Syscall User
 * Dispatch), which applies the session's rules and records events into its ring. protect is
 * SP_PROTECT_*: the action table is inaccessible outside the handler. 0 or -errno. */
enum sp_protect {
    SP_PROTECT_NONE = 0,
    SP_PROTECT_MPROTECT = 1, /* PROT_NONE outside the handler: 2 mprotect calls per trap */
    SP_PROTECT_PKEY = 2,     /* a protection key, switched with WRPKRU (no syscall) */
};
int sp_unpriv_enter(struct sp_session *session, int protect);
int sp_unpriv_exit(struct sp_session *session);
/* After sp_unpriv_exit: every event recorded, as contiguous records (see sp_event_size). */
const void *sp_unpriv_events(struct sp_session *session, unsigned long long *bytes);
/* The action table's address (for tests that prove it is out of reach while unprivileged). */
const void *sp_rules_address(struct sp_session *session);

/* Feature probes: 0 when the feature works here, else a positive errno. */
int sp_probe_ptrace(void);
int sp_probe_sysemu(void);
int sp_probe_syscall_info(void);
enum sp_feature {
    SP_FEATURE_SET_SYSCALL_INFO = 1,  /* PTRACE_SET_SYSCALL_INFO (Linux 6.16) */
    SP_FEATURE_SET_SUD_CONFIG = 2,    /* PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (6.4) */
    SP_FEATURE_SUD = 3,               /* prctl(PR_SET_SYSCALL_USER_DISPATCH) (5.11) */
    SP_FEATURE_SYNC_WAKEUP = 4,       /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.7) */
};
int sp_probe_feature(int feature);

/* Install this filter in a child with the given seccomp flags and run getppid under it:
 * 0 when the kernel accepted it, else the errno. *ret_out gets getppid's result (or -errno). */
int sp_probe_seccomp(const void *filter, unsigned int filter_len, unsigned int flags,
                     long long *ret_out);

/* ---- Virtual CPUs (vcpu.c): host processes that run guest contexts ----------------------
 * A host is a forked process reduced to the VCpu stub (vcpu_abi.h). Guest code runs in it;
 * each syscall the guest makes and each fault it takes stops it in the stub's handler, which
 * reports an sp_vcpu_trap and waits; the supervisor queues memory operations (map a region of
 * an address space's memfd, unmap, protect) and resumes it with a register set, which may be
 * another guest context's. */
enum {
    SP_VCPU_NREGS = 18,      /* ucontext gregs: r8..r15 rdi rsi rbp rbx rdx rax rcx rsp rip eflags */
    SP_VCPU_MAX_OPS = 1024,
    SP_VCPU_MAX_FDS = 64,
};
enum sp_vcpu_trap_kind {
    SP_TRAP_BOOT = 0,        /* the host is ready: no guest has run yet */
    SP_TRAP_SYSCALL = 1,     /* nr, arch and args say which; rip is past the instruction */
    SP_TRAP_FAULT = 2,       /* signo, code and addr say which */
    SP_TRAP_OPFAIL = 3,      /* a queued operation failed: op_index and error; nothing resumed */
    SP_TRAP_EXITED = 4,      /* the host process is gone; code is its wait status */
};
enum sp_vcpu_op_kind {
    SP_VCPU_OP_MAP = 1,      /* mmap(addr, length, prot, MAP_SHARED|MAP_FIXED, fds[slot], offset) */
    SP_VCPU_OP_UNMAP = 2,
    SP_VCPU_OP_PROTECT = 3,
    SP_VCPU_OP_RECV_FD = 4,  /* take the next fd from the socket into fds[slot] */
    SP_VCPU_OP_CLOSE_FD = 5,
};
struct sp_vcpu_op {
    int kind;
    int slot;
    int prot;
    int pad;
    unsigned long long addr;
    unsigned long long length;
    unsigned long long offset;
};
struct sp_vcpu_trap {
    int kind;
    int signo;
    int code;
    int error;
    unsigned int arch;
    unsigned int op_index;
    unsigned long long nr;
    unsigned long long args[6];
    unsigned long long addr;
    unsigned long long regs[18];
};
struct sp_vcpu_host;
/* Fork a host, reduce it to the stub, install the filter; NULL and *error = -errno on failure.
 * cpu >= 0 pins the host to that CPU. */
struct sp_vcpu_host *sp_vcpu_start(const void *filter, unsigned int filter_len, int protect,
                                   int cpu, int *error);
int sp_vcpu_pid(struct sp_vcpu_host *host);
/* Send fd over the socket and queue its receipt into fds[slot]. 0 or -errno. */
int sp_vcpu_send_fd(struct sp_vcpu_host *host, int fd, int slot);
/* Queue one operation for the next resume. 0, or -ENOSPC when the queue is full. */
int sp_vcpu_queue(struct sp_vcpu_host *host, const struct sp_vcpu_op *op);
/* Apply the queued operations, load regs and run until the next trap (sp_vcpu_wait). */
int sp_vcpu_resume(struct sp_vcpu_host *host, const unsigned long long *regs, int timeout_ms,
                   struct sp_vcpu_trap *out);
/* Wait for the running host to trap: 0 with *out filled, -ETIMEDOUT, -EINTR (call again), or
 * -ESRCH when the host died (out->kind is SP_TRAP_EXITED). timeout_ms < 0 waits for ever. */
int sp_vcpu_wait(struct sp_vcpu_host *host, int timeout_ms, struct sp_vcpu_trap *out);
/* Kill the host (if alive), reap it and free everything. */
void sp_vcpu_stop(struct sp_vcpu_host *host);
/* The switch benchmark's loop: rounds x n resumes of hosts[i] with regs[i] after queueing
 * ops[op_start[i] .. op_start[i+1]); each must trap on syscall yield_nr, answered with 0.
 * Returns the nanoseconds taken, or -errno. */
long long sp_vcpu_bench(struct sp_vcpu_host **hosts, int n, unsigned long long *regs,
                        const struct sp_vcpu_op *ops, const unsigned int *op_start,
                        unsigned long long rounds, unsigned long long yield_nr);

#endif
