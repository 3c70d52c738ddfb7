/*
 * unpriv.c - the seed's "unprivileged mode", in this process: Syscall User Dispatch (SUD) sends
 * every syscall of the calling thread to a SIGSYS handler, the controlled entry point, which
 * applies the session's rules and records events, without any tracer round trip.
 *
 * How it holds together:
 * - SUD is on for the thread with a selector byte. While the selector says BLOCK, every
 *   syscall traps, except those whose instruction lies in the stub section ("sp_stub"
 *   below), which always pass.
 * - The handler's first act is selector = ALLOW, its last selector = BLOCK. In between it may
 *   use libc freely: it makes the call on the thread's behalf, writes the result into the
 *   saved rax, and copies strings with process_vm_readv (a bad pointer gives EFAULT, not a
 *   crash in the handler).
 * - It returns through a restorer in the stub section, so the rt_sigreturn that ends the
 *   handler passes with the selector at BLOCK. The kernel's signal frame saves and restores all
 *   register and extended state around the handler.
 * - A trapped rt_sigreturn (the end of some other signal handler, whose restorer is libc's)
 *   is finished by the stub's restorer on the original frame.
 * - clone, clone3 and vfork cannot run inside a handler: the child would return onto a stack
 *   it does not own. They run from the stub's pass-through trampoline after the handler has
 *   returned, and are recorded without a result.
 * - The thread cannot take the entry point away: rt_sigaction on SIGSYS, prctl on syscall
 *   dispatch and seccomp() are refused (EPERM), and SIGSYS is removed from any mask it sets
 *   and from the sa_mask of its handlers (a handler that ran with it blocked would die at its
 *   first syscall); it is unblocked for the mode, and the handler runs SA_NODEFER.
 * - rt_sigprocmask and sigaltstack are done on the saved context, not by a real call: the
 *   rt_sigreturn that ends the handler restores the mask and the alternate stack from it.
 * - Privileged-only memory: with SP_PROTECT_MPROTECT the action table is PROT_NONE except
 *   inside the handler (two mprotect calls per trap, the cost the seed calls a "huge
 *   performance penalty"); with SP_PROTECT_PKEY a protection key does the same with WRPKRU.
 *
 * Limits: SUD is per thread, so threads and children created in the mode run privileged; and
 * a thread that writes its own selector leaves the mode (this is for tracing and emulation,
 * not confinement). Python callbacks are not possible here (the interpreter is the tracee).
 */
#include "engine_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "raw_syscall.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#define SELECTOR_ALLOW 0
#define SELECTOR_BLOCK 1

/* The stub section: the only code whose syscalls pass while the selector says BLOCK. */
__asm__(".pushsection sp_stub,\"ax\",@progbits\n"
        ".globl sp_stub_restorer\n"
        ".hidden sp_stub_restorer\n"
        "sp_stub_restorer:\n"
        "    mov $15, %eax\n" /* rt_sigreturn */
        "    syscall\n"
        "    ud2\n"
        ".globl sp_stub_passthrough\n"
        ".hidden sp_stub_passthrough\n"
        "sp_stub_passthrough:\n"
        "    syscall\n"
        "    jmp *sp_stub_return(%rip)\n"
        ".popsection\n");

extern char __start_sp_stub[] __attribute__((visibility("hidden")));
extern char __stop_sp_stub[] __attribute__((visibility("hidden")));
void sp_stub_restorer(void) __attribute__((visibility("hidden")));
void sp_stub_passthrough(void) __attribute__((visibility("hidden")));
/* Where the pass-through trampoline returns to; read by parent and child alike. */
__attribute__((visibility("hidden"))) void *sp_stub_return;

struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long long mask;
};
#define SA_RESTORER_FLAG 0x04000000

