/*
 * stubhost.c - the supervisor's side of the in-tracee stub (mechanisms `sud`, `seccomp-trap`).
 *
 * At session start the stub blob (stub/stub.c, built with the package) and a shared data region
 * go into one memfd. At every execve of a tracee, seen as PTRACE_EVENT_EXEC, the engine injects
 * a few syscalls into it with ptrace (openat of /proc/<supervisor>/fd/<memfd>, two mmaps at the
 * stub's fixed addresses, close, rt_sigaction for SIGSYS) and then arms the thread: Syscall User
 * Dispatch with the thread's selector (`sud`), or on the first exec a seccomp filter that sends
 * routed calls to the stub with RET_TRAP (`seccomp-trap`). New threads and children are armed at
 * their first stop. Afterwards the engine stays attached only for process events: the tracee's
 * syscalls never stop it. A drainer thread moves recorded events from the shared ring into the
 * session's ring, waking stubs that wait for room, and keeps the stubs' clock (stubclock.c).
 *
 * Injection runs each call from a `syscall` instruction written over the tracee's current
 * instruction (and put back after), with the registers saved and restored around it. For
 * `seccomp-trap`, the filter would trap these calls once installed (the stub is not mapped yet
 * after an exec), so injection then runs with PTRACE_O_SUSPEND_SECCOMP (CAP_SYS_ADMIN).
 */
#include "engine_internal.h"
#include "stub_abi.h"
#include "stub_blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG
#define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG 0x4210
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define SA_RESTORER_FLAG 0x04000000
#define SECCOMP_SET_MODE_FILTER_VALUE 1

_Static_assert(sizeof(sp_stub_blob) <= SP_STUB_CONFIG_OFF, "the stub overlaps its config");
_Static_assert(offsetof(struct sp_stub_data, rules) % 4096 == 0, "guarded part page-aligned");

struct sp_stubhost {
    int memfd;
    size_t total;
    char *code;                 /* our mapping of the code region (writable here) */
    struct sp_stub_data *data;  /* our mapping of the shared data region */
    pthread_t drainer;
    int drainer_running;
    volatile int stop;
    int filter_installed;       /* seccomp-trap: the filter is in the tracee tree */
    struct sp_tracee *asker;    /* where serve_asks puts the call it answers (one at a time) */
    unsigned int ring_size;     /* our copy of config->ring_size: the tracee could change its */
};

struct sud_config {
    unsigned long long mode, selector, offset, len;
};

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

struct kernel_sigaction {
    unsigned long long handler, flags, restorer, mask;
};

static size_t data_size(void) { return (sizeof(struct sp_stub_data) + 4095) & ~(size_t)4095; }

/* ---- the drainer ------------------------------------------------------------------------ */

/* How the drainer waits for events (SP_DRAINER_*): while they flow it drains what is there,
 * then naps 1 ms, so that the stubs need not wake it for each event and each pass moves a
 * batch rather than chasing every event's cache lines from the other CPU. After
 * NAPS_BEFORE_DEEP empty naps in a row it sleeps 20 ms at a time, which any event cuts short. */
enum { NAP_NS = 1000000, DEEP_NS = 20000000, NAPS_BEFORE_DEEP = 50 };

/* Move the events committed so far, in order, to the session's ring; returns how many bytes
 * it moved. It stops at a record still being written. */
