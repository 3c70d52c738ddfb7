"""Syscall name <-> number tables, one per architecture the tracer understands.

The numbers come from the ``system-calls`` package, which is generated from the kernel's own
``syscall_64.tbl`` / ``syscall_32.tbl``; we never hand-maintain numbers here. An architecture is
identified by its ``AUDIT_ARCH_*`` value because that is what both seccomp (``seccomp_data.arch``)
and ``PTRACE_GET_SYSCALL_INFO`` report, so callers can pass it straight through.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from system_calls.tables.i386 import syscalls_i386
from system_calls.tables.x86_64 import syscalls_x86_64

from splitpriv.errors import SplitprivError, UnknownSyscallError

# Values of AUDIT_ARCH_X86_64 and AUDIT_ARCH_I386 from <linux/audit.h> (EM_* | 64BIT | LE flags).
AUDIT_ARCH_X86_64: Final = 0xC000003E
AUDIT_ARCH_I386: Final = 0x40000003

ARCHES: Final[dict[int, str]] = {AUDIT_ARCH_X86_64: "x86_64", AUDIT_ARCH_I386: "i386"}

# seccomp and our engine size their per-syscall bitmaps for this many numbers; anything outside
# cannot be a real syscall on either arch (x32's 0x40000000 bit is not supported).
MAX_SYSCALL_NR: Final = 1023

# strace prints unknown numbers as an unsigned kernel long; mask negatives (orig_rax == -1 when a
# syscall was skipped) the same way so the two tools print identical names.
_ULONG_MASK: Final = (1 << 64) - 1

# The package is untyped; declaring the shape here is what lets mypy check everything below.
_SOURCES: Final[dict[int, Mapping[str, int]]] = {
    AUDIT_ARCH_X86_64: syscalls_x86_64,
    AUDIT_ARCH_I386: syscalls_i386,
}

_NUMBER_RE: Final = re.compile(r"-?[0-9]+")


def _suggest(name: str, candidates: frozenset[str]) -> str | None:
    """Return the closest known name, for "did you mean" hints, or None."""
    import difflib  # only when a name is wrong: not on every start-up

    matches = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


class SyscallTable:
    """The syscalls of one architecture. Get instances from :func:`table`, not the constructor
    (one per arch, so identity is equality)."""

    __slots__ = ("_by_name", "_by_number", "_names", "arch", "arch_name")

    def __init__(self, arch: int, arch_name: str, by_name: Mapping[str, int]) -> None:
        self.arch = arch
        self.arch_name = arch_name
        self._by_name = by_name
        self._by_number: Mapping[int, str] = MappingProxyType({nr: n for n, nr in by_name.items()})
        self._names = frozenset(by_name)

    def __repr__(self) -> str:
        return f"SyscallTable(arch={self.arch:#x}, arch_name={self.arch_name!r})"

    def number(self, name: str) -> int:
        """The number of ``name`` on this arch; raises UnknownSyscallError with a suggestion."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSyscallError(name, _suggest(name, self._names)) from None

    def name(self, nr: int) -> str:
        """The name of syscall ``nr``, or ``syscall_0x...`` (strace's spelling) if unknown."""
        known = self._by_number.get(nr)
        if known is not None:
            return known
        return "syscall_0x%x" % (nr & _ULONG_MASK)  # strace: "syscall_%#lx"

    def names(self) -> frozenset[str]:
        """Every syscall name this arch knows."""
        return self._names

    def max_number(self) -> int:
        """The highest syscall number in the table."""
        return max(self._by_number)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name


def _arch_value(arch: int | str) -> int:
    """Normalise an AUDIT_ARCH value or an arch name to the AUDIT_ARCH value."""
    if isinstance(arch, str):
        for value, arch_name in ARCHES.items():
            if arch_name == arch:
                return value
    elif arch in ARCHES and not isinstance(arch, bool):
        return arch
    known = ", ".join(f"{n!r} (0x{v:X})" for v, n in ARCHES.items())
    raise SplitprivError(f"unknown architecture {arch!r}; known: {known}")


@functools.cache
def _table(arch: int) -> SyscallTable:
    # A read-only copy, so nobody can mutate the shared package data through us.
    return SyscallTable(arch, ARCHES[arch], MappingProxyType(dict(_SOURCES[arch])))


def table(arch: int | str) -> SyscallTable:
    """The table for ``arch`` (an AUDIT_ARCH_* value or "x86_64"/"i386"); cached per arch."""
    return _table(_arch_value(arch))


def resolve(spec: str | int, arch: int | str = AUDIT_ARCH_X86_64) -> int:
    """Turn a syscall name, a number, or a number written as a string into a number.

    Numbers are accepted even if the table has no name for them (seccomp can filter any number),
    but must lie in ``0..MAX_SYSCALL_NR``. Names must exist on ``arch``.
    """
    tbl = table(arch)
    if isinstance(spec, bool):  # bool is an int subclass; True is never meant as "write"
        raise UnknownSyscallError(str(spec))
    if isinstance(spec, str):
        text = spec.strip()
        if not _NUMBER_RE.fullmatch(text):
            return tbl.number(text)
        nr = int(text)
    else:
        nr = spec
    if not 0 <= nr <= MAX_SYSCALL_NR:
        raise UnknownSyscallError(str(spec))
    return nr


def numbers_for_all_arches(name: str) -> dict[int, int]:
    """AUDIT_ARCH value -> number, for every arch on which ``name`` exists.

    Raises UnknownSyscallError (with a suggestion drawn from all arches) if it exists on none,
    because an empty answer almost always means a typo in a policy.
    """
    found = {arch: table(arch).number(name) for arch in ARCHES if name in table(arch)}
    if not found:
        every = frozenset().union(*(table(arch).names() for arch in ARCHES))
        raise UnknownSyscallError(name, _suggest(name, every))
    return found