static struct sp_session *active;         /* one in-process session at a time */
static struct kernel_sigaction previous;  /* SIGSYS as it was before */
static int protect_mode;
static int pkey = -1;
static int sigsys_was_blocked; /* in the thread's mask before the mode: blocked again after */
static __thread volatile char selector = SELECTOR_ALLOW;
static __thread struct sp_tracee *self;

static void write_pkru(unsigned int value)
{
    __asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(value), "c"(0), "d"(0));
}

/* Make the action table reachable (inside the handler) or not (outside). */
static void table_access(struct sp_session *s, int open)
{
    if (protect_mode == SP_PROTECT_MPROTECT)
        sc6(SYS_mprotect, (unsigned long long)(uintptr_t)s->rules, s->rules_size,
                     open ? PROT_READ | PROT_WRITE : PROT_NONE, 0, 0, 0);
    else if (protect_mode == SP_PROTECT_PKEY)
        write_pkru(open ? 0 : (3u << (2 * pkey))); /* AD|WD for our key only */
}

/* Copy from this process's memory without faulting on a bad pointer. */
static int read_self(unsigned long long addr, void *dst, size_t len)
{
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    long n = sc6(SYS_process_vm_readv, (unsigned long long)self->tgid,
                          (unsigned long long)(uintptr_t)&local, 1,
                          (unsigned long long)(uintptr_t)&remote, 1, 0);
    return n == (long)len ? 0 : -EFAULT;
}

static int write_self(unsigned long long addr, const void *src, size_t len)
{
    struct iovec local = {(void *)src, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    long n = sc6(SYS_process_vm_writev, (unsigned long long)self->tgid,
                          (unsigned long long)(uintptr_t)&local, 1,
                          (unsigned long long)(uintptr_t)&remote, 1, 0);
    return n == (long)len ? 0 : -EFAULT;
}

/*
 * The signal mask and the alternate stack are part of the state that rt_sigreturn puts back
 * when the handler ends: made inside the handler, these calls would be undone. They are done
 * on the saved context instead, which is what the thread gets back.
 */
static long sigprocmask_on_frame(ucontext_t *uc, const unsigned long long *args)
{
    unsigned long long mask, set;
    if (args[3] != sizeof(mask))
        return -EINVAL;
    memcpy(&mask, &uc->uc_sigmask, sizeof(mask));
    if (args[2] && write_self(args[2], &mask, sizeof(mask)) != 0)
        return -EFAULT;
    if (!args[1])
        return 0;
    if (read_self(args[1], &set, sizeof(set)) != 0)
        return -EFAULT;
    if (args[0] == SIG_BLOCK)
        mask |= set;
    else if (args[0] == SIG_UNBLOCK)
        mask &= ~set;
    else if (args[0] == SIG_SETMASK)
        mask = set;
    else
        return -EINVAL;
    /* SIGKILL and SIGSTOP cannot be blocked; SIGSYS must not be, or a trap would kill. */
    mask &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)) | (1ull << (SIGSYS - 1)));
    memcpy(&uc->uc_sigmask, &mask, sizeof(mask));
    return 0;
}

static long sigaltstack_on_frame(ucontext_t *uc, const unsigned long long *args)
{
    stack_t next;
    if (args[1] && write_self(args[1], &uc->uc_stack, sizeof(uc->uc_stack)) != 0)
        return -EFAULT;
    if (!args[0])
        return 0;
    if (read_self(args[0], &next, sizeof(next)) != 0)
        return -EFAULT;
    if (!(next.ss_flags & SS_DISABLE) && next.ss_size < MINSIGSTKSZ)
        return -ENOMEM;
    uc->uc_stack = next;
    return 0;
}

/* A handler of the thread's whose sa_mask blocks SIGSYS would die at its first syscall
 * (Syscall User Dispatch cannot deliver a blocked SIGSYS: the kernel kills instead). It is
 * installed with a copy of its action without SIGSYS in the mask. */
