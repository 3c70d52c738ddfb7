"""Turning a syscall's raw arguments into text, the way strace prints them.

This is the plain layer every event gets: integers by their C type, pointers in hex or NULL,
copied strings and buffers quoted with C escapes, AT_FDCWD by name, errors by errno name. The
strace-compatible decoding of flags and structures is :mod:`splitpriv.syscalls.decode`, which
falls back to this layer for the calls it has no decoder for. Pure functions of their
inputs: nothing here touches a process.
"""

from __future__ import annotations

import errno as errno_module
import os
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from splitpriv.syscalls.prototypes import RAW_REGISTER, Param, is_pointer

AT_FDCWD = -100
ERRNO_MAX = 4095
DEFAULT_STRING_LIMIT = 32
# The longest string limit a trace takes: the engine holds it in 32 bits, and strace refuses
# -s from 2**30 on.
STRING_LIMIT_MAX = (1 << 30) - 1

_ESCAPES = {
    ord("\n"): "\\n",
    ord("\t"): "\\t",
    ord("\r"): "\\r",
    ord("\v"): "\\v",
    ord("\f"): "\\f",
    ord('"'): '\\"',
    ord("\\"): "\\\\",
}


# Each byte as strace prints it when no octal digit follows it: itself, a letter escape, or
# octal in as few digits as it needs. A table for str.translate (indexed by code point).
_NARROW: Final = [
    _ESCAPES.get(byte) or (chr(byte) if 32 <= byte < 127 else f"\\{byte:o}") for byte in range(256)
]
# A byte printed in octal right before an octal digit: only then does strace use three digits.
_WIDE: Final = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f-\xff][0-7]")


def quote(data: bytes, *, limit: int | None = None, truncated: bool = False) -> str:
    """``data`` as a C string literal; cut at ``limit`` bytes with a trailing ``...``."""
    cut = limit is not None and len(data) > limit
    shown = data[:limit] if cut else data
    if _WIDE.search(shown) is None:
        # The common case, in C: every byte has its one spelling (this runs for every path
        # and buffer the trace runner prints).
        text = '"' + shown.decode("latin-1").translate(_NARROW) + '"'
    else:
        text = '"' + _quote_bytewise(shown) + '"'
    return text + "..." if cut or truncated else text


def quote_hex(data: bytes, *, limit: int | None = None, truncated: bool = False) -> str:
    """``data`` with every byte as ``\\xNN``, as strace prints random bytes (getrandom)."""
    cut = limit is not None and len(data) > limit
    shown = data[:limit] if cut else data
    text = '"' + "".join(f"\\x{byte:02x}" for byte in shown) + '"'
    return text + "..." if cut or truncated else text


def _quote_bytewise(shown: bytes) -> str:
    """The body of :func:`quote`, byte by byte, for data where some octal escape is followed by
    an octal digit and so must be written with three digits."""
    out = []
    for i, byte in enumerate(shown):
        if byte in _ESCAPES:
            out.append(_ESCAPES[byte])
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            # Octal, and three digits when a digit follows, so the escape stays unambiguous.
            nxt = shown[i + 1] if i + 1 < len(shown) else None
            wide = nxt is not None and 0x30 <= nxt <= 0x37
            out.append(f"\\{byte:03o}" if wide else f"\\{byte:o}")
    return "".join(out)


def pointer(value: int) -> str:
    """An address as strace prints it: ``0x7ffd...``, or ``NULL``."""
    return hex(value) if value else "NULL"


def signed(value: int, bits: int = 64) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


_SIGNED_32 = ("int", "pid_t", "uid_t", "gid_t", "key_serial_t", "clockid_t", "timer_t", "mqd_t")
_UNSIGNED_32 = ("unsigned int", "unsigned", "umode_t", "mode_t", "u32", "__u32", "qid_t")


