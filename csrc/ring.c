/*
 * ring.c - the bounded event buffer between the engine thread (producer) and Python (consumer).
 *
 * A byte ring of variable-length records with one consumer: an event takes its header plus the
 * bytes it copied, rounded up to 8, so a getppid costs 160 bytes, not a whole struct sp_event. A
 * record that starts near the end runs on into a slack area of one maximal event after the
 * ring, so every record is contiguous and the consumer reads it in place.
 *
 * One consumer, no lock between it and the producers: a producer publishes with a release
 * store of `head`, the consumer frees space with a release store of `tail`. Where there are two
 * producers (the stub modes: the engine and the drainer) they take turns with a mutex; the
 * other modes have one and skip it. A full ring blocks the producer (on a condition
 * variable, with the consumer's release as its wake-up): an event is never dropped.
 *
 * The producer wakes the consumer only when it must. A waiting consumer naps NAP_MS at a time
 * and looks again, so the producer wakes it only when the ring is an eighth full, on an exit and
 * at the end. Why: a futex wake of a thread on another CPU costs this VM about 9 us on the engine's
 * CPU (an IPI), a whole getppid under ptrace's two stops is 5 us, and the nap's timer costs
 * only the consumer's CPU. A live trace therefore lags by at most NAP_MS.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NAP_MS = 1 };

static size_t record_size(const struct sp_event *event)
{
    return (offsetof(struct sp_event, data) + event->data_len + 7u) & ~(size_t)7u;
}

int sp_ring_init(struct sp_ring *ring, size_t bytes)
{
    size_t size = 1u << 16;
    while (size < bytes && size < ((size_t)1 << 30))
        size <<= 1;
    ring->buf = malloc(size + sizeof(struct sp_event));
    if (!ring->buf)
        return -ENOMEM;
    ring->size = size;
    atomic_init(&ring->head, 0);
    atomic_init(&ring->tail, 0);
    atomic_init(&ring->head_events, 0);
    atomic_init(&ring->tail_events, 0);
    atomic_init(&ring->finished, 0);
    atomic_init(&ring->consumer_waiting, 0);
    atomic_init(&ring->producer_waiting, 0);
    ring->two_producers = 0;
    ring->cached_tail = 0;
    pthread_mutex_init(&ring->lock, NULL);
    pthread_mutex_init(&ring->produce, NULL);
    pthread_cond_init(&ring->not_empty, NULL);
    pthread_cond_init(&ring->not_full, NULL);
    ring->owner = getpid();
    return 0;
}

void sp_ring_destroy(struct sp_ring *ring)
{
    free(ring->buf);
    ring->buf = NULL;
    /* A child forked while the ring was in use (os.fork() inside unprivileged()) inherits
     * waiters that do not exist in it: pthread_cond_destroy would wait for them for good. */
    if (ring->owner != getpid())
        return;
    pthread_mutex_destroy(&ring->lock);
    pthread_mutex_destroy(&ring->produce);
    pthread_cond_destroy(&ring->not_empty);
    pthread_cond_destroy(&ring->not_full);
}

