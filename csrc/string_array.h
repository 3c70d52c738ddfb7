/*
 * string_array.h - arrays in the traced process's memory that a syscall names: execve's argv
 * (copied into an event segment) and envp (counted), the records getdents fills in (counted),
 * the buffers of an iovec array (copied), and how long select's fd_sets are.
 *
 * Shared by the engine (memory.c reads a tracee with process_vm_readv) and the stub (stub.c
 * reads its own process the same way): static functions over a read callback, no libc, so the
 * freestanding stub can include it. Nothing here writes to the process read.
 *
 * An array segment holds one record per element, in order: a flag byte (SP_ELEM_*), the
 * string's bytes, a NUL. The segment is SP_SEGF_TRUNCATED when elements were left out (no
 * room), and SP_SEGF_FAULT when the array itself could not be read.
 */
#ifndef SPLITPRIV_STRING_ARRAY_H
#define SPLITPRIV_STRING_ARRAY_H

#include <stddef.h>

#include "splitpriv.h"

enum {
    SP_ELEM_WHOLE = 0,   /* the whole string */
    SP_ELEM_CUT = 1,     /* the first bytes of a longer string */
    SP_ELEM_FAULT = 2,   /* unreadable: the bytes are the pointer, 8 little-endian bytes */
    SP_ARRAY_MAX = 4096, /* entries read at most (argv copied, envp counted) */
    SP_IOV_MAX = 32,     /* iovecs read at most (strace prints 32 with its default -s) */
    SP_IOV_HEADER = 13,  /* an iovec's record: iov_len (8 bytes), flag, byte count (4 bytes) */
    SP_CONTROL_MAX = 256, /* bytes of a msghdr's control data copied at most */
};

/* struct msghdr on x86_64, as 8-byte words (msg_namelen and msg_flags are ints). */
enum {
    SP_MSG_NAME, SP_MSG_NAMELEN, SP_MSG_IOV, SP_MSG_IOVLEN, SP_MSG_CONTROL, SP_MSG_CONTROLLEN,
    SP_MSG_FLAGS, SP_MSGHDR_WORDS
};

/* The msghdr words out of the segment that just copied it (no second read): 1, or 0 when the
 * copy is missing or short. */
static int sp_msghdr_words(const struct sp_event *ev, unsigned short nseg_before,
                           unsigned long long *m)
{
    if (ev->nseg != nseg_before + 1 || ev->seg[nseg_before].len != SP_MSGHDR_WORDS * 8)
        return 0;
    const unsigned char *bytes = (const unsigned char *)ev->data + ev->seg[nseg_before].off;
    for (int w = 0; w < SP_MSGHDR_WORDS; w++) {
        m[w] = 0;
        for (int b = 7; b >= 0; b--)
            m[w] = (m[w] << 8) | bytes[8 * w + b];
    }
    return 1;
}

/* The bytes of an fd_set of nfds bits that select reads, in whole 8-byte words (at most
 * FD_SETSIZE, 1024 bits). */
static inline unsigned long long sp_fdset_bytes(unsigned long long nfds)
{
    long long n = (long long)(int)nfds;
    if (n <= 0)
        return 0;
    if (n > 1024)
        n = 1024;
    return (unsigned long long)((n + 63) / 64 * 8);
}

/* Whether a call's result says a signal cut it short: -EINTR, or -ERESTARTSYS (512) up to
 * -ERESTART_RESTARTBLOCK (516), which a tracer sees before the kernel restarts the call. */
static inline int sp_cut_short(long long ret)
{
    return ret == -4 || (ret <= -512 && ret >= -516);
}

/* Reads len bytes at addr; the count read (short at an unmapped page), or <= 0. */
typedef long (*sp_read_fn)(void *ctx, unsigned long long addr, void *dst, size_t len);

/* Entries of a pointer array (4-byte pointers for i386), read 64 at a time. */
struct sp_ptr_reader {
    sp_read_fn read;
    void *ctx;
    unsigned long long array;
    int wide;
    unsigned long base, count;
    unsigned long long buf[64];
};

