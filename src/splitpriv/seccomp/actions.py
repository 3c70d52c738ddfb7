"""Seccomp filter return values (``SECCOMP_RET_*``) as a small frozen type.

A filter returns one 32-bit value: the action in the high 16 bits (``SECCOMP_RET_ACTION_FULL``)
and action-specific data in the low 16 bits (``SECCOMP_RET_DATA``): the errno for ERRNO, the
event message for TRACE, ``si_errno`` for TRAP. :class:`Action` holds exactly that value, checks
it, and prints as the constructor that makes it (``ERRNO(13)``, ``ALLOW``).

This is the *kernel's* vocabulary. :class:`splitpriv.policy.Action` is the user's (allow, deny,
emulate); a mechanism translates one into the other.
"""

from __future__ import annotations

import errno as errno_module
from typing import Final

from splitpriv._values import value_class
from splitpriv.seccomp.errors import SeccompFilterError

RET_KILL_PROCESS: Final = 0x80000000
RET_KILL_THREAD: Final = 0x00000000
RET_TRAP: Final = 0x00030000
RET_ERRNO: Final = 0x00050000
RET_USER_NOTIF: Final = 0x7FC00000
RET_TRACE: Final = 0x7FF00000
RET_LOG: Final = 0x7FFC0000
RET_ALLOW: Final = 0x7FFF0000

RET_ACTION_FULL: Final = 0xFFFF0000
RET_DATA: Final = 0x0000FFFF

# The kernel clamps an ERRNO action's data to MAX_ERRNO; anything larger is a mistake here.
MAX_ERRNO: Final = 4095

# action bits -> (name, largest data value it may carry)
_KINDS: Final[dict[int, tuple[str, int]]] = {
    RET_KILL_PROCESS: ("KILL_PROCESS", 0),
    RET_KILL_THREAD: ("KILL_THREAD", 0),
    RET_TRAP: ("TRAP", RET_DATA),
    RET_ERRNO: ("ERRNO", MAX_ERRNO),
    RET_USER_NOTIF: ("USER_NOTIF", 0),
    RET_TRACE: ("TRACE", RET_DATA),
    RET_LOG: ("LOG", 0),
    RET_ALLOW: ("ALLOW", 0),
}


@value_class(repr=False)
class Action:
    """One seccomp return value. Use the constants and :func:`ERRNO` / :func:`TRACE`.

    ``Action(value)`` also decodes a raw 32-bit return value (e.g. what :func:`evaluate`
    returned); it raises :class:`SeccompFilterError` for values no kernel action has.
    """

    value: int

    def __post_init__(self) -> None:
        value = self.value
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise SeccompFilterError(f"a seccomp return value is a 32-bit number, not {value!r}")
        kind = _KINDS.get(value & RET_ACTION_FULL)
        if kind is None:
            raise SeccompFilterError(f"0x{value:08x} is not a seccomp action")
        name, max_data = kind
        if value & RET_DATA > max_data:
            what = "carries no data" if max_data == 0 else f"data must be at most {max_data}"
            raise SeccompFilterError(f"{name} {what}, got {value & RET_DATA}")

    @property
    def kind(self) -> str:
        """The action's name: ``"ALLOW"``, ``"ERRNO"``, ``"KILL_PROCESS"``, ..."""
        return _KINDS[self.value & RET_ACTION_FULL][0]

    @property
    def data(self) -> int:
        """The low 16 bits: the errno of ERRNO, the message of TRACE, si_errno of TRAP."""
        return self.value & RET_DATA

    def __repr__(self) -> str:
        kind = self.kind
        if kind == "ERRNO":
            return f"ERRNO({self.data})"
        if kind in ("TRACE", "TRAP") and self.data:
            return f"{kind}({self.data})"
        return kind

    def describe(self) -> str:
        """Like repr, with the errno's name: ``ERRNO(13 EACCES)``."""
        if self.kind == "ERRNO":
            name = errno_module.errorcode.get(self.data)
            return f"ERRNO({self.data} {name})" if name else repr(self)
        return repr(self)


def ERRNO(errno: int) -> Action:
    """The call is not run; it fails with ``errno`` (0..4095; 0 makes it return 0)."""
    if isinstance(errno, bool) or not isinstance(errno, int) or not 0 <= errno <= MAX_ERRNO:
        raise SeccompFilterError(f"errno must be between 0 and {MAX_ERRNO}, not {errno!r}")
    return Action(RET_ERRNO | errno)


def TRACE(data: int = 0) -> Action:
    """Stop for a ptrace tracer (PTRACE_EVENT_SECCOMP); ``data`` is its event message."""
    if isinstance(data, bool) or not isinstance(data, int) or not 0 <= data <= RET_DATA:
        raise SeccompFilterError(f"TRACE data must be between 0 and {RET_DATA}, not {data!r}")
    return Action(RET_TRACE | data)


ALLOW: Final = Action(RET_ALLOW)
LOG: Final = Action(RET_LOG)
TRAP: Final = Action(RET_TRAP)
USER_NOTIF: Final = Action(RET_USER_NOTIF)
KILL_PROCESS: Final = Action(RET_KILL_PROCESS)
KILL_THREAD: Final = Action(RET_KILL_THREAD)