static void deadline_in_ms(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void wake(pthread_mutex_t *lock, pthread_cond_t *cond)
{
    pthread_mutex_lock(lock);
    pthread_cond_broadcast(cond);
    pthread_mutex_unlock(lock);
}

/* Wait until `len` bytes are free; 0, or -1 if the session was cancelled meanwhile. */
static int wait_for_room(struct sp_session *s, size_t len)
{
    struct sp_ring *ring = &s->ring;
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    if (head + len - ring->cached_tail <= ring->size)
        return 0;
    ring->cached_tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    while (head + len - ring->cached_tail > ring->size) {
        if (s->cancel)
            return -1; /* nobody is left to read it */
        pthread_mutex_lock(&ring->lock);
        atomic_store(&ring->producer_waiting, 1);
        ring->cached_tail = atomic_load(&ring->tail);
        if (head + len - ring->cached_tail > ring->size) {
            struct timespec deadline;
            deadline_in_ms(&deadline, 100);
            if (atomic_load(&ring->consumer_waiting))
                pthread_cond_broadcast(&ring->not_empty);
            pthread_cond_timedwait(&ring->not_full, &ring->lock, &deadline);
        }
        atomic_store(&ring->producer_waiting, 0);
        pthread_mutex_unlock(&ring->lock);
        ring->cached_tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
    }
    return 0;
}

void sp_ring_push(struct sp_session *s, const struct sp_event *event)
{
    struct sp_ring *ring = &s->ring;
    size_t len = record_size(event);
    int locked = ring->two_producers;
    if (locked)
        pthread_mutex_lock(&ring->produce);
    if (wait_for_room(s, len) != 0) {
        if (locked)
            pthread_mutex_unlock(&ring->produce);
        return;
    }
    uint64_t head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    memcpy(ring->buf + (head & (ring->size - 1)),
           event, offsetof(struct sp_event, data) + event->data_len);
    uint64_t events = atomic_load_explicit(&ring->head_events, memory_order_relaxed) + 1;
    atomic_store_explicit(&ring->head_events, events, memory_order_relaxed);
    atomic_store_explicit(&ring->head, head + len, memory_order_release);
    /* No fence between the two (it would cost every event): a consumer that starts to wait
     * just now may be missed, and then finds this record after its nap. */
    if (atomic_load_explicit(&ring->consumer_waiting, memory_order_relaxed)) {
        /* A waiting consumer is not moving `tail`: reading it here costs no bouncing. */
        ring->cached_tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
        if (head + len - ring->cached_tail >= ring->size / 8 || event->kind == SP_EV_EXIT)
            wake(&ring->lock, &ring->not_empty);
    }
    if (locked)
        pthread_mutex_unlock(&ring->produce);
}

void sp_ring_finish(struct sp_ring *ring)
{
    atomic_store(&ring->finished, 1);
    wake(&ring->lock, &ring->not_empty);
}

void sp_ring_kick(struct sp_ring *ring)
{
    pthread_mutex_lock(&ring->lock);
    pthread_cond_broadcast(&ring->not_empty);
    pthread_cond_broadcast(&ring->not_full);
    pthread_mutex_unlock(&ring->lock);
}

static int ready_events(struct sp_ring *ring)
{
    /* head_events is stored before head (a release store), so reading head first is enough to
     * see every record it counts. */
    atomic_load_explicit(&ring->head, memory_order_acquire);
    uint64_t head_events = atomic_load_explicit(&ring->head_events, memory_order_relaxed);
    return (int)(head_events - atomic_load_explicit(&ring->tail_events, memory_order_relaxed));
}

int sp_wait_events(struct sp_session *s, int timeout_ms)
{
    struct sp_ring *ring = &s->ring;
    int ready = ready_events(ring);
    if (ready == 0 && timeout_ms > 0 && !atomic_load(&ring->finished)) {
        struct timespec deadline;
        deadline_in_ms(&deadline, timeout_ms);
        pthread_mutex_lock(&ring->lock);
        atomic_store_explicit(&ring->consumer_waiting, 1, memory_order_seq_cst);
        while ((ready = ready_events(ring)) == 0 && !atomic_load(&ring->finished)) {
            struct timespec nap;
            deadline_in_ms(&nap, NAP_MS);
            int last = nap.tv_sec > deadline.tv_sec ||
                       (nap.tv_sec == deadline.tv_sec && nap.tv_nsec >= deadline.tv_nsec);
            if (pthread_cond_timedwait(&ring->not_empty, &ring->lock, last ? &deadline : &nap) ==
                    ETIMEDOUT &&
                last)
                break;
        }
        atomic_store(&ring->consumer_waiting, 0);
        pthread_mutex_unlock(&ring->lock);
    }
    ready = ready_events(ring);
    if (ready == 0 && atomic_load(&ring->finished))
        return -1;
    return ready;
}

void *sp_ring_memory(struct sp_session *s, unsigned long long *size)
{
    *size = s->ring.size;
    return s->ring.buf;
}

unsigned long long sp_ring_tail(struct sp_session *s)
{
    return atomic_load_explicit(&s->ring.tail, memory_order_relaxed);
}

struct sp_event *sp_event_at(struct sp_session *s, unsigned long long offset)
{
    return (struct sp_event *)(s->ring.buf + (offset & (s->ring.size - 1)));
}

unsigned long long sp_event_size(const struct sp_event *event) { return record_size(event); }

unsigned int sp_ring_repeats(struct sp_session *s, unsigned long long offset, unsigned int limit,
                             unsigned long long *bytes)
{
    const struct sp_event *first = sp_event_at(s, offset);
    *bytes = 0;
    if (limit == 0 || first->nseg != 0 || first->data_len != 0)
        return 0;
    /* Everything but the two times: the header up to them, and what follows them. */
    const size_t head = offsetof(struct sp_event, t_entry_ns);
    const size_t rest = offsetof(struct sp_event, sig);
    const size_t rest_len = offsetof(struct sp_event, seg) - rest;
    unsigned long long size = record_size(first), at = offset;
    unsigned int n = 0;
    for (; n < limit; n++, at += size) {
        const struct sp_event *ev = sp_event_at(s, at);
        if (n && (memcmp(ev, first, head) != 0 ||
                  memcmp((const char *)ev + rest, (const char *)first + rest, rest_len) != 0))
            break;
    }
    *bytes = (unsigned long long)n * size;
    return n;
}

void sp_release(struct sp_session *s, unsigned int count, unsigned long long bytes)
{
    struct sp_ring *ring = &s->ring;
    atomic_fetch_add_explicit(&ring->tail_events, count, memory_order_relaxed);
    atomic_fetch_add_explicit(&ring->tail, bytes, memory_order_seq_cst);
    if (atomic_load_explicit(&ring->producer_waiting, memory_order_seq_cst))
        wake(&ring->lock, &ring->not_full);
}
