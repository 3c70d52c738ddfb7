/*
 * launch.c - starting a tracee (a child that shares our memory until it execs, with the ptrace
 * handshake), attaching to one, and CPU placement.
 *
 * Launch: the child stops itself with SIGSTOP before execve; the engine waits for that stop,
 * PTRACE_SEIZEs the child (so group-stops can be reported and PTRACE_LISTEN used) and sends
 * SIGCONT. The first syscall the engine sees is then the program's own execve, as with strace.
 * The child restores the signal mask and the dispositions that Python changed for itself, so the
 * program starts as it would from a shell. A failed execve is reported in the child's plan (below),
 * and the child then ends.
 *
 * The child is made with clone(CLONE_VM) on a stack of its own, as posix_spawn does, not with
 * fork: fork copies the page tables of the whole Python process and then takes a copy-on-write
 * fault for every page either side touches, which here costs more (0.85 ms) than the rest of a
 * session's set-up. The price is that, until execve, the child runs in our memory while our
 * threads run too. So the child code below must never write memory it shares: it makes raw
 * syscalls only (a libc wrapper that fails would write errno, which is the engine thread's,
 * since the child has that thread's TLS), it resets to SIG_DFL every signal that has a handler
 * before it unblocks signals (Python's handlers would run in our memory), and it reports
 * failures only in its plan, on the stack mapping that is its own. That report is a store, which
 * no policy can refuse: a write to a pipe, and even exit_group, may be denied by the very policy
 * the program is launched under (an allow-list that forgot execve).
 *
 * Launched tracees get PTRACE_O_EXITKILL: if the supervisor dies, they die with it rather than
 * run on untraced. Attached tracees do not: they lived before us and are detached, not killed.
 */
#include "engine_internal.h"
#include "raw_syscall.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SPAWN_STACK = 64 * 1024 };

int sp_ptrace_options(const struct sp_session *s, int launched)
{
    int options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC;
    if (s->config.mode == SP_MODE_SECCOMP_TRACE)
        options |= PTRACE_O_TRACESECCOMP;
    if (s->config.follow_forks)
        options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
    if (launched)
        options |= PTRACE_O_EXITKILL;
    return options;
}

static int allowed_cpus(int *first, int *last)
{
    cpu_set_t set;
    *first = *last = -1;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            if (*first < 0)
                *first = cpu;
            *last = cpu;
        }
    }
    return *first >= 0 ? 0 : -1;
}

static void pin_to(pid_t tid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(tid, sizeof(set), &set);
}

/* The engine thread is placed before the fork, so a launched child inherits SP_CPU_SAME. */
void sp_place_engine_thread(const struct sp_session *s)
{
    int first, last;
    struct sp_session *mut = (struct sp_session *)s;
    mut->tracee_cpu = -1;
    if (s->config.cpu_policy == SP_CPU_NONE || allowed_cpus(&first, &last) != 0)
        return;
    if (s->config.cpu_policy == SP_CPU_SAME) {
        pin_to(0, last);
    } else if (s->config.cpu_policy == SP_CPU_SPREAD && first != last) {
        pin_to(0, first);
        mut->tracee_cpu = last;
    }
}

/* A thread that works beside the tracees and never has to answer them at once (the stub
 * drainer): under SP_CPU_SAME, on the other CPUs, so its work runs beside the tracee's rather
 * than taking turns with it on one CPU. Elsewhere it stays where the engine thread is. */
void sp_place_helper_thread(const struct sp_session *s)
{
    cpu_set_t engine, others;
    /* The main thread's CPUs are the process's: this thread inherited the engine's one. */
    if (s->config.cpu_policy != SP_CPU_SAME || sched_getaffinity(0, sizeof(engine), &engine) ||
        sched_getaffinity(getpid(), sizeof(others), &others))
        return;
    CPU_XOR(&others, &others, &engine); /* the engine's CPU is one of the process's */
    if (CPU_COUNT(&others) > 0)
        sched_setaffinity(0, sizeof(others), &others);
}

/* ---- the child, before execve: raw syscalls only (see the top of this file) ---- */

/* The kernel's struct sigaction, for rt_sigaction. */
struct child_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long long mask;
};

struct child_plan;
__attribute__((noreturn)) static void child_fail(struct child_plan *plan, int stage, long rc);