static void sp_ptr_reader_init(struct sp_ptr_reader *r, sp_read_fn read, void *ctx,
                               unsigned long long array, int wide)
{
    /* Field by field: a zeroing initializer could become a memset call the stub cannot make. */
    r->read = read;
    r->ctx = ctx;
    r->array = array;
    r->wide = wide;
    r->base = r->count = 0;
}

/* Entry k (k only grows): 1 and the pointer, or 0 when it cannot be read. */
static int sp_array_entry(struct sp_ptr_reader *r, unsigned long k, unsigned long long *ptr)
{
    size_t size = r->wide ? 8 : 4;
    if (k < r->base || k >= r->base + r->count) {
        long n = r->read(r->ctx, r->array + k * size, r->buf, sizeof(r->buf));
        r->base = k;
        r->count = n > 0 ? (unsigned long)n / size : 0;
        if (r->count == 0)
            return 0;
    }
    unsigned long i = k - r->base;
    *ptr = r->wide ? r->buf[i] : ((const unsigned int *)r->buf)[i];
    return 1;
}

/* Up to max bytes of the string at addr into dst, page by page (one ending just before an
 * unmapped page is still read whole). The length copied; *whole says whether its NUL came. */
static size_t sp_read_cstring(sp_read_fn read, void *ctx, unsigned long long addr, char *dst,
                              size_t max, int *whole)
{
    size_t got = 0;
    *whole = 0;
    while (got < max) {
        size_t chunk = 4096 - (size_t)((addr + got) & 4095);
        if (chunk > max - got)
            chunk = max - got;
        long n = read(ctx, addr + got, dst + got, chunk);
        if (n <= 0)
            break;
        for (long i = 0; i < n; i++) {
            if (dst[got + (size_t)i] == '\0') {
                *whole = 1;
                return got + (size_t)i;
            }
        }
        got += (size_t)n;
    }
    return got;
}

/* argv: each element's record into dst (room bytes), each string cut at per_string bytes.
 * Returns the bytes used; sets SP_SEGF_* in *flags. */
static size_t sp_copy_string_array(sp_read_fn read, void *ctx, unsigned long long array, int wide,
                                   char *dst, size_t room, size_t per_string, unsigned char *flags)
{
    struct sp_ptr_reader r;
    sp_ptr_reader_init(&r, read, ctx, array, wide);
    size_t used = 0;
    for (unsigned long k = 0;; k++) {
        unsigned long long ptr;
        if (!sp_array_entry(&r, k, &ptr)) {
            if (k == 0)
                *flags |= SP_SEGF_FAULT;
            return used;
        }
        if (ptr == 0)
            return used;
        if (k >= SP_ARRAY_MAX || room - used < 2 + 8) {
            *flags |= SP_SEGF_TRUNCATED;
            return used;
        }
        size_t max = room - used - 2;
        if (max > per_string)
            max = per_string;
        int whole;
        size_t len = sp_read_cstring(read, ctx, ptr, dst + used + 1, max, &whole);
        if (len == 0 && !whole) {
            dst[used] = SP_ELEM_FAULT;
            for (int b = 0; b < 8; b++)
                dst[used + 1 + (size_t)b] = (char)(ptr >> (8 * b));
            len = 8;
        } else {
            dst[used] = whole ? SP_ELEM_WHOLE : SP_ELEM_CUT;
        }
        dst[used + 1 + len] = '\0';
        used += len + 2;
    }
}

/* envp: how many entries before the NULL (at most SP_ARRAY_MAX), or -1 when unreadable. */
static long sp_count_string_array(sp_read_fn read, void *ctx, unsigned long long array, int wide)
{
    struct sp_ptr_reader r;
    sp_ptr_reader_init(&r, read, ctx, array, wide);
    for (unsigned long k = 0; k < SP_ARRAY_MAX; k++) {
        unsigned long long ptr;
        if (!sp_array_entry(&r, k, &ptr))
            return k == 0 ? -1 : (long)k;
        if (ptr == 0)
            return (long)k;
    }
    return SP_ARRAY_MAX;
}

