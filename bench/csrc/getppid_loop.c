/* getppid_loop N [EXPECT]: call getppid N times through the raw syscall (no libc caching, no
 * vDSO), print nothing, exit 0. With EXPECT, exit 1 at the first result that differs: the
 * benchmark uses it to check that an emulated getppid really was answered by the tracer.
 * The tracee of bench/null_syscall; built with gcc -O2 by splitpriv.benchmarks. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    long expect = argc > 2 ? strtol(argv[2], NULL, 10) : -1;

    for (long i = 0; i < n; i++) {
        long r = syscall(SYS_getppid);
        if (expect >= 0 && r != expect)
            return 1;
    }
    return 0;
}
