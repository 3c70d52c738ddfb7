/* exec_chain N: if N > 0, execve("/proc/self/exe", [argv0, N-1]);
 * when N == 0 (the default), call getppid and exit 3. No output. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

    if (n > 0) {
        char next[32];
        char *args[] = {argv[0], next, NULL};

        snprintf(next, sizeof next, "%ld", n - 1);
        execve("/proc/self/exe", args, environ);
        return 127;
    }
    syscall(SYS_getppid);
    return 3;
}
