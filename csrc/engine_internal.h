/*
 * engine_internal.h - what the engine's C files share with each other and never with Python.
 *
 * The session owns a ring of events (ring.c), a table of tracees (tracees.c), the rules Python
 * wrote, and the counters. Only the engine thread touches the tracee table; the ring is the one
 * structure both threads use, under its mutex.
 */
#ifndef SPLITPRIV_ENGINE_INTERNAL_H
#define SPLITPRIV_ENGINE_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include "splitpriv.h"

_Static_assert(sizeof(((struct sp_event *)0)->data) == SP_DATA_MAX, "data size");
_Static_assert(sizeof(((struct sp_event *)0)->seg) / sizeof(struct sp_segment) == SP_SEG_MAX,
               "segments");

#define AUDIT_ARCH_X86_64_VALUE 0xC000003Eu
#define AUDIT_ARCH_I386_VALUE 0x40000003u

/* The Python callback; cffi's extern "Python" function, reached through this pointer. It reads
 * the call from config.decide_event. */
typedef int (*sp_decide_fn)(void *py_handle, struct sp_verdict *out);

/* The producer's and the consumer's counters sit on cache lines of their own: sharing one,
 * each side's writes would take the line away from the other at every event. */
struct sp_ring {
    char *buf;                /* size bytes, then the slack for a record that runs over */
    size_t size;              /* a power of two */
    _Atomic int finished;     /* the engine will write no more */
    _Atomic int consumer_waiting;
    _Atomic int producer_waiting;
    _Alignas(64) _Atomic uint64_t head; /* bytes written (producer) */
    _Atomic uint64_t head_events;
    uint64_t cached_tail;     /* the producer's last look at tail */
    _Alignas(64) _Atomic uint64_t tail; /* bytes released (consumer) */
    _Atomic uint64_t tail_events;
    _Alignas(64) char consumer_end[1]; /* what follows starts on a line of its own */
    pthread_mutex_t lock;     /* only for sleeping and waking */
    pthread_mutex_t produce;  /* producers take turns, when there are two: */
    int two_producers;        /* the stub modes (engine and drainer); set before both run */
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    pid_t owner;              /* the process that made it: a fork's copy is only freed */
};

/* One traced thread. */
struct sp_tracee {
    pid_t tid;
    pid_t tgid;
    int in_syscall;           /* between an entry stop and its exit stop (SP_MODE_PTRACE) */
    int reexec;               /* SP_MODE_SYSEMU pass-through: 1 after rewind, 2 after re-entry */
    int recording;            /* ev holds a syscall to emit at exit */
    int answer_at_exit;       /* SP_MODE_PTRACE: write answer into rax at the exit stop */
    unsigned int restore_mask; /* arguments a rewrite replaced in the registers, which the
                                * exit stop puts back (the program keeps its registers) */
    unsigned long long restore_args[6];
    long long answer;         /* the result a denied/emulated call returns */
    int detaching;            /* cancel in attach mode: detach at the next stop */
    int in_handshake;         /* launched, not yet past our SIGSTOP/SIGCONT: hide those */
    int armed;                /* stub modes: has its slot (and SUD) */
    /* entry_records: on the table's list of calls begun and not yet shown (prev/next). */
    int entry_unshown;
    struct sp_tracee *unshown_prev, *unshown_next;
    const struct sp_rule *rule;
    unsigned long long entry_sp; /* the stack pointer at the entry of ev's call (0: unknown) */
    struct sp_event ev;       /* the syscall in progress */
};

struct sp_tracee_table {
    struct sp_tracee **items;
    size_t count;
    size_t capacity;
    struct sp_tracee *last;   /* the one most recently looked up: most stops repeat it */
    struct sp_tracee *unshown; /* entry_records: tracees inside a recorded call whose entry
                                * no record has shown yet */
};

struct sp_session {
    struct sp_config config;
    /* The action table, [arch][nr] and [arch][SP_NR_MAX] for numbers out of range. Pages of
     * its own, so that the in-process mode can make it privileged-only (unpriv.c). */
    struct sp_rule (*rules)[SP_NR_MAX + 1];
    size_t rules_size;
    unsigned long long counts[SP_NARCH][SP_NR_MAX];
    unsigned long long errors[SP_NARCH][SP_NR_MAX];
    unsigned long long stops;
    struct sp_ring ring;
    struct sp_tracee_table tracees;
    struct sp_result result;
    sp_decide_fn decide;
    pthread_t engine_thread;
    int engine_running;
    /* In-process mode: a C thread moves events from the ring into this growing store, since
     * the thread that produces them may hold the GIL the Python consumer would need. */
    char *store;
    size_t store_len, store_cap;
    pthread_t drainer;
    int drainer_running;
    struct sp_stubhost *stub; /* stub modes (stubhost.c) */
    sigset_t orig_mask;       /* the engine thread's mask before sp_run blocked signals */
    int tracee_cpu;           /* -1: no pinning of tracees */
    void *spawn_stack;        /* the launched child's stack until execve (launch.c) */
    volatile sig_atomic_t cancel;
    int cancel_handled;
    int callback_failed; /* a Python callback raised: no more are asked (sp_decide) */
    long page_size;
    /* The launched program's execve: done (root_execed), or failed, after which its task is
     * our launcher again (launch.c: the error report, exit_group(127)), which is not recorded
     * and whose exit is not reported, as strace shows none of its own work. */
    int root_execed;
    int launcher_tail;
};

