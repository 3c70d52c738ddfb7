"""Named constants and flag sets of syscall arguments, printed the way strace prints them.

The tables are plain data: ``(name, value)`` pairs in strace's printing order (its
``src/xlat/*.in`` files, x86 values), and the text strace puts in a comment when a value has no
name (``O_???``). Two functions print with them:

* :func:`flags` prints a bit set: the names of the bits that are set joined by ``|`` in table
  order, leftover bits as ``|0x...``; zero as the table's zero-valued name, or ``0``; a value
  with no known bit at all as ``0x... /* O_??? */``.
* :func:`constant` prints one named value: its name, or ``0x... /* SEEK_??? */``.

A few arguments mix a value and bits (open's access mode, mmap's type, a socket's type, clone's
exit signal, a file mode); each has its own function here. Nothing in this module reads a process.
"""

from __future__ import annotations

from typing import Final


class Table:
    """A strace "xlat": names and values in printing order, and the comment for unknown values.

    (A plain class, not a dataclass: defining one costs about half a millisecond of every
    ``splitpriv trace`` start.)"""

    __slots__ = ("_flag_texts", "_names", "entries", "unknown")

    def __init__(self, entries: tuple[tuple[str, int], ...], unknown: str | None = None) -> None:
        self.entries = entries
        self.unknown = unknown
        self._names: dict[int, str] | None = None
        # :func:`flags`' texts of the values seen so far (programs repeat a few sets: the
        # trace runner prints them for every open, stat and mmap).
        self._flag_texts: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"Table({self.entries!r}, {self.unknown!r})"

    def name(self, value: int) -> str | None:
        """The first name whose value is exactly ``value``."""
        names = self._names
        if names is None:
            names = self._names = {}
            for name, known in self.entries:
                names.setdefault(known, name)
        return names.get(value)

    def value(self, name: str) -> int:
        """The value of ``name`` (KeyError when the table has no such name)."""
        for known, value in self.entries:
            if known == name:
                return value
        raise KeyError(name)


def _table(unknown: str | None, *entries: tuple[str, int]) -> Table:
    return Table(tuple(entries), unknown)


def _sequence(unknown: str | None, *names: str, start: int = 0) -> Table:
    """Names of consecutive values from ``start`` (an empty name is a hole)."""
    return Table(tuple((n, start + i) for i, n in enumerate(names) if n), unknown)


def hexnum(value: int) -> str:
    """C's ``%#x``: ``0x1f``, and ``0`` (not ``0x0``) for zero."""
    return hex(value) if value else "0"


def octal_mode(value: int) -> str:
    """C's ``%#03o``, strace's numeric mode: ``0644``, ``000`` for zero, ``007``."""
    text = "0" + format(value, "o") if value else "0"
    return text.rjust(3, "0")


def flags(value: int, table: Table, *, unknown: str | None = "") -> str:
    """A bit set: ``O_CREAT|O_CLOEXEC``, ``PROT_READ|0x40``, ``0``, ``0x40 /* PROT_??? */``.

    ``unknown`` overrides the table's comment for a value with no named bit (None: no comment).
    """
    if unknown == "":
        seen = table._flag_texts
        text = seen.get(value)
        if text is None:
            text = _flags(value, table, table.unknown)
            if len(seen) < _FLAG_TEXTS_KEPT:  # values come from the tracee: keep a bounded few
                seen[value] = text
        return text
    return _flags(value, table, unknown)


_FLAG_TEXTS_KEPT: Final = 256


def _flags(value: int, table: Table, comment: str | None) -> str:
    if value == 0:
        zero = table.name(0)
        return zero if zero is not None else "0"
    names = []
    left = value
    for name, bits in table.entries:
        if bits and left & bits == bits:
            names.append(name)
            left &= ~bits
            if not left:
                break
    if names:
        if left:
            names.append(hex(left))
        return "|".join(names)
    return hex(value) + (f" /* {comment} */" if comment else "")


def constant(value: int, table: Table, *, decimal: bool = False, unknown: str | None = "") -> str:
    """One named value: ``SEEK_SET``; unknown: ``0x5 /* SEEK_??? */`` (``5`` when decimal)."""
    name = table.name(value)
    if name is not None:
        return name
    comment = table.unknown if unknown == "" else unknown
    raw = str(value) if decimal else hexnum(value)
    return raw + (f" /* {comment} */" if comment else "")


# --- files ----------------------------------------------------------------------------------

OPEN_ACCESS: Final = _table(None, ("O_RDONLY", 0), ("O_WRONLY", 1), ("O_RDWR", 2), ("O_ACCMODE", 3))

# Kernel values (O_LARGEFILE included: glibc defines it as 0 on x86_64, the kernel does not).
O_CREAT: Final = 0o100
O_DIRECTORY: Final = 0o200000
O_CLOEXEC: Final = 0o2000000
O_NONBLOCK: Final = 0o4000
O_TMPFILE_BIT: Final = 0o20000000  # __O_TMPFILE
OPEN_FLAGS: Final = _table(
    "O_???",
    ("O_CREAT", O_CREAT),
    ("O_EXCL", 0o200),
    ("O_NOCTTY", 0o400),
    ("O_TRUNC", 0o1000),
    ("O_APPEND", 0o2000),
    ("O_NONBLOCK", O_NONBLOCK),
    ("O_SYNC", 0o4010000),
    ("__O_SYNC", 0o4000000),
    ("O_DSYNC", 0o10000),
    ("O_DIRECT", 0o40000),
    ("O_LARGEFILE", 0o100000),
    ("O_NOFOLLOW", 0o400000),
    ("O_NOATIME", 0o1000000),
    ("O_CLOEXEC", O_CLOEXEC),
    ("O_PATH", 0o10000000),
    ("O_TMPFILE", O_TMPFILE_BIT | O_DIRECTORY),
    ("__O_TMPFILE", O_TMPFILE_BIT),
    ("O_DIRECTORY", O_DIRECTORY),
    ("FASYNC", 0o20000),
)


def open_flags(value: int) -> str:
    """open(2) flags: the access mode first (``O_RDONLY`` is 0), then the flag bits."""
    value &= 0xFFFFFFFF
    access = OPEN_ACCESS.name(value & 3)
    rest = value & ~3
    if access is None:  # unreachable: all four access values have names
        return flags(rest, OPEN_FLAGS)
    if not rest:
        return access
    return access + "|" + flags(rest, OPEN_FLAGS, unknown=None)


AT_FDCWD: Final = -100
AT_FLAGS: Final = _table(
    "AT_???",
    ("AT_SYMLINK_NOFOLLOW", 0x100),
    ("AT_REMOVEDIR", 0x200),
    ("AT_SYMLINK_FOLLOW", 0x400),
    ("AT_NO_AUTOMOUNT", 0x800),
    ("AT_EMPTY_PATH", 0x1000),
    ("AT_RECURSIVE", 0x8000),
)
FACCESSAT_FLAGS: Final = _table(
    "AT_???", ("AT_SYMLINK_NOFOLLOW", 0x100), ("AT_EACCESS", 0x200), ("AT_EMPTY_PATH", 0x1000)
)
AT_STATX_SYNC_TYPE: Final = 0x6000
STATX_SYNC: Final = _table(
    None,
    ("AT_STATX_SYNC_AS_STAT", 0),
    ("AT_STATX_FORCE_SYNC", 0x2000),
    ("AT_STATX_DONT_SYNC", 0x4000),
)
STATX_ATTRIBUTES: Final = _table(
    None,
    ("STATX_ATTR_COMPRESSED", 0x4),
    ("STATX_ATTR_IMMUTABLE", 0x10),
    ("STATX_ATTR_APPEND", 0x20),
    ("STATX_ATTR_NODUMP", 0x40),
    ("STATX_ATTR_ENCRYPTED", 0x800),
    ("STATX_ATTR_AUTOMOUNT", 0x1000),
    ("STATX_ATTR_MOUNT_ROOT", 0x2000),
    ("STATX_ATTR_VERITY", 0x100000),
    ("STATX_ATTR_DAX", 0x200000),
)

STATX_MASK: Final = _table(
    "STATX_???",
    ("STATX_ALL", 0xFFF),
    ("STATX_BASIC_STATS", 0x7FF),
    ("STATX_TYPE", 0x1),
    ("STATX_MODE", 0x2),
    ("STATX_NLINK", 0x4),
    ("STATX_UID", 0x8),
    ("STATX_GID", 0x10),
    ("STATX_ATIME", 0x20),
    ("STATX_MTIME", 0x40),
    ("STATX_CTIME", 0x80),
    ("STATX_INO", 0x100),
    ("STATX_SIZE", 0x200),
    ("STATX_BLOCKS", 0x400),
    ("STATX_BTIME", 0x800),
    ("STATX_MNT_ID", 0x1000),
    ("STATX_DIOALIGN", 0x2000),
    ("STATX_MNT_ID_UNIQUE", 0x4000),
    ("STATX_SUBVOL", 0x8000),
    ("STATX_WRITE_ATOMIC", 0x10000),
    ("STATX_DIO_READ_ALIGN", 0x20000),
)


def statx_flags(value: int) -> str:
    """statx(2) flags: the sync type (``AT_STATX_SYNC_AS_STAT`` is 0), then AT_* bits."""
    value &= 0xFFFFFFFF
    text = flags(value & AT_STATX_SYNC_TYPE, STATX_SYNC)
    rest = value & ~AT_STATX_SYNC_TYPE
    return text + "|" + flags(rest, AT_FLAGS, unknown=None) if rest else text


ACCESS_MODES: Final = _table("?_OK", ("F_OK", 0), ("R_OK", 4), ("W_OK", 2), ("X_OK", 1))

S_IFMT: Final = 0o170000
FILE_TYPES: Final = _table(
    None,
    ("S_IFREG", 0o100000),
    ("S_IFSOCK", 0o140000),
    ("S_IFIFO", 0o10000),
    ("S_IFLNK", 0o120000),
    ("S_IFDIR", 0o40000),
    ("S_IFBLK", 0o60000),
    ("S_IFCHR", 0o20000),
)


def mode(value: int) -> str:
    """A permission mode as strace prints it for open/mkdir/chmod/umask: ``0644``, ``000``."""
    return octal_mode(value & 0xFFFFFFFF)


def file_mode(value: int) -> str:
    """A mode with its file type, as for mknod: ``S_IFREG|0644``, ``S_IFCHR|S_ISUID|0600``."""
    value &= 0xFFFFFFFF
    kind = value & S_IFMT
    type_name = FILE_TYPES.name(kind) if kind else ""
    if type_name is None:
        return octal_mode(value)
    parts = [type_name] if type_name else []
    for bit, name in ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")):
        if value & bit:
            parts.append(name)
    parts.append(octal_mode(value & ~(S_IFMT | 0o7000)))
    return "|".join(parts)


WHENCE: Final = _sequence("SEEK_???", "SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE")

