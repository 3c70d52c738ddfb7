/* notsc MS N: getppid for MS milliseconds, then turn the TSC off for this thread
 * (prctl PR_SET_TSC, PR_TSC_SIGSEGV: RDTSC faults from now on), then N more getppid calls;
 * print "notsc ok" and exit 0. A tracer whose code reads the TSC inside the process (the
 * stub's timestamps) must notice the prctl and stop reading it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long monotonic_ns(void)
{
    struct timespec ts;

    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts); /* the vDSO would read the TSC */
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long long ms = argc > 1 ? atoll(argv[1]) : 30;
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    long long end = monotonic_ns() + ms * 1000000LL;

    while (monotonic_ns() < end)
        syscall(SYS_getppid);
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0) {
        perror("prctl(PR_SET_TSC)");
        return 2;
    }
    for (int i = 0; i < n; i++)
        syscall(SYS_getppid);
    printf("notsc ok\n");
    return 0;
}
