/*
 * launch.c - starting a tracee (fork + exec with the ptrace handshake), attaching to one, and
 * CPU placement.
 *
 * Launch: the child stops itself with SIGSTOP before execve; the engine waits for that stop,
 * PTRACE_SEIZEs the child (so group-stops can be reported and PTRACE_LISTEN used) and sends
 * SIGCONT. The first syscall the engine sees is then the program's own execve, as with strace.
 * The child restores the signal mask and the dispositions that Python changed for itself, so the
 * program starts as it would from a shell. execve errors reach the engine through a CLOEXEC pipe.
 *
 * Launched tracees get PTRACE_O_EXITKILL: if the supervisor dies, they die with it rather than
 * run on untraced. Attached tracees do not: they lived before us and are detached, not killed.
 */
#include "engine_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int sp_ptrace_options(const struct sp_session *s, int launched)
{
    int options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC;
    if (s->config.mode == SP_MODE_SECCOMP_TRACE)
        options |= PTRACE_O_TRACESECCOMP;
    if (s->config.follow_forks)
        options |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE;
    if (launched)
        options |= PTRACE_O_EXITKILL;
    return options;
}

static int allowed_cpus(int *first, int *last)
{
    cpu_set_t set;
    *first = *last = -1;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) {
            if (*first < 0)
                *first = cpu;
            *last = cpu;
        }
    }
    return *first >= 0 ? 0 : -1;
}

static void pin_to(pid_t tid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(tid, sizeof(set), &set);
}

/* The engine thread is placed before the fork, so a launched child inherits SP_CPU_SAME. */
void sp_place_engine_thread(const struct sp_session *s)
{
    int first, last;
    struct sp_session *mut = (struct sp_session *)s;
    mut->tracee_cpu = -1;
    if (s->config.cpu_policy == SP_CPU_NONE || allowed_cpus(&first, &last) != 0)
        return;
    if (s->config.cpu_policy == SP_CPU_SAME) {
        pin_to(0, last);
    } else if (s->config.cpu_policy == SP_CPU_SPREAD && first != last) {
        pin_to(0, first);
        mut->tracee_cpu = last;
    }
}

/* Tell the supervisor why the launch failed: {stage, errno} on the CLOEXEC pipe. */
static void child_fail(int err_fd, int stage)
{
    int report[2] = {stage, errno};
    ssize_t ignored = write(err_fd, report, sizeof(report));
    (void)ignored;
    _exit(127);
}

/* What every launched child does first: the signal state a shell would give the program. */
static void child_reset(const struct sp_session *s)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    /* Python ignores these for itself; subprocess restores them for its children too. */
    sigaction(SIGPIPE, &dfl, NULL);
    sigaction(SIGXFSZ, &dfl, NULL);
    pthread_sigmask(SIG_SETMASK, &s->orig_mask, NULL);
    if (s->tracee_cpu >= 0)
        pin_to(0, s->tracee_cpu);
}

static void child_exec(const struct sp_session *s, const char *path, char **argv, char **envp,
                       int err_fd)
{
    child_reset(s);
    /* The stub modes detach after the first exec: PTRACE_O_EXITKILL no longer holds then. */
    if (s->config.mode == SP_MODE_SECCOMP_TRAP || s->config.mode == SP_MODE_SUD)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Raw syscalls: nothing between this stop and execve should show up in the trace. */
    syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
    /* Traced from here on. A seccomp-trace filter goes in now, so that execve is its first
     * RET_TRACE, with the tracer already attached to receive it. */
    if (s->config.mode == SP_MODE_SECCOMP_TRACE &&
        sp_seccomp_install(s->config.filter, s->config.filter_len, 0) < 0)
        child_fail(err_fd, SP_STAGE_SECCOMP);
    execve(path, argv, envp);
    child_fail(err_fd, SP_STAGE_EXEC);
}

/*
 * The listener handoff for seccomp-notify. Once the filter is in, any syscall of the child may
 * be notified, and nobody could answer yet; so the child makes none: it publishes the listener's
 * fd number in shared memory and spins (no syscall) until the engine has taken a copy of the fd
 * with pidfd_getfd, then execs. The spin lasts the few microseconds the engine needs.
 */
struct handoff {
    volatile int fd;  /* -1: not yet; -2: the filter failed (errno on the pipe); else the fd */
    volatile int ack; /* the engine has its copy */
};

