"""``sud``: the seed's unprivileged mode for another process, with Syscall User Dispatch.

After the launched program's first execve the engine maps a small stub into it (csrc/stub/:
freestanding, position-independent C) with a shared data region, makes the stub's handler the
SIGSYS handler, and switches Syscall User Dispatch on for the thread with
PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (Linux 6.4): its selector byte lives in the thread's
slot of the shared region, and the stub's code is the always-allowed range. From then on every
syscall traps to the stub, in the tracee, which applies the policy and records events into a
shared ring that a supervisor thread drains. Then the engine detaches: with ptrace attached,
every SIGSYS would also stop the tracee for the tracer, which costs more than the trap.

SUD is per thread and not inherited, so a seccomp filter that traps every call (RET_TRAP,
except from the stub) backs it up: a new thread or child reaches the stub through the filter
once and arms SUD for itself. execve is the one call the engine takes part in: the stub asks
the engine to attach, makes the call, and the engine puts the stub back into the new image at
PTRACE_EVENT_EXEC (with PTRACE_O_SUSPEND_SECCOMP, which needs CAP_SYS_ADMIN), then detaches.

The stub's SIGSYS handler runs on a signal stack of its own, one per thread (64 KiB each, in
a private mapping so a forked child's copy is its own); a program that sets a signal stack of
its own gets it (sigaltstack is answered per thread), and the handler then runs there. A new
thread's first trap runs on the thread's stack; the exec'ing thread's has the stub's from
the start.

Plainly: a hostile tracee can write its selector byte and leave SUD (the byte must stay
writable: the kernel reads it at every syscall), or jump into the stub's code range, where
the backup filter lets through only what the stub could make itself (the same limits as
``seccomp-trap``, whose docstring lists them). This mechanism is for tracing and emulation,
not confinement. A call that makes a thread or a vfork child cannot run inside a signal
handler (the child would run on a stack that is not its own): the stub applies the policy to
it (a denied one fails with its errno, a rewritten one runs with the new arguments), records
it, and makes it from its clone cell once the handler has returned (see ``seccomp-trap``);
its result goes straight to the program, so its event has none (``retval`` None). A fork (a
child with a copy of everything) is made in the handler like any call, and its event has the
child's pid. The exits of tasks other than the launched one and signals are not seen (the
engine is not attached). A Python callback ("ask") puts the call in the thread's slot; the
stub spins briefly, then sleeps on a futex, until the engine thread has the answer from
Python.

Limits shared with ``seccomp-trap`` (found by QA, not fixed):

* the handler needs about 32 KiB of stack where it runs: a thread made with a smaller stack
  (PTHREAD_STACK_MIN, 16 KiB) dies by SIGSEGV at its first call, as does a handler of the
  program's on a signal stack of less than 32 KiB that makes a call;
* a program that changes its uid to another user (setresuid) before an execve: the stub
  cannot be put into the new image (the session ends with an EngineError, and its processes
  with it);
* a program in a PID namespace of its own: its execs are refused (EPERM), since the tids its
  stub reports are not the engine's (the engine attaches only to a task that maps its stub);
* ptrace by the program (PTRACE_TRACEME, ATTACH, SEIZE) is refused (EPERM): its tracer would
  be stopped at every trap;
* a signal handler that jumps out (siglongjmp) of a call the stub was making leaves the data
  open under ``protect="mprotect"`` for the rest of that process;
* the program reads back a signal mask without SIGSYS (SIGSYS is kept out of every mask so
  that traps are delivered), and a SIGSYS it blocked and raised ends it at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from splitpriv import _binding
from splitpriv.mechanisms._probes import sud_config_problem
from splitpriv.mechanisms._stub import stub_filter, stub_policy_problem, stub_problem, sud_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism

if TYPE_CHECKING:
    from splitpriv.policy import Policy


class SudMechanism(Mechanism):
    name = "sud"
    summary = "Syscall User Dispatch: syscalls trap to a stub in the tracee, no ptrace stop"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=True,
        sees_return_value=True,
        counts_every_call=True,
        sees_signals=False,
        sees_every_exit=False,
        follows_forks=True,
        untraced_children=False,
        attach=False,
        python_callbacks=True,
        holds_against_hostile_tracee=False,
        privileged_only_memory=True,
        stops_per_traced_syscall="0 (in-process SIGSYS handler)",
    )
    requirements = (
        "ptrace",
        "Syscall User Dispatch",
        "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG",
        "seccomp filters",
        "CAP_SYS_ADMIN (PTRACE_O_SUSPEND_SECCOMP)",
    )
    cost_rank = 5

    def policy_problem(self, policy: Policy) -> str | None:
        return stub_policy_problem(policy)

    def available(self) -> Availability:
        problem = stub_problem() or sud_problem() or sud_config_problem()
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SUD

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[_binding.Rule]]) -> bytes:
        return stub_filter(engine_rules, route_everything=True)
