"""strace-compatible decoding of syscall arguments and results.

A registry maps a syscall name to a decoder: a function that takes an :class:`Args` view of one
call (its raw arguments, return value and the memory the engine copied) and returns the argument
texts strace prints, in strace's order. Calls without a decoder fall back to the plain,
prototype-driven rendering of :mod:`splitpriv.syscalls.render`, as strace prints calls it does
not decode. :func:`result` prints what follows ``=``.

What we cannot print like strace, and why: the engine copies strings and flat buffers only
(paths, read/write data, see :func:`splitpriv.syscalls.prototypes.capture_spec`), and a few
ints the kernel writes (a wait status, the fds pipe2 and socketpair return). Structures and
arrays behind pointers (``struct stat``, ``struct sigaction``, sigsets, sockaddrs, execve's
argv and envp, timespecs, getrandom's random bytes...) are not copied, so where strace prints
``{st_mode=S_IFREG|0644, ...}`` or ``["ls", "-l"]`` we print the pointer (``0x7ffc...``, or
``NULL``), exactly as strace itself does when it cannot read them.

Pure functions of their inputs: nothing here touches a process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from struct import Struct
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Protocol

from splitpriv.syscalls import flags as fl
from splitpriv.syscalls import render
from splitpriv.syscalls.prototypes import (
    CAPTURE_CSTRING,
    SEG_AFTER,
    SEG_CONTROL,
    SEG_IOV,
    SEG_NAME,
    capture_spec,
    prototype,
)
from splitpriv.syscalls.siginfo import format_siginfo


class CallLike(Protocol):
    """What a decoder needs of a call; a :class:`~splitpriv.events.SyscallEvent` is one."""

    @property
    def name(self) -> str: ...

    @property
    def arch(self) -> str: ...

    @property
    def args(self) -> tuple[int, ...]: ...

    @property
    def retval(self) -> int | None: ...

    @property
    def memory(self) -> Mapping[int, bytes]: ...

    @property
    def truncated(self) -> AbstractSet[int]: ...

    @property
    def faults(self) -> AbstractSet[int]: ...


class Call(NamedTuple):
    """A call built by hand (tests, tools): the same fields as a SyscallEvent's, with defaults."""

    name: str
    args: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
    retval: int | None = 0
    memory: Mapping[int, bytes] = MappingProxyType({})
    truncated: AbstractSet[int] = frozenset()
    faults: AbstractSet[int] = frozenset()
    arch: str = "x86_64"


class Shown(str):
    """An argument text that remembers which raw argument (by index) it shows."""

    argno: int

    def __new__(cls, text: str, argno: int, _new: Callable[..., Any] = str.__new__) -> Shown:
        obj: Shown = _new(cls, text)  # (not super(): one per printed argument)
        obj.argno = argno
        return obj


# The records of a copied string array (csrc/string_array.h): a flag byte, the bytes, a NUL.
ELEM_WHOLE, ELEM_CUT, ELEM_FAULT = 0, 1, 2


def string_array(data: bytes) -> list[tuple[int, bytes]]:
    """The elements of a copied string array (execve's argv), each as (ELEM_* flag, bytes);
    an ELEM_FAULT element's bytes are the unreadable pointer (8 bytes, little-endian)."""
    elements = []
    at, end = 0, len(data)
    while at < end:
        flag = data[at]
        if flag == ELEM_FAULT:
            elements.append((flag, data[at + 1 : at + 9]))
            at += 10
            continue
        stop = data.find(b"\0", at + 1)
        if stop < 0:
            stop = end
        elements.append((flag, data[at + 1 : stop]))
        at = stop + 1
    return elements


def param_index(text: str, position: int) -> int:
    """The raw argument a decoded text shows: its own index, else its position in the list."""
    return text.argno if isinstance(text, Shown) else position


# --- the view decoders work on --------------------------------------------------------------


def _text(text: str, argno: int) -> str:
    return text


