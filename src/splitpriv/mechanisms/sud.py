"""``sud``: the seed's unprivileged mode for another process, with Syscall User Dispatch.

After every execve the engine maps a small stub into the tracee (csrc/stub/: freestanding,
position-independent C) with a shared data region, and makes the stub's handler the tracee's
SIGSYS handler. Syscall User Dispatch is switched on for every thread with
PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (Linux 6.4), its selector byte in the thread's slot of
the shared region and the stub's code as the always-allowed range. From then on every syscall
of the tracee traps to the stub, in the tracee, which applies the policy and records events
into a shared ring that a supervisor thread drains; the engine stays attached only for process
events (fork, clone, exec, exit, signals). No ptrace stop per syscall.

Plainly: a hostile tracee can write its selector byte and leave the mode (the byte must stay
writable: the kernel reads it at every syscall), or jump into the stub's code range. This
mechanism is for tracing and emulation, not confinement. ``clone``, ``clone3`` and ``vfork``
cannot run inside a signal handler (the child would return onto a stack it does not own): the
stub lets them run again with the selector open, and the engine closes it at the clone event;
they are not recorded. Python callbacks are not available (the stub has no path to Python yet).
"""

from __future__ import annotations

from splitpriv import _binding
from splitpriv.mechanisms._probes import _reason
from splitpriv.mechanisms._stub import stub_problem, sud_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


class SudMechanism(Mechanism):
    name = "sud"
    summary = "Syscall User Dispatch: syscalls trap to a stub in the tracee, no ptrace stop"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=True,
        sees_return_value=True,
        counts_every_call=True,
        sees_signals=True,
        sees_every_exit=True,
        follows_forks=True,
        untraced_children=False,
        attach=False,
        python_callbacks=False,
        holds_against_hostile_tracee=False,
        stops_per_traced_syscall="0 (in-process SIGSYS handler)",
    )
    requirements = (
        "ptrace",
        "Syscall User Dispatch",
        "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG",
    )
    cost_rank = 5

    def available(self) -> Availability:
        problem = stub_problem() or sud_problem()
        if problem is None:
            err = _binding.probe_feature("set_sud_config")
            problem = (
                _reason("PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (Linux 6.4)", err) if err else None
            )
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SUD
