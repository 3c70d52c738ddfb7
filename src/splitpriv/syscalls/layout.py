"""How strace lays out one syscall line: what it prints at entry, what at exit, and where the
result goes.

strace prints a call in two halves: at syscall entry the name and the arguments it can decode
then (``read(3, ``), at exit the rest (``"data"..., 832) = 832``). When another task prints in
between, the first half ends with `` <unfinished ...>`` and the second starts a new line with
``<... read resumed>``. :data:`ENTRY_ARGS` says, for the calls whose decoders wait for the exit,
how many arguments (of the ones strace prints) are printed at entry and whether the separator
after them belongs to the entry half (``wait4(9748, `` / ``<... wait4 resumed>[...], 0, NULL)``)
or to the exit half (``clone(child_stack=NULL, flags=...`` / ``<... clone resumed>, child_tidptr=
...)``). Every other call prints all its arguments at entry.

The result column: strace pads the line to column :data:`DEFAULT_COLUMN` (``-a``) after the
closing ``) `` and prints ``= result`` there; a longer line gets a single space.

Pure data and string functions: nothing here touches a process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

DEFAULT_COLUMN: Final = 40

# name -> (arguments printed at entry, the ", " after them printed at entry too)
ENTRY_ARGS: Final[Mapping[str, tuple[int, bool]]] = MappingProxyType(
    {
        # buffers and structures the kernel fills
        "read": (1, True),
        "pread64": (1, True),
        "readv": (1, True),
        "preadv": (1, True),
        "preadv2": (1, True),
        "recvfrom": (1, True),
        "recvmsg": (1, True),
        "recvmmsg": (1, True),
        "getdents": (1, True),
        "getdents64": (1, True),
        "readlink": (1, True),
        "readlinkat": (2, True),
        "getcwd": (0, False),
        "stat": (1, True),
        "lstat": (1, True),
        "fstat": (1, True),
        "newfstatat": (2, True),
        "statx": (4, True),
        "statfs": (1, True),
        "fstatfs": (1, True),
        "uname": (0, False),
        "sysinfo": (0, False),
        "times": (0, False),
        "getrandom": (0, False),
        "pipe": (0, False),
        "pipe2": (0, False),
        "socketpair": (3, True),
        "accept": (1, True),
        "accept4": (1, True),
        "getsockname": (1, True),
        "getpeername": (1, True),
        "getsockopt": (3, True),
        "ioctl": (2, True),
        "epoll_wait": (1, True),
        "epoll_pwait": (1, True),
        "epoll_pwait2": (1, True),
        "getresuid": (0, False),
        "getresgid": (0, False),
        "getgroups": (1, True),
        "sched_getaffinity": (2, True),
        "getrlimit": (1, True),
        "prlimit64": (3, True),
        "getitimer": (1, True),
        "setitimer": (2, True),
        "timer_gettime": (1, True),
        "timerfd_gettime": (1, True),
        "clock_gettime": (1, True),
        "clock_getres": (1, True),
        "gettimeofday": (0, False),
        # waiting and sleeping: what happened is known at exit
        "wait4": (1, True),
        "waitid": (2, True),
        "nanosleep": (1, True),
        "clock_nanosleep": (3, True),
        "rt_sigtimedwait": (1, True),
        # old values written back
        "rt_sigprocmask": (2, True),
        "rt_sigaction": (2, True),
        "sigaltstack": (1, True),
        "rt_sigpending": (0, False),
        # process creation: the child's ids are known at exit
        "clone": (2, False),
        "clone3": (1, False),
    }
)


# Calls whose last entry argument strace ends at exit with `` => {...}``: what the kernel wrote
# back into the struct it read.
WRITTEN_BACK: Final = frozenset({"clone3"})


def split(name: str, args: Sequence[str]) -> tuple[str, str]:
    """The two halves of ``name(args)``: what strace prints at entry, and at exit (ending with
    the closing parenthesis). Joined they give the whole call."""
    count, sep_at_entry = ENTRY_ARGS.get(name, (len(args), False))
    if name in WRITTEN_BACK and 0 < count <= len(args):
        # strace's `{...} => {parent_tid=[N]}`: the part after " => " is printed at exit.
        before, arrow, after = args[count - 1].partition(" => ")
        if arrow:
            args = [*args[: count - 1], before, *args[count:]]
            head, tail = split(name, args)
            return head, arrow + after + tail
    if count >= len(args):
        return f"{name}({', '.join(args)}", ")"
    head = ", ".join(args[:count])
    tail = ", ".join(args[count:])
    if count == 0:
        return f"{name}(", f"{tail})"
    if sep_at_entry:
        return f"{name}({head}, ", f"{tail})"
    return f"{name}({head}", f", {tail})"


def pad(line_so_far: int, column: int = DEFAULT_COLUMN) -> str:
    """The spaces strace puts after ``) `` so that ``= result`` starts at ``column``."""
    return " " * (column - line_so_far) if line_so_far < column else ""


__all__ = ["DEFAULT_COLUMN", "ENTRY_ARGS", "pad", "split"]
