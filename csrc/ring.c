/*
 * ring.c - the bounded event buffer between the engine thread (producer) and Python (consumer).
 *
 * Python reads events in place (sp_event_at) and releases them in batches (sp_release). A full
 * ring blocks the engine until Python releases slots: an event is never dropped. The engine only
 * wakes a sleeping consumer once a batch has built up (or on exit/finish), because every wake-up
 * of a thread on another CPU costs more here than recording many events.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WAKE_BATCH = 64 };

int sp_ring_init(struct sp_ring *ring, uint32_t slots)
{
    uint32_t size = 16;
    while (size < slots && size < (1u << 20))
        size <<= 1;
    ring->slots = calloc(size, sizeof(struct sp_event));
    if (!ring->slots)
        return -ENOMEM;
    ring->mask = size - 1;
    ring->head = ring->tail = 0;
    ring->finished = 0;
    ring->consumer_waiting = 0;
    pthread_mutex_init(&ring->lock, NULL);
    pthread_cond_init(&ring->not_empty, NULL);
    pthread_cond_init(&ring->not_full, NULL);
    return 0;
}

void sp_ring_destroy(struct sp_ring *ring)
{
    free(ring->slots);
    ring->slots = NULL;
    pthread_mutex_destroy(&ring->lock);
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

void sp_ring_push(struct sp_session *s, const struct sp_event *event)
{
    struct sp_ring *ring = &s->ring;
    size_t size = offsetof(struct sp_event, data) + event->data_len;

    pthread_mutex_lock(&ring->lock);
    while (ring->head - ring->tail > ring->mask) {
        /* Full: wait for Python. A cancelled session has no consumer left to wait for. */
        if (s->cancel) {
            pthread_mutex_unlock(&ring->lock);
            return;
        }
        struct timespec deadline;
        deadline_in_ms(&deadline, 100);
        if (ring->consumer_waiting)
            pthread_cond_signal(&ring->not_empty);
        pthread_cond_timedwait(&ring->not_full, &ring->lock, &deadline);
    }
    memcpy(&ring->slots[ring->head & ring->mask], event, size);
    ring->head++;
    if (ring->consumer_waiting &&
        (ring->head - ring->tail >= WAKE_BATCH || event->kind == SP_EV_EXIT))
        pthread_cond_signal(&ring->not_empty);
    pthread_mutex_unlock(&ring->lock);
}

void sp_ring_finish(struct sp_ring *ring)
{
    pthread_mutex_lock(&ring->lock);
    ring->finished = 1;
    pthread_cond_broadcast(&ring->not_empty);
    pthread_mutex_unlock(&ring->lock);
}

void sp_ring_kick(struct sp_ring *ring)
{
    pthread_mutex_lock(&ring->lock);
    pthread_cond_broadcast(&ring->not_empty);
    pthread_cond_broadcast(&ring->not_full);
    pthread_mutex_unlock(&ring->lock);
}

int sp_wait_events(struct sp_session *s, int timeout_ms)
{
    struct sp_ring *ring = &s->ring;
    int ready;

    pthread_mutex_lock(&ring->lock);
    if (ring->head == ring->tail && !ring->finished && timeout_ms > 0) {
        struct timespec deadline;
        deadline_in_ms(&deadline, timeout_ms);
        ring->consumer_waiting = 1;
        while (ring->head == ring->tail && !ring->finished) {
            if (pthread_cond_timedwait(&ring->not_empty, &ring->lock, &deadline) == ETIMEDOUT)
                break;
        }
        ring->consumer_waiting = 0;
    }
    ready = (int)(ring->head - ring->tail);
    if (ready == 0 && ring->finished)
        ready = -1;
    pthread_mutex_unlock(&ring->lock);
    return ready;
}

struct sp_event *sp_event_at(struct sp_session *s, unsigned int index)
{
    /* Only the consumer moves tail, so reading it without the lock is safe here. */
    return &s->ring.slots[(s->ring.tail + index) & s->ring.mask];
}

void sp_release(struct sp_session *s, unsigned int count)
{
    struct sp_ring *ring = &s->ring;
    pthread_mutex_lock(&ring->lock);
    if (count > ring->head - ring->tail)
        count = (unsigned int)(ring->head - ring->tail);
    ring->tail += count;
    pthread_cond_signal(&ring->not_full);
    pthread_mutex_unlock(&ring->lock);
}
