/*
 * engine.c - the supervisor loop: one waitpid/ptrace loop per session, run by the thread that
 * calls sp_run(), for every mechanism that uses ptrace (ptrace, sysemu, seccomp-trace, and the
 * stub mechanisms up to their first execve; notify.c and stubhost.c run the others' loops).
 *
 * SP_MODE_PTRACE (PTRACE_SYSCALL): a stop at entry and one at exit. A denied or emulated call is
 * skipped at entry (orig_rax = -1) and its answer written into rax at the exit stop.
 *
 * SP_MODE_SYSEMU (PTRACE_SYSEMU): one stop at entry, and the kernel will not run the call. A denied
 * or emulated call costs that one stop: the answer goes into rax. A call that must really run is
 * passed through by re-executing it: the instruction pointer goes back over the 2-byte syscall
 * instruction (`syscall` and `int $0x80` are both 2 bytes), rax gets the number back, and the
 * tracee resumes with PTRACE_SYSCALL, so the call enters again, this time with a real entry
 * stop. From that stop the engine resumes with PTRACE_SYSEMU when it needs no result (the kernel
 * reads its work flags once per entry, so the call runs, and with SYSEMU set no exit is reported:
 * 2 stops in all) or with PTRACE_SYSCALL when the result is recorded (one more stop at exit: 3).
 *
 * Everything else is common: fork/vfork/clone children and threads are followed
 * (PTRACE_O_TRACE*), exec is seen (PTRACE_EVENT_EXEC, including exec from a non-leader thread,
 * whose tid becomes the leader's), group-stops are left stopped with PTRACE_LISTEN as they would
 * be untraced, and every other signal is passed on to the tracee at its signal-delivery-stop.
 *
 * This file must never call into Python except through s->decide for SP_CALLBACK rules.
 */
#include "engine_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REG_OFFSET(reg) offsetof(struct user, regs.reg)
#define ERRNO_MAX 4095

static int wake_signal(void) { return SIGRTMIN + 5; }

int sp_wake_signal(void) { return wake_signal(); }

static void on_wake_signal(int sig) { (void)sig; }

