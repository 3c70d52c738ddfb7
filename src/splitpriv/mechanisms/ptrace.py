"""``ptrace``: the 2002 path. PTRACE_SYSCALL stops the tracee at every syscall entry and exit.

This is how User-Mode Linux caught its processes' syscalls, and what strace does by default:
two stops per syscall, traced or not, and a tracer wake-up for each. Deny and emulate skip the
call at entry (orig_rax = -1) and write the answer into rax at the exit stop. Nothing a tracee
does can take the tracer away, so it holds against a hostile tracee.
"""

from __future__ import annotations

from splitpriv import _binding
from splitpriv.mechanisms._probes import ptrace_problem, syscall_info_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


class PtraceMechanism(Mechanism):
    name = "ptrace"
    summary = "PTRACE_SYSCALL: a stop at every syscall entry and exit"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=True,
        sees_return_value=True,
        counts_every_call=True,
        sees_signals=True,
        sees_every_exit=True,
        follows_forks=True,
        untraced_children=True,
        attach=True,
        python_callbacks=True,
        holds_against_hostile_tracee=True,
        privileged_only_memory=False,
        stops_per_traced_syscall="2",
        entry_records=True,
    )
    requirements = ("ptrace", "PTRACE_GET_SYSCALL_INFO")
    cost_rank = 30

    def available(self) -> Availability:
        problem = ptrace_problem() or syscall_info_problem()
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_PTRACE
