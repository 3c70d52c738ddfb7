/*
 * altstack.c - signal stacks under a tracer that brings its own.
 *
 * usage: altstack tiny|own
 *   tiny  make getppid with 256 bytes of stack left above an inaccessible page: a signal frame
 *         cannot fit there, so a SIGSYS handler that ran on this stack would kill the process.
 *         Prints "tiny ok".
 *   own   print what sigaltstack reports before the program sets one ("disabled" expected),
 *         then set its own, and check that a SA_ONSTACK handler runs on it. Prints
 *         "before: disabled", "after: mine", "handler on mine".
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static char own_stack[65536];
static volatile int on_mine;

static void on_usr1(int sig)
{
    char here;
    (void)sig;
    on_mine = &here >= own_stack && &here < own_stack + sizeof(own_stack);
}

static long getppid_on(char *stack_top)
{
    long ret;
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %2, %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     : "=a"(ret)
                     : "0"((long)SYS_getppid), "r"(stack_top)
                     : "rcx", "r11", "r12", "memory");
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    if (strcmp(argv[1], "tiny") == 0) {
        char *pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED || mprotect(pages, 4096, PROT_NONE) != 0)
            return 1;
        long ret = getppid_on(pages + 4096 + 256);
        printf("tiny %s\n", ret == getppid() ? "ok" : "wrong");
        return 0;
    }
    stack_t seen;
    if (sigaltstack(NULL, &seen) != 0)
        return 1;
    printf("before: %s\n", seen.ss_flags & SS_DISABLE ? "disabled" : "enabled");
    stack_t mine = {.ss_sp = own_stack, .ss_size = sizeof(own_stack), .ss_flags = 0};
    if (sigaltstack(&mine, NULL) != 0 || sigaltstack(NULL, &seen) != 0)
        return 1;
    printf("after: %s\n", seen.ss_sp == own_stack ? "mine" : "other");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler %s\n", on_mine ? "on mine" : "elsewhere");
    return 0;
}
