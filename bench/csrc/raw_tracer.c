/*
 * raw_tracer MODE CPU_MODE PROGRAM ARGS...: the smallest C supervisor for each of splitpriv's
 * mechanisms, the floor the engine is measured against. It supervises one process (no forks),
 * records nothing and exits with the program's exit status (128 + signal if it was killed).
 *
 * MODE, ptrace family
 *   ptrace          PTRACE_SYSCALL at every stop, nothing else (2 stops per syscall).
 *   ptrace-info     the same plus PTRACE_GET_SYSCALL_INFO at every stop: the least a tracer
 *                   that looks at each call (number at entry, result at exit) must do.
 *   sysemu          what splitpriv's sysemu engine does for a call that must really run and is
 *                   recorded (csrc/engine.c, sysemu_mode_stop): at the PTRACE_SYSEMU entry stop,
 *                   PTRACE_GET_SYSCALL_INFO, then rip -= 2 and rax = nr (PTRACE_POKEUSER) and
 *                   resume with PTRACE_SYSCALL. The kernel has skipped the call, and because
 *                   PTRACE_SYSCALL is now set it reports that skipped call's exit: resume with
 *                   PTRACE_SYSCALL again; then comes the re-entry stop (resume PTRACE_SYSCALL)
 *                   and the real exit stop (resume PTRACE_SYSEMU): 4 stops per syscall.
 *   sysemu-run      the same for a call that is not recorded (splitpriv.run): the re-entry stop
 *                   resumes with PTRACE_SYSEMU, so no real exit stop is reported (3 stops).
 *   sysemu-emulate  getppid is answered at its entry stop with rax = 1 (1 stop); every other
 *                   call is passed through as in sysemu-run.
 *
 * MODE, seccomp RET_TRACE family: the child installs a filter that returns SECCOMP_RET_TRACE for
 * getppid (for openat2 in the -selective mode) and allows everything else; the tracer sets
 * PTRACE_O_TRACESECCOMP and resumes with PTRACE_CONT, so other calls run at native speed.
 *   seccomp-trace            the PTRACE_EVENT_SECCOMP stop, resumed with PTRACE_CONT (1 stop).
 *   seccomp-trace-exit       resumed with PTRACE_SYSCALL, so the call's exit stop follows, then
 *                            PTRACE_CONT (2 stops): what recording a result costs.
 *   seccomp-trace-emulate    getppid skipped at its seccomp stop (orig_rax = -1, rax = 1).
 *   seccomp-trace-selective  the filter traces openat2, which the loop never calls (0 stops).
 *
 * MODE, seccomp RET_USER_NOTIF family (no ptrace): the child installs a filter that returns
 * SECCOMP_RET_USER_NOTIF for getppid (openat2 for -selective) with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, passes the listener to the supervisor over a socketpair
 * (SCM_RIGHTS) and execs. The supervisor turns on SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
 * (SECCOMP_IOCTL_NOTIF_SET_FLAGS, Linux 6.7; a warning on stderr where the kernel lacks it) and
 * loops: poll (listener and a pidfd of the child), SECCOMP_IOCTL_NOTIF_RECV,
 * SECCOMP_IOCTL_NOTIF_SEND. poll is needed to learn that the child is gone: RECV alone would
 * block for ever.
 *   notify            every notification answered with SECCOMP_USER_NOTIF_FLAG_CONTINUE.
 *   notify-nosync     the same without SYNC_WAKE_UP.
 *   notify-emulate    getppid answered with the value 1 (the call never runs).
 *   notify-selective  the filter notifies openat2, which the loop never calls.
 *
 * CPU_MODE
 *   same    supervisor and program on one CPU (the last allowed one, as splitpriv does);
 *   spread  supervisor on the first allowed CPU, program on the last;
 *   none    placement left to the scheduler.
 *
 * Unlike splitpriv, the loops trust their own state machines and read nothing they do not need.
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Debian's headers lack these (Linux 6.7). The flag goes by value, not through a pointer. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define REG(r) ((void *)offsetof(struct user, regs.r))

enum family { FAM_PTRACE, FAM_SECCOMP_TRACE, FAM_NOTIFY };
enum variant {
    V_PLAIN,
    V_INFO,     /* ptrace-info */
    V_RUN,      /* sysemu-run */
    V_EXIT,     /* seccomp-trace-exit */
    V_EMULATE,  /* *-emulate */
    V_SELECTIVE,/* *-selective */
    V_NOSYNC,   /* notify-nosync */
    V_SYSEMU,   /* sysemu (recorded) */
};

