/*
 * stub.c - the controlled entry point the supervisor puts into every traced process.
 *
 * Freestanding and position-independent: no libc, no relocations, no writable data of its
 * own. The supervisor maps it (with the shared data region of stub_abi.h) at a fixed address
 * after every execve and installs sp_stub_handler as the SIGSYS handler, with the restorer
 * from entry.S. Then the tracee's syscalls trap here, in its own process, without a tracer
 * round trip:
 * - `sud`: Syscall User Dispatch with the thread's selector byte in its slot; the stub's code
 *   range always passes, so the calls it makes itself go through. A seccomp filter that traps
 *   every call backs it up: a new thread or child (SUD is not inherited) reaches the stub
 *   through it once, and arms itself;
 * - `seccomp-trap`: a seccomp filter returns RET_TRAP for the calls the policy must see, and
 *   allows everything from the stub's code range.
 * The handler applies the rule of the call (allow, deny, emulate, rewrite; record or not),
 * makes allowed calls itself, and appends recorded events to the shared ring, which a
 * supervisor thread drains; a full ring makes it wait, never drop.
 *
 * The handler runs on a signal stack of its own per slot (see "the stub's own signal stack"),
 * so a call made with the program's stack nearly exhausted still traps cleanly. It times calls
 * with the TSC and a mapping the drainer keeps (struct sp_stub_clock) rather than with two
 * clock_gettime syscalls, unless the TSC is not the kernel's clock or the program turned it off
 * for itself (PR_SET_TSC, which it sees: prctl always reaches the stub). It knows its
 * thread from the signal stack it runs on, without a gettid syscall (see slot_of_stack).
 *
 * It must never call anything outside this file, never use more than its signal stack, never
 * change the signal mask for its own sake (a push to the ring is lock-free instead: a signal
 * handler of the program may run in the middle of one and push too), and never leave a ring
 * record reserved and uncommitted while it waits.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>

#include "../raw_syscall.h"
#include "../stub_abi.h"
#include "../string_array.h"

#define DATA ((struct sp_stub_data *)SP_STUB_DATA_ADDR)
#define CONFIG ((const struct sp_stub_config *)(SP_STUB_CODE_ADDR + SP_STUB_CONFIG_OFF))
#define AUDIT_ARCH_X86_64_VALUE 0xC000003Eu
#define AUDIT_ARCH_I386_VALUE 0x40000003u
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define ERRNO_MAX 4095
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_NONE 0

void sp_stub_handler(int sig, siginfo_t *info, void *context);
void sp_stub_restorer(void);

/* ---- the few things libc would have given us ------------------------------------------ */

/* An i386 call of a 64-bit process, made the way it made it. */
static inline long sc6_i386(long nr, unsigned long long a0, unsigned long long a1,
                            unsigned long long a2, unsigned long long a3, unsigned long long a4,
                            unsigned long long a5)
{
    long ret;
    __asm__ volatile("push %%rbp\n\tmov %7, %%rbp\n\tint $0x80\n\tpop %%rbp"
                     : "=a"(ret)
                     : "0"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3), "D"(a4), "g"(a5)
                     : "memory");
    return (long)(int)ret;
}

/* gcc may emit calls to these for struct copies; they must exist in the blob. */
void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
        /* Events are 8-byte aligned: a word at a time (a recorded call copies ~200 bytes). */
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(unsigned long long *)(void *)d = *(const unsigned long long *)(const void *)s;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

static unsigned long long rdtsc(void)
{
    unsigned int lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (unsigned long long)hi << 32 | lo;
}

/* CLOCK_REALTIME in ns: from the TSC and the drainer's mapping (sp_stub_clock) when it is
 * valid, which saves two syscalls per recorded call; else from the kernel. */
static long long now_ns(void)
{
    struct sp_stub_clock *c = &DATA->clock;
    for (int tries = 0; tries < 4 && c->valid && !c->tsc_off; tries++) {
        unsigned int seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue;
        unsigned long long base_tsc = c->base_tsc, mult = c->mult;
        long long base_ns = c->base_ns;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != seq)
            continue;
        long long ticks = (long long)(rdtsc() - base_tsc); /* may be a little < 0 */
        return base_ns + (long long)(((__int128)ticks * (__int128)mult) >> 32);
    }
    struct {
        long long sec, nsec;
    } ts;
    sc3(SYS_clock_gettime, 0 /* CLOCK_REALTIME */, (unsigned long long)(uintptr_t)&ts, 0);
    return ts.sec * 1000000000LL + ts.nsec;
}

struct iov {
    void *base;
    size_t len;
};

/* Read or write our own memory through the kernel, so a bad pointer is EFAULT, not a crash. */
static long self_copy(int tgid, int write, void *local, unsigned long long remote, size_t len)
{
    struct iov l = {local, len}, r = {(void *)(uintptr_t)remote, len};
    return sc6(write ? SYS_process_vm_writev : SYS_process_vm_readv, (unsigned long long)tgid,
               (unsigned long long)(uintptr_t)&l, 1, (unsigned long long)(uintptr_t)&r, 1, 0);
}

/* ---- privileged-only data ----------------------------------------------------------------
 * protect="pkey" opens and closes the guarded part per thread (PKRU), and the kernel gives a
 * nested handler its own PKRU. protect="mprotect" changes it for the whole process while the
 * handler runs per thread, so the first thread of a process to enter opens it and the last to
 * leave closes it (GUARD->inside). Each change, the count and its mprotect together, happens
 * under GUARD->lock, which holds the tid making it, so a close cannot land after the next
 * open. A signal handler of the program can interrupt the stub and trap here again: inside an
 * open section it only counts, like any other entry; in the middle of its own thread's change
 * (the lock is its own tid) it opens for itself without the lock (GUARD->nested) and, leaving,
 * closes only when nobody is inside. What mprotect cannot do: keep the part from a thread's
 * reads while another thread of its process is in the handler (pkey can).
 * GUARD is a private page wiped in a forked child (MADV_WIPEONFORK): a child starts with
 * nobody inside and no lock held, whatever its parent's other threads were doing. */
#define GUARD ((struct sp_stub_guard *)(uintptr_t)SP_STUB_GUARD_ADDR)
enum { GUARD_NONE, GUARD_COUNTED, GUARD_NESTED };

static void set_guarded(int open)
{
    long rc = sc3(SYS_mprotect, (unsigned long long)(uintptr_t)DATA->rules, CONFIG->guarded_size,
                  open ? PROT_READ | PROT_WRITE : PROT_NONE);
    if (rc != 0 && !open)
        /* The table would stay writable for the program: fail closed, end the process. */
        sc3(SYS_kill, (unsigned long long)sc3(SYS_getpid, 0, 0, 0), SIGKILL, 0);
}

static void guard_lock(int tid)
{
    int free = 0;
    while (!__atomic_compare_exchange_n(&GUARD->lock, &free, tid, 0, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        free = 0;
        __builtin_ia32_pause();
    }
}

/* Open the guarded part for this thread; what guard_leave needs to know. */
static int guard_enter(int tid)
{
    if (CONFIG->protect == SP_PROTECT_PKEY) {
        __asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(0), "c"(0), "d"(0)); /* wrpkru */
        return GUARD_NONE;
    }
    if (CONFIG->protect != SP_PROTECT_MPROTECT)
        return GUARD_NONE;
    if (__atomic_load_n(&GUARD->lock, __ATOMIC_RELAXED) == tid) {
        GUARD->nested++; /* we interrupted our own thread's change: it holds the lock */
        set_guarded(1);
        return GUARD_NESTED;
    }
    guard_lock(tid);
    if (GUARD->inside++ == 0)
        set_guarded(1);
    __atomic_store_n(&GUARD->lock, 0, __ATOMIC_RELEASE);
    return GUARD_COUNTED;
}

