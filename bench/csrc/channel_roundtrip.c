/*
 * channel_roundtrip MODE N [FILE]: N round trips over the channel the stub's "ask" action uses,
 * between two processes on one CPU, nothing else: the floor of the ask path's communication.
 *
 * The parent plays the supervisor's engine thread, the child the stub in a tracee; they share
 * one anonymous MAP_SHARED page holding the ask's state word (csrc/stub_abi.h: IDLE, ASKED,
 * ANSWERED). Both run on the last allowed CPU, as a session with cpu="same" places its engine
 * thread and the tracee (the stub then sleeps at once: spinning would only keep the engine off
 * the CPU, so ask_spins is 0 there).
 *
 * MODE
 *   signal  what csrc/stub/stub.c and csrc/stubhost.c do: the child sets ASKED and wakes the
 *           parent with tgkill (SIGRTMIN+5, blocked except inside ppoll, as the engine does;
 *           ppoll also watches a pidfd of the child), then sleeps on the state word with
 *           FUTEX_WAIT; the parent answers ANSWERED and FUTEX_WAKEs it.
 *   futex   the same with a FUTEX_WAKE instead of the signal, the parent sleeping on the state
 *           word too: what the channel costs without the signal delivery.
 *
 * Exits 0 when every round trip was answered. With FILE, it also writes the nanoseconds the
 * child's N round trips took (as getppid_timed does for its loop).
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ASK_IDLE 0
#define ASK_ASKED 1
#define ASK_ANSWERED 2

struct channel {
    volatile int state;      /* ASK_*: a futex */
    volatile int done;       /* the child has made all its round trips */
    volatile int server_tid; /* where the child sends its wake signal */
    volatile long answered;  /* round trips the parent answered */
    long long elapsed_ns;    /* the child's N round trips */
};

static int wake_signal(void) { return SIGRTMIN + 5; } /* the engine's (csrc/engine.c) */

static void on_wake(int sig) { (void)sig; }

static long futex(volatile int *word, int op, int value, long timeout_ms)
{
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
    return syscall(SYS_futex, word, op, value, timeout_ms ? &ts : NULL, NULL, 0);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pin_last_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return;
    int last = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            last = cpu;
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* The stub's side (ask_supervisor in csrc/stub/stub.c, with ask_spins = 0). */
static void ask(struct channel *ch, int use_signal, pid_t server)
{
    __atomic_store_n(&ch->state, ASK_ASKED, __ATOMIC_SEQ_CST);
    if (use_signal)
        syscall(SYS_tgkill, server, ch->server_tid, wake_signal());
    else
        futex(&ch->state, FUTEX_WAKE, 1, 0);
    while (__atomic_load_n(&ch->state, __ATOMIC_ACQUIRE) == ASK_ASKED)
        futex(&ch->state, FUTEX_WAIT, ASK_ASKED, 100);
    ch->state = ASK_IDLE;
}

/* The engine's side (serve_asks in csrc/stubhost.c, for one slot). */
static void answer_if_asked(struct channel *ch)
{
    if (__atomic_load_n(&ch->state, __ATOMIC_ACQUIRE) != ASK_ASKED)
        return;
    ch->answered++;
    __atomic_store_n(&ch->state, ASK_ANSWERED, __ATOMIC_RELEASE);
    futex(&ch->state, FUTEX_WAKE, 1, 0);
}

/* The engine's wait (sp_stub_detached_loop): ppoll on a pidfd of the child, 50 ms at most,
 * with the wake signal unblocked only there, so one that comes meanwhile cuts the next short. */
static void serve_signal(struct channel *ch, pid_t child)
{
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    sigset_t wait_mask;
    sigprocmask(SIG_SETMASK, NULL, &wait_mask);
    sigdelset(&wait_mask, wake_signal());
    for (;;) {
        struct pollfd p = {pidfd, POLLIN, 0};
        struct timespec fifty_ms = {0, 50000000};
        int n = ppoll(&p, 1, &fifty_ms, &wait_mask);
        answer_if_asked(ch);
        if (n > 0 && (p.revents & POLLIN))
            break;
    }
    close(pidfd);
}

/* Sleep on the state word until it says ASKED: waiting for the value seen (IDLE, or ANSWERED
 * before the child has read its answer) never returns at once, so the parent does not spin. */
static void serve_futex(struct channel *ch)
{
    while (!__atomic_load_n(&ch->done, __ATOMIC_ACQUIRE)) {
        int seen = __atomic_load_n(&ch->state, __ATOMIC_ACQUIRE);
        if (seen != ASK_ASKED)
            futex(&ch->state, FUTEX_WAIT, seen, 50);
        answer_if_asked(ch);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (strcmp(argv[1], "signal") != 0 && strcmp(argv[1], "futex") != 0)) {
        fprintf(stderr, "usage: channel_roundtrip signal|futex N [FILE]\n");
        return 2;
    }
    int use_signal = strcmp(argv[1], "signal") == 0;
    long n = strtol(argv[2], NULL, 10);
    struct channel *ch = mmap(NULL, sizeof(*ch), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ch == MAP_FAILED) {
        perror("channel_roundtrip: mmap");
        return 3;
    }
    pin_last_cpu(); /* the child inherits it: one CPU for both */
    ch->server_tid = (int)syscall(SYS_gettid);
    struct sigaction sa = {.sa_handler = on_wake}; /* no SA_RESTART: ppoll must return */
    sigemptyset(&sa.sa_mask);
    sigaction(wake_signal(), &sa, NULL);
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal());
    sigprocmask(SIG_BLOCK, &wake, NULL);
    pid_t server = getpid();
    pid_t child = fork();
    if (child < 0) {
        perror("channel_roundtrip: fork");
        return 3;
    }
    if (child == 0) {
        long long t0 = now_ns();
        for (long i = 0; i < n; i++)
            ask(ch, use_signal, server);
        ch->elapsed_ns = now_ns() - t0;
        __atomic_store_n(&ch->done, 1, __ATOMIC_RELEASE);
        futex(&ch->state, FUTEX_WAKE, 1, 0);
        _exit(0);
    }
    if (use_signal)
        serve_signal(ch, child);
    else
        serve_futex(ch);
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;
    if (argc == 4) {
        FILE *out = fopen(argv[3], "w");
        if (!out || fprintf(out, "%lld\n", ch->elapsed_ns) < 0 || fclose(out) != 0) {
            perror("channel_roundtrip");
            return 3;
        }
    }
    return ch->answered == n ? 0 : 1;
}
