/*
 * memory.c - copies the strings and buffers a syscall names out of the tracee.
 *
 * The rule of each syscall says, per argument, what to copy (SP_CAPTURE_*): a NUL-terminated
 * string, execve's argv (or how many strings envp holds), a buffer whose length is another
 * argument, or a small struct (at entry); a buffer whose length is the return value, a few
 * ints or a small struct the kernel wrote (at exit). Bytes go into the event's data area as
 * segments. Reads use process_vm_readv, one page at a time for strings so that a string ending
 * just before an unmapped page is still read whole. Nothing here ever writes to the tracee.
 */
#include "engine_internal.h"
#include "string_array.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

static ssize_t read_remote(pid_t tid, unsigned long long addr, void *dst, size_t len)
{
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    return process_vm_readv(tid, &local, 1, &remote, 1, 0);
}

static struct sp_segment *new_segment(struct sp_event *ev, int arg, size_t *room)
{
    if (ev->nseg >= SP_SEG_MAX || ev->data_len >= SP_DATA_MAX)
        return NULL;
    struct sp_segment *seg = &ev->seg[ev->nseg++];
    seg->arg = (unsigned char)arg;
    seg->flags = 0;
    seg->len = 0;
    seg->off = ev->data_len;
    *room = SP_DATA_MAX - ev->data_len;
    return seg;
}

static void copy_string(struct sp_session *s, struct sp_tracee *tr, int arg)
{
    size_t room, limit = s->config.string_limit;
    struct sp_segment *seg = new_segment(&tr->ev, arg, &room);
    if (!seg)
        return;
    if (limit > room)
        limit = room;
    unsigned long long addr = tr->ev.args[arg];
    char *dst = tr->ev.data + seg->off;
    size_t got = 0;
    if (addr == 0) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    while (got < limit) {
        size_t to_page_end = (size_t)s->page_size - (size_t)((addr + got) % (size_t)s->page_size);
        size_t want = limit - got < to_page_end ? limit - got : to_page_end;
        ssize_t n = read_remote(tr->tid, addr + got, dst + got, want);
        if (n <= 0) {
            if (got == 0)
                seg->flags |= SP_SEGF_FAULT;
            break;
        }
        char *nul = memchr(dst + got, '\0', (size_t)n);
        if (nul) {
            got = (size_t)(nul - dst);
            seg->len = (unsigned short)got;
            tr->ev.data_len += (unsigned short)(got + 1);
            return;
        }
        got += (size_t)n;
    }
    seg->len = (unsigned short)got;
    if (got == limit)
        seg->flags |= SP_SEGF_TRUNCATED;
    tr->ev.data_len += (unsigned short)got;
}

static void copy_at(struct sp_session *s, struct sp_tracee *tr, int arg, unsigned long long addr,
                    unsigned long long len, int at_exit)
{
    size_t room, limit = s->config.string_limit;
    struct sp_segment *seg = new_segment(&tr->ev, arg, &room);
    if (!seg)
        return;
    if (limit > room)
        limit = room;
    if (at_exit)
        seg->flags |= SP_SEGF_EXIT;
    size_t want = len < limit ? (size_t)len : limit;
    if (want < len)
        seg->flags |= SP_SEGF_TRUNCATED;
    if (want == 0)
        return;
    ssize_t n = read_remote(tr->tid, addr, tr->ev.data + seg->off, want);
    if (n <= 0) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    seg->len = (unsigned short)n;
    tr->ev.data_len += (unsigned short)n;
}

/* The buffer argument arg points to, len bytes (cut at the string limit). */
static void copy_buffer(struct sp_session *s, struct sp_tracee *tr, int arg,
                        unsigned long long len, int at_exit)
{
    copy_at(s, tr, arg, tr->ev.args[arg], len, at_exit);
}

/* Where rt_sigreturn finds the mask it restores, from the stack pointer at its entry: the
 * handler's return popped the frame's return address, so the stack pointer is at the frame's
 * struct ucontext, whose uc_sigmask follows uc_flags, uc_link, uc_stack and uc_mcontext. */
#define SIGFRAME_MASK_OFFSET (8 + 8 + 24 + 256)

static long read_tracee(void *ctx, unsigned long long addr, void *dst, size_t len)
{
    return read_remote(*(const pid_t *)ctx, addr, dst, len);
}

/* execve's argv (string_array.h), each string cut at the string limit. */
static void copy_argv(struct sp_session *s, struct sp_tracee *tr, int arg)
{
    size_t room;
    struct sp_segment *seg = new_segment(&tr->ev, arg, &room);
    if (!seg)
        return;
    if (tr->ev.args[arg] == 0) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    int wide = tr->ev.arch != AUDIT_ARCH_I386_VALUE;
    size_t used = sp_copy_string_array(read_tracee, &tr->tid, tr->ev.args[arg], wide,
                                       tr->ev.data + seg->off, room, s->config.string_limit,
                                       &seg->flags);
    seg->len = (unsigned short)used;
    tr->ev.data_len += (unsigned short)used;
}