static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static void install_wake_handler(void)
{
    /* No SA_RESTART: the point of this signal is to make waitpid return EINTR. */
    struct sigaction sa = {.sa_handler = on_wake_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(wake_signal(), &sa, NULL);
}

long long sp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void sp_fail(struct sp_session *s, const char *where, int err)
{
    if (s->result.error_errno)
        return;
    if (s->cancel && err == ESRCH)
        return; /* the cancel killed that tracee: not the engine's failure */
    s->result.error_errno = err;
    snprintf(s->result.error_where, sizeof(s->result.error_where), "%s", where);
}

struct sp_session *sp_session_new(const struct sp_config *config)
{
    struct sp_session *s = aligned_alloc(_Alignof(struct sp_session), sizeof(*s));
    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    s->config = *config;
    s->rules_size = sizeof(struct sp_rule) * SP_NARCH * (SP_NR_MAX + 1);
    s->rules = mmap(NULL, s->rules_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                    -1, 0);
    if (s->rules == MAP_FAILED) {
        free(s);
        return NULL;
    }
    if (s->config.string_limit == 0 || s->config.string_limit > SP_DATA_MAX)
        s->config.string_limit = SP_DATA_MAX;
    /* Entry records need one producer whose stops come in time order: the ptrace modes. */
    if (config->mode != SP_MODE_PTRACE && config->mode != SP_MODE_SYSEMU &&
        config->mode != SP_MODE_SECCOMP_TRACE)
        s->config.entry_records = 0;
    if (sp_ring_init(&s->ring, config->ring_bytes ? config->ring_bytes : (4u << 20)) != 0) {
        munmap(s->rules, s->rules_size);
        free(s);
        return NULL;
    }
    s->page_size = sysconf(_SC_PAGESIZE);
    s->tracee_cpu = -1;
    return s;
}

void sp_session_free(struct sp_session *s)
{
    if (!s)
        return;
    sp_spawn_free(s);
    sp_ring_destroy(&s->ring);
    sp_tracee_table_free(&s->tracees);
    munmap(s->rules, s->rules_size);
    free(s->store);
    free(s);
}

struct sp_rule *sp_rules(struct sp_session *s, int arch_index)
{
    return (arch_index >= 0 && arch_index < SP_NARCH) ? s->rules[arch_index] : NULL;
}

void sp_install_decide(struct sp_session *s, sp_decide_fn fn) { s->decide = fn; }

const struct sp_result *sp_result(struct sp_session *s) { return &s->result; }

const unsigned long long *sp_counts(struct sp_session *s, int arch_index)
{
    return (arch_index >= 0 && arch_index < SP_NARCH) ? s->counts[arch_index] : NULL;
}

const unsigned long long *sp_error_counts(struct sp_session *s, int arch_index)
{
    return (arch_index >= 0 && arch_index < SP_NARCH) ? s->errors[arch_index] : NULL;
}

unsigned long long sp_stops(struct sp_session *s) { return s->stops; }

void sp_cancel(struct sp_session *s)
{
    s->cancel = 1;
    s->result.cancelled = 1;
    /* Launched tracees can be killed from any thread; the engine then sees them go. */
    if (!s->config.attach_pid && s->result.root_pid > 0 && s->config.mode != SP_MODE_SECCOMP_NOTIFY)
        kill(s->result.root_pid, SIGKILL);
    if (s->engine_running)
        pthread_kill(s->engine_thread, wake_signal());
    sp_ring_kick(&s->ring);
}

/* ---- events ---------------------------------------------------------------------------- */

/* config.entry_records: before a record goes out, show the entry of every recorded call in
 * progress in another task (an SP_EVF_ENTRY copy of it). The consumer then knows, at each
 * record, every call that began before it, and can print in time order at once, as strace
 * prints `<unfinished ...>`, instead of holding lines back for calls that may still come. */
static void show_entries(struct sp_session *s, const struct sp_event *ev)
{
    /* Oldest first (the list is newest first): each entry shown is itself a record, and every
     * call that began before it must have shown up by then. */
    struct sp_tracee *tr = s->tracees.unshown;
    while (tr && tr->unshown_next)
        tr = tr->unshown_next;
    while (tr) {
        struct sp_tracee *next = tr->unshown_prev;
        /* A task's own call stays when its whole record is this one (but see below). Its
         * execve is shown before its exec event, like any other call in progress: the other
         * tasks' entries shown here would otherwise be printed before the execve that began
         * earlier (a child's, under -e trace=execve,wait4, after its parent's wait4). */
        int shown = tr->tid != ev->tid || ev->kind == SP_EV_EXEC;
        /* Shown after all when a call of another task that began later is shown now (a
         * thread's read, in progress when another thread's exit_group began): its line must
         * begin before that one's, and end after it. */
        for (struct sp_tracee *later = next; !shown && later; later = later->unshown_prev)
            shown = later->tid != ev->tid;
        if (shown) {
            sp_unshown_drop(&s->tracees, tr);
            tr->ev.flags |= SP_EVF_ENTRY;
            sp_ring_push(s, &tr->ev); /* what was copied at entry goes along */
            tr->ev.flags = (tr->ev.flags & ~SP_EVF_ENTRY) | SP_EVF_ENTRY_SHOWN;
        }
        tr = next;
    }
}

static void emit(struct sp_session *s, const struct sp_event *ev)
{
    if (s->tracees.unshown)
        show_entries(s, ev);
    sp_ring_push(s, ev);
}

static void emit_simple(struct sp_session *s, const struct sp_tracee *tr, int kind, int sig,
                        int status)
{
    struct sp_event ev;
    memset(&ev, 0, offsetof(struct sp_event, data));
    ev.kind = kind;
    ev.pid = tr->tgid;
    ev.tid = tr->tid;
    ev.sig = sig;
    ev.status = status;
    ev.t_entry_ns = ev.t_exit_ns = sp_now_ns();
    emit(s, &ev);
}

static void emit_signal(struct sp_session *s, const struct sp_tracee *tr, int sig)
{
    struct sp_event ev;
    siginfo_t si;
    memset(&ev, 0, offsetof(struct sp_event, data));
    ev.kind = SP_EV_SIGNAL;
    ev.pid = tr->tgid;
    ev.tid = tr->tid;
    ev.sig = sig;
    if (ptrace(PTRACE_GETSIGINFO, tr->tid, 0L, &si) == 0) {
        ev.sig_code = si.si_code;
        ev.sig_pid = si.si_pid;
        ev.sig_uid = (int)si.si_uid;
        ev.sig_status = si.si_status;
        ev.args[0] = (unsigned long long)(uintptr_t)si.si_addr;
    }
    ev.t_entry_ns = ev.t_exit_ns = sp_now_ns();
    emit(s, &ev);
}

/* The syscall in progress never returns (exit_group, killed, superseded by exec): emit it. */
void sp_flush_unfinished_call(struct sp_session *s, struct sp_tracee *tr)
{
    if (tr->in_syscall && tr->recording) {
        tr->ev.flags |= SP_EVF_NORETURN;
        tr->ev.t_exit_ns = 0;
        emit(s, &tr->ev);
    }
    sp_unshown_drop(&s->tracees, tr);
    tr->in_syscall = 0;
    tr->recording = 0;
}

/* ---- syscall stops --------------------------------------------------------------------- */

static int arch_index(unsigned int arch)
{
    if (arch == AUDIT_ARCH_X86_64_VALUE)
        return 0;
    if (arch == AUDIT_ARCH_I386_VALUE)
        return 1;
    return -1;
}

static const struct sp_rule *rule_for(struct sp_session *s, int arch, int nr)
{
    if (arch < 0)
        return &s->rules[0][SP_NR_MAX];
    if (nr < 0 || nr >= SP_NR_MAX)
        return &s->rules[arch][SP_NR_MAX];
    return &s->rules[arch][nr];
}

void sp_count_call(struct sp_session *s, const struct sp_tracee *tr)
{
    int a = arch_index(tr->ev.arch);
    if (a >= 0 && tr->ev.nr >= 0 && tr->ev.nr < SP_NR_MAX)
        s->counts[a][tr->ev.nr]++;
}

static void count_result(struct sp_session *s, const struct sp_tracee *tr, long long ret)
{
    int a = arch_index(tr->ev.arch);
    if (ret < 0 && ret >= -ERRNO_MAX && a >= 0 && tr->ev.nr >= 0 && tr->ev.nr < SP_NR_MAX)
        s->errors[a][tr->ev.nr]++;
}

/* Fill the event header from an entry stop; copy memory only when the event will be used. */
void sp_begin_call(struct sp_session *s, struct sp_tracee *tr,
                       const struct __ptrace_syscall_info *info)
{
    struct sp_event *ev = &tr->ev;
    ev->arch = info->arch;
    ev->nr = (int)info->entry.nr;
    tr->rule = rule_for(s, arch_index(info->arch), ev->nr);
    tr->recording = (tr->rule->flags & SP_RULE_RECORD) != 0;
    if (s->launcher_tail && tr->tid == s->result.root_pid) {
        /* Our launcher's calls after the program's execve failed: not the program's, so no
         * policy (a deny of exit_group would keep it from ending) and nothing recorded. */
        static const struct sp_rule launcher_rule = {.action = SP_ALLOW};
        tr->rule = &launcher_rule;
        tr->recording = 0;
    }
    for (int i = 0; i < SP_NARGS; i++) /* a rewrite puts them back at the exit stop */
        ev->args[i] = info->entry.args[i];
    if (!tr->recording && tr->rule->action != SP_CALLBACK)
        return;
    ev->kind = SP_EV_SYSCALL;
    ev->flags = 0;
    ev->pid = tr->tgid;
    ev->tid = tr->tid;
    ev->ret = 0;
    ev->t_entry_ns = sp_now_ns();
    ev->t_exit_ns = 0;
    ev->nseg = 0;
    ev->data_len = 0;
    tr->entry_sp = info->stack_pointer;
    sp_capture_entry(s, tr);
    if (tr->recording && s->config.entry_records)
        sp_unshown_add(&s->tracees, tr);
}

/* Argument registers of each ABI, in argument order. */
static const size_t ARG_REGS_X86_64[6] = {
    REG_OFFSET(rdi), REG_OFFSET(rsi), REG_OFFSET(rdx),
    REG_OFFSET(r10), REG_OFFSET(r8),  REG_OFFSET(r9),
};
static const size_t ARG_REGS_I386[6] = {
    REG_OFFSET(rbx), REG_OFFSET(rcx), REG_OFFSET(rdx),
    REG_OFFSET(rsi), REG_OFFSET(rdi), REG_OFFSET(rbp),
};

static void poke_reg(struct sp_session *s, pid_t tid, size_t offset, long long value)
{
    if (ptrace(PTRACE_POKEUSER, tid, (void *)offset, (void *)value) != 0 && errno != ESRCH)
        sp_fail(s, "PTRACE_POKEUSER", errno);
}

/* Replace arguments of a call stopped under ptrace; the event then shows what really ran. */
static int rewrite_args(struct sp_session *s, struct sp_tracee *tr, unsigned int mask,
                        const unsigned long long *values)
{
    if (s->config.mode == SP_MODE_SECCOMP_NOTIFY)
        return -1; /* a notified call's registers are out of reach */
    if (s->config.mode == SP_MODE_INPROCESS || s->config.mode == SP_MODE_SUD ||
        s->config.mode == SP_MODE_SECCOMP_TRAP) {
        /* A SIGSYS handler (in-process, or the stub) makes the call itself, from the args. */
        for (int i = 0; i < SP_NARGS; i++)
            if (mask & (1u << i))
                tr->ev.args[i] = values[i];
        tr->ev.flags |= SP_EVF_REWRITTEN;
        return 0;
    }
    const size_t *regs =
        tr->ev.arch == AUDIT_ARCH_I386_VALUE ? ARG_REGS_I386 : ARG_REGS_X86_64;
    for (int i = 0; i < SP_NARGS; i++) {
        if (mask & (1u << i)) {
            poke_reg(s, tr->tid, regs[i], (long long)values[i]);
            tr->restore_args[i] = tr->ev.args[i];
            tr->ev.args[i] = values[i];
        }
    }
    tr->restore_mask = mask & 0x3f;
    tr->ev.flags |= SP_EVF_REWRITTEN;
    return 0;
}

/* At the exit stop of a rewritten call: the program gets its own argument registers back, as
 * the syscall instruction promises (only rax, rcx and r11 change). */
static void restore_args(struct sp_session *s, struct sp_tracee *tr)
{
    if (!tr->restore_mask)
        return;
    const size_t *regs =
        tr->ev.arch == AUDIT_ARCH_I386_VALUE ? ARG_REGS_I386 : ARG_REGS_X86_64;
    for (int i = 0; i < SP_NARGS; i++)
        if (tr->restore_mask & (1u << i))
            poke_reg(s, tr->tid, regs[i], (long long)tr->restore_args[i]);
    tr->restore_mask = 0;
}

/* The verdict for the call begun in tr->ev: SP_ALLOW (possibly with rewritten arguments), or
 * SP_DENY/SP_EMULATE with the result in tr->answer. */
/* The call, as far as it was copied at entry, goes where Python reads it. The verdict starts
 * as "allow": what Python leaves unwritten (the common answer costs it nothing). */
static int ask_python(struct sp_session *s, const struct sp_tracee *tr, struct sp_verdict *out)
{
    out->action = SP_ALLOW;
    out->value = 0;
    out->rewrite_mask = 0;
    memcpy(s->config.decide_event, &tr->ev, offsetof(struct sp_event, data) + tr->ev.data_len);
    return s->decide(s->config.py_handle, out);
}

int sp_decide(struct sp_session *s, struct sp_tracee *tr)
{
    const struct sp_rule *rule = tr->rule;
    if (rule->action == SP_ALLOW)
        return SP_ALLOW; /* the common case, once per traced call: nothing to copy */
    struct sp_verdict verdict = {.action = rule->action, .value = rule->value,
                                 .rewrite_mask = rule->rewrite_mask};
    memcpy(verdict.rewrite, rule->rewrite, sizeof(verdict.rewrite));
    if (verdict.action == SP_CALLBACK) {
        verdict.action = SP_ALLOW;
        if (s->callback_failed) {
            /* A callback raised before: the session is ending, and nothing more is asked
             * (the first error is the one Python re-raises). Fail closed. */
            verdict.action = SP_DENY;
            verdict.value = EPERM;
        } else if (s->decide && ask_python(s, tr, &verdict) < 0) {
            /* The callback raised: fail closed and end the session; Python re-raises. */
            s->callback_failed = 1;
            sp_cancel(s);
            verdict.action = SP_DENY;
            verdict.value = EPERM;
        }
        tr->ev.flags |= SP_EVF_CALLBACK;
    }
    if (verdict.action == SP_REWRITE &&
        rewrite_args(s, tr, verdict.rewrite_mask, verdict.rewrite) != 0) {
        verdict.action = SP_DENY; /* cannot do what the policy asked: fail closed */
        verdict.value = EPERM;
    }
    int action = verdict.action;
    long long value = verdict.value;
    if (action == SP_DENY) {
        tr->answer = -value;
        tr->ev.flags |= SP_EVF_DENIED;
    } else if (action == SP_EMULATE) {
        tr->answer = value;
        tr->ev.flags |= SP_EVF_EMULATED;
    } else {
        action = SP_ALLOW;
    }
    return action;
}

void sp_finish_call(struct sp_session *s, struct sp_tracee *tr, long long ret)
{
    count_result(s, tr, ret);
    if (!s->root_execed && !s->config.attach_pid && tr->tid == s->result.root_pid &&
        (ret < 0 || (tr->ev.flags & SP_EVF_EMULATED)) && tr->ev.arch == AUDIT_ARCH_X86_64_VALUE &&
        tr->ev.nr == SYS_execve)
        s->launcher_tail = 1; /* the program's execve failed, or a policy answered it */
    if (tr->recording) {
        tr->ev.ret = ret;
        /* A continued call (seccomp-notify) ends unseen, in the kernel: no time to take. */
        tr->ev.t_exit_ns = tr->ev.flags & SP_EVF_CONTINUED ? tr->ev.t_entry_ns : sp_now_ns();
        sp_capture_exit(s, tr);
        emit(s, &tr->ev);
    }
    sp_unshown_drop(&s->tracees, tr);
    tr->in_syscall = 0;
    tr->recording = 0;
}

static void ptrace_mode_stop(struct sp_session *s, struct sp_tracee *tr,
                             const struct __ptrace_syscall_info *info)
{
    if (info->op == PTRACE_SYSCALL_INFO_ENTRY) {
        sp_begin_call(s, tr, info);
        sp_count_call(s, tr);
        tr->answer_at_exit = sp_decide(s, tr) != SP_ALLOW;
        if (tr->answer_at_exit)
            poke_reg(s, tr->tid, REG_OFFSET(orig_rax), -1); /* skip the call */
        tr->in_syscall = 1;
    } else if (info->op == PTRACE_SYSCALL_INFO_EXIT && tr->in_syscall) {
        long long ret = info->exit.rval;
        restore_args(s, tr);
        if (tr->answer_at_exit) {
            poke_reg(s, tr->tid, REG_OFFSET(rax), tr->answer);
            ret = tr->answer;
            tr->answer_at_exit = 0;
        }
        sp_finish_call(s, tr, ret);
    }
}

static void sysemu_mode_stop(struct sp_session *s, struct sp_tracee *tr,
                             const struct __ptrace_syscall_info *info)
{
    if (tr->reexec == 0) {
        if (info->op != PTRACE_SYSCALL_INFO_ENTRY)
            return;
        /* The kernel will skip this call whatever we do. */
        sp_begin_call(s, tr, info);
        sp_count_call(s, tr);
        tr->in_syscall = 1;
        if (sp_decide(s, tr) != SP_ALLOW) {
            poke_reg(s, tr->tid, REG_OFFSET(rax), tr->answer);
            sp_finish_call(s, tr, tr->answer);
            return;
        }
        /* Pass through: run the syscall instruction again, traced with PTRACE_SYSCALL. */
        poke_reg(s, tr->tid, REG_OFFSET(rip), (long long)(info->instruction_pointer - 2));
        poke_reg(s, tr->tid, REG_OFFSET(rax), (long long)info->entry.nr);
        tr->reexec = 1;
    } else if (tr->reexec == 1) {
        if (info->op != PTRACE_SYSCALL_INFO_ENTRY)
            return;
        /* The re-executed entry. Only a recorded or rewritten call needs to see its exit. */
        if (tr->recording || tr->restore_mask) {
            tr->reexec = 2;
        } else {
            tr->reexec = 0;
            tr->in_syscall = 0;
        }
    } else if (info->op == PTRACE_SYSCALL_INFO_EXIT) {
        tr->reexec = 0;
        restore_args(s, tr);
        sp_finish_call(s, tr, info->exit.rval);
    }
}

/* The seccomp filter sent this call here (RET_TRACE): the only syscall stop it costs, plus
 * the exit stop when the result must be recorded. A denied or emulated call is skipped right
 * here (nr = -1) with its answer already in rax. */
static void seccomp_stop(struct sp_session *s, struct sp_tracee *tr)
{
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tr->tid, (void *)sizeof(info), &info) <= 0) {
        if (errno != ESRCH)
            sp_fail(s, "PTRACE_GET_SYSCALL_INFO", errno);
        return;
    }
    if (info.op != PTRACE_SYSCALL_INFO_SECCOMP)
        return;
    sp_begin_call(s, tr, &info);
    sp_count_call(s, tr);
    if (sp_decide(s, tr) != SP_ALLOW) {
        poke_reg(s, tr->tid, REG_OFFSET(orig_rax), -1);
        poke_reg(s, tr->tid, REG_OFFSET(rax), tr->answer);
        sp_finish_call(s, tr, tr->answer);
    } else if (tr->recording || tr->restore_mask) {
        tr->in_syscall = 1; /* resume() asks for the exit stop */
    }
}

