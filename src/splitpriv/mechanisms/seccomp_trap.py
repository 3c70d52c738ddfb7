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

What the stub's code range allows, exactly: every syscall whose instruction lies in
[0x6e0000000000, 0x6e0000010000) passes the filter unchecked, whatever its number or ABI. The
stub makes calls only on the tracee's behalf, but a tracee that jumps into that range (to the
`syscall` instruction of the stub's restorer) can make any call unseen. ``rt_sigreturn``,
``clone``, ``clone3`` and ``vfork`` are always allowed (a signal handler cannot make them); a
static deny of them still works (RET_ERRNO). So this mechanism holds against mistakes, not
against a tracee that attacks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from splitpriv import _binding
from splitpriv.mechanisms._stub import stub_filter, stub_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


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

    def available(self) -> Availability:
        problem = stub_problem()
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SECCOMP_TRAP

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[_binding.Rule]]) -> bytes:
        return stub_filter(engine_rules, route_everything=False)
