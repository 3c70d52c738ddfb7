/*
 * stub_abi.h - what the injected stub (stub/stub.c) and the supervisor (stubhost.c) share: the
 * fixed addresses, the layout of the shared data region, and the entry offsets in the code.
 *
 * Both sides map one memfd: the stub's code (read+exec) at SP_STUB_CODE_ADDR, then the data
 * region (read+write, shared) at SP_STUB_DATA_ADDR. Plain C declarations only: the stub is
 * freestanding (no libc) and includes this file too.
 */
#ifndef SPLITPRIV_STUB_ABI_H
#define SPLITPRIV_STUB_ABI_H

#include "splitpriv.h"
#include "stub_cells.h"

#define SP_STUB_CODE_ADDR 0x6e0000000000ULL
#define SP_STUB_CODE_SIZE 0x10000ULL
#define SP_STUB_DATA_ADDR (SP_STUB_CODE_ADDR + SP_STUB_CODE_SIZE)

/* The handler's signal stacks, one per slot: a private anonymous mapping (not the memfd), so
 * a forked child's copy is its own while it still runs on the stack it inherited. */
#define SP_STUB_STACKS_ADDR (SP_STUB_CODE_ADDR + 0x4000000ULL)
#define SP_STUB_STACK_SIZE 0x10000ULL
#define SP_STUB_STACKS_SIZE (SP_STUB_SLOTS * SP_STUB_STACK_SIZE)

/* Per process, for protect="mprotect" (stub.c: guard_enter): a private anonymous page right
 * after the stacks, wiped in a forked child (MADV_WIPEONFORK). */
#define SP_STUB_GUARD_ADDR (SP_STUB_STACKS_ADDR + SP_STUB_STACKS_SIZE)
#define SP_STUB_GUARD_SIZE 0x1000ULL
struct sp_stub_guard {
    volatile int lock;   /* 0, or the tid changing `inside` and the protection */
    volatile int inside; /* threads of this process between guard_enter and guard_leave */
    volatile int nested; /* handlers that interrupted their own thread's change */
};

/* Entry points, as offsets in the code (stub/entry.S puts them there). */
#define SP_STUB_HANDLER_OFF 0
#define SP_STUB_RESTORER_OFF 16

/* The event ring's buffer, and the part of it a session uses (sp_stub_config.ring_size; a power
 * of two). With protect="mprotect" the handler's two mprotect calls per trap cost about 13 ns
 * for each page of the guarded part the tracee has touched, and a 1 MiB ring touches 256:
 * that session uses 64 KiB of it (a log call under mprotect: 10.5 us with the whole ring, 4.7
 * with 64 KiB). The others use all of it: a smaller ring wakes the drainer more often. */
#define SP_STUB_RING_SIZE (1u << 20)
#define SP_STUB_RING_SIZE_MPROTECT (1u << 16)

#define SP_STUB_MODE_SUD 1
#define SP_STUB_MODE_TRAP 2

#define SP_SELECTOR_ALLOW 0
#define SP_SELECTOR_BLOCK 1

/* One traced thread's place: the supervisor fills tid/tgid when it arms the thread. */
struct sp_stub_slot {
    volatile int tid;
    volatile int tgid;
    volatile int exec_state; /* seccomp-trap: SP_EXEC_* (a futex) */
    volatile char selector;  /* Syscall User Dispatch reads it at every syscall */
    char pad0[3];
    /* The signal stack the program asked for (sigaltstack is answered from here; the real
     * one is the stub's while the program has none). ss_known 0: learn it at the next trap. */
    int ss_known;
    int ss_flags;
    unsigned long long ss_sp;
    unsigned long long ss_size;
    /* The ring records this thread has reserved and not yet committed (ring_push in stub.c;
     * a push interrupted by a signal handler of the program may nest one more), so that the
     * ones of a thread that dies on the way can be stepped over: sp_stub_abandon_pushes. */
    volatile unsigned long long push_at[2]; /* a record's position + 1; 0: none (yet) */
    volatile unsigned short push_len[2];
    volatile unsigned char push_depth;
    char pad[3];
};
_Static_assert(sizeof(struct sp_stub_slot) == 64, "a slot is one cache line");

/* The execve handshake of seccomp-trap, where the engine is not attached between execs. */
#define SP_EXEC_NONE 0
#define SP_EXEC_REQUEST 1 /* the stub is about to exec: attach and say GO */
#define SP_EXEC_GO 2
#define SP_EXEC_FAILED 3  /* execve returned: detach again */
#define SP_EXEC_REFUSED 4 /* the engine could not attach: the stub fails the execve (EPERM)
                           * rather than let the new image run without it */