class Args:
    """One call's arguments, with helpers that print each the way strace does."""

    def __init__(self, call: CallLike, string_limit: int | None, indexed: bool = True) -> None:
        self.call = call
        # Each text a Shown that knows its argument (for SyscallEvent.arguments), or, for the
        # trace runner's lines, the plain str: a Shown costs 0.25 us, for every argument.
        self._as: Callable[[str, int], str] = Shown if indexed else _text
        self.name = call.name
        self.limit = string_limit
        self.retval = call.retval
        self.bits = 32 if call.arch == "i386" else 64
        raw = call.args
        if self.bits == 64 and type(raw) is tuple and len(raw) == 6 and min(raw) >= 0:
            # The engine's records hold six unsigned words already (the common case: one
            # check instead of six masks, for every line the trace runner prints).
            self._args: tuple[int, ...] = raw if max(raw) >> 64 == 0 else self._masked(raw)
        else:
            self._args = self._masked(tuple(raw) + (0,) * max(0, 6 - len(raw)))

    def _masked(self, raw: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(v & ((1 << self.bits) - 1) for v in raw)

    # -- the call's outcome --
    @property
    def returned(self) -> bool:
        return self.retval is not None

    @property
    def failed(self) -> bool:
        """Whether the call did not succeed (an error, or it never returned)."""
        return self.retval is None or -render.ERRNO_MAX <= self.retval < 0

    # -- raw values --
    def raw(self, i: int) -> int:
        """Argument ``i`` as an unsigned word."""
        return self._args[i]

    def s32(self, i: int) -> int:
        return render.signed(self._args[i], 32)

    def u32(self, i: int) -> int:
        return self._args[i] & 0xFFFFFFFF

    def slong(self, i: int) -> int:
        return render.signed(self._args[i], self.bits)

    # -- printed values --
    def int32(self, i: int) -> str:
        return self._as(str(self.s32(i)), i)

    def uint32(self, i: int) -> str:
        return self._as(str(self.u32(i)), i)

    def long(self, i: int) -> str:
        return self._as(str(self.slong(i)), i)

    def ulong(self, i: int) -> str:
        return self._as(str(self.raw(i)), i)

    fd = int32

    def dirfd(self, i: int) -> str:
        value = self.s32(i)
        return self._as("AT_FDCWD" if value == fl.AT_FDCWD else str(value), i)

    def ptr(self, i: int) -> str:
        """A pointer: ``NULL`` or ``0x7ffd...``."""
        value = self.raw(i)
        return self._as(render.pointer(value), i)

    def hex(self, i: int, *, bits: int | None = None) -> str:
        """C's ``%#lx``: ``0x1f``, and ``0`` for zero."""
        value = self.raw(i) if bits is None else self.raw(i) & ((1 << bits) - 1)
        return self._as(fl.hexnum(value), i)

    def flags(self, i: int, table: fl.Table, *, bits: int | None = None) -> str:
        value = self.raw(i) if bits is None else self.raw(i) & ((1 << bits) - 1)
        return self._as(fl.flags(value, table), i)

    def const(self, i: int, table: fl.Table, *, bits: int | None = 32) -> str:
        value = self.raw(i) if bits is None else self.raw(i) & ((1 << bits) - 1)
        return self._as(fl.constant(value, table), i)

    def shown(self, i: int, text: str) -> str:
        """``text``, computed by the caller, as the text of argument ``i``."""
        return self._as(text, i)

    def named(self, name: str, i: int, text: str) -> str:
        """strace's ``name=value`` form, which it uses for clone's arguments."""
        return self._as(f"{name}={text}", i)

    # -- memory --
    def copied(self, i: int) -> bytes | None:
        if i in self.call.faults:
            return None
        return self.call.memory.get(i)

    def path(self, i: int) -> str:
        """A NUL-terminated string copied at entry: quoted whole (strace never cuts paths)."""
        if not self.raw(i):
            return self._as("NULL", i)
        data = self.copied(i)
        if data is None:
            return self.ptr(i)
        return self._as(render.quote(data, truncated=i in self.call.truncated), i)

    def buffer(self, i: int, length: int) -> str:
        """A buffer the kernel reads (copied at entry), cut at the string limit with ``...``."""
        if not self.raw(i):
            return self._as("NULL", i)
        if length == 0:
            return self._as('""', i)
        data = self.copied(i)
        if data is None:
            return self.ptr(i)
        return self._as(self._quote(data[:length], length, i), i)

    def output(self, i: int, length: int | None = None) -> str:
        """A buffer the kernel filled (copied at exit, as long as the return value)."""
        if self.failed or self.retval is None:
            return self.ptr(i)
        if not self.raw(i):
            return self._as("NULL", i)
        count = self.retval if length is None else min(self.retval, length)
        if count <= 0:
            return self._as('""', i)
        data = self.copied(i)
        if data is None:
            return self.ptr(i)
        return self._as(self._quote(data[:count], count, i), i)

    def struct(
        self, i: int, size: int, text: Callable[[bytes], str], *, at_exit: bool = False
    ) -> str:
        """A struct of ``size`` bytes the engine copied at argument ``i``, as strace prints it
        (``text`` of its bytes), or the pointer: not copied, an i386 call (the layouts here
        are x86_64's), or a struct the kernel writes (``at_exit``) and the call failed."""
        if not self.raw(i):
            return self._as("NULL", i)
        data = self.copied(i)
        if data is None or len(data) < size or self.bits != 64 or (at_exit and self.failed):
            return self.ptr(i)
        return self._as(text(data), i)

    def ints(self, i: int, count: int) -> list[int] | None:
        """The ``count`` 32-bit ints the kernel wrote at argument ``i`` (copied at exit), or
        None when they were not (the call failed, or the memory could not be read)."""
        if self.failed:
            return None
        data = self.copied(i)
        if data is None or len(data) < 4 * count:
            return None
        return [
            int.from_bytes(data[4 * k : 4 * k + 4], "little", signed=True) for k in range(count)
        ]

    def written_int(self, i: int, text: Callable[[int], str] = str) -> str:
        """strace's ``[value]`` for an int the kernel wrote at argument ``i`` (copied at exit),
        ``NULL``, or the pointer."""
        values = self.ints(i, 1)
        if not self.raw(i) or values is None:
            return self.ptr(i)
        return self._as(f"[{text(values[0])}]", i)

    def int_array(self, i: int, count: int) -> str:
        """strace's ``[3, 4]`` for the fds pipe2 and socketpair return."""
        if not self.raw(i):
            return self._as("NULL", i)
        values = self.ints(i, count)
        if values is None:
            return self.ptr(i)
        return self._as("[" + ", ".join(map(self.new_fd, values)) + "]", i)

    def new_fd(self, fd: int) -> str:
        """A descriptor the call made (pipe2's, socketpair's): ``-y`` adds its path."""
        return str(fd)

    def target_fd(self, i: int) -> str:
        """A descriptor the call is to make (dup2's new one): ``-y`` shows what was there
        before the call, if anything, as strace does."""
        return self.fd(i)

    def argv(self, i: int) -> str:
        """execve's argv as strace prints it: ``["ls", "-l"]``, at most as many strings as the
        string limit (then ``...``), each cut at it."""
        if not self.raw(i):
            return self._as("NULL", i)
        data = self.copied(i)
        if data is None:
            return self.ptr(i)
        texts = []
        limit = self.limit
        elements = string_array(data)
        more = i in self.call.truncated
        if limit is not None and len(elements) > limit:
            elements, more = elements[:limit], True
        for flag, value in elements:
            if flag == ELEM_FAULT:
                texts.append(hex(int.from_bytes(value, "little")))
                continue
            cut = flag == ELEM_CUT or (limit is not None and len(value) > limit)
            texts.append(render.quote(value if limit is None else value[:limit], truncated=cut))
        if more:
            texts.append("...")
        return self._as("[" + ", ".join(texts) + "]", i)

    def envp(self, i: int) -> str:
        """execve's envp as strace prints it by default: ``0x7ffc... /* 20 vars */``."""
        if not self.raw(i):
            return self._as("NULL", i)
        data = self.copied(i)
        if data is None or len(data) < 4:
            return self.ptr(i)
        count = int.from_bytes(data[:4], "little")
        return self._as(f"{hex(self.raw(i))} /* {count} var{'' if count == 1 else 's'} */", i)

    def _quote(self, data: bytes, length: int, i: int) -> str:
        limit = self.limit
        shown = data if limit is None else data[:limit]
        more = i in self.call.truncated or (limit is not None and length > limit)
        return render.quote(shown, truncated=more)


Decoder = Callable[[Args], list[str]]
ResultDecoder = Callable[[Args], "str | None"]

DECODERS: dict[str, Decoder] = {}
RESULT_DECODERS: dict[str, ResultDecoder] = {}


def decoder(*names: str) -> Callable[[Decoder], Decoder]:
    """Register the decorated function as the argument decoder of ``names``."""

    def register(fn: Decoder) -> Decoder:
        for name in names:
            DECODERS[name] = fn
        return fn

    return register


def result_decoder(*names: str) -> Callable[[ResultDecoder], ResultDecoder]:
    """Register a result printer for ``names`` (None from it: the plain result)."""

    def register(fn: ResultDecoder) -> ResultDecoder:
        for name in names:
            RESULT_DECODERS[name] = fn
        return fn

    return register


def decoder_for(name: str) -> Decoder | None:
    """The registered decoder of ``name``, or None when the plain rendering applies."""
    return DECODERS.get(name)


# --- the public entry points ----------------------------------------------------------------


def plain_arguments(call: CallLike, string_limit: int | None) -> list[str]:
    """The prototype-driven rendering, for calls without a decoder (strace's raw style)."""
    proto = prototype(call.name)
    spec = capture_spec(call.name)
    texts: list[str] = []
    for i, param in enumerate(proto.params):
        value = call.args[i] if i < len(call.args) else 0
        memory = call.memory.get(i)
        texts.append(
            render.argument(
                param,
                value,
                memory,
                truncated=i in call.truncated,
                fault=i in call.faults,
                limit=string_limit,
                is_path=spec[i] == CAPTURE_CSTRING,
            )
        )
    return texts


def arguments(
    call: CallLike,
    string_limit: int | None = render.DEFAULT_STRING_LIMIT,
    *,
    indexed: bool = True,
) -> list[str]:
    """The argument texts strace prints for ``call``, strings cut at ``string_limit`` bytes;
    with ``indexed``, each a :class:`Shown` that knows its raw argument (:func:`param_index`)."""
    fn = DECODERS.get(call.name)
    if fn is None:
        return plain_arguments(call, string_limit)
    return apply_decoder(fn, Args(call, string_limit, indexed))


# A decoder that fails on values nobody foresaw must not end a trace (and with it the tracee):
# that call prints its raw arguments instead. The test suite sets SPLITPRIV_STRICT_DECODE=1, so
# that such a failure fails a test rather than hides.
_STRICT: Final = os.environ.get("SPLITPRIV_STRICT_DECODE") == "1"


def apply_decoder(fn: Decoder, args: Args) -> list[str]:
    """``fn(args)``, or the call's raw arguments should the decoder fail (see _STRICT)."""
    try:
        return fn(args)
    except Exception:
        if _STRICT:
            raise
        return plain_arguments(args.call, args.limit)


def result(call: CallLike) -> str:
    """The text after ``=``: ``3``, ``0x7f...`` (mmap), ``-1 ENOENT (...)``, ``?``."""
    ret = call.retval
    if ret is None or -render.ERRNO_MAX <= ret < 0:
        return render.result(ret)
    fn = RESULT_DECODERS.get(call.name)
    if fn is not None:
        try:
            text = fn(Args(call, None))
        except Exception:  # (as in apply_decoder)
            if _STRICT:
                raise
            text = None
        if text is not None:
            return text
    return render.result(ret)


def line(call: CallLike, string_limit: int | None = render.DEFAULT_STRING_LIMIT) -> str:
    """The whole strace line: ``openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3``."""
    return f"{call.name}({', '.join(arguments(call, string_limit))}) = {result(call)}"


# --- results --------------------------------------------------------------------------------


@result_decoder("brk", "mmap", "mmap2", "mremap", "shmat")
def _hex_result(a: Args) -> str | None:
    assert a.retval is not None
    return fl.hexnum(a.retval & ((1 << a.bits) - 1))


@result_decoder("time")
def _time_result(a: Args) -> str | None:
    # strace adds the date, in the tracer's time zone: "1795804168 (2026-11-27T18:29:28+0000)".
    assert a.retval is not None
    seconds = render.signed(a.retval, a.bits)
    try:
        when = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return None
    return f"{seconds} ({when})"


@result_decoder("umask")
def _octal_result(a: Args) -> str | None:
    assert a.retval is not None
    return fl.octal_mode(a.retval)


@result_decoder("poll", "ppoll", "select", "_newselect", "pselect6")
def _poll_result(a: Args) -> str | None:
    # strace also prints what was ready, from the arrays and sets copied again at exit, and
    # the time left: "1 ([{fd=3, revents=POLLIN}], left {...})", "3 (in [0 3], out [4])".
    if a.retval == 0:
        return "0 (Timeout)"
    if a.bits != 64:
        return None
    parts = []
    if a.name in ("poll", "ppoll"):
        after = a.copied(SEG_AFTER)
        if after is None:
            return None
        ready = [
            f"{{fd={fd}, revents={fl.flags(revents, fl.POLL_EVENTS)}}}"
            for fd, _events, revents in _POLLFD.iter_unpack(after[: len(after) // 8 * 8])
            if revents
        ]
        parts.append(f"[{', '.join(ready)}]")
    else:
        for label, i in (("in", 1), ("out", 2), ("except", 3)):
            bits = _fdset_bits(a, i + SEG_AFTER)
            if bits:
                parts.append(f"{label} [{bits}]")
    timeout = _TIMEOUT_ARGUMENT.get(a.name)
    left = None if timeout is None else a.copied(timeout + SEG_AFTER)
    if left is not None and len(left) >= 16:
        parts.append("left " + (timeval_text if a.name == "select" else timespec_text)(left))
    return f"{a.retval} ({', '.join(parts)})" if parts else None


_TIMEOUT_ARGUMENT: Final = {"ppoll": 2, "select": 4, "pselect6": 4}


def _fdset_bits(a: Args, label: int) -> str:
    """The descriptors set in an fd_set the engine copied (``0 4``), below select's nfds."""
    data = a.copied(label)
    if not data:
        return ""
    value, count = int.from_bytes(data, "little"), min(a.s32(0), len(data) * 8)
    return " ".join(str(fd) for fd in range(count) if value >> fd & 1)


def _fdset(a: Args, i: int) -> str:
    """An fd_set select reads: ``[0 4]``, ``NULL``, or the pointer."""
    if not a.raw(i):
        return a.shown(i, "NULL")
    if a.copied(i) is None or a.bits != 64:
        return a.ptr(i)
    return a.shown(i, f"[{_fdset_bits(a, i)}]")


# --- files ----------------------------------------------------------------------------------


@decoder("read")
def _read(a: Args) -> list[str]:
    return [a.fd(0), a.output(1), a.ulong(2)]


@decoder("write")
def _write(a: Args) -> list[str]:
    return [a.fd(0), a.buffer(1, a.raw(2)), a.ulong(2)]


@decoder("pread64")
def _pread(a: Args) -> list[str]:
    return [a.fd(0), a.output(1), a.ulong(2), a.long(3)]


@decoder("pwrite64")
def _pwrite(a: Args) -> list[str]:
    return [a.fd(0), a.buffer(1, a.raw(2)), a.ulong(2), a.long(3)]


_IOV_RECORD = Struct("<QBI")  # an iovec's record (string_array.h): iov_len, flag, byte count


def _iovec(a: Args, i: int) -> str:
    """strace's ``[{iov_base="hi", iov_len=2}, ...]``: the buffers the engine copied (a
    readv's: as much as it returned), at most the string limit of iovecs, each cut at it."""
    if not a.raw(i):
        return a.shown(i, "NULL")
    data = a.copied(i)
    if data is None or a.bits != 64:
        return a.ptr(i)
    return a.shown(i, _iovec_list(a, data, i in a.call.truncated))


def _iovec_list(a: Args, data: bytes, more: bool) -> str:
    """The iovec records the engine copied (string_array.h) as strace prints them."""
    limit, at = a.limit, 0
    items: list[str] = []
    while at + _IOV_RECORD.size <= len(data):
        length, flag, count = _IOV_RECORD.unpack_from(data, at)
        body = data[at + _IOV_RECORD.size : at + _IOV_RECORD.size + count]
        at += _IOV_RECORD.size + count
        if limit is not None and len(items) >= limit:
            more = True
            break
        if flag == ELEM_FAULT:
            address = int.from_bytes(body, "little")
            base = render.pointer(address)
        else:
            base = render.quote(body, limit=limit, truncated=flag == ELEM_CUT)
        items.append(f"{{iov_base={base}, iov_len={length}}}")
    return "[" + ", ".join([*items, "..."] if more else items) + "]"


@decoder("readv", "writev")
def _readv(a: Args) -> list[str]:
    return [a.fd(0), _iovec(a, 1), a.ulong(2)]


@decoder("preadv", "pwritev")
def _preadv(a: Args) -> list[str]:
    return [a.fd(0), _iovec(a, 1), a.ulong(2), a.long(3)]


@decoder("close", "fsync", "fdatasync", "fchdir", "dup", "syncfs")
def _fd_only(a: Args) -> list[str]:
    return [a.fd(0)]


def _open_tail(a: Args, first: int) -> list[str]:
    value = a.u32(first + 1)
    texts: list[str] = [a.path(first), a.shown(first + 1, fl.open_flags(value))]
    if value & (fl.O_CREAT | fl.O_TMPFILE_BIT):
        texts.append(a.shown(first + 2, fl.mode(a.u32(first + 2))))
    return texts


@decoder("open")
def _open(a: Args) -> list[str]:
    return _open_tail(a, 0)


@decoder("openat")
def _openat(a: Args) -> list[str]:
    return [a.dirfd(0), *_open_tail(a, 1)]


@decoder("openat2")
def _openat2(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.ptr(2), a.ulong(3)]


@decoder("creat")
def _creat(a: Args) -> list[str]:
    return [a.path(0), a.shown(1, fl.mode(a.u32(1)))]


# (Only stat, lstat, fstat and newfstatat have their struct copied; the others print pointers.)
@decoder("stat", "lstat", "stat64", "lstat64")
def _stat(a: Args) -> list[str]:
    return [a.path(0), a.struct(1, 144, stat_text, at_exit=True)]


@decoder("fstat", "fstat64")
def _fstat(a: Args) -> list[str]:
    return [a.fd(0), a.struct(1, 144, stat_text, at_exit=True)]


@decoder("newfstatat", "fstatat64")
def _newfstatat(a: Args) -> list[str]:
    return [
        a.dirfd(0),
        a.path(1),
        a.struct(2, 144, stat_text, at_exit=True),
        a.flags(3, fl.AT_FLAGS),
    ]


@decoder("statx")
def _statx(a: Args) -> list[str]:
    return [
        a.dirfd(0),
        a.path(1),
        a.shown(2, fl.statx_flags(a.u32(2))),
        a.flags(3, fl.STATX_MASK, bits=32),
        a.struct(4, 48, statx_text, at_exit=True),
    ]


@decoder("access")
def _access(a: Args) -> list[str]:
    return [a.path(0), a.flags(1, fl.ACCESS_MODES)]


@decoder("faccessat")
def _faccessat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.flags(2, fl.ACCESS_MODES)]


@decoder("faccessat2")
def _faccessat2(a: Args) -> list[str]:
    return [*_faccessat(a), a.flags(3, fl.FACCESSAT_FLAGS)]


@decoder("lseek")
def _lseek(a: Args) -> list[str]:
    return [a.fd(0), a.long(1), a.const(2, fl.WHENCE)]


def _dirents(a: Args) -> str:
    """The buffer with strace's ``/* 5 entries */``: how many records the kernel wrote."""
    if a.failed or a.retval is None or (a.bits == 32 and a.name == "getdents"):
        return a.ptr(1)  # (the old i386 records are laid out otherwise)
    count = 0
    if a.retval:
        data = a.copied(1)
        if data is None or len(data) < 4:
            return a.ptr(1)
        count = int.from_bytes(data[:4], "little")
    return a.shown(1, f"{hex(a.raw(1))} /* {count} entr{'y' if count == 1 else 'ies'} */")


@decoder("getdents", "getdents64")
def _getdents(a: Args) -> list[str]:
    return [a.fd(0), _dirents(a), a.uint32(2)]


@decoder("readlink")
def _readlink(a: Args) -> list[str]:
    return [a.path(0), a.output(1), a.ulong(2)]


@decoder("readlinkat")
def _readlinkat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.output(2), a.ulong(3)]


@decoder("chdir", "rmdir", "unlink", "chroot", "acct", "swapoff")
def _path_only(a: Args) -> list[str]:
    return [a.path(0)]


@decoder("getcwd")
def _getcwd(a: Args) -> list[str]:
    data = a.copied(0)
    if a.failed or data is None or not a.raw(0):
        shown = a.ptr(0)
    else:
        end = data.find(b"\0")
        shown = a.shown(0, render.quote(data if end < 0 else data[:end]))
    return [shown, a.ulong(1)]


@decoder("mkdir", "chmod")
def _path_mode(a: Args) -> list[str]:
    return [a.path(0), a.shown(1, fl.mode(a.u32(1)))]


@decoder("mkdirat", "fchmodat")
def _dirfd_path_mode(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.shown(2, fl.mode(a.u32(2)))]


@decoder("fchmodat2")
def _fchmodat2(a: Args) -> list[str]:
    return [*_dirfd_path_mode(a), a.flags(3, fl.AT_FLAGS)]


@decoder("fchmod")
def _fchmod(a: Args) -> list[str]:
    return [a.fd(0), a.shown(1, fl.mode(a.u32(1)))]


@decoder("umask")
def _umask(a: Args) -> list[str]:
    return [a.shown(0, fl.mode(a.u32(0)))]


def _dev(value: int) -> str:
    major = ((value >> 8) & 0xFFF) | ((value >> 32) & 0xFFFFF000)
    minor = (value & 0xFF) | ((value >> 12) & 0xFFFFFF00)
    return f"makedev({fl.hexnum(major)}, {fl.hexnum(minor)})"


def _mknod_tail(a: Args, first: int) -> list[str]:
    value = a.u32(first + 1)
    texts: list[str] = [a.path(first), a.shown(first + 1, fl.file_mode(value))]
    if value & fl.S_IFMT in (0o20000, 0o60000):  # character or block device
        texts.append(a.shown(first + 2, _dev(a.raw(first + 2))))
    return texts


@decoder("mknod")
def _mknod(a: Args) -> list[str]:
    return _mknod_tail(a, 0)


@decoder("mknodat")
def _mknodat(a: Args) -> list[str]:
    return [a.dirfd(0), *_mknod_tail(a, 1)]


@decoder("unlinkat")
def _unlinkat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.flags(2, fl.AT_FLAGS)]


