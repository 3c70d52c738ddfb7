"""``seccomp-notify``: a seccomp filter returns RET_USER_NOTIF; the supervisor answers on a
listener fd. No ptrace at all.

The child installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER and hands the listener to
the supervisor before execve. The C engine polls it, reads strings with process_vm_readv, checks
SECCOMP_IOCTL_NOTIF_ID_VALID before trusting what it read, and answers with an errno, an
emulated value, or SECCOMP_USER_NOTIF_FLAG_CONTINUE. SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is
turned on where the kernel has it (6.7), which keeps the woken tracee on the supervisor's CPU.

What it cannot do, by design of the kernel interface:

* see return values: a continued call runs after the answer, so trace output shows ``= ?``;
* see signals, group-stops, or the exit of any process but the launched one;
* decide safely about pointer arguments with CONTINUE: the tracee (another thread of it) can
  change the memory after the supervisor read it (TOCTOU). A policy callback that allows a call
  because of a path it read is advisory here; deny and emulate are safe, since the call then
  never runs;
* leave children untraced (the filter is inherited) or attach to a running process;
* keep a signal from cutting a call short before the engine has read it: the kernel then
  restarts the call if the handler has SA_RESTART, and otherwise the program gets EINTR, even
  from a call that cannot fail natively (getppid). The call is not recorded or asked about
  then: it never reached the engine. Once the engine has read a call, only a fatal signal
  interrupts it (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, Linux 5.19): so a call is never
  recorded, or its callback asked, twice.

If the supervisor dies, the launched process is killed (PR_SET_PDEATHSIG); its descendants'
notified calls then fail with ENOSYS, closed rather than open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from splitpriv import _binding
from splitpriv.mechanisms._probes import seccomp_problem
from splitpriv.mechanisms.base import Availability, Capabilities, Mechanism


class SeccompNotifyMechanism(Mechanism):
    name = "seccomp-notify"
    summary = "seccomp RET_USER_NOTIF: the supervisor answers on a listener fd, no ptrace"
    capabilities = Capabilities(
        deny=True,
        emulate=True,
        rewrite_args=False,
        sees_return_value=False,
        counts_every_call=False,
        sees_signals=False,
        sees_every_exit=False,
        follows_forks=True,
        untraced_children=False,
        attach=False,
        python_callbacks=True,
        holds_against_hostile_tracee=True,
        privileged_only_memory=False,
        stops_per_traced_syscall="0 ptrace stops (one notification round trip)",
    )
    requirements = ("seccomp filters", "SECCOMP_RET_USER_NOTIF", "pidfd_open")
    cost_rank = 10

    def available(self) -> Availability:
        problem = seccomp_problem("notify")
        return Availability(False, problem) if problem else Availability(True)

    @property
    def engine_mode(self) -> int:
        return _binding.MODE_SECCOMP_NOTIFY

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[_binding.Rule]]) -> bytes:
        # The filter builder is imported when a filter is built: tracing with another
        # mechanism does not load it.
        from splitpriv.mechanisms._seccomp_filter import policy_filter
        from splitpriv.seccomp import USER_NOTIF

        return policy_filter(engine_rules, USER_NOTIF)