/* getdents/getdents64: how many records the kernel wrote in len bytes at addr (each record's
 * length is the u16 at offset 16 on x86_64), read a window at a time; -1 when unreadable. */
static long sp_count_dirents(sp_read_fn read, void *ctx, unsigned long long addr, size_t len)
{
    unsigned char window[4096];
    size_t pos = 0;
    long count = 0;
    while (pos + 18 <= len) {
        size_t want = len - pos < sizeof(window) ? len - pos : sizeof(window);
        long n = read(ctx, addr + pos, window, want);
        if (n < 18)
            return count ? count : -1;
        size_t at = 0;
        while (at + 18 <= (size_t)n) {
            unsigned int reclen = window[at + 16] | (unsigned int)window[at + 17] << 8;
            if (reclen == 0)
                return count; /* not a record: stop rather than loop */
            count++;
            at += reclen;
        }
        pos += at;
    }
    return count;
}

/* Little-endian bytes of value into dst (no memcpy: the stub has none). */
static void sp_put_le(char *dst, unsigned long long value, int bytes)
{
    for (int b = 0; b < bytes; b++)
        dst[b] = (char)(value >> (8 * b));
}

/* The buffers of an iovec array (x86_64 layout) of count entries, one record per iovec into
 * dst (room bytes): its iov_len, a flag (SP_ELEM_*), the count n of bytes that follow, and n
 * bytes of its data. In all no more than budget bytes of data (readv: what it returned), each
 * buffer cut at per_buffer bytes and at its share of the room, so that every iovec read gets
 * its record. An unreadable buffer: SP_ELEM_FAULT and its address (8 bytes). Returns the
 * bytes used; sets SP_SEGF_* in *flags. */
static size_t sp_copy_iovec(sp_read_fn read, void *ctx, unsigned long long array,
                            unsigned long long count, unsigned long long budget, char *dst,
                            size_t room, size_t per_buffer, unsigned char *flags)
{
    unsigned long long iov[2 * SP_IOV_MAX];
    unsigned long long n = count < SP_IOV_MAX ? count : SP_IOV_MAX;
    if (n == 0)
        return 0;
    long got = read(ctx, array, iov, (size_t)n * 16);
    if (got < 16) {
        *flags |= SP_SEGF_FAULT;
        return 0;
    }
    if ((unsigned long long)got / 16 < n)
        n = (unsigned long long)got / 16;
    if (n < count)
        *flags |= SP_SEGF_TRUNCATED;
    size_t used = 0;
    for (unsigned long long k = 0; k < n; k++) {
        unsigned long long base = iov[2 * k], len = iov[2 * k + 1];
        size_t left = (size_t)(n - k);
        if (room - used < left * SP_IOV_HEADER + 8) {
            *flags |= SP_SEGF_TRUNCATED;
            break;
        }
        unsigned long long there = len < budget ? len : budget; /* the bytes it holds */
        size_t want = (room - used - left * SP_IOV_HEADER) / left;
        if (want > per_buffer)
            want = per_buffer;
        if (want > there)
            want = (size_t)there;
        char *rec = dst + used;
        long copied = want ? read(ctx, base, rec + SP_IOV_HEADER, want) : 0;
        sp_put_le(rec, len, 8);
        if (copied < 0 || (want && copied == 0) || base == 0) { /* (NULL: strace says so) */
            rec[8] = SP_ELEM_FAULT;
            sp_put_le(rec + SP_IOV_HEADER, base, 8);
            copied = 8;
        } else {
            rec[8] = (unsigned long long)copied < there ? SP_ELEM_CUT : SP_ELEM_WHOLE;
        }
        sp_put_le(rec + 9, (unsigned long long)copied, 4);
        used += SP_IOV_HEADER + (size_t)copied;
        budget -= there;
    }
    return used;
}

#endif