@decoder("rename", "link", "symlink")
def _two_paths(a: Args) -> list[str]:
    return [a.path(0), a.path(1)]


@decoder("renameat")
def _renameat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.dirfd(2), a.path(3)]


@decoder("renameat2")
def _renameat2(a: Args) -> list[str]:
    return [*_renameat(a), a.flags(4, fl.RENAME_FLAGS)]


@decoder("linkat")
def _linkat(a: Args) -> list[str]:
    return [*_renameat(a), a.flags(4, fl.AT_FLAGS)]


@decoder("symlinkat")
def _symlinkat(a: Args) -> list[str]:
    return [a.path(0), a.dirfd(1), a.path(2)]


def _id(a: Args, i: int) -> str:
    value = a.u32(i)
    return a.shown(i, "-1" if value == 0xFFFFFFFF else str(value))


@decoder("chown", "lchown")
def _chown(a: Args) -> list[str]:
    return [a.path(0), _id(a, 1), _id(a, 2)]


@decoder("fchown")
def _fchown(a: Args) -> list[str]:
    return [a.fd(0), _id(a, 1), _id(a, 2)]


@decoder("fchownat")
def _fchownat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), _id(a, 2), _id(a, 3), a.flags(4, fl.AT_FLAGS)]


@decoder("truncate")
def _truncate(a: Args) -> list[str]:
    return [a.path(0), a.long(1)]


@decoder("ftruncate")
def _ftruncate(a: Args) -> list[str]:
    return [a.fd(0), a.long(1)]


@decoder("fadvise64")
def _fadvise64(a: Args) -> list[str]:
    return [a.fd(0), a.long(1), a.long(2), a.const(3, fl.FADVISE)]


@decoder("copy_file_range")
def _copy_file_range(a: Args) -> list[str]:
    return [a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.ulong(4), a.hex(5, bits=32)]


@decoder("sendfile", "sendfile64")
def _sendfile(a: Args) -> list[str]:
    return [a.fd(0), a.fd(1), a.ptr(2), a.ulong(3)]


@decoder("flock")
def _flock(a: Args) -> list[str]:
    return [a.fd(0), a.flags(1, fl.FLOCK_OPS, bits=32)]


# --- descriptors: dup, pipes, fcntl, ioctl --------------------------------------------------


@decoder("dup2")
def _dup2(a: Args) -> list[str]:
    return [a.fd(0), a.target_fd(1)]


# --- small structs (x86_64 layouts, copied by the engine: prototypes._STRUCTS) ---------------


_STAT = Struct("<24xI12xQq")  # struct stat: st_mode, st_rdev, st_size
_TIMESPEC = Struct("<qq")
_RLIMIT = Struct("<QQ")
_SIGACTION = Struct("<QQQQ")  # the kernel's: handler, flags, restorer, mask
_SIGSET = Struct("<Q")
_DEVICES = (fl.FILE_TYPES.value("S_IFCHR"), fl.FILE_TYPES.value("S_IFBLK"))


_MODE_TEXTS: dict[int, str] = {}  # "{st_mode=S_IFREG|0644, " by mode: a program has a few


def stat_text(data: bytes) -> str:
    """struct stat as strace abbreviates it: ``{st_mode=S_IFREG|0644, st_size=5, ...}``."""
    mode, rdev, size = _STAT.unpack_from(data)
    head = _MODE_TEXTS.get(mode)
    if head is None:
        head = "{st_mode=" + fl.file_mode(mode) + ", "
        if len(_MODE_TEXTS) < 256:  # (modes come from the tracee: keep a bounded few)
            _MODE_TEXTS[mode] = head
    if mode & fl.S_IFMT in _DEVICES:
        return head + "st_rdev=" + _dev(rdev) + ", ...}"
    return head + "st_size=" + str(size) + ", ...}"


def timespec_text(data: bytes) -> str:
    seconds, nanoseconds = _TIMESPEC.unpack_from(data)
    return f"{{tv_sec={seconds}, tv_nsec={nanoseconds}}}"


def _rlim(value: int) -> str:
    if value == (1 << 64) - 1:
        return "RLIM64_INFINITY"
    return f"{value // 1024}*1024" if value > 1024 and value % 1024 == 0 else str(value)


def rlimit_text(data: bytes) -> str:
    cur, limit = _RLIMIT.unpack_from(data)
    return f"{{rlim_cur={_rlim(cur)}, rlim_max={_rlim(limit)}}}"


def _signal_short(number: int) -> str:
    """A signal in a set: ``CHLD``, ``RTMIN``, ``RT_2``."""
    name = fl.signal_name(number)
    return name[3:] if name is not None else str(number)


def set_bits(mask: int) -> list[int]:
    """The positions of the bits set in ``mask``, lowest first (a CPU or signal set)."""
    bits = []
    while mask:
        low = mask & -mask
        bits.append(low.bit_length() - 1)
        mask ^= low
    return bits


def sigset_text(mask: int) -> str:
    """A 64-signal set: ``[USR1 CHLD]``, or (more than half of them) what it leaves out:
    ``~[RTMIN RT_1]``."""
    mask &= (1 << 64) - 1
    prefix = "["
    if mask.bit_count() * 2 > 64:
        mask, prefix = mask ^ ((1 << 64) - 1), "~["
    return prefix + " ".join(_signal_short(bit + 1) for bit in set_bits(mask)) + "]"


_STATX = Struct("<I4xQ12xH2x8xQ")  # stx_mask, stx_attributes, stx_mode, stx_size


def statx_text(data: bytes) -> str:
    """struct statx as strace abbreviates it (the first 48 bytes are enough)."""
    mask, attributes, mode, size = _STATX.unpack_from(data)
    return (
        f"{{stx_mask={fl.flags(mask, fl.STATX_MASK)}, "
        f"stx_attributes={fl.flags(attributes, fl.STATX_ATTRIBUTES)}, "
        f"stx_mode={fl.file_mode(mode)}, stx_size={size}, ...}}"
    )


_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK = (
    fl.ADDRESS_FAMILIES.value(name) for name in ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK")
)


def sockaddr_text(data: bytes) -> str | None:
    """A socket address as strace prints it (unix, inet, inet6, netlink), or None."""
    if len(data) < 2:
        return None
    family = int.from_bytes(data[:2], "little")
    name = fl.constant(family, fl.ADDRESS_FAMILIES)
    if family == _AF_UNIX:
        if len(data) == 2:
            return f"{{sa_family={name}}}"
        path = data[2:]
        if path[:1] == b"\0":  # an abstract name: strace shows it with @, NULs and all
            return f"{{sa_family={name}, sun_path=@{render.quote(path[1:])}}}"
        end = path.find(b"\0")
        return f"{{sa_family={name}, sun_path={render.quote(path if end < 0 else path[:end])}}}"
    if family == _AF_INET and len(data) >= 8:
        port = int.from_bytes(data[2:4], "big")
        address = ".".join(str(b) for b in data[4:8])
        return f'{{sa_family={name}, sin_port=htons({port}), sin_addr=inet_addr("{address}")}}'
    if family == _AF_INET6 and len(data) >= 28:
        import socket  # (only here: importing it costs every trace's start-up)

        port = int.from_bytes(data[2:4], "big")
        flowinfo = int.from_bytes(data[4:8], "big")
        address = socket.inet_ntop(socket.AF_INET6, data[8:24])
        scope = int.from_bytes(data[24:28], "little")
        return (
            f"{{sa_family={name}, sin6_port=htons({port}), sin6_flowinfo=htonl({flowinfo}), "
            f'inet_pton({name}, "{address}", &sin6_addr), sin6_scope_id={scope}}}'
        )
    if family == _AF_NETLINK and len(data) >= 12:
        pad = int.from_bytes(data[2:4], "little")
        pid = int.from_bytes(data[4:8], "little")
        groups = int.from_bytes(data[8:12], "little")
        shown_pad = f"nl_pad={pad:#x}, " if pad else ""
        return f"{{sa_family={name}, {shown_pad}nl_pid={pid}, nl_groups={groups:08x}}}"
    return None


_SA_RESTORER = fl.SIGACTION_FLAGS.value("SA_RESTORER")


def sigaction_text(data: bytes) -> str:
    """The kernel's struct sigaction: handler, flags, restorer, mask."""
    handler, flags, restorer, mask = _SIGACTION.unpack_from(data)
    shown = {0: "SIG_DFL", 1: "SIG_IGN"}.get(handler) or hex(handler)
    text = f"{{sa_handler={shown}, sa_mask={sigset_text(mask)}, "
    text += f"sa_flags={fl.flags(flags, fl.SIGACTION_FLAGS)}"
    if flags & _SA_RESTORER:
        text += f", sa_restorer={render.pointer(restorer)}"
    return text + "}"


@decoder("dup3")
def _dup3(a: Args) -> list[str]:
    return [a.fd(0), a.target_fd(1), a.flags(2, fl.OPEN_FLAGS)]


@decoder("pipe")
def _pipe(a: Args) -> list[str]:
    return [a.int_array(0, 2)]


@decoder("pipe2")
def _pipe2(a: Args) -> list[str]:
    return [a.int_array(0, 2), a.flags(1, fl.PIPE_FLAGS)]


F_GETFD, F_SETFD, F_GETFL, F_SETFL = 1, 2, 3, 4
_F = fl.FCNTL_COMMANDS.value
# Commands strace prints without a third argument (F_GETFD...), or with it decoded at exit.
_FCNTL_NO_ARGUMENT: Final = frozenset(
    _F(n) for n in ("F_GETFD", "F_GETFL", "F_GETOWN", "F_GETPIPE_SZ", "F_GETLEASE", "F_GET_SEALS")
) | {_F("F_GETSIG")}
_FCNTL_DECIMAL: Final = frozenset(
    _F(n) for n in ("F_DUPFD", "F_DUPFD_CLOEXEC", "F_SETPIPE_SZ", "F_SETOWN", "F_DUPFD_QUERY")
)
_FCNTL_SETLK: Final = frozenset(
    _F(n) for n in ("F_SETLK", "F_SETLKW", "F_OFD_SETLK", "F_OFD_SETLKW")
)
_FLOCK = Struct("<hh4xqqi4x")  # struct flock: l_type, l_whence, l_start, l_len, l_pid


def flock_text(data: bytes) -> str:
    """A lock to take or drop, as strace prints it (without l_pid, which the kernel ignores)."""
    kind, whence, start, length, _pid = _FLOCK.unpack_from(data)
    return (
        f"{{l_type={fl.constant(kind, fl.LOCK_TYPES)}, l_whence={fl.constant(whence, fl.WHENCE)}, "
        f"l_start={start}, l_len={length}}}"
    )


_FCNTL_POINTER: Final = frozenset(
    _F(n)
    for n in (
        "F_GETLK",
        "F_SETLK",
        "F_SETLKW",
        "F_OFD_GETLK",
        "F_OFD_SETLK",
        "F_OFD_SETLKW",
        "F_SETOWN_EX",
        "F_GETOWN_EX",
        "F_GETLK64",
        "F_SETLK64",
        "F_SETLKW64",
    )
)


@decoder("fcntl", "fcntl64")
def _fcntl(a: Args) -> list[str]:
    cmd = a.u32(1)
    texts: list[str] = [a.fd(0), a.const(1, fl.FCNTL_COMMANDS)]
    if cmd in _FCNTL_NO_ARGUMENT:
        return texts
    if cmd == F_SETFD:
        texts.append(a.flags(2, fl.FD_FLAGS))
    elif cmd == F_SETFL:
        texts.append(a.shown(2, fl.open_flags(a.u32(2))))
    elif cmd in _FCNTL_DECIMAL:
        texts.append(a.int32(2) if cmd != _F("F_SETPIPE_SZ") else a.long(2))
    elif cmd in _FCNTL_SETLK:
        texts.append(a.struct(2, _FLOCK.size, flock_text))
    elif cmd in _FCNTL_POINTER:
        texts.append(a.ptr(2))  # F_GETLK's answer is written at exit: not copied
    elif cmd == _F("F_SETLEASE"):
        texts.append(a.const(2, fl.LOCK_TYPES, bits=None))
    elif cmd == _F("F_ADD_SEALS"):
        texts.append(a.flags(2, fl.SEALS))
    elif cmd == _F("F_NOTIFY"):
        texts.append(a.flags(2, fl.NOTIFY_FLAGS))
    elif cmd == _F("F_SETSIG"):
        texts.append(a.shown(2, fl.signal(a.raw(2))))
    else:
        texts.append(a.hex(2))
    return texts