static void child_pin(int cpu)
{
    cpu_set_t set = {0};
    CPU_SET(cpu, &set);
    sc3(SYS_sched_setaffinity, 0, sizeof(set), (unsigned long long)&set);
}

/* What every launched child does first: the signal state a shell would give the program. Every
 * handler goes back to SIG_DFL while signals are still blocked (the child inherits the engine
 * thread's mask, which lets through only SIGCHLD, ignored, and the wake signal, which is only
 * ever sent to the engine thread itself): a handler would run in the memory we share. Python
 * ignores SIGPIPE and SIGXFSZ for itself; subprocess restores them for its children too. */
static void child_reset(const struct sp_session *s)
{
    const struct child_sigaction dfl = {.handler = SIG_DFL};
    for (int sig = 1; sig <= 64; sig++) {
        struct child_sigaction old;
        if (sig == SIGKILL || sig == SIGSTOP ||
            sc6(SYS_rt_sigaction, sig, 0, (unsigned long long)&old, 8, 0, 0) != 0)
            continue;
        if (sig == SIGPIPE || sig == SIGXFSZ || (old.handler != SIG_DFL && old.handler != SIG_IGN))
            sc6(SYS_rt_sigaction, sig, (unsigned long long)&dfl, 0, 8, 0, 0);
    }
    sc6(SYS_rt_sigprocmask, SIG_SETMASK, (unsigned long long)&s->orig_mask, 0, 8, 0, 0);
    if (s->tracee_cpu >= 0)
        child_pin(s->tracee_cpu);
}

static long child_seccomp_install(const struct sp_session *s, unsigned int flags)
{
    struct sock_fprog prog = {.len = (unsigned short)s->config.filter_len,
                              .filter = (struct sock_filter *)s->config.filter};
    long rc = sc3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, (unsigned long long)&prog);
    if (rc == -EACCES) { /* no CAP_SYS_ADMIN: the kernel demands no_new_privs first */
        long nnp = sc6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
        if (nnp < 0)
            return nnp;
        rc = sc3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, (unsigned long long)&prog);
    }
    return rc;
}

/*
 * The listener handoff for seccomp-notify. Once the filter is in, any syscall of the child may
 * be notified, and nobody could answer yet; so the child makes none: it publishes the listener's
 * fd number in shared memory and spins (no syscall) until the engine has taken a copy of the fd
 * with pidfd_getfd, then execs. The spin lasts the few microseconds the engine needs.
 */
struct handoff {
    volatile int fd;  /* -1: not yet; -2: the filter failed (errno in the plan); else the fd */
    volatile int ack; /* the engine has its copy */
};

/* What a child is to do: the clone() entry's one argument. It lives at the bottom of the
 * child's stack mapping, since the child reads it after the function that made it returned. */
struct child_plan {
    const struct sp_session *s;
    const char *path;
    char **argv;
    char **envp;
    pid_t parent;
    struct handoff handoff; /* seccomp-notify only */
    volatile int failed;     /* the child's report: something failed, */
    volatile int fail_stage; /* SP_STAGE_* of what, */
    volatile int fail_errno; /* with this errno (ANSWERED: the value the execve returned) */
};

/* Tell the supervisor why the launch failed, and end. If the policy denies exit_group too, a
 * fault ends the child: SIGILL from ud2, which no mask or handler can stop. */
__attribute__((noreturn)) static void child_fail(struct child_plan *plan, int stage, long rc)
{
    /* An execve that returns did not run the program: a policy that emulates it may even
     * make it return 0. */
    int answered = stage == SP_STAGE_EXEC && rc >= 0;
    plan->fail_stage = answered ? SP_STAGE_ANSWERED : stage;
    plan->fail_errno = answered ? (int)rc : (int)-rc;
    __atomic_store_n(&plan->failed, 1, __ATOMIC_RELEASE);
    sc3(SYS_exit_group, 127, 0, 0);
    for (;;)
        __builtin_trap();
}

