"""The engine's flat records as the trace command uses them.

``splitpriv trace`` reads :meth:`splitpriv.Trace.record_batches` rather than the decoded event
iterator for two reasons: speed (one small slotted object per syscall instead of a frozen
dataclass, about half the cost per event, which matters because the command must keep pace
with the C engine), and fields the public events do not carry (``si_status`` of a signal, and
whether a call's result is unknown because the mechanism let it continue in the kernel). A
:class:`Call` has every attribute :class:`splitpriv.syscalls.decode.CallLike` asks for, so the
strace-exact decoders print it directly; the meaning of each field is that of
:class:`splitpriv.SyscallEvent`.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from splitpriv import _binding
from splitpriv.events import ExitStatus
from splitpriv.syscalls import ARCHES, render, table

EV_SYSCALL: Final = _binding.EV_SYSCALL
EV_SIGNAL: Final = _binding.EV_SIGNAL
EV_EXIT: Final = _binding.EV_EXIT
EV_EXEC: Final = _binding.EV_EXEC
EV_STOPPED: Final = _binding.EV_STOPPED

_NORETURN: Final = _binding.EVF_NORETURN
_CONTINUED: Final = _binding.EVF_CONTINUED
DETACHED: Final = _binding.EVF_DETACHED
_INJECTED: Final = _binding.EVF_DENIED | _binding.EVF_EMULATED
_DENIED: Final = _binding.EVF_DENIED
_EMULATED: Final = _binding.EVF_EMULATED
_REWRITTEN: Final = _binding.EVF_REWRITTEN
ENTRY: Final = _binding.EVF_ENTRY  # only the entry of a call in progress (entry_records)
ENTRY_SHOWN: Final = _binding.EVF_ENTRY_SHOWN  # a whole call whose ENTRY record came before
_NO_RESULT: Final = _NORETURN | _CONTINUED | ENTRY

_NOTHING: Final[frozenset[int]] = frozenset()
_NO_MEMORY: Final[dict[int, bytes]] = {}
_NAMES: dict[tuple[int, int], str] = {}

# Calls that create a task; their return value in the parent is the child's tid.
CHILD_CREATORS: Final = frozenset({"clone", "clone3", "fork", "vfork"})
EXECS: Final = frozenset({"execve", "execveat"})


class Call:
    """One syscall, entry to exit (a :class:`~splitpriv.syscalls.decode.CallLike`)."""

    __slots__ = (
        "arch",
        "args",
        "entry_ns",
        "exit_ns",
        "faults",
        "flags",
        "memory",
        "name",
        "nr",
        "pid",
        "retval",
        "tid",
        "truncated",
    )

    pid: int
    tid: int
    nr: int
    arch: str
    name: str
    args: tuple[int, ...]
    retval: int | None
    entry_ns: int
    exit_ns: int | None
    flags: int
    memory: dict[int, bytes]
    truncated: frozenset[int]
    faults: frozenset[int]

    @property
    def injected(self) -> bool:
        """The policy answered it (``-e inject``): strace's ``(INJECTED)``."""
        return bool(self.flags & _INJECTED)

    @property
    def verdict(self) -> str:
        flags = self.flags
        if flags & _DENIED:
            return "denied"
        if flags & _REWRITTEN:
            return "rewritten"
        if flags & _EMULATED:
            return "emulated"
        return "allowed"

    @property
    def unavailable(self) -> bool:
        """It ran on in the kernel and the mechanism never saw its result (seccomp-notify)."""
        return bool(self.flags & _CONTINUED)

    @property
    def failed(self) -> bool:
        ret = self.retval
        return ret is not None and -render.ERRNO_MAX <= ret < 0

    @property
    def status(self) -> str:
        """strace's ``-e status=`` class: successful, failed, unfinished, unavailable or
        detached."""
        ret = self.retval
        if ret is None:
            if self.flags & DETACHED:
                return "detached"
            return "unavailable" if self.flags & _CONTINUED else "unfinished"
        return "failed" if -render.ERRNO_MAX <= ret < 0 else "successful"


def syscall_name(arch: int, nr: int) -> str:
    key = (arch, nr)
    name = _NAMES.get(key)
    if name is None:
        name = _NAMES[key] = table(ARCHES.get(arch, "x86_64")).name(nr)
    return name