@result_decoder("fcntl", "fcntl64")
def _fcntl_result(a: Args) -> str | None:
    cmd, ret = a.u32(1), a.retval
    assert ret is not None
    if cmd == F_GETFD and ret:
        return f"{fl.hexnum(ret)} (flags {fl.flags(ret, fl.FD_FLAGS)})"
    if cmd == F_GETFL:
        return f"{fl.hexnum(ret)} (flags {fl.open_flags(ret)})"
    if cmd == _F("F_GETLEASE"):
        name = fl.LOCK_TYPES.name(ret)
        return fl.hexnum(ret) + (f" ({name})" if name else "")
    if cmd == _F("F_GET_SEALS") and ret:
        return f"{fl.hexnum(ret)} (seals {fl.flags(ret, fl.SEALS)})"
    if cmd == _F("F_GETSIG") and ret:
        name = fl.signal_name(ret)
        return f"{ret} ({name})" if name else str(ret)
    return None


_TERMIOS = Struct("<IIII")  # struct termios: c_iflag, c_oflag, c_cflag, c_lflag (then c_cc)
_WINSIZE = Struct("<HHHH")


def _term_flags(value: int, table: fl.Table) -> str:
    # strace 6.1 prints a flag word with no bit set as nothing at all: `c_lflag=, `.
    return fl.flags(value, table) if value else ""


def _term_oflags(value: int) -> str:
    delays = []
    for mask, names in fl.TERM_OFLAG_DELAYS:
        delays.append(fl.constant(value & mask, names, unknown=None))
        value &= ~mask
    return "|".join([*delays, _term_flags(value, fl.TERM_OFLAGS)])


def _term_cflags(value: int) -> str:
    parts = [fl.constant(value & fl.TERM_CBAUD, fl.BAUD_RATES, unknown=None)]
    if value & fl.TERM_CIBAUD:
        speed = (value & fl.TERM_CIBAUD) >> fl.TERM_IBSHIFT
        parts.append(f"{fl.constant(speed, fl.BAUD_RATES, unknown=None)}<<IBSHIFT")
    parts.append(fl.constant((value & fl.TERM_CSIZE) >> 4, fl.TERM_CSIZES))
    rest = value & ~(fl.TERM_CBAUD | fl.TERM_CIBAUD | fl.TERM_CSIZE)
    return "|".join([*parts, _term_flags(rest, fl.TERM_CFLAGS)])


def termios_text(data: bytes) -> str:
    """strace's (abbreviated) struct termios: the four flag words, then ``...``."""
    iflag, oflag, cflag, lflag = _TERMIOS.unpack_from(data)
    return (
        f"{{c_iflag={_term_flags(iflag, fl.TERM_IFLAGS)}, c_oflag={_term_oflags(oflag)}, "
        f"c_cflag={_term_cflags(cflag)}, c_lflag={_term_flags(lflag, fl.TERM_LFLAGS)}, ...}}"
    )


def winsize_text(data: bytes) -> str:
    rows, cols, xpixel, ypixel = _WINSIZE.unpack_from(data)
    return f"{{ws_row={rows}, ws_col={cols}, ws_xpixel={xpixel}, ws_ypixel={ypixel}}}"


def _int_text(data: bytes) -> str:
    return f"[{int.from_bytes(data[:4], 'little', signed=True)}]"


# ioctls whose argument points to what strace prints, by request number: (text of the bytes,
# their size, whether the kernel writes them: printed from the copy made at exit).
_IOCTL_STRUCTS: Final[dict[int, tuple[Callable[[bytes], str], int, bool]]] = {
    0x5401: (termios_text, _TERMIOS.size, True),  # TCGETS
    0x5402: (termios_text, _TERMIOS.size, False),  # TCSETS
    0x5403: (termios_text, _TERMIOS.size, False),  # TCSETSW
    0x5404: (termios_text, _TERMIOS.size, False),  # TCSETSF
    0x5413: (winsize_text, _WINSIZE.size, True),  # TIOCGWINSZ
    0x5414: (winsize_text, _WINSIZE.size, False),  # TIOCSWINSZ
    # TIOCGPGRP, TIOCOUTQ, FIONREAD, TIOCGETD, TIOCGSID, TIOCGPTN: an int the kernel writes
    **dict.fromkeys((0x540F, 0x5411, 0x541B, 0x5424, 0x5429, 0x80045430), (_int_text, 4, True)),
    # TIOCSPGRP, FIONBIO, TIOCSETD, FIOASYNC: an int it reads
    **dict.fromkeys((0x5410, 0x5421, 0x5423, 0x5452), (_int_text, 4, False)),
}


def _ioctl_struct(a: Args, request: int) -> str:
    text, size, written = _IOCTL_STRUCTS[request]
    if written:
        data = None if a.failed else a.copied(2 + SEG_AFTER)
    else:
        data = a.copied(2)
    if not a.raw(2) or data is None or len(data) < size or a.bits != 64:
        return a.ptr(2)
    return a.shown(2, text(data))


@decoder("ioctl")
def _ioctl(a: Args) -> list[str]:
    request = a.u32(1)
    name = fl.IOCTLS.name(request)
    texts: list[str] = [a.fd(0), a.shown(1, fl.ioctl_request(request))]
    if name in fl.IOCTLS_WITHOUT_ARGUMENT:
        return texts
    if request in _IOCTL_STRUCTS:
        texts.append(_ioctl_struct(a, request))
    elif name in fl.IOCTLS_WITH_NUMBER:
        texts.append(a.int32(2))
    elif name == "TCXONC":
        texts.append(a.const(2, fl.TCXONC_ACTIONS))
    elif name == "TCFLSH":
        texts.append(a.const(2, fl.TCFLSH_QUEUES))
    elif name is not None:
        texts.append(a.ptr(2))
    else:
        texts.append(a.hex(2))
    return texts


# --- memory ---------------------------------------------------------------------------------


@decoder("mmap", "mmap2")
def _mmap(a: Args) -> list[str]:
    offset = a.raw(5) * (4096 if a.name == "mmap2" else 1)
    return [
        a.ptr(0),
        a.ulong(1),
        a.flags(2, fl.PROT),
        a.shown(3, fl.mmap_flags(a.raw(3))),
        a.fd(4),
        a.shown(5, fl.hexnum(offset)),
    ]


@decoder("mprotect")
def _mprotect(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1), a.flags(2, fl.PROT)]


@decoder("pkey_mprotect")
def _pkey_mprotect(a: Args) -> list[str]:
    return [*_mprotect(a), a.int32(3)]


@decoder("munmap", "mlock", "munlock")
def _munmap(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1)]


@decoder("brk", "set_tid_address", "time", "shmdt")
def _one_pointer(a: Args) -> list[str]:
    return [a.ptr(0)]


@decoder("mremap")
def _mremap(a: Args) -> list[str]:
    texts: list[str] = [a.ptr(0), a.ulong(1), a.ulong(2), a.flags(3, fl.MREMAP_FLAGS)]
    if a.raw(3) & 3 == 3:  # MREMAP_MAYMOVE|MREMAP_FIXED: the new address follows
        texts.append(a.ptr(4))
    return texts


@decoder("madvise")
def _madvise(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1), a.const(2, fl.MADVISE)]


@decoder("msync")
def _msync(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1), a.flags(2, fl.MSYNC_FLAGS)]


@decoder("memfd_create")
def _memfd_create(a: Args) -> list[str]:
    return [a.path(0), a.shown(1, fl.memfd_flags(a.u32(1)))]


# --- processes ------------------------------------------------------------------------------


@decoder("execve")
def _execve(a: Args) -> list[str]:
    return [a.path(0), a.argv(1), a.envp(2)]


@decoder("execveat")
def _execveat(a: Args) -> list[str]:
    return [a.dirfd(0), a.path(1), a.argv(2), a.envp(3), a.flags(4, fl.AT_FLAGS)]


_CLONE_PARENT_SETTID = 0x100000
_CLONE_PIDFD = 0x1000
_CLONE_SETTLS = 0x80000
_CLONE_CHILD_TID = 0x200000 | 0x1000000  # CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID


@decoder("clone")
def _clone(a: Args) -> list[str]:
    value = a.raw(0)
    # x86_64 passes (flags, stack, parent_tid, child_tid, tls); i386 swaps the last two.
    ctid, tls = (4, 3) if a.bits == 32 else (3, 4)
    texts: list[str] = [
        a.named("child_stack", 1, a.ptr(1)),
        a.named("flags", 0, fl.clone_flags(value)),
    ]
    if value & (_CLONE_PARENT_SETTID | _CLONE_PIDFD):
        texts.append(a.named("parent_tid", 2, a.ptr(2)))
    if value & _CLONE_SETTLS:
        texts.append(a.named("tls", tls, a.ptr(tls)))
    if value & _CLONE_CHILD_TID:
        texts.append(a.named("child_tidptr", ctid, a.ptr(ctid)))
    return texts


@decoder("fork", "vfork")
def _fork(a: Args) -> list[str]:
    return []


_CLONE_ARGS = Struct("<11Q")  # struct clone_args
_CLONE_CHILD_SETTID = fl.CLONE.value("CLONE_CHILD_SETTID")
_CLONE_CHILD_CLEARTID = fl.CLONE.value("CLONE_CHILD_CLEARTID")
_CLONE_INTO_CGROUP = fl.CLONE.value("CLONE_INTO_CGROUP")


def clone_args_text(data: bytes, retval: int | None) -> str | None:
    """struct clone_args as strace prints it, with the `` => {parent_tid=[N]}`` the kernel
    wrote (N is the child's tid: the result); None for what strace would print from memory
    not copied here (a pidfd, set_tid, a cgroup)."""
    (
        flags,
        _pidfd,
        child_tid,
        parent_tid,
        signal,
        stack,
        stack_size,
        tls,
        set_tid,
        set_tid_size,
        cgroup,
    ) = _CLONE_ARGS.unpack_from(data)
    if flags & (_CLONE_PIDFD | _CLONE_INTO_CGROUP) or set_tid or set_tid_size or cgroup:
        return None
    fields = [f"flags={fl.flags(flags, fl.CLONE)}"]
    if flags & (_CLONE_CHILD_SETTID | _CLONE_CHILD_CLEARTID):
        fields.append(f"child_tid={render.pointer(child_tid)}")
    if flags & _CLONE_PARENT_SETTID:
        fields.append(f"parent_tid={render.pointer(parent_tid)}")
    fields.append(f"exit_signal={fl.signal(signal)}")
    fields.append(f"stack={render.pointer(stack)}")
    fields.append(f"stack_size={fl.hexnum(stack_size)}")
    if flags & _CLONE_SETTLS:
        fields.append(f"tls={render.pointer(tls)}")
    text = "{" + ", ".join(fields) + "}"
    if flags & _CLONE_PARENT_SETTID and parent_tid and retval is not None and retval > 0:
        text += f" => {{parent_tid=[{retval}]}}"
    return text


@decoder("clone3")
def _clone3(a: Args) -> list[str]:
    data = a.copied(0)
    text = None
    if data is not None and len(data) >= _CLONE_ARGS.size and a.bits == 64 and a.raw(1) >= 88:
        text = clone_args_text(data, a.retval)
    return [a.ptr(0) if text is None else a.shown(0, text), a.ulong(1)]


_PTRACE_EVENTS = fl.Table(
    (
        ("PTRACE_EVENT_FORK", 1),
        ("PTRACE_EVENT_VFORK", 2),
        ("PTRACE_EVENT_CLONE", 3),
        ("PTRACE_EVENT_EXEC", 4),
        ("PTRACE_EVENT_VFORK_DONE", 5),
        ("PTRACE_EVENT_EXIT", 6),
        ("PTRACE_EVENT_SECCOMP", 7),
        ("PTRACE_EVENT_STOP", 128),
    ),
    "PTRACE_EVENT_???",
)


def wait_status(status: int) -> str:
    """A wait status as strace prints it: ``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]``."""
    status &= 0xFFFFFFFF
    low = status & 0x7F
    if status & 0xFF == 0x7F:  # stopped
        sig = (status >> 8) & 0xFF
        text = f"{{WIFSTOPPED(s) && WSTOPSIG(s) == {fl.signal(sig & 0x7F)}"
        text += " | 0x80}" if sig & 0x80 else "}"
        rest = status & ~0xFF7F
    elif low and low != 0x7F:  # killed by a signal
        core = " && WCOREDUMP(s)" if status & 0x80 else ""
        text = f"{{WIFSIGNALED(s) && WTERMSIG(s) == {fl.signal(low)}{core}}}"
        rest = status & ~0xFF
    elif low == 0:  # exited
        text = f"{{WIFEXITED(s) && WEXITSTATUS(s) == {(status >> 8) & 0xFF}}}"
        rest = status & ~0xFF00
    elif status == 0xFFFF:  # continued
        text, rest = "{WIFCONTINUED(s)}", 0
    else:
        return f"[{fl.hexnum(status)}]"
    if rest >> 16:
        text += " | " + fl.constant(rest >> 16, _PTRACE_EVENTS) + " << 16"
        rest &= 0xFFFF
    if rest:
        text += " | " + fl.hexnum(rest)
    return "[" + text + "]"