static int is_stub_mode(const struct sp_session *s)
{
    return s->config.mode == SP_MODE_SUD || s->config.mode == SP_MODE_SECCOMP_TRAP;
}

static void resume(struct sp_session *s, struct sp_tracee *tr, int sig)
{
    int request = PTRACE_SYSCALL;
    if (s->config.mode == SP_MODE_SYSEMU && tr->reexec == 0)
        request = PTRACE_SYSEMU;
    else if (s->config.mode == SP_MODE_SECCOMP_TRACE && !tr->in_syscall)
        request = PTRACE_CONT; /* untraced syscalls run at native speed */
    else if (is_stub_mode(s))
        /* Once the stub is in, syscalls go to it, never here; before (the launched program's
         * first execve) they are traced like ptrace's, so that execve is seen too. */
        request = tr->armed ? PTRACE_CONT : PTRACE_SYSCALL;
    if (ptrace(request, tr->tid, 0L, (long)sig) != 0 && errno != ESRCH)
        sp_fail(s, "ptrace resume", errno);
}

static void syscall_stop(struct sp_session *s, struct sp_tracee *tr)
{
    struct __ptrace_syscall_info info;
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tr->tid, (void *)sizeof(info), &info) <= 0) {
        if (errno != ESRCH)
            sp_fail(s, "PTRACE_GET_SYSCALL_INFO", errno);
        return;
    }
    if (s->config.mode == SP_MODE_SYSEMU) {
        sysemu_mode_stop(s, tr, &info);
    } else if (s->config.mode == SP_MODE_SECCOMP_TRACE) {
        /* Only the exit stop of a recorded or rewritten call comes here. */
        if (info.op == PTRACE_SYSCALL_INFO_EXIT && tr->in_syscall) {
            restore_args(s, tr);
            sp_finish_call(s, tr, info.exit.rval);
        }
    } else {
        ptrace_mode_stop(s, tr, &info);
    }
}

