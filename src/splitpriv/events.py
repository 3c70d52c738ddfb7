"""What a trace yields: syscall, signal, exec and exit events, and the final exit status.

Events are plain, immutable Python values built from the engine's raw records. Decoding of
arguments is lazy (``SyscallEvent.arguments`` / ``format()``), so a consumer that only counts or
filters pays for none of it. This module must never talk to the engine or to a process.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from functools import cached_property
from typing import Any

from splitpriv._values import field, value_class, value_fields
from splitpriv.syscalls import ARCHES, decode, prototype, render, table
from splitpriv.syscalls.prototypes import CAPTURE_ARGV, Param, capture_spec
from splitpriv.syscalls.siginfo import format_siginfo


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}" if number < signal.SIGRTMIN else f"SIGRT_{number - signal.SIGRTMIN}"


@value_class
class ExitStatus:
    """How a process ended: an exit code or a signal (never both)."""

    code: int | None = None
    signal: int | None = None
    core_dumped: bool = False

    @classmethod
    def from_wait_status(cls, status: int) -> ExitStatus:
        if os.WIFSIGNALED(status):
            return cls(signal=os.WTERMSIG(status), core_dumped=os.WCOREDUMP(status))
        return cls(code=os.WEXITSTATUS(status))

    @property
    def returncode(self) -> int:
        """The shell's convention, as strace reports it: the code, or 128 + the signal."""
        if self.signal is not None:
            return 128 + self.signal
        return self.code if self.code is not None else 0

    def __str__(self) -> str:
        if self.signal is not None:
            core = " (core dumped)" if self.core_dumped else ""
            return f"killed by {signal_name(self.signal)}{core}"
        return f"exited with {self.code}"


@value_class
class Argument:
    """One decoded argument: its C name and type, raw value, and strace-style text."""

    name: str
    type: str
    value: int
    text: str
    memory: bytes | None = None