static unsigned long long drain_pass(struct sp_session *s, struct sp_stub_ring *ring)
{
    unsigned int ring_size = s->stub->ring_size;
    unsigned long long head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    unsigned long long tail = ring->tail, start = tail;
    while (tail != head) {
        const char *record = ring->buf + (tail & (ring_size - 1));
        unsigned long long commit =
            __atomic_load_n((const unsigned long long *)(const void *)record, __ATOMIC_ACQUIRE);
        if ((commit & ~SP_STUB_RECORD_ABANDONED) != tail + 1)
            break; /* not written yet: the next pass takes it */
        const struct sp_event *ev = (const struct sp_event *)(record + SP_STUB_RECORD_HDR);
        if (!(commit & SP_STUB_RECORD_ABANDONED))
            sp_ring_push(s, ev); /* waits while Python's ring is full: nothing is dropped */
        tail += SP_STUB_RECORD_LEN(ev->data_len);
    }
    if (tail == start)
        return 0;
    __atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
    __atomic_add_fetch(&ring->released, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &ring->released, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
    return tail - start;
}

/* The drainer has waited at one record for STUCK_PASSES passes: if its writer died on the way
 * (a sibling's exit_group, SIGKILL), mark what the dead left unfinished. A writer that is only
 * stopped (SIGSTOP, a debugger) is waited for. What this cannot mend: a writer that died in
 * the two instructions between its reservation and noting it in its slot, or one without a
 * slot (past SP_STUB_SLOTS threads); the drainer then stops at that record, and the session
 * ends without the events behind it (the engine's flush and the drainer's end are bounded). */
enum { STUCK_PASSES = 100 };

static void abandon_dead_pushes(struct sp_stub_data *data, unsigned int ring_size)
{
    int used = __atomic_load_n(&data->slots_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        struct sp_stub_slot *slot = &data->slots[i];
        if (!slot->push_depth)
            continue;
        pid_t tid = slot->tid;
        if (tid == 0 || (syscall(SYS_tgkill, slot->tgid, tid, 0) != 0 && errno == ESRCH))
            sp_stub_abandon_pushes(&data->ring, ring_size, slot);
    }
}

static void *drain_main(void *arg)
{
    struct sp_session *s = arg;
    struct sp_stub_ring *ring = &s->stub->data->ring;
    struct sp_clock_keeper clock;
    sp_place_helper_thread(s);
    sp_clock_keeper_init(&clock);
    for (int empty = 0, stuck = 0;;) {
        sp_clock_keeper_tick(&clock, &s->stub->data->clock);
        unsigned long long moved = drain_pass(s, ring);
        if (moved >= SP_STUB_RING_URGENT(s->stub->ring_size))
            continue; /* filling up: go again at once */
        int waiting = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) != ring->tail;
        stuck = moved || !waiting ? 0 : stuck + 1;
        if (moved == 0 && s->stub->stop && (!waiting || stuck >= STUCK_PASSES))
            break; /* the session is over; a writer stopped that long will not be waited for */
        if (stuck % STUCK_PASSES == STUCK_PASSES - 1 || (stuck && s->stub->stop))
            abandon_dead_pushes(s->stub->data, s->stub->ring_size);
        if (moved && s->stub->stop)
            continue; /* the session is ending: no nap before the last pass */
        empty = moved || waiting ? 0 : empty + 1;
        int deep = empty >= NAPS_BEFORE_DEEP;
        unsigned int seen = __atomic_load_n(&ring->doorbell, __ATOMIC_SEQ_CST);
        __atomic_store_n(&ring->drainer_sleeping, deep ? SP_DRAINER_DEEP : SP_DRAINER_NAPPING,
                         __ATOMIC_SEQ_CST);
        /* Deep: only with the ring still empty (seq_cst with the stub's store of head: it sees
         * us asleep, or we see its event). A nap is taken even with events waiting: they are
         * the next pass's batch, and a stub whose ring fills up rings the doorbell. */
        if (!deep || __atomic_load_n(&ring->head, __ATOMIC_SEQ_CST) == ring->tail) {
            struct timespec timeout = {0, deep ? DEEP_NS : NAP_NS};
            syscall(SYS_futex, &ring->doorbell, FUTEX_WAIT, seen, &timeout, NULL, 0);
        }
        __atomic_store_n(&ring->drainer_sleeping, SP_DRAINER_AWAKE, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* The engine thread (this one: sp_run's) holds the stubs' proof that it lives for the whole
 * session, until sp_stub_teardown (after supervisor_gone); if it ends first, however, the
 * kernel marks the lock. */
_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((struct sp_stub_data *)0)->supervisor_lock),
               "the supervisor's lock fits its place");
static int hold_supervisor_lock(struct sp_stub_data *data)
{
    pthread_mutex_t *lock = (pthread_mutex_t *)(void *)data->supervisor_lock;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    int rc = pthread_mutex_init(lock, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc == 0)
        rc = pthread_mutex_lock(lock);
    if (rc == 0 && *(volatile int *)(void *)lock != (int)syscall(SYS_gettid)) {
        pthread_mutex_unlock(lock);
        rc = ENOTSUP; /* not glibc's layout: the owner's tid is not the first word */
    }
    errno = rc;
    return rc;
}

int sp_stub_setup(struct sp_session *s)
{
    struct sp_stubhost *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->asker = malloc(sizeof(*h->asker));
    if (!h->asker) {
        free(h);
        return -ENOMEM;
    }
    h->total = SP_STUB_CODE_SIZE + data_size();
    h->memfd = (int)syscall(SYS_memfd_create, "splitpriv-stub", MFD_CLOEXEC);
    if (h->memfd < 0 || ftruncate(h->memfd, (off_t)h->total) != 0)
        goto fail;
    h->code = mmap(NULL, SP_STUB_CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd, 0);
    h->data = mmap(NULL, data_size(), PROT_READ | PROT_WRITE, MAP_SHARED, h->memfd,
                   SP_STUB_CODE_SIZE);
    if (h->code == MAP_FAILED || h->data == MAP_FAILED)
        goto fail;
    memcpy(h->code, sp_stub_blob, sizeof(sp_stub_blob));
    struct sp_stub_config *config = (struct sp_stub_config *)(h->code + SP_STUB_CONFIG_OFF);
    config->mode = s->config.mode == SP_MODE_SUD ? SP_STUB_MODE_SUD : SP_STUB_MODE_TRAP;
    config->protect = (unsigned int)s->config.protect;
    config->string_limit = s->config.string_limit;
    config->pkey = 1; /* the first key pkey_alloc hands out in a fresh process */
    config->guarded_size = data_size() - offsetof(struct sp_stub_data, rules);
    /* Spinning only helps when the engine runs on another CPU; on the same one it would only
     * keep the engine from running. */
    config->ask_spins = s->config.cpu_policy == SP_CPU_SAME ? 0 : 20000;
    h->ring_size = s->config.protect == SP_PROTECT_MPROTECT ? SP_STUB_RING_SIZE_MPROTECT
                                                            : SP_STUB_RING_SIZE;
    config->ring_size = h->ring_size;
    config->supervisor_pid = getpid();
    config->supervisor_tid = (int)syscall(SYS_gettid); /* sp_run's thread: the engine */
    config->wake_signal = sp_wake_signal();
    memcpy(h->data->rules, s->rules, sizeof(h->data->rules));
    if (hold_supervisor_lock(h->data) != 0)
        goto fail;
    s->stub = h;
    s->ring.two_producers = 1; /* the drainer pushes too, from now on */
    if (pthread_create(&h->drainer, NULL, drain_main, s) != 0) {
        s->stub = NULL;
        pthread_mutex_unlock((pthread_mutex_t *)(void *)h->data->supervisor_lock);
        goto fail;
    }
    h->drainer_running = 1;
    return 0;
fail:;
    int err = errno ? errno : ENOMEM;
    if (h->code && h->code != MAP_FAILED)
        munmap(h->code, SP_STUB_CODE_SIZE);
    if (h->data && h->data != MAP_FAILED)
        munmap(h->data, data_size());
    if (h->memfd >= 0)
        close(h->memfd);
    free(h->asker);
    free(h);
    return -err;
}

/* Wait until the drainer has moved every event the stubs have written so far: an exit the
 * engine reports must come after the calls that led to it. */
void sp_stub_flush(struct sp_session *s)
{
    struct sp_stubhost *h = s->stub;
    if (!h || !h->drainer_running)
        return;
    struct sp_stub_ring *ring = &h->data->ring;
    unsigned long long head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    unsigned long long last = 0;
    /* Bounded: a record whose writer is stopped mid-push (SIGSTOP) must not stop the engine. */
    for (int idle = 0; __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) < head; idle++) {
        unsigned long long tail = __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE);
        if (tail != last)
            idle = 0, last = tail;
        else if (idle > 2 * STUCK_PASSES)
            break;
        unsigned int seen = __atomic_load_n(&ring->released, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&ring->doorbell, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &ring->doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
        if (__atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) >= head)
            break;
        struct timespec one_ms = {0, 1000000};
        syscall(SYS_futex, &ring->released, FUTEX_WAIT, seen, &one_ms, NULL, 0);
    }
}