/* ---- process events -------------------------------------------------------------------- */

static void new_task(struct sp_session *s, struct sp_tracee *parent, int event)
{
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0L, &msg) != 0)
        return;
    pid_t child = (pid_t)msg;
    /* The child's own first stop may already have added it (from an unknown-pid stop). */
    struct sp_tracee *tr = sp_tracee_find(&s->tracees, child);
    pid_t tgid = event == PTRACE_EVENT_CLONE ? sp_read_tgid(child) : child;
    if (tr)
        tr->tgid = tgid;
    else if (!sp_tracee_add(&s->tracees, child, tgid))
        sp_fail(s, "tracee table", ENOMEM);
}

/* Returns the tracee that now stands for this pid (it changes on exec from another thread). */
static struct sp_tracee *exec_event(struct sp_session *s, struct sp_tracee *tr)
{
    unsigned long msg = 0;
    ptrace(PTRACE_GETEVENTMSG, tr->tid, 0L, &msg);
    pid_t former = (pid_t)msg;
    if (former != tr->tid && former > 0) {
        struct sp_tracee *execer = sp_tracee_find(&s->tracees, former);
        if (execer) {
            /* The old leader is gone; the thread that called execve takes its pid. Calls
             * still unshown go out first, under the tids they began with: the thread's execve
             * began under its own, and the consumer prints its first half there. */
            if (s->tracees.unshown) {
                struct sp_event exec; /* (show_entries reads its kind and tid only) */
                memset(&exec, 0, offsetof(struct sp_event, data));
                exec.kind = SP_EV_EXEC;
                exec.tid = former;
                show_entries(s, &exec);
            }
            sp_flush_unfinished_call(s, tr);
            sp_tracee_rename(&s->tracees, execer, tr->tid);
            tr = execer;
        }
    }
    emit_simple(s, tr, SP_EV_EXEC, 0, former);
    return tr;
}