@decoder("wait4")
def _wait4(a: Args) -> list[str]:
    status = a.ptr(1)
    if a.raw(1) and a.retval:  # (0 with WNOHANG: no child changed, nothing was written)
        value = a.ints(1, 1)
        if value is not None:
            status = a.shown(1, wait_status(value[0]))
    rusage = a.struct(3, _TIMESPEC_PAIR, rusage_text, at_exit=True)
    return [a.int32(0), status, a.flags(2, fl.WAIT_OPTIONS, bits=32), rusage]


_IDTYPES = fl.Table((("P_ALL", 0), ("P_PID", 1), ("P_PGID", 2), ("P_PIDFD", 3)), "P_???")


@decoder("waitid")
def _waitid(a: Args) -> list[str]:
    return [
        a.const(0, _IDTYPES),
        a.int32(1),
        a.ptr(2),
        a.flags(3, fl.WAIT_OPTIONS, bits=32),
        a.ptr(4),
    ]


@decoder("exit", "exit_group")
def _exit(a: Args) -> list[str]:
    return [a.int32(0)]


@decoder("kill", "tkill")
def _kill(a: Args) -> list[str]:
    return [a.int32(0), a.shown(1, fl.signal(a.raw(1)))]


@decoder("tgkill")
def _tgkill(a: Args) -> list[str]:
    return [a.int32(0), a.int32(1), a.shown(2, fl.signal(a.raw(2)))]


@decoder("rt_sigaction")
def _rt_sigaction(a: Args) -> list[str]:
    return [
        a.shown(0, fl.signal(a.raw(0))),
        a.struct(1, 32, sigaction_text),
        a.struct(2, 32, sigaction_text, at_exit=True),
        a.ulong(3),
    ]


def _sigset(data: bytes) -> str:
    return sigset_text(_SIGSET.unpack_from(data)[0])


@decoder("rt_sigprocmask")
def _rt_sigprocmask(a: Args) -> list[str]:
    return [
        a.const(0, fl.SIGPROCMASK_HOW),
        a.struct(1, 8, _sigset),
        a.struct(2, 8, _sigset, at_exit=True),
        a.ulong(3),
    ]


@decoder("rt_sigreturn")
def _rt_sigreturn(a: Args) -> list[str]:
    # No argument: strace prints the mask the signal frame restores, `{mask=[INT]}`, which the
    # engine copies from the stack (ptrace's mechanisms see the stack pointer). Else nothing.
    data = a.copied(0)
    if data is None or len(data) < 8 or a.bits != 64:
        return []
    return [a.shown(0, f"{{mask={_sigset(data)}}}")]


@decoder("rt_sigsuspend")
def _rt_sigsuspend(a: Args) -> list[str]:
    return [a.struct(0, 8, _sigset), a.ulong(1)]


_SIGINFO = Struct("<i4xi4xiiI")  # si_signo, si_code, then si_pid, si_uid, si_status


def siginfo_text(data: bytes) -> str:
    signo, code, pid, uid, status = _SIGINFO.unpack_from(data)
    return format_siginfo(signo, code, pid, uid, status)


@decoder("rt_sigtimedwait")
def _rt_sigtimedwait(a: Args) -> list[str]:
    return [
        a.struct(0, 8, _sigset),
        a.struct(1, 32, siginfo_text, at_exit=True),
        a.struct(2, 16, timespec_text),
        a.ulong(3),
    ]


@result_decoder("rt_sigtimedwait")
def _signal_result(a: Args) -> str | None:
    assert a.retval is not None
    return f"{a.retval} ({fl.signal(a.retval)})"


@decoder("rt_sigpending")
def _rt_sigpending(a: Args) -> list[str]:
    return [a.struct(0, 8, _sigset, at_exit=True), a.ulong(1)]


_STACK = Struct("<Qi4xQ")  # stack_t: ss_sp, ss_flags, ss_size


def stack_text(data: bytes) -> str:
    sp, flags, size = _STACK.unpack_from(data)
    shown_sp = render.pointer(sp)
    shown_flags = fl.flags(flags & 0xFFFFFFFF, fl.SS_FLAGS)
    return f"{{ss_sp={shown_sp}, ss_flags={shown_flags}, ss_size={size}}}"


@decoder("sigaltstack")
def _sigaltstack(a: Args) -> list[str]:
    return [a.struct(0, 24, stack_text), a.struct(1, 24, stack_text, at_exit=True)]


@decoder("settimeofday")
def _two_pointers(a: Args) -> list[str]:
    return [a.ptr(0), a.ptr(1)]


_TIMEZONE = Struct("<ii")


def timeval_text(data: bytes) -> str:
    seconds, micro = _TIMESPEC.unpack_from(data)  # (a struct timeval has a timespec's layout)
    return f"{{tv_sec={seconds}, tv_usec={micro}}}"


def timezone_text(data: bytes) -> str:
    west, dst = _TIMEZONE.unpack_from(data)
    return f"{{tz_minuteswest={west}, tz_dsttime={dst}}}"


@decoder("gettimeofday")
def _gettimeofday(a: Args) -> list[str]:
    return [
        a.struct(0, _TIMESPEC.size, timeval_text, at_exit=True),
        a.struct(1, _TIMEZONE.size, timezone_text, at_exit=True),
    ]


_UTIME_NOW: Final = (1 << 30) - 1
_UTIME_OMIT: Final = (1 << 30) - 2


def _utime_text(data: bytes) -> str:
    """One of utimensat's times: ``UTIME_NOW``, or the timespec with its date in a comment,
    ``{tv_sec=100, tv_nsec=5} /* 1970-01-01T00:01:40.000000005+0000 */``."""
    seconds, nanoseconds = _TIMESPEC.unpack_from(data)
    if nanoseconds == _UTIME_NOW:
        return "UTIME_NOW"
    if nanoseconds == _UTIME_OMIT:
        return "UTIME_OMIT"
    text = timespec_text(data)
    if not 0 <= nanoseconds < 1_000_000_000:
        return text
    try:
        local = time.localtime(seconds)
    except (OverflowError, OSError, ValueError):
        return text
    fraction = f".{nanoseconds:09d}" if nanoseconds else ""
    date = time.strftime("%Y-%m-%dT%H:%M:%S", local) + fraction + time.strftime("%z", local)
    return f"{text} /* {date} */"


_TIMESPEC_PAIR: Final = 2 * _TIMESPEC.size  # utimensat's times, an itimerspec, rusage's two


def utimens_text(data: bytes) -> str:
    return f"[{_utime_text(data)}, {_utime_text(data[_TIMESPEC.size :])}]"


@decoder("utimensat")
def _utimensat(a: Args) -> list[str]:
    return [
        a.dirfd(0),
        a.path(1),
        a.struct(2, _TIMESPEC_PAIR, utimens_text),
        a.flags(3, fl.AT_FLAGS, bits=32),
    ]


def _unsigned(value: int) -> str:
    return str(value & 0xFFFFFFFF)


@decoder("getresuid", "getresgid")
def _getresid(a: Args) -> list[str]:
    return [a.written_int(i, _unsigned) for i in range(3)]


_GROUPS_COPIED: Final = 32  # gids the engine copies (CAPTURE_*_WORDS | 16): strace's -s


def _gid_list(a: Args, i: int, count: int, data: bytes | None) -> str:
    """``[0, 4, 27]``: the first ``count`` gids of a list, cut with ``...`` after 32."""
    if not a.raw(i):
        return a.shown(i, "NULL")
    if data is None or a.bits != 64 or count < 0:
        return a.ptr(i)
    shown = min(count, _GROUPS_COPIED, len(data) // 4)
    gids = [str(int.from_bytes(data[4 * k : 4 * k + 4], "little")) for k in range(shown)]
    more = ", ..." if count > shown else ""
    return a.shown(i, f"[{', '.join(gids)}{more}]")


@decoder("getgroups")
def _getgroups(a: Args) -> list[str]:
    data = None if a.failed else a.copied(1)
    count = -1 if a.failed or a.retval is None else a.retval
    if a.s32(0) == 0 and not a.failed:
        count = 0  # only asked how many: nothing written
    return [a.int32(0), _gid_list(a, 1, count, data if count else b"")]


@decoder("setgroups")
def _setgroups(a: Args) -> list[str]:
    return [a.int32(0), _gid_list(a, 1, a.s32(0), a.copied(1))]


def _time_left(a: Args, i: int) -> str:
    """The time a sleep had left, which the kernel writes only when a signal cut it short
    (copied then: CAPTURE_CUT_WORDS); otherwise strace too prints the pointer."""
    data = a.copied(i)
    if not a.raw(i):
        return a.shown(i, "NULL")
    if data is None or len(data) < 16 or a.bits != 64:
        return a.ptr(i)
    return a.shown(i, timespec_text(data))


@decoder("nanosleep")
def _nanosleep(a: Args) -> list[str]:
    return [a.struct(0, 16, timespec_text), _time_left(a, 1)]


@decoder("set_robust_list")
def _set_robust_list(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1)]


@decoder("get_robust_list")
def _get_robust_list(a: Args) -> list[str]:
    return [a.int32(0), a.ptr(1), a.ptr(2)]


@decoder("rseq")
def _rseq(a: Args) -> list[str]:
    # strace 6.1 has no rseq decoder: it prints every argument as a hex number, NULL as 0.
    return [a.hex(0), a.hex(1), a.hex(2), a.hex(3)]


@decoder("arch_prctl")
def _arch_prctl(a: Args) -> list[str]:
    option = a.u32(0)
    name = fl.ARCH_PRCTL.name(option)
    texts: list[str] = [a.const(0, fl.ARCH_PRCTL)]
    if name == "ARCH_GET_CPUID":
        return texts
    if name in ("ARCH_GET_FS", "ARCH_GET_GS", "ARCH_GET_XCOMP_SUPP", "ARCH_GET_XCOMP_PERM"):
        texts.append(a.ptr(1))  # strace prints the value stored there, [0x7f...]
    else:
        texts.append(a.hex(1))
    return texts


# prctl's options by what strace prints after the option's name.
_PR_NOTHING: Final = frozenset(
    ("PR_GET_DUMPABLE", "PR_GET_KEEPCAPS", "PR_GET_SECCOMP", "PR_GET_TIMERSLACK", "PR_GET_TIMING")
)
_PR_NUMBER: Final = frozenset(
    ("PR_SET_KEEPCAPS", "PR_SET_CHILD_SUBREAPER", "PR_SET_TIMERSLACK", "PR_SET_TIMING")
)
_PR_FOUR_NUMBERS: Final = frozenset(
    (
        "PR_SET_NO_NEW_PRIVS",
        "PR_GET_NO_NEW_PRIVS",
        "PR_SET_THP_DISABLE",
        "PR_GET_THP_DISABLE",
        "PR_MCE_KILL_GET",
    )
)
_PR_INT_WRITTEN: Final = frozenset(("PR_GET_PDEATHSIG", "PR_GET_CHILD_SUBREAPER"))
_TASK_COMM_LEN: Final = 16


def _task_name(a: Args, i: int) -> str:
    """PR_SET_NAME's and PR_GET_NAME's name: at most 16 bytes, NUL-terminated (copied at
    exit, when the call succeeded), or the pointer."""
    data = a.copied(i)
    if data is None or a.failed:
        return a.ptr(i)
    end = data.find(b"\0", 0, _TASK_COMM_LEN)
    if end < 0:  # strace shows the 15 bytes the kernel keeps, and "..."
        return a.shown(i, render.quote(data[: _TASK_COMM_LEN - 1], truncated=True))
    return a.shown(i, render.quote(data[:end]))


def _signal_or_zero(signo: int) -> str:
    return fl.signal(signo) if signo else "0"


