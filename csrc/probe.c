/*
 * probe.c - does this kernel let us use a ptrace feature? Each probe forks a child, traces it
 * for real and reports 0 or the errno the kernel gave. The child is always killed and reaped.
 * Between fork and exit the child only makes async-signal-safe calls (the caller has threads).
 */
#include "engine_internal.h"

#include <errno.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum probe_kind { PROBE_PTRACE, PROBE_SYSEMU, PROBE_SYSCALL_INFO };

static void probe_child(void)
{
    if (ptrace(PTRACE_TRACEME, 0L, 0L, 0L) != 0)
        _exit(1);
    syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
    syscall(SYS_getppid);
    _exit(0);
}

static int wait_stopped(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, __WALL) < 0) {
        if (errno != EINTR)
            return errno;
    }
    if (!WIFSTOPPED(status))
        return ECHILD;
    return 0;
}

static int probe(enum probe_kind kind)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0)
        probe_child();
    int err = wait_stopped(pid);
    if (err == ECHILD)
        err = EPERM; /* PTRACE_TRACEME failed: the child exited instead of stopping */
    if (!err && ptrace(PTRACE_SETOPTIONS, pid, 0L, (long)PTRACE_O_TRACESYSGOOD) != 0)
        err = errno;
    if (!err && kind != PROBE_PTRACE) {
        long request = kind == PROBE_SYSEMU ? PTRACE_SYSEMU : PTRACE_SYSCALL;
        if (ptrace(request, pid, 0L, 0L) != 0)
            err = errno;
        else
            err = wait_stopped(pid);
        if (!err && kind == PROBE_SYSCALL_INFO) {
            struct __ptrace_syscall_info info;
            if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
                err = errno ? errno : EINVAL;
            else if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
                err = EINVAL;
        }
    }
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
        ;
    return err;
}

int sp_probe_ptrace(void) { return probe(PROBE_PTRACE); }
int sp_probe_sysemu(void) { return probe(PROBE_SYSEMU); }
int sp_probe_syscall_info(void) { return probe(PROBE_SYSCALL_INFO); }

/* ---- probes for doctor: each in a child, each reporting 0 or an errno ------------------ */

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#ifndef PTRACE_SET_SYSCALL_INFO
#define PTRACE_SET_SYSCALL_INFO 0x4212
#endif
#ifndef PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG
#define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG 0x4210
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

struct sud_config_probe {
    unsigned long long mode, selector, offset, len;
};

/* Run fn in a child and return what it _exit()s with (an errno, or 0). */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0)
        _exit(fn());
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return errno;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : ECHILD;
}

static int child_sud(void)
{
    static volatile char selector = 0; /* SYSCALL_DISPATCH_FILTER_ALLOW */
    if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0, &selector) != 0)
        return errno;
    prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
    return 0;
}

static int child_sync_wakeup(void)
{
    /* Notify on nothing we call: load nr, allow everything. The listener is what we need. */
    struct sock_filter insns[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = 1, .filter = insns};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (fd < 0)
        return errno;
    unsigned long long flags = 1; /* SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP */
    if (ioctl((int)fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) != 0)
        return errno;
    return 0;
}

/* A traced child stopped at a syscall entry; the request under test, then kill it. */
static int traced_request(long request)
{
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0)
        probe_child();
    int err = wait_stopped(pid);
    if (!err && ptrace(PTRACE_SETOPTIONS, pid, 0L, (long)PTRACE_O_TRACESYSGOOD) != 0)
        err = errno;
    if (!err && ptrace(PTRACE_SYSCALL, pid, 0L, 0L) != 0)
        err = errno;
    if (!err)
        err = wait_stopped(pid);
    if (!err && request == PTRACE_SET_SYSCALL_INFO) {
        struct __ptrace_syscall_info info;
        if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
            err = errno;
        else if (ptrace(PTRACE_SET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) != 0)
            err = errno;
    } else if (!err) {
        struct sud_config_probe config = {0, 0, 0, 0}; /* mode OFF */
        if (ptrace(request, pid, (void *)sizeof(config), &config) != 0)
            err = errno;
    }
    kill(pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
        ;
    return err;
}

int sp_probe_feature(int feature)
{
    switch (feature) {
    case SP_FEATURE_SET_SYSCALL_INFO:
        return traced_request(PTRACE_SET_SYSCALL_INFO);
    case SP_FEATURE_SET_SUD_CONFIG:
        return traced_request(PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG);
    case SP_FEATURE_SUD:
        return in_child(child_sud);
    case SP_FEATURE_SYNC_WAKEUP:
        return in_child(child_sync_wakeup);
    default:
        return EINVAL;
    }
}