void sp_stub_teardown(struct sp_session *s)
{
    struct sp_stubhost *h = s->stub;
    if (!h)
        return;
    h->data->supervisor_gone = 1; /* stubs that outlive the session stop recording */
    if (h->drainer_running) {
        __atomic_store_n(&h->stop, 1, __ATOMIC_SEQ_CST);
        /* Wake it now rather than at the end of its futex timeout (20 ms a session). */
        __atomic_add_fetch(&h->data->ring.doorbell, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &h->data->ring.doorbell, FUTEX_WAKE, 1, NULL, NULL, 0);
        pthread_join(h->drainer, NULL);
    }
    /* Counts made in the tracees become the session's. */
    for (int a = 0; a < SP_NARCH; a++) {
        for (int nr = 0; nr < SP_NR_MAX; nr++) {
            s->counts[a][nr] += h->data->counts[a][nr]; /* plus what ptrace saw before */
            s->errors[a][nr] += h->data->errors[a][nr];
        }
    }
    /* Off this thread's robust list before the memory goes: the kernel would otherwise mark
     * whatever is mapped there later when this thread ends. */
    pthread_mutex_unlock((pthread_mutex_t *)(void *)h->data->supervisor_lock);
    munmap(h->code, SP_STUB_CODE_SIZE);
    munmap(h->data, data_size());
    close(h->memfd);
    free(h->asker);
    free(h);
    s->stub = NULL;
}

/* ---- slots ---------------------------------------------------------------------------------- */

static struct sp_stub_slot *slot_for(struct sp_session *s, pid_t tid, int claim)
{
    struct sp_stub_slot *free_slot = NULL;
    for (int i = 0; i < SP_STUB_SLOTS; i++) {
        struct sp_stub_slot *slot = &s->stub->data->slots[i];
        if (slot->tid == tid)
            return slot;
        if (!free_slot && slot->tid == 0 && !slot->push_depth)
            free_slot = slot;
    }
    if (claim && free_slot) {
        free_slot->tid = tid;
        sp_stub_slot_taken(s->stub->data, (int)(free_slot - s->stub->data->slots));
    }
    return claim ? free_slot : NULL;
}

static void emit_pending_exec(struct sp_session *s, struct sp_stub_slot *slot);

/* At PTRACE_EVENT_EXEC of an armed task (sud): the execve its stub made. */
void sp_stub_exec_done(struct sp_session *s, pid_t former_tid)
{
    emit_pending_exec(s, slot_for(s, former_tid, 0));
}

void sp_stub_task_gone(struct sp_session *s, pid_t tid)
{
    struct sp_stub_slot *slot = s->stub ? slot_for(s, tid, 0) : NULL;
    if (!slot)
        return;
    /* It cannot finish them now. */
    sp_stub_abandon_pushes(&s->stub->data->ring, s->stub->ring_size, slot);
    slot->tid = 0;
}

/* Give a thread its slot and, for `sud`, switch Syscall User Dispatch on for it. */
int sp_stub_arm(struct sp_session *s, struct sp_tracee *tr)
{
    struct sp_stub_slot *slot = slot_for(s, tr->tid, 1);
    if (!slot)
        return -ENOSPC;
    slot->tgid = tr->tgid;
    slot->exec_state = SP_EXEC_NONE;
    slot->selector = SP_SELECTOR_BLOCK;
    slot->ss_known = 0; /* a new image has no signal stack; a forked child has its parent's */
    tr->armed = 1;
    if (s->config.mode != SP_MODE_SUD)
        return 0;
    size_t index = (size_t)(slot - s->stub->data->slots);
    struct sud_config config = {
        .mode = 1, /* PR_SYS_DISPATCH_ON */
        .selector = SP_STUB_DATA_ADDR + offsetof(struct sp_stub_data, slots) +
                    index * sizeof(struct sp_stub_slot) + offsetof(struct sp_stub_slot, selector),
        .offset = SP_STUB_CODE_ADDR,
        .len = SP_STUB_CODE_SIZE,
    };
    if (ptrace(PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG, tr->tid, (void *)sizeof(config),
               &config) != 0)
        return -errno;
    return 0;
}

