/*
 * notify.c - the seccomp-notify supervisor: no ptrace at all.
 *
 * The child installs a filter with SECCOMP_FILTER_FLAG_NEW_LISTENER before execve and hands the
 * listener over in shared memory; the engine takes its copy with pidfd_getfd (launch.c). The
 * filter sends the calls the policy needs to see here as notifications (RET_USER_NOTIF);
 * everything else runs natively or is answered in BPF. The filter is inherited, so children and
 * threads are covered without following them.
 *
 * For each notification: copy the strings the rule wants with process_vm_readv, then, if it
 * copied any, check SECCOMP_IOCTL_NOTIF_ID_VALID (the task may have died and its pid been
 * reused while we read), decide, and answer: an error, an emulated value, or
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE. A continued call runs in the kernel after we answer, so its
 * result is never seen here (events carry SP_EVF_CONTINUED), and since the tracee may change
 * pointed-to memory after we read it, CONTINUE is never a security decision about pointer
 * arguments.
 *
 * The session ends when the launched process has exited and the listener reports POLLHUP (no
 * task uses the filter any more). SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is switched on where the
 * kernel has it (6.7): the woken tracee then runs on the supervisor's CPU.
 */
#include "engine_internal.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Debian's headers lack these (Linux 6.7). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

struct notify_state {
    int listener;
    int root_pidfd;
    struct seccomp_notif *req;
    struct seccomp_notif_resp *resp;
    struct seccomp_notif_sizes sizes;
};