# Indices of the flat record (_binding.R_*), written out in the per-call function below: a
# global lookup per field would cost a third of its time.
assert (_binding.R_FLAGS, _binding.R_PID, _binding.R_TID, _binding.R_ARCH) == (1, 2, 3, 4)
assert (_binding.R_NR, _binding.R_ARGS, _binding.R_RET) == (5, slice(6, 12), 12)
assert (_binding.R_ENTRY, _binding.R_EXIT) == (13, 14)


def call_from_record(h: tuple[int, ...], segments: tuple[_binding.Segment, ...]) -> Call:
    """A flat syscall record as a :class:`Call` (the hot path: one per traced syscall)."""
    call = Call.__new__(Call)
    call.pid = h[2]
    call.tid = h[3]
    arch = h[4]
    nr = h[5]
    call.nr = nr
    name = _NAMES.get((arch, nr))
    call.name = name if name is not None else syscall_name(arch, nr)
    call.arch = ARCHES.get(arch, "x86_64")
    call.args = h[6:12]
    flags = h[1]
    call.flags = flags
    call.entry_ns = h[13]
    if flags & _NO_RESULT:
        call.retval = None
        call.exit_ns = None
    else:
        call.retval = h[12]
        call.exit_ns = h[14]
    if segments:
        call.memory, call.truncated, call.faults = _binding.split_segments(segments)
    else:
        call.memory = _NO_MEMORY
        call.truncated = call.faults = _NOTHING
    return call


def take_exec(moved: dict[int, int], call: Call) -> tuple[Call, int | None]:
    """``moved``: pid -> the thread (not the leader) whose execve replaced it, from the exec
    record, until that execve's record comes. It is the next record of the pid (ptrace, sysemu
    and seccomp-trace give the thread the pid at once) or of the thread (the stub mechanisms
    record it under the thread's tid). For that record: the call as the pid's (it returned as
    the pid) and the thread; for any other, ``call`` and None."""
    former = moved.get(call.pid)
    if former is None or call.tid not in (call.pid, former) or call.flags & ENTRY:
        return call, None
    del moved[call.pid]
    if call.name not in EXECS:  # (the execve is not traced)
        return call, None
    if call.tid != call.pid:
        copy = Call.__new__(Call)
        for slot in Call.__slots__:
            setattr(copy, slot, getattr(call, slot))
        copy.tid = call.pid
        call = copy
    return call, former


class Signal(NamedTuple):
    """A signal delivered to a tracee, with the siginfo fields the engine records."""

    pid: int
    tid: int
    signo: int
    code: int
    sender_pid: int
    sender_uid: int
    status: int
    time_ns: int


class Stop(NamedTuple):
    """A group-stop (SIGSTOP, SIGTSTP...)."""

    pid: int
    tid: int
    signo: int
    time_ns: int


class Exit(NamedTuple):
    """A task ended."""

    pid: int
    tid: int
    status: ExitStatus
    time_ns: int


class Exec(NamedTuple):
    """A successful execve; ``former_tid`` called it (its tid is now ``pid``)."""

    pid: int
    tid: int
    former_tid: int
    time_ns: int


Other = Signal | Stop | Exit | Exec


def other_from_record(h: tuple[int, ...]) -> Other:
    """A flat non-syscall record (signal, stop, exit, exec)."""
    kind, pid, tid, when = (
        h[_binding.R_KIND],
        h[_binding.R_PID],
        h[_binding.R_TID],
        h[_binding.R_ENTRY],
    )
    if kind == EV_SIGNAL:
        return Signal(*_binding.signal_fields(h))
    if kind == EV_STOPPED:
        return Stop(pid, tid, h[_binding.R_SIG], when)
    if kind == EV_EXEC:
        return Exec(pid, tid, h[_binding.R_STATUS], when)
    return Exit(pid, tid, ExitStatus.from_wait_status(h[_binding.R_STATUS]), when)


__all__ = [
    "CHILD_CREATORS",
    "ENTRY",
    "ENTRY_SHOWN",
    "EV_EXEC",
    "EV_EXIT",
    "EV_SIGNAL",
    "EV_STOPPED",
    "EV_SYSCALL",
    "EXECS",
    "Call",
    "Exec",
    "Exit",
    "Other",
    "Signal",
    "Stop",
    "call_from_record",
    "other_from_record",
    "syscall_name",
    "take_exec",
]