FCNTL_COMMANDS: Final = _table(
    "F_???",
    ("F_DUPFD", 0),
    ("F_GETFD", 1),
    ("F_SETFD", 2),
    ("F_GETFL", 3),
    ("F_SETFL", 4),
    ("F_GETLK", 5),
    ("F_SETLK", 6),
    ("F_SETLKW", 7),
    ("F_SETOWN", 8),
    ("F_GETOWN", 9),
    ("F_SETSIG", 10),
    ("F_GETSIG", 11),
    ("F_GETLK64", 12),
    ("F_SETLK64", 13),
    ("F_SETLKW64", 14),
    ("F_SETOWN_EX", 15),
    ("F_GETOWN_EX", 16),
    ("F_GETOWNER_UIDS", 17),
    ("F_OFD_GETLK", 36),
    ("F_OFD_SETLK", 37),
    ("F_OFD_SETLKW", 38),
    ("F_SETLEASE", 1024),
    ("F_GETLEASE", 1025),
    ("F_NOTIFY", 1026),
    ("F_DUPFD_QUERY", 1027),
    ("F_CREATED_QUERY", 1028),
    ("F_CANCELLK", 1029),
    ("F_DUPFD_CLOEXEC", 1030),
    ("F_SETPIPE_SZ", 1031),
    ("F_GETPIPE_SZ", 1032),
    ("F_ADD_SEALS", 1033),
    ("F_GET_SEALS", 1034),
)
FD_FLAGS: Final = _table("FD_???", ("FD_CLOEXEC", 1))
LOCK_TYPES: Final = _table(
    "F_???", ("F_RDLCK", 0), ("F_WRLCK", 1), ("F_UNLCK", 2), ("F_EXLCK", 4), ("F_SHLCK", 8)
)
SEALS: Final = _table(
    "F_SEAL_???",
    ("F_SEAL_SEAL", 1),
    ("F_SEAL_SHRINK", 2),
    ("F_SEAL_GROW", 4),
    ("F_SEAL_WRITE", 8),
    ("F_SEAL_FUTURE_WRITE", 0x10),
    ("F_SEAL_EXEC", 0x20),
)
NOTIFY_FLAGS: Final = _table(
    "DN_???",
    ("DN_ACCESS", 1),
    ("DN_MODIFY", 2),
    ("DN_CREATE", 4),
    ("DN_DELETE", 8),
    ("DN_RENAME", 0x10),
    ("DN_ATTRIB", 0x20),
    ("DN_MULTISHOT", 0x80000000),
)
FLOCK_OPS: Final = _table(
    "LOCK_???", ("LOCK_SH", 1), ("LOCK_EX", 2), ("LOCK_NB", 4), ("LOCK_UN", 8)
)
RENAME_FLAGS: Final = _table(
    "RENAME_???", ("RENAME_NOREPLACE", 1), ("RENAME_EXCHANGE", 2), ("RENAME_WHITEOUT", 4)
)
FADVISE: Final = _sequence(
    "POSIX_FADV_???",
    "POSIX_FADV_NORMAL",
    "POSIX_FADV_RANDOM",
    "POSIX_FADV_SEQUENTIAL",
    "POSIX_FADV_WILLNEED",
    "POSIX_FADV_DONTNEED",
    "POSIX_FADV_NOREUSE",
)

# pipe2 and dup3 print their flags with the open flag table (not the access modes).
PIPE_FLAGS: Final = OPEN_FLAGS

# --- memory ---------------------------------------------------------------------------------

PROT: Final = _table(
    "PROT_???",
    ("PROT_NONE", 0),
    ("PROT_READ", 1),
    ("PROT_WRITE", 2),
    ("PROT_EXEC", 4),
    ("PROT_SEM", 8),
    ("PROT_GROWSDOWN", 0x01000000),
    ("PROT_GROWSUP", 0x02000000),
)
MAP_TYPE: Final = 0xF
MAP_HUGE_SHIFT: Final = 26
MAP_HUGE_MASK: Final = 0x3F
MAP: Final = _table(
    "MAP_???",
    ("MAP_SHARED", 0x1),
    ("MAP_PRIVATE", 0x2),
    ("MAP_SHARED_VALIDATE", 0x3),
    ("MAP_DROPPABLE", 0x8),
    ("MAP_FIXED", 0x10),
    ("MAP_ANONYMOUS", 0x20),
    ("MAP_32BIT", 0x40),
    ("MAP_ABOVE4G", 0x80),
    ("MAP_NORESERVE", 0x4000),
    ("MAP_POPULATE", 0x8000),
    ("MAP_NONBLOCK", 0x10000),
    ("MAP_GROWSDOWN", 0x100),
    ("MAP_DENYWRITE", 0x800),
    ("MAP_EXECUTABLE", 0x1000),
    ("MAP_FILE", 0),
    ("MAP_LOCKED", 0x2000),
    ("MAP_STACK", 0x20000),
    ("MAP_HUGETLB", 0x40000),
    ("MAP_SYNC", 0x80000),
    ("MAP_UNINITIALIZED", 0x4000000),
    ("MAP_FIXED_NOREPLACE", 0x100000),
)


def mmap_flags(value: int) -> str:
    """mmap(2) flags: the mapping type, the flag bits, and the huge page size as a shift."""
    value &= 0xFFFFFFFFFFFFFFFF
    text = constant(value & MAP_TYPE, MAP)
    rest = value & ~MAP_TYPE
    huge = rest & (MAP_HUGE_MASK << MAP_HUGE_SHIFT) & 0xFFFFFFFF
    rest &= ~huge
    if rest:
        text += "|" + flags(rest, MAP, unknown=None)
    if huge:
        text += f"|{huge >> MAP_HUGE_SHIFT}<<MAP_HUGE_SHIFT"
    return text


MREMAP_FLAGS: Final = _table(
    "MREMAP_???", ("MREMAP_MAYMOVE", 1), ("MREMAP_FIXED", 2), ("MREMAP_DONTUNMAP", 4)
)
MSYNC_FLAGS: Final = _table("MS_???", ("MS_ASYNC", 1), ("MS_INVALIDATE", 2), ("MS_SYNC", 4))
MADVISE: Final = _table(
    "MADV_???",
    ("MADV_NORMAL", 0),
    ("MADV_RANDOM", 1),
    ("MADV_SEQUENTIAL", 2),
    ("MADV_WILLNEED", 3),
    ("MADV_DONTNEED", 4),
    ("MADV_FREE", 8),
    ("MADV_REMOVE", 9),
    ("MADV_DONTFORK", 10),
    ("MADV_DOFORK", 11),
    ("MADV_MERGEABLE", 12),
    ("MADV_UNMERGEABLE", 13),
    ("MADV_HUGEPAGE", 14),
    ("MADV_NOHUGEPAGE", 15),
    ("MADV_DONTDUMP", 16),
    ("MADV_DODUMP", 17),
    ("MADV_WIPEONFORK", 18),
    ("MADV_KEEPONFORK", 19),
    ("MADV_COLD", 20),
    ("MADV_PAGEOUT", 21),
    ("MADV_POPULATE_READ", 22),
    ("MADV_POPULATE_WRITE", 23),
    ("MADV_DONTNEED_LOCKED", 24),
    ("MADV_COLLAPSE", 25),
    ("MADV_HWPOISON", 100),
    ("MADV_SOFT_OFFLINE", 101),
    ("MADV_GUARD_INSTALL", 102),
    ("MADV_GUARD_REMOVE", 103),
)
MEMFD_FLAGS: Final = _table(
    "MFD_???",
    ("MFD_CLOEXEC", 1),
    ("MFD_ALLOW_SEALING", 2),
    ("MFD_HUGETLB", 4),
    ("MFD_NOEXEC_SEAL", 8),
    ("MFD_EXEC", 0x10),
)


def memfd_flags(value: int) -> str:
    """memfd_create(2) flags, with the huge page size as ``N<<MFD_HUGE_SHIFT``."""
    value &= 0xFFFFFFFF
    huge = value & (0x3F << 26)
    rest = value & ~huge
    text = flags(rest, MEMFD_FLAGS) if rest or not huge else ""
    if huge:
        text += ("|" if rest else "") + f"{huge >> 26}<<MFD_HUGE_SHIFT"
    return text


# --- processes and signals ------------------------------------------------------------------

CLONE: Final = _table(
    "CLONE_???",
    ("CLONE_VM", 0x100),
    ("CLONE_FS", 0x200),
    ("CLONE_FILES", 0x400),
    ("CLONE_SIGHAND", 0x800),
    ("CLONE_PIDFD", 0x1000),
    ("CLONE_PTRACE", 0x2000),
    ("CLONE_VFORK", 0x4000),
    ("CLONE_PARENT", 0x8000),
    ("CLONE_THREAD", 0x10000),
    ("CLONE_NEWNS", 0x20000),
    ("CLONE_SYSVSEM", 0x40000),
    ("CLONE_SETTLS", 0x80000),
    ("CLONE_PARENT_SETTID", 0x100000),
    ("CLONE_CHILD_CLEARTID", 0x200000),
    ("CLONE_UNTRACED", 0x800000),
    ("CLONE_CHILD_SETTID", 0x1000000),
    ("CLONE_NEWCGROUP", 0x2000000),
    ("CLONE_NEWUTS", 0x4000000),
    ("CLONE_NEWIPC", 0x8000000),
    ("CLONE_NEWUSER", 0x10000000),
    ("CLONE_NEWPID", 0x20000000),
    ("CLONE_NEWNET", 0x40000000),
    ("CLONE_IO", 0x80000000),
    # clone3 only
    ("CLONE_CLEAR_SIGHAND", 0x100000000),
    ("CLONE_INTO_CGROUP", 0x200000000),
    ("CLONE_NEWTIME", 0x80),
)
CSIGNAL: Final = 0xFF

# strace's names (its signalent): 32 is SIGRTMIN, 33.. are SIGRT_1...
SIGNALS: Final = _sequence(
    None,
    "",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
    "SIGRTMIN",
)
SIGRTMIN_KERNEL: Final = 32
SIGRTMAX_KERNEL: Final = 64


def signal_name(number: int) -> str | None:
    """strace's name of a signal number (``SIGRT_3`` for realtime ones), or None."""
    if number <= 0:
        return None
    name = SIGNALS.name(number)
    if name is not None:
        return name
    if SIGRTMIN_KERNEL <= number <= SIGRTMAX_KERNEL:
        return f"SIGRT_{number - SIGRTMIN_KERNEL}"
    return None


def signal(number: int) -> str:
    """A signal argument: its name, or the number in decimal (``0`` for kill's probe)."""
    number = _s32(number)
    name = signal_name(number)
    return name if name is not None else str(number)


def clone_flags(value: int) -> str:
    """clone(2) flags: the CLONE_* bits, then the exit signal of the low byte (``SIGCHLD``)."""
    value &= 0xFFFFFFFFFFFFFFFF
    sig = value & CSIGNAL
    bits = value & ~CSIGNAL
    if not bits:
        return signal(sig)
    text = flags(bits, CLONE)
    return text + "|" + signal(sig) if sig else text