def integer(param: Param, value: int) -> str:
    """An integer argument printed by its C type, as strace does for undecoded ones."""
    ctype = param.type.strip()
    if ctype in _SIGNED_32:
        number = signed(value, 32)
        if (
            param.name in ("dfd", "dirfd", "olddfd", "newdfd", "fromfd", "tofd")
            and number == AT_FDCWD
        ):
            return "AT_FDCWD"
        return str(number)
    if ctype in _UNSIGNED_32:
        return str(value & 0xFFFFFFFF)
    if ctype in ("long", "loff_t", "off_t", "ssize_t", "__s64", "s64", "time_t"):
        return str(signed(value))
    if "flags" in param.name or ctype.endswith("flags") or ctype == RAW_REGISTER:
        return hex(value) if value else "0"
    return str(value)


def argument(
    param: Param,
    value: int,
    memory: bytes | None,
    *,
    truncated: bool = False,
    fault: bool = False,
    limit: int | None = DEFAULT_STRING_LIMIT,
    is_path: bool = False,
) -> str:
    """One argument: the copied bytes when there are any, else the raw value by its type."""
    if memory is not None and not fault:
        return quote(memory, limit=None if is_path else limit, truncated=truncated)
    if is_pointer(param):
        return "NULL" if value == 0 else hex(value)
    return integer(param, value)


# Kernel-internal error numbers a tracer can see (mostly a syscall interrupted by a signal).
KERNEL_ERRNOS: Final[Mapping[int, str]] = MappingProxyType(
    {
        512: "ERESTARTSYS",
        513: "ERESTARTNOINTR",
        514: "ERESTARTNOHAND",
        515: "ENOIOCTLCMD",
        516: "ERESTART_RESTARTBLOCK",
        517: "EPROBE_DEFER",
        518: "EOPENSTALE",
        519: "ENOPARAM",
        521: "EBADHANDLE",
        522: "ENOTSYNC",
        523: "EBADCOOKIE",
        524: "ENOTSUPP",
        525: "ETOOSMALL",
        526: "ESERVERFAULT",
        527: "EBADTYPE",
        528: "EJUKEBOX",
        529: "EIOCBQUEUED",
        530: "ERECALLCONFLICT",
        531: "ENOGRACE",
    }
)
# The restart errors, which strace prints as "= ? ERESTARTSYS (...)": the call did not finish
# and will be restarted (or turned into EINTR) once the signal is handled.
RESTART_ERRNOS: Final[Mapping[int, str]] = MappingProxyType(
    {
        512: "To be restarted if SA_RESTART is set",
        513: "To be restarted",
        514: "To be restarted if no handler",
        516: "Interrupted by signal",
    }
)
# Where Python's errno.errorcode picks another alias than strace does.
_STRACE_ERRNO_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        errno_module.EAGAIN: "EAGAIN",
        errno_module.EDEADLK: "EDEADLK",
        errno_module.EOPNOTSUPP: "EOPNOTSUPP",
    }
)


def errno_name(code: int) -> str:
    """strace's name of an error number: ``ENOENT``, ``ERESTARTSYS``, ``ERRNO_41``."""
    name = _STRACE_ERRNO_NAMES.get(code) or KERNEL_ERRNOS.get(code)
    if name is None:
        name = errno_module.errorcode.get(code, f"ERRNO_{code}")
    return name


def error(code: int) -> str:
    """``-1 ENOENT (No such file or directory)``, or ``? ERESTARTSYS (...)`` for a restart."""
    if code in RESTART_ERRNOS:
        return f"? {errno_name(code)} ({RESTART_ERRNOS[code]})"
    return f"-1 {errno_name(code)} ({os.strerror(code)})"


def result(ret: int | None) -> str:
    """The text after ``=``: a value, ``-1 ENOENT (No such file or directory)`` or ``?``.

    This is the plain form; :func:`splitpriv.syscalls.decode.result` adds the calls strace
    prints specially (``mmap`` in hex, ``fcntl(F_GETFL)`` with its flags...).
    """
    if ret is None:
        return "?"
    if -ERRNO_MAX <= ret < 0:
        return error(-ret)
    return str(ret)
