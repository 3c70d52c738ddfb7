/* sleeper [SECONDS]: print "<pid>\n", then sleep up to SECONDS (default 30,
 * fractions allowed) in a loop of raw nanosleep calls of at most 100 ms,
 * so a tracer attaching at any time sees syscalls soon; exit 0. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 30.0;
    double deadline = now() + secs;
    char msg[32];
    int n = snprintf(msg, sizeof msg, "%ld\n", (long)syscall(SYS_getpid));

    syscall(SYS_write, 1, msg, (size_t)n);
    for (;;) {
        double left = deadline - now();
        struct timespec ts;

        if (left <= 0)
            break;
        if (left > 0.1)
            left = 0.1;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(left * 1e9);
        syscall(SYS_nanosleep, &ts, NULL);
    }
    return 0;
}
