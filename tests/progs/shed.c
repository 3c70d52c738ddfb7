/*
 * shed: a tracee that tries to get rid of its supervisor, then calls getppid and reports what it
 * got back. `shed filter` installs its own allow-everything seccomp filter (`shed prctl-filter`:
 * the same through prctl(PR_SET_SECCOMP)); `shed traceme` asks
 * to be traced by its parent instead; `shed dumpable` makes itself non-dumpable; `shed
 * detach-sud` turns Syscall User Dispatch off. None of it may change what the policy decides.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif

static void report(const char *what, long ret, int err)
{
    char line[128];
    int n = snprintf(line, sizeof(line), "%s ret=%ld errno=%d\n", what, ret, ret < 0 ? err : 0);
    ssize_t ignored = write(1, line, (size_t)n);
    (void)ignored;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "";
    long ret = 0;
    errno = 0;
    if (strcmp(how, "filter") == 0) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {.len = 1, .filter = &allow};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    } else if (strcmp(how, "prctl-filter") == 0) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        struct sock_fprog prog = {.len = 1, .filter = &allow};
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        ret = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    } else if (strcmp(how, "traceme") == 0) {
        ret = ptrace(PTRACE_TRACEME, 0, 0, 0);
    } else if (strcmp(how, "dumpable") == 0) {
        ret = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    } else if (strcmp(how, "detach-sud") == 0) {
        ret = prctl(PR_SET_SYSCALL_USER_DISPATCH, 0, 0, 0, 0);
    } else {
        return 2;
    }
    report(how, ret, errno);
    errno = 0;
    ret = syscall(SYS_getppid);
    report("getppid", ret, errno);
    return 0;
}
