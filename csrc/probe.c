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