static const struct {
    const char *name;
    enum family family;
    enum variant variant;
} MODES[] = {
    {"ptrace", FAM_PTRACE, V_PLAIN},
    {"ptrace-info", FAM_PTRACE, V_INFO},
    {"sysemu", FAM_PTRACE, V_SYSEMU},
    {"sysemu-run", FAM_PTRACE, V_RUN},
    {"sysemu-emulate", FAM_PTRACE, V_EMULATE},
    {"seccomp-trace", FAM_SECCOMP_TRACE, V_PLAIN},
    {"seccomp-trace-exit", FAM_SECCOMP_TRACE, V_EXIT},
    {"seccomp-trace-emulate", FAM_SECCOMP_TRACE, V_EMULATE},
    {"seccomp-trace-selective", FAM_SECCOMP_TRACE, V_SELECTIVE},
    {"notify", FAM_NOTIFY, V_PLAIN},
    {"notify-nosync", FAM_NOTIFY, V_NOSYNC},
    {"notify-emulate", FAM_NOTIFY, V_EMULATE},
    {"notify-selective", FAM_NOTIFY, V_SELECTIVE},
};

/* sysemu states: where the traced call stands, and so how to resume it */
enum { AT_SYSEMU_ENTRY, AT_SKIPPED_EXIT, AT_REENTRY, AT_EXIT };

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        perror("sched_setaffinity");
}

static int usage(void)
{
    fprintf(stderr, "usage: raw_tracer MODE same|spread|none PROGRAM ARGS...\nmodes:");
    for (size_t i = 0; i < sizeof(MODES) / sizeof(MODES[0]); i++)
        fprintf(stderr, " %s", MODES[i].name);
    fputc('\n', stderr);
    return 2;
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 127;
}

/* A filter that sends syscall `nr` (x86_64) to the supervisor with `action`; all else runs. */
static long install_filter(int nr, unsigned int action, unsigned int flags)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* The next resume request for a syscall stop in a sysemu mode; updates *state. */
static int sysemu_stop(pid_t pid, enum variant v, int *state)
{
    if (*state == AT_SKIPPED_EXIT) {
        *state = AT_REENTRY;
        return PTRACE_SYSCALL;
    }
    if (*state == AT_REENTRY) {
        *state = v == V_SYSEMU ? AT_EXIT : AT_SYSEMU_ENTRY;
        return v == V_SYSEMU ? PTRACE_SYSCALL : PTRACE_SYSEMU;
    }
    if (*state == AT_EXIT) {
        *state = AT_SYSEMU_ENTRY;
        return PTRACE_SYSEMU;
    }
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
        return PTRACE_SYSEMU;
    if (v == V_EMULATE && info.entry.nr == SYS_getppid) {
        ptrace(PTRACE_POKEUSER, pid, REG(rax), (void *)1L); /* the kernel skips the call */
        return PTRACE_SYSEMU;
    }
    /* Pass through: back over the 2-byte syscall instruction, number back into rax. */
    ptrace(PTRACE_POKEUSER, pid, REG(rip), (void *)(info.instruction_pointer - 2));
    ptrace(PTRACE_POKEUSER, pid, REG(rax), (void *)(unsigned long)info.entry.nr);
    *state = AT_SKIPPED_EXIT;
    return PTRACE_SYSCALL;
}

static int run_ptrace(enum family fam, enum variant v, int tracee_cpu, char **argv)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 127;
    }
    if (pid == 0) {
        if (tracee_cpu >= 0)
            pin(tracee_cpu);
        ptrace(PTRACE_TRACEME, 0, 0L, 0L);
        raise(SIGSTOP);
        if (fam == FAM_SECCOMP_TRACE) {
            int nr = v == V_SELECTIVE ? SYS_openat2 : SYS_getppid;
            if (install_filter(nr, SECCOMP_RET_TRACE, 0) != 0) {
                perror("seccomp");
                _exit(126);
            }
        }
        execv(argv[0], argv);
        perror("execv");
        _exit(127);
    }

    int status;
    waitpid(pid, &status, 0); /* the child's SIGSTOP */
    long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
    if (fam == FAM_SECCOMP_TRACE)
        options |= PTRACE_O_TRACESECCOMP;
    ptrace(PTRACE_SETOPTIONS, pid, 0L, (void *)options);
    int state = AT_SYSEMU_ENTRY;
    int request = PTRACE_SYSCALL;
    if (fam == FAM_SECCOMP_TRACE)
        request = PTRACE_CONT;
    else if (v == V_SYSEMU || v == V_RUN || v == V_EMULATE)
        request = PTRACE_SYSEMU;
    struct __ptrace_syscall_info info;
    int sig = 0;
    for (;;) {
        ptrace(request, pid, 0L, (void *)(long)sig);
        if (waitpid(pid, &status, 0) < 0) {
            perror("waitpid");
            return 127;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status))
            return exit_code(status);
        sig = WSTOPSIG(status);
        if (fam == FAM_SECCOMP_TRACE && sig == SIGTRAP && status >> 16 == PTRACE_EVENT_SECCOMP) {
            sig = 0;
            if (v == V_EXIT) {
                request = PTRACE_SYSCALL; /* the exit stop of this call comes next */
            } else if (v == V_EMULATE) {
                ptrace(PTRACE_POKEUSER, pid, REG(orig_rax), (void *)-1L); /* skip the call */
                ptrace(PTRACE_POKEUSER, pid, REG(rax), (void *)1L);
            }
        } else if (sig == (SIGTRAP | 0x80)) {
            sig = 0;
            if (fam == FAM_SECCOMP_TRACE)
                request = PTRACE_CONT; /* the exit stop of seccomp-trace-exit */
            else if (v == V_INFO)
                ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info);
            else if (v != V_PLAIN)
                request = sysemu_stop(pid, v, &state);
        } else if (sig == SIGTRAP) {
            sig = 0; /* the SIGTRAP that follows a successful execve without PTRACE_O_TRACEEXEC */
        }
        /* Any other signal is passed on, with the request the current state needs. */
    }
}

