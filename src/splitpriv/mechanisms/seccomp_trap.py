"""``seccomp-trap``: the stub of ``sud``, reached through a seccomp filter's RET_TRAP.

At the first execve the engine maps the stub into the tracee (see ``sud``) and installs a
filter that sends the calls the policy must see to the stub's SIGSYS handler (RET_TRAP),
answers calls that are only denied itself (RET_ERRNO), and allows everything else in the kernel
at native speed. Then the engine detaches: attached, it would also stop the tracee at every
SIGSYS. The filter survives exec and is inherited, so children are covered without the engine,
and every execve goes through a handshake (the stub asks, the engine attaches, puts the stub
back at PTRACE_EVENT_EXEC and detaches again); since the filter would trap those injected
calls, injection runs with PTRACE_O_SUSPEND_SECCOMP, which needs CAP_SYS_ADMIN. Without the
engine attached, signals and the exits of tasks other than the launched one are not seen.

What the stub's code range allows, exactly: a syscall whose instruction lies in
[0x6e0000000000, 0x6e0000010000) passes the filter only if the stub could make it itself
(``_stub.stub_range_limits``): every call the policy lets run (allowed, recorded, rewritten,
or handed to a callback), and the stub's own calls (``STUB_OWN_CALLS``: futex, kill, tgkill,
getpid, gettid, mprotect, process_vm_readv/writev, rt_sigprocmask, sched_yield, clock_gettime,
prctl, execve, execveat, rt_sigreturn) whatever the policy says of them. A call the policy
denies or emulates, ``seccomp`` and ``prctl(PR_SET_SECCOMP)``, ``rt_sigaction`` of SIGSYS and
``prctl`` of Syscall User Dispatch kill the process when made from there, for x86_64 and i386
alike. So a tracee that
jumps into the stub (to the ``syscall`` instruction of its restorer, or of a clone cell, say)
gains: the own calls its policy denies or emulates, the original arguments of calls the policy
rewrites, and the calls a callback would decide, without the callback; ``tests/test_stub.py``
checks that it gains nothing else it tries. ``rt_sigreturn`` is never trapped (every signal
handler returns through it, and the policy may not decide it: ``policy_problem``).

The calls that make a task (``clone``, ``clone3``, ``fork``, ``vfork``) always reach the stub,
which must know when a child inherits its signal stack (it knows its thread by that stack, not
by a ``gettid`` per trap). A thread or a vfork child cannot start inside the handler (it would
run on a stack that is not its own), and the filter would trap the program's instruction again:
the stub makes those calls from its clone cells (``csrc/stub/entry.S``), one per slot, which
return to the program, so their events have no result (``retval`` None). A fork is made in the
handler, and its event has the child's pid. An i386 call that makes a thread or a vfork child
is not supported. The limits both stub mechanisms share (stack size, uid changes before exec,
PID namespaces, ptrace by the program, ...) are listed at the end of ``sud``'s docstring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from splitpriv import _binding
from splitpriv.mechanisms._stub import stub_filter, stub_policy_problem, stub_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism

if TYPE_CHECKING:
    from splitpriv.policy import Policy


class SeccompTrapMechanism(Mechanism):
    name = "seccomp-trap"
    summary = "seccomp RET_TRAP: syscalls trap to a stub in the tracee, no ptrace stop"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=True,
        sees_return_value=True,
        counts_every_call=False,
        sees_signals=False,
        sees_every_exit=False,
        follows_forks=True,
        untraced_children=False,
        attach=False,
        python_callbacks=True,
        holds_against_hostile_tracee=False,
        privileged_only_memory=True,
        stops_per_traced_syscall="0 (in-process SIGSYS handler); 0 for untraced and denied",
    )
    requirements = ("ptrace", "seccomp filters", "CAP_SYS_ADMIN (PTRACE_O_SUSPEND_SECCOMP)")
    cost_rank = 4

    def policy_problem(self, policy: Policy) -> str | None:
        return stub_policy_problem(policy)

    def available(self) -> Availability:
        problem = stub_problem()
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SECCOMP_TRAP

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[_binding.Rule]]) -> bytes:
        return stub_filter(engine_rules, route_everything=False)
