/*
 * sigsys_floor MODE N [FILE]: the floor of the stub mechanisms (`seccomp-trap`, `sud`) for one
 * call.
 * Calls getppid N times through the raw syscall, as getppid_loop does, with every call trapped
 * to a minimal SIGSYS handler in this process, which writes the answer into the saved RAX and
 * returns: no supervisor, no rule table, no syscall in the handler. Exits 0 when every call
 * trapped and got the answer, 1 otherwise (so a run that did not trap cannot pass for a fast
 * floor). With FILE, it also writes the nanoseconds the loop took (as getppid_timed does).
 *
 * MODE
 *   seccomp  NO_NEW_PRIVS and a seccomp filter: not x86_64 -> KILL_PROCESS, getppid -> RET_TRAP,
 *            everything else allowed (the trap `seccomp-trap` takes).
 *   sud      Syscall User Dispatch (PR_SET_SYSCALL_USER_DISPATCH) with a selector byte; the
 *            allowed range is our own sigreturn restorer, as the stub's code range is for the
 *            stub (the trap `sud` takes). The handler flips the selector to ALLOW on entry and
 *            back to BLOCK on exit, as the stub does, around nothing.
 *
 * The answer is the real parent pid, read before trapping starts, so the program's result does
 * not change; the stub's "allow" makes the real call instead (one more syscall per trap).
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_ON
#define PR_SYS_DISPATCH_ON 1
#define PR_SYS_DISPATCH_OFF 0
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#define SA_RESTORER_FLAG 0x04000000

static volatile char selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile long traps;
static long answer;

/* Our own rt_sigreturn, in a section of its own: under SUD it is the only code whose syscalls
 * are never dispatched (libc's restorer would trap, and the handler's return with it). */
void floor_restorer(void);
__asm__(".pushsection .text.floor_restorer,\"ax\",@progbits\n"
        ".globl floor_restorer\n"
        "floor_restorer:\n"
        "    mov $15, %eax\n" /* SYS_rt_sigreturn */
        "    syscall\n"
        "    ud2\n" /* the kernel checks the address after `syscall`: keep it in the range */
        "floor_restorer_end:\n"
        ".popsection\n");
extern const char floor_restorer_end[];

static void on_sigsys(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    (void)sig;
    (void)info;
    selector = SYSCALL_DISPATCH_FILTER_ALLOW;
    traps++;
    uc->uc_mcontext.gregs[REG_RAX] = answer;
    selector = SYSCALL_DISPATCH_FILTER_BLOCK;
}

/* rt_sigaction directly: libc's sigaction would put its own restorer in. */
static int install_handler(void)
{
    struct {
        void (*handler)(int, siginfo_t *, void *);
        unsigned long flags;
        void (*restorer)(void);
        unsigned long mask;
    } sa = {on_sigsys, SA_SIGINFO | SA_RESTORER_FLAG, floor_restorer, 0};
    return (int)syscall(SYS_rt_sigaction, SIGSYS, &sa, NULL, sizeof(sa.mask));
}

static int trap_getppid_with_seccomp(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* CLOCK_MONOTONIC through the vDSO: no syscall, so nothing traps. */
static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_ns(const char *path, long long ns)
{
    FILE *out = fopen(path, "w");
    return out && fprintf(out, "%lld\n", ns) >= 0 && fclose(out) == 0 ? 0 : -1;
}

static int arm_sud(void)
{
    unsigned long start = (unsigned long)floor_restorer;
    unsigned long len = (unsigned long)floor_restorer_end - start;
    return prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, start, len, &selector);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "seccomp") != 0 && strcmp(argv[1], "sud") != 0)) {
        fprintf(stderr, "usage: sigsys_floor seccomp|sud N [FILE]\n");
        return 2;
    }
    int sud = strcmp(argv[1], "sud") == 0;
    long n = strtol(argv[2], NULL, 10);
    answer = syscall(SYS_getppid);
    if (install_handler() != 0 || (sud ? arm_sud() : trap_getppid_with_seccomp()) != 0) {
        perror(sud ? "sigsys_floor: Syscall User Dispatch" : "sigsys_floor: seccomp");
        return 3;
    }
    long wrong = 0;
    long long t0 = now_ns();
    /* Under SUD every syscall traps while the selector says BLOCK: only the loop's. */
    selector = SYSCALL_DISPATCH_FILTER_BLOCK;
    for (long i = 0; i < n; i++)
        wrong += syscall(SYS_getppid) != answer;
    selector = SYSCALL_DISPATCH_FILTER_ALLOW;
    long long elapsed = now_ns() - t0;
    if (argc == 4 && write_ns(argv[3], elapsed) != 0) {
        perror("sigsys_floor");
        return 3;
    }
    return wrong == 0 && traps == n ? 0 : 1;
}