/* After clone/fork/vfork the stub left the parent's selector at ALLOW: block it again. */
void sp_stub_after_clone(struct sp_session *s, struct sp_tracee *parent)
{
    struct sp_stub_slot *slot = slot_for(s, parent->tid, 0);
    if (slot)
        slot->selector = SP_SELECTOR_BLOCK;
}

/* ---- injection ---------------------------------------------------------------------------- */

struct injector {
    struct sp_session *s;
    struct sp_tracee *tr;
    struct user_regs_struct saved;
    unsigned long long site;    /* where the `syscall` instruction was written */
    long original;              /* the word it replaced */
    unsigned long long scratch; /* tracee memory for strings and structs (below the stack) */
    int pending_signal;
    int ended, end_status;      /* the task died meanwhile (a cancel's SIGKILL): how */
};

static int wait_syscall_stop(struct injector *in)
{
    for (;;) {
        int status;
        pid_t got = waitpid(in->tr->tid, &status, __WALL);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (!WIFSTOPPED(status)) { /* it died meanwhile, and this wait reaped it */
            in->ended = 1;
            in->end_status = status;
            return -ESRCH;
        }
        if (WSTOPSIG(status) == (SIGTRAP | 0x80))
            return 0;
        /* A signal arrived during injection: keep it for when the program resumes. */
        if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP)
            in->pending_signal = WSTOPSIG(status);
        if (ptrace(PTRACE_SYSCALL, in->tr->tid, 0L, 0L) != 0)
            return -errno;
    }
}

static long inject(struct injector *in, long nr, unsigned long long a0, unsigned long long a1,
                   unsigned long long a2, unsigned long long a3, unsigned long long a4,
                   unsigned long long a5)
{
    struct user_regs_struct r = in->saved;
    r.rip = in->site;
    r.rax = (unsigned long long)nr;
    r.orig_rax = (unsigned long long)-1;
    r.rdi = a0;
    r.rsi = a1;
    r.rdx = a2;
    r.r10 = a3;
    r.r8 = a4;
    r.r9 = a5;
    pid_t tid = in->tr->tid;
    if (ptrace(PTRACE_SETREGS, tid, 0L, &r) != 0)
        return -errno;
    int rc;
    if (ptrace(PTRACE_SYSCALL, tid, 0L, 0L) != 0)
        return -errno;
    if ((rc = wait_syscall_stop(in)) != 0) /* entry */
        return rc;
    if (ptrace(PTRACE_SYSCALL, tid, 0L, 0L) != 0)
        return -errno;
    if ((rc = wait_syscall_stop(in)) != 0) /* exit */
        return rc;
    if (ptrace(PTRACE_GETREGS, tid, 0L, &r) != 0)
        return -errno;
    return (long)r.rax;
}

/* 0, or -errno: ESRCH when the tracee is gone (a stop's SIGKILL, which the engine does not
 * count as its failure), EFAULT when its memory could not take all of it. */
