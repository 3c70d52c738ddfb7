/*
 * vcpu.c - the supervisor's side of VCpu hosts: start one, feed it address-space handles and
 * memory operations, resume it with a register set, wait for its next trap, stop it.
 *
 * A host is forked from the supervisor and reduced to the VCpu stub (stub/vcpu.c): from the
 * moment it boots, the only code in it is the stub's and the guests'. The two sides talk
 * through the control region of vcpu_abi.h, which both map from one memfd: the host writes a
 * trap and sets the state word to TRAPPED; the supervisor queues operations, writes registers
 * and sets it to RUN. Each side wakes the other with a futex on that word. Address-space
 * memfds reach the host as SCM_RIGHTS messages on a socket pair, the way any process would
 * pass such a handle to another.
 *
 * What is guest-visible policy (which context runs, what a trap means) is decided by the
 * caller; this file must stay mechanism only, and must never leave a host behind: a host
 * dies with its supervisor thread (PR_SET_PDEATHSIG) and sp_vcpu_stop reaps it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vcpu_abi.h"
#include "vcpu_blob.h"

_Static_assert(sizeof(sp_vcpu_blob) <= SP_VCPU_CONFIG_OFF, "the VCpu stub overlaps its config");

#ifndef RSEQ_SIG
#define RSEQ_SIG 0x53053053 /* glibc's signature on x86 */
#endif
#ifndef RSEQ_FLAG_UNREGISTER
#define RSEQ_FLAG_UNREGISTER 1
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define WAIT_SLICE_MS 100 /* how often a waiting supervisor checks that its host still lives */
#define SUPERVISOR_SPINS 2000
#define HOST_SPINS 2000
#define BOOT_TIMEOUT_MS 10000