static void guard_leave(int tid, int how)
{
    if (CONFIG->protect == SP_PROTECT_PKEY) {
        unsigned int pkru = 3u << (2 * CONFIG->pkey);
        __asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(pkru), "c"(0), "d"(0));
        return;
    }
    if (how == GUARD_NESTED) {
        if (--GUARD->nested == 0 && GUARD->inside <= 0)
            set_guarded(0);
        return;
    }
    if (how != GUARD_COUNTED)
        return;
    guard_lock(tid);
    /* A child forked from inside the handler leaves a section it never entered: its GUARD
     * page was wiped, so its count is 0, and the part it inherited open is closed. */
    if (GUARD->inside > 0)
        GUARD->inside--;
    if (GUARD->inside == 0 && GUARD->nested == 0)
        set_guarded(0);
    __atomic_store_n(&GUARD->lock, 0, __ATOMIC_RELEASE);
}

/* ---- the ring (see struct sp_stub_ring) ------------------------------------------------ */

/* Wake the drainer if it wants it: always from a deep sleep; from a nap only when `urgent`
 * (the ring is filling up, or full). A wake-up costs a context switch, often on this very CPU,
 * so events that flow are left for the drainer's next pass (at most a nap, 1 ms, away). A
 * wake-up lost to the race with the drainer falling asleep costs at most its sleep (20 ms). */
static void ring_doorbell(struct sp_stub_ring *ring, int urgent)
{
    int state = __atomic_load_n(&ring->drainer_sleeping, __ATOMIC_RELAXED);
    if (state == SP_DRAINER_DEEP || (state == SP_DRAINER_NAPPING && urgent)) {
        __atomic_add_fetch(&ring->doorbell, 1, __ATOMIC_SEQ_CST);
        sc6(SYS_futex, (unsigned long long)(uintptr_t)&ring->doorbell, FUTEX_WAKE, 1, 0, 0, 0);
    }
}

static int supervisor_alive(void)
{
    if (DATA->supervisor_gone)
        return 0;
    /* The owner's tid in the robust mutex the engine thread holds (stub_abi.h): 0 once the
     * kernel has seen that thread die. */
    int owner = __atomic_load_n((volatile int *)(void *)DATA->supervisor_lock, __ATOMIC_ACQUIRE);
    if (owner & FUTEX_TID_MASK)
        return 1;
    DATA->supervisor_gone = 1; /* for every stub of the session: record nothing, wait for none */
    return 0;
}

static void futex_wait_ms(volatile int *word, int value, long ms)
{
    struct {
        long long sec, nsec;
    } timeout = {0, ms * 1000000};
    sc6(SYS_futex, (unsigned long long)(uintptr_t)word, FUTEX_WAIT, (unsigned long long)value,
        (unsigned long long)(uintptr_t)&timeout, 0, 0);
}

/* The ring is full: wait for the drainer to free room. 0 when it never will. */
static int wait_for_room(struct sp_stub_ring *ring)
{
    unsigned int seen = __atomic_load_n(&ring->released, __ATOMIC_ACQUIRE);
    ring_doorbell(ring, 1);
    futex_wait_ms((volatile int *)&ring->released, (int)seen, 10);
    return supervisor_alive();
}

/* Append one event; waits for the drainer while the ring is full (never drops). `slot`, when
 * the thread has one, keeps the reservation in flight (see sp_stub_abandon_pushes). */
static void ring_push(struct sp_stub_slot *slot, const struct sp_event *ev)
{
    struct sp_stub_ring *ring = &DATA->ring;
    if (DATA->supervisor_gone)
        return; /* nobody will ever read it: do not wait for room */
    size_t len = SP_STUB_RECORD_LEN(ev->data_len);
    unsigned int depth = 0;
    if (slot) {
        depth = slot->push_depth; /* a push this one interrupts keeps its entry below */
        slot->push_depth = (unsigned char)(depth + 1);
    }
    unsigned long long at = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
    for (;;) {
        if (at + len - __atomic_load_n(&ring->tail, __ATOMIC_ACQUIRE) > CONFIG->ring_size) {
            if (!wait_for_room(ring))
                goto done;
            at = __atomic_load_n(&ring->head, __ATOMIC_RELAXED);
            continue;
        }
        if (__atomic_compare_exchange_n(&ring->head, &at, at + len, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED))
            break;
    }
    if (slot && depth < 2) {
        slot->push_len[depth] = (unsigned short)len;
        slot->push_at[depth] = at + 1;
    }
    char *record = ring->buf + (at & (CONFIG->ring_size - 1));
    memcpy(record + SP_STUB_RECORD_HDR, ev, offsetof(struct sp_event, data) + ev->data_len);
    __atomic_store_n((unsigned long long *)(void *)record, at + 1, __ATOMIC_RELEASE);
    ring_doorbell(ring, at + len - __atomic_load_n(&ring->tail, __ATOMIC_RELAXED) >=
                            SP_STUB_RING_URGENT(CONFIG->ring_size));
done:
    if (slot) {
        if (depth < 2)
            slot->push_at[depth] = 0;
        slot->push_depth = (unsigned char)depth;
    }
}

/* ---- copying strings and buffers -------------------------------------------------------- */

/* len bytes at addr (a string: up to its NUL), cut at the string limit, as a segment labelled
 * label. */
static void copy_segment_at(struct sp_event *ev, int label, unsigned long long addr,
                            unsigned long long len, int cstring, int at_exit)
{
    if (ev->nseg >= SP_SEG_MAX || ev->data_len >= SP_DATA_MAX)
        return;
    struct sp_segment *seg = &ev->seg[ev->nseg++];
    size_t room = SP_DATA_MAX - ev->data_len;
    size_t limit = CONFIG->string_limit < room ? CONFIG->string_limit : room;
    seg->arg = (unsigned char)label;
    seg->flags = at_exit ? SP_SEGF_EXIT : 0;
    seg->len = 0;
    seg->off = ev->data_len;
    char *dst = ev->data + seg->off;
    size_t want = cstring ? limit : (len < limit ? (size_t)len : limit);
    if (!cstring && want < len)
        seg->flags |= SP_SEGF_TRUNCATED;
    if (addr == 0 && want) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    size_t got = 0;
    while (got < want) {
        /* Page by page for strings: one ending just before an unmapped page is still read. */
        size_t chunk = want - got;
        if (cstring) {
            size_t to_page_end = 4096 - ((addr + got) & 4095);
            if (chunk > to_page_end)
                chunk = to_page_end;
        }
        long n = self_copy(ev->pid, 0, dst + got, addr + got, chunk);
        if (n <= 0) {
            if (got == 0)
                seg->flags |= SP_SEGF_FAULT;
            break;
        }
        if (cstring) {
            for (long i = 0; i < n; i++) {
                if (dst[got + (size_t)i] == '\0') {
                    seg->len = (unsigned short)(got + (size_t)i);
                    ev->data_len += (unsigned short)(seg->len + 1);
                    return;
                }
            }
        }
        got += (size_t)n;
    }
    seg->len = (unsigned short)got;
    if (cstring && got == want)
        seg->flags |= SP_SEGF_TRUNCATED;
    ev->data_len += (unsigned short)got;
}

/* What argument arg points to (see copy_segment_at). */
static void copy_segment(struct sp_event *ev, int arg, unsigned long long len, int cstring,
                         int at_exit)
{
    copy_segment_at(ev, arg, ev->args[arg], len, cstring, at_exit);
}