static int is_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void detach(struct sp_session *s, struct sp_tracee *tr, int sig)
{
    ptrace(PTRACE_DETACH, tr->tid, 0L, (long)sig);
    sp_tracee_remove(&s->tracees, tr->tid);
}

static void handle_stop(struct sp_session *s, struct sp_tracee *tr, int status)
{
    int sig = WSTOPSIG(status);
    int event = (unsigned int)status >> 16;

    if (tr->detaching) {
        /* A call in progress is reported as strace does: `read(0,  <detached ...>`. */
        if (tr->in_syscall && tr->recording)
            tr->ev.flags |= SP_EVF_DETACHED;
        sp_flush_unfinished_call(s, tr);
        /* A pending signal is handed back so the tracee gets it once detached. */
        int pass = (event == 0 && sig != (SIGTRAP | 0x80)) ? sig : 0;
        detach(s, tr, pass);
        return;
    }
    if (tr->in_handshake) {
        /* Our own SIGSTOP/SIGCONT before execve: the program must not see them, nor the user. */
        int our_stop = event == PTRACE_EVENT_STOP;
        int our_cont = event == 0 && sig == SIGCONT;
        if (our_stop || our_cont) {
            tr->in_handshake = !our_cont;
            resume(s, tr, 0);
            return;
        }
        tr->in_handshake = 0;
    }
    if (sig == (SIGTRAP | 0x80)) {
        syscall_stop(s, tr);
        resume(s, tr, 0);
        return;
    }
    switch (event) {
    case 0: /* signal-delivery-stop: pass the signal on */
        if (s->config.record_signals && !(is_stub_mode(s) && sig == SIGSYS))
            emit_signal(s, tr, sig);
        resume(s, tr, sig);
        return;
    case PTRACE_EVENT_STOP:
        if (is_stop_signal(sig)) {
            /* A group-stop: stay stopped, as untraced, until SIGCONT. */
            if (s->config.record_signals)
                emit_simple(s, tr, SP_EV_STOPPED, sig, 0);
            if (ptrace(PTRACE_LISTEN, tr->tid, 0L, 0L) != 0 && errno != ESRCH)
                sp_fail(s, "PTRACE_LISTEN", errno);
            return;
        }
        if (is_stub_mode(s) && !tr->armed) {
            /* A new thread or child: its own slot, and SUD switched on for it. */
            int rc = sp_stub_arm(s, tr);
            if (rc < 0)
                sp_fail(s, "arming a new task for the stub", -rc);
        }
        resume(s, tr, 0);
        return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE:
        new_task(s, tr, event);
        if (s->config.mode == SP_MODE_SUD)
            sp_stub_after_clone(s, tr);
        resume(s, tr, 0);
        return;
    case PTRACE_EVENT_EXEC: {
        int pending = 0;
        int was_armed = tr->armed;
        unsigned long former = (unsigned long)tr->tid;
        ptrace(PTRACE_GETEVENTMSG, tr->tid, 0L, &former);
        tr = exec_event(s, tr);
        tr->restore_mask = 0; /* the new image has registers of its own */
        if (tr->tgid == s->result.root_pid)
            s->root_execed = 1;
        if (is_stub_mode(s) && was_armed)
            sp_stub_exec_done(s, (pid_t)former);
        if (is_stub_mode(s)) {
            pid_t tid = tr->tid;
            int rc = sp_stub_inject(s, tr, &pending);
            if (rc < 0 && (rc == -ESRCH || !sp_tracee_find(&s->tracees, tid)))
                return; /* it was killed meanwhile (a stop's SIGKILL, say): its end is
                         * recorded (sp_stub_inject), or comes with the next wait */
            if (rc < 0) {
                sp_fail(s, "injecting the stub after execve", -rc);
                return; /* the session ends and kills the tracee: never run it unwatched */
            }
            {
                /* From now on the filter and the stub do the work: a ptrace stop for every
                 * SIGSYS would cost more than the trap itself. Exec requests come back. */
                ptrace(PTRACE_DETACH, tr->tid, 0L, (long)pending);
                sp_tracee_remove(&s->tracees, tr->tid);
                return;
            }
        }
        resume(s, tr, pending);
        return;
    }
    case PTRACE_EVENT_SECCOMP:
        seccomp_stop(s, tr);
        resume(s, tr, 0);
        return;
    default:
        resume(s, tr, 0);
        return;
    }
}

