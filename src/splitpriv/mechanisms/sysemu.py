"""``sysemu``: PTRACE_SYSEMU, the fast path added to Linux 2.6.14 for User-Mode Linux.

The tracee stops once, at syscall entry, and the kernel then skips the call. That is all UML
needs, since its kernel emulates every call; it is what this mechanism does for denied and
emulated calls: **one stop**, with the answer written into rax.

Calls that must really run are passed through by re-executing them: the engine moves the
instruction pointer back over the 2-byte syscall instruction, puts the number back into rax and
resumes with PTRACE_SYSCALL, so the call enters again with a real entry stop. Cost model:

* denied or emulated: 1 stop;
* allowed, result not needed (not recorded): 2 stops (from the second entry the engine resumes
  with PTRACE_SYSEMU: the kernel has already decided to run the call, and reports no exit);
* allowed and recorded (tracing): 3 stops, one more than ``ptrace``.

So ``sysemu`` wins when most calls are answered by the policy, and loses when tracing calls that
run. The tracer cannot be shed by the tracee, as with ``ptrace``.
"""

from __future__ import annotations

from splitpriv import _binding
from splitpriv.mechanisms._probes import ptrace_problem, syscall_info_problem, sysemu_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


class SysemuMechanism(Mechanism):
    name = "sysemu"
    summary = "PTRACE_SYSEMU: one stop per syscall, the kernel skips the call"
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
        stops_per_traced_syscall="1 emulated, 3 passed through",
        entry_records=True,
    )
    requirements = ("ptrace", "PTRACE_SYSEMU", "PTRACE_GET_SYSCALL_INFO")
    cost_rank = 31

    def available(self) -> Availability:
        problem = ptrace_problem() or syscall_info_problem() or sysemu_problem()
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SYSEMU