static long read_self(void *ctx, unsigned long long addr, void *dst, size_t len)
{
    return self_copy(*(const int *)ctx, 0, dst, addr, len);
}

/* What copy_array keeps of an array: execve's argv itself (string_array.h), or, as an int, how
 * many strings envp holds or how many records getdents wrote. */
enum { ARRAY_STRINGS, ARRAY_COUNT_STRINGS, ARRAY_COUNT_DIRENTS };

static void copy_array(struct sp_event *ev, int arg, int what)
{
    if (ev->nseg >= SP_SEG_MAX || ev->data_len >= SP_DATA_MAX)
        return;
    struct sp_segment *seg = &ev->seg[ev->nseg++];
    size_t room = SP_DATA_MAX - ev->data_len;
    seg->arg = (unsigned char)arg;
    seg->flags = what == ARRAY_COUNT_DIRENTS ? SP_SEGF_EXIT : 0;
    seg->len = 0;
    seg->off = ev->data_len;
    int wide = ev->arch != AUDIT_ARCH_I386_VALUE;
    if (ev->args[arg] == 0) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    if (what != ARRAY_STRINGS) {
        long count = -1;
        if (room >= sizeof(int) && what == ARRAY_COUNT_DIRENTS)
            count = sp_count_dirents(read_self, &ev->pid, ev->args[arg], (size_t)ev->ret);
        else if (room >= sizeof(int))
            count = sp_count_string_array(read_self, &ev->pid, ev->args[arg], wide);
        if (count < 0) {
            seg->flags |= SP_SEGF_FAULT;
            return;
        }
        int value = (int)count;
        char *dst = ev->data + seg->off;
        for (size_t b = 0; b < sizeof(value); b++)
            dst[b] = (char)(value >> (8 * b));
        seg->len = sizeof(value);
    } else {
        seg->len = (unsigned short)sp_copy_string_array(read_self, &ev->pid, ev->args[arg], wide,
                                                        ev->data + seg->off, room,
                                                        CONFIG->string_limit, &seg->flags);
    }
    ev->data_len += seg->len;
}

/* The buffers of the iovec array at array (string_array.h), labelled label: at entry all
 * they hold, at exit what the call returned. Only x86_64's layout. */
static void copy_iovec(struct sp_event *ev, int label, unsigned long long array,
                       unsigned long long count, int at_exit)
{
    if (ev->nseg >= SP_SEG_MAX || ev->data_len >= SP_DATA_MAX || ev->arch == AUDIT_ARCH_I386_VALUE)
        return;
    struct sp_segment *seg = &ev->seg[ev->nseg++];
    seg->arg = (unsigned char)label;
    seg->flags = at_exit ? SP_SEGF_EXIT : 0;
    seg->off = ev->data_len;
    unsigned long long budget = at_exit ? (unsigned long long)ev->ret : ~0ull;
    seg->len = (unsigned short)sp_copy_iovec(read_self, &ev->pid, array, count, budget,
                                             ev->data + seg->off, SP_DATA_MAX - ev->data_len,
                                             CONFIG->string_limit, &seg->flags);
    ev->data_len += seg->len;
}

/* A struct msghdr (x86_64) at argument arg and what it points to; see SP_CAPTURE_MSGHDR_*. */
static void copy_msghdr(struct sp_event *ev, int arg, int sends, int at_exit)
{
    unsigned long long m[SP_MSGHDR_WORDS], addr = ev->args[arg];
    if (ev->arch == AUDIT_ARCH_I386_VALUE)
        return;
    unsigned short before = ev->nseg;
    copy_segment_at(ev, at_exit ? arg + SP_SEG_AFTER : arg, addr, sizeof(m), 0, at_exit);
    if ((!sends && !at_exit) || !sp_msghdr_words(ev, before, m))
        return;
    copy_iovec(ev, arg + SP_SEG_IOV, m[SP_MSG_IOV], m[SP_MSG_IOVLEN], at_exit);
    unsigned long long namelen = m[SP_MSG_NAMELEN] & 0xffffffffull;
    if (m[SP_MSG_NAME] >= SP_LOWEST_ADDRESS && namelen)
        copy_segment_at(ev, arg + SP_SEG_NAME, m[SP_MSG_NAME], namelen < 128 ? namelen : 128, 0,
                        at_exit);
    unsigned long long controllen = m[SP_MSG_CONTROLLEN];
    if (m[SP_MSG_CONTROL] >= SP_LOWEST_ADDRESS && controllen)
        copy_segment_at(ev, arg + SP_SEG_CONTROL, m[SP_MSG_CONTROL],
                        controllen < SP_CONTROL_MAX ? controllen : SP_CONTROL_MAX, 0, at_exit);
}

/* What argument arg points to, copied at entry, or at exit again: then labelled
 * arg + SP_SEG_AFTER so that the two copies stay apart. The exit copy's segment, or 0. */
static struct sp_segment *copy_in_or_again(struct sp_event *ev, int arg, unsigned long long len,
                                           int at_exit)
{
    unsigned short before = ev->nseg;
    copy_segment(ev, arg, len, 0, at_exit);
    if (!at_exit || ev->nseg == before)
        return 0;
    ev->seg[before].arg = (unsigned char)(arg + SP_SEG_AFTER);
    return &ev->seg[before];
}

/* A socket address the kernel fills in (SP_CAPTURE_SOCKADDR_OUT): at entry the length the
 * program offers; at exit the length the kernel left and that many bytes of the address. */
static void copy_sockaddr(struct sp_event *ev, int i, int at_exit)
{
    struct sp_segment *seg = copy_in_or_again(ev, i + 1, sizeof(int), at_exit);
    if (!seg)
        return;
    unsigned int len = 0;
    if (seg->len == sizeof(len))
        for (int b = 0; b < 4; b++)
            len |= (unsigned int)(unsigned char)ev->data[seg->off + b] << (8 * b);
    if (len > 0)
        copy_segment(ev, i, len < 128 ? len : 128, 0, 1);
}