void sp_emit_exec(struct sp_session *s, const struct sp_tracee *tr, pid_t former_tid)
{
    if (s->stub) /* after the calls the stubs recorded before it (a vfork child's failed */
        sp_stub_flush(s); /* execs, say), which reach Python through the drainer */
    emit_simple(s, tr, SP_EV_EXEC, 0, former_tid);
}

void sp_emit_exit(struct sp_session *s, const struct sp_tracee *tr, int status)
{
    if (s->stub) /* the stubs' events reach Python through the drainer: let it catch up */
        sp_stub_flush(s);
    emit_simple(s, tr, SP_EV_EXIT, WIFSIGNALED(status) ? WTERMSIG(status) : 0, status);
}

void sp_root_ended(struct sp_session *s, int status)
{
    s->result.root_status = status;
    s->result.root_exited = 1;
    if (s->launcher_tail || sp_launch_failed(s))
        return; /* our launcher ended, not the program: the launch error says it */
    struct sp_tracee root = {.tid = s->result.root_pid, .tgid = s->result.root_pid};
    sp_emit_exit(s, &root, status);
}

void sp_handle_exit(struct sp_session *s, pid_t pid, int status)
{
    struct sp_tracee *tr = sp_tracee_find(&s->tracees, pid);
    if (!tr && pid == s->result.root_pid && !s->result.root_exited) {
        /* The launched process, which a stub mode had let go (no longer a tracee), reaped by
         * the wait for any child while another task was still traced: its status is the
         * session's, and nobody could wait for it again. */
        sp_root_ended(s, status);
        return;
    }
    if (!tr)
        return;
    sp_flush_unfinished_call(s, tr);
    if (s->stub)
        sp_stub_task_gone(s, pid);
    if (!(s->launcher_tail && pid == s->result.root_pid))
        sp_emit_exit(s, tr, status);
    if (pid == s->result.root_pid) {
        s->result.root_status = status;
        s->result.root_exited = 1;
    }
    sp_tracee_remove(&s->tracees, pid);
}

