/*
 * seccomp.c - installing a seccomp filter in a child, and probing what the kernel's seccomp
 * supports.
 *
 * Filters are built in Python (splitpriv.seccomp) and arrive as struct sock_filter arrays. A
 * child installs its filter itself, right before execve; the filter then survives exec and is
 * inherited by every child, which is why the seccomp mechanisms always follow forks. Without
 * CAP_SYS_ADMIN the kernel demands no_new_privs first; with it we leave setuid binaries alone.
 */
#include "engine_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int sp_seccomp_install(const void *filter, unsigned int len, unsigned int flags)
{
    struct sock_fprog prog = {.len = (unsigned short)len, .filter = (struct sock_filter *)filter};
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0 && errno == EACCES) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            return -1;
        rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    }
    return (int)rc;
}

int sp_probe_seccomp(const void *filter, unsigned int filter_len, unsigned int flags,
                     long long *ret_out)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return err;
    }
    if (pid == 0) {
        long long report[2] = {0, 0};
        int rc = sp_seccomp_install(filter, filter_len, flags);
        if (rc < 0) {
            report[0] = errno;
        } else {
            if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
                close(rc); /* no supervisor: notified calls now fail with ENOSYS */
            long r = syscall(SYS_getppid);
            report[1] = r < 0 ? -errno : r;
        }
        ssize_t ignored = write(fds[1], report, sizeof(report));
        (void)ignored;
        _exit(0);
    }
    close(fds[1]);
    long long report[2] = {ECHILD, 0};
    ssize_t n;
    do {
        n = read(fds[0], report, sizeof(report));
    } while (n < 0 && errno == EINTR);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(report))
        return ECHILD; /* killed by the filter (SIGSYS) before it could report */
    if (ret_out)
        *ret_out = report[1];
    return (int)report[0];
}