@decoder("prctl")
def _prctl(a: Args) -> list[str]:
    option = a.u32(0)
    name = fl.PRCTL_OPTIONS.name(option)
    texts: list[str] = [a.const(0, fl.PRCTL_OPTIONS)]
    if name in _PR_NOTHING:
        return texts
    if name in ("PR_SET_NAME", "PR_GET_NAME"):
        return [*texts, _task_name(a, 1)]
    if name == "PR_SET_PDEATHSIG":
        return [*texts, a.shown(1, _signal_or_zero(a.raw(1)))]
    if name in _PR_INT_WRITTEN:
        show = _signal_or_zero if name == "PR_GET_PDEATHSIG" else str
        return [*texts, a.written_int(1, show)]
    if name == "PR_GET_TID_ADDRESS":
        data = a.copied(1)
        if data is None or len(data) < 8 or a.failed or a.bits != 64:
            return [*texts, a.ptr(1)]
        return [*texts, a.shown(1, f"[{fl.hexnum(int.from_bytes(data[:8], 'little'))}]")]
    if name == "PR_SET_DUMPABLE":
        return [*texts, a.const(1, fl.SUID_DUMP, bits=None)]
    if name in ("PR_CAPBSET_READ", "PR_CAPBSET_DROP"):
        return [*texts, a.const(1, fl.CAPABILITIES, bits=None)]
    if name in _PR_NUMBER:
        return [*texts, a.ulong(1)]
    if name == "PR_SET_PTRACER":
        anyone = a.u32(1) == 0xFFFFFFFF  # -1, as an int or a long
        return [*texts, a.shown(1, "PR_SET_PTRACER_ANY") if anyone else a.ulong(1)]
    if name == "PR_GET_SPECULATION_CTRL":
        return [*texts, a.const(1, fl.PR_SPEC_WHICH, bits=None)]
    if name == "PR_SET_SPECULATION_CTRL":
        return [*texts, a.const(1, fl.PR_SPEC_WHICH, bits=None), a.flags(2, fl.PR_SPEC_STATE)]
    if name in _PR_FOUR_NUMBERS:
        return [*texts, *(a.ulong(i) for i in range(1, 5))]
    if name == "PR_CAP_AMBIENT":
        op = fl.PR_CAP_AMBIENT_OPS.name(a.raw(1))
        capability = (
            a.const(2, fl.CAPABILITIES, bits=None)
            if op
            in (
                "PR_CAP_AMBIENT_IS_SET",
                "PR_CAP_AMBIENT_RAISE",
                "PR_CAP_AMBIENT_LOWER",
            )
            else a.ulong(2)
        )
        return [
            *texts,
            a.const(1, fl.PR_CAP_AMBIENT_OPS, bits=None),
            capability,
            a.ulong(3),
            a.ulong(4),
        ]
    if name == "PR_SET_SECCOMP":
        mode = a.raw(1)
        if mode == _SECCOMP_MODE_FILTER:
            return [*texts, a.const(1, fl.SECCOMP_MODES, bits=None), _sock_fprog(a, 2)]
        if mode == _SECCOMP_MODE_STRICT:
            return [*texts, a.const(1, fl.SECCOMP_MODES, bits=None)]
        return [*texts, a.const(1, fl.SECCOMP_MODES, bits=None), *(a.hex(i) for i in range(2, 5))]
    return [*texts, *(a.hex(i) for i in range(1, 5))]


_SECCOMP_MODE_STRICT: Final = 1
_SECCOMP_MODE_FILTER: Final = 2
_SOCK_FPROG = Struct("<H6xQ")  # struct sock_fprog: len, then the filter's address


def _sock_fprog(a: Args, i: int) -> str:
    """A seccomp filter program as strace prints it: ``{len=12, filter=0x55...}``."""
    if not a.raw(i):
        return a.ptr(i)
    data = a.copied(i)
    if data is None or len(data) < _SOCK_FPROG.size or a.bits != 64:
        return a.ptr(i)
    length, filter_addr = _SOCK_FPROG.unpack_from(data)
    return a.shown(i, f"{{len={length}, filter={fl.hexnum(filter_addr)}}}")


@result_decoder("prctl")
def _prctl_result(a: Args) -> str | None:
    assert a.retval is not None
    name = fl.PRCTL_OPTIONS.name(a.u32(0))
    if name == "PR_GET_DUMPABLE":
        return f"{a.retval} ({fl.constant(a.retval, fl.SUID_DUMP)})"
    if name == "PR_MCE_KILL_GET":
        return f"{a.retval} ({fl.constant(a.retval, fl.MCE_KILL_POLICIES)})"
    if name == "PR_GET_SPECULATION_CTRL":
        return f"{fl.hexnum(a.retval)} ({fl.flags(a.retval, fl.PR_SPEC_STATE)})"
    return None


_UTSNAME_FIELD: Final = 65  # bytes of each struct utsname member


def utsname_text(data: bytes) -> str:
    """strace's (abbreviated) struct utsname: ``{sysname="Linux", nodename="vm", ...}``."""
    names = [
        data[k * _UTSNAME_FIELD : (k + 1) * _UTSNAME_FIELD].split(b"\0", 1)[0] for k in range(2)
    ]
    return f"{{sysname={render.quote(names[0])}, nodename={render.quote(names[1])}, ...}}"


@decoder("uname")
def _uname(a: Args) -> list[str]:
    return [a.struct(0, 2 * _UTSNAME_FIELD, utsname_text, at_exit=True)]


_SYSINFO = Struct("<q3Q6QH6xQQI")  # struct sysinfo, up to mem_unit


def sysinfo_text(data: bytes) -> str:
    (
        uptime,
        l1,
        l5,
        l15,
        total,
        free,
        shared,
        buffers,
        swap,
        free_swap,
        procs,
        high,
        free_high,
        unit,
    ) = _SYSINFO.unpack_from(data)
    return (
        f"{{uptime={uptime}, loads=[{l1}, {l5}, {l15}], totalram={total}, freeram={free}, "
        f"sharedram={shared}, bufferram={buffers}, totalswap={swap}, freeswap={free_swap}, "
        f"procs={procs}, totalhigh={high}, freehigh={free_high}, mem_unit={unit}}}"
    )


@decoder("sysinfo")
def _sysinfo(a: Args) -> list[str]:
    return [a.struct(0, _SYSINFO.size, sysinfo_text, at_exit=True)]


_STATFS = Struct("<qqQQQQQiiqqq")  # struct statfs, up to f_flags


def statfs_text(data: bytes) -> str:
    kind, bsize, blocks, bfree, bavail, files, ffree, fsid0, fsid1, namelen, frsize, flags = (
        _STATFS.unpack_from(data)
    )
    fsid = f"{fl.hexnum(fsid0 & 0xFFFFFFFF)}, {fl.hexnum(fsid1 & 0xFFFFFFFF)}"
    return (
        f"{{f_type={fl.constant(kind, fl.FS_MAGIC)}, f_bsize={bsize}, f_blocks={blocks}, "
        f"f_bfree={bfree}, f_bavail={bavail}, f_files={files}, f_ffree={ffree}, "
        f"f_fsid={{val=[{fsid}]}}, f_namelen={namelen}, f_frsize={frsize}, "
        f"f_flags={fl.flags(flags, fl.STATFS_FLAGS)}}}"
    )


@decoder("statfs")
def _statfs(a: Args) -> list[str]:
    return [a.path(0), a.struct(1, _STATFS.size, statfs_text, at_exit=True)]


@decoder("fstatfs")
def _fstatfs(a: Args) -> list[str]:
    return [a.fd(0), a.struct(1, _STATFS.size, statfs_text, at_exit=True)]


@decoder("prlimit64")
def _prlimit64(a: Args) -> list[str]:
    return [
        a.int32(0),
        a.const(1, fl.RLIMITS),
        a.struct(2, 16, rlimit_text),
        a.struct(3, 16, rlimit_text, at_exit=True),
    ]


@decoder("getrlimit", "setrlimit", "ugetrlimit")
def _getrlimit(a: Args) -> list[str]:
    return [a.const(0, fl.RLIMITS), a.ptr(1)]


@decoder("getrandom")
def _getrandom(a: Args) -> list[str]:
    # The random bytes the kernel wrote (copied at exit), every one in \x hex, as strace shows.
    data = a.copied(0)
    if a.failed or a.retval is None or not a.raw(0) or (data is None and a.retval):
        buf = a.ptr(0)
    else:
        shown = (data or b"")[: a.retval]
        buf = a.shown(0, render.quote_hex(shown, limit=a.limit, truncated=0 in a.call.truncated))
    return [buf, a.ulong(1), a.flags(2, fl.GRND, bits=32)]


@decoder("futex", "futex_time64")
def _futex(a: Args) -> list[str]:
    op = a.s32(1)
    cmd = op & fl.FUTEX_CMD_MASK
    base = fl.FUTEX_OPS.name(cmd) or ""
    texts: list[str] = [a.ptr(0), a.shown(1, fl.constant(op & 0xFFFFFFFF, fl.FUTEX_OPS))]
    val, val3 = a.uint32(2), a.shown(5, fl.constant(a.u32(5), fl.FUTEX_BITSET, unknown=None))
    if base in ("FUTEX_WAIT",):
        texts += [val, a.ptr(3)]
    elif base in ("FUTEX_LOCK_PI", "FUTEX_LOCK_PI2"):
        texts += [a.ptr(3)]
    elif base == "FUTEX_WAIT_BITSET":
        texts += [val, a.ptr(3), val3]
    elif base == "FUTEX_WAKE_BITSET":
        texts += [val, val3]
    elif base == "FUTEX_REQUEUE":
        texts += [val, a.uint32(3), a.ptr(4)]
    elif base in ("FUTEX_CMP_REQUEUE", "FUTEX_CMP_REQUEUE_PI"):
        texts += [val, a.uint32(3), a.ptr(4), a.uint32(5)]
    elif base == "FUTEX_WAKE_OP":
        texts += [val, a.uint32(3), a.ptr(4), a.shown(5, _futex_wake_op(a.u32(5)))]
    elif base == "FUTEX_WAIT_REQUEUE_PI":
        texts += [val, a.ptr(3), a.ptr(4)]
    elif base in ("FUTEX_FD", "FUTEX_WAKE"):
        texts += [val]
    elif base in ("FUTEX_UNLOCK_PI", "FUTEX_TRYLOCK_PI"):
        pass
    else:
        texts += [val, a.ptr(3), a.ptr(4), a.hex(5, bits=32)]
    return texts


def _futex_wake_op(val3: int) -> str:
    parts = []
    if (val3 >> 28) & 8:
        parts.append("FUTEX_OP_OPARG_SHIFT<<28")
    op = fl.FUTEX_WAKE_OPS.name((val3 >> 28) & 7)
    parts.append(f"{op}<<28" if op else f"{(val3 >> 28) & 7}<<28 /* FUTEX_OP_??? */")
    parts.append(f"{fl.hexnum((val3 >> 12) & 0xFFF)}<<12")
    cmp = fl.FUTEX_WAKE_CMPS.name((val3 >> 24) & 0xF)
    parts.append(f"{cmp}<<24" if cmp else f"{(val3 >> 24) & 0xF}<<24 /* FUTEX_OP_CMP_??? */")
    parts.append(fl.hexnum(val3 & 0xFFF))
    return "|".join(parts)


@decoder("clock_gettime", "clock_getres", "clock_settime")
def _clock_gettime(a: Args) -> list[str]:
    return [a.const(0, fl.CLOCKS), a.struct(1, 16, timespec_text, at_exit=True)]


@decoder("clock_nanosleep")
def _clock_nanosleep(a: Args) -> list[str]:
    return [
        a.const(0, fl.CLOCKS),
        a.flags(1, fl.TIMER_FLAGS, bits=32),
        a.struct(2, 16, timespec_text),
        _time_left(a, 3),
    ]


def _cpu_mask(a: Args, length: int) -> str:
    """A CPU set as strace prints it: the CPUs in it, ``[0 1]``."""
    data = a.copied(2)
    if data is None or len(data) < length:
        return a.ptr(2)
    cpus = set_bits(int.from_bytes(data[:length], "little"))
    return a.shown(2, "[" + " ".join(map(str, cpus)) + "]")


@decoder("sched_getaffinity")
def _sched_getaffinity(a: Args) -> list[str]:
    mask = a.ptr(2) if a.failed or not a.retval else _cpu_mask(a, a.retval)
    return [a.int32(0), a.ulong(1), mask]


@decoder("sched_setaffinity")
def _sched_setaffinity(a: Args) -> list[str]:
    return [a.int32(0), a.ulong(1), _cpu_mask(a, a.raw(1))]


# --- sockets --------------------------------------------------------------------------------


def _protocol(a: Args, family: int, i: int) -> str:
    if family in (fl.AF_INET, fl.AF_INET6):
        return a.const(i, fl.IP_PROTOCOLS, bits=None)
    if family == fl.AF_NETLINK:
        return a.const(i, fl.NETLINK_PROTOCOLS, bits=None)
    if family == fl.AF_PACKET:
        # Network byte order: strace prints ntohs of it (the low 16 bits, as the kernel reads
        # them) inside htons(...).
        value = a.raw(i) & 0xFFFF
        host = (value >> 8) | ((value & 0xFF) << 8)
        return a.shown(i, f"htons({fl.constant(host, fl.ETHERNET_PROTOCOLS)})")
    return a.ulong(i)


@decoder("socket")
def _socket(a: Args) -> list[str]:
    family = a.raw(0)
    return [
        a.const(0, fl.ADDRESS_FAMILIES, bits=None),
        a.shown(1, fl.socket_type(a.raw(1))),
        _protocol(a, family, 2),
    ]


@decoder("socketpair")
def _socketpair(a: Args) -> list[str]:
    return [
        a.const(0, fl.ADDRESS_FAMILIES, bits=None),
        a.shown(1, fl.socket_type(a.raw(1))),
        a.ulong(2),
        a.int_array(3, 2),
    ]