/* The drainer's state, as the stub sees it. While events flow it naps between passes and
 * wants the doorbell only when the ring fills up (SP_STUB_RING_URGENT); once the ring has been
 * quiet for a while it sleeps deeper and wants it at every event. */
#define SP_DRAINER_AWAKE 0
#define SP_DRAINER_NAPPING 1
#define SP_DRAINER_DEEP 2
#define SP_STUB_RING_URGENT(ring_size) ((ring_size) / 4)

/*
 * The event ring, written by every stub of the session, read by the drainer. Lock-free, so
 * that a push interrupted by a signal handler of the program (the stub's handler runs with
 * signals open, and the program's handler's calls trap here too) never waits for itself, and
 * no signal mask has to change per recorded call. A record is a commit word, then the event
 * (header and copied data), 8-byte aligned (SP_STUB_RECORD_LEN). A stub reserves room by
 * moving `head` on with a compare-and-swap, copies the event, then sets the commit word to the
 * record's position + 1. The drainer moves records in order and stops at one not committed
 * yet, to find it finished at its next pass; a record whose writer died unfinished is marked
 * abandoned (commit word | SP_STUB_RECORD_ABANDONED, data_len covering the reservation) and
 * stepped over.
 */
#define SP_STUB_RECORD_HDR 8u
#define SP_STUB_RECORD_ABANDONED (1ull << 63)
#define SP_STUB_RECORD_LEN(data_len)                                                        \
    ((SP_STUB_RECORD_HDR + offsetof(struct sp_event, data) + (size_t)(data_len) + 7u) &      \
     ~(size_t)7u)

struct sp_stub_ring {
    volatile int drainer_sleeping;   /* SP_DRAINER_* */
    volatile unsigned int doorbell;  /* futex: the stub rings it (see SP_DRAINER_*) */
    volatile unsigned int released;  /* futex: the drainer bumps it when it frees space */
    char pad0[64 - 3 * sizeof(int)];
    volatile unsigned long long head; /* bytes reserved */
    char pad1[56];
    volatile unsigned long long tail; /* bytes released by the drainer */
    char pad2[56];
    char buf[SP_STUB_RING_SIZE + SP_STUB_RECORD_HDR + sizeof(struct sp_event)];
};

/* Mark the records a task reserved and never committed as abandoned, for a task that can no
 * longer run: the drainer steps over them instead of waiting for them. Then the slot may be
 * given to another thread. */
static inline void sp_stub_abandon_pushes(struct sp_stub_ring *ring, unsigned int ring_size,
                                          struct sp_stub_slot *slot)
{
    unsigned int depth = slot->push_depth < 2 ? slot->push_depth : 2;
    for (unsigned int i = 0; i < depth; i++) {
        if (slot->push_at[i] == 0)
            continue; /* it died before it had reserved */
        unsigned long long at = slot->push_at[i] - 1;
        char *record = ring->buf + (at & (ring_size - 1));
        slot->push_at[i] = 0;
        if (__atomic_load_n((unsigned long long *)(void *)record, __ATOMIC_ACQUIRE) == at + 1)
            continue; /* it committed after all */
        struct sp_event *ev = (struct sp_event *)(void *)(record + SP_STUB_RECORD_HDR);
        ev->data_len = (unsigned short)(slot->push_len[i] - SP_STUB_RECORD_HDR -
                                        offsetof(struct sp_event, data));
        __atomic_store_n((unsigned long long *)(void *)record, (at + 1) | SP_STUB_RECORD_ABANDONED,
                         __ATOMIC_RELEASE);
    }
    slot->push_depth = 0;
}

/* The "ask" action: the stub puts the call here and waits; the engine answers. */
#define SP_ASK_IDLE 0
#define SP_ASK_ASKED 1
#define SP_ASK_ANSWERED 2

struct sp_stub_ask {
    volatile int state;              /* SP_ASK_* (a futex) */
    int action;                      /* the verdict: SP_ALLOW, SP_DENY, SP_EMULATE, SP_REWRITE */
    long long value;                 /* the result for SP_DENY (-errno) and SP_EMULATE */
    unsigned long long args[6];      /* the arguments to run it with (SP_REWRITE) */
    struct sp_event event;           /* the call, with its copied strings */
};

/*
 * Timestamps without a syscall. The drainer keeps a mapping from the TSC to CLOCK_REALTIME here
 * (a seqlock: `seq` is odd while it writes) and refreshes it at every pass; the stub reads the
 * TSC and converts: ns = base_ns + (tsc - base_tsc) * mult / 2^32. `valid` stays 0 where the
 * TSC is not the kernel's clocksource or is not invariant, and until the rate is known over
 * 10 ms; `tsc_off` is set once a tracee turns the TSC off for itself (PR_SET_TSC, where RDTSC
 * would fault). In either case the stub makes the clock_gettime syscall.
 */
