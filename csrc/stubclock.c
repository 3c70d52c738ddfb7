/*
 * stubclock.c - the clock the injected stubs read instead of making a syscall (struct
 * sp_stub_clock in stub_abi.h): a mapping from the TSC to CLOCK_REALTIME that the drainer
 * thread keeps fresh.
 *
 * Only where the TSC can stand in for the kernel's clock: the TSC is the clocksource (so it is
 * synchronised across CPUs) and it is invariant. The rate is measured against CLOCK_MONOTONIC
 * from the first session of the process (the TSC's rate does not change), and published once
 * that span is 2 ms long; the base is re-taken at every refresh (1 ms), so an error in the
 * rate only ever spans one refresh: at 2 ms, some tens of ns, far less than the time between
 * one call's exit and the next call's entry. Until then, or where the TSC will not do, `valid`
 * stays 0 and the stubs make the clock_gettime syscall. This file never touches a tracee.
 */
#include "engine_internal.h"
#include "stub_abi.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The TSC can stand in for the kernel's clock where the kernel itself reads it that way: TSC
 * is the clocksource (so it is synchronised across CPUs) and it runs at a constant rate. */
static int tsc_is_the_clock(void)
{
    char source[32] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (f) {
        if (!fgets(source, sizeof(source), f))
            source[0] = 0;
        fclose(f);
    }
    if (strcmp(source, "tsc\n") != 0)
        return 0;
    int constant = 0, nonstop = 0;
    char line[4096];
    f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "flags", 5) == 0) {
            constant = strstr(line, " constant_tsc") != NULL;
            nonstop = strstr(line, " nonstop_tsc") != NULL;
            break;
        }
    }
    if (f)
        fclose(f);
    return constant && nonstop;
}

static unsigned long long read_tsc(void)
{
    unsigned int lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (unsigned long long)hi << 32 | lo;
}

static long long ns_of(const struct timespec *ts) { return ts->tv_sec * 1000000000LL + ts->tv_nsec; }

/* The TSC and the two clocks, read as close together as we can: a sample this thread was
 * preempted in the middle of (the VMs here are busy) would put the TSC microseconds away from
 * the clocks, and the rate or the base with it. So the tightest of a few tries. */
enum { SAMPLE_TRIES = 5, SAMPLE_TIGHT_TICKS = 2000 };

static struct sp_clock_sample sample_clocks(void)
{
    struct sp_clock_sample best = {0, 0, 0};
    unsigned long long best_window = ~0ull;
    for (int i = 0; i < SAMPLE_TRIES && best_window > SAMPLE_TIGHT_TICKS; i++) {
        struct timespec real, mono;
        unsigned long long before = read_tsc();
        clock_gettime(CLOCK_REALTIME, &real);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        unsigned long long after = read_tsc();
        if (after - before < best_window) {
            best_window = after - before;
            best = (struct sp_clock_sample){before + (after - before) / 2, ns_of(&real),
                                            ns_of(&mono)};
        }
    }
    return best;
}

enum { CLOCK_CALIBRATED_NS = 2000000, CLOCK_REFRESH_NS = 1000000 };

/* Taken once per process: whether the TSC will do, and the first sample, which every later
 * session's rate is measured from (so a later session's stubs have the TSC from the start). */
static pthread_once_t process_clock_once = PTHREAD_ONCE_INIT;
static int process_tsc_ok;
static struct sp_clock_sample process_first;

static void take_process_clock(void)
{
    process_tsc_ok = tsc_is_the_clock();
    process_first = sample_clocks();
}

void sp_clock_keeper_init(struct sp_clock_keeper *k)
{
    pthread_once(&process_clock_once, take_process_clock);
    k->enabled = process_tsc_ok;
    k->first = process_first;
    k->last = (struct sp_clock_sample){0, 0, 0}; /* the first tick publishes, when it can */
}

/* Publish a fresh mapping, at most every CLOCK_REFRESH_NS: the rate from CLOCK_MONOTONIC over
 * the whole time since the first sample (the longer, the more exact; realtime may be stepped),
 * the base from CLOCK_REALTIME now. */
void sp_clock_keeper_tick(struct sp_clock_keeper *k, struct sp_stub_clock *c)
{
    if (!k->enabled)
        return;
    struct sp_clock_sample now = sample_clocks();
    if (now.mono_ns - k->last.mono_ns < CLOCK_REFRESH_NS)
        return;
    k->last = now;
    long long span_ns = now.mono_ns - k->first.mono_ns;
    if (span_ns < CLOCK_CALIBRATED_NS || now.tsc <= k->first.tsc)
        return;
    unsigned long long mult =
        (unsigned long long)(((unsigned __int128)span_ns << 32) / (now.tsc - k->first.tsc));
    __atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    c->base_tsc = now.tsc;
    c->base_ns = now.real_ns;
    c->mult = mult;
    __atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
    c->valid = 1;
}