/* The buffers of the iovec array at array (string_array.h), labelled label: at entry all
 * they hold, at exit what the call returned. Only x86_64's layout. */
static void copy_iovec(struct sp_session *s, struct sp_tracee *tr, int label,
                       unsigned long long array, unsigned long long count, int at_exit)
{
    size_t room;
    if (tr->ev.arch != AUDIT_ARCH_X86_64_VALUE)
        return;
    struct sp_segment *seg = new_segment(&tr->ev, label, &room);
    if (!seg)
        return;
    if (at_exit)
        seg->flags |= SP_SEGF_EXIT;
    unsigned long long budget = at_exit ? (unsigned long long)tr->ev.ret : ~0ull;
    size_t used = sp_copy_iovec(read_tracee, &tr->tid, array, count, budget,
                                tr->ev.data + seg->off, room, s->config.string_limit,
                                &seg->flags);
    seg->len = (unsigned short)used;
    tr->ev.data_len += (unsigned short)used;
}

/* A struct msghdr (x86_64) at argument arg and what it points to; see SP_CAPTURE_MSGHDR_*. */
static void copy_msghdr(struct sp_session *s, struct sp_tracee *tr, int arg, int sends,
                        int at_exit)
{
    unsigned long long m[SP_MSGHDR_WORDS], addr = tr->ev.args[arg];
    if (tr->ev.arch != AUDIT_ARCH_X86_64_VALUE)
        return;
    unsigned short before = tr->ev.nseg;
    copy_at(s, tr, at_exit ? arg + SP_SEG_AFTER : arg, addr, sizeof(m), at_exit);
    if ((!sends && !at_exit) || !sp_msghdr_words(&tr->ev, before, m))
        return;
    copy_iovec(s, tr, arg + SP_SEG_IOV, m[SP_MSG_IOV], m[SP_MSG_IOVLEN], at_exit);
    unsigned long long namelen = m[SP_MSG_NAMELEN] & 0xffffffffull;
    if (m[SP_MSG_NAME] >= SP_LOWEST_ADDRESS && namelen)
        copy_at(s, tr, arg + SP_SEG_NAME, m[SP_MSG_NAME], namelen < 128 ? namelen : 128,
                at_exit);
    unsigned long long controllen = m[SP_MSG_CONTROLLEN];
    if (m[SP_MSG_CONTROL] >= SP_LOWEST_ADDRESS && controllen)
        copy_at(s, tr, arg + SP_SEG_CONTROL, m[SP_MSG_CONTROL],
                controllen < SP_CONTROL_MAX ? controllen : SP_CONTROL_MAX, at_exit);
}

/* A count (of envp's strings, of getdents' records) as an int segment; -1: unreadable. */
static void put_count(struct sp_tracee *tr, int arg, int at_exit)
{
    size_t room;
    struct sp_segment *seg = new_segment(&tr->ev, arg, &room);
    if (!seg)
        return;
    if (at_exit)
        seg->flags |= SP_SEGF_EXIT;
    long count = -1;
    unsigned long long addr = tr->ev.args[arg];
    if (addr && room >= sizeof(int) && at_exit)
        count = sp_count_dirents(read_tracee, &tr->tid, addr, (size_t)tr->ev.ret);
    else if (addr && room >= sizeof(int))
        count = sp_count_string_array(read_tracee, &tr->tid, addr,
                                      tr->ev.arch != AUDIT_ARCH_I386_VALUE);
    if (count < 0) {
        seg->flags |= SP_SEGF_FAULT;
        return;
    }
    int value = (int)count;
    memcpy(tr->ev.data + seg->off, &value, sizeof(value));
    seg->len = sizeof(value);
    tr->ev.data_len += sizeof(value);
}