static void handle_cancel(struct sp_session *s)
{
    s->cancel_handled = 1;
    for (size_t i = 0; i < s->tracees.count; i++) {
        struct sp_tracee *tr = s->tracees.items[i];
        if (s->config.attach_pid) {
            tr->detaching = 1;
            ptrace(PTRACE_INTERRUPT, tr->tid, 0L, 0L);
        } else {
            kill(tr->tgid, SIGKILL);
        }
    }
}

/* waitpid without glibc's cancellation-point wrapper: in a multi-threaded process (ours) that
 * wrapper toggles the thread's cancel state around every call, twice per syscall stop. */
static pid_t wait_any(int *status)
{
    return (pid_t)syscall(SYS_wait4, -1, status, __WALL | __WNOTHREAD, NULL);
}

static void trace_loop(struct sp_session *s)
{
    while (s->tracees.count > 0) {
        if (s->cancel && !s->cancel_handled)
            handle_cancel(s);
        int status;
        pid_t pid = wait_any(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            if (errno != ECHILD)
                sp_fail(s, "waitpid", errno);
            break;
        }
        s->stops++;
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            sp_handle_exit(s, pid, status);
            continue;
        }
        if (!WIFSTOPPED(status))
            continue;
        struct sp_tracee *tr = sp_tracee_find(&s->tracees, pid);
        if (!tr) {
            /* A new child whose first stop came before its parent's fork/clone event. */
            tr = sp_tracee_add(&s->tracees, pid, sp_read_tgid(pid));
            if (!tr) {
                sp_fail(s, "tracee table", ENOMEM);
                break;
            }
            if (s->cancel_handled && s->config.attach_pid)
                tr->detaching = 1;
            else if (s->cancel_handled)
                kill(pid, SIGKILL);
        }
        handle_stop(s, tr, status);
        if (s->result.error_errno)
            break;
    }
}