static void capture(struct sp_event *ev, const struct sp_rule *rule, int at_exit)
{
    for (int i = 0; i < SP_NARGS; i++) {
        unsigned char c = rule->capture[i];
        if (c == SP_CAPTURE_NONE)
            continue; /* most arguments of most calls: skip the chain below */
        if (!at_exit && c == SP_CAPTURE_CSTRING)
            copy_segment(ev, i, 0, 1, 0);
        else if (!at_exit && (c == SP_CAPTURE_ARGV || c == SP_CAPTURE_ENVC))
            copy_array(ev, i, c == SP_CAPTURE_ENVC ? ARRAY_COUNT_STRINGS : ARRAY_STRINGS);
        else if (!at_exit && (c & 0xe0) == SP_CAPTURE_IN_WORDS &&
                 ev->args[i] >= SP_LOWEST_ADDRESS)
            copy_segment(ev, i, (unsigned long long)(c & 0x1f) * 8, 0, 0);
        else if (c == SP_CAPTURE_SOCKADDR_OUT && i + 1 < SP_NARGS && ev->args[i + 1] &&
                 (!at_exit || (ev->ret >= 0 && ev->args[i])))
            copy_sockaddr(ev, i, at_exit);
        else if (c == SP_CAPTURE_POLLFDS && i + 1 < SP_NARGS && ev->args[i] &&
                 (!at_exit || ev->ret > 0))
            copy_in_or_again(ev, i, (ev->args[i + 1] & 0xffffffffull) * 8, at_exit);
        else if ((c == SP_CAPTURE_IOVEC_IN || c == SP_CAPTURE_IOVEC_OUT) && i + 1 < SP_NARGS &&
                 ev->args[i] >= SP_LOWEST_ADDRESS &&
                 (c == SP_CAPTURE_IOVEC_IN ? !at_exit : at_exit && ev->ret >= 0))
            copy_iovec(ev, i, ev->args[i], ev->args[i + 1], at_exit);
        else if ((c == SP_CAPTURE_MSGHDR_IN || c == SP_CAPTURE_MSGHDR_OUT) &&
                 ev->args[i] >= SP_LOWEST_ADDRESS &&
                 (!at_exit || (c == SP_CAPTURE_MSGHDR_OUT && ev->ret >= 0)))
            copy_msghdr(ev, i, c == SP_CAPTURE_MSGHDR_IN, at_exit);
        else if (at_exit && (c & 0xe0) == SP_CAPTURE_CUT_WORDS && sp_cut_short(ev->ret) &&
                 ev->args[i] >= SP_LOWEST_ADDRESS)
            copy_segment(ev, i, (unsigned long long)(c & 0x1f) * 8, 0, 1);
        else if (c == SP_CAPTURE_FDSET && ev->args[i] >= SP_LOWEST_ADDRESS &&
                 (!at_exit || ev->ret > 0))
            copy_in_or_again(ev, i, sp_fdset_bytes(ev->args[0]), at_exit);
        else if ((c & 0xe0) == SP_CAPTURE_INOUT_WORDS && ev->args[i] >= SP_LOWEST_ADDRESS &&
                 (!at_exit || ev->ret >= 0))
            copy_in_or_again(ev, i, (unsigned long long)(c & 0x1f) * 8, at_exit);
        else if (!at_exit && (c & 0xf0) == SP_CAPTURE_BUF_ARG && (c & 0x0f) < SP_NARGS)
            copy_segment(ev, i, ev->args[c & 0x0f], 0, 0);
        else if (at_exit && c == SP_CAPTURE_BUF_RET && ev->ret > 0)
            copy_segment(ev, i, (unsigned long long)ev->ret, 0, 1);
        else if (at_exit && c == SP_CAPTURE_DIRENTS && ev->ret > 0)
            copy_array(ev, i, ARRAY_COUNT_DIRENTS);
        else if (at_exit && (c & 0xf0) == SP_CAPTURE_OUT_INTS && ev->ret >= 0 &&
                 ev->args[i] >= SP_LOWEST_ADDRESS)
            copy_segment(ev, i, (unsigned long long)(c & 0x0f) * 4, 0, 1);
        else if (at_exit && (c & 0xe0) == SP_CAPTURE_OUT_WORDS && ev->ret >= 0 &&
                 ev->args[i] >= SP_LOWEST_ADDRESS)
            copy_segment(ev, i, (unsigned long long)(c & 0x1f) * 8, 0, 1);
    }
}

/* ---- calls the stub does differently ------------------------------------------------------ */

#define SIGSYS_BIT (1ull << (31 - 1))

/* The mask and the alternate stack come back from the frame at rt_sigreturn: change them there. */
static long sigprocmask_on_frame(int tgid, ucontext_t *uc, const unsigned long long *a)
{
    unsigned long long mask, set;
    if (a[3] != sizeof(mask))
        return -22;
    memcpy(&mask, &uc->uc_sigmask, sizeof(mask));
    if (a[2] && self_copy(tgid, 1, &mask, a[2], sizeof(mask)) != sizeof(mask))
        return -14;
    if (!a[1])
        return 0;
    if (self_copy(tgid, 0, &set, a[1], sizeof(set)) != sizeof(set))
        return -14;
    if (a[0] == 0)
        mask |= set; /* SIG_BLOCK */
    else if (a[0] == 1)
        mask &= ~set; /* SIG_UNBLOCK */
    else if (a[0] == 2)
        mask = set; /* SIG_SETMASK */
    else
        return -22;
    mask &= ~((1ull << (9 - 1)) | (1ull << (19 - 1)) | SIGSYS_BIT); /* KILL STOP SYS */
    memcpy(&uc->uc_sigmask, &mask, sizeof(mask));
    return 0;
}

/* A mask the program gives the kernel for a while must not block SIGSYS: a handler's sa_mask
 * (in force while the handler runs), the mask of rt_sigsuspend, ppoll, pselect6 and
 * epoll_pwait(2) (in force while they wait, and in the handler of the signal that ends the
 * wait). A call the program made under it would find the entry point blocked, and the kernel
 * kills a process whose forced SIGSYS is blocked: `sh -c 'a; b'` died so, in the return from
 * its SIGCHLD handler (sa_mask all signals). So the call is made with a copy of the mask
 * without SIGSYS. What the program reads back of a handler's mask lacks SIGSYS too. */

/* The 8-byte mask at addr into *copy, without SIGSYS: 1 when it had SIGSYS (use the copy),
 * 0 when it had not (make the call as it is), -14 (EFAULT) when it cannot be read. */
static long mask_without_sigsys(int tgid, unsigned long long addr, unsigned long long *copy)
{
    if (self_copy(tgid, 0, copy, addr, sizeof(*copy)) != sizeof(*copy))
        return -14;
    if (!(*copy & SIGSYS_BIT))
        return 0;
    *copy &= ~SIGSYS_BIT;
    return 1;
}

/* 1 when the call was made here (its result in *ret); 0 when it can be made as it is. */
static int call_without_sigsys(int tgid, long nr, const unsigned long long *a, long *ret)
{
    unsigned long long args[SP_NARGS], mask;
    struct {
        unsigned long long handler, flags, restorer, mask;
    } act; /* the kernel's struct sigaction on x86_64 */
    struct {
        unsigned long long set, size;
    } pselect_mask; /* pselect6's sixth argument */
    long got;
    if (nr != SYS_rt_sigaction && nr != SYS_pselect6 && nr != SYS_rt_sigsuspend &&
        nr != SYS_ppoll && nr != SYS_epoll_pwait && nr != SYS_epoll_pwait2)
        return 0; /* (every allowed call passes here: leave at once) */
    memcpy(args, a, sizeof(args));
    if (nr == SYS_rt_sigaction) {
        if (!a[1] || a[3] != sizeof(mask))
            return 0; /* no new action, or a size the kernel refuses by itself */
        got = mask_without_sigsys(tgid, a[1] + offsetof(__typeof__(act), mask), &act.mask);
        if (got == 1 && self_copy(tgid, 0, &act, a[1], offsetof(__typeof__(act), mask)) !=
                            offsetof(__typeof__(act), mask))
            got = -14;
        args[1] = (unsigned long long)(uintptr_t)&act;
    } else if (nr == SYS_pselect6) {
        if (!a[5])
            return 0;
        if (self_copy(tgid, 0, &pselect_mask, a[5], sizeof(pselect_mask)) != sizeof(pselect_mask))
            got = -14;
        else if (!pselect_mask.set || pselect_mask.size != sizeof(mask))
            return 0;
        else
            got = mask_without_sigsys(tgid, pselect_mask.set, &mask);
        pselect_mask.set = (unsigned long long)(uintptr_t)&mask;
        args[5] = (unsigned long long)(uintptr_t)&pselect_mask;
    } else {
        int at = nr == SYS_rt_sigsuspend                             ? 0
               : nr == SYS_ppoll                                     ? 3
               : nr == SYS_epoll_pwait || nr == SYS_epoll_pwait2     ? 4
                                                                     : -1;
        if (at < 0 || !a[at] || a[at + 1] != sizeof(mask))
            return 0;
        got = mask_without_sigsys(tgid, a[at], &mask);
        args[at] = (unsigned long long)(uintptr_t)&mask;
    }
    if (got == 0)
        return 0;
    *ret = got < 0 ? got : sc6(nr, args[0], args[1], args[2], args[3], args[4], args[5]);
    return 1;
}

