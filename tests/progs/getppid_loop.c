/* getppid_loop [N]: call getppid N times (default 1000) through the raw
 * syscall, print nothing, exit 0. Also built statically as
 * getppid_loop_static. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = 1000;

    if (argc > 1)
        n = strtol(argv[1], NULL, 10);
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    return 0;
}