# struct pollfd's events and revents.
POLL_EVENTS: Final = _table(
    None,
    ("POLLIN", 0x1),
    ("POLLPRI", 0x2),
    ("POLLOUT", 0x4),
    ("POLLERR", 0x8),
    ("POLLHUP", 0x10),
    ("POLLNVAL", 0x20),
    ("POLLRDNORM", 0x40),
    ("POLLRDBAND", 0x80),
    ("POLLWRNORM", 0x100),
    ("POLLWRBAND", 0x200),
    ("POLLMSG", 0x400),
    ("POLLREMOVE", 0x1000),
    ("POLLRDHUP", 0x2000),
)

# stack_t's ss_flags.
SS_FLAGS: Final = _table(None, ("SS_ONSTACK", 1), ("SS_DISABLE", 2), ("SS_AUTODISARM", 0x80000000))

# struct sigaction's sa_flags, in strace's order.
SIGACTION_FLAGS: Final = _table(
    None,
    ("SA_RESTORER", 0x04000000),
    ("SA_ONSTACK", 0x08000000),
    ("SA_RESTART", 0x10000000),
    ("SA_NODEFER", 0x40000000),
    ("SA_RESETHAND", 0x80000000),
    ("SA_SIGINFO", 4),
    ("SA_NOCLDSTOP", 1),
    ("SA_NOCLDWAIT", 2),
)

SIGPROCMASK_HOW: Final = _sequence("SIG_???", "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK")

WAIT_OPTIONS: Final = _table(
    "W???",
    ("WNOHANG", 1),
    ("WEXITED", 4),
    ("WSTOPPED", 2),
    ("WCONTINUED", 8),
    ("WNOWAIT", 0x1000000),
    ("__WCLONE", 0x80000000),
    ("__WALL", 0x40000000),
    ("__WNOTHREAD", 0x20000000),
)

FUTEX_PRIVATE_FLAG: Final = 128
FUTEX_CLOCK_REALTIME: Final = 256
FUTEX_CMD_MASK: Final = 127
_FUTEX_BASE = (
    "FUTEX_WAIT",
    "FUTEX_WAKE",
    "FUTEX_FD",
    "FUTEX_REQUEUE",
    "FUTEX_CMP_REQUEUE",
    "FUTEX_WAKE_OP",
    "FUTEX_LOCK_PI",
    "FUTEX_UNLOCK_PI",
    "FUTEX_TRYLOCK_PI",
    "FUTEX_WAIT_BITSET",
    "FUTEX_WAKE_BITSET",
    "FUTEX_WAIT_REQUEUE_PI",
    "FUTEX_CMP_REQUEUE_PI",
    "FUTEX_LOCK_PI2",
)
_FUTEX_REALTIME = ("FUTEX_WAIT", "FUTEX_WAIT_BITSET", "FUTEX_WAIT_REQUEUE_PI")
FUTEX_OPS: Final = Table(
    tuple((name, i) for i, name in enumerate(_FUTEX_BASE))
    + tuple(
        ("FUTEX_FD|FUTEX_PRIVATE_FLAG" if name == "FUTEX_FD" else f"{name}_PRIVATE", i | 128)
        for i, name in enumerate(_FUTEX_BASE)
    )
    + tuple(
        (f"{name}{private}|FUTEX_CLOCK_REALTIME", _FUTEX_BASE.index(name) | flag | 256)
        for name in _FUTEX_REALTIME
        for private, flag in (("", 0), ("_PRIVATE", 128))
    ),
    "FUTEX_???",
)
FUTEX_BITSET: Final = _table(None, ("FUTEX_BITSET_MATCH_ANY", 0xFFFFFFFF))
FUTEX_WAKE_OPS: Final = _sequence(
    None, "FUTEX_OP_SET", "FUTEX_OP_ADD", "FUTEX_OP_OR", "FUTEX_OP_ANDN", "FUTEX_OP_XOR"
)
FUTEX_WAKE_CMPS: Final = _sequence(
    None,
    "FUTEX_OP_CMP_EQ",
    "FUTEX_OP_CMP_NE",
    "FUTEX_OP_CMP_LT",
    "FUTEX_OP_CMP_LE",
    "FUTEX_OP_CMP_GT",
    "FUTEX_OP_CMP_GE",
)

ARCH_PRCTL: Final = _table(
    "ARCH_???",
    ("ARCH_SET_GS", 0x1001),
    ("ARCH_SET_FS", 0x1002),
    ("ARCH_GET_FS", 0x1003),
    ("ARCH_GET_GS", 0x1004),
    ("ARCH_GET_CPUID", 0x1011),
    ("ARCH_SET_CPUID", 0x1012),
    ("ARCH_GET_XCOMP_SUPP", 0x1021),
    ("ARCH_GET_XCOMP_PERM", 0x1022),
    ("ARCH_REQ_XCOMP_PERM", 0x1023),
    ("ARCH_GET_XCOMP_GUEST_PERM", 0x1024),
    ("ARCH_REQ_XCOMP_GUEST_PERM", 0x1025),
    ("ARCH_MAP_VDSO_X32", 0x2001),
    ("ARCH_MAP_VDSO_32", 0x2002),
    ("ARCH_MAP_VDSO_64", 0x2003),
    ("ARCH_GET_UNTAG_MASK", 0x4001),
    ("ARCH_ENABLE_TAGGED_ADDR", 0x4002),
    ("ARCH_GET_MAX_TAG_BITS", 0x4003),
    ("ARCH_FORCE_TAGGED_SVA", 0x4004),
    ("ARCH_SHSTK_ENABLE", 0x5001),
    ("ARCH_SHSTK_DISABLE", 0x5002),
    ("ARCH_SHSTK_LOCK", 0x5003),
    ("ARCH_SHSTK_UNLOCK", 0x5004),
    ("ARCH_SHSTK_STATUS", 0x5005),
)

# prctl's options (linux/prctl.h), and what some of them take.
PRCTL_OPTIONS: Final = _table(
    "PR_???",
    ("PR_SET_PDEATHSIG", 1),
    ("PR_GET_PDEATHSIG", 2),
    ("PR_GET_DUMPABLE", 3),
    ("PR_SET_DUMPABLE", 4),
    ("PR_GET_UNALIGN", 5),
    ("PR_SET_UNALIGN", 6),
    ("PR_GET_KEEPCAPS", 7),
    ("PR_SET_KEEPCAPS", 8),
    ("PR_GET_FPEMU", 9),
    ("PR_SET_FPEMU", 10),
    ("PR_GET_FPEXC", 11),
    ("PR_SET_FPEXC", 12),
    ("PR_GET_TIMING", 13),
    ("PR_SET_TIMING", 14),
    ("PR_SET_NAME", 15),
    ("PR_GET_NAME", 16),
    ("PR_GET_ENDIAN", 19),
    ("PR_SET_ENDIAN", 20),
    ("PR_GET_SECCOMP", 21),
    ("PR_SET_SECCOMP", 22),
    ("PR_CAPBSET_READ", 23),
    ("PR_CAPBSET_DROP", 24),
    ("PR_GET_TSC", 25),
    ("PR_SET_TSC", 26),
    ("PR_GET_SECUREBITS", 27),
    ("PR_SET_SECUREBITS", 28),
    ("PR_SET_TIMERSLACK", 29),
    ("PR_GET_TIMERSLACK", 30),
    ("PR_TASK_PERF_EVENTS_DISABLE", 31),
    ("PR_TASK_PERF_EVENTS_ENABLE", 32),
    ("PR_MCE_KILL", 33),
    ("PR_MCE_KILL_GET", 34),
    ("PR_SET_MM", 35),
    ("PR_SET_PTRACER", 0x59616D61),
    ("PR_SET_CHILD_SUBREAPER", 36),
    ("PR_GET_CHILD_SUBREAPER", 37),
    ("PR_SET_NO_NEW_PRIVS", 38),
    ("PR_GET_NO_NEW_PRIVS", 39),
    ("PR_GET_TID_ADDRESS", 40),
    ("PR_SET_THP_DISABLE", 41),
    ("PR_GET_THP_DISABLE", 42),
    ("PR_MPX_ENABLE_MANAGEMENT", 43),
    ("PR_MPX_DISABLE_MANAGEMENT", 44),
    ("PR_SET_FP_MODE", 45),
    ("PR_GET_FP_MODE", 46),
    ("PR_CAP_AMBIENT", 47),
    ("PR_SVE_SET_VL", 50),
    ("PR_SVE_GET_VL", 51),
    ("PR_GET_SPECULATION_CTRL", 52),
    ("PR_SET_SPECULATION_CTRL", 53),
    ("PR_PAC_RESET_KEYS", 54),
    ("PR_SET_TAGGED_ADDR_CTRL", 55),
    ("PR_GET_TAGGED_ADDR_CTRL", 56),
    ("PR_SET_IO_FLUSHER", 57),
    ("PR_GET_IO_FLUSHER", 58),
    ("PR_SET_SYSCALL_USER_DISPATCH", 59),
    ("PR_PAC_SET_ENABLED_KEYS", 60),
    ("PR_PAC_GET_ENABLED_KEYS", 61),
    ("PR_SCHED_CORE", 62),
    ("PR_SME_SET_VL", 63),
    ("PR_SME_GET_VL", 64),
    ("PR_SET_VMA", 0x53564D41),
    ("PR_SET_MDWE", 65),
    ("PR_GET_MDWE", 66),
    ("PR_SET_MEMORY_MERGE", 67),
    ("PR_GET_MEMORY_MERGE", 68),
)
SUID_DUMP: Final = _sequence(
    "SUID_DUMP_???", "SUID_DUMP_DISABLE", "SUID_DUMP_USER", "SUID_DUMP_ROOT"
)
PR_CAP_AMBIENT_OPS: Final = _sequence(
    "PR_CAP_AMBIENT_???",
    "",
    "PR_CAP_AMBIENT_IS_SET",
    "PR_CAP_AMBIENT_RAISE",
    "PR_CAP_AMBIENT_LOWER",
    "PR_CAP_AMBIENT_CLEAR_ALL",
)
SECCOMP_MODES: Final = _sequence(
    "SECCOMP_MODE_???", "SECCOMP_MODE_DISABLED", "SECCOMP_MODE_STRICT", "SECCOMP_MODE_FILTER"
)
MCE_KILL_POLICIES: Final = _sequence(
    "PR_MCE_KILL_???", "PR_MCE_KILL_LATE", "PR_MCE_KILL_EARLY", "PR_MCE_KILL_DEFAULT"
)
PR_SPEC_WHICH: Final = _sequence(
    "PR_SPEC_???", "PR_SPEC_STORE_BYPASS", "PR_SPEC_INDIRECT_BRANCH", "PR_SPEC_L1D_FLUSH"
)
PR_SPEC_STATE: Final = _table(
    "PR_SPEC_???",
    ("PR_SPEC_NOT_AFFECTED", 0),
    ("PR_SPEC_PRCTL", 1),
    ("PR_SPEC_ENABLE", 2),
    ("PR_SPEC_DISABLE", 4),
    ("PR_SPEC_FORCE_DISABLE", 8),
    ("PR_SPEC_DISABLE_NOEXEC", 16),
)
CAPABILITIES: Final = _sequence(
    "CAP_???",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
)

