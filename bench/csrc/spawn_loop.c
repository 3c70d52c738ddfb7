/* spawn_loop N PROGRAM ARGS...: N times fork, execv PROGRAM in the child, waitpid for it; exit 0,
 * or 1 at the first child that fails. The tracee of the process_creation benchmark. Built with
 * gcc -O2 by splitpriv.benchmarks. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = strtol(argv[1], NULL, 10);

    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            execv(argv[2], argv + 2);
            _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 1;
    }
    return 0;
}
