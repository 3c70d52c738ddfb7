/*
 * vcpu.c - the stub of a VCpu host process: the controlled entry point of its guests.
 *
 * Freestanding and position-independent, like stub.c; mapped at SP_VCPU_CODE_ADDR with its
 * control and stack regions (vcpu_abi.h). The supervisor forks the host and jumps to
 * sp_vcpu_boot on the boot stack; the boot code unmaps everything else the fork left behind
 * (the supervisor's whole image), installs the trap handler on its own signal stack and the
 * seccomp filter that traps every syscall made outside this code, then raises the first trap.
 *
 * From then on the host is always in one of two places: running guest code, or waiting in
 * sp_vcpu_handler for the supervisor. The handler reports each trap (a guest syscall, or a
 * fault) through the control region, waits, applies the memory operations the supervisor
 * queued (this is how one host switches address spaces), and returns into the register set
 * the supervisor left, which may belong to another guest context.
 *
 * It must never call anything outside this file, and must leave the guest's stack alone:
 * it runs on its own signal stack.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include "../raw_syscall.h"
#include "../vcpu_abi.h"

/* Hidden: with -fPIC, the address of a visible function would be loaded from a GOT, which the
 * flat blob does not carry. */
#pragma GCC visibility push(hidden)

#define CTRL ((struct sp_vcpu_ctrl *)SP_VCPU_CTRL_ADDR)
#define CONFIG ((const struct sp_vcpu_config *)(SP_VCPU_CODE_ADDR + SP_VCPU_CONFIG_OFF))
#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 1
#define MAP_FIXED 0x10
#define PR_SET_NO_NEW_PRIVS 38
#define SA_RESTORER_FLAG 0x04000000
#define SOL_SOCKET_VALUE 1
#define SCM_RIGHTS_VALUE 1
#define MSG_DONTWAIT_VALUE 0x40
#define SYS_SECCOMP_CODE 1

void sp_vcpu_handler(int sig, siginfo_t *info, void *context);
void sp_vcpu_restorer(void);
void sp_vcpu_boot(void);

/* The kernel's struct sigaction, not libc's. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long long mask;
};

struct kernel_stack {
    void *sp;
    int flags;
    unsigned long size;
};

struct fd_message {
    void *name;
    int namelen;
    void *iov;
    unsigned long iovlen;
    void *control;
    unsigned long controllen;
    int flags;
};

struct fd_cmsg {
    unsigned long len;
    int level;
    int type;
    int fd;
    int pad;
};

static void die(void)
{
    for (;;)
        sc3(SYS_exit_group, 127, 0, 0);
}

/* ---- the channel ------------------------------------------------------------------------ */

/* Hand the trap over and wait for the supervisor's answer: spin a little (it may be answering
 * from another CPU right now), then sleep on the state word. */
static void report_and_wait(struct sp_vcpu_ctrl *c)
{
    __atomic_store_n(&c->state, SP_VCPU_STATE_TRAPPED, __ATOMIC_RELEASE);
    sc6(SYS_futex, (unsigned long long)&c->state, FUTEX_WAKE, 1, 0, 0, 0);
    for (unsigned int i = 0; i < CONFIG->spins; i++) {
        if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == SP_VCPU_STATE_RUN)
            return;
        __builtin_ia32_pause();
    }
    while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != SP_VCPU_STATE_RUN)
        sc6(SYS_futex, (unsigned long long)&c->state, FUTEX_WAIT, SP_VCPU_STATE_TRAPPED, 0, 0,
            0);
}

static long receive_fd(void)
{
    char byte;
    struct {
        void *base;
        unsigned long len;
    } iov = {&byte, 1};
    struct fd_cmsg cmsg = {0, 0, 0, -1, 0};
    struct fd_message msg = {0, 0, &iov, 1, &cmsg, sizeof(cmsg), 0};
    long n = sc3(SYS_recvmsg, SP_VCPU_SOCK_FD, (unsigned long long)&msg, MSG_DONTWAIT_VALUE);
    if (n < 0)
        return n;
    if (cmsg.level != SOL_SOCKET_VALUE || cmsg.type != SCM_RIGHTS_VALUE || cmsg.fd < 0)
        return -9; /* EBADF: no descriptor came with the message */
    return cmsg.fd;
}

static long apply(const struct sp_vcpu_op *op, struct sp_vcpu_ctrl *c)
{
    if (op->slot < 0 || op->slot >= SP_VCPU_MAX_FDS)
        return -22;
    switch (op->kind) {
    case SP_VCPU_OP_MAP: {
        long r = sc6(SYS_mmap, op->addr, op->length, (unsigned long long)op->prot,
                     MAP_SHARED | MAP_FIXED, (unsigned long long)(long)c->fds[op->slot],
                     op->offset);
        return r < 0 ? r : 0;
    }
    case SP_VCPU_OP_UNMAP:
        return sc3(SYS_munmap, op->addr, op->length, 0);
    case SP_VCPU_OP_PROTECT:
        return sc3(SYS_mprotect, op->addr, op->length, (unsigned long long)op->prot);
    case SP_VCPU_OP_RECV_FD: {
        long fd = receive_fd();
        if (fd < 0)
            return fd;
        c->fds[op->slot] = (int)fd;
        return 0;
    }
    case SP_VCPU_OP_CLOSE_FD: {
        long r = sc3(SYS_close, (unsigned long long)(long)c->fds[op->slot], 0, 0);
        c->fds[op->slot] = -1;
        return r;
    }
    }
    return -22;
}

/* Apply the queued operations; a failure is reported as a trap of its own and the
 * supervisor answers it like any other. */