# statfs: the file system types (linux/magic.h; the first name of a shared number), and flags
# in strace's order.
FS_MAGIC: Final = _table(
    None,
    ("QNX4_SUPER_MAGIC", 0x2F),
    ("AUTOFS_SUPER_MAGIC", 0x187),
    ("MINIX_SUPER_MAGIC", 0x137F),
    ("MINIX_SUPER_MAGIC2", 0x138F),
    ("DEVPTS_SUPER_MAGIC", 0x1CD1),
    ("MINIX2_SUPER_MAGIC", 0x2468),
    ("MINIX2_SUPER_MAGIC2", 0x2478),
    ("NILFS_SUPER_MAGIC", 0x3434),
    ("MSDOS_SUPER_MAGIC", 0x4D44),
    ("MINIX3_SUPER_MAGIC", 0x4D5A),
    ("SMB_SUPER_MAGIC", 0x517B),
    ("NCP_SUPER_MAGIC", 0x564C),
    ("NFS_SUPER_MAGIC", 0x6969),
    ("JFFS2_SUPER_MAGIC", 0x72B6),
    ("ISOFS_SUPER_MAGIC", 0x9660),
    ("PROC_SUPER_MAGIC", 0x9FA0),
    ("OPENPROM_SUPER_MAGIC", 0x9FA1),
    ("USBDEVICE_SUPER_MAGIC", 0x9FA2),
    ("ADFS_SUPER_MAGIC", 0xADF5),
    ("AFFS_SUPER_MAGIC", 0xADFF),
    ("EXT2_SUPER_MAGIC", 0xEF53),
    ("ECRYPTFS_SUPER_MAGIC", 0xF15F),
    ("CGROUP_SUPER_MAGIC", 0x27E0EB),
    ("EFS_SUPER_MAGIC", 0x414A53),
    ("HOSTFS_SUPER_MAGIC", 0xC0FFEE),
    ("CEPH_SUPER_MAGIC", 0xC36400),
    ("TMPFS_MAGIC", 0x1021994),
    ("V9FS_MAGIC", 0x1021997),
    ("RDTGROUP_SUPER_MAGIC", 0x7655821),
    ("ANON_INODE_FS_MAGIC", 0x9041934),
    ("FUTEXFS_SUPER_MAGIC", 0xBAD1DEA),
    ("MTD_INODE_FS_MAGIC", 0x11307854),
    ("UDF_SUPER_MAGIC", 0x15013346),
    ("EXFAT_SUPER_MAGIC", 0x2011BAB0),
    ("CRAMFS_MAGIC", 0x28CD3D45),
    ("BINFMTFS_MAGIC", 0x42494E4D),
    ("SMACK_MAGIC", 0x43415D53),
    ("DMA_BUF_MAGIC", 0x444D4142),
    ("CRAMFS_MAGIC_WEND", 0x453DCD28),
    ("DEVMEM_MAGIC", 0x454D444D),
    ("PIPEFS_MAGIC", 0x50495045),
    ("REISERFS_SUPER_MAGIC", 0x52654973),
    ("SECRETMEM_MAGIC", 0x5345434D),
    ("AFS_SUPER_MAGIC", 0x5346414F),
    ("SOCKFS_MAGIC", 0x534F434B),
    ("XFS_SUPER_MAGIC", 0x58465342),
    ("AAFS_MAGIC", 0x5A3C69F0),
    ("ZONEFS_MAGIC", 0x5A4F4653),
    ("PSTOREFS_MAGIC", 0x6165676C),
    ("BDEVFS_MAGIC", 0x62646576),
    ("SYSFS_MAGIC", 0x62656572),
    ("CGROUP2_SUPER_MAGIC", 0x63677270),
    ("DEBUGFS_MAGIC", 0x64626720),
    ("DAXFS_MAGIC", 0x64646178),
    ("FUSE_SUPER_MAGIC", 0x65735546),
    ("QNX6_SUPER_MAGIC", 0x68191122),
    ("AFS_FS_MAGIC", 0x6B414653),
    ("BINDERFS_SUPER_MAGIC", 0x6C6F6F70),
    ("NSFS_MAGIC", 0x6E736673),
    ("SECURITYFS_MAGIC", 0x73636673),
    ("SQUASHFS_MAGIC", 0x73717368),
    ("CODA_SUPER_MAGIC", 0x73757245),
    ("OCFS2_SUPER_MAGIC", 0x7461636F),
    ("TRACEFS_MAGIC", 0x74726163),
    ("OVERLAYFS_SUPER_MAGIC", 0x794C7630),
    ("RAMFS_MAGIC", 0x858458F6),
    ("BTRFS_SUPER_MAGIC", 0x9123683E),
    ("HUGETLBFS_MAGIC", 0x958458F6),
    ("XENFS_SUPER_MAGIC", 0xABBA1974),
    ("BPF_FS_MAGIC", 0xCAFE4A11),
    ("EFIVARFS_MAGIC", 0xDE5E81E4),
    ("EROFS_SUPER_MAGIC_V1", 0xE0F5E1E2),
    ("F2FS_SUPER_MAGIC", 0xF2F52010),
    ("SELINUX_MAGIC", 0xF97CFF8C),
    ("HPFS_SUPER_MAGIC", 0xF995E849),
    ("SMB2_SUPER_MAGIC", 0xFE534D42),
    ("CIFS_SUPER_MAGIC", 0xFF534D42),
)
STATFS_FLAGS: Final = _table(
    "ST_???",
    ("ST_VALID", 0x20),
    ("ST_RDONLY", 0x1),
    ("ST_NOSUID", 0x2),
    ("ST_NODEV", 0x4),
    ("ST_NOEXEC", 0x8),
    ("ST_SYNCHRONOUS", 0x10),
    ("ST_MANDLOCK", 0x40),
    ("ST_NOATIME", 0x400),
    ("ST_NODIRATIME", 0x800),
    ("ST_RELATIME", 0x1000),
    ("ST_NOSYMFOLLOW", 0x2000),
)

RLIMITS: Final = _sequence(
    "RLIMIT_???",
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
)
RSEQ_FLAGS: Final = _table("RSEQ_FLAG_???", ("RSEQ_FLAG_UNREGISTER", 1))
CLOCKS: Final = _table(
    "CLOCK_???",
    ("CLOCK_REALTIME", 0),
    ("CLOCK_MONOTONIC", 1),
    ("CLOCK_PROCESS_CPUTIME_ID", 2),
    ("CLOCK_THREAD_CPUTIME_ID", 3),
    ("CLOCK_MONOTONIC_RAW", 4),
    ("CLOCK_REALTIME_COARSE", 5),
    ("CLOCK_MONOTONIC_COARSE", 6),
    ("CLOCK_BOOTTIME", 7),
    ("CLOCK_REALTIME_ALARM", 8),
    ("CLOCK_BOOTTIME_ALARM", 9),
    ("CLOCK_SGI_CYCLE", 10),
    ("CLOCK_TAI", 11),
)
TIMER_FLAGS: Final = _table("TIMER_???", ("TIMER_ABSTIME", 1))

# --- random, events, polling ----------------------------------------------------------------

GRND: Final = _table("GRND_???", ("GRND_NONBLOCK", 1), ("GRND_RANDOM", 2), ("GRND_INSECURE", 4))
EPOLL_CREATE_FLAGS: Final = _table("EPOLL_???", ("EPOLL_CLOEXEC", O_CLOEXEC))
EPOLL_EVENTS: Final = _table(
    "EPOLL???",
    ("EPOLLIN", 0x1),
    ("EPOLLPRI", 0x2),
    ("EPOLLOUT", 0x4),
    ("EPOLLERR", 0x8),
    ("EPOLLHUP", 0x10),
    ("EPOLLNVAL", 0x20),
    ("EPOLLRDNORM", 0x40),
    ("EPOLLRDBAND", 0x80),
    ("EPOLLWRNORM", 0x100),
    ("EPOLLWRBAND", 0x200),
    ("EPOLLMSG", 0x400),
    ("EPOLLRDHUP", 0x2000),
    ("EPOLLEXCLUSIVE", 1 << 28),
    ("EPOLLWAKEUP", 1 << 29),
    ("EPOLLONESHOT", 1 << 30),
    ("EPOLLET", 1 << 31),
)
EPOLL_CTL: Final = _sequence(
    "EPOLL_CTL_???", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD", start=1
)
EVENTFD_FLAGS: Final = _table(
    "EFD_???", ("EFD_SEMAPHORE", 1), ("EFD_CLOEXEC", O_CLOEXEC), ("EFD_NONBLOCK", O_NONBLOCK)
)
TFD_SETTIME_FLAGS: Final = _table(
    "TFD_???", ("TFD_TIMER_ABSTIME", 1), ("TFD_TIMER_CANCEL_ON_SET", 2)
)

