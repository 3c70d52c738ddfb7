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
from collections.abc import Collection, Mapping, Sequence
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


# What each yes/no capability lets a mechanism do, in words for "mechanism 'x' cannot ...".
CAPABILITY_WORDS: dict[str, str] = {
    "deny": "deny syscalls",
    "emulate": "emulate syscalls",
    "rewrite_args": "rewrite arguments",
    "sees_return_value": "see return values",
    "counts_every_call": "count every call",
    "sees_signals": "see signals",
    "sees_every_exit": "see every task's exit",
    "follows_forks": "follow forks",
    "untraced_children": "leave children untraced",
    "attach": "attach to a running process",
    "python_callbacks": "ask a Python callback",
    "holds_against_hostile_tracee": "hold against a hostile tracee",
    "privileged_only_memory": "keep its data from the tracee (privileged-only memory)",
    "entry_records": "hand over the entry of a call in progress",
}


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
        require: Collection[str] = (),
    ) -> str | None:
        """The first capability a request needs and this mechanism lacks, or None.
        ``require``: names of :class:`Capabilities` fields that must be true too."""
        for wanted, capability in (
            (deny, "deny"),
            (emulate, "emulate"),
            (rewrite, "rewrite_args"),
            (callbacks, "python_callbacks"),
            (attach, "attach"),
            (untraced_children, "untraced_children"),
            (return_values, "sees_return_value"),
            *((True, name) for name in require),
        ):
            if wanted and not getattr(self.capabilities, capability):
                return CAPABILITY_WORDS[capability]
        return None