def _sockaddr(a: Args, i: int, length: int) -> str:
    """A socket address the kernel reads (copied at entry, ``length`` bytes), or the pointer."""
    data = a.copied(i)
    text = None if data is None or a.bits != 64 else sockaddr_text(data[:length])
    return a.ptr(i) if text is None else a.shown(i, text)


@decoder("connect", "bind")
def _connect(a: Args) -> list[str]:
    return [a.fd(0), _sockaddr(a, 1, a.u32(2)), a.int32(2)]


def _int(data: bytes | None) -> int | None:
    return int.from_bytes(data[:4], "little") if data is not None and len(data) >= 4 else None


def _length_in_out(a: Args, i: int) -> tuple[str, bytes | None]:
    """A length the kernel reads and rewrites at argument ``i`` (a socklen_t), as strace
    prints it: ``[128 => 16]``, or ``[16]`` when it did not change; and the bytes the kernel
    wrote at argument ``i - 1`` (copied at exit, CAPTURE_SOCKADDR_OUT), as many as it says,
    or None."""
    offered = _int(a.copied(i))
    left = None if a.failed or a.bits != 64 else _int(a.copied(i + SEG_AFTER))
    if not a.raw(i):
        length = a.shown(i, "NULL")
    elif offered is None:
        length = a.ptr(i)
    elif left is None or left == offered:
        length = a.shown(i, f"[{offered if left is None else left}]")
    else:
        length = a.shown(i, f"[{offered} => {left}]")
    data = a.copied(i - 1)
    if left is None or offered is None or data is None:
        return length, None
    return length, data[: min(left, offered)]


def _sockaddr_out(a: Args, i: int) -> list[str]:
    """An address the kernel filled in and its length in/out the next argument, as strace
    prints them: ``{sa_family=AF_INET, ...}, [128 => 16]`` (``[16]`` when it did not change)."""
    length, data = _length_in_out(a, i + 1)
    text = None if data is None else sockaddr_text(data)
    if not a.raw(i):
        return [a.shown(i, "NULL"), length]
    return [a.ptr(i) if text is None else a.shown(i, text), length]


_SOL_SOCKET: Final = 1
_SO_LINGER: Final = 13
_SO_BINDTODEVICE: Final = 25
_LINGER = Struct("<ii")


def _sockopt_level_and_name(a: Args) -> list[str]:
    """setsockopt's and getsockopt's level and option: ``SOL_SOCKET, SO_REUSEADDR``; the
    option in decimal under a level strace has no names for."""
    options = fl.OPTIONS_OF_LEVEL.get(a.u32(1))
    name = a.uint32(2) if options is None else a.const(2, options)
    return [a.const(1, fl.SOCKET_LEVELS), name]


def _sockopt_value(a: Args, i: int, data: bytes | None) -> str:
    """An option's value: ``[1]`` for an int, ``{l_onoff=1, l_linger=5}``, a device name as a
    string, other bytes in hex; the pointer when there are none."""
    if data is None or not data or a.bits != 64:
        return a.ptr(i)
    level, option = a.u32(1), a.u32(2)
    if level == _SOL_SOCKET and option == _SO_LINGER and len(data) >= _LINGER.size:
        onoff, seconds = _LINGER.unpack_from(data)
        return a.shown(i, f"{{l_onoff={onoff}, l_linger={seconds}}}")
    if level == _SOL_SOCKET and option == _SO_BINDTODEVICE:
        return a.shown(i, render.quote(data))
    if len(data) == 4:
        return a.shown(i, f"[{int.from_bytes(data, 'little', signed=True)}]")
    return a.shown(i, render.quote_hex(data))


@decoder("setsockopt")
def _setsockopt(a: Args) -> list[str]:
    data = a.copied(3)
    if data is not None and (3 in a.call.truncated or len(data) != a.u32(4)):
        data = None  # cut at -s, or unreadable: strace would still print it; we print where
    return [a.fd(0), *_sockopt_level_and_name(a), _sockopt_value(a, 3, data), a.uint32(4)]


@decoder("getsockopt")
def _getsockopt(a: Args) -> list[str]:
    length, data = _length_in_out(a, 4)
    return [a.fd(0), *_sockopt_level_and_name(a), _sockopt_value(a, 3, data), length]


@decoder("accept", "getsockname", "getpeername")
def _accept(a: Args) -> list[str]:
    return [a.fd(0), *_sockaddr_out(a, 1)]


@decoder("accept4")
def _accept4(a: Args) -> list[str]:
    return [*_accept(a), a.flags(3, fl.SOCKET_FLAGS)]


@decoder("listen")
def _listen(a: Args) -> list[str]:
    return [a.fd(0), a.int32(1)]


@decoder("shutdown")
def _shutdown(a: Args) -> list[str]:
    return [a.fd(0), a.const(1, fl.SHUTDOWN_HOW, bits=None)]


@decoder("sendto")
def _sendto(a: Args) -> list[str]:
    return [
        a.fd(0),
        a.buffer(1, a.raw(2)),
        a.ulong(2),
        a.flags(3, fl.MSG_FLAGS),
        _sockaddr(a, 4, a.u32(5)),
        a.int32(5),
    ]


@decoder("recvfrom")
def _recvfrom(a: Args) -> list[str]:
    return [
        a.fd(0),
        a.output(1, a.raw(2)),
        a.ulong(2),
        a.flags(3, fl.MSG_FLAGS),
        *_sockaddr_out(a, 4),
    ]


_MSGHDR = Struct("<QI4xQQQQi4x")  # struct msghdr (x86_64)
_CMSGHDR = Struct("<Qii")  # struct cmsghdr: cmsg_len, cmsg_level, cmsg_type, then the data
_SCM_RIGHTS, _SCM_CREDENTIALS = 1, 2
_UCRED = Struct("<iII")