static int put(struct injector *in, unsigned long long addr, const void *src, size_t len)
{
    struct iovec local = {(void *)src, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_writev(in->tr->tid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return -errno;
    return n == (ssize_t)len ? 0 : -EFAULT;
}

static long install_filter(struct injector *in)
{
    const struct sp_session *s = in->s;
    size_t bytes = (size_t)s->config.filter_len * 8;
    unsigned long long program = in->scratch + 512;
    struct {
        unsigned short len;
        unsigned short pad[3];
        unsigned long long filter;
    } fprog = {(unsigned short)s->config.filter_len, {0, 0, 0}, program};
    int wrote = put(in, program, s->config.filter, bytes);
    if (wrote == 0)
        wrote = put(in, in->scratch + 256, &fprog, sizeof(fprog));
    if (wrote != 0)
        return wrote;
    long rc = inject(in, SYS_seccomp, SECCOMP_SET_MODE_FILTER_VALUE, 0, in->scratch + 256, 0, 0, 0);
    if (rc == -EACCES) {
        inject(in, SYS_prctl, 38 /* PR_SET_NO_NEW_PRIVS */, 1, 0, 0, 0, 0);
        rc = inject(in, SYS_seccomp, SECCOMP_SET_MODE_FILTER_VALUE, 0, in->scratch + 256, 0, 0,
                    0);
    }
    return rc;
}

static long map_stub(struct injector *in)
{
    struct sp_stubhost *h = in->s->stub;
    char path[64];
    int n = snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)getpid(), h->memfd);
    int wrote = put(in, in->scratch, path, (size_t)n + 1);
    if (wrote != 0)
        return wrote;
    long fd = inject(in, SYS_openat, (unsigned long long)AT_FDCWD, in->scratch,
                     O_RDWR | O_CLOEXEC, 0, 0, 0);
    if (fd < 0)
        return fd;
    long code = inject(in, SYS_mmap, SP_STUB_CODE_ADDR, SP_STUB_CODE_SIZE, PROT_READ | PROT_EXEC,
                       MAP_SHARED | MAP_FIXED_NOREPLACE, (unsigned long long)fd, 0);
    long data = inject(in, SYS_mmap, SP_STUB_DATA_ADDR, data_size(), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_FIXED_NOREPLACE, (unsigned long long)fd,
                       SP_STUB_CODE_SIZE);
    inject(in, SYS_close, (unsigned long long)fd, 0, 0, 0, 0, 0);
    long stacks = inject(in, SYS_mmap, SP_STUB_STACKS_ADDR, SP_STUB_STACKS_SIZE,
                         PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
                         (unsigned long long)-1, 0);
    if (stacks != (long)SP_STUB_STACKS_ADDR)
        return stacks < 0 ? stacks : -EEXIST;
    if (code != (long)SP_STUB_CODE_ADDR)
        return code < 0 ? code : -EEXIST;
    if (data != (long)SP_STUB_DATA_ADDR)
        return data < 0 ? data : -EEXIST;
    if (in->s->config.protect == SP_PROTECT_MPROTECT) {
        long guard = inject(in, SYS_mmap, SP_STUB_GUARD_ADDR, SP_STUB_GUARD_SIZE,
                            PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                            (unsigned long long)-1, 0);
        if (guard != (long)SP_STUB_GUARD_ADDR)
            return guard < 0 ? guard : -EEXIST;
        long wiped = inject(in, SYS_madvise, SP_STUB_GUARD_ADDR, SP_STUB_GUARD_SIZE,
                            MADV_WIPEONFORK, 0, 0, 0);
        if (wiped < 0)
            return wiped;
        /* Flags of its own (VM_DONTDUMP) keep the guarded part a mapping apart from the slots
         * before it even while both are open, so the handler's two mprotect calls per trap
         * change one whole mapping rather than split it off and merge it back: about 1 us less
         * per trap here. And the tracee's core dumps leave the privileged data out. */
        long rc = inject(in, SYS_madvise, SP_STUB_DATA_ADDR + offsetof(struct sp_stub_data, rules),
                         data_size() - offsetof(struct sp_stub_data, rules), MADV_DONTDUMP, 0,
                         0, 0);
        if (rc < 0)
            return rc;
        rc = inject(in, SYS_mprotect, SP_STUB_DATA_ADDR + offsetof(struct sp_stub_data, rules),
                    data_size() - offsetof(struct sp_stub_data, rules), PROT_NONE, 0, 0, 0);
        if (rc < 0)
            return rc;
    } else if (in->s->config.protect == SP_PROTECT_PKEY) {
        long key = inject(in, SYS_pkey_alloc, 0, 0, 0, 0, 0, 0);
        if (key != 1)
            return key < 0 ? key : -EINVAL;
        long rc = inject(in, SYS_pkey_mprotect,
                         SP_STUB_DATA_ADDR + offsetof(struct sp_stub_data, rules),
                         data_size() - offsetof(struct sp_stub_data, rules),
                         PROT_READ | PROT_WRITE, (unsigned long long)key, 0, 0);
        if (rc < 0)
            return rc;
    }
    struct kernel_sigaction act = {
        .handler = SP_STUB_CODE_ADDR + SP_STUB_HANDLER_OFF,
        /* SA_NODEFER: a handler of the program's own that runs nested inside this one (a
         * signal arriving while the stub makes a call) must be able to trap again.
         * SA_ONSTACK: on the thread's signal stack, which the stub sets to its own (see
         * stub.c: own_signal_stack) unless the program has one of its own. */
        .flags = SA_SIGINFO | SA_RESTORER_FLAG | SA_NODEFER | SA_ONSTACK,
        .restorer = SP_STUB_CODE_ADDR + SP_STUB_RESTORER_OFF,
        .mask = 0,
    };
    wrote = put(in, in->scratch + 128, &act, sizeof(act));
    if (wrote != 0)
        return wrote;
    return inject(in, SYS_rt_sigaction, SIGSYS, in->scratch + 128, 0, 8, 0, 0);
}

/*
 * At PTRACE_EVENT_EXEC: let execve return, then put the stub in and arm the thread. Returns
 * 0, or -errno: the engine then kills the tracee rather than let it run on unwatched.
 */
/* The exec'ing thread's signal stack, the stub's for its slot, so that even its first trap
 * needs nothing of the program's stack (the stub arms later threads at their first trap). */
static long give_signal_stack(struct injector *in)
{
    struct sp_stub_slot *slot = slot_for(in->s, in->tr->tid, 1);
    if (!slot)
        return -ENOSPC;
    size_t index = (size_t)(slot - in->s->stub->data->slots);
    stack_t st = {
        .ss_sp = (void *)(uintptr_t)(SP_STUB_STACKS_ADDR + index * SP_STUB_STACK_SIZE),
        .ss_flags = (int)SS_AUTODISARM,
        .ss_size = SP_STUB_STACK_SIZE,
    };
    int wrote = put(in, in->scratch + 512, &st, sizeof(st));
    if (wrote != 0)
        return wrote;
    return inject(in, SYS_sigaltstack, in->scratch + 512, 0, 0, 0, 0, 0);
}