/* If the loop stopped on an error, tracees must not be left stopped: kill or release them. */
static void release_leftovers(struct sp_session *s)
{
    while (s->tracees.count > 0) {
        struct sp_tracee *tr = s->tracees.items[0];
        if (s->config.attach_pid)
            ptrace(PTRACE_DETACH, tr->tid, 0L, 0L);
        else
            kill(tr->tgid, SIGKILL);
        sp_tracee_remove(&s->tracees, tr->tid);
    }
    if (!s->config.attach_pid) {
        /* The stub modes' processes are no tracees between execs: the launched one (our
         * child, which the wait below would wait for for good) and its descendants end too. */
        if (s->result.root_pid > 0 && !s->result.root_exited)
            sp_kill_tree(s->result.root_pid);
        int status;
        while (waitpid(-1, &status, __WALL | __WNOTHREAD) > 0 || errno == EINTR)
            ;
    }
}

int sp_run(struct sp_session *s, const char *path, char **argv, char **envp)
{
    sigset_t all;
    int rc = 0;

    pthread_once(&wake_once, install_wake_handler);
    s->engine_thread = pthread_self();
    /* Signals meant for the process (SIGINT, ...) go to Python's threads, not to this one; but
     * SIGCHLD stays unblocked here. Every ptrace stop notifies the tracer thread with SIGCHLD:
     * left at its default disposition and unblocked in that thread, the kernel drops it at
     * once; blocked, it would be queued for the process and wake a Python thread on the other
     * CPU at every stop (measured: 2.5x the cost of a traced call). */
    sigfillset(&all);
    sigdelset(&all, wake_signal());
    sigdelset(&all, SIGCHLD);
    if (s->config.mode == SP_MODE_SECCOMP_NOTIFY && s->config.attach_pid == 0) {
        pthread_sigmask(SIG_BLOCK, &all, &s->orig_mask);
        sp_place_engine_thread(s);
        s->engine_running = 1;
        rc = sp_notify_run(s, path, argv, envp);
        s->engine_running = 0;
        sp_ring_finish(&s->ring);
        pthread_sigmask(SIG_SETMASK, &s->orig_mask, NULL);
        return rc;
    }
    pthread_sigmask(SIG_BLOCK, &all, &s->orig_mask);
    s->engine_running = 1;
    sp_place_engine_thread(s);
    if (is_stub_mode(s) && (rc = sp_stub_setup(s)) < 0) {
        s->engine_running = 0;
        sp_fail(s, "setting up the stub", -rc);
        sp_ring_finish(&s->ring);
        pthread_sigmask(SIG_SETMASK, &s->orig_mask, NULL);
        return rc;
    }

    if (s->config.attach_pid > 0) {
        rc = sp_attach(s, s->config.attach_pid);
        if (rc < 0)
            release_leftovers(s);
        else
            s->result.root_pid = s->config.attach_pid; /* known once attached, not before */
    } else {
        pid_t pid = sp_launch(s, path, argv, envp);
        if (pid < 0)
            rc = (int)pid;
        else
            s->result.root_pid = pid;
    }
    sp_ring_kick(&s->ring);

    if (rc == 0) {
        if (s->cancel)
            handle_cancel(s);
        trace_loop(s);
        if (is_stub_mode(s) && !s->result.error_errno && s->result.root_pid > 0)
            rc = sp_stub_detached_loop(s); /* (also once the root has ended: its family) */
        if (s->result.error_errno) {
            release_leftovers(s);
            rc = -s->result.error_errno;
        }
    }
    if (s->config.attach_pid == 0)
        sp_read_launch_error(s);
    sp_stub_teardown(s); /* after the last tracee: the drainer has everything it will get */
    s->engine_running = 0;
    sp_ring_finish(&s->ring);
    pthread_sigmask(SIG_SETMASK, &s->orig_mask, NULL);
    return rc;
}