/* ring.c */
int sp_ring_init(struct sp_ring *ring, size_t bytes);
void sp_ring_destroy(struct sp_ring *ring);
void sp_ring_push(struct sp_session *s, const struct sp_event *event);
void sp_ring_finish(struct sp_ring *ring);
void sp_ring_kick(struct sp_ring *ring);

/* tracees.c */
struct sp_tracee *sp_tracee_find(struct sp_tracee_table *t, pid_t tid);
struct sp_tracee *sp_tracee_add(struct sp_tracee_table *t, pid_t tid, pid_t tgid);
void sp_tracee_remove(struct sp_tracee_table *t, pid_t tid);
void sp_tracee_rename(struct sp_tracee_table *t, struct sp_tracee *tr, pid_t new_tid);
void sp_tracee_table_free(struct sp_tracee_table *t);
void sp_unshown_add(struct sp_tracee_table *t, struct sp_tracee *tr);
void sp_unshown_drop(struct sp_tracee_table *t, struct sp_tracee *tr);
pid_t sp_read_tgid(pid_t tid);
void sp_kill_tree(pid_t root);

/* memory.c */
void sp_capture_entry(struct sp_session *s, struct sp_tracee *tr);
void sp_capture_exit(struct sp_session *s, struct sp_tracee *tr);

/* stubclock.c: the stubs' TSC clock, kept by the drainer thread */
struct sp_clock_sample { /* the TSC and the kernel's two clocks, read together */
    unsigned long long tsc;
    long long real_ns, mono_ns;
};
struct sp_clock_keeper {
    int enabled;                       /* the TSC can stand in for the kernel's clock */
    struct sp_clock_sample first, last;
};
struct sp_stub_clock;
void sp_clock_keeper_init(struct sp_clock_keeper *k);
void sp_clock_keeper_tick(struct sp_clock_keeper *k, struct sp_stub_clock *c);

/* launch.c */
pid_t sp_launch(struct sp_session *s, const char *path, char **argv, char **envp);
pid_t sp_spawn_notified(struct sp_session *s, const char *path, char **argv, char **envp,
                        int *listener);
void sp_read_launch_error(struct sp_session *s);
/* The launched child reported a failure before its program ran (it ends next). */
int sp_launch_failed(const struct sp_session *s);
void sp_spawn_free(struct sp_session *s);
int sp_attach(struct sp_session *s, pid_t pid);
int sp_ptrace_options(const struct sp_session *s, int launched);
void sp_place_engine_thread(const struct sp_session *s);
void sp_place_helper_thread(const struct sp_session *s);

/* seccomp.c */
int sp_seccomp_install(const void *filter, unsigned int len, unsigned int flags);

/* stubhost.c */
struct sp_stubhost;
int sp_stub_setup(struct sp_session *s);
void sp_stub_teardown(struct sp_session *s);
void sp_stub_flush(struct sp_session *s);
int sp_stub_inject(struct sp_session *s, struct sp_tracee *tr, int *pending_signal);
int sp_stub_arm(struct sp_session *s, struct sp_tracee *tr);
void sp_stub_after_clone(struct sp_session *s, struct sp_tracee *parent);
void sp_stub_task_gone(struct sp_session *s, pid_t tid);
void sp_stub_exec_done(struct sp_session *s, pid_t former_tid);
int sp_stub_detached_loop(struct sp_session *s);

/* notify.c */
int sp_notify_run(struct sp_session *s, const char *path, char **argv, char **envp);

/* engine.c */
void sp_install_decide(struct sp_session *s, sp_decide_fn fn);
/* One call's life, shared by the ptrace loop and the notify loop. */
void sp_begin_call(struct sp_session *s, struct sp_tracee *tr,
                   const struct __ptrace_syscall_info *info);
void sp_count_call(struct sp_session *s, const struct sp_tracee *tr);
int sp_decide(struct sp_session *s, struct sp_tracee *tr);
void sp_finish_call(struct sp_session *s, struct sp_tracee *tr, long long ret);
void sp_flush_unfinished_call(struct sp_session *s, struct sp_tracee *tr);
void sp_emit_exit(struct sp_session *s, const struct sp_tracee *tr, int status);
/* A task's end, as the wait for it reported it (its status, its exit event, no longer traced). */
void sp_handle_exit(struct sp_session *s, pid_t pid, int status);
/* The launched process ended while no tracee (seccomp-notify, a stub mode between execs), and
 * its wait status was just reaped: the session's status, and its exit event. */
void sp_root_ended(struct sp_session *s, int status);
void sp_emit_exec(struct sp_session *s, const struct sp_tracee *tr, pid_t former_tid);
long long sp_now_ns(void);
int sp_wake_signal(void);
void sp_fail(struct sp_session *s, const char *where, int err);

#endif