@value_class(slots=False, repr=False)
class SyscallEvent:
    """One system call of a tracee, from entry to exit.

    ``retval`` is None when the call never returned (``exit_group``, a killed tracee, an
    ``execve`` superseded by another thread's), when the mechanism cannot see results
    (seccomp-notify lets allowed calls continue in the kernel), and in the event a policy
    callback is given: the call is not made yet (``exit_ns`` is None too). ``verdict`` says
    whether the call ran as made ("allowed"), ran with arguments the policy changed
    ("rewritten", ``args`` then holds the new ones) or was answered by the policy ("denied",
    "emulated").
    ``memory`` holds what the engine copied, by argument index: strings and buffers, small
    structs, execve's argv (see :meth:`strings`), counts (envp's strings, getdents' records) and,
    under the argument index plus ``SEG_AFTER`` (8), poll's array as it was at exit.
    """

    pid: int
    tid: int
    nr: int
    arch: str
    args: tuple[int, ...]
    retval: int | None
    entry_ns: int
    exit_ns: int | None
    verdict: str = "allowed"
    by_callback: bool = False
    memory: dict[int, bytes] = field(default_factory=dict)
    truncated: frozenset[int] = frozenset()
    faults: frozenset[int] = frozenset()

    @classmethod
    def _from_fields(
        cls,
        fields: dict[str, Any],
        _new: Callable[[type[SyscallEvent]], SyscallEvent] = object.__new__,
        _set: Callable[[Any, str, Any], None] = object.__setattr__,
    ) -> SyscallEvent:
        """The same as the constructor, given every field by name, for the session's hot path:
        a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (about
        1 us per event); taking the caller's dict as the instance dict costs a tenth of that.
        The instance is as frozen. (The defaults save two lookups of builtins per event.)"""
        event = _new(cls)
        _set(event, "__dict__", fields)
        return event

    @cached_property
    def name(self) -> str:
        return table(self.arch).name(self.nr)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in value_fields(SyscallEvent))
        return f"SyscallEvent(name={self.name!r}, {fields})"

    def __hash__(self) -> int:
        # Not on memory (a dict): equal events hash alike all the same.
        return hash(
            (
                self.pid,
                self.tid,
                self.arch,
                self.nr,
                self.args,
                self.retval,
                self.entry_ns,
                self.exit_ns,
                self.verdict,
            )
        )

    @property
    def errno(self) -> int | None:
        """The error number when the call failed, else None."""
        if self.retval is not None and -render.ERRNO_MAX <= self.retval < 0:
            return -self.retval
        return None

    @property
    def duration_ns(self) -> int | None:
        return None if self.exit_ns is None else self.exit_ns - self.entry_ns

    @cached_property
    def arguments(self) -> tuple[Argument, ...]:
        """The arguments by the prototype's names and types, strings cut at 32 bytes."""
        return self.decode_arguments(render.DEFAULT_STRING_LIMIT)

    def decode_arguments(self, string_limit: int | None) -> tuple[Argument, ...]:
        """The arguments as strace shows them, strings and buffers cut at ``string_limit`` bytes.

        The texts come from :func:`splitpriv.syscalls.decode.arguments`, so they follow strace's
        choice and order of arguments (``open`` without a mode, ``clone(child_stack=...)``);
        each :class:`Argument` names the raw argument its text shows.
        """
        params = prototype(self.name).params
        decoded = []
        for position, text in enumerate(decode.arguments(self, string_limit)):
            i = decode.param_index(text, position)
            param = params[i] if i < len(params) else Param("unsigned long", f"arg{i}")
            value = self.args[i] if i < len(self.args) else 0
            decoded.append(Argument(param.name, param.type, value, str(text), self.memory.get(i)))
        return tuple(decoded)

    def string(self, index: int) -> str | None:
        """A copied string argument decoded as text (surrogate escapes for odd bytes)."""
        data = self.memory.get(index)
        return None if data is None else os.fsdecode(data)

    def strings(self, index: int) -> list[str | None] | None:
        """A copied string array (execve's and execveat's argv) as a list, each string decoded
        like :meth:`string` and cut where the engine cut it (the string limit); an element it
        could not read is None. None when the argument is not such an array or was not copied.
        """
        data = self.memory.get(index)
        if data is None or capture_spec(self.name)[index] != CAPTURE_ARGV:
            return None
        return [
            None if flag == decode.ELEM_FAULT else os.fsdecode(value)
            for flag, value in decode.string_array(data)
        ]

    def format(self, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
        """The strace line: ``openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3``."""
        arguments = (
            self.arguments
            if string_limit == render.DEFAULT_STRING_LIMIT
            else self.decode_arguments(string_limit)
        )
        args = ", ".join(a.text for a in arguments)
        return f"{self.name}({args}) = {decode.result(self)}"

    def __str__(self) -> str:
        return self.format()


@value_class
class SignalEvent:
    """A signal delivered to a tracee (and passed on to it)."""

    pid: int
    tid: int
    signal: int
    code: int
    sender_pid: int
    sender_uid: int
    time_ns: int
    sender_status: int = 0  # si_status: a child's exit code or signal (SIGCHLD)

    @property
    def name(self) -> str:
        return signal_name(self.signal)

    def format(self, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
        """strace's line (``string_limit``: as for :meth:`SyscallEvent.format`; unused):
        ``--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...} ---``."""
        info = format_siginfo(
            self.signal, self.code, self.sender_pid, self.sender_uid, self.sender_status
        )
        return f"--- {self.name} {info} ---"

    def __str__(self) -> str:
        return self.format()


@value_class
class StopEvent:
    """A tracee entered a group-stop (SIGSTOP, SIGTSTP, ...) and stays stopped until SIGCONT."""

    pid: int
    tid: int
    signal: int
    time_ns: int

    def format(self, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
        """strace's line (``string_limit``: as for :meth:`SyscallEvent.format`; unused)."""
        return f"--- stopped by {signal_name(self.signal)} ---"

    def __str__(self) -> str:
        return self.format()


@value_class
class ExecEvent:
    """A successful execve; ``former_tid`` is the thread that called it (its tid is now pid)."""

    pid: int
    tid: int
    former_tid: int
    time_ns: int

    def format(self, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
        """strace prints no line for an exec (its execve shows it): the empty string."""
        return ""

    def __str__(self) -> str:
        """Not empty, unlike :meth:`format`: ``print(event)`` shows what happened."""
        moved = f" (by thread {self.former_tid})" if self.former_tid != self.pid else ""
        return f"+++ process {self.pid} is a new program{moved} +++"


@value_class
class ExitEvent:
    """A traced thread or process ended."""

    pid: int
    tid: int
    status: ExitStatus
    time_ns: int

    def format(self, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
        """strace's line (``string_limit``: as for :meth:`SyscallEvent.format`; unused)."""
        return f"+++ {self.status} +++"

    def __str__(self) -> str:
        return self.format()


Event = SyscallEvent | SignalEvent | StopEvent | ExecEvent | ExitEvent

__all__ = [
    "ARCHES",
    "Argument",
    "Event",
    "ExecEvent",
    "ExitEvent",
    "ExitStatus",
    "SignalEvent",
    "StopEvent",
    "SyscallEvent",
    "signal_name",
]