static int child_exec(void *arg)
{
    struct child_plan *plan = arg;
    const struct sp_session *s = plan->s;
    child_reset(s);
    /* The stub modes detach after the first exec: PTRACE_O_EXITKILL no longer holds then. */
    if (s->config.mode == SP_MODE_SECCOMP_TRAP || s->config.mode == SP_MODE_SUD)
        sc6(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
    /* Nothing between this stop and execve should show up in the trace. */
    sc3(SYS_kill, (unsigned long long)sc3(SYS_getpid, 0, 0, 0), SIGSTOP, 0);
    /* Traced from here on. A seccomp-trace filter goes in now, so that execve is its first
     * RET_TRACE, with the tracer already attached to receive it. */
    if (s->config.mode == SP_MODE_SECCOMP_TRACE) {
        long rc = child_seccomp_install(s, 0);
        if (rc < 0)
            child_fail(plan, SP_STAGE_SECCOMP, rc);
    }
    long rc = sc3(SYS_execve, (unsigned long long)plan->path, (unsigned long long)plan->argv,
                  (unsigned long long)plan->envp);
    child_fail(plan, SP_STAGE_EXEC, rc);
}

/* ---- the parent ---- */

/* The child's stack mapping, its plan at the bottom; kept until the session is freed, since
 * only then is the child sure to be past execve or gone. NULL if out of memory. */
static struct child_plan *new_plan(struct sp_session *s, const char *path, char **argv,
                                   char **envp)
{
    if (!s->spawn_stack) {
        void *stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
            return NULL;
        s->spawn_stack = stack;
    }
    struct child_plan *plan = s->spawn_stack;
    *plan = (struct child_plan){.s = s, .path = path, .argv = argv, .envp = envp,
                                .parent = getpid(),
                                .handoff = {.fd = -1, .ack = 0}};
    return plan;
}

/* clone(CLONE_VM) the child onto the session's stack. Returns its pid or -errno. */
static pid_t spawn(struct sp_session *s, int (*fn)(void *), struct child_plan *plan)
{
    pid_t pid = clone(fn, (char *)s->spawn_stack + SPAWN_STACK, CLONE_VM | SIGCHLD, plan);
    return pid < 0 ? -errno : pid;
}

void sp_spawn_free(struct sp_session *s)
{
    if (s->spawn_stack)
        munmap(s->spawn_stack, SPAWN_STACK);
    s->spawn_stack = NULL;
}

/* The seccomp-notify child: the filter with a listener, the handoff, execve. */
static int child_notified(void *arg)
{
    struct child_plan *plan = arg;
    const struct sp_session *s = plan->s;
    struct handoff *h = &plan->handoff;
    child_reset(s);
    /* No tracer holds this child: if the supervisor's engine thread dies, so does it. */
    sc6(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0, 0);
    if (sc3(SYS_getppid, 0, 0, 0) != plan->parent)
        child_fail(plan, SP_STAGE_EXEC, -ESRCH);
    /* The spin below must not share a CPU with the engine it waits for: that costs a whole
     * time slice. Off that CPU now; the engine puts the child back after. */
    cpu_set_t elsewhere = {0};
    if (s->config.cpu_policy == SP_CPU_SAME &&
        sc3(SYS_sched_getaffinity, 0, sizeof(elsewhere), (unsigned long long)&elsewhere) > 0) {
        cpu_set_t all = {0};
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            CPU_SET(cpu, &all);
        CPU_XOR(&all, &all, &elsewhere); /* every CPU but the engine's */
        if (CPU_COUNT(&all) > 0)
            sc3(SYS_sched_setaffinity, 0, sizeof(all), (unsigned long long)&all);
    }
    /* WAIT_KILLABLE_RECV: once the engine has read a notification, only a fatal signal takes
     * the task out of the call. Without it, a signal that comes while the engine decides makes
     * the kernel drop our answer and notify the same call again once the handler has run: a
     * call recorded twice and, worse, a policy callback asked twice (Linux 5.19+; older
     * kernels refuse the flag, and get the call shown cut short, see notify.c). */
    long fd = child_seccomp_install(
        s, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if (fd == -EINVAL)
        fd = child_seccomp_install(s, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (fd < 0) {
        __atomic_store_n(&h->fd, -2, __ATOMIC_RELEASE);
        child_fail(plan, SP_STAGE_SECCOMP, fd);
    }
    __atomic_store_n(&h->fd, (int)fd, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&h->ack, __ATOMIC_ACQUIRE))
        __builtin_ia32_pause();
    /* The listener is CLOEXEC: the program never holds it. */
    long rc = sc3(SYS_execve, (unsigned long long)plan->path, (unsigned long long)plan->argv,
                  (unsigned long long)plan->envp);
    child_fail(plan, SP_STAGE_EXEC, rc);
}

pid_t sp_spawn_notified(struct sp_session *s, const char *path, char **argv, char **envp,
                        int *listener)
{
    struct child_plan *plan = new_plan(s, path, argv, envp);
    pid_t pid = plan ? spawn(s, child_notified, plan) : -ENOMEM;
    if (pid < 0)
        return pid;
    *listener = -1;
    struct handoff *h = &plan->handoff;
    int status;
    int fd;
    while ((fd = __atomic_load_n(&h->fd, __ATOMIC_ACQUIRE)) == -1) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            /* Died before the handoff; let the caller see its status. */
            s->result.root_status = status;
            s->result.root_exited = 1;
            return pid;
        }
        sched_yield();
    }
    if (fd >= 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
            *listener = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
            close(pidfd);
        }
        if (*listener < 0) {
            int err = errno;
            kill(pid, SIGKILL);
            s->result.launch_stage = SP_STAGE_SECCOMP;
            s->result.launch_errno = err;
        }
        __atomic_store_n(&h->ack, 1, __ATOMIC_RELEASE);
    }
    if (s->config.cpu_policy == SP_CPU_SAME) {
        cpu_set_t mine; /* back beside the engine, as SP_CPU_SAME means */
        if (sched_getaffinity(0, sizeof(mine), &mine) == 0)
            sched_setaffinity(pid, sizeof(mine), &mine);
    }
    return pid;
}