static long sigaction_without_sigsys(const unsigned long long *args)
{
    struct kernel_sigaction act;
    if (args[3] != sizeof(act.mask) || read_self(args[1], &act, sizeof(act)) != 0)
        return sc6(SYS_rt_sigaction, args[0], args[1], args[2], args[3], 0, 0); /* its error */
    act.mask &= ~(1ull << (SIGSYS - 1));
    return sc6(SYS_rt_sigaction, args[0], (unsigned long long)(uintptr_t)&act, args[2], args[3],
               0, 0);
}

/* Calls the handler must do differently or refuse; 1 when *ret is the answer. */
static int guard_entry_point(ucontext_t *uc, const unsigned long long *args, long nr, long *ret)
{
    if ((nr == SYS_rt_sigaction && args[0] == SIGSYS) ||
        (nr == SYS_prctl && args[0] == PR_SET_SYSCALL_USER_DISPATCH) || nr == SYS_seccomp) {
        *ret = -EPERM; /* the entry point stays where it is */
        return 1;
    }
    if (nr == SYS_rt_sigprocmask) {
        *ret = sigprocmask_on_frame(uc, args);
        return 1;
    }
    if (nr == SYS_rt_sigaction && args[1]) {
        *ret = sigaction_without_sigsys(args);
        return 1;
    }
    if (nr == SYS_sigaltstack) {
        *ret = sigaltstack_on_frame(uc, args);
        return 1;
    }
    return 0;
}

static int runs_on_a_new_stack(long nr)
{
    return nr == SYS_clone || nr == SYS_clone3 || nr == SYS_vfork;
}