/* ---- the stub's own signal stack -------------------------------------------------------
 * The handler runs on a stack of its own (SA_ONSTACK), one per slot. The program's sigaltstack
 * calls are answered from its slot instead (ss_*): while it has set none, the thread's real
 * signal stack is the stub's; once it has, the real one is the program's, so its SA_ONSTACK
 * handlers run where it expects (and so does this handler). Either is armed with
 * SS_AUTODISARM, so that a change made through the frame (rt_sigreturn applies uc_stack) takes
 * effect even when it is made while running on that stack; the kernel refuses any change
 * there otherwise. */
#define SS_AUTODISARM_FLAG ((int)(1u << 31))
#define MINSIGSTKSZ_VALUE 2048

static int is_stub_stack(const stack_t *st)
{
    unsigned long long sp = (unsigned long long)(uintptr_t)st->ss_sp;
    return !(st->ss_flags & SS_DISABLE) && sp >= SP_STUB_STACKS_ADDR &&
           sp < SP_STUB_STACKS_ADDR + SP_STUB_STACKS_SIZE;
}

static int within(unsigned long long sp, unsigned long long base, unsigned long long size)
{
    return sp > base && sp <= base + size;
}

/* A slot's first trap: the program's stack is the thread's real one, unless that is the
 * stub's (or none): fork copies the parent's, a new thread or image has none. */
static void learn_signal_stack(struct sp_stub_slot *slot, const stack_t *now)
{
    if ((now->ss_flags & SS_DISABLE) || is_stub_stack(now) || !now->ss_sp) {
        slot->ss_sp = slot->ss_size = 0;
        slot->ss_flags = SS_DISABLE;
    } else {
        slot->ss_sp = (unsigned long long)(uintptr_t)now->ss_sp;
        slot->ss_size = now->ss_size;
        slot->ss_flags = now->ss_flags & ~(SS_AUTODISARM_FLAG | SS_ONSTACK);
    }
    slot->ss_known = 1;
}

/* At the end of a trap: arm the stack the thread should have. Not while the interrupted code
 * still runs on it (a handler of the program's, or an outer trap): the kernel disarmed it for
 * that handler and re-arms it when that handler returns. */
static void arm_signal_stack(ucontext_t *uc, const struct sp_stub_slot *slot)
{
    unsigned long long sp, size;
    int flags = SS_AUTODISARM_FLAG;
    if (!(slot->ss_flags & SS_DISABLE)) {
        sp = slot->ss_sp;
        size = slot->ss_size;
        flags |= slot->ss_flags;
    } else {
        sp = SP_STUB_STACKS_ADDR + (unsigned long long)(slot - DATA->slots) * SP_STUB_STACK_SIZE;
        size = SP_STUB_STACK_SIZE;
    }
    if (within((unsigned long long)uc->uc_mcontext.gregs[REG_RSP], sp, size))
        return;
    uc->uc_stack.ss_sp = (void *)(uintptr_t)sp;
    uc->uc_stack.ss_size = size;
    uc->uc_stack.ss_flags = flags;
}

/* sigaltstack, as the kernel would answer it for the program's own stack. */
static long sigaltstack_on_slot(int tgid, ucontext_t *uc, struct sp_stub_slot *slot,
                                const unsigned long long *a)
{
    int enabled = !(slot->ss_flags & SS_DISABLE);
    int on_it = enabled && within((unsigned long long)uc->uc_mcontext.gregs[REG_RSP],
                                  slot->ss_sp, slot->ss_size);
    stack_t next, seen = {(void *)(uintptr_t)slot->ss_sp, enabled ? slot->ss_flags : SS_DISABLE,
                          slot->ss_size};
    if (on_it)
        seen.ss_flags = SS_ONSTACK;
    if (a[0] && self_copy(tgid, 0, &next, a[0], sizeof(next)) != sizeof(next))
        return -14;
    if (a[0]) {
        int mode = next.ss_flags & ~SS_AUTODISARM_FLAG;
        if (on_it)
            return -1; /* EPERM */
        if (mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE)
            return -22; /* EINVAL */
        if (mode != SS_DISABLE && next.ss_size < MINSIGSTKSZ_VALUE)
            return -12; /* ENOMEM */
    }
    if (a[1] && self_copy(tgid, 1, &seen, a[1], sizeof(stack_t)) != sizeof(stack_t))
        return -14;
    if (a[0]) {
        int disable = (next.ss_flags & ~SS_AUTODISARM_FLAG) == SS_DISABLE;
        slot->ss_sp = disable ? 0 : (unsigned long long)(uintptr_t)next.ss_sp;
        slot->ss_size = disable ? 0 : next.ss_size;
        slot->ss_flags = disable ? SS_DISABLE : next.ss_flags & SS_AUTODISARM_FLAG;
    }
    return 0;
}

/* Without a slot (more threads than slots): the frame's signal stack is the real one. */
static long sigaltstack_on_frame(int tgid, ucontext_t *uc, const unsigned long long *a)
{
    stack_t next;
    if (a[1] && self_copy(tgid, 1, &uc->uc_stack, a[1], sizeof(stack_t)) != sizeof(stack_t))
        return -14;
    if (!a[0])
        return 0;
    if (self_copy(tgid, 0, &next, a[0], sizeof(next)) != sizeof(next))
        return -14;
    if (!(next.ss_flags & SS_DISABLE) && next.ss_size < MINSIGSTKSZ_VALUE)
        return -12;
    uc->uc_stack = next;
    return 0;
}

/* 1 when the call is answered here (in *ret) instead of being made as it is. */
static int guard_entry_point(int tgid, ucontext_t *uc, struct sp_stub_slot *slot, long nr,
                             const unsigned long long *a, long *ret)
{
    unsigned long long handler = 1; /* (SIG_IGN) */
    if (nr == SYS_rt_sigaction && a[0] == 31 /* SIGSYS */ &&
        (!a[1] || (self_copy(tgid, 0, &handler, a[1], 8) == 8 && handler == 0 /* SIG_DFL */))) {
        /* Asking, or setting the default: the program's SIGSYS is at its default action, the
         * only one it can have here (a handler or SIG_IGN is refused below), so this changes
         * nothing. (env --default-signal=SYS does it before it runs a command.) */
        static const unsigned long long dfl[4] = {0, 0, 0, 0}; /* handler flags restorer mask */
        if (a[3] != 8)
            *ret = -22; /* EINVAL, as the kernel answers a mask of another size */
        else if (a[2] && self_copy(tgid, 1, (void *)dfl, a[2], sizeof(dfl)) != sizeof(dfl))
            *ret = -14; /* EFAULT */
        else
            *ret = 0;
        return 1;
    }
    if (nr == SYS_ptrace && (a[0] == 0 /* TRACEME */ || a[0] == 16 /* ATTACH */ ||
                             a[0] == 0x4206 /* SEIZE */)) {
        /* A tracer of the program's would be stopped by every trap of the stub (a SIGSYS),
         * and its tracee with it: refused, as a tracer already attached refuses it. */
        *ret = -1; /* EPERM */
        return 1;
    }
    if ((nr == SYS_rt_sigaction && a[0] == 31 /* SIGSYS */) ||
        (nr == SYS_prctl && a[0] == PR_SET_SYSCALL_USER_DISPATCH) || nr == SYS_seccomp ||
        (nr == SYS_prctl && a[0] == 22 /* PR_SET_SECCOMP: seccomp() by another name */)) {
        *ret = -1; /* EPERM: the entry point stays where it is */
        return 1;
    }
    if (nr == SYS_prctl && a[0] == 26 /* PR_SET_TSC */ && a[1] != 1 /* PR_TSC_ENABLE */)
        DATA->clock.tsc_off = 1; /* RDTSC would fault in this thread: timestamps by syscall */
    if (nr == SYS_rt_sigprocmask) {
        *ret = sigprocmask_on_frame(tgid, uc, a);
        return 1;
    }
    if (nr == SYS_sigaltstack) {
        *ret = slot ? sigaltstack_on_slot(tgid, uc, slot, a) : sigaltstack_on_frame(tgid, uc, a);
        return 1;
    }
    return call_without_sigsys(tgid, nr, a, ret);
}