TFD_FLAGS: Final = _table("TFD_???", ("TFD_CLOEXEC", O_CLOEXEC), ("TFD_NONBLOCK", O_NONBLOCK))
SFD_FLAGS: Final = _table("SFD_???", ("SFD_CLOEXEC", O_CLOEXEC), ("SFD_NONBLOCK", O_NONBLOCK))
IN_INIT_FLAGS: Final = _table("IN_???", ("IN_CLOEXEC", O_CLOEXEC), ("IN_NONBLOCK", O_NONBLOCK))
INOTIFY_MASK: Final = _table(
    "IN_???",
    ("IN_ACCESS", 0x1),
    ("IN_MODIFY", 0x2),
    ("IN_ATTRIB", 0x4),
    ("IN_CLOSE_WRITE", 0x8),
    ("IN_CLOSE_NOWRITE", 0x10),
    ("IN_OPEN", 0x20),
    ("IN_MOVED_FROM", 0x40),
    ("IN_MOVED_TO", 0x80),
    ("IN_CREATE", 0x100),
    ("IN_DELETE", 0x200),
    ("IN_DELETE_SELF", 0x400),
    ("IN_MOVE_SELF", 0x800),
    ("IN_UNMOUNT", 0x2000),
    ("IN_Q_OVERFLOW", 0x4000),
    ("IN_IGNORED", 0x8000),
    ("IN_ONLYDIR", 0x1000000),
    ("IN_DONT_FOLLOW", 0x2000000),
    ("IN_EXCL_UNLINK", 0x4000000),
    ("IN_MASK_CREATE", 0x10000000),
    ("IN_MASK_ADD", 0x20000000),
    ("IN_ISDIR", 0x40000000),
    ("IN_ONESHOT", 0x80000000),
)
SIGEV_NOTIFY: Final = _table(
    "SIGEV_???",
    ("SIGEV_SIGNAL", 0),
    ("SIGEV_NONE", 1),
    ("SIGEV_THREAD", 2),
    ("SIGEV_THREAD_ID", 4),
)
ITIMERS: Final = _sequence("ITIMER_???", "ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF")
SCHED_POLICIES: Final = _sequence(
    "SCHED_???",
    "SCHED_OTHER",
    "SCHED_FIFO",
    "SCHED_RR",
    "SCHED_BATCH",
    "SCHED_ISO",
    "SCHED_IDLE",
    "SCHED_DEADLINE",
)
IOPRIO_WHO: Final = _sequence(
    "IOPRIO_WHO_???", "IOPRIO_WHO_PROCESS", "IOPRIO_WHO_PGRP", "IOPRIO_WHO_USER", start=1
)
IOPRIO_CLASSES: Final = _sequence(
    "IOPRIO_CLASS_???",
    "IOPRIO_CLASS_NONE",
    "IOPRIO_CLASS_RT",
    "IOPRIO_CLASS_BE",
    "IOPRIO_CLASS_IDLE",
)
# linux/membarrier.h as strace 6.1 knows it (MEMBARRIER_CMD_GET_REGISTRATIONS came later).
MEMBARRIER_CMDS: Final = _table(
    "MEMBARRIER_CMD_???",
    ("MEMBARRIER_CMD_QUERY", 0),
    ("MEMBARRIER_CMD_GLOBAL", 1),
    ("MEMBARRIER_CMD_GLOBAL_EXPEDITED", 2),
    ("MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED", 4),
    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED", 8),
    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED", 16),
    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE", 32),
    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE", 64),
    ("MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ", 128),
    ("MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ", 256),
)
# linux/personality.h: the type in the low byte, then flags.
PERSONALITY_TYPES: Final = _sequence(
    "PER_???",
    "PER_LINUX",
    "PER_SVR4",
    "PER_SVR3",
    "PER_SCOSVR3",
    "PER_WYSEV386",
    "PER_ISCR4",
    "PER_BSD",
    "PER_XENIX",
    "PER_LINUX32",
    "PER_IRIX32",
    "PER_IRIXN32",
    "PER_IRIX64",
    "PER_RISCOS",
    "PER_SOLARIS",
    "PER_UW7",
    "PER_OSF4",
    "PER_HPUX",
)
PERSONALITY_FLAGS: Final = _table(
    None,
    ("UNAME26", 0x0020000),
    ("ADDR_NO_RANDOMIZE", 0x0040000),
    ("FDPIC_FUNCPTRS", 0x0080000),
    ("MMAP_PAGE_ZERO", 0x0100000),
    ("ADDR_COMPAT_LAYOUT", 0x0200000),
    ("READ_IMPLIES_EXEC", 0x0400000),
    ("ADDR_LIMIT_32BIT", 0x0800000),
    ("SHORT_INODE", 0x1000000),
    ("WHOLE_SECONDS", 0x2000000),
    ("STICKY_TIMEOUTS", 0x4000000),
    ("ADDR_LIMIT_3GB", 0x8000000),
)
FALLOC_FLAGS: Final = _table(
    "FALLOC_FL_???",
    ("FALLOC_FL_KEEP_SIZE", 0x01),
    ("FALLOC_FL_PUNCH_HOLE", 0x02),
    ("FALLOC_FL_NO_HIDE_STALE", 0x04),
    ("FALLOC_FL_COLLAPSE_RANGE", 0x08),
    ("FALLOC_FL_ZERO_RANGE", 0x10),
    ("FALLOC_FL_INSERT_RANGE", 0x20),
    ("FALLOC_FL_UNSHARE_RANGE", 0x40),
)
SYNC_FILE_RANGE_FLAGS: Final = _table(
    "SYNC_FILE_RANGE_???",
    ("SYNC_FILE_RANGE_WAIT_BEFORE", 1),
    ("SYNC_FILE_RANGE_WRITE", 2),
    ("SYNC_FILE_RANGE_WAIT_AFTER", 4),
)
SPLICE_FLAGS: Final = _table(
    "SPLICE_F_???",
    ("SPLICE_F_MOVE", 1),
    ("SPLICE_F_NONBLOCK", 2),
    ("SPLICE_F_MORE", 4),
    ("SPLICE_F_GIFT", 8),
)
MLOCK2_FLAGS: Final = _table("MLOCK_???", ("MLOCK_ONFAULT", 1))
# SysV IPC: the flags of shmget, semget and msgget (then the mode, in octal), and the commands.
IPC_GET_FLAGS: Final = _table(
    None,
    ("IPC_CREAT", 0o1000),
    ("IPC_EXCL", 0o2000),
    ("SHM_HUGETLB", 0o4000),
    ("SHM_NORESERVE", 0o10000),
)
_IPC_COMMON: Final = (("IPC_RMID", 0), ("IPC_SET", 1), ("IPC_STAT", 2), ("IPC_INFO", 3))
SHMCTL_CMDS: Final = _table(
    "SHM_???",
    *_IPC_COMMON,
    ("SHM_LOCK", 11),
    ("SHM_UNLOCK", 12),
    ("SHM_STAT", 13),
    ("SHM_INFO", 14),
    ("SHM_STAT_ANY", 15),
)
SEMCTL_CMDS: Final = _table(
    "SEM_???",
    *_IPC_COMMON,
    ("GETPID", 11),
    ("GETVAL", 12),
    ("GETALL", 13),
    ("GETNCNT", 14),
    ("GETZCNT", 15),
    ("SETVAL", 16),
    ("SETALL", 17),
    ("SEM_STAT", 18),
    ("SEM_INFO", 19),
    ("SEM_STAT_ANY", 20),
)
MSGCTL_CMDS: Final = _table(
    "MSG_???", *_IPC_COMMON, ("MSG_STAT", 11), ("MSG_INFO", 12), ("MSG_STAT_ANY", 13)
)
IPC_64: Final = 0x100

PRIORITY_WHICH: Final = _sequence("PRIO_???", "PRIO_PROCESS", "PRIO_PGRP", "PRIO_USER")
RUSAGE_WHO: Final = _table(
    "RUSAGE_???", ("RUSAGE_SELF", 0), ("RUSAGE_CHILDREN", 0xFFFFFFFF), ("RUSAGE_THREAD", 1)
)

# --- sockets --------------------------------------------------------------------------------

ADDRESS_FAMILIES: Final = _sequence(
    "AF_???",
    "AF_UNSPEC",
    "AF_UNIX",
    "AF_INET",
    "AF_AX25",
    "AF_IPX",
    "AF_APPLETALK",
    "AF_NETROM",
    "AF_BRIDGE",
    "AF_ATMPVC",
    "AF_X25",
    "AF_INET6",
    "AF_ROSE",
    "AF_DECnet",
    "AF_NETBEUI",
    "AF_SECURITY",
    "AF_KEY",
    "AF_NETLINK",
    "AF_PACKET",
    "AF_ASH",
    "AF_ECONET",
    "AF_ATMSVC",
    "AF_RDS",
    "AF_SNA",
    "AF_IRDA",
    "AF_PPPOX",
    "AF_WANPIPE",
    "AF_LLC",
    "AF_IB",
    "AF_MPLS",
    "AF_CAN",
    "AF_TIPC",
    "AF_BLUETOOTH",
    "AF_IUCV",
    "AF_RXRPC",
    "AF_ISDN",
    "AF_PHONET",
    "AF_IEEE802154",
    "AF_CAIF",
    "AF_ALG",
    "AF_NFC",
    "AF_VSOCK",
    "AF_KCM",
    "AF_QIPCRTR",
    "AF_SMC",
    "AF_XDP",
    "AF_MCTP",
)
AF_INET: Final = 2
AF_INET6: Final = 10
AF_NETLINK: Final = 16
AF_PACKET: Final = 17
# The protocol of an AF_PACKET socket, which the call takes in network byte order (strace prints
# `htons(ETH_P_ALL)`). The names strace 6.1 knows: linux/if_ether.h's but ETH_P_PROFINET and
# ETH_P_ETHERCAT, and ETH_P_BPQ, which that header no longer has.
ETHERNET_PROTOCOLS: Final = _table(
    "ETH_P_???",
    ("ETH_P_802_3", 0x0001),
    ("ETH_P_AX25", 0x0002),
    ("ETH_P_ALL", 0x0003),
    ("ETH_P_802_2", 0x0004),
    ("ETH_P_SNAP", 0x0005),
    ("ETH_P_DDCMP", 0x0006),
    ("ETH_P_WAN_PPP", 0x0007),
    ("ETH_P_PPP_MP", 0x0008),
    ("ETH_P_LOCALTALK", 0x0009),
    ("ETH_P_CAN", 0x000C),
    ("ETH_P_CANFD", 0x000D),
    ("ETH_P_CANXL", 0x000E),
    ("ETH_P_PPPTALK", 0x0010),
    ("ETH_P_TR_802_2", 0x0011),
    ("ETH_P_MOBITEX", 0x0015),
    ("ETH_P_CONTROL", 0x0016),
    ("ETH_P_IRDA", 0x0017),
    ("ETH_P_ECONET", 0x0018),
    ("ETH_P_HDLC", 0x0019),
    ("ETH_P_ARCNET", 0x001A),
    ("ETH_P_DSA", 0x001B),
    ("ETH_P_TRAILER", 0x001C),
    ("ETH_P_LOOP", 0x0060),
    ("ETH_P_PHONET", 0x00F5),
    ("ETH_P_IEEE802154", 0x00F6),
    ("ETH_P_CAIF", 0x00F7),
    ("ETH_P_XDSA", 0x00F8),
    ("ETH_P_MAP", 0x00F9),
    ("ETH_P_MCTP", 0x00FA),
    ("ETH_P_PUP", 0x0200),
    ("ETH_P_PUPAT", 0x0201),
    ("ETH_P_802_3_MIN", 0x0600),
    ("ETH_P_IP", 0x0800),
    ("ETH_P_X25", 0x0805),
    ("ETH_P_ARP", 0x0806),
    ("ETH_P_BPQ", 0x08FF),
    ("ETH_P_IEEEPUP", 0x0A00),
    ("ETH_P_IEEEPUPAT", 0x0A01),
    ("ETH_P_ERSPAN2", 0x22EB),
    ("ETH_P_TSN", 0x22F0),
    ("ETH_P_BATMAN", 0x4305),
    ("ETH_P_DEC", 0x6000),
    ("ETH_P_DNA_DL", 0x6001),
    ("ETH_P_DNA_RC", 0x6002),
    ("ETH_P_DNA_RT", 0x6003),
    ("ETH_P_LAT", 0x6004),
    ("ETH_P_DIAG", 0x6005),
    ("ETH_P_CUST", 0x6006),
    ("ETH_P_SCA", 0x6007),
    ("ETH_P_TEB", 0x6558),
    ("ETH_P_RARP", 0x8035),
    ("ETH_P_ATALK", 0x809B),
    ("ETH_P_AARP", 0x80F3),
    ("ETH_P_8021Q", 0x8100),
    ("ETH_P_IPX", 0x8137),
    ("ETH_P_IPV6", 0x86DD),
    ("ETH_P_PAUSE", 0x8808),
    ("ETH_P_SLOW", 0x8809),
    ("ETH_P_WCCP", 0x883E),
    ("ETH_P_MPLS_UC", 0x8847),
    ("ETH_P_MPLS_MC", 0x8848),
    ("ETH_P_ATMMPOA", 0x884C),
    ("ETH_P_PPP_DISC", 0x8863),
    ("ETH_P_PPP_SES", 0x8864),
    ("ETH_P_LINK_CTL", 0x886C),
    ("ETH_P_ATMFATE", 0x8884),
    ("ETH_P_PAE", 0x888E),
    ("ETH_P_REALTEK", 0x8899),
    ("ETH_P_AOE", 0x88A2),
    ("ETH_P_8021AD", 0x88A8),
    ("ETH_P_802_EX1", 0x88B5),
    ("ETH_P_ERSPAN", 0x88BE),
    ("ETH_P_PREAUTH", 0x88C7),
    ("ETH_P_TIPC", 0x88CA),
    ("ETH_P_LLDP", 0x88CC),
    ("ETH_P_MRP", 0x88E3),
    ("ETH_P_MACSEC", 0x88E5),
    ("ETH_P_8021AH", 0x88E7),
    ("ETH_P_MVRP", 0x88F5),
    ("ETH_P_1588", 0x88F7),
    ("ETH_P_NCSI", 0x88F8),
    ("ETH_P_PRP", 0x88FB),
    ("ETH_P_CFM", 0x8902),
    ("ETH_P_FCOE", 0x8906),
    ("ETH_P_TDLS", 0x890D),
    ("ETH_P_FIP", 0x8914),
    ("ETH_P_IBOE", 0x8915),
    ("ETH_P_80221", 0x8917),
    ("ETH_P_HSR", 0x892F),
    ("ETH_P_NSH", 0x894F),
    ("ETH_P_LOOPBACK", 0x9000),
    ("ETH_P_QINQ1", 0x9100),
    ("ETH_P_QINQ2", 0x9200),
    ("ETH_P_QINQ3", 0x9300),
    ("ETH_P_EDSA", 0xDADA),
    ("ETH_P_DSA_8021Q", 0xDADB),
    ("ETH_P_DSA_A5PSW", 0xE001),
    ("ETH_P_IFE", 0xED3E),
    ("ETH_P_AF_IUCV", 0xFBFB),
)

