"""The mechanism interface: one small class per way of intercepting syscalls.

A mechanism says what it is (``name``, ``summary``), what it can do (:class:`Capabilities`),
what the kernel must offer (``requirements``) and whether that is here now (``available()``, with
a reason when not). The engine does the work; a mechanism only chooses the engine's mode and
checks that a request is within its reach. Mechanisms register by name in
``splitpriv.mechanisms``; later ones (seccomp, Syscall User Dispatch) implement the same class.

A mechanism must never keep per-session state: sessions belong to ``splitpriv.session``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, NamedTuple

if TYPE_CHECKING:
    from splitpriv._binding import Rule
    from splitpriv.policy import Policy


class Capabilities(NamedTuple):
    """What a mechanism can do, as DESIGN.md's mechanism table states it."""

    deny: bool
    emulate: bool
    rewrite_args: bool
    sees_return_value: bool
    counts_every_call: bool  # run() counts calls the filter answered or allowed in-kernel too
    sees_signals: bool  # signal deliveries and group-stops of tracees
    sees_every_exit: bool  # the exit of every task, not only of the launched process
    follows_forks: bool
    untraced_children: bool  # follow_forks=False: children run on without us
    attach: bool
    python_callbacks: bool
    holds_against_hostile_tracee: bool
    privileged_only_memory: bool  # protect="mprotect"/"pkey" hides its data from the tracee
    stops_per_traced_syscall: str
    # It sees each call enter and return in one thread, in time order, so it can hand over
    # the entry of a call in progress (Trace's entry_records) for strace's interleaving.
    entry_records: bool = False


class Availability(NamedTuple):
    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


class Mechanism(ABC):
    """One way of bringing a tracee's syscalls to the supervisor."""

    name: ClassVar[str]
    summary: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    requirements: ClassVar[tuple[str, ...]]
    # Relative cost of one traced syscall (lower is cheaper); "auto" picks the lowest.
    cost_rank: ClassVar[int]

    @abstractmethod
    def available(self) -> Availability:
        """Probe the running kernel for real; say why not when it cannot work here."""

    @property
    @abstractmethod
    def engine_mode(self) -> int:
        """The C engine's mode (``SP_MODE_*``) this mechanism runs."""

    def seccomp_filter(self, engine_rules: Mapping[int, Sequence[Rule]]) -> bytes:
        """The BPF program the tracee must install before execve, if this mechanism needs one.

        ``engine_rules`` is the engine's table per audit arch. The default: no filter."""
        return b""

    def policy_problem(self, policy: Policy) -> str | None:
        """What of ``policy`` this mechanism cannot carry out (the rest of the sentence
        "cannot ..."), or None. The default: every verdict on every call can be kept."""
        return None

    def missing_capability(
        self,
        *,
        deny: bool,
        emulate: bool,
        rewrite: bool,
        callbacks: bool,
        attach: bool,
        untraced_children: bool,
        return_values: bool,
    ) -> str | None:
        """The first capability a request needs and this mechanism lacks, or None."""
        caps = self.capabilities
        for wanted, have, what in (
            (deny, caps.deny, "deny syscalls"),
            (emulate, caps.emulate, "emulate syscalls"),
            (rewrite, caps.rewrite_args, "rewrite arguments"),
            (callbacks, caps.python_callbacks, "ask a Python callback"),
            (attach, caps.attach, "attach to a running process"),
            (untraced_children, caps.untraced_children, "leave children untraced"),
            (return_values, caps.sees_return_value, "see return values"),
        ):
            if wanted and not have:
                return what
        return None
