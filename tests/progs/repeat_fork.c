/* repeat_fork N: one call over and over around a signal and a fork, for the trace runner's
 * repeats of a printed line (its prefix changes when a child shows and when it goes).
 * getuid N times; SIGUSR1 to itself (handled); getuid N times; fork a child that calls
 * getuid N times and _exit(3)s; the parent calls getuid N times meanwhile, waits for the
 * child, and calls getuid N times more; exit 0. */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_usr1(int sig)
{
    (void)sig;
}

static void repeat(long n)
{
    for (long i = 0; i < n; i++)
        syscall(SYS_getuid);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100;
    int status = 0;

    signal(SIGUSR1, on_usr1);
    repeat(n);
    syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
    repeat(n);
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        repeat(n);
        _exit(3);
    }
    repeat(n);
    if (waitpid(pid, &status, 0) != pid)
        return 1;
    repeat(n);
    return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? 0 : 1;
}