SOCK_TYPE_MASK: Final = 0xF
SOCKET_TYPES: Final = _table(
    None,
    ("SOCK_STREAM", 1),
    ("SOCK_DGRAM", 2),
    ("SOCK_RAW", 3),
    ("SOCK_RDM", 4),
    ("SOCK_SEQPACKET", 5),
    ("SOCK_DCCP", 6),
    ("SOCK_PACKET", 10),
)
SOCKET_FLAGS: Final = _table("SOCK_???", ("SOCK_CLOEXEC", O_CLOEXEC), ("SOCK_NONBLOCK", O_NONBLOCK))


def socket_type(value: int) -> str:
    """socket(2) type: ``SOCK_STREAM|SOCK_CLOEXEC``."""
    value &= 0xFFFFFFFF
    kind = SOCKET_TYPES.name(value & SOCK_TYPE_MASK)
    if kind is None:
        return flags(value, SOCKET_FLAGS)
    rest = value & ~SOCK_TYPE_MASK
    return kind + "|" + flags(rest, SOCKET_FLAGS) if rest else kind


# setsockopt/getsockopt: the levels, and the options of the levels strace names.
SOCKET_LEVELS: Final = _table(
    "SOL_??",
    ("SOL_IP", 0),
    ("SOL_SOCKET", 1),
    ("SOL_TCP", 6),
    ("SOL_UDP", 17),
    ("SOL_IPV6", 41),
    ("SOL_ICMPV6", 58),
    ("SOL_RAW", 255),
    ("SOL_PACKET", 263),
    ("SOL_NETLINK", 270),
    ("SOL_ALG", 279),
    ("SOL_TLS", 282),
)
SOCKET_OPTIONS: Final = _table(
    "SO_???",
    ("SO_DEBUG", 1),
    ("SO_REUSEADDR", 2),
    ("SO_TYPE", 3),
    ("SO_ERROR", 4),
    ("SO_DONTROUTE", 5),
    ("SO_BROADCAST", 6),
    ("SO_SNDBUF", 7),
    ("SO_RCVBUF", 8),
    ("SO_KEEPALIVE", 9),
    ("SO_OOBINLINE", 10),
    ("SO_NO_CHECK", 11),
    ("SO_PRIORITY", 12),
    ("SO_LINGER", 13),
    ("SO_BSDCOMPAT", 14),
    ("SO_REUSEPORT", 15),
    ("SO_PASSCRED", 16),
    ("SO_PEERCRED", 17),
    ("SO_RCVLOWAT", 18),
    ("SO_SNDLOWAT", 19),
    ("SO_RCVTIMEO_OLD", 20),
    ("SO_SNDTIMEO_OLD", 21),
    ("SO_SECURITY_AUTHENTICATION", 22),
    ("SO_SECURITY_ENCRYPTION_TRANSPORT", 23),
    ("SO_SECURITY_ENCRYPTION_NETWORK", 24),
    ("SO_BINDTODEVICE", 25),
    ("SO_ATTACH_FILTER", 26),
    ("SO_DETACH_FILTER", 27),
    ("SO_PEERNAME", 28),
    ("SO_TIMESTAMP_OLD", 29),
    ("SO_ACCEPTCONN", 30),
    ("SO_PEERSEC", 31),
    ("SO_SNDBUFFORCE", 32),
    ("SO_RCVBUFFORCE", 33),
    ("SO_PASSSEC", 34),
    ("SO_TIMESTAMPNS_OLD", 35),
    ("SO_MARK", 36),
    ("SO_TIMESTAMPING_OLD", 37),
    ("SO_PROTOCOL", 38),
    ("SO_DOMAIN", 39),
    ("SO_RXQ_OVFL", 40),
    ("SO_WIFI_STATUS", 41),
    ("SO_PEEK_OFF", 42),
    ("SO_NOFCS", 43),
    ("SO_LOCK_FILTER", 44),
    ("SO_SELECT_ERR_QUEUE", 45),
    ("SO_BUSY_POLL", 46),
    ("SO_MAX_PACING_RATE", 47),
    ("SO_BPF_EXTENSIONS", 48),
    ("SO_INCOMING_CPU", 49),
    ("SO_ATTACH_BPF", 50),
    ("SO_ATTACH_REUSEPORT_CBPF", 51),
    ("SO_ATTACH_REUSEPORT_EBPF", 52),
    ("SO_CNX_ADVICE", 53),
    ("SO_TIMESTAMPING_OPT_STATS", 54),
    ("SO_MEMINFO", 55),
    ("SO_INCOMING_NAPI_ID", 56),
    ("SO_COOKIE", 57),
    ("SO_TIMESTAMPING_PKTINFO", 58),
    ("SO_PEERGROUPS", 59),
    ("SO_ZEROCOPY", 60),
    ("SO_TXTIME", 61),
    ("SO_BINDTOIFINDEX", 62),
    ("SO_TIMESTAMP_NEW", 63),
    ("SO_TIMESTAMPNS_NEW", 64),
    ("SO_TIMESTAMPING_NEW", 65),
    ("SO_RCVTIMEO_NEW", 66),
    ("SO_SNDTIMEO_NEW", 67),
    ("SO_DETACH_REUSEPORT_BPF", 68),
    ("SO_PREFER_BUSY_POLL", 69),
    ("SO_BUSY_POLL_BUDGET", 70),
    ("SO_NETNS_COOKIE", 71),
    ("SO_BUF_LOCK", 72),
    ("SO_RESERVE_MEM", 73),
    ("SO_TXREHASH", 74),
    ("SO_RCVMARK", 75),
)
IP_OPTIONS: Final = _table(
    "IP_???",
    ("IP_TOS", 1),
    ("IP_TTL", 2),
    ("IP_HDRINCL", 3),
    ("IP_OPTIONS", 4),
    ("IP_ROUTER_ALERT", 5),
    ("IP_RECVOPTS", 6),
    ("IP_RETOPTS", 7),
    ("IP_PKTINFO", 8),
    ("IP_PKTOPTIONS", 9),
    ("IP_MTU_DISCOVER", 10),
    ("IP_RECVERR", 11),
    ("IP_RECVTTL", 12),
    ("IP_RECVTOS", 13),
    ("IP_MTU", 14),
    ("IP_FREEBIND", 15),
    ("IP_IPSEC_POLICY", 16),
    ("IP_XFRM_POLICY", 17),
    ("IP_PASSSEC", 18),
    ("IP_TRANSPARENT", 19),
    ("IP_ORIGDSTADDR", 20),
    ("IP_MINTTL", 21),
    ("IP_NODEFRAG", 22),
    ("IP_CHECKSUM", 23),
    ("IP_BIND_ADDRESS_NO_PORT", 24),
    ("IP_RECVFRAGSIZE", 25),
    ("IP_RECVERR_RFC4884", 26),
    ("IP_MULTICAST_IF", 32),
    ("IP_MULTICAST_TTL", 33),
    ("IP_MULTICAST_LOOP", 34),
    ("IP_ADD_MEMBERSHIP", 35),
    ("IP_DROP_MEMBERSHIP", 36),
    ("IP_UNBLOCK_SOURCE", 37),
    ("IP_BLOCK_SOURCE", 38),
    ("IP_ADD_SOURCE_MEMBERSHIP", 39),
    ("IP_DROP_SOURCE_MEMBERSHIP", 40),
    ("IP_MSFILTER", 41),
    ("MCAST_JOIN_GROUP", 42),
    ("MCAST_BLOCK_SOURCE", 43),
    ("MCAST_UNBLOCK_SOURCE", 44),
    ("MCAST_LEAVE_GROUP", 45),
    ("MCAST_JOIN_SOURCE_GROUP", 46),
    ("MCAST_LEAVE_SOURCE_GROUP", 47),
    ("MCAST_MSFILTER", 48),
    ("IP_MULTICAST_ALL", 49),
    ("IP_UNICAST_IF", 50),
)
TCP_OPTIONS: Final = _table(
    "TCP_???",
    ("TCP_NODELAY", 1),
    ("TCP_MAXSEG", 2),
    ("TCP_CORK", 3),
    ("TCP_KEEPIDLE", 4),
    ("TCP_KEEPINTVL", 5),
    ("TCP_KEEPCNT", 6),
    ("TCP_SYNCNT", 7),
    ("TCP_LINGER2", 8),
    ("TCP_DEFER_ACCEPT", 9),
    ("TCP_WINDOW_CLAMP", 10),
    ("TCP_INFO", 11),
    ("TCP_QUICKACK", 12),
    ("TCP_CONGESTION", 13),
    ("TCP_MD5SIG", 14),
    ("TCP_THIN_LINEAR_TIMEOUTS", 16),
    ("TCP_THIN_DUPACK", 17),
    ("TCP_USER_TIMEOUT", 18),
    ("TCP_REPAIR", 19),
    ("TCP_REPAIR_QUEUE", 20),
    ("TCP_QUEUE_SEQ", 21),
    ("TCP_REPAIR_OPTIONS", 22),
    ("TCP_FASTOPEN", 23),
    ("TCP_TIMESTAMP", 24),
    ("TCP_NOTSENT_LOWAT", 25),
    ("TCP_CC_INFO", 26),
    ("TCP_SAVE_SYN", 27),
    ("TCP_SAVED_SYN", 28),
    ("TCP_REPAIR_WINDOW", 29),
    ("TCP_FASTOPEN_CONNECT", 30),
    ("TCP_ULP", 31),
    ("TCP_MD5SIG_EXT", 32),
    ("TCP_FASTOPEN_KEY", 33),
    ("TCP_FASTOPEN_NO_COOKIE", 34),
    ("TCP_ZEROCOPY_RECEIVE", 35),
    ("TCP_INQ", 36),
    ("TCP_TX_DELAY", 37),
)
IPV6_OPTIONS: Final = _table(
    "IPV6_???",
    ("IPV6_ADDRFORM", 1),
    ("IPV6_2292PKTINFO", 2),
    ("IPV6_2292HOPOPTS", 3),
    ("IPV6_2292DSTOPTS", 4),
    ("IPV6_2292RTHDR", 5),
    ("IPV6_2292PKTOPTIONS", 6),
    ("IPV6_CHECKSUM", 7),
    ("IPV6_2292HOPLIMIT", 8),
    ("IPV6_NEXTHOP", 9),
    ("IPV6_AUTHHDR", 10),
    ("IPV6_FLOWINFO", 11),
    ("IPV6_UNICAST_HOPS", 16),
    ("IPV6_MULTICAST_IF", 17),
    ("IPV6_MULTICAST_HOPS", 18),
    ("IPV6_MULTICAST_LOOP", 19),
    ("IPV6_ADD_MEMBERSHIP", 20),
    ("IPV6_DROP_MEMBERSHIP", 21),
    ("IPV6_ROUTER_ALERT", 22),
    ("IPV6_MTU_DISCOVER", 23),
    ("IPV6_MTU", 24),
    ("IPV6_RECVERR", 25),
    ("IPV6_V6ONLY", 26),
    ("IPV6_JOIN_ANYCAST", 27),
    ("IPV6_LEAVE_ANYCAST", 28),
    ("IPV6_MULTICAST_ALL", 29),
    ("IPV6_ROUTER_ALERT_ISOLATE", 30),
    ("IPV6_RECVERR_RFC4884", 31),
    ("IPV6_FLOWLABEL_MGR", 32),
    ("IPV6_FLOWINFO_SEND", 33),
    ("IPV6_IPSEC_POLICY", 34),
    ("IPV6_XFRM_POLICY", 35),
    ("IPV6_HDRINCL", 36),
    ("IPV6_RECVPKTINFO", 49),
    ("IPV6_PKTINFO", 50),
    ("IPV6_RECVHOPLIMIT", 51),
    ("IPV6_HOPLIMIT", 52),
    ("IPV6_RECVHOPOPTS", 53),
    ("IPV6_HOPOPTS", 54),
    ("IPV6_RTHDRDSTOPTS", 55),
    ("IPV6_RECVRTHDR", 56),
    ("IPV6_RTHDR", 57),
    ("IPV6_RECVDSTOPTS", 58),
    ("IPV6_DSTOPTS", 59),
    ("IPV6_RECVPATHMTU", 60),
    ("IPV6_PATHMTU", 61),
    ("IPV6_DONTFRAG", 62),
    ("IPV6_RECVTCLASS", 66),
    ("IPV6_TCLASS", 67),
    ("IPV6_AUTOFLOWLABEL", 70),
    ("IPV6_ADDR_PREFERENCES", 72),
    ("IPV6_MINHOPCOUNT", 73),
    ("IPV6_ORIGDSTADDR", 74),
    ("IPV6_TRANSPARENT", 75),
    ("IPV6_UNICAST_IF", 76),
    ("IPV6_RECVFRAGSIZE", 77),
    ("IPV6_FREEBIND", 78),
)
NETLINK_OPTIONS: Final = _sequence(
    "NETLINK_???",
    "NETLINK_ADD_MEMBERSHIP",
    "NETLINK_DROP_MEMBERSHIP",
    "NETLINK_PKTINFO",
    "NETLINK_BROADCAST_ERROR",
    "NETLINK_NO_ENOBUFS",
    "NETLINK_RX_RING",
    "NETLINK_TX_RING",
    "NETLINK_LISTEN_ALL_NSID",
    "NETLINK_LIST_MEMBERSHIPS",
    "NETLINK_CAP_ACK",
    "NETLINK_EXT_ACK",
    "NETLINK_GET_STRICT_CHK",
    start=1,
)