static void sigsys_handler(int sig, siginfo_t *info, void *context)
{
    selector = SELECTOR_ALLOW;
    int saved_errno = errno;
    struct sp_session *s = active;
    greg_t *g = ((ucontext_t *)context)->uc_mcontext.gregs;
    long nr = info->si_syscall;
    (void)sig;
    if (info->si_code != 2 /* SYS_USER_DISPATCH */) {
        /* Not a trap (kill -SYS, raise): it has no syscall, and taking one from it would make
         * a read() of whatever the registers held. What SIGSYS did before the mode decides:
         * at its default action the process ends, as it would have; a handler (Python's, say)
         * runs, here, with the selector open; an ignored one is let go. */
        if (previous.handler == (void *)SIG_DFL) {
            sc6(SYS_rt_sigaction, SIGSYS, (unsigned long long)(uintptr_t)&previous, 0, 8, 0, 0);
            sc3(SYS_tgkill, (unsigned long long)sc3(SYS_getpid, 0, 0, 0),
                (unsigned long long)sc3(SYS_gettid, 0, 0, 0), SIGSYS);
        } else if (previous.handler != (void *)SIG_IGN && (previous.flags & SA_SIGINFO)) {
            ((void (*)(int, siginfo_t *, void *))previous.handler)(sig, info, context);
        } else if (previous.handler != (void *)SIG_IGN) {
            ((void (*)(int))previous.handler)(sig);
        }
        goto out;
    }

    if (nr == SYS_rt_sigreturn && info->si_arch == AUDIT_ARCH_X86_64_VALUE) {
        g[REG_RIP] = (greg_t)(uintptr_t)sp_stub_restorer; /* on the original frame */
        goto out;
    }
    if (!s || !self || info->si_arch != AUDIT_ARCH_X86_64_VALUE) {
        g[REG_RAX] = -ENOSYS;
        goto out;
    }
    table_access(s, 1);

    struct sp_tracee *tr = self;
    struct __ptrace_syscall_info call;
    memset(&call, 0, sizeof(call));
    call.arch = info->si_arch;
    call.entry.nr = (unsigned long long)nr;
    const int regs[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
    for (int i = 0; i < SP_NARGS; i++)
        call.entry.args[i] = (unsigned long long)g[regs[i]];
    sp_begin_call(s, tr, &call);
    sp_count_call(s, tr);
    int action = sp_decide(s, tr);
    unsigned long long args[6];
    for (int i = 0; i < SP_NARGS; i++)
        args[i] = (tr->ev.flags & SP_EVF_REWRITTEN) ? tr->ev.args[i] : call.entry.args[i];
    tr->in_syscall = 1;

    long ret;
    if (action != SP_ALLOW) {
        ret = tr->answer;
    } else if (guard_entry_point((ucontext_t *)context, args, nr, &ret)) {
        if (ret == -EPERM)
            tr->ev.flags |= SP_EVF_DENIED;
    } else if (runs_on_a_new_stack(nr)) {
        /* Made by the trampoline once this handler has returned; nobody waits for a result. */
        for (int i = 0; i < SP_NARGS; i++)
            g[regs[i]] = (greg_t)args[i];
        sp_stub_return = (void *)(uintptr_t)g[REG_RIP];
        g[REG_RIP] = (greg_t)(uintptr_t)sp_stub_passthrough;
        g[REG_RAX] = nr;
        tr->ev.flags |= SP_EVF_CONTINUED;
        sp_finish_call(s, tr, 0);
        table_access(s, 0);
        goto out;
    } else {
        if (nr == SYS_exit || nr == SYS_exit_group)
            sp_flush_unfinished_call(s, tr); /* recorded now: it does not come back */
        if (nr == SYS_execve || nr == SYS_execveat) /* the new image inherits the mask */
            sc6(SYS_rt_sigprocmask, SIG_SETMASK,
                         (unsigned long long)(uintptr_t) & ((ucontext_t *)context)->uc_sigmask, 0,
                         8, 0, 0);
        ret = sc6(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    }
    g[REG_RAX] = ret;
    sp_finish_call(s, tr, ret);
    table_access(s, 0);
out:
    errno = saved_errno;
    selector = SELECTOR_BLOCK;
}

const void *sp_rules_address(struct sp_session *s) { return s->rules; }

/* The drainer: a plain C thread (privileged: SUD is per thread) that empties the ring. */
static void *drain_main(void *arg)
{
    struct sp_session *s = arg;
    for (;;) {
        int ready = sp_wait_events(s, 50);
        if (ready < 0)
            break;
        unsigned long long start = sp_ring_tail(s), at = start;
        for (int i = 0; i < ready; i++)
            at += sp_event_size(sp_event_at(s, at));
        size_t bytes = (size_t)(at - start);
        if (s->store_len + bytes > s->store_cap) {
            size_t cap = s->store_cap ? s->store_cap : (1u << 20);
            while (cap < s->store_len + bytes)
                cap *= 2;
            char *grown = realloc(s->store, cap);
            if (!grown) {
                sp_fail(s, "event store", ENOMEM);
                sp_release(s, (unsigned int)ready, bytes); /* the handler must never wait */
                continue;
            }
            s->store = grown;
            s->store_cap = cap;
        }
        for (unsigned long long pos = start; pos < at;) {
            const struct sp_event *ev = sp_event_at(s, pos);
            size_t size = (size_t)sp_event_size(ev);
            memcpy(s->store + s->store_len, ev, size);
            s->store_len += size;
            pos += size;
        }
        sp_release(s, (unsigned int)ready, bytes);
    }
    return NULL;
}

const void *sp_unpriv_events(struct sp_session *s, unsigned long long *bytes)
{
    *bytes = s->store_len;
    return s->store;
}

static int set_sigsys(const struct kernel_sigaction *act, struct kernel_sigaction *old)
{
    long rc = sc6(SYS_rt_sigaction, SIGSYS, (unsigned long long)(uintptr_t)act,
                           (unsigned long long)(uintptr_t)old, 8, 0, 0);
    return (int)rc;
}

static int protect_table(struct sp_session *s, int protect)
{
    protect_mode = SP_PROTECT_NONE;
    if (protect == SP_PROTECT_MPROTECT) {
        /* Flags of its own keep the table's mapping from merging with a neighbour, so the
         * handler's mprotect calls change one whole mapping rather than split and merge one
         * (about 1 us less per trap here). Out of core dumps, as privileged data should be. */
        madvise(s->rules, s->rules_size, MADV_DONTDUMP);
        if (mprotect(s->rules, s->rules_size, PROT_NONE) != 0)
            return -errno;
    } else if (protect == SP_PROTECT_PKEY) {
        if (pkey < 0) {
            long key = syscall(SYS_pkey_alloc, 0, 0);
            if (key < 0)
                return -errno; /* EINVAL or ENOSPC: this CPU or kernel has no protection keys */
            pkey = (int)key;
        }
        if (syscall(SYS_pkey_mprotect, s->rules, s->rules_size, PROT_READ | PROT_WRITE, pkey))
            return -errno;
    }
    protect_mode = protect;
    return 0;
}

int sp_unpriv_enter(struct sp_session *s, int protect)
{
    if (active)
        return -EBUSY;
    if (!self) {
        self = calloc(1, sizeof(*self));
        if (!self)
            return -ENOMEM;
    }
    self->tid = (pid_t)syscall(SYS_gettid);
    self->tgid = getpid();
    s->config.mode = SP_MODE_INPROCESS;

    /* SA_NODEFER: a signal handler of the thread's that runs between the handler's last
     * store to the selector and its return traps here again; with SIGSYS blocked there, the
     * kernel would kill the process instead. */
    struct kernel_sigaction act = {
        .handler = (void *)sigsys_handler,
        .flags = SA_SIGINFO | SA_RESTORER_FLAG | SA_NODEFER,
        .restorer = (void *)sp_stub_restorer,
        .mask = 0,
    };
    int rc = set_sigsys(&act, &previous);
    if (rc < 0)
        return rc;
    rc = protect_table(s, protect);
    if (rc < 0) {
        set_sigsys(&previous, NULL);
        return rc;
    }
    if (pthread_create(&s->drainer, NULL, drain_main, s) != 0) {
        set_sigsys(&previous, NULL);
        return -EAGAIN;
    }
    s->drainer_running = 1;
    active = s;
    selector = SELECTOR_ALLOW;
    /* A thread that blocks SIGSYS (the engine's own, running a callback, blocks everything)
     * could not trap: it is unblocked for the mode, and blocked again after. */
    sigset_t sigsys_only, before;
    sigemptyset(&sigsys_only);
    sigaddset(&sigsys_only, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sigsys_only, &before);
    sigsys_was_blocked = sigismember(&before, SIGSYS) == 1;
    if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON,
              (unsigned long)__start_sp_stub,
              (unsigned long)(__stop_sp_stub - __start_sp_stub), &selector) != 0) {
        rc = -errno;
        active = NULL;
        sp_unpriv_exit(s);
        return rc;
    }
    table_access(s, 0);
    selector = SELECTOR_BLOCK; /* from here on, every syscall of this thread traps */
    return 0;
}

int sp_unpriv_exit(struct sp_session *s)
{
    selector = SELECTOR_ALLOW; /* a store, not a syscall: the way out of the mode */
    prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    if (protect_mode == SP_PROTECT_MPROTECT)
        mprotect(s->rules, s->rules_size, PROT_READ | PROT_WRITE);
    else if (protect_mode == SP_PROTECT_PKEY)
        write_pkru(0);
    protect_mode = SP_PROTECT_NONE;
    set_sigsys(&previous, NULL);
    if (sigsys_was_blocked) {
        sigset_t sigsys_only;
        sigemptyset(&sigsys_only);
        sigaddset(&sigsys_only, SIGSYS);
        pthread_sigmask(SIG_BLOCK, &sigsys_only, NULL);
        sigsys_was_blocked = 0;
    }
    active = NULL;
    if (s->drainer_running) {
        sp_ring_finish(&s->ring);
        pthread_join(s->drainer, NULL);
        s->drainer_running = 0;
    }
    return 0;
}