/*
 * seccomp-trap: the engine is not attached between execs, but the new image needs the stub put
 * back. So the stub asks first (REQUEST, and a signal to the engine thread), waits for GO (the
 * engine has attached), and only then makes the call; the engine injects at PTRACE_EVENT_EXEC.
 */
static long exec_with_supervisor(struct sp_stub_slot *slot, const struct sp_event *ev)
{
    __atomic_store_n(&slot->exec_state, SP_EXEC_REQUEST, __ATOMIC_SEQ_CST);
    sc3(SYS_tgkill, (unsigned long long)CONFIG->supervisor_pid,
        (unsigned long long)CONFIG->supervisor_tid, (unsigned long long)CONFIG->wake_signal);
    while (__atomic_load_n(&slot->exec_state, __ATOMIC_SEQ_CST) == SP_EXEC_REQUEST) {
        futex_wait_ms(&slot->exec_state, SP_EXEC_REQUEST, 100);
        if (!supervisor_alive())
            break;
    }
    if (__atomic_load_n(&slot->exec_state, __ATOMIC_SEQ_CST) == SP_EXEC_REFUSED) {
        __atomic_store_n(&slot->exec_state, SP_EXEC_NONE, __ATOMIC_SEQ_CST);
        return -1; /* EPERM: the new image would have run without the stub */
    }
    long ret = sc6(ev->nr, ev->args[0], ev->args[1], ev->args[2], ev->args[3], ev->args[4],
                   ev->args[5]);
    /* Still here: it failed. The engine detaches again; wait until it has (NONE). A program
     * that tries the next path at once (execvp, Python's subprocess walking PATH from a vfork
     * child) would otherwise write its next REQUEST over this FAILED, and the engine, waiting
     * to see FAILED or an exec, and the stub, waiting for GO, would wait for each other. */
    __atomic_store_n(&slot->exec_state, SP_EXEC_FAILED, __ATOMIC_SEQ_CST);
    sc3(SYS_tgkill, (unsigned long long)CONFIG->supervisor_pid,
        (unsigned long long)CONFIG->supervisor_tid, (unsigned long long)CONFIG->wake_signal);
    while (__atomic_load_n(&slot->exec_state, __ATOMIC_SEQ_CST) == SP_EXEC_FAILED) {
        futex_wait_ms(&slot->exec_state, SP_EXEC_FAILED, 100);
        if (!supervisor_alive())
            break;
    }
    return ret;
}

/* This thread's slot; a task the engine did not arm (seccomp-trap's children) claims one,
 * taking a free slot or one whose thread is gone. */
/*
 * The "ask" action: hand the call to the engine and wait for its verdict, spinning first (the
 * engine may answer from the other CPU within microseconds), then sleeping on a futex. If the
 * supervisor is gone, the call is denied: nobody can decide, so it fails closed.
 */
static void ask_supervisor(struct sp_stub_slot *slot, const struct sp_event *ev,
                           struct sp_rule *verdict)
{
    struct sp_stub_ask *ask = &DATA->asks[slot - DATA->slots];
    memcpy(&ask->event, ev, offsetof(struct sp_event, data) + ev->data_len);
    __atomic_store_n(&ask->state, SP_ASK_ASKED, __ATOMIC_SEQ_CST);
    sc3(SYS_tgkill, (unsigned long long)CONFIG->supervisor_pid,
        (unsigned long long)CONFIG->supervisor_tid, (unsigned long long)CONFIG->wake_signal);
    for (unsigned int i = 0; i < CONFIG->ask_spins &&
                             __atomic_load_n(&ask->state, __ATOMIC_ACQUIRE) == SP_ASK_ASKED;
         i++)
        __builtin_ia32_pause();
    while (__atomic_load_n(&ask->state, __ATOMIC_ACQUIRE) == SP_ASK_ASKED) {
        futex_wait_ms(&ask->state, SP_ASK_ASKED, 100);
        if (!supervisor_alive()) {
            ask->state = SP_ASK_IDLE;
            verdict->action = SP_DENY;
            verdict->value = 1; /* EPERM */
            return;
        }
    }
    verdict->action = (unsigned char)ask->action;
    verdict->value = ask->action == SP_DENY ? -ask->value : ask->value;
    verdict->rewrite_mask = 0x3f;
    for (int i = 0; i < SP_NARGS; i++)
        verdict->rewrite[i] = ask->args[i];
    ask->state = SP_ASK_IDLE;
}

static struct sp_stub_slot *my_slot(int tid)
{
    for (int i = 0; i < SP_STUB_SLOTS; i++)
        if (DATA->slots[i].tid == tid)
            return &DATA->slots[i];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < SP_STUB_SLOTS; i++) {
            struct sp_stub_slot *slot = &DATA->slots[i];
            int owner = slot->tid;
            if (owner != 0 && (pass == 0 || sc3(SYS_kill, (unsigned long long)owner, 0, 0) != -3))
                continue; /* -ESRCH: that thread is gone */
            if (slot->push_depth)
                continue; /* it died in ring_push: the drainer frees the slot */
            if (__atomic_compare_exchange_n(&slot->tid, &owner, tid, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
                sp_stub_slot_taken(DATA, i);
                slot->tgid = (int)sc3(SYS_getpid, 0, 0, 0);
                slot->exec_state = SP_EXEC_NONE;
                slot->selector = SP_SELECTOR_ALLOW;
                slot->ss_known = 0;
                DATA->clone_return[i].words[0] = 0;
                if (CONFIG->mode == SP_STUB_MODE_SUD) /* a new thread or child: arm itself */
                    sc6(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, 1 /* ON */, SP_STUB_CODE_ADDR,
                        SP_STUB_CODE_SIZE, (unsigned long long)(uintptr_t)&slot->selector, 0);
                return slot;
            }
        }
    }
    return 0;
}

/* ---- whose trap this is --------------------------------------------------------------------
 * A trap on a slot's own signal stack is that slot's thread's, without asking the kernel
 * (gettid is a syscall, most of a tenth of an allowed call): the thread writes its tid at the
 * bottom of its stub stack, which is private memory (a forked child has its own copy), and
 * clears it before every call that makes a task, so a child that inherits the signal stack
 * (fork, vfork) asks the kernel at its first trap. Both filters send every such call here
 * (under `sud` Syscall User Dispatch does; a new thread gets no signal stack from its parent,
 * so it asks the kernel too). */
static volatile int *stack_owner(const struct sp_stub_slot *slot)
{
    size_t index = (size_t)(slot - DATA->slots);
    return (volatile int *)(uintptr_t)(SP_STUB_STACKS_ADDR + index * SP_STUB_STACK_SIZE);
}

