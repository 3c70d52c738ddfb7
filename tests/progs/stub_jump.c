/*
 * stub_jump.c - a hostile tracee that jumps into the stub's code to make a call from there.
 *
 * usage: stub_jump allowed|denied|sigsys|seccomp|prctl-seccomp|own
 * It sets the registers for one call and jumps to the `syscall` instruction of the stub's
 * signal restorer (csrc/stub/entry.S: offset 16 is `mov $15, %eax` (5 bytes), then `syscall`,
 * then `ud2`), skipping the mov. If the call is let through it returns to the `ud2`, and this
 * program's SIGILL handler prints the result ("returned N") and exits 0. If the filter refuses
 * it, the process is killed by SIGSYS.
 *   allowed  getppid, which the test's policy allows
 *   denied   getppid, which the test's policy denies: must be killed
 *   sigsys   rt_sigaction(SIGSYS, SIG_DFL): taking the entry point away: must be killed
 *   seccomp  seccomp(SECCOMP_SET_MODE_STRICT): must be killed
 *   prctl-seccomp  prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT): must be killed
 *   own      getpid: one of the stub's own calls, let through even if the policy emulates it
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define STUB_SYSCALL_INSN 0x6e0000000015ULL /* SP_STUB_CODE_ADDR + 16 + 5 */

static void on_sigill(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    long ret = (long)((ucontext_t *)context)->uc_mcontext.gregs[REG_RAX];
    char line[64];
    int n = snprintf(line, sizeof(line), "returned %ld\n", ret);
    write(1, line, (size_t)n);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGILL, &sa, NULL);
    long nr = SYS_getppid;
    unsigned long long a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    static unsigned long long dfl[4]; /* a kernel sigaction: SIG_DFL, no flags */
    if (strcmp(argv[1], "sigsys") == 0) {
        nr = SYS_rt_sigaction;
        a0 = SIGSYS;
        a1 = (unsigned long long)dfl;
        a3 = 8;
    } else if (strcmp(argv[1], "seccomp") == 0) {
        nr = SYS_seccomp;
        a0 = 0; /* SECCOMP_SET_MODE_STRICT */
    } else if (strcmp(argv[1], "prctl-seccomp") == 0) {
        nr = SYS_prctl;
        a0 = 22; /* PR_SET_SECCOMP */
        a1 = 1;  /* SECCOMP_MODE_STRICT */
    } else if (strcmp(argv[1], "own") == 0) {
        nr = SYS_getpid;
    }
    register unsigned long long r10 __asm__("r10") = a3;
    __asm__ volatile("jmp *%4"
                     :
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(STUB_SYSCALL_INSN), "r"(r10)
                     : "memory");
    return 3; /* not reached: the ud2 after the syscall raises SIGILL */
}