struct sp_stub_clock {
    volatile unsigned int seq;
    volatile int valid;
    volatile int tsc_off;
    int pad;
    volatile unsigned long long base_tsc;
    volatile long long base_ns;
    volatile unsigned long long mult;
};

/* Read-only for the tracee: the supervisor writes it into the code region before mapping. */
struct sp_stub_config {
    unsigned int mode;              /* SP_STUB_MODE_* */
    unsigned int protect;           /* SP_PROTECT_*: the guarded part outside the handler */
    unsigned int string_limit;
    int pkey;
    unsigned long long guarded_size; /* bytes of sp_stub_data from `rules` on */
    unsigned int ask_spins;         /* how long an "ask" spins before it sleeps */
    unsigned int ring_size;         /* bytes of the ring's buffer in use (SP_STUB_RING_SIZE*) */
    int supervisor_pid;             /* the engine thread, woken with wake_signal */
    int supervisor_tid;
    int wake_signal;
};
#define SP_STUB_CONFIG_OFF 0xf000

/* Where a task-making call made from the stub's clone cells (stub/entry.S) returns to, per
 * slot: a small stack, since a handler of the program's that interrupts the cell may make such
 * a call too. words[0] is the depth, words[1..depth] the addresses. */
#define SP_STUB_CLONE_RETURN_DEPTH 7
struct sp_stub_clone_return {
    volatile unsigned long long words[SP_STUB_CLONE_RETURN_DEPTH + 1];
};

struct sp_stub_data {
    /* Always read-write: Syscall User Dispatch reads the selectors at every syscall, and the
     * clone cells read their return addresses outside the handler. */
    struct sp_stub_slot slots[SP_STUB_SLOTS];
    struct sp_stub_clone_return clone_return[SP_STUB_SLOTS];
    volatile int supervisor_gone;   /* the session ended: apply the policy, record nothing */
    volatile int slots_used;        /* no slot at or above this index was ever taken: the
                                     * engine's scans (asks, exec requests) stop here */
    /* A robust, process-shared pthread mutex the engine thread holds for the session. Its
     * first word is the owner's tid, which the kernel clears (setting FUTEX_OWNER_DIED) when
     * that thread dies, even of SIGKILL: how a stub that waits knows its supervisor is gone.
     * (kill(pid, 0) cannot tell: it succeeds on a zombie nobody has reaped yet.) */
    unsigned char supervisor_lock[64] __attribute__((aligned(8)));
    char pad[4096 - 2 * sizeof(int) - 64];
    /* Page-aligned from here on: privileged-only when protected (the guarded part). */
    struct sp_rule rules[SP_NARCH][SP_NR_MAX + 1];
    volatile unsigned long long counts[SP_NARCH][SP_NR_MAX];
    volatile unsigned long long errors[SP_NARCH][SP_NR_MAX];
    struct sp_stub_clock clock;
    struct sp_stub_ring ring;
    struct sp_event exec_pending[SP_STUB_SLOTS]; /* an execve in flight, per slot */
    struct sp_stub_ask asks[SP_STUB_SLOTS];      /* a call waiting for a verdict, per slot */
};

/* Slot `index` is taken: raise the mark the engine's scans stop at. */
static inline void sp_stub_slot_taken(struct sp_stub_data *data, int index)
{
    int used = __atomic_load_n(&data->slots_used, __ATOMIC_RELAXED);
    while (used <= index && !__atomic_compare_exchange_n(&data->slots_used, &used, index + 1, 0,
                                                         __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        ;
}

#define SP_STUB_MAGIC 0x53505354u /* "SPST" */

_Static_assert(SP_STUB_DATA_ADDR + offsetof(struct sp_stub_data, clone_return) ==
                   SP_STUB_CLONE_RETURN_AT,
               "stub/entry.S reads the clone return table at SP_STUB_CLONE_RETURN_AT");
_Static_assert(SP_STUB_CLONE_CELL_SIZE == 1 << SP_STUB_CLONE_CELL_SHIFT, "stub_cells.h");
_Static_assert(sizeof(struct sp_stub_clone_return) == 64, "entry.S: a record is 64 bytes");
_Static_assert(SP_STUB_DATA_ADDR + sizeof(struct sp_stub_data) <= SP_STUB_STACKS_ADDR,
               "the stub's data runs into its signal stacks");

#endif