OPTIONS_OF_LEVEL: Final = {
    0: IP_OPTIONS,
    1: SOCKET_OPTIONS,
    6: TCP_OPTIONS,
    41: IPV6_OPTIONS,
    270: NETLINK_OPTIONS,
}

IP_PROTOCOLS: Final = _table(
    "IPPROTO_???",
    ("IPPROTO_IP", 0),
    ("IPPROTO_ICMP", 1),
    ("IPPROTO_IGMP", 2),
    ("IPPROTO_IPIP", 4),
    ("IPPROTO_TCP", 6),
    ("IPPROTO_EGP", 8),
    ("IPPROTO_PUP", 12),
    ("IPPROTO_UDP", 17),
    ("IPPROTO_IDP", 22),
    ("IPPROTO_TP", 29),
    ("IPPROTO_DCCP", 33),
    ("IPPROTO_IPV6", 41),
    ("IPPROTO_ROUTING", 43),
    ("IPPROTO_FRAGMENT", 44),
    ("IPPROTO_RSVP", 46),
    ("IPPROTO_GRE", 47),
    ("IPPROTO_ESP", 50),
    ("IPPROTO_AH", 51),
    ("IPPROTO_ICMPV6", 58),
    ("IPPROTO_NONE", 59),
    ("IPPROTO_DSTOPTS", 60),
    ("IPPROTO_MTP", 92),
    ("IPPROTO_BEETPH", 94),
    ("IPPROTO_ENCAP", 98),
    ("IPPROTO_PIM", 103),
    ("IPPROTO_COMP", 108),
    ("IPPROTO_L2TP", 115),
    ("IPPROTO_SCTP", 132),
    ("IPPROTO_MH", 135),
    ("IPPROTO_UDPLITE", 136),
    ("IPPROTO_MPLS", 137),
    ("IPPROTO_ETHERNET", 143),
    ("IPPROTO_AGGFRAG", 144),
    ("IPPROTO_RAW", 255),
    ("IPPROTO_SMC", 256),
    ("IPPROTO_MPTCP", 262),
)
NETLINK_PROTOCOLS: Final = _sequence(
    "NETLINK_???",
    "NETLINK_ROUTE",
    "NETLINK_UNUSED",
    "NETLINK_USERSOCK",
    "NETLINK_FIREWALL",
    "NETLINK_SOCK_DIAG",
    "NETLINK_NFLOG",
    "NETLINK_XFRM",
    "NETLINK_SELINUX",
    "NETLINK_ISCSI",
    "NETLINK_AUDIT",
    "NETLINK_FIB_LOOKUP",
    "NETLINK_CONNECTOR",
    "NETLINK_NETFILTER",
    "NETLINK_IP6_FW",
    "NETLINK_DNRTMSG",
    "NETLINK_KOBJECT_UEVENT",
    "NETLINK_GENERIC",
    "",
    "NETLINK_SCSITRANSPORT",
    "NETLINK_ECRYPTFS",
    "NETLINK_RDMA",
    "NETLINK_CRYPTO",
    "NETLINK_SMC",
)
MSG_FLAGS: Final = _table(
    "MSG_???",
    ("MSG_OOB", 0x1),
    ("MSG_PEEK", 0x2),
    ("MSG_DONTROUTE", 0x4),
    ("MSG_CTRUNC", 0x8),
    ("MSG_PROBE", 0x10),
    ("MSG_TRUNC", 0x20),
    ("MSG_DONTWAIT", 0x40),
    ("MSG_EOR", 0x80),
    ("MSG_WAITALL", 0x100),
    ("MSG_FIN", 0x200),
    ("MSG_SYN", 0x400),
    ("MSG_CONFIRM", 0x800),
    ("MSG_RST", 0x1000),
    ("MSG_ERRQUEUE", 0x2000),
    ("MSG_NOSIGNAL", 0x4000),
    ("MSG_MORE", 0x8000),
    ("MSG_WAITFORONE", 0x10000),
    ("MSG_SENDPAGE_NOTLAST", 0x20000),
    ("MSG_BATCH", 0x40000),
    ("MSG_NO_SHARED_FRAGS", 0x80000),
    ("MSG_SOCK_DEVMEM", 0x2000000),
    ("MSG_ZEROCOPY", 0x4000000),
    ("MSG_FASTOPEN", 0x20000000),
    ("MSG_CMSG_CLOEXEC", 0x40000000),
    ("MSG_CMSG_COMPAT", 0x80000000),
)
SHUTDOWN_HOW: Final = _sequence("SHUT_???", "SHUT_RD", "SHUT_WR", "SHUT_RDWR")

# --- ioctl ----------------------------------------------------------------------------------