def _cmsg_text(data: bytes) -> str:
    """A msghdr's control messages: ``[{cmsg_len=20, cmsg_level=SOL_SOCKET,
    cmsg_type=SCM_RIGHTS, cmsg_data=[3]}]``."""
    items, at = [], 0
    while at + _CMSGHDR.size <= len(data):
        length, level, kind = _CMSGHDR.unpack_from(data, at)
        if length < _CMSGHDR.size:
            break
        body = data[at + _CMSGHDR.size : at + length]
        text = f"{{cmsg_len={length}, cmsg_level={fl.constant(level, fl.SOCKET_LEVELS)}, "
        if level == _SOL_SOCKET and kind == _SCM_RIGHTS:
            fds = [str(fd) for (fd,) in Struct("<i").iter_unpack(body[: len(body) // 4 * 4])]
            text += f"cmsg_type=SCM_RIGHTS, cmsg_data=[{', '.join(fds)}]}}"
        elif level == _SOL_SOCKET and kind == _SCM_CREDENTIALS and len(body) >= _UCRED.size:
            pid, uid, gid = _UCRED.unpack_from(body)
            text += f"cmsg_type=SCM_CREDENTIALS, cmsg_data={{pid={pid}, uid={uid}, gid={gid}}}}}"
        else:
            text += f"cmsg_type={fl.hexnum(kind)}, cmsg_data={render.quote_hex(body)}}}"
        items.append(text)
        at += (length + 7) // 8 * 8
    return "[" + ", ".join(items) + "]"


def _msghdr(a: Args, i: int, *, received: bool) -> str:
    """A struct msghdr as strace prints it, with its name, iovecs and control messages (a
    recvmsg's as the call left them). A failed recvmsg shows the name length it offered."""
    if not a.raw(i):
        return a.shown(i, "NULL")
    entry = a.copied(i)
    data = a.copied(i + SEG_AFTER) if received else entry
    if received and a.failed and entry is not None and len(entry) >= _MSGHDR.size:
        return a.shown(i, f"{{msg_namelen={_MSGHDR.unpack_from(entry)[1]}}}")
    if data is None or len(data) < _MSGHDR.size or a.bits != 64 or (received and a.failed):
        return a.ptr(i)
    name, namelen, iov, iovlen, control, controllen, flags = _MSGHDR.unpack_from(data)
    parts = []
    if name:
        bytes_ = a.copied(i + SEG_NAME)
        text = None if bytes_ is None else sockaddr_text(bytes_[:namelen])
        parts.append(f"msg_name={hex(name) if text is None else text}")
    else:
        parts.append("msg_name=NULL")
    offered = _MSGHDR.unpack_from(entry)[1] if received and entry is not None else namelen
    parts.append(f"msg_namelen={offered}" + (f" => {namelen}" if offered != namelen else ""))
    records = a.copied(i + SEG_IOV)
    if not iov:
        parts.append("msg_iov=NULL")
    elif records is None:
        parts.append(f"msg_iov={hex(iov)}")
    else:
        parts.append(f"msg_iov={_iovec_list(a, records, i + SEG_IOV in a.call.truncated)}")
    parts.append(f"msg_iovlen={iovlen}")
    if controllen:
        control_data = a.copied(i + SEG_CONTROL)
        shown = hex(control) if control_data is None else _cmsg_text(control_data)
        parts.append(f"msg_control={shown}")
    parts.append(f"msg_controllen={controllen}")
    parts.append(f"msg_flags={fl.flags(flags & 0xFFFFFFFF, fl.MSG_FLAGS)}")
    return a.shown(i, "{" + ", ".join(parts) + "}")


@decoder("sendmsg")
def _sendmsg(a: Args) -> list[str]:
    return [a.fd(0), _msghdr(a, 1, received=False), a.flags(2, fl.MSG_FLAGS, bits=32)]


@decoder("recvmsg")
def _recvmsg(a: Args) -> list[str]:
    return [a.fd(0), _msghdr(a, 1, received=True), a.flags(2, fl.MSG_FLAGS, bits=32)]


# --- events and polling ---------------------------------------------------------------------


@decoder("eventfd2")
def _eventfd2(a: Args) -> list[str]:
    return [a.uint32(0), a.flags(1, fl.EVENTFD_FLAGS)]


@decoder("timerfd_create")
def _timerfd_create(a: Args) -> list[str]:
    return [a.const(0, fl.CLOCKS), a.flags(1, fl.TFD_FLAGS, bits=32)]


@decoder("inotify_init1")
def _inotify_init1(a: Args) -> list[str]:
    return [a.flags(0, fl.IN_INIT_FLAGS, bits=32)]


@decoder("inotify_add_watch")
def _inotify_add_watch(a: Args) -> list[str]:
    return [a.fd(0), a.path(1), a.flags(2, fl.INOTIFY_MASK, bits=32)]


@decoder("signalfd4")
def _signalfd4(a: Args) -> list[str]:
    return [a.fd(0), a.struct(1, 8, _sigset), a.ulong(2), a.flags(3, fl.SFD_FLAGS, bits=32)]


def itimerspec_text(data: bytes) -> str:
    """struct itimerspec: it_interval, then it_value."""
    interval, value = timespec_text(data), timespec_text(data[_TIMESPEC.size :])
    return f"{{it_interval={interval}, it_value={value}}}"


def _settime(a: Args, flags: fl.Table) -> list[str]:
    """timerfd_settime's and timer_settime's: the new setting, and the old one written back."""
    return [
        a.int32(0),
        a.flags(1, flags, bits=32),
        a.struct(2, _TIMESPEC_PAIR, itimerspec_text),
        a.struct(3, _TIMESPEC_PAIR, itimerspec_text, at_exit=True),
    ]


@decoder("timerfd_settime")
def _timerfd_settime(a: Args) -> list[str]:
    return _settime(a, fl.TFD_SETTIME_FLAGS)


@decoder("timer_settime")
def _timer_settime(a: Args) -> list[str]:
    return _settime(a, fl.TIMER_FLAGS)


@decoder("timerfd_gettime", "timer_gettime")
def _gettime(a: Args) -> list[str]:
    return [a.int32(0), a.struct(1, _TIMESPEC_PAIR, itimerspec_text, at_exit=True)]


_U64: Final = (1 << 64) - 1
_SIGEVENT = Struct("<qiiqq")  # sigev_value, sigev_signo, sigev_notify, then the union
_SIGEV_SIGNAL, _SIGEV_THREAD, _SIGEV_THREAD_ID = 0, 2, 4


def sigevent_text(data: bytes) -> str:
    """struct sigevent as strace prints it: the value only when it is not zero, the signal by
    name when one is sent, then what the kind of notification uses."""
    value, signo, notify, first, second = _SIGEVENT.unpack_from(data)
    parts = []
    if value:
        sival_int = render.signed(value & 0xFFFFFFFF, 32)
        parts.append(f"sigev_value={{sival_int={sival_int}, sival_ptr={fl.hexnum(value & _U64)}}}")
    sends = notify in (_SIGEV_SIGNAL, _SIGEV_THREAD, _SIGEV_THREAD_ID)
    parts.append(f"sigev_signo={(fl.signal_name(signo) if sends else None) or signo}")
    parts.append(f"sigev_notify={fl.constant(notify & 0xFFFFFFFF, fl.SIGEV_NOTIFY)}")
    if notify == _SIGEV_THREAD_ID:
        parts.append(f"sigev_notify_thread_id={render.signed(first & 0xFFFFFFFF, 32)}")
    elif notify == _SIGEV_THREAD:
        function, attributes = first & _U64, second & _U64
        parts.append(f"sigev_notify_function={render.pointer(function)}")
        parts.append(f"sigev_notify_attributes={render.pointer(attributes)}")
    return "{" + ", ".join(parts) + "}"


@decoder("timer_create")
def _timer_create(a: Args) -> list[str]:
    return [a.const(0, fl.CLOCKS), a.struct(1, _SIGEVENT.size, sigevent_text), a.written_int(2)]


@decoder("timer_delete", "timer_getoverrun")
def _timer_id(a: Args) -> list[str]:
    return [a.int32(0)]


def itimerval_text(data: bytes) -> str:
    """struct itimerval: it_interval, then it_value (two timevals)."""
    interval, value = timeval_text(data), timeval_text(data[_TIMESPEC.size :])
    return f"{{it_interval={interval}, it_value={value}}}"


@decoder("setitimer")
def _setitimer(a: Args) -> list[str]:
    return [
        a.const(0, fl.ITIMERS),
        a.struct(1, _TIMESPEC_PAIR, itimerval_text),
        a.struct(2, _TIMESPEC_PAIR, itimerval_text, at_exit=True),
    ]


@decoder("getitimer")
def _getitimer(a: Args) -> list[str]:
    return [a.const(0, fl.ITIMERS), a.struct(1, _TIMESPEC_PAIR, itimerval_text, at_exit=True)]


@decoder("fallocate")
def _fallocate(a: Args) -> list[str]:
    return [a.fd(0), a.flags(1, fl.FALLOC_FLAGS, bits=32), a.long(2), a.long(3)]


@decoder("sync_file_range")
def _sync_file_range(a: Args) -> list[str]:
    return [a.fd(0), a.long(1), a.long(2), a.flags(3, fl.SYNC_FILE_RANGE_FLAGS, bits=32)]


@decoder("tee")
def _tee(a: Args) -> list[str]:
    return [a.fd(0), a.fd(1), a.ulong(2), a.flags(3, fl.SPLICE_FLAGS, bits=32)]


@decoder("splice")
def _splice(a: Args) -> list[str]:
    return [a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.ulong(4), a.flags(5, fl.SPLICE_FLAGS, bits=32)]


@decoder("vmsplice")
def _vmsplice(a: Args) -> list[str]:
    return [a.fd(0), a.ptr(1), a.ulong(2), a.flags(3, fl.SPLICE_FLAGS, bits=32)]


@decoder("mlock2")
def _mlock2(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1), a.flags(2, fl.MLOCK2_FLAGS, bits=32)]


@decoder("mincore")
def _mincore(a: Args) -> list[str]:
    return [a.ptr(0), a.ulong(1), a.ptr(2)]


@decoder("membarrier")
def _membarrier(a: Args) -> list[str]:
    return [a.const(0, fl.MEMBARRIER_CMDS), a.hex(1, bits=32)]


@result_decoder("membarrier")
def _membarrier_result(a: Args) -> str | None:
    assert a.retval is not None
    if a.u32(0) != 0:  # MEMBARRIER_CMD_QUERY answers with the commands it supports
        return None
    return f"{fl.hexnum(a.retval)} ({fl.flags(a.retval, fl.MEMBARRIER_CMDS, unknown=None)})"


def personality_text(value: int) -> str:
    """``PER_LINUX|ADDR_NO_RANDOMIZE``: the type in the low byte, then the flags."""
    kind = fl.constant(value & 0xFF, fl.PERSONALITY_TYPES)
    rest = value & ~0xFF
    return kind if not rest else f"{kind}|{fl.flags(rest, fl.PERSONALITY_FLAGS, unknown=None)}"


@decoder("personality")
def _personality(a: Args) -> list[str]:
    value = a.u32(0)  # 0xffffffff asks, changing nothing
    return [a.shown(0, fl.hexnum(value) if value == 0xFFFFFFFF else personality_text(value))]


@result_decoder("personality")
def _personality_result(a: Args) -> str | None:
    assert a.retval is not None
    return f"{fl.hexnum(a.retval)} ({personality_text(a.retval)})"


@result_decoder("sched_getscheduler")
def _sched_getscheduler_result(a: Args) -> str | None:
    assert a.retval is not None
    name = fl.SCHED_POLICIES.name(a.retval)
    return None if name is None else f"{a.retval} ({name})"


@decoder("sched_setscheduler")
def _sched_setscheduler(a: Args) -> list[str]:
    return [a.int32(0), a.const(1, fl.SCHED_POLICIES), a.struct(2, 4, _sched_param_text)]


def _sched_param_text(data: bytes) -> str:
    return f"[{int.from_bytes(data[:4], 'little', signed=True)}]"  # strace: the priority


def ioprio_text(value: int) -> str:
    """``IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 4)``: the class in the bits from 13 on."""
    return f"IOPRIO_PRIO_VALUE({fl.constant(value >> 13, fl.IOPRIO_CLASSES)}, {value & 0x1FFF})"


@decoder("ioprio_get")
def _ioprio_get(a: Args) -> list[str]:
    return [a.const(0, fl.IOPRIO_WHO), a.int32(1)]


@decoder("ioprio_set")
def _ioprio_set(a: Args) -> list[str]:
    return [a.const(0, fl.IOPRIO_WHO), a.int32(1), a.shown(2, ioprio_text(a.u32(2)))]


@result_decoder("ioprio_get")
def _ioprio_get_result(a: Args) -> str | None:
    assert a.retval is not None
    return f"{a.retval} ({ioprio_text(a.retval)})"


def _ipc_key(a: Args, i: int) -> str:
    return a.shown(i, "IPC_PRIVATE" if a.u32(i) == 0 else fl.hexnum(a.u32(i)))


def _ipc_flags(a: Args, i: int) -> str:
    """``IPC_CREAT|0600``, or the mode alone (``000``)."""
    value = a.u32(i)
    mode = fl.octal_mode(value & 0o777)
    named = value & ~0o777
    if not named:
        return a.shown(i, mode)
    return a.shown(i, f"{fl.flags(named, fl.IPC_GET_FLAGS, unknown=None)}|{mode}")


def _ipc_cmd(a: Args, i: int, table: fl.Table) -> str:
    """``IPC_RMID``, with ``IPC_64|`` when the command carries it."""
    value = a.u32(i)
    text = fl.constant(value & ~fl.IPC_64, table)
    return a.shown(i, f"IPC_64|{text}" if value & fl.IPC_64 else text)


@decoder("shmget")
def _shmget(a: Args) -> list[str]:
    return [_ipc_key(a, 0), a.ulong(1), _ipc_flags(a, 2)]


@decoder("semget")
def _semget(a: Args) -> list[str]:
    return [_ipc_key(a, 0), a.int32(1), _ipc_flags(a, 2)]


@decoder("msgget")
def _msgget(a: Args) -> list[str]:
    return [_ipc_key(a, 0), _ipc_flags(a, 1)]


@decoder("shmctl")
def _shmctl(a: Args) -> list[str]:
    return [a.int32(0), _ipc_cmd(a, 1, fl.SHMCTL_CMDS), a.ptr(2)]


@decoder("msgctl")
def _msgctl(a: Args) -> list[str]:
    return [a.int32(0), _ipc_cmd(a, 1, fl.MSGCTL_CMDS), a.ptr(2)]


@decoder("semctl")
def _semctl(a: Args) -> list[str]:
    return [a.int32(0), a.int32(1), _ipc_cmd(a, 2, fl.SEMCTL_CMDS), a.ptr(3)]


@decoder("getpriority")
def _getpriority(a: Args) -> list[str]:
    return [a.const(0, fl.PRIORITY_WHICH), a.int32(1)]


@decoder("setpriority")
def _setpriority(a: Args) -> list[str]:
    return [a.const(0, fl.PRIORITY_WHICH), a.int32(1), a.int32(2)]


def rusage_text(data: bytes) -> str:
    """strace's (abbreviated) struct rusage: its first two members, ru_utime and ru_stime."""
    user, system = timeval_text(data), timeval_text(data[_TIMESPEC.size :])
    return f"{{ru_utime={user}, ru_stime={system}, ...}}"


@decoder("getrusage")
def _getrusage(a: Args) -> list[str]:
    return [a.const(0, fl.RUSAGE_WHO), a.struct(1, _TIMESPEC_PAIR, rusage_text, at_exit=True)]


@decoder("eventfd")
def _eventfd(a: Args) -> list[str]:
    return [a.uint32(0)]


@decoder("epoll_create")
def _epoll_create(a: Args) -> list[str]:
    return [a.int32(0)]


@decoder("epoll_create1")
def _epoll_create1(a: Args) -> list[str]:
    return [a.flags(0, fl.EPOLL_CREATE_FLAGS)]


_EPOLL_EVENT = Struct("<IQ")  # struct epoll_event: packed on x86_64, 12 bytes
_EPOLL_EVENTS_COPIED: Final = 20  # what CAPTURE_OUT_WORDS | 30 holds of epoll_wait's array


def _epoll_event_text(events: int, data: int) -> str:
    return (
        f"{{events={fl.flags(events, fl.EPOLL_EVENTS)}, "
        f"data={{u32={data & 0xFFFFFFFF}, u64={data}}}}}"
    )


def epoll_event_text(data: bytes) -> str:
    return _epoll_event_text(*_EPOLL_EVENT.unpack_from(data))


@decoder("epoll_ctl")
def _epoll_ctl(a: Args) -> list[str]:
    event = a.struct(3, _EPOLL_EVENT.size, epoll_event_text)
    return [a.fd(0), a.const(1, fl.EPOLL_CTL), a.fd(2), event]


def _ready_events(a: Args, i: int) -> str:
    """The events epoll_wait wrote: as many as it returned (the first 20 of them)."""
    data = None if a.failed else a.copied(i)
    if not a.raw(i) or data is None or a.retval is None or a.bits != 64:
        return a.ptr(i)
    shown = min(a.retval, _EPOLL_EVENTS_COPIED, len(data) // _EPOLL_EVENT.size)
    items = [
        _epoll_event_text(*_EPOLL_EVENT.unpack_from(data, k * _EPOLL_EVENT.size))
        for k in range(shown)
    ]
    return a.shown(i, "[" + ", ".join([*items, "..."] if shown < a.retval else items) + "]")


@decoder("epoll_wait")
def _epoll_wait(a: Args) -> list[str]:
    return [a.fd(0), _ready_events(a, 1), a.int32(2), a.int32(3)]


@decoder("epoll_pwait")
def _epoll_pwait(a: Args) -> list[str]:
    return [*_epoll_wait(a), a.struct(4, 8, _sigset), a.ulong(5)]


@decoder("epoll_pwait2")
def _epoll_pwait2(a: Args) -> list[str]:
    return [a.fd(0), a.ptr(1), a.int32(2), a.ptr(3), a.ptr(4), a.ulong(5)]


_POLLFD = Struct("<ihh")  # struct pollfd: fd, events, revents


def _pollfds(a: Args) -> str:
    """poll's array at entry: ``[{fd=3, events=POLLIN}]``, at most the string limit of them."""
    data = a.copied(0)
    if not a.raw(0):
        return a.shown(0, "NULL")
    if data is None or a.bits != 64:
        return a.ptr(0)
    count = min(a.u32(1), len(data) // 8)
    shown = count if a.limit is None else min(count, a.limit)
    items = [
        f"{{fd={fd}, events={fl.flags(events & 0xFFFF, fl.POLL_EVENTS)}}}"
        for fd, events, _revents in _POLLFD.iter_unpack(data[: shown * 8])
    ]
    if shown < a.u32(1):
        items.append("...")
    return a.shown(0, "[" + ", ".join(items) + "]")


@decoder("poll")
def _poll(a: Args) -> list[str]:
    return [_pollfds(a), a.uint32(1), a.int32(2)]


@decoder("ppoll")
def _ppoll(a: Args) -> list[str]:
    return [
        _pollfds(a),
        a.uint32(1),
        a.struct(2, 16, timespec_text),
        a.struct(3, 8, _sigset),
        a.ulong(4),
    ]


@decoder("pselect6")
def _pselect6(a: Args) -> list[str]:
    sets = [_fdset(a, i) for i in (1, 2, 3)]
    return [a.int32(0), *sets, a.struct(4, 16, timespec_text), a.ptr(5)]


@decoder("select")
def _select(a: Args) -> list[str]:
    sets = [_fdset(a, i) for i in (1, 2, 3)]
    return [a.int32(0), *sets, a.struct(4, 16, timeval_text)]


def known_syscalls() -> Sequence[str]:
    """The names that have a registered decoder, sorted."""
    return sorted(DECODERS)


__all__ = [
    "DECODERS",
    "RESULT_DECODERS",
    "Args",
    "Call",
    "CallLike",
    "Decoder",
    "Shown",
    "arguments",
    "decoder",
    "decoder_for",
    "known_syscalls",
    "line",
    "param_index",
    "plain_arguments",
    "result",
    "result_decoder",
]
