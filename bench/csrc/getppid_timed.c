/*
 * getppid_timed N FILE: getppid_loop's loop (N raw getppid calls), timed by the program itself:
 * it writes the nanoseconds the loop took, CLOCK_MONOTONIC read through the vDSO (no syscall,
 * so nothing a tracer sees), to FILE as decimal text. Exits 0.
 *
 * The per-call cost the traced program pays, without its launch or the supervisor's set-up and
 * tear-down: bench/stub_actions' loop/ peers divide it by N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: getppid_timed N FILE\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    long long t0 = now_ns();
    for (long i = 0; i < n; i++)
        syscall(SYS_getppid);
    long long elapsed = now_ns() - t0;
    FILE *out = fopen(argv[2], "w");
    if (!out || fprintf(out, "%lld\n", elapsed) < 0 || fclose(out) != 0) {
        perror("getppid_timed");
        return 3;
    }
    return 0;
}