static void apply_queue(struct sp_vcpu_ctrl *c)
{
    for (;;) {
        unsigned int i;
        long err = 0;
        for (i = 0; i < c->nops; i++) {
            err = apply(&c->ops[i], c);
            if (err < 0)
                break;
        }
        c->nops = 0;
        if (err == 0)
            return;
        c->kind = SP_TRAP_OPFAIL;
        c->error = (int)-err;
        c->op_index = i;
        report_and_wait(c);
    }
}

/* ---- the trap handler ---------------------------------------------------------------- */

void sp_vcpu_handler(int sig, siginfo_t *info, void *context)
{
    struct sp_vcpu_ctrl *c = CTRL;
    ucontext_t *uc = context;
    greg_t *gregs = uc->uc_mcontext.gregs;
    /* The control region is locked away while guest code runs: open it first. Only this
     * code can: the guest's own mprotect traps like every other call it makes. */
    if (CONFIG->protect == SP_PROTECT_MPROTECT &&
        sc3(SYS_mprotect, SP_VCPU_CTRL_ADDR, SP_VCPU_CTRL_SIZE, PROT_READ | PROT_WRITE) != 0)
        die();
    if (sig == SIGSYS && info->si_code == SYS_SECCOMP_CODE) {
        c->kind = SP_TRAP_SYSCALL;
        c->nr = (unsigned long long)(unsigned int)info->si_syscall;
        c->arch = info->si_arch;
        if (info->si_arch == 0xC000003Eu) {
            c->args[0] = (unsigned long long)gregs[REG_RDI];
            c->args[1] = (unsigned long long)gregs[REG_RSI];
            c->args[2] = (unsigned long long)gregs[REG_RDX];
            c->args[3] = (unsigned long long)gregs[REG_R10];
            c->args[4] = (unsigned long long)gregs[REG_R8];
            c->args[5] = (unsigned long long)gregs[REG_R9];
        } else { /* int $0x80: the i386 argument registers, 32 bits each */
            c->args[0] = (unsigned int)gregs[REG_RBX];
            c->args[1] = (unsigned int)gregs[REG_RCX];
            c->args[2] = (unsigned int)gregs[REG_RDX];
            c->args[3] = (unsigned int)gregs[REG_RSI];
            c->args[4] = (unsigned int)gregs[REG_RDI];
            c->args[5] = (unsigned int)gregs[REG_RBP];
        }
    } else if (sig == SIGSYS && !c->booted) {
        c->kind = SP_TRAP_BOOT; /* the boot code's own signal: no guest yet */
        c->booted = 1;
    } else {
        c->kind = SP_TRAP_FAULT;
        c->signo = sig;
        c->code = info->si_code;
        c->addr = (unsigned long long)info->si_addr;
    }
    for (int i = 0; i < SP_VCPU_NREGS; i++)
        c->regs[i] = (unsigned long long)gregs[i];
    report_and_wait(c);
    apply_queue(c);
    for (int i = 0; i < SP_VCPU_NREGS; i++)
        gregs[i] = (greg_t)c->regs[i];
    if (CONFIG->protect == SP_PROTECT_MPROTECT)
        sc3(SYS_mprotect, SP_VCPU_CTRL_ADDR, SP_VCPU_CTRL_SIZE, PROT_NONE);
}

/* ---- boot ---------------------------------------------------------------------------- */

void sp_vcpu_boot(void)
{
    struct sp_vcpu_ctrl *c = CTRL;
    /* Everything the fork copied from the supervisor goes: below the stub, and above it. */
    if (sc3(SYS_munmap, 0, SP_VCPU_CODE_ADDR, 0) != 0 ||
        sc3(SYS_munmap, SP_VCPU_END, SP_VCPU_TASK_TOP - SP_VCPU_END, 0) != 0)
        die();
    /* The signal stack: the stack region above the boot stack. */
    struct kernel_stack stack = {(void *)(SP_VCPU_STACK_ADDR + SP_VCPU_BOOT_STACK_SIZE), 0,
                                 SP_VCPU_STACK_SIZE - SP_VCPU_BOOT_STACK_SIZE};
    if (sc3(SYS_sigaltstack, (unsigned long long)&stack, 0, 0) != 0)
        die();
    /* Every signal is blocked inside the handler: a fault there kills the host, which the
     * supervisor sees, rather than recursing. */
    struct kernel_sigaction act = {(void *)sp_vcpu_handler,
                                   SA_SIGINFO | SA_ONSTACK | SA_RESTORER_FLAG,
                                   (void *)sp_vcpu_restorer, ~0ULL};
    static const int traps[] = {SIGSYS, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    for (unsigned int i = 0; i < sizeof(traps) / sizeof(traps[0]); i++)
        if (sc6(SYS_rt_sigaction, (unsigned long long)traps[i], (unsigned long long)&act, 0, 8,
                0, 0) != 0)
            die();
    unsigned long long none = 0;
    sc6(SYS_rt_sigprocmask, SIG_SETMASK, (unsigned long long)&none, 0, 8, 0, 0);
    struct sock_fprog prog = {(unsigned short)c->filter_len, (struct sock_filter *)c->filter};
    if (sc3(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0) != 0 ||
        sc3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (unsigned long long)&prog) != 0)
        die();
    /* The first trap: the handler reports BOOT and returns into the first guest context. */
    long pid = sc3(SYS_getpid, 0, 0, 0);
    sc3(SYS_tgkill, (unsigned long long)pid, (unsigned long long)pid, SIGSYS);
    die();
}