struct sp_vcpu_host {
    pid_t pid;
    int pidfd;
    int sock;
    unsigned char *region; /* the host's code, control and stack regions, mapped here too */
    struct sp_vcpu_ctrl *ctrl;
    int running;           /* resumed, and its trap not yet collected */
    int exited;
    int status;            /* wait status, once exited */
    int spins;             /* how long the supervisor spins before it sleeps */
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void futex_wake(volatile unsigned int *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* In the forked child: only async-signal-safe calls until the jump into the stub. */
static void __attribute__((noreturn)) child_main(int memfd, int sock, pid_t parent, int cpu)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
        _exit(126);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    /* The supervisor's handlers point into code the stub is about to unmap. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    if (mmap((void *)SP_VCPU_CODE_ADDR, SP_VCPU_CODE_SIZE, PROT_READ | PROT_EXEC,
             MAP_SHARED | MAP_FIXED_NOREPLACE, memfd, 0) != (void *)SP_VCPU_CODE_ADDR ||
        mmap((void *)SP_VCPU_CTRL_ADDR, SP_VCPU_CTRL_SIZE + SP_VCPU_STACK_SIZE,
             PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, memfd,
             SP_VCPU_CODE_SIZE) != (void *)SP_VCPU_CTRL_ADDR)
        _exit(125);
    if (sock != SP_VCPU_SOCK_FD && dup2(sock, SP_VCPU_SOCK_FD) != SP_VCPU_SOCK_FD)
        _exit(124);
    syscall(SYS_close_range, SP_VCPU_SOCK_FD + 1, ~0U, 0);
    /* The kernel writes into glibc's rseq area and the exit-time tid word, both in memory the
     * stub unmaps: an rseq update there would be a SIGSEGV at the next preemption. */
    if (__rseq_size > 0) {
        /* glibc registers at least the original 32-byte area; __rseq_size may say less. */
        char *area = (char *)__builtin_thread_pointer() + __rseq_offset;
        if (syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG) != 0)
            syscall(SYS_rseq, area, __rseq_size, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
    }
    syscall(SYS_set_tid_address, NULL);
    syscall(SYS_set_robust_list, NULL, 0);
    __asm__ volatile("mov %0, %%rsp\n\tjmp *%1"
                     :
                     : "r"(SP_VCPU_STACK_ADDR + SP_VCPU_BOOT_STACK_SIZE),
                       "r"(SP_VCPU_CODE_ADDR + SP_VCPU_BOOT_OFF)
                     : "memory");
    __builtin_unreachable();
}

static int host_gone(struct sp_vcpu_host *h)
{
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (syscall(SYS_waitid, P_PIDFD, h->pidfd, &info, WEXITED | WNOHANG, NULL) != 0 ||
        info.si_pid == 0)
        return 0;
    h->exited = 1;
    h->running = 0;
    h->status = info.si_code == CLD_EXITED ? (info.si_status & 0xff) << 8 : info.si_status & 0x7f;
    return 1;
}

static void collect(struct sp_vcpu_host *h, struct sp_vcpu_trap *out)
{
    const struct sp_vcpu_ctrl *c = h->ctrl;
    out->kind = c->kind;
    out->signo = c->signo;
    out->code = c->code;
    out->error = c->error;
    out->arch = c->arch;
    out->op_index = c->op_index;
    out->nr = c->nr;
    memcpy(out->args, c->args, sizeof(out->args));
    out->addr = c->addr;
    memcpy(out->regs, c->regs, sizeof(out->regs));
}

int sp_vcpu_wait(struct sp_vcpu_host *h, int timeout_ms, struct sp_vcpu_trap *out)
{
    volatile unsigned int *state = &h->ctrl->state;
    if (h->exited || (!h->running && h->pid <= 0)) {
        memset(out, 0, sizeof(*out));
        out->kind = SP_TRAP_EXITED;
        out->code = h->status;
        return -ESRCH;
    }
    if (!h->running) {
        collect(h, out);
        return 0;
    }
    for (int i = 0; i < h->spins; i++) {
        if (__atomic_load_n(state, __ATOMIC_ACQUIRE) == SP_VCPU_STATE_TRAPPED)
            goto trapped;
        __builtin_ia32_pause();
    }
    long long deadline = timeout_ms < 0 ? LLONG_MAX : now_ns() + timeout_ms * 1000000LL;
    while (__atomic_load_n(state, __ATOMIC_ACQUIRE) != SP_VCPU_STATE_TRAPPED) {
        long long left = deadline - now_ns();
        if (left <= 0)
            return -ETIMEDOUT;
        if (left > WAIT_SLICE_MS * 1000000LL)
            left = WAIT_SLICE_MS * 1000000LL;
        struct timespec slice = {left / 1000000000LL, left % 1000000000LL};
        if (syscall(SYS_futex, state, FUTEX_WAIT, SP_VCPU_STATE_RUN, &slice, NULL, 0) != 0) {
            if (errno == EINTR)
                return -EINTR;
            if (errno == ETIMEDOUT && host_gone(h)) {
                memset(out, 0, sizeof(*out));
                out->kind = SP_TRAP_EXITED;
                out->code = h->status;
                return -ESRCH;
            }
        }
    }
trapped:
    h->running = 0;
    collect(h, out);
    return 0;
}

int sp_vcpu_resume(struct sp_vcpu_host *h, const unsigned long long *regs, int timeout_ms,
                   struct sp_vcpu_trap *out)
{
    if (h->exited)
        return sp_vcpu_wait(h, 0, out);
    if (h->running)
        return -EBUSY;
    if (regs)
        memcpy(h->ctrl->regs, regs, sizeof(h->ctrl->regs));
    h->running = 1;
    __atomic_store_n(&h->ctrl->state, SP_VCPU_STATE_RUN, __ATOMIC_RELEASE);
    futex_wake(&h->ctrl->state);
    return sp_vcpu_wait(h, timeout_ms, out);
}

int sp_vcpu_queue(struct sp_vcpu_host *h, const struct sp_vcpu_op *op)
{
    if (h->running || h->exited)
        return -EBUSY;
    if (h->ctrl->nops >= SP_VCPU_MAX_OPS)
        return -ENOSPC;
    h->ctrl->ops[h->ctrl->nops++] = *op;
    return 0;
}

int sp_vcpu_send_fd(struct sp_vcpu_host *h, int fd, int slot)
{
    if (slot < 0 || slot >= SP_VCPU_MAX_FDS)
        return -EINVAL;
    struct sp_vcpu_op op = {.kind = SP_VCPU_OP_RECV_FD, .slot = slot};
    if (h->running || h->exited)
        return -EBUSY;
    if (h->ctrl->nops >= SP_VCPU_MAX_OPS)
        return -ENOSPC;
    char byte = 0;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    if (sendmsg(h->sock, &msg, MSG_NOSIGNAL) != 1)
        return -errno;
    return sp_vcpu_queue(h, &op);
}

int sp_vcpu_pid(struct sp_vcpu_host *h)
{
    return h->pid;
}

void sp_vcpu_stop(struct sp_vcpu_host *h)
{
    if (!h)
        return;
    if (h->pid > 0 && !h->exited) {
        if (h->pidfd >= 0) {
            syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
            siginfo_t info;
            while (syscall(SYS_waitid, P_PIDFD, h->pidfd, &info, WEXITED, NULL) != 0 &&
                   errno == EINTR)
                ;
        } else {
            kill(h->pid, SIGKILL);
            while (waitpid(h->pid, NULL, __WALL) < 0 && errno == EINTR)
                ;
        }
    }
    if (h->pidfd >= 0)
        close(h->pidfd);
    if (h->sock >= 0)
        close(h->sock);
    if (h->region)
        munmap(h->region, SP_VCPU_TOTAL);
    free(h);
}

struct sp_vcpu_host *sp_vcpu_start(const void *filter, unsigned int filter_len, int protect,
                                   int cpu, int *error)
{
    int err = 0, memfd = -1, sv[2] = {-1, -1};
    struct sp_vcpu_host *h = NULL;
    if (filter_len == 0 || filter_len > 4096 ||
        (protect != SP_PROTECT_NONE && protect != SP_PROTECT_MPROTECT)) {
        err = -EINVAL;
        goto fail;
    }
    h = calloc(1, sizeof(*h));
    if (!h) {
        err = -ENOMEM;
        goto fail;
    }
    h->pidfd = h->sock = -1;
    memfd = (int)syscall(SYS_memfd_create, "splitpriv-vcpu", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, (off_t)SP_VCPU_TOTAL) != 0) {
        err = -errno;
        goto fail;
    }
    h->region = mmap(NULL, SP_VCPU_TOTAL, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (h->region == MAP_FAILED) {
        h->region = NULL;
        err = -errno;
        goto fail;
    }
    memcpy(h->region, sp_vcpu_blob, sizeof(sp_vcpu_blob));
    struct sp_vcpu_config *config = (struct sp_vcpu_config *)(h->region + SP_VCPU_CONFIG_OFF);
    config->protect = (unsigned int)protect;
    /* Spinning only helps when the other side runs on another CPU at the same time; pinned
     * to one CPU with its supervisor, a spinning host only delays the answer it waits for. */
    config->spins = cpu >= 0 ? 0 : HOST_SPINS;
    h->spins = cpu >= 0 ? 0 : SUPERVISOR_SPINS;
    h->ctrl = (struct sp_vcpu_ctrl *)(h->region + SP_VCPU_CODE_SIZE);
    h->ctrl->filter_len = filter_len;
    memcpy(h->ctrl->filter, filter, (size_t)filter_len * 8);
    for (int i = 0; i < SP_VCPU_MAX_FDS; i++)
        h->ctrl->fds[i] = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        err = -errno;
        goto fail;
    }
    pid_t parent = getpid();
    h->running = 1; /* until the boot trap */
    h->pid = fork();
    if (h->pid < 0) {
        err = -errno;
        goto fail;
    }
    if (h->pid == 0)
        child_main(memfd, sv[1], parent, cpu);
    close(sv[1]);
    sv[1] = -1;
    close(memfd);
    memfd = -1;
    h->sock = sv[0];
    h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
    if (h->pidfd < 0) {
        err = -errno;
        goto fail;
    }
    struct sp_vcpu_trap trap;
    int rc = sp_vcpu_wait(h, BOOT_TIMEOUT_MS, &trap);
    if (rc != 0 || trap.kind != SP_TRAP_BOOT) {
        err = rc == -ESRCH ? -ECHILD : rc != 0 ? rc : -EPROTO;
        goto fail;
    }
    return h;
fail:
    if (memfd >= 0)
        close(memfd);
    if (sv[1] >= 0)
        close(sv[1]);
    if (h && h->sock < 0 && sv[0] >= 0)
        close(sv[0]);
    sp_vcpu_stop(h);
    *error = err;
    return NULL;
}

long long sp_vcpu_bench(struct sp_vcpu_host **hosts, int n, unsigned long long *regs,
                        const struct sp_vcpu_op *ops, const unsigned int *op_start,
                        unsigned long long rounds, unsigned long long yield_nr)
{
    struct sp_vcpu_trap trap;
    long long start = now_ns();
    for (unsigned long long r = 0; r < rounds; r++) {
        for (int i = 0; i < n; i++) {
            for (unsigned int k = op_start[i]; k < op_start[i + 1]; k++) {
                int rc = sp_vcpu_queue(hosts[i], &ops[k]);
                if (rc < 0)
                    return rc;
            }
            int rc = sp_vcpu_resume(hosts[i], regs + (size_t)i * SP_VCPU_NREGS, -1, &trap);
            if (rc < 0)
                return rc;
            if (trap.kind != SP_TRAP_SYSCALL || trap.nr != yield_nr)
                return -EPROTO;
            memcpy(regs + (size_t)i * SP_VCPU_NREGS, trap.regs, sizeof(trap.regs));
            regs[(size_t)i * SP_VCPU_NREGS + 13] = 0; /* REG_RAX: yield returns 0 */
        }
    }
    return now_ns() - start;
}