pid_t sp_spawn_notified(struct sp_session *s, const char *path, char **argv, char **envp,
                        int *err_fd, int *listener)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    struct handoff *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return -err;
    }
    h->fd = -1;
    h->ack = 0;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        munmap(h, sizeof(*h));
        return -err;
    }
    if (pid == 0) {
        child_reset(s);
        /* No tracer holds this child: if the supervisor's engine thread dies, so does it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        /* The spin below must not share a CPU with the engine it waits for: that costs a
         * whole time slice. Off that CPU now; the engine puts the child back after. */
        cpu_set_t elsewhere;
        if (s->config.cpu_policy == SP_CPU_SAME &&
            sched_getaffinity(0, sizeof(elsewhere), &elsewhere) == 0) {
            cpu_set_t all;
            CPU_ZERO(&all);
            for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
                CPU_SET(cpu, &all);
            CPU_XOR(&all, &all, &elsewhere); /* every CPU but the engine's */
            if (CPU_COUNT(&all) > 0)
                sched_setaffinity(0, sizeof(all), &all);
        }
        int fd = sp_seccomp_install(s->config.filter, s->config.filter_len,
                                    SECCOMP_FILTER_FLAG_NEW_LISTENER);
        if (fd < 0) {
            h->fd = -2;
            child_fail(fds[1], SP_STAGE_SECCOMP);
        }
        __atomic_store_n(&h->fd, fd, __ATOMIC_RELEASE);
        while (!__atomic_load_n(&h->ack, __ATOMIC_ACQUIRE))
            __builtin_ia32_pause();
        execve(path, argv, envp); /* the listener is CLOEXEC: the program never holds it */
        child_fail(fds[1], SP_STAGE_EXEC);
    }
    close(fds[1]);
    *err_fd = fds[0];
    *listener = -1;
    int status;
    int fd;
    while ((fd = __atomic_load_n(&h->fd, __ATOMIC_ACQUIRE)) == -1) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            /* Died before the handoff; let the caller see its status. */
            kill(pid, 0);
            munmap(h, sizeof(*h));
            s->result.root_status = status;
            s->result.root_exited = 1;
            return pid;
        }
        sched_yield();
    }
    if (fd >= 0) {
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
            *listener = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
            close(pidfd);
        }
        if (*listener < 0) {
            int err = errno;
            kill(pid, SIGKILL);
            s->result.launch_stage = SP_STAGE_SECCOMP;
            s->result.launch_errno = err;
        }
        __atomic_store_n(&h->ack, 1, __ATOMIC_RELEASE);
    }
    munmap(h, sizeof(*h));
    if (s->config.cpu_policy == SP_CPU_SAME) {
        cpu_set_t mine; /* back beside the engine, as SP_CPU_SAME means */
        if (sched_getaffinity(0, sizeof(mine), &mine) == 0)
            sched_setaffinity(pid, sizeof(mine), &mine);
    }
    return pid;
}

void sp_read_launch_error(struct sp_session *s, int fd)
{
    int report[2] = {0, 0};
    ssize_t n;
    do {
        n = read(fd, report, sizeof(report));
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(report) && !s->result.launch_errno) {
        s->result.launch_stage = report[0];
        s->result.launch_errno = report[1];
    }
    close(fd);
}

pid_t sp_launch(struct sp_session *s, const char *path, char **argv, char **envp, int *err_fd)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        return -err;
    }
    if (pid == 0)
        child_exec(s, path, argv, envp, fds[1]);
    close(fds[1]);
    *err_fd = fds[0];

    int status;
    while (waitpid(pid, &status, WUNTRACED) < 0) {
        if (errno != EINTR) {
            int err = errno;
            kill(pid, SIGKILL);
            return -err;
        }
    }
    if (!WIFSTOPPED(status)) {
        /* The child died before its handshake stop; reap nothing more, report it. */
        return -ECHILD;
    }
    if (ptrace(PTRACE_SEIZE, pid, 0L, (long)sp_ptrace_options(s, 1)) != 0) {
        int err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -err;
    }
    struct sp_tracee *tr = sp_tracee_add(&s->tracees, pid, pid);
    if (!tr) {
        kill(pid, SIGKILL);
        return -ENOMEM;
    }
    tr->in_handshake = 1;
    kill(pid, SIGCONT);
    return pid;
}

static int seize_thread(struct sp_session *s, pid_t tgid, pid_t tid)
{
    if (sp_tracee_find(&s->tracees, tid))
        return 0;
    if (ptrace(PTRACE_SEIZE, tid, 0L, (long)sp_ptrace_options(s, 0)) != 0)
        return -errno;
    if (!sp_tracee_add(&s->tracees, tid, tgid))
        return -ENOMEM;
    ptrace(PTRACE_INTERRUPT, tid, 0L, 0L);
    return 1;
}

int sp_attach(struct sp_session *s, pid_t pid)
{
    int rc = seize_thread(s, pid, pid);
    if (rc < 0)
        return rc;
    if (!s->config.follow_forks)
        return 0; /* like strace -p without -f: that one thread */
    /* Threads may be created while we attach: scan until a pass finds no new one. */
    for (int pass = 0; pass < 16; pass++) {
        char dir_path[64];
        int added = 0;
        snprintf(dir_path, sizeof(dir_path), "/proc/%d/task", (int)pid);
        DIR *dir = opendir(dir_path);
        if (!dir)
            break;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            pid_t tid = (pid_t)atoi(entry->d_name);
            if (tid > 0 && seize_thread(s, pid, tid) > 0)
                added++;
        }
        closedir(dir);
        if (!added || !s->config.follow_forks)
            break;
    }
    return 0;
}
