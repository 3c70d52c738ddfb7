/* open_read_close PATH: openat(AT_FDCWD, PATH, O_RDONLY), read 64 bytes,
 * close, then write(1, ...) the bytes read; exit 0.
 * If the open fails: print "errno=<N>\n" and exit 1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char buf[64];
    char msg[64];
    const char *path = argc > 1 ? argv[1] : "";
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);

    if (fd < 0) {
        int len = snprintf(msg, sizeof msg, "errno=%d\n", errno);
        syscall(SYS_write, 1, msg, (size_t)len);
        return 1;
    }
    long n = syscall(SYS_read, fd, buf, sizeof buf);
    syscall(SYS_close, fd);
    if (n > 0)
        syscall(SYS_write, 1, buf, (size_t)n);
    return 0;
}