static struct sp_stub_slot *slot_of_stack(int *tid)
{
    unsigned long long sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    if (sp < SP_STUB_STACKS_ADDR || sp >= SP_STUB_STACKS_ADDR + SP_STUB_STACKS_SIZE)
        return 0;
    struct sp_stub_slot *slot = &DATA->slots[(sp - SP_STUB_STACKS_ADDR) / SP_STUB_STACK_SIZE];
    int owner = *stack_owner(slot);
    if (owner == 0 || slot->tid != owner)
        return 0;
    *tid = owner;
    return slot;
}

static int makes_a_task(int arch, long nr)
{
    if (arch == 0)
        return nr == SYS_clone || nr == SYS_fork || nr == SYS_vfork || nr == SYS_clone3;
    return arch == 1 && (nr == 2 || nr == 120 || nr == 190 || nr == 435); /* i386 numbers */
}

/* ---- calls that make a task ----------------------------------------------------------------
 * Only a child forked with no stack of its own can return through this handler: it runs on
 * its own copy of everything, the signal stack included. A thread (a new stack) or a vfork
 * child (its parent's stack and memory) cannot: it would run the rest of the handler on a stack
 * that is not its own, or trample the frame its parent returns through. Those calls are made
 * after the handler has returned, from the slot's clone cell (entry.S), whose syscall
 * instruction lies in the stub's range: both filters and Syscall User Dispatch let it through,
 * and the selector stays closed (running the program's own instruction again with it open
 * once let the thread's next call through unseen, when that was a clone too). i386 calls of
 * these are made in the handler whatever they are (not supported for threads and vfork). */
enum { TASK_FORKED, TASK_NEW_STACK, TASK_SHARED_STACK };
#define CLONE_VM_FLAG 0x100ULL

struct clone_args_head { /* the start of struct clone_args (CLONE_ARGS_SIZE_VER0 is 64) */
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size;
};

/* What kind of task the x86_64 call `nr` makes; `new_sp` is the new stack's pointer. */
static int task_kind(int tgid, long nr, const unsigned long long *args, unsigned long long *new_sp)
{
    unsigned long long flags, stack;
    *new_sp = 0;
    if (nr == SYS_fork)
        return TASK_FORKED;
    if (nr == SYS_vfork)
        return TASK_SHARED_STACK;
    if (nr == SYS_clone) {
        flags = args[0];
        stack = args[1];
    } else {
        struct clone_args_head head;
        if (args[1] < 64 || self_copy(tgid, 0, &head, args[0], sizeof head) != sizeof head)
            return TASK_FORKED; /* the kernel fails it (EINVAL, EFAULT): no task */
        if ((head.stack == 0) != (head.stack_size == 0))
            return TASK_FORKED; /* EINVAL too */
        flags = head.flags;
        stack = head.stack ? head.stack + head.stack_size : 0;
    }
    *new_sp = stack;
    if (stack)
        return TASK_NEW_STACK;
    return (flags & CLONE_VM_FLAG) ? TASK_SHARED_STACK : TASK_FORKED;
}

/* entry.S: the two families of clone cells, SP_STUB_SLOTS cells each. */
extern char sp_stub_clone_cells[] __attribute__((visibility("hidden")));
extern char sp_stub_clone_cells_shared[] __attribute__((visibility("hidden")));

/* Make the call from the slot's clone cell: 0, or -errno to fail it with. */
static long enter_clone_cell(int tgid, struct sp_stub_slot *slot, greg_t *g, long nr, int kind,
                             unsigned long long new_sp)
{
    size_t index = (size_t)(slot - DATA->slots);
    struct sp_stub_clone_return *back = &DATA->clone_return[index];
    unsigned long long depth = back->words[0];
    unsigned long long rip = (unsigned long long)g[REG_RIP];
    if (depth >= SP_STUB_CLONE_RETURN_DEPTH)
        return -11; /* EAGAIN: handlers of the program's nested that deep in clone cells */
    if (kind == TASK_NEW_STACK && self_copy(tgid, 1, &rip, new_sp - 8, 8) != 8)
        return -14; /* EFAULT: the child could not have run on that stack */
    /* Reserve, then write: a handler of the program's that traps in between takes the next. */
    back->words[0] = depth + 1;
    back->words[depth + 1] = rip;
    char *cells = kind == TASK_SHARED_STACK ? sp_stub_clone_cells_shared : sp_stub_clone_cells;
    g[REG_RIP] = (greg_t)(uintptr_t)(cells + index * SP_STUB_CLONE_CELL_SIZE);
    g[REG_RAX] = nr;
    return 0;
}

/* ---- the entry point ------------------------------------------------------------------------ */

/* A SIGSYS that is no trap (raise(SIGSYS), kill -SYS): what the kernel would do with it at the
 * default action, which is the program's (see guard_entry_point): end the process, with a core.
 * (Under seccomp-trap the filter ends it already at the rt_sigaction, made from the stub's
 * range: killed by SIGSYS all the same.) */
static void die_of_sigsys(void)
{
    static const unsigned long long dfl[4] = {0, 0, 0, 0};
    sc6(SYS_rt_sigaction, 31, (unsigned long long)(uintptr_t)dfl, 0, 8, 0, 0);
    sc3(SYS_tgkill, (unsigned long long)sc3(SYS_getpid, 0, 0, 0),
        (unsigned long long)sc3(SYS_gettid, 0, 0, 0), 31); /* unblocked (SA_NODEFER): now */
}