static int id_valid(int listener, __u64 id)
{
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

static struct sp_tracee *task_for(struct sp_session *s, pid_t tid)
{
    struct sp_tracee *tr = sp_tracee_find(&s->tracees, tid);
    if (!tr)
        tr = sp_tracee_add(&s->tracees, tid, sp_read_tgid(tid));
    return tr;
}

static void handle_notification(struct sp_session *s, struct notify_state *st)
{
    struct seccomp_notif *req = st->req;
    struct seccomp_notif_resp *resp = st->resp;
    struct sp_tracee *tr = task_for(s, (pid_t)req->pid);
    if (!tr) {
        sp_fail(s, "tracee table", ENOMEM);
        return;
    }
    if (!s->launcher_tail && tr->tid == s->result.root_pid && sp_launch_failed(s))
        s->launcher_tail = 1; /* our launcher's calls after its execve failed (engine.c) */
    struct __ptrace_syscall_info info; /* what sp_begin_call reads of it, no more */
    info.arch = req->data.arch;
    info.stack_pointer = 0; /* a notification does not carry it */
    info.entry.nr = (unsigned long long)req->data.nr;
    for (int i = 0; i < SP_NARGS; i++)
        info.entry.args[i] = req->data.args[i];
    sp_begin_call(s, tr, &info);
    sp_count_call(s, tr);

    /* What we read is only trusted if the call is still the one we were told about (the pid
     * may have been reused). A call whose rule copied nothing was read from the notification
     * alone: no check, which saves an ioctl per call. */
    if ((tr->recording || tr->rule->action == SP_CALLBACK) && tr->ev.nseg > 0 &&
        !id_valid(st->listener, req->id)) {
        sp_flush_unfinished_call(s, tr);
        return;
    }
    int action = sp_decide(s, tr);

    memset(resp, 0, st->sizes.seccomp_notif_resp);
    resp->id = req->id;
    if (action == SP_DENY) {
        resp->error = (__s32)tr->answer; /* -errno */
    } else if (action == SP_EMULATE) {
        resp->val = tr->answer;
    } else {
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        tr->ev.flags |= SP_EVF_CONTINUED;
    }
    tr->in_syscall = 1;
    if (ioctl(st->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0) {
        if (errno != ENOENT)
            sp_fail(s, "SECCOMP_IOCTL_NOTIF_SEND", errno);
        /* The task left the call before our answer: killed, or (on a kernel without
         * WAIT_KILLABLE_RECV, see launch.c) interrupted by a signal, when the kernel makes the
         * call again and notifies it anew. Our verdict never took effect: the call is shown
         * with no result, as strace shows a call cut short, not with one it never had. */
        sp_flush_unfinished_call(s, tr);
        return;
    }
    sp_finish_call(s, tr, action == SP_ALLOW ? 0 : tr->answer);
}

/* Kill the launched process and every descendant still there (cancel). */
static void kill_all(struct sp_session *s)
{
    sp_kill_tree(s->result.root_pid);
    for (size_t i = 0; i < s->tracees.count; i++)
        kill(s->tracees.items[i]->tgid, SIGKILL);
}

static void reap_root(struct sp_session *s, pid_t pid)
{
    int status;
    if (s->result.root_exited)
        return;
    pid_t got;
    do {
        got = waitpid(pid, &status, __WALL);
    } while (got < 0 && errno == EINTR);
    if (got != pid)
        return;
    sp_root_ended(s, status);
}

/*
 * One wait for the listener and the launched process, with no timeout: a timed poll arms a
 * timer at every sleep (about 4% of the engine thread's time in perf). The wake signal (sp_cancel) is
 * blocked except inside ppoll, so a cancel that comes while a call is handled stays pending and
 * cuts the next wait short instead of being lost. A raw syscall: glibc's ppoll is a
 * cancellation point, which in a multi-threaded process costs two more calls per wait.
 */
static int wait_listener(struct pollfd *fds, int nfds, const sigset_t *during)
{
    return (int)syscall(SYS_ppoll, fds, (unsigned long)nfds, NULL, during, 8);
}

static int notify_loop(struct sp_session *s, struct notify_state *st, pid_t pid)
{
    int root_alive = 1;
    sigset_t wake, during;
    sigemptyset(&wake);
    sigaddset(&wake, sp_wake_signal());
    pthread_sigmask(SIG_BLOCK, &wake, &during); /* `during`: the mask with it unblocked */
    int rc = 0;
    for (;;) {
        if (s->cancel && !s->cancel_handled) {
            s->cancel_handled = 1;
            kill_all(s);
        }
        struct pollfd fds[2] = {{st->listener, POLLIN, 0}, {st->root_pidfd, POLLIN, 0}};
        int nfds = root_alive && st->root_pidfd >= 0 ? 2 : 1;
        int n = wait_listener(fds, nfds, &during);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            sp_fail(s, "ppoll", errno);
            rc = -errno;
            break;
        }
        if (nfds == 2 && (fds[1].revents & POLLIN)) {
            root_alive = 0;
            reap_root(s, pid);
        }
        if (fds[0].revents & POLLIN) {
            memset(st->req, 0, st->sizes.seccomp_notif);
            if (ioctl(st->listener, SECCOMP_IOCTL_NOTIF_RECV, st->req) == 0)
                handle_notification(s, st);
            else if (errno != ENOENT && errno != EINTR)
                sp_fail(s, "SECCOMP_IOCTL_NOTIF_RECV", errno);
            if (s->result.error_errno) {
                rc = -s->result.error_errno;
                break;
            }
        } else if (fds[0].revents & (POLLHUP | POLLERR)) {
            break; /* no task uses the filter any more */
        }
        if (!root_alive && st->root_pidfd < 0)
            break;
    }
    pthread_sigmask(SIG_SETMASK, &during, NULL);
    if (rc == 0 && root_alive)
        reap_root(s, pid);
    return rc;
}

/*
 * A file table of the engine thread's own, holding only its two files (and stdio). In a
 * process whose threads share one table, every fd a syscall names is reference-counted on the
 * way in and out; with a table of its own the kernel skips that, and the engine names the
 * listener three times per notification. The table is copied before the launch (the child
 * still starts with Python's files) and emptied after, so the engine holds no other file open:
 * a pipe Python closes still reaches EOF. Not with Python callbacks, which run in this thread
 * and may use any of Python's files.
 */
static int own_file_table(const struct sp_session *s)
{
    return s->decide == NULL && syscall(SYS_unshare, CLONE_FILES) == 0;
}

static void keep_only(int a, int b)
{
    int keep[2] = {a < b ? a : b, a < b ? b : a};
    unsigned int from = 3; /* stdio stays, for whatever this thread may print */
    for (int i = 0; i < 2; i++) {
        if (keep[i] < (int)from)
            continue;
        if ((unsigned int)keep[i] > from)
            syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
        from = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

int sp_notify_run(struct sp_session *s, const char *path, char **argv, char **envp)
{
    int rc = 0;
    struct notify_state st = {.listener = -1, .root_pidfd = -1};
    int own_table = own_file_table(s);
    pid_t pid = sp_spawn_notified(s, path, argv, envp, &st.listener);
    if (pid < 0)
        return (int)pid;
    s->result.root_pid = pid;
    sp_ring_kick(&s->ring);

    if (st.listener >= 0) {
        __u64 flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
        s->result.notify_sync_wakeup =
            ioctl(st.listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
        st.root_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (own_table)
            keep_only(st.listener, st.root_pidfd);
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &st.sizes) != 0) {
            st.sizes.seccomp_notif = sizeof(struct seccomp_notif);
            st.sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
        }
        if (st.sizes.seccomp_notif < sizeof(struct seccomp_notif))
            st.sizes.seccomp_notif = sizeof(struct seccomp_notif);
        if (st.sizes.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
            st.sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
        st.req = calloc(1, st.sizes.seccomp_notif);
        st.resp = calloc(1, st.sizes.seccomp_notif_resp);
        if (!st.req || !st.resp)
            rc = -ENOMEM;
        else
            rc = notify_loop(s, &st, pid);
        if (rc < 0) {
            kill_all(s);
            reap_root(s, pid);
        }
        free(st.req);
        free(st.resp);
        close(st.listener);
        if (st.root_pidfd >= 0)
            close(st.root_pidfd);
    } else {
        reap_root(s, pid); /* the child failed before handing over the listener */
    }
    sp_read_launch_error(s);
    return rc;
}