# Request codes of common ioctls (x86), by the name strace prints for the code.
IOCTLS: Final = _table(
    None,
    ("TCGETS", 0x5401),
    ("SNDCTL_TMR_START or TCSETS", 0x5402),  # strace names every macro of a number
    ("SNDCTL_TMR_STOP or TCSETSW", 0x5403),
    ("SNDCTL_TMR_CONTINUE or TCSETSF", 0x5404),
    ("TCGETA", 0x5405),
    ("TCSETA", 0x5406),
    ("TCSETAW", 0x5407),
    ("TCSETAF", 0x5408),
    ("TCSBRK", 0x5409),
    ("TCXONC", 0x540A),
    ("TCFLSH", 0x540B),
    ("TIOCEXCL", 0x540C),
    ("TIOCNXCL", 0x540D),
    ("TIOCSCTTY", 0x540E),
    ("TIOCGPGRP", 0x540F),
    ("TIOCSPGRP", 0x5410),
    ("TIOCOUTQ", 0x5411),
    ("TIOCSTI", 0x5412),
    ("TIOCGWINSZ", 0x5413),
    ("TIOCSWINSZ", 0x5414),
    ("TIOCMGET", 0x5415),
    ("TIOCMBIS", 0x5416),
    ("TIOCMBIC", 0x5417),
    ("TIOCMSET", 0x5418),
    ("TIOCGSOFTCAR", 0x5419),
    ("TIOCSSOFTCAR", 0x541A),
    ("FIONREAD", 0x541B),
    ("TIOCLINUX", 0x541C),
    ("TIOCCONS", 0x541D),
    ("TIOCGSERIAL", 0x541E),
    ("TIOCSSERIAL", 0x541F),
    ("TIOCPKT", 0x5420),
    ("FIONBIO", 0x5421),
    ("TIOCNOTTY", 0x5422),
    ("TIOCSETD", 0x5423),
    ("TIOCGETD", 0x5424),
    ("TCSBRKP", 0x5425),
    ("TIOCSBRK", 0x5427),
    ("TIOCCBRK", 0x5428),
    ("TIOCGSID", 0x5429),
    ("TCGETS2", 0x802C542A),
    ("TCSETS2", 0x402C542B),
    ("TCSETSW2", 0x402C542C),
    ("TCSETSF2", 0x402C542D),
    ("TIOCGRS485", 0x542E),
    ("TIOCSRS485", 0x542F),
    ("TIOCGPTN", 0x80045430),
    ("TIOCSPTLCK", 0x40045431),
    ("TIOCGDEV", 0x80045432),
    ("TIOCSIG", 0x40045436),
    ("TIOCVHANGUP", 0x5437),
    ("TIOCGPKT", 0x80045438),
    ("TIOCGPTLCK", 0x80045439),
    ("TIOCGEXCL", 0x80045440),
    ("TIOCGPTPEER", 0x5441),
    ("FIONCLEX", 0x5450),
    ("FIOCLEX", 0x5451),
    ("FIOASYNC", 0x5452),
    ("TIOCSERCONFIG", 0x5453),
    ("TIOCSERGWILD", 0x5454),
    ("TIOCSERSWILD", 0x5455),
    ("TIOCGLCKTRMIOS", 0x5456),
    ("TIOCSLCKTRMIOS", 0x5457),
    ("TIOCSERGSTRUCT", 0x5458),
    ("TIOCSERGETLSR", 0x5459),
    ("TIOCSERGETMULTI", 0x545A),
    ("TIOCSERSETMULTI", 0x545B),
    ("TIOCMIWAIT", 0x545C),
    ("TIOCGICOUNT", 0x545D),
    ("FIOQSIZE", 0x5460),
    ("FIOSETOWN", 0x8901),
    ("SIOCSPGRP", 0x8902),
    ("FIOGETOWN", 0x8903),
    ("SIOCGPGRP", 0x8904),
    ("SIOCATMARK", 0x8905),
    ("SIOCGSTAMP", 0x8906),
    ("SIOCGIFNAME", 0x8910),
    ("SIOCGIFCONF", 0x8912),
    ("SIOCGIFFLAGS", 0x8913),
    ("SIOCSIFFLAGS", 0x8914),
    ("SIOCGIFADDR", 0x8915),
    ("SIOCGIFMTU", 0x8921),
    ("SIOCGIFHWADDR", 0x8927),
    ("SIOCGIFINDEX", 0x8933),
    ("FIBMAP", 0x1),
    ("FIGETBSZ", 0x2),
    ("FIFREEZE", 0xC0045877),
    ("FITHAW", 0xC0045878),
    ("BTRFS_IOC_CLONE or FICLONE", 0x40049409),  # one number, two names: strace says both
    ("FICLONERANGE", 0x4020940D),
    ("FIDEDUPERANGE", 0xC0189436),
    ("FS_IOC_GETFLAGS", 0x80086601),
    ("FS_IOC_SETFLAGS", 0x40086602),
    ("FS_IOC_GETVERSION", 0x80087601),
    ("FS_IOC_SETVERSION", 0x40087602),
    ("FS_IOC_FIEMAP", 0xC020660B),
    ("FS_IOC_FSGETXATTR", 0x801C581F),
    ("FS_IOC_FSSETXATTR", 0x401C5820),
    ("BLKROSET", 0x125D),
    ("BLKROGET", 0x125E),
    ("BLKRRPART", 0x125F),
    ("BLKGETSIZE", 0x1260),
    ("BLKFLSBUF", 0x1261),
    ("BLKSSZGET", 0x1268),
    ("BLKBSZGET", 0x80081270),
    ("BLKGETSIZE64", 0x80081272),
    ("RNDGETENTCNT", 0x80045200),
)
# Ioctls that take no argument, and the ones whose argument is a plain number.
# struct termios's flag words (asm-generic/termbits.h), in strace's order of names.
TERM_IFLAGS: Final = _table(
    None,
    ("IGNBRK", 0o1),
    ("BRKINT", 0o2),
    ("IGNPAR", 0o4),
    ("PARMRK", 0o10),
    ("INPCK", 0o20),
    ("ISTRIP", 0o40),
    ("INLCR", 0o100),
    ("IGNCR", 0o200),
    ("ICRNL", 0o400),
    ("IUCLC", 0o1000),
    ("IXON", 0o2000),
    ("IXANY", 0o4000),
    ("IXOFF", 0o10000),
    ("IMAXBEL", 0o20000),
    ("IUTF8", 0o40000),
)
TERM_OFLAGS: Final = _table(
    None,
    ("OPOST", 0o1),
    ("OLCUC", 0o2),
    ("ONLCR", 0o4),
    ("OCRNL", 0o10),
    ("ONOCR", 0o20),
    ("ONLRET", 0o40),
    ("OFILL", 0o100),
    ("OFDEL", 0o200),
)
# c_oflag's delay fields: (mask, names by value), printed before the flags as strace does.
TERM_OFLAG_DELAYS: Final = (
    (0o400, _table("NL?", ("NL0", 0), ("NL1", 0o400))),
    (0o3000, _table("CR?", ("CR0", 0), ("CR1", 0o1000), ("CR2", 0o2000), ("CR3", 0o3000))),
    (0o14000, _table("TAB?", ("TAB0", 0), ("TAB1", 0o4000), ("TAB2", 0o10000), ("TAB3", 0o14000))),
    (0o20000, _table("BS?", ("BS0", 0), ("BS1", 0o20000))),
    (0o40000, _table("VT?", ("VT0", 0), ("VT1", 0o40000))),
    (0o100000, _table("FF?", ("FF0", 0), ("FF1", 0o100000))),
)
TERM_CBAUD: Final = 0o10017
TERM_CIBAUD: Final = 0o2003600000
TERM_IBSHIFT: Final = 16
TERM_CSIZE: Final = 0o60
BAUD_RATES: Final = _table(
    "B???",
    *(
        (f"B{rate}", code)
        for code, rate in enumerate(
            (0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400)
        )
    ),
    ("BOTHER", 0o10000),
    *(
        (f"B{rate}", 0o10001 + k)
        for k, rate in enumerate(
            (
                57600,
                115200,
                230400,
                460800,
                500000,
                576000,
                921600,
                1000000,
                1152000,
                1500000,
                2000000,
                2500000,
                3000000,
                3500000,
                4000000,
            )
        )
    ),
)
TERM_CSIZES: Final = _sequence("CS?", "CS5", "CS6", "CS7", "CS8")
TERM_CFLAGS: Final = _table(
    None,
    ("CSTOPB", 0o100),
    ("CREAD", 0o200),
    ("PARENB", 0o400),
    ("PARODD", 0o1000),
    ("HUPCL", 0o2000),
    ("CLOCAL", 0o4000),
    ("CMSPAR", 0o10000000000),
    ("CRTSCTS", 0o20000000000),
)
TERM_LFLAGS: Final = _table(
    None,
    ("ISIG", 0o1),
    ("ICANON", 0o2),
    ("XCASE", 0o4),
    ("ECHO", 0o10),
    ("ECHOE", 0o20),
    ("ECHOK", 0o40),
    ("ECHONL", 0o100),
    ("NOFLSH", 0o200),
    ("IEXTEN", 0o100000),
    ("ECHOCTL", 0o1000),
    ("ECHOPRT", 0o2000),
    ("ECHOKE", 0o4000),
    ("FLUSHO", 0o10000),
    ("PENDIN", 0o40000),
    ("TOSTOP", 0o400),
    ("EXTPROC", 0o200000),
)

IOCTLS_WITHOUT_ARGUMENT: Final = frozenset(
    {"FIOCLEX", "FIONCLEX", "TIOCEXCL", "TIOCNXCL", "TIOCNOTTY", "TIOCSBRK", "TIOCCBRK"}
    | {"TIOCVHANGUP"}
)
IOCTLS_WITH_NUMBER: Final = frozenset(
    {"TCSBRK", "TCSBRKP", "TIOCSCTTY", "TIOCSPTLCK", "BTRFS_IOC_CLONE or FICLONE"}
)
TCXONC_ACTIONS: Final = _sequence("TC???", "TCOOFF", "TCOON", "TCIOFF", "TCION")
TCFLSH_QUEUES: Final = _sequence("TC???", "TCIFLUSH", "TCOFLUSH", "TCIOFLUSH")
IOC_DIRECTIONS: Final = _table("_IOC_???", ("_IOC_NONE", 0), ("_IOC_READ", 2), ("_IOC_WRITE", 1))


def ioctl_request(value: int) -> str:
    """An ioctl request: its name when known, else strace's ``_IOC(dir, type, nr, size)``."""
    value &= 0xFFFFFFFF
    name = IOCTLS.name(value)
    if name is not None:
        return name
    direction = flags(value >> 30, IOC_DIRECTIONS)
    kind, number, size = (value >> 8) & 0xFF, value & 0xFF, (value >> 16) & 0x3FFF
    return f"_IOC({direction}, {hexnum(kind)}, {hexnum(number)}, {hexnum(size)})"


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


__all__ = [
    "ACCESS_MODES",
    "ADDRESS_FAMILIES",
    "ARCH_PRCTL",
    "AT_FDCWD",
    "AT_FLAGS",
    "CLOCKS",
    "CLONE",
    "EPOLL_CREATE_FLAGS",
    "EPOLL_CTL",
    "ETHERNET_PROTOCOLS",
    "EVENTFD_FLAGS",
    "FACCESSAT_FLAGS",
    "FADVISE",
    "FCNTL_COMMANDS",
    "FD_FLAGS",
    "FILE_TYPES",
    "FLOCK_OPS",
    "FUTEX_BITSET",
    "FUTEX_OPS",
    "GRND",
    "IOCTLS",
    "IP_PROTOCOLS",
    "MADVISE",
    "MAP",
    "MEMFD_FLAGS",
    "MREMAP_FLAGS",
    "MSG_FLAGS",
    "MSYNC_FLAGS",
    "NETLINK_PROTOCOLS",
    "OPEN_ACCESS",
    "OPEN_FLAGS",
    "PIPE_FLAGS",
    "POLL_EVENTS",
    "PROT",
    "RENAME_FLAGS",
    "RLIMITS",
    "SHUTDOWN_HOW",
    "SIGACTION_FLAGS",
    "SIGNALS",
    "SIGPROCMASK_HOW",
    "SOCKET_FLAGS",
    "SOCKET_TYPES",
    "SS_FLAGS",
    "STATX_ATTRIBUTES",
    "STATX_MASK",
    "WAIT_OPTIONS",
    "WHENCE",
    "Table",
    "clone_flags",
    "constant",
    "file_mode",
    "flags",
    "hexnum",
    "ioctl_request",
    "memfd_flags",
    "mmap_flags",
    "mode",
    "octal_mode",
    "open_flags",
    "signal",
    "signal_name",
    "socket_type",
    "statx_flags",
]
