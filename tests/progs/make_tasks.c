/* make_tasks: a new task made every way the stub mechanisms tell apart, each of which calls
 * getppid once and ends; the parent prints "KIND PID" for each, then "done".
 * - fork:   the fork syscall (the child runs on a copy of everything);
 * - clone:  glibc's fork(), a clone without a new stack;
 * - vfork:  vfork() (the child borrows its parent's stack and memory);
 * - spawn:  posix_spawn, a CLONE_VM|CLONE_VFORK clone3 on a stack of its own, running
 *           "ARGV0 child";
 * - vclone: glibc's clone() with CLONE_VM|CLONE_VFORK and a new stack;
 * - thread: pthread_create (clone3 of a thread), twice.
 * "make_tasks child" is what spawn runs: getppid, exit 0. */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *thread_main(void *arg)
{
    syscall(SYS_getppid);
    return arg;
}

static int vclone_main(void *arg)
{
    syscall(SYS_getppid);
    _exit(0);
    return *(int *)arg;
}

static void reaped(const char *kind, pid_t pid)
{
    int status = -1;
    waitpid(pid, &status, 0);
    printf("%s %d\n", kind, (int)pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        printf("%s failed: %#x\n", kind, status);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        syscall(SYS_getppid);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pid_t pid = (pid_t)syscall(SYS_fork);
    if (pid == 0) {
        syscall(SYS_getppid);
        _exit(0);
    }
    reaped("fork", pid);
    pid = fork();
    if (pid == 0) {
        syscall(SYS_getppid);
        _exit(0);
    }
    reaped("clone", pid);
    pid = vfork();
    if (pid == 0) {
        syscall(SYS_getppid);
        _exit(0);
    }
    reaped("vfork", pid);
    char *child_argv[] = {argv[0], "child", NULL};
    if (posix_spawn(&pid, argv[0], NULL, NULL, child_argv, environ) != 0)
        return 1;
    reaped("spawn", pid);
    static char stack[64 * 1024] __attribute__((aligned(16)));
    int unused = 0;
    pid = clone(vclone_main, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &unused);
    reaped("vclone", pid);
    for (int i = 0; i < 2; i++) {
        pthread_t thread;
        pthread_create(&thread, NULL, thread_main, NULL);
        pthread_join(thread, NULL);
    }
    printf("done\n");
    return 0;
}