int sp_stub_inject(struct sp_session *s, struct sp_tracee *tr, int *pending_signal)
{
    struct injector in = {.s = s, .tr = tr};
    pid_t tid = tr->tid;
    /* Registers written now would be overwritten by execve's own return: go to its exit. */
    int suspend = s->stub->filter_installed;
    if (suspend && ptrace(PTRACE_SETOPTIONS, tid, 0L,
                          (long)(sp_ptrace_options(s, !s->config.attach_pid) |
                                 PTRACE_O_SUSPEND_SECCOMP)) != 0)
        return -errno;
    if (ptrace(PTRACE_SYSCALL, tid, 0L, 0L) != 0)
        return -errno;
    int rc = wait_syscall_stop(&in);
    if (rc == 0 && ptrace(PTRACE_GETREGS, tid, 0L, &in.saved) != 0)
        rc = -errno;
    if (rc == 0 && tr->in_syscall)
        sp_finish_call(s, tr, (long long)in.saved.rax); /* the execve, traced before the stub */
    if (rc == 0) {
        in.site = in.saved.rip;
        in.scratch = ((in.saved.rsp - 8192) & ~15ull);
        errno = 0;
        in.original = ptrace(PTRACE_PEEKTEXT, tid, (void *)in.site, 0L);
        if (errno)
            rc = -errno;
    }
    if (rc == 0) {
        long patched = (in.original & ~0xffffL) | 0x050f; /* syscall */
        if (ptrace(PTRACE_POKETEXT, tid, (void *)in.site, (void *)patched) != 0)
            rc = -errno;
        if (rc == 0) {
            long mapped = map_stub(&in);
            if (mapped < 0)
                rc = (int)mapped;
            if (rc == 0)
                rc = (int)give_signal_stack(&in);
            if (rc == 0 && !s->stub->filter_installed) {
                long installed = install_filter(&in);
                if (installed < 0)
                    rc = (int)installed;
                else
                    s->stub->filter_installed = 1;
            }
            ptrace(PTRACE_POKETEXT, tid, (void *)in.site, (void *)in.original);
        }
        ptrace(PTRACE_SETREGS, tid, 0L, &in.saved);
    }
    if (suspend)
        ptrace(PTRACE_SETOPTIONS, tid, 0L, (long)sp_ptrace_options(s, !s->config.attach_pid));
    if (rc == 0)
        rc = sp_stub_arm(s, tr);
    *pending_signal = in.pending_signal;
    if (in.ended) /* nobody else can wait for it now: its end is the engine's to record */
        sp_handle_exit(s, tid, in.end_status);
    return rc;
}

/* ---- seccomp-trap between execs: not attached at all --------------------------------------- */

