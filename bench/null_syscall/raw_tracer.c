/*
 * raw_tracer MODE CPU_MODE PROGRAM ARGS...: the smallest C tracer for each ptrace mechanism, the
 * floor splitpriv's engine is measured against. It follows one process (no forks), records
 * nothing and exits with the tracee's exit status (128 + signal if it was killed).
 *
 * MODE
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
 * CPU_MODE
 *   same    tracer and tracee on one CPU (the last allowed one, as splitpriv does);
 *   spread  tracer on the first allowed CPU, tracee on the last;
 *   none    placement left to the scheduler.
 *
 * Unlike splitpriv, the loop trusts its own state machine: it reads the syscall only at the
 * PTRACE_SYSEMU entry stop, where it needs the number and the instruction pointer.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define REG(r) ((void *)offsetof(struct user, regs.r))

enum { PTRACE_MODE, PTRACE_INFO, SYSEMU, SYSEMU_RUN, SYSEMU_EMULATE };
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
    fprintf(stderr, "usage: raw_tracer ptrace|ptrace-info|sysemu|sysemu-run|sysemu-emulate "
                    "same|spread|none PROGRAM ARGS...\n");
    return 2;
}

/* The next resume request for a syscall stop in a sysemu mode; updates *state. */
static int sysemu_stop(pid_t pid, int mode, int *state)
{
    if (*state == AT_SKIPPED_EXIT) {
        *state = AT_REENTRY;
        return PTRACE_SYSCALL;
    }
    if (*state == AT_REENTRY) {
        *state = mode == SYSEMU ? AT_EXIT : AT_SYSEMU_ENTRY;
        return mode == SYSEMU ? PTRACE_SYSCALL : PTRACE_SYSEMU;
    }
    if (*state == AT_EXIT) {
        *state = AT_SYSEMU_ENTRY;
        return PTRACE_SYSEMU;
    }
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
        return PTRACE_SYSEMU;
    if (mode == SYSEMU_EMULATE && info.entry.nr == SYS_getppid) {
        ptrace(PTRACE_POKEUSER, pid, REG(rax), (void *)1L); /* the kernel skips the call */
        return PTRACE_SYSEMU;
    }
    /* Pass through: back over the 2-byte syscall instruction, number back into rax. */
    ptrace(PTRACE_POKEUSER, pid, REG(rip), (void *)(info.instruction_pointer - 2));
    ptrace(PTRACE_POKEUSER, pid, REG(rax), (void *)(unsigned long)info.entry.nr);
    *state = AT_SKIPPED_EXIT;
    return PTRACE_SYSCALL;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    int mode;
    if (strcmp(argv[1], "ptrace") == 0)
        mode = PTRACE_MODE;
    else if (strcmp(argv[1], "ptrace-info") == 0)
        mode = PTRACE_INFO;
    else if (strcmp(argv[1], "sysemu") == 0)
        mode = SYSEMU;
    else if (strcmp(argv[1], "sysemu-run") == 0)
        mode = SYSEMU_RUN;
    else if (strcmp(argv[1], "sysemu-emulate") == 0)
        mode = SYSEMU_EMULATE;
    else
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
        pin(last); /* before fork: the tracee inherits it */
    } else if (strcmp(argv[2], "spread") == 0) {
        pin(first);
        tracee_cpu = last;
    } else if (strcmp(argv[2], "none") != 0) {
        return usage();
    }

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
        execv(argv[3], argv + 3);
        perror("execv");
        _exit(127);
    }

    int status;
    waitpid(pid, &status, 0); /* the child's SIGSTOP */
    ptrace(PTRACE_SETOPTIONS, pid, 0L, (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
    int state = AT_SYSEMU_ENTRY;
    int request = mode <= PTRACE_INFO ? PTRACE_SYSCALL : PTRACE_SYSEMU;
    struct __ptrace_syscall_info info;
    int sig = 0;
    for (;;) {
        ptrace(request, pid, 0L, (void *)(long)sig);
        if (waitpid(pid, &status, 0) < 0) {
            perror("waitpid");
            return 127;
        }
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
            return 128 + WTERMSIG(status);
        sig = WSTOPSIG(status);
        if (sig == (SIGTRAP | 0x80)) {
            sig = 0;
            if (mode == PTRACE_INFO)
                ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info);
            else if (mode != PTRACE_MODE)
                request = sysemu_stop(pid, mode, &state);
        } else if (sig == SIGTRAP) {
            sig = 0; /* the SIGTRAP that follows a successful execve without PTRACE_O_TRACEEXEC */
        }
        /* Any other signal is passed on, with the request the current state needs. */
    }
}
