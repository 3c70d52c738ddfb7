/*
 * hide_mprotect.c - the privileged side hidden in the same address space by mprotect, as
 * User-Mode Linux's tt mode did (the seed's "huge performance penalty").
 *
 * usage: hide_mprotect PAGES N
 * Every getppid traps (seccomp RET_TRAP) to a SIGSYS handler in this process: the "kernel".
 * With PAGES > 0 the kernel's memory is PAGES populated pages kept PROT_NONE while the
 * "user" runs: the handler opens it (mprotect RW), touches it, and closes it again before it
 * returns. Prints the nanoseconds per call. PAGES = 0 is the trap alone.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static char *kernel_memory;
static size_t kernel_size;

static void handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    if (kernel_size) {
        mprotect(kernel_memory, kernel_size, PROT_READ | PROT_WRITE);
        kernel_memory[0]++;
        mprotect(kernel_memory, kernel_size, PROT_NONE);
    }
    ((ucontext_t *)context)->uc_mcontext.gregs[REG_RAX] = 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hide_mprotect PAGES N\n");
        return 2;
    }
    long pages = atol(argv[1]), n = atol(argv[2]);
    kernel_size = (size_t)pages * 4096;
    if (kernel_size) {
        kernel_memory = mmap(NULL, kernel_size, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (kernel_memory == MAP_FAILED)
            return 1;
        memset(kernel_memory, 1, kernel_size); /* populated: mprotect walks real page tables */
        mprotect(kernel_memory, kernel_size, PROT_NONE);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSYS, &sa, NULL);
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
        perror("seccomp");
        return 1;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getppid) != 1)
            return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.1f\n", ns / (double)n);
    return 0;
}
