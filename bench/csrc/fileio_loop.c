/* fileio_loop N PATH: N times open PATH read-only, read up to 4 KiB, close it; print nothing,
 * exit 0 (1 at the first failure). The tracee of the file_io benchmark (3 syscalls per
 * iteration: openat, read, close). Built with gcc -O2 by splitpriv.benchmarks. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = strtol(argv[1], NULL, 10);
    static char buf[4096];

    for (long i = 0; i < n; i++) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0)
            return 1;
        if (read(fd, buf, sizeof(buf)) < 0)
            return 1;
        close(fd);
    }
    return 0;
}
