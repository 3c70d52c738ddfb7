"""``seccomp-trace``: a seccomp filter returns RET_TRACE for the calls the supervisor must see.

The filter goes into the child between the launch handshake and execve (it survives exec and
is inherited by every child). Calls nobody asked for run at native speed under PTRACE_CONT;
calls the policy only denies are answered by the filter (RET_ERRNO) with no stop at all; the
rest stop once (PTRACE_EVENT_SECCOMP), plus once more at exit when the result is recorded. This
is what ``strace --seccomp-bpf`` does.

Because the filter is inherited, every child is traced: a traced call in an untraced child would
fail with ENOSYS, so ``follow_forks=False`` is refused. Attaching to a running process is not
possible: a filter can only be installed by the process itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from splitpriv import _binding
from splitpriv.mechanisms._probes import ptrace_problem, seccomp_problem, syscall_info_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


class SeccompTraceMechanism(Mechanism):
    name = "seccomp-trace"
    summary = "seccomp RET_TRACE: a ptrace stop only for the syscalls that need one"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=True,
        sees_return_value=True,
        counts_every_call=False,
        sees_signals=True,
        sees_every_exit=True,
        follows_forks=True,
        untraced_children=False,
        attach=False,
        python_callbacks=True,
        holds_against_hostile_tracee=True,
        privileged_only_memory=False,
        stops_per_traced_syscall="1 (+1 for the exit value); 0 for untraced and denied",
        entry_records=True,
    )
    requirements = ("ptrace", "PTRACE_GET_SYSCALL_INFO", "seccomp filters", "SECCOMP_RET_TRACE")
    cost_rank = 20

    def available(self) -> Availability:
        problem = ptrace_problem() or syscall_info_problem() or seccomp_problem("trace")
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SECCOMP_TRACE

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[_binding.Rule]]) -> bytes:
        from splitpriv.mechanisms._seccomp_filter import policy_filter  # (see seccomp_notify)
        from splitpriv.seccomp import TRACE

        return policy_filter(engine_rules, TRACE())