void sp_capture_entry(struct sp_session *s, struct sp_tracee *tr)
{
    const unsigned char *capture = tr->rule->capture;
    for (int i = 0; i < SP_NARGS; i++) {
        unsigned char c = capture[i];
        if (c == SP_CAPTURE_CSTRING)
            copy_string(s, tr, i);
        else if (c == SP_CAPTURE_ARGV)
            copy_argv(s, tr, i);
        else if (c == SP_CAPTURE_ENVC)
            put_count(tr, i, 0);
        else if ((c & 0xe0) == SP_CAPTURE_IN_WORDS && tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, (unsigned long long)(c & 0x1f) * 8, 0);
        else if (c == SP_CAPTURE_POLLFDS && i + 1 < SP_NARGS && tr->ev.args[i])
            copy_buffer(s, tr, i, (tr->ev.args[i + 1] & 0xffffffffull) * 8, 0);
        else if (c == SP_CAPTURE_SOCKADDR_OUT && i + 1 < SP_NARGS && tr->ev.args[i + 1])
            copy_buffer(s, tr, i + 1, sizeof(int), 0); /* the length the program offers */
        else if ((c & 0xf0) == SP_CAPTURE_BUF_ARG && (c & 0x0f) < SP_NARGS)
            copy_buffer(s, tr, i, tr->ev.args[c & 0x0f], 0);
        else if (c == SP_CAPTURE_FDSET && tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, sp_fdset_bytes(tr->ev.args[0]), 0);
        else if (c == SP_CAPTURE_IOVEC_IN && i + 1 < SP_NARGS &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_iovec(s, tr, i, tr->ev.args[i], tr->ev.args[i + 1], 0);
        else if ((c == SP_CAPTURE_MSGHDR_IN || c == SP_CAPTURE_MSGHDR_OUT) &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_msghdr(s, tr, i, c == SP_CAPTURE_MSGHDR_IN, 0);
        else if ((c & 0xe0) == SP_CAPTURE_INOUT_WORDS && tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, (unsigned long long)(c & 0x1f) * 8, 0);
        else if (c == SP_CAPTURE_SIGFRAME_MASK && tr->entry_sp &&
                 tr->ev.arch == AUDIT_ARCH_X86_64_VALUE)
            copy_at(s, tr, i, tr->entry_sp + SIGFRAME_MASK_OFFSET, 8, 0);
    }
}

/* What argument arg points to, copied at exit again after a copy at entry: labelled
 * arg + SP_SEG_AFTER so that the two stay apart. The segment, or NULL. */
static struct sp_segment *copy_again(struct sp_session *s, struct sp_tracee *tr, int arg,
                                     unsigned long long len)
{
    unsigned short before = tr->ev.nseg;
    copy_buffer(s, tr, arg, len, 1);
    if (tr->ev.nseg == before)
        return NULL;
    tr->ev.seg[before].arg = (unsigned char)(arg + SP_SEG_AFTER);
    return &tr->ev.seg[before];
}

/* An address the kernel filled in: its length (the socklen_t the next argument points to) as
 * the kernel left it, then as many bytes of the address as that says (at most 128). */
static void copy_sockaddr_out(struct sp_session *s, struct sp_tracee *tr, int i)
{
    struct sp_segment *seg = copy_again(s, tr, i + 1, sizeof(int));
    if (!seg)
        return;
    unsigned int len = 0;
    if (seg->len == sizeof(len))
        memcpy(&len, tr->ev.data + seg->off, sizeof(len));
    if (len > 0)
        copy_buffer(s, tr, i, len < 128 ? len : 128, 1);
}

void sp_capture_exit(struct sp_session *s, struct sp_tracee *tr)
{
    const unsigned char *capture = tr->rule->capture;
    for (int i = 0; i < SP_NARGS; i++) {
        unsigned char c = capture[i];
        if (c == SP_CAPTURE_BUF_RET && tr->ev.ret > 0)
            copy_buffer(s, tr, i, (unsigned long long)tr->ev.ret, 1);
        else if (c == SP_CAPTURE_DIRENTS && tr->ev.ret > 0)
            put_count(tr, i, 1);
        else if (c == SP_CAPTURE_POLLFDS && i + 1 < SP_NARGS && tr->ev.args[i] &&
                 tr->ev.ret > 0)
            copy_again(s, tr, i, (tr->ev.args[i + 1] & 0xffffffffull) * 8); /* the revents */
        else if (c == SP_CAPTURE_SOCKADDR_OUT && i + 1 < SP_NARGS && tr->ev.args[i] &&
                 tr->ev.args[i + 1] && tr->ev.ret >= 0)
            copy_sockaddr_out(s, tr, i);
        else if ((c & 0xf0) == SP_CAPTURE_OUT_INTS && tr->ev.ret >= 0 &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, (unsigned long long)(c & 0x0f) * 4, 1);
        else if ((c & 0xe0) == SP_CAPTURE_OUT_WORDS && tr->ev.ret >= 0 &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, (unsigned long long)(c & 0x1f) * 8, 1);
        else if (c == SP_CAPTURE_IOVEC_OUT && i + 1 < SP_NARGS && tr->ev.ret >= 0 &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_iovec(s, tr, i, tr->ev.args[i], tr->ev.args[i + 1], 1);
        else if (c == SP_CAPTURE_MSGHDR_OUT && tr->ev.ret >= 0 &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_msghdr(s, tr, i, 0, 1);
        else if ((c & 0xe0) == SP_CAPTURE_CUT_WORDS && sp_cut_short(tr->ev.ret) &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_buffer(s, tr, i, (unsigned long long)(c & 0x1f) * 8, 1);
        else if (c == SP_CAPTURE_FDSET && tr->ev.ret > 0 && tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_again(s, tr, i, sp_fdset_bytes(tr->ev.args[0])); /* the ready ones */
        else if ((c & 0xe0) == SP_CAPTURE_INOUT_WORDS && tr->ev.ret >= 0 &&
                 tr->ev.args[i] >= SP_LOWEST_ADDRESS)
            copy_again(s, tr, i, (unsigned long long)(c & 0x1f) * 8);
    }
}
