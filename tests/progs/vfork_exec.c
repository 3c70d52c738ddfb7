/* vfork_exec PROG [ARGS...]: vfork, the child execve()s PROG with argv
 * PROG ARGS...; the parent waits and exits with the child's exit code
 * (128+signal if it was killed, 127 if execve failed). A PROG without a
 * slash is looked for along $PATH as execvp does, one execve per
 * directory until one succeeds: back-to-back failed execs from a vfork
 * child, as Python's subprocess makes them. */
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void exec_along_path(char **argv)
{
    const char *path = getenv("PATH");
    char full[4096];
    size_t name_len = strlen(argv[0]);
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t dir_len = end ? (size_t)(end - path) : strlen(path);
        if (dir_len + 1 + name_len < sizeof full) {
            memcpy(full, path, dir_len);
            full[dir_len] = '/';
            memcpy(full + dir_len + 1, argv[0], name_len + 1);
            execve(full, argv, environ);
        }
        path = end ? end + 1 : NULL;
    }
}

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
        if (strchr(argv[1], '/'))
            execve(argv[1], argv + 1, environ);
        else
            exec_along_path(argv + 1);
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