/* Once the launched child has exec'd or ended: what its plan says failed, if anything. */
void sp_read_launch_error(struct sp_session *s)
{
    if (s->result.launch_errno || !sp_launch_failed(s))
        return;
    const struct child_plan *plan = s->spawn_stack;
    s->result.launch_stage = plan->fail_stage;
    s->result.launch_errno = plan->fail_errno;
}

int sp_launch_failed(const struct sp_session *s)
{
    const struct child_plan *plan = s->spawn_stack;
    return plan && __atomic_load_n(&plan->failed, __ATOMIC_ACQUIRE);
}

pid_t sp_launch(struct sp_session *s, const char *path, char **argv, char **envp)
{
    struct child_plan *plan = new_plan(s, path, argv, envp);
    pid_t pid = plan ? spawn(s, child_exec, plan) : -ENOMEM;
    if (pid < 0)
        return pid;

    int status;
    while (waitpid(pid, &status, WUNTRACED) < 0) {
        if (errno != EINTR) {
            int err = errno;
            kill(pid, SIGKILL);
            return -err;
        }
    }
    if (!WIFSTOPPED(status)) {
        /* The child died before its handshake stop; reap nothing more, report it. */
        return -ECHILD;
    }
    if (ptrace(PTRACE_SEIZE, pid, 0L, (long)sp_ptrace_options(s, 1)) != 0) {
        int err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -err;
    }
    struct sp_tracee *tr = sp_tracee_add(&s->tracees, pid, pid);
    if (!tr) {
        kill(pid, SIGKILL);
        return -ENOMEM;
    }
    tr->in_handshake = 1;
    kill(pid, SIGCONT);
    return pid;
}

static int seize_thread(struct sp_session *s, pid_t tgid, pid_t tid)
{
    if (sp_tracee_find(&s->tracees, tid))
        return 0;
    if (ptrace(PTRACE_SEIZE, tid, 0L, (long)sp_ptrace_options(s, 0)) != 0)
        return -errno;
    if (!sp_tracee_add(&s->tracees, tid, tgid))
        return -ENOMEM;
    ptrace(PTRACE_INTERRUPT, tid, 0L, 0L);
    return 1;
}

int sp_attach(struct sp_session *s, pid_t pid)
{
    int rc = seize_thread(s, pid, pid);
    if (rc < 0)
        return rc;
    if (!s->config.follow_forks)
        return 0; /* like strace -p without -f: that one thread */
    /* Threads may be created while we attach: scan until a pass finds no new one. */
    for (int pass = 0; pass < 16; pass++) {
        char dir_path[64];
        int added = 0;
        snprintf(dir_path, sizeof(dir_path), "/proc/%d/task", (int)pid);
        DIR *dir = opendir(dir_path);
        if (!dir)
            break;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            pid_t tid = (pid_t)atoi(entry->d_name);
            if (tid > 0 && seize_thread(s, pid, tid) > 0)
                added++;
        }
        closedir(dir);
        if (!added || !s->config.follow_forks)
            break;
    }
    return 0;
}