static void wake_slot(struct sp_stub_slot *slot)
{
    syscall(SYS_futex, &slot->exec_state, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* The stored event of an execve that succeeded: it never came back to the stub to be sent. */
static void emit_pending_exec(struct sp_session *s, struct sp_stub_slot *slot)
{
    if (!slot)
        return;
    size_t index = (size_t)(slot - s->stub->data->slots);
    struct sp_event *ev = &s->stub->data->exec_pending[index];
    if (ev->kind != SP_EV_SYSCALL)
        return;
    ev->flags &= ~SP_EVF_NORETURN;
    ev->ret = 0;
    ev->t_exit_ns = sp_now_ns();
    sp_ring_push(s, ev);
    ev->kind = 0;
}

/* A stub asked to exec: attach, let it go, put the stub back into the new image, detach. */
/* Whether task `pid` (a number as our namespace sees it) maps this session's stub: its code
 * range is a /proc/PID/map_files entry whose file is our memfd. */
static int maps_our_stub(const struct sp_session *s, pid_t pid)
{
    struct stat memfd, code;
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid, SP_STUB_CODE_ADDR,
             SP_STUB_CODE_ADDR + SP_STUB_CODE_SIZE);
    return fstat(s->stub->memfd, &memfd) == 0 && stat(path, &code) == 0 &&
           code.st_ino == memfd.st_ino && code.st_dev == memfd.st_dev;
}

static void serve_exec(struct sp_session *s, struct sp_stub_slot *slot, const sigset_t *wait_mask)
{
    pid_t tid = slot->tid;
    int interrupted = 0;
    int options = PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
    struct sp_tracee *tr = NULL;
    /* The slot has the tid as the stub saw it: in a PID namespace of the program's own, that
     * number names another task here (an unrelated process, say). Attach only to a task that
     * maps our stub; the exec of one we cannot find is refused below. */
    int seized = maps_our_stub(s, tid) && ptrace(PTRACE_SEIZE, tid, 0L, (long)options) == 0;
    if (seized)
        tr = sp_tracee_add(&s->tracees, tid, slot->tgid);
    if (!tr) {
        /* Without the engine at PTRACE_EVENT_EXEC the new image would run without the stub:
         * untraced, or killed by its first SIGSYS. Fail the execve instead. */
        if (seized)
            ptrace(PTRACE_DETACH, tid, 0L, 0L);
        __atomic_store_n(&slot->exec_state, SP_EXEC_REFUSED, __ATOMIC_SEQ_CST);
        wake_slot(slot);
        return;
    }
    tr->armed = 1;
    __atomic_store_n(&slot->exec_state, SP_EXEC_GO, __ATOMIC_SEQ_CST);
    wake_slot(slot);
    while (tr) {
        int status;
        pid_t got = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
        if (got < 0 && errno != EINTR)
            break;
        if (got <= 0) {
            /* Nothing yet: sleep until the stub signals (a failed execve) or 1 ms passes (a
             * ptrace stop does not wake us: its SIGCHLD is ignored). Only while an exec runs. */
            if (__atomic_load_n(&slot->exec_state, __ATOMIC_SEQ_CST) == SP_EXEC_FAILED &&
                !interrupted) {
                ptrace(PTRACE_INTERRUPT, tid, 0L, 0L);
                interrupted = 1;
            }
            struct timespec one_ms = {0, 1000000};
            ppoll(NULL, 0, &one_ms, wait_mask);
            continue;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (got == s->result.root_pid) {
                /* The launched process (our child) ended meanwhile: its exit, not the exec'ing
                 * task's, which may be another process still stopped in its exec. */
                sp_root_ended(s, status);
            }
            if (got != tr->tid && got != tr->tgid)
                continue;
            sp_tracee_remove(&s->tracees, tr->tid);
            break;
        }
        int event = (unsigned int)status >> 16, sig = WSTOPSIG(status);
        struct sp_tracee *found = sp_tracee_find(&s->tracees, got);
        if (found)
            tr = found;
        if (event == PTRACE_EVENT_EXEC) {
            /* An exec from another thread gives the process's pid to this one. */
            pid_t former = tr->tid;
            if (tr->tid != got)
                sp_tracee_rename(&s->tracees, tr, got);
            sp_emit_exec(s, tr, former);
            emit_pending_exec(s, slot);
            int pending = 0;
            int rc = sp_stub_inject(s, tr, &pending);
            if (rc < 0) {
                if (rc != -ESRCH) /* (ESRCH: it was killed meanwhile, not our failure) */
                    sp_fail(s, "injecting the stub after execve", -rc);
                kill(tr->tgid, SIGKILL); /* never let it run on without the stub */
                pending = 0;
            }
            ptrace(PTRACE_DETACH, tr->tid, 0L, (long)pending);
            sp_tracee_remove(&s->tracees, tr->tid);
            break;
        }
        if (event == PTRACE_EVENT_STOP &&
            __atomic_load_n(&slot->exec_state, __ATOMIC_SEQ_CST) == SP_EXEC_FAILED) {
            ptrace(PTRACE_DETACH, tr->tid, 0L, 0L);
            sp_tracee_remove(&s->tracees, tr->tid);
            break;
        }
        ptrace(PTRACE_CONT, tr->tid, 0L, (long)(event == 0 ? sig : 0));
    }
    /* Done with this request. Not a plain store: once detached, the new image may already
     * have asked again (REQUEST), and overwriting that would let its execve run unattended. */
    int expected = SP_EXEC_GO;
    if (!__atomic_compare_exchange_n(&slot->exec_state, &expected, SP_EXEC_NONE, 0,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
        expected == SP_EXEC_FAILED &&
        __atomic_compare_exchange_n(&slot->exec_state, &expected, SP_EXEC_NONE, 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        wake_slot(slot); /* the stub of a failed execve waits for NONE */
}

/* Answer the stubs that ask (SP_CALLBACK rules): the rule's Python callback decides. */
static void serve_asks(struct sp_session *s)
{
    struct sp_stub_data *d = s->stub->data;
    struct sp_tracee *tr = s->stub->asker;
    int used = __atomic_load_n(&d->slots_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        struct sp_stub_ask *ask = &d->asks[i];
        if (!d->slots[i].tid || __atomic_load_n(&ask->state, __ATOMIC_ACQUIRE) != SP_ASK_ASKED)
            continue;
        memset(tr, 0, offsetof(struct sp_tracee, ev)); /* the event is copied over in full */
        memcpy(&tr->ev, &ask->event, offsetof(struct sp_event, data) + ask->event.data_len);
        tr->tid = tr->ev.tid;
        tr->tgid = tr->ev.pid;
        int arch = tr->ev.arch == AUDIT_ARCH_I386_VALUE ? 1 : 0;
        int nr = tr->ev.nr >= 0 && tr->ev.nr < SP_NR_MAX ? tr->ev.nr : SP_NR_MAX;
        tr->rule = &s->rules[arch][nr];
        int action = sp_decide(s, tr);
        ask->action = (tr->ev.flags & SP_EVF_REWRITTEN) ? SP_REWRITE : action;
        ask->value = tr->answer;
        memcpy(ask->args, tr->ev.args, sizeof(ask->args));
        __atomic_store_n(&ask->state, SP_ASK_ANSWERED, __ATOMIC_RELEASE);
        syscall(SYS_futex, &ask->state, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}

/*
 * The other processes of a stub session, the launched one's descendants: not ptrace-attached,
 * so the engine learns of them from the slots their stubs take (every process that ever
 * trapped has one) and holds a pidfd of each. The session lasts while any of them runs, as
 * strace's does, and a cancel ends them even once the launched process is gone (sp_kill_tree
 * walks only its tree, and its orphans belong to init by then).
 */
enum { FAMILY_MAX = 512 };
struct stub_family {
    int count;
    pid_t pid[FAMILY_MAX];
    int fd[FAMILY_MAX]; /* a pidfd; -1 once that process has ended */
};

static int family_knows(const struct stub_family *f, pid_t pid, pid_t root)
{
    int known = pid <= 0 || pid == root || f->count == FAMILY_MAX;
    for (int k = 0; k < f->count && !known; k++)
        known = f->pid[k] == pid;
    return known;
}

static void family_add(struct stub_family *f, pid_t pid, pid_t root)
{
    if (family_knows(f, pid, root))
        return;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return; /* already gone */
    f->pid[f->count] = pid;
    f->fd[f->count++] = fd;
}

/* Every process whose stub took a slot, and that is ours: a slot's pid is the number the
 * stub saw, which in a PID namespace of the program's names another process here. */
static void family_update(struct sp_session *s, struct stub_family *f, pid_t root)
{
    int used = __atomic_load_n(&s->stub->data->slots_used, __ATOMIC_ACQUIRE);
    for (int i = 0; i < used; i++) {
        pid_t pid = s->stub->data->slots[i].tgid;
        if (!family_knows(f, pid, root) && maps_our_stub(s, pid))
            family_add(f, pid, root);
    }
}

/* Every process that maps this session's stub, trapped yet or not (a child that has made no
 * call the filter traps has no slot): its code range, mapped from our memfd at a fixed
 * address, is a /proc/PID/map_files entry whose file is that memfd. One stat per process, in
 * a scan of /proc made when the launched process has ended (its orphans are init's then) and
 * now and then after. (map_files needs CAP_SYS_ADMIN, which the stub modes need anyway.) */
static void family_scan(struct sp_session *s, struct stub_family *f, pid_t root)
{
    DIR *proc = opendir("/proc");
    if (!proc)
        return;
    pid_t self = getpid();
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        pid_t pid = (pid_t)atoi(entry->d_name);
        if (pid > 0 && pid != self && pid != root && maps_our_stub(s, pid))
            family_add(f, pid, root);
    }
    closedir(proc);
}

/* How many of them still run (an ended process's pidfd polls readable). */
static int family_alive(struct stub_family *f)
{
    int alive = 0;
    for (int k = 0; k < f->count; k++) {
        if (f->fd[k] < 0)
            continue;
        struct pollfd p = {f->fd[k], POLLIN, 0};
        if (poll(&p, 1, 0) > 0) {
            close(f->fd[k]);
            f->fd[k] = -1;
        } else {
            alive++;
        }
    }
    return alive;
}

static void family_end(struct stub_family *f, int kill_them)
{
    for (int k = 0; k < f->count; k++) {
        if (f->fd[k] < 0)
            continue;
        if (kill_them)
            syscall(SYS_pidfd_send_signal, f->fd[k], SIGKILL, NULL, 0);
        close(f->fd[k]);
        f->fd[k] = -1;
    }
}

/*
 * The session of a detached stub tracee: wait for the launched process and every process of
 * its family to end, serving exec requests and asks meanwhile. A stub's request wakes this
 * thread with the wake signal. The signal stays blocked except inside ppoll, so one that comes
 * while this thread is busy is kept pending and cuts the next wait short instead of being
 * lost. The launched process's end shows on its pidfd; the others' are checked every pass.
 */
int sp_stub_detached_loop(struct sp_session *s)
{
    pid_t root = s->result.root_pid;
    int pidfd = s->result.root_exited ? -1 : (int)syscall(SYS_pidfd_open, root, 0);
    if (pidfd < 0 && !s->result.root_exited) /* gone: after a cancel (it killed it), no failure */
        return s->cancel && errno == ESRCH ? 0 : -errno;
    struct stub_family family; /* 4 KiB on the engine thread's stack */
    family.count = 0;
    int passes_since_scan = 0, scanned = 0;
    sigset_t wake, wait_mask;
    sigemptyset(&wake);
    sigaddset(&wake, sp_wake_signal());
    pthread_sigmask(SIG_BLOCK, &wake, &wait_mask);
    sigdelset(&wait_mask, sp_wake_signal());
    while (!s->result.root_exited || family_alive(&family)) {
        if (s->cancel && !s->cancel_handled) {
            s->cancel_handled = 1;
            sp_kill_tree(root);
        }
        struct pollfd p = {pidfd, POLLIN, 0};
        struct timespec fifty_ms = {0, 50000000};
        int n = ppoll(&p, s->result.root_exited ? 0 : 1, &fifty_ms, &wait_mask);
        family_update(s, &family, root);
        if (scanned && ++passes_since_scan == 10) { /* newcomers that have not trapped yet */
            family_scan(s, &family, root);
            passes_since_scan = 0;
        }
        if (s->cancel_handled)
            family_end(&family, 1); /* and any found since */
        serve_asks(s);
        int used = __atomic_load_n(&s->stub->data->slots_used, __ATOMIC_ACQUIRE);
        for (int i = 0; i < used; i++) {
            struct sp_stub_slot *slot = &s->stub->data->slots[i];
            if (slot->tid && slot->exec_state == SP_EXEC_REQUEST)
                serve_exec(s, slot, &wait_mask);
        }
        if (n > 0 && (p.revents & POLLIN) && !s->result.root_exited) {
            int status;
            if (waitpid(root, &status, __WALL) == root)
                sp_root_ended(s, status);
        }
        if (s->result.root_exited && !scanned) { /* (the root may also end in serve_exec) */
            family_scan(s, &family, root);
            scanned = 1;
            if (s->cancel_handled)
                family_end(&family, 1);
        }
        if (s->result.error_errno)
            break;
    }
    family_end(&family, s->result.error_errno != 0);
    if (pidfd >= 0)
        close(pidfd);
    pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
    return 0;
}