static int send_fd(int sock, int fd)
{
    char data = 0;
    struct iovec iov = {.iov_base = &data, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char data;
    struct iovec iov = {.iov_base = &data, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

static int run_notify(enum variant v, int tracee_cpu, char **argv)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("socketpair");
        return 127;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 127;
    }
    if (pid == 0) {
        close(sv[0]);
        if (tracee_cpu >= 0)
            pin(tracee_cpu);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int nr = v == V_SELECTIVE ? SYS_openat2 : SYS_getppid;
        long fd = install_filter(nr, SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        if (fd < 0) {
            perror("seccomp");
            _exit(126);
        }
        if (send_fd(sv[1], (int)fd) != 0) {
            perror("sendmsg");
            _exit(126);
        }
        close((int)fd);
        execv(argv[0], argv);
        perror("execv");
        _exit(127);
    }
    close(sv[1]);
    int status;
    int listener = recv_fd(sv[0]);
    close(sv[0]);
    if (listener < 0) {
        waitpid(pid, &status, 0);
        return 126;
    }
    if (v != V_NOSYNC &&
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) != 0)
        perror("raw_tracer: SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP");
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    struct seccomp_notif_sizes sizes;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
        sizes.seccomp_notif = sizeof(struct seccomp_notif);
        sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
    }
    struct seccomp_notif *req = calloc(1, sizes.seccomp_notif + sizeof(*req));
    struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp + sizeof(*resp));
    if (!req || !resp || pidfd < 0) {
        perror("raw_tracer");
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return 127;
    }
    for (;;) {
        struct pollfd fds[2] = {{listener, POLLIN, 0}, {pidfd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0)
            continue; /* EINTR */
        if (fds[0].revents & POLLIN) {
            memset(req, 0, sizes.seccomp_notif);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0)
                continue; /* ENOENT: the caller died meanwhile */
            memset(resp, 0, sizes.seccomp_notif_resp);
            resp->id = req->id;
            if (v == V_EMULATE && req->data.nr == SYS_getppid)
                resp->val = 1;
            else
                resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
            continue;
        }
        if (fds[1].revents & POLLIN || fds[0].revents & (POLLHUP | POLLERR))
            break; /* the program has exited */
    }
    waitpid(pid, &status, 0);
    return exit_code(status);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    int m = -1;
    for (size_t i = 0; i < sizeof(MODES) / sizeof(MODES[0]); i++)
        if (strcmp(argv[1], MODES[i].name) == 0)
            m = (int)i;
    if (m < 0)
        return usage();

    cpu_set_t allowed;
    int first = -1, last = -1, tracee_cpu = -1;
    sched_getaffinity(0, sizeof(allowed), &allowed);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &allowed)) {
            if (first < 0)
                first = cpu;
            last = cpu;
        }
    if (strcmp(argv[2], "same") == 0) {
        pin(last); /* before fork: the program inherits it */
    } else if (strcmp(argv[2], "spread") == 0) {
        pin(first);
        tracee_cpu = last;
    } else if (strcmp(argv[2], "none") != 0) {
        return usage();
    }
    if (MODES[m].family == FAM_NOTIFY)
        return run_notify(MODES[m].variant, tracee_cpu, argv + 3);
    return run_ptrace(MODES[m].family, MODES[m].variant, tracee_cpu, argv + 3);
}
