/* fork_wait: fork(); the child calls getpid and _exit(7); the parent
 * wait4()s it and prints "child exited 7\n"; exit 0. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char msg[64];
    int status = 0;
    int len;
    pid_t pid = fork();

    if (pid < 0)
        return 1;
    if (pid == 0) {
        syscall(SYS_getpid);
        _exit(7);
    }
    if (wait4(pid, &status, 0, NULL) != pid)
        return 1;
    if (WIFEXITED(status))
        len = snprintf(msg, sizeof msg, "child exited %d\n", WEXITSTATUS(status));
    else
        len = snprintf(msg, sizeof msg, "child status 0x%x\n", (unsigned)status);
    syscall(SYS_write, 1, msg, (size_t)len);
    return WIFEXITED(status) ? 0 : 1;
}