void sp_stub_handler(int sig, siginfo_t *info, void *context)
{
    ucontext_t *uc = context;
    greg_t *g = uc->uc_mcontext.gregs;
    long nr = info->si_syscall;
    int tid;
    if (info->si_code != 1 /* SYS_SECCOMP */ && info->si_code != 2 /* SYS_USER_DISPATCH */) {
        /* Not a trap: its siginfo has no syscall, and taking one from it would run a call
         * (number 0, read) with whatever the registers held, and clobber rax. */
        die_of_sigsys();
        return;
    }
    struct sp_stub_slot *slot = slot_of_stack(&tid);
    (void)sig;
    if (!slot) {
        tid = (int)sc3(SYS_gettid, 0, 0, 0);
        slot = my_slot(tid);
        if (slot)
            *stack_owner(slot) = tid;
    }
    if (slot) {
        slot->selector = SP_SELECTOR_ALLOW;
        if (!slot->ss_known)
            learn_signal_stack(slot, &uc->uc_stack);
    }
    int arch = info->si_arch == AUDIT_ARCH_X86_64_VALUE ? 0
             : info->si_arch == AUDIT_ARCH_I386_VALUE   ? 1
                                                         : -1;
    if (slot && makes_a_task(arch, nr))
        *stack_owner(slot) = 0; /* a child may inherit this stack: see slot_of_stack */

    if (nr == SYS_rt_sigreturn && info->si_arch == AUDIT_ARCH_X86_64_VALUE) {
        /* Another handler's return, through libc's restorer: finish it from our range. */
        g[REG_RIP] = (greg_t)(SP_STUB_CODE_ADDR + SP_STUB_RESTORER_OFF);
        goto out;
    }
    int guard = guard_enter(tid);

    const struct sp_rule *rule =
        arch < 0 ? &DATA->rules[0][SP_NR_MAX]
        : (nr < 0 || nr >= SP_NR_MAX) ? &DATA->rules[arch][SP_NR_MAX]
                                      : &DATA->rules[arch][nr];
    if (arch >= 0 && nr >= 0 && nr < SP_NR_MAX)
        __atomic_add_fetch(&DATA->counts[arch][nr], 1, __ATOMIC_RELAXED);

    static const int x86_64_regs[6] = {REG_RDI, REG_RSI, REG_RDX, REG_R10, REG_R8, REG_R9};
    static const int i386_regs[6] = {REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP};
    const int *regs = arch == 1 ? i386_regs : x86_64_regs;
    int record = (rule->flags & SP_RULE_RECORD) != 0 && !DATA->supervisor_gone;

    struct sp_event ev;
    ev.kind = SP_EV_SYSCALL;
    ev.flags = 0;
    ev.pid = slot ? slot->tgid : (int)sc3(SYS_getpid, 0, 0, 0);
    ev.tid = tid;
    ev.arch = info->si_arch;
    ev.nr = (int)nr;
    for (int i = 0; i < SP_NARGS; i++)
        ev.args[i] = (unsigned long long)g[regs[i]];
    ev.ret = 0;
    ev.nseg = 0;
    ev.data_len = 0;
    ev.sig = ev.status = ev.sig_code = ev.sig_pid = ev.sig_uid = ev.sig_status = 0;
    if (record || rule->action == SP_CALLBACK) {
        ev.t_entry_ns = now_ns();
        capture(&ev, rule, 0);
    }
    struct sp_rule verdict = *rule;
    if (rule->action == SP_CALLBACK && slot) {
        ask_supervisor(slot, &ev, &verdict);
        ev.flags |= SP_EVF_CALLBACK;
    }
    else if (rule->action == SP_CALLBACK)
        verdict.action = SP_DENY, verdict.value = 1; /* no slot, nobody to ask: fail closed */
    rule = &verdict;

    long ret = 0;
    int answered = 0, made = 0; /* made: the call was made in here */
    if (rule->action == SP_DENY) {
        ret = -rule->value;
        ev.flags |= SP_EVF_DENIED;
        answered = 1;
    } else if (rule->action == SP_EMULATE) {
        ret = rule->value;
        ev.flags |= SP_EVF_EMULATED;
        answered = 1;
    } else if (rule->action == SP_REWRITE) {
        for (int i = 0; i < SP_NARGS; i++)
            if (rule->rewrite_mask & (1u << i))
                ev.args[i] = rule->rewrite[i];
        ev.flags |= SP_EVF_REWRITTEN;
    }
    int task = TASK_FORKED;
    unsigned long long new_sp = 0;
    if (!answered && arch == 0 && makes_a_task(0, nr))
        task = task_kind(ev.pid, nr, ev.args, &new_sp);
    if (task != TASK_FORKED) {
        ret = slot ? enter_clone_cell(ev.pid, slot, g, nr, task, new_sp) : -11 /* EAGAIN */;
        answered = ret != 0; /* else the cell makes it */
    }
    if (task != TASK_FORKED && !answered) {
        /* Made from the slot's clone cell once this handler has returned (see task_kind),
         * with the arguments the policy gave. The result goes straight to the program: the
         * event has none. */
        for (int i = 0; i < SP_NARGS; i++)
            g[regs[i]] = (greg_t)ev.args[i];
        if (record) {
            ev.flags |= SP_EVF_NORETURN;
            ev.t_exit_ns = 0;
            ring_push(slot, &ev);
        }
        guard_leave(tid, guard);
        arm_signal_stack(uc, slot);
        slot->selector = SP_SELECTOR_BLOCK; /* the cell is in the stub's range: it passes */
        return;
    }
    if (!answered && arch == 0 && guard_entry_point(ev.pid, uc, slot, nr, ev.args, &ret)) {
        if (ret == -1) {
            ev.flags |= SP_EVF_DENIED;
        }
        answered = 1;
    }
    if (!answered && arch == 1) {
        if (nr == 172 /* i386 prctl */ && ev.args[0] == 26 /* PR_SET_TSC */ && ev.args[1] != 1)
            DATA->clock.tsc_off = 1; /* as guard_entry_point does for x86_64 */
        if (nr == 1 /* exit */)
            guard_leave(tid, guard); /* the thread ends in the call: it must not stay counted */
        ret = sc6_i386(nr, ev.args[0], ev.args[1], ev.args[2], ev.args[3], ev.args[4],
                       ev.args[5]);
        answered = made = 1;
    } else if (!answered && arch < 0) {
        ret = -38; /* ENOSYS: an ABI the stub does not know */
        answered = 1;
    }
    if (!answered) {
        made = 1;
        if (record && (nr == SYS_exit || nr == SYS_exit_group)) {
            ev.flags |= SP_EVF_NORETURN;
            ev.t_exit_ns = 0;
            ring_push(slot, &ev); /* it does not come back */
        }
        if ((nr == SYS_execve || nr == SYS_execveat) && slot && record) {
            /* A successful execve never comes back here: the engine sends this at the exec. */
            size_t index = (size_t)(slot - DATA->slots);
            ev.flags |= SP_EVF_NORETURN;
            memcpy(&DATA->exec_pending[index], &ev, offsetof(struct sp_event, data) + ev.data_len);
            ev.flags &= ~SP_EVF_NORETURN;
        }
        if (nr == SYS_execve || nr == SYS_execveat) {
            /* The new image inherits the signal mask, and inside this handler SIGSYS is
             * blocked: it would be born unable to trap. Give it the program's own mask. */
            sc6(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, (unsigned long long)(uintptr_t)&uc->uc_sigmask,
                0, 8, 0, 0);
        }
        if (slot && !DATA->supervisor_gone && (nr == SYS_execve || nr == SYS_execveat))
            ret = exec_with_supervisor(slot, &ev);
        else if (nr == SYS_exit) {
            guard_leave(tid, guard); /* the thread ends in the call: it must not stay counted */
            ret = sc6(nr, ev.args[0], ev.args[1], ev.args[2], ev.args[3], ev.args[4],
                      ev.args[5]);
        } else
            ret = sc6(nr, ev.args[0], ev.args[1], ev.args[2], ev.args[3], ev.args[4],
                      ev.args[5]);
    }
    if (made && makes_a_task(arch, nr)) {
        if (ret == 0) {
            /* The child, forked in here (task_kind): a process of its own, on its copy of its
             * parent's signal stack. It takes a slot of its own, with the signal stack it
             * inherited, and records nothing: the parent's event has the call. */
            struct sp_stub_slot *parent = slot;
            tid = (int)sc3(SYS_gettid, 0, 0, 0);
            slot = my_slot(tid);
            if (slot && parent) {
                slot->ss_sp = parent->ss_sp;
                slot->ss_size = parent->ss_size;
                slot->ss_flags = parent->ss_flags;
                slot->ss_known = parent->ss_known;
            }
            record = 0;
        } else if (slot) {
            *stack_owner(slot) = tid; /* the parent: still this slot's */
        }
    }
    if ((nr == SYS_execve || nr == SYS_execveat) && slot && arch == 0)
        DATA->exec_pending[slot - DATA->slots].kind = 0; /* failed: recorded below instead */
    g[REG_RAX] = ret;
    if (arch >= 0 && nr >= 0 && nr < SP_NR_MAX && ret < 0 && ret >= -ERRNO_MAX)
        __atomic_add_fetch(&DATA->errors[arch][nr], 1, __ATOMIC_RELAXED);
    if (record) {
        ev.ret = ret;
        ev.t_exit_ns = now_ns();
        if (ev.t_exit_ns < ev.t_entry_ns)
            ev.t_exit_ns = ev.t_entry_ns; /* the TSC mapping's error (tens of ns), or its
                                           * refresh, or a prctl that turned the TSC off */
        capture(&ev, rule, 1);
        ring_push(slot, &ev);
    }
    guard_leave(tid, guard);
out:
    if (slot) {
        arm_signal_stack(uc, slot);
        slot->selector = SP_SELECTOR_BLOCK;
    }
}
