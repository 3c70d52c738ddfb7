/* report OP [PATH]: make one syscall and print what it returned:
 *   "<OP> ret=<value> errno=<errno, or 0 on success>\n"
 * OP is one of getppid, getpid, getuid, openat PATH, mkdir PATH, kill0.
 * After the call under test the only syscalls are write and exit_group
 * (kill0 does getpid, then kill(pid, 0)). Exit 0; usage errors exit 2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void out(const char *s)
{
    syscall(SYS_write, 2, s, strlen(s));
}

int main(int argc, char **argv)
{
    const char *op = argc > 1 ? argv[1] : "";
    const char *path = argc > 2 ? argv[2] : NULL;
    long ret;
    int err;
    char msg[128];

    if (strcmp(op, "openat") == 0 || strcmp(op, "mkdir") == 0) {
        if (path == NULL) {
            out("usage: report openat|mkdir PATH\n");
            return 2;
        }
    }
    errno = 0;
    if (strcmp(op, "getppid") == 0) {
        ret = syscall(SYS_getppid);
    } else if (strcmp(op, "getpid") == 0) {
        ret = syscall(SYS_getpid);
    } else if (strcmp(op, "getuid") == 0) {
        ret = syscall(SYS_getuid);
    } else if (strcmp(op, "openat") == 0) {
        ret = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    } else if (strcmp(op, "mkdir") == 0) {
        ret = syscall(SYS_mkdirat, AT_FDCWD, path, 0700);
    } else if (strcmp(op, "kill0") == 0) {
        long pid = syscall(SYS_getpid);
        errno = 0;
        ret = syscall(SYS_kill, pid, 0);
    } else {
        out("usage: report getppid|getpid|getuid|kill0|openat PATH|mkdir PATH\n");
        return 2;
    }
    err = ret == -1 ? errno : 0;
    int len = snprintf(msg, sizeof msg, "%s ret=%ld errno=%d\n", op, ret, err);
    syscall(SYS_write, 1, msg, (size_t)len);
    return 0;
}
