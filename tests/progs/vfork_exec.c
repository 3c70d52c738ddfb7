/* vfork_exec PROG [ARGS...]: vfork, the child execve()s PROG with argv
 * PROG ARGS... (no PATH search); the parent waits and exits with the
 * child's exit code (128+signal if it was killed, 127 if execve failed). */
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    int status = 0;
    pid_t pid;

    if (argc < 2)
        return 2;
    pid = vfork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        execve(argv[1], argv + 1, environ);
        _exit(127);
    }
    if (wait4(pid, &status, 0, NULL) != pid)
        return 1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}
