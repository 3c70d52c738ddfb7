"""strace-style decoding on synthetic calls: flag tables, quoting, each decoder, results.

The expected texts are what strace 6.1 prints for the same raw values (checked against the real
strace; tests/test_decode_strace.py compares whole runs of real programs).
"""

from __future__ import annotations

import time

import pytest

from splitpriv.events import SyscallEvent
from splitpriv.syscalls import decode, render
from splitpriv.syscalls import flags as fl
from splitpriv.syscalls.decode import Call

AT_FDCWD = 0xFFFFFFFFFFFFFF9C  # -100 as a register holds it
MINUS_ONE = 0xFFFFFFFFFFFFFFFF
PTR = 0x7FFD12345678


def args(*values: int) -> tuple[int, ...]:
    return (*values, *(0,) * (6 - len(values)))


def show(name: str, *values: int, limit: int | None = 32, **kwargs: object) -> str:
    """The decoded argument list of a synthetic call, joined as strace joins it."""
    call = Call(name, args(*values), **kwargs)  # type: ignore[arg-type]
    return ", ".join(decode.arguments(call, limit))


# --- flag sets and constants ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "PROT_NONE"),  # the table's zero name
        (1 | 2, "PROT_READ|PROT_WRITE"),
        (4 | 1, "PROT_READ|PROT_EXEC"),  # table order, not argument order
        (1 | 0x10, "PROT_READ|0x10"),  # leftover bits
        (0x10, "0x10 /* PROT_??? */"),  # nothing known at all
        (0x01000000 | 2, "PROT_WRITE|PROT_GROWSDOWN"),
    ],
)
def test_flags_prot(value, expected):
    assert fl.flags(value, fl.PROT) == expected


def test_flags_zero_without_zero_name_is_0():
    assert fl.flags(0, fl.GRND) == "0"
    assert fl.flags(0, fl.MSG_FLAGS) == "0"


def test_flags_comment_can_be_dropped():
    assert fl.flags(0x10, fl.PROT, unknown=None) == "0x10"


def test_access_modes():
    assert fl.flags(0, fl.ACCESS_MODES) == "F_OK"
    assert fl.flags(4 | 2, fl.ACCESS_MODES) == "R_OK|W_OK"
    assert fl.flags(4 | 0x10, fl.ACCESS_MODES) == "R_OK|0x10"
    assert fl.flags(0x10, fl.ACCESS_MODES) == "0x10 /* ?_OK */"


@pytest.mark.parametrize(
    ("value", "table", "expected"),
    [
        (0, fl.WHENCE, "SEEK_SET"),
        (4, fl.WHENCE, "SEEK_HOLE"),
        (7, fl.WHENCE, "0x7 /* SEEK_??? */"),
        (2, fl.ADDRESS_FAMILIES, "AF_INET"),
        (10, fl.ADDRESS_FAMILIES, "AF_INET6"),
        (99, fl.ADDRESS_FAMILIES, "0x63 /* AF_??? */"),
        (6, fl.IP_PROTOCOLS, "IPPROTO_TCP"),
        (199, fl.IP_PROTOCOLS, "0xc7 /* IPPROTO_??? */"),
        (1030, fl.FCNTL_COMMANDS, "F_DUPFD_CLOEXEC"),
        (5, fl.FCNTL_COMMANDS, "F_GETLK"),
        (999, fl.FCNTL_COMMANDS, "0x3e7 /* F_??? */"),
        (0x1002, fl.ARCH_PRCTL, "ARCH_SET_FS"),
        (0x3001, fl.ARCH_PRCTL, "0x3001 /* ARCH_??? */"),
        (3, fl.RLIMITS, "RLIMIT_STACK"),
        (7, fl.RLIMITS, "RLIMIT_NOFILE"),
        (0, fl.SIGPROCMASK_HOW, "SIG_BLOCK"),
        (2, fl.SIGPROCMASK_HOW, "SIG_SETMASK"),
        (129, fl.FUTEX_OPS, "FUTEX_WAKE_PRIVATE"),
        (128, fl.FUTEX_OPS, "FUTEX_WAIT_PRIVATE"),
        (9 | 128 | 256, fl.FUTEX_OPS, "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"),
        (2 | 128, fl.FUTEX_OPS, "FUTEX_FD|FUTEX_PRIVATE_FLAG"),
        (99, fl.FUTEX_OPS, "0x63 /* FUTEX_??? */"),
        (1, fl.EPOLL_CTL, "EPOLL_CTL_ADD"),
        (2, fl.SHUTDOWN_HOW, "SHUT_RDWR"),
    ],
)
def test_constants(value, table, expected):
    assert fl.constant(value, table) == expected


def test_constant_in_decimal():
    assert fl.constant(99, fl.WHENCE, decimal=True) == "99 /* SEEK_??? */"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "O_RDONLY"),
        (0o2000000, "O_RDONLY|O_CLOEXEC"),
        (1 | 0o100 | 0o1000, "O_WRONLY|O_CREAT|O_TRUNC"),
        (2 | 0o4000, "O_RDWR|O_NONBLOCK"),
        (3, "O_ACCMODE"),
        (0o4000 | 0o2000000 | 0o200000, "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY"),
        (2 | 0o20200000, "O_RDWR|O_TMPFILE"),  # O_TMPFILE includes O_DIRECTORY
        (1 | 0o4010000, "O_WRONLY|O_SYNC"),  # O_SYNC includes O_DSYNC
        (1 | 0o10000, "O_WRONLY|O_DSYNC"),
        (2 | 0o100000, "O_RDWR|O_LARGEFILE"),
        (0o100 | 0x40000000 | 1, "O_WRONLY|O_CREAT|0x40000000"),
        (0x40000000, "O_RDONLY|0x40000000"),
        (0o10000000, "O_RDONLY|O_PATH"),
    ],
)
def test_open_flags(value, expected):
    assert fl.open_flags(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0x22, "MAP_PRIVATE|MAP_ANONYMOUS"),
        (0x812, "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE"),
        (0x20022, "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK"),
        (0x1, "MAP_SHARED"),
        (0x3, "MAP_SHARED_VALIDATE"),
        (0, "MAP_FILE"),
        (0x40022 | (21 << 26), "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT"),
        (0x4 | 0x40000000, "0x4 /* MAP_??? */|16<<MAP_HUGE_SHIFT"),
        (0x2 | 0x100000000, "MAP_PRIVATE|0x100000000"),
        (0x2 | 0x100000, "MAP_PRIVATE|MAP_FIXED_NOREPLACE"),
    ],
)
def test_mmap_flags(value, expected):
    assert fl.mmap_flags(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0x1200000 | 17, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"),
        (17, "SIGCHLD"),
        (0, "0"),
        (0x10000 | 0x400000, "CLONE_THREAD|0x400000"),
        (0x800 | 10, "CLONE_SIGHAND|SIGUSR1"),
        (0x4000 | 0x100 | 17, "CLONE_VM|CLONE_VFORK|SIGCHLD"),
        (
            0x3D0F00,
            "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM"
            "|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID",
        ),
    ],
)
def test_clone_flags(value, expected):
    assert fl.clone_flags(value) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "SIGHUP"),
        (6, "SIGABRT"),
        (17, "SIGCHLD"),
        (29, "SIGIO"),
        (31, "SIGSYS"),
        (32, "SIGRTMIN"),
        (33, "SIGRT_1"),
        (40, "SIGRT_8"),
        (64, "SIGRT_32"),
        (0, "0"),
        (99, "99"),
        (0xFFFFFFFF, "-1"),
    ],
)
def test_signals(number, expected):
    assert fl.signal(number) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0o644, "0644"), (0, "000"), (0o7, "007"), (0o22, "022"), (0o4755, "04755")],
)
def test_modes(value, expected):
    assert fl.mode(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0o100644, "S_IFREG|0644"),
        (0o10600, "S_IFIFO|0600"),
        (0o20000 | 0o4000 | 0o600, "S_IFCHR|S_ISUID|0600"),
        (0o40000 | 0o1000 | 0o777, "S_IFDIR|S_ISVTX|0777"),
        (0o644, "0644"),  # no type bits: just the number
        (0o170644, "0170644"),  # an unknown type: the whole number
    ],
)
def test_file_modes(value, expected):
    assert fl.file_mode(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "SOCK_STREAM"),
        (2 | 0o2000000, "SOCK_DGRAM|SOCK_CLOEXEC"),
        (1 | 0o2000000 | 0o4000, "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK"),
        (1 | 0x100, "SOCK_STREAM|0x100 /* SOCK_??? */"),
        (12, "0xc /* SOCK_??? */"),
    ],
)
def test_socket_types(value, expected):
    assert fl.socket_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "AT_STATX_SYNC_AS_STAT"),
        (0x800, "AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT"),
        (0x2000 | 0x100 | 0x10000000, "AT_STATX_FORCE_SYNC|AT_SYMLINK_NOFOLLOW|0x10000000"),
        (0x1000, "AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH"),
    ],
)
def test_statx_flags(value, expected):
    assert fl.statx_flags(value) == expected


def test_memfd_flags():
    assert fl.memfd_flags(0) == "0"
    assert fl.memfd_flags(1) == "MFD_CLOEXEC"
    assert fl.memfd_flags(4 | (21 << 26)) == "MFD_HUGETLB|21<<MFD_HUGE_SHIFT"
    assert fl.memfd_flags(21 << 26) == "21<<MFD_HUGE_SHIFT"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0x5401, "TCGETS"),
        (0x5413, "TIOCGWINSZ"),
        (0x541B, "FIONREAD"),
        (0x5451, "FIOCLEX"),
        (0x12345678, "_IOC(_IOC_NONE, 0x56, 0x78, 0x1234)"),
        (0x5499, "_IOC(_IOC_NONE, 0x54, 0x99, 0)"),
        (0x80087899, "_IOC(_IOC_READ, 0x78, 0x99, 0x8)"),
        (0xC0087899, "_IOC(_IOC_READ|_IOC_WRITE, 0x78, 0x99, 0x8)"),
    ],
)
def test_ioctl_requests(value, expected):
    assert fl.ioctl_request(value) == expected


def test_hexnum_and_octal_mode():
    assert fl.hexnum(0) == "0"
    assert fl.hexnum(0x1F) == "0x1f"
    assert fl.octal_mode(0) == "000"


# --- quoting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"hello\n", '"hello\\n"'),
        (b'\t"q" \\ \r\v\f', '"\\t\\"q\\" \\\\ \\r\\v\\f"'),
        (b"\x00\x01\x7f\xff", '"\\0\\1\\177\\377"'),
        (b"\x012", '"\\0012"'),  # a digit after an escape: three digits
        (b"\x018", '"\\18"'),  # 8 is no octal digit
        (b"", '""'),
    ],
)
def test_quote(data, expected):
    assert render.quote(data) == expected


def test_quote_every_byte_before_every_byte():
    """quote's table path and its byte-by-byte path (taken when an octal escape precedes an
    octal digit) agree with the examples above; here, every pair of bytes, each way round,
    against the byte-by-byte rules, which the examples pin to strace's."""
    for first in range(256):
        for second in range(256):
            pair = bytes((first, second))
            assert render.quote(pair) == '"' + render._quote_bytewise(pair) + '"', pair


def test_buffer_cut_at_the_limit():
    data = b"\x012\x034567890123456789012345678901\x012"
    write = Call("write", args(1, PTR, 33), retval=33, memory={1: data})
    # The last shown byte is \1 and the 2 after it is not shown: short escape, then "...".
    assert decode.arguments(write, 32)[1] == '"\\0012\\0034567890123456789012345678901\\1"...'
    exact = Call("write", args(1, PTR, 32), retval=32, memory={1: data[:32]})
    assert decode.arguments(exact, 32)[1] == '"\\0012\\0034567890123456789012345678901\\1"'
    assert decode.arguments(write, None)[1].endswith('\\0012"')
    assert decode.arguments(write, 4)[1] == '"\\0012\\0034"...'


def test_buffer_copied_partly_is_marked():
    call = Call("write", args(1, PTR, 10000), memory={1: b"x" * 4096}, truncated={1})
    assert decode.arguments(call, None)[1] == '"' + "x" * 4096 + '"...'
    assert decode.arguments(call, 3)[1] == '"xxx"...'


def test_paths_are_never_cut():
    path = "/" + "d" * 100
    call = Call("chdir", args(PTR), memory={0: path.encode()})
    assert decode.arguments(call, 32) == [f'"{path}"']


def test_unreadable_memory_shows_the_pointer():
    assert show("chdir", PTR, faults={0}) == hex(PTR)
    assert show("chdir", 0) == "NULL"
    assert show("write", 1, PTR, 5, retval=5, faults={1}) == f"1, {hex(PTR)}, 5"


# --- decoders, one by one -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values", "kwargs", "expected"),
    [
        # open family: the mode only with O_CREAT or O_TMPFILE
        ("open", (PTR, 0), {"memory": {0: b"/etc/passwd"}}, '"/etc/passwd", O_RDONLY'),
        (
            "open",
            (PTR, 0o1101, 0o644),
            {"memory": {0: b"f"}},
            '"f", O_WRONLY|O_CREAT|O_TRUNC, 0644',
        ),
        (
            "openat",
            (AT_FDCWD, PTR, 0o2000000, 0o777),
            {"memory": {1: b"/lib/libc.so.6"}},
            'AT_FDCWD, "/lib/libc.so.6", O_RDONLY|O_CLOEXEC',
        ),
        (
            "openat",
            (3, PTR, 0o20200002, 0o600),
            {"memory": {1: b"."}},
            '3, ".", O_RDWR|O_TMPFILE, 0600',
        ),
        (
            "openat",
            (AT_FDCWD, PTR, 0o100, 0),
            {"memory": {1: b"x"}},
            'AT_FDCWD, "x", O_RDONLY|O_CREAT, 000',
        ),
        (
            "openat2",
            (AT_FDCWD, PTR, PTR + 8, 24),
            {"memory": {1: b"/tmp"}},
            f'AT_FDCWD, "/tmp", {hex(PTR + 8)}, 24',
        ),
        ("creat", (PTR, 0o600), {"memory": {0: b"new"}}, '"new", 0600'),
        # data
        ("read", (3, PTR, 832), {"retval": 4, "memory": {1: b"\x7fELF"}}, '3, "\\177ELF", 832'),
        ("read", (3, PTR, 4096), {"retval": 0}, '3, "", 4096'),
        ("read", (3, PTR, 4096), {"retval": -11}, f"3, {hex(PTR)}, 4096"),
        ("write", (1, PTR, 3), {"retval": 3, "memory": {1: b"hi\n"}}, '1, "hi\\n", 3'),
        ("write", (1, PTR, 0), {"retval": 0}, '1, "", 0'),
        ("pread64", (3, PTR, 10, 64), {"retval": 2, "memory": {1: b"ab"}}, '3, "ab", 10, 64'),
        ("pwrite64", (3, PTR, 3, 3), {"retval": 3, "memory": {1: b"abc"}}, '3, "abc", 3, 3'),
        ("close", (3,), {}, "3"),
        ("close", (MINUS_ONE,), {}, "-1"),
        # stat family: the struct pointer stays a pointer
        ("stat", (PTR, PTR + 16), {"memory": {0: b"/"}}, f'"/", {hex(PTR + 16)}'),
        ("lstat", (PTR, 0), {"memory": {0: b"/"}}, '"/", NULL'),
        ("fstat", (3, PTR), {}, f"3, {hex(PTR)}"),
        (
            "newfstatat",
            (3, PTR, PTR + 16, 0x1000),
            {"memory": {1: b""}},
            f'3, "", {hex(PTR + 16)}, AT_EMPTY_PATH',
        ),
        (
            "newfstatat",
            (AT_FDCWD, PTR, PTR + 16, 0),
            {"memory": {1: b"x"}},
            f'AT_FDCWD, "x", {hex(PTR + 16)}, 0',
        ),
        (
            "statx",
            (AT_FDCWD, PTR, 0x800, 2, PTR + 16),
            {"memory": {1: b"/tmp"}},
            f'AT_FDCWD, "/tmp", AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT, STATX_MODE, {hex(PTR + 16)}',
        ),
        # access family
        ("access", (PTR, 4), {"memory": {0: b"/etc/ld.so.preload"}}, '"/etc/ld.so.preload", R_OK'),
        ("faccessat", (100, PTR, 0), {"memory": {1: b"rel"}}, '100, "rel", F_OK'),
        (
            "faccessat2",
            (AT_FDCWD, PTR, 1, 0x300),
            {"memory": {1: b"/"}},
            'AT_FDCWD, "/", X_OK, AT_SYMLINK_NOFOLLOW|AT_EACCESS',
        ),
        # memory
        (
            "mmap",
            (0, 8192, 3, 0x22, MINUS_ONE, 0),
            {"retval": PTR},
            "NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0",
        ),
        (
            "mmap",
            (PTR, 4096, 5, 0x812, 3, 0x26000),
            {"retval": PTR},
            f"{hex(PTR)}, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, "
            "0x26000",
        ),
        ("mprotect", (PTR, 4096, 1), {}, f"{hex(PTR)}, 4096, PROT_READ"),
        ("munmap", (PTR, 34547), {}, f"{hex(PTR)}, 34547"),
        ("brk", (0,), {"retval": PTR}, "NULL"),
        ("brk", (PTR,), {"retval": PTR}, hex(PTR)),
        # processes
        (
            "execve",
            (PTR, PTR + 8, PTR + 16),
            {"memory": {0: b"/usr/bin/ls"}},
            f'"/usr/bin/ls", {hex(PTR + 8)}, {hex(PTR + 16)}',
        ),
        (
            "execveat",
            (3, PTR, PTR + 8, 0, 0x1000),
            {"memory": {1: b""}},
            f'3, "", {hex(PTR + 8)}, NULL, AT_EMPTY_PATH',
        ),
        (
            "clone",
            (0x1200011, 0, 0, PTR, 0),
            {"retval": 1234},
            "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            f"child_tidptr={hex(PTR)}",
        ),
        (
            "clone",
            (0x3D0F00, PTR, PTR + 8, PTR + 8, PTR + 16),
            {"retval": 1234},
            f"child_stack={hex(PTR)}, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND"
            "|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, "
            f"parent_tid={hex(PTR + 8)}, tls={hex(PTR + 16)}, child_tidptr={hex(PTR + 8)}",
        ),
        ("clone", (17,), {"retval": 1234}, "child_stack=NULL, flags=SIGCHLD"),
        ("clone3", (PTR, 88), {"retval": 1234}, f"{hex(PTR)}, 88"),
        ("fork", (), {"retval": 1234}, ""),
        ("vfork", (), {"retval": 1234}, ""),
        ("wait4", (MINUS_ONE, PTR, 0, 0), {"retval": 1234}, f"-1, {hex(PTR)}, 0, NULL"),
        (
            "wait4",
            (MINUS_ONE, 0, 1 | 0x40000000 | 0x100, 0),
            {"retval": -22},
            "-1, NULL, WNOHANG|__WALL|0x100, NULL",
        ),
        ("exit_group", (0,), {"retval": None}, "0"),
        ("exit_group", (MINUS_ONE,), {"retval": None}, "-1"),
        # signals
        ("rt_sigaction", (2, PTR, 0, 8), {}, f"SIGINT, {hex(PTR)}, NULL, 8"),
        ("rt_sigaction", (33, 0, PTR, 8), {}, f"SIGRT_1, NULL, {hex(PTR)}, 8"),
        ("rt_sigprocmask", (0, PTR, PTR + 8, 8), {}, f"SIG_BLOCK, {hex(PTR)}, {hex(PTR + 8)}, 8"),
        ("rt_sigprocmask", (5, 0, 0, 8), {}, "0x5 /* SIG_??? */, NULL, NULL, 8"),
        ("kill", (1234, 15), {}, "1234, SIGTERM"),
        ("kill", (1234, 0), {}, "1234, 0"),
        ("kill", (MINUS_ONE, 9), {}, "-1, SIGKILL"),
        ("tgkill", (1234, 1235, 6), {}, "1234, 1235, SIGABRT"),
        # sockets
        ("socket", (2, 0o2000001, 0), {}, "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP"),
        ("socket", (1, 2, 0), {}, "AF_UNIX, SOCK_DGRAM, 0"),
        ("socket", (16, 3, 0), {}, "AF_NETLINK, SOCK_RAW, NETLINK_ROUTE"),
        ("connect", (3, PTR, 110), {}, f"3, {hex(PTR)}, 110"),
        ("bind", (3, PTR, 16), {}, f"3, {hex(PTR)}, 16"),
        ("accept4", (3, 0, 0, 0o2000000), {}, "3, NULL, NULL, SOCK_CLOEXEC"),
        ("accept4", (3, PTR, PTR + 8, 0), {}, f"3, {hex(PTR)}, {hex(PTR + 8)}, 0"),
        (
            "sendto",
            (3, PTR, 4, 0x4040, 0, 0),
            {"retval": 4, "memory": {1: b"ping"}},
            '3, "ping", 4, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0',
        ),
        (
            "recvfrom",
            (3, PTR, 10, 0, 0, 0),
            {"retval": 4, "memory": {1: b"pong"}},
            '3, "pong", 10, 0, NULL, NULL',
        ),
        (
            "recvfrom",
            (3, PTR, 10, 0, PTR + 8, PTR + 16),
            {"retval": -11},
            f"3, {hex(PTR)}, 10, 0, {hex(PTR + 8)}, {hex(PTR + 16)}",
        ),
        # descriptors
        ("pipe2", (PTR, 0o2000000), {}, f"{hex(PTR)}, O_CLOEXEC"),
        ("pipe2", (PTR, 0), {}, f"{hex(PTR)}, 0"),
        ("pipe2", (PTR, 1), {"retval": -22}, f"{hex(PTR)}, 0x1 /* O_??? */"),
        ("dup2", (3, 10), {"retval": 10}, "3, 10"),
        ("dup3", (3, 10, 0o2000000), {"retval": 10}, "3, 10, O_CLOEXEC"),
        ("fcntl", (3, 1), {"retval": 1}, "3, F_GETFD"),
        ("fcntl", (3, 2, 1), {}, "3, F_SETFD, FD_CLOEXEC"),
        ("fcntl", (3, 2, 3), {}, "3, F_SETFD, FD_CLOEXEC|0x2"),
        ("fcntl", (3, 3), {"retval": 0o100002}, "3, F_GETFL"),
        ("fcntl", (3, 4, 0o4000), {}, "3, F_SETFL, O_RDONLY|O_NONBLOCK"),
        ("fcntl", (3, 0, 10), {"retval": 10}, "3, F_DUPFD, 10"),
        ("fcntl", (3, 1030, 0), {"retval": 4}, "3, F_DUPFD_CLOEXEC, 0"),
        ("fcntl", (3, 6, PTR), {}, f"3, F_SETLK, {hex(PTR)}"),
        ("fcntl", (3, 10, 12), {}, "3, F_SETSIG, SIGUSR2"),
        ("fcntl", (3, 999, 0x1234), {"retval": -22}, "3, 0x3e7 /* F_??? */, 0x1234"),
        ("ioctl", (1, 0x5401, PTR), {"retval": -25}, f"1, TCGETS, {hex(PTR)}"),
        ("ioctl", (1, 0x5413, PTR), {}, f"1, TIOCGWINSZ, {hex(PTR)}"),
        ("ioctl", (3, 0x5451), {}, "3, FIOCLEX"),
        ("ioctl", (3, 0x540A, 1), {}, "3, TCXONC, TCOON"),
        ("ioctl", (3, 0x540E, 0), {}, "3, TIOCSCTTY, 0"),
        ("ioctl", (1, 0x12345678, 0), {}, "1, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0"),
        # directories and links
        ("getdents64", (3, PTR, 32768), {"retval": 200}, f"3, {hex(PTR)}, 32768"),
        (
            "readlink",
            (PTR, PTR + 64, 4096),
            {"retval": 10, "memory": {0: b"/proc/self/exe", 1: b"python3.11"}},
            '"/proc/self/exe", "python3.11", 4096',
        ),
        (
            "readlink",
            (PTR, PTR + 64, 4096),
            {"retval": -22, "memory": {0: b"/etc"}},
            f'"/etc", {hex(PTR + 64)}, 4096',
        ),
        (
            "readlinkat",
            (AT_FDCWD, PTR, PTR + 64, 3),
            {"retval": 3, "memory": {1: b"/proc/self/cwd", 2: b"/tm"}},
            'AT_FDCWD, "/proc/self/cwd", "/tm", 3',
        ),
        ("chdir", (PTR,), {"memory": {0: b"/tmp"}}, '"/tmp"'),
        ("getcwd", (PTR, 4096), {"retval": 9, "memory": {0: b"/tmp/dec\0"}}, '"/tmp/dec", 4096'),
        ("getcwd", (PTR, 2), {"retval": -34}, f"{hex(PTR)}, 2"),
        # limits, futexes, the rest of process start-up
        ("prlimit64", (0, 3, 0, PTR), {}, f"0, RLIMIT_STACK, NULL, {hex(PTR)}"),
        ("prlimit64", (0, 99, 0, 0), {"retval": -22}, "0, 0x63 /* RLIMIT_??? */, NULL, NULL"),
        ("futex", (PTR, 129, 0x7FFFFFFF), {}, f"{hex(PTR)}, FUTEX_WAKE_PRIVATE, 2147483647"),
        ("futex", (PTR, 128, 2, 0), {}, f"{hex(PTR)}, FUTEX_WAIT_PRIVATE, 2, NULL"),
        (
            "futex",
            (PTR, 9 | 128 | 256, 0, 0, 0, 0xFFFFFFFF),
            {},
            f"{hex(PTR)}, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, "
            "FUTEX_BITSET_MATCH_ANY",
        ),
        ("futex", (PTR, 10, 1, 0, 0, 5), {}, f"{hex(PTR)}, FUTEX_WAKE_BITSET, 1, 0x5"),
        (
            "futex",
            (PTR, 4 | 128, 1, 2, PTR + 8, 3),
            {},
            f"{hex(PTR)}, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, {hex(PTR + 8)}, 3",
        ),
        (
            "futex",
            (PTR, 5 | 128, 1, 2, PTR + 8, 0x14001000),
            {},
            f"{hex(PTR)}, FUTEX_WAKE_OP_PRIVATE, 1, 2, {hex(PTR + 8)}, "
            "FUTEX_OP_ADD<<28|0x1<<12|FUTEX_OP_CMP_GT<<24|0",
        ),
        ("futex", (PTR, 99, 1), {}, f"{hex(PTR)}, 0x63 /* FUTEX_??? */, 1, NULL, NULL, 0"),
        ("set_tid_address", (PTR,), {"retval": 1234}, hex(PTR)),
        ("arch_prctl", (0x1002, PTR), {}, f"ARCH_SET_FS, {hex(PTR)}"),
        ("arch_prctl", (0x3001, 0), {"retval": -22}, "0x3001 /* ARCH_??? */, 0"),
        ("arch_prctl", (0x1011,), {"retval": 1}, "ARCH_GET_CPUID"),
        ("arch_prctl", (0x1003, PTR), {}, f"ARCH_GET_FS, {hex(PTR)}"),
        ("getrandom", (PTR, 8, 1), {"retval": 8}, f"{hex(PTR)}, 8, GRND_NONBLOCK"),
        ("getrandom", (PTR, 0, 0), {"retval": 0}, '"", 0, 0'),
        (
            "getrandom",
            (PTR, 4, 1),
            {"retval": 4, "memory": {0: b"A\x00\xff\x10"}},
            '"\\x41\\x00\\xff\\x10", 4, GRND_NONBLOCK',
        ),
        ("getrandom", (PTR, 0, 8), {"retval": -22}, f"{hex(PTR)}, 0, 0x8 /* GRND_??? */"),
        ("lseek", (3, 0, 0), {}, "3, 0, SEEK_SET"),
        ("lseek", (3, 2**64 - 3, 1), {}, "3, -3, SEEK_CUR"),
        ("lseek", (0, 0, 7), {"retval": -22}, "0, 0, 0x7 /* SEEK_??? */"),
        ("rseq", (PTR, 0x20, 0, 0x53053053), {}, f"{hex(PTR)}, 0x20, 0, 0x53053053"),
        ("umask", (0o22,), {"retval": 0}, "022"),
        (
            "mknodat",
            (AT_FDCWD, PTR, 0o20000 | 0o4600, 0x103),
            {"memory": {1: b"chr"}},
            'AT_FDCWD, "chr", S_IFCHR|S_ISUID|0600, makedev(0x1, 0x3)',
        ),
        ("mknodat", (AT_FDCWD, PTR, 0o10600), {"memory": {1: b"p"}}, 'AT_FDCWD, "p", S_IFIFO|0600'),
        ("memfd_create", (PTR, 1), {"memory": {0: b"mem"}}, '"mem", MFD_CLOEXEC'),
        ("eventfd2", (0, 0o2004000), {}, "0, EFD_CLOEXEC|EFD_NONBLOCK"),
        ("epoll_create1", (0o2000000,), {}, "EPOLL_CLOEXEC"),
        ("epoll_ctl", (5, 1, 4, PTR), {}, f"5, EPOLL_CTL_ADD, 4, {hex(PTR)}"),
        ("fadvise64", (3, 0, 0, 2), {}, "3, 0, 0, POSIX_FADV_SEQUENTIAL"),
        (
            "copy_file_range",
            (3, 0, 1, 0, 2**63 - 1, 0),
            {},
            f"3, NULL, 1, NULL, {2**63 - 1}, 0",
        ),
    ],
)
def test_decoder(name, values, kwargs, expected):
    assert name in decode.DECODERS
    assert show(name, *values, **kwargs) == expected


def test_unknown_syscalls_use_the_plain_rendering():
    assert decode.decoder_for("getppid") is None
    call = Call("getppid", args(), retval=1)
    assert decode.arguments(call) == []
    assert decode.line(call) == "getppid() = 1"
    # A prototype-less call: six raw registers in hex, as strace prints a call it cannot decode
    # (`syscall_0x3e7(0x55f720ced0a0, 0, 0x11, ...)`).
    odd = Call("syscall_0x3e7", args(PTR, 0, 17, 1, MINUS_ONE, 6), retval=-38)
    assert decode.arguments(odd) == [hex(PTR), "0", "0x11", "0x1", "0xffffffffffffffff", "0x6"]


def test_rt_sigreturn_prints_the_mask_its_frame_restores():
    # The engine labels the 8 bytes it read from the signal frame argument 0.
    mask = (1 << (2 - 1)) | (1 << (15 - 1))  # SIGINT, SIGTERM
    call = Call("rt_sigreturn", args(), retval=0, memory={0: mask.to_bytes(8, "little")})
    assert decode.line(call) == "rt_sigreturn({mask=[INT TERM]}) = 0"
    assert decode.line(Call("rt_sigreturn", args(), retval=0, memory={0: bytes(8)})) == (
        "rt_sigreturn({mask=[]}) = 0"
    )
    # Not read (seccomp-notify has no stack pointer; an i386 frame): no argument at all.
    assert decode.line(Call("rt_sigreturn", args(), retval=0)) == "rt_sigreturn() = 0"
    i386 = Call("rt_sigreturn", args(), retval=0, memory={0: bytes(8)}, arch="i386")
    assert decode.arguments(i386) == []


def test_rusage_prints_its_two_times_then_an_ellipsis():
    import struct

    times = struct.pack("<qqqq", 1, 2500, 0, 16158) + bytes(112)
    usage = Call("getrusage", args(0, PTR), retval=0, memory={1: times[:32]})
    expected = "{ru_utime={tv_sec=1, tv_usec=2500}, ru_stime={tv_sec=0, tv_usec=16158}, ...}"
    assert decode.arguments(usage) == ["RUSAGE_SELF", expected]
    children = Call("getrusage", args(MINUS_ONE, 0), retval=-14)
    assert decode.arguments(children) == ["RUSAGE_CHILDREN", "NULL"]
    status = (3 << 8).to_bytes(4, "little")
    wait = Call("wait4", args(MINUS_ONE, PTR, 0, PTR), retval=77, memory={1: status, 3: times[:32]})
    assert decode.arguments(wait)[3] == expected
    failed = Call("getrusage", args(0, PTR), retval=-14, memory={1: times[:32]})
    assert decode.arguments(failed)[1] == hex(PTR)  # the kernel wrote nothing


def test_socket_options_as_strace_prints_them():
    one = (1).to_bytes(4, "little")
    set_int = Call("setsockopt", args(3, 1, 2, PTR, 4), retval=0, memory={3: one})
    assert show_call(set_int) == "3, SOL_SOCKET, SO_REUSEADDR, [1], 4"
    device = Call("setsockopt", args(3, 1, 25, PTR, 3), retval=0, memory={3: b"lo\0"})
    assert show_call(device) == '3, SOL_SOCKET, SO_BINDTODEVICE, "lo\\0", 3'
    linger = (1).to_bytes(4, "little") + (5).to_bytes(4, "little")
    set_linger = Call("setsockopt", args(3, 1, 13, PTR, 8), retval=0, memory={3: linger})
    assert show_call(set_linger) == "3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=5}, 8"
    odd = Call("setsockopt", args(3, 77, 1, PTR, 4), retval=-92, memory={3: one})
    assert show_call(odd) == "3, 0x4d /* SOL_?? */, 1, [1], 4"
    unknown = Call("setsockopt", args(3, 6, 99, PTR, 4), retval=-92, memory={3: one})
    assert show_call(unknown) == "3, SOL_TCP, 0x63 /* TCP_??? */, [1], 4"
    # getsockopt: the value and its length as the kernel left them (CAPTURE_SOCKADDR_OUT).
    two = (2).to_bytes(4, "little")
    memory = {4: (16).to_bytes(4, "little"), 4 + 8: (4).to_bytes(4, "little"), 3: one}
    got = Call("getsockopt", args(3, 1, 3, PTR, PTR), retval=0, memory=memory)
    assert show_call(got) == "3, SOL_SOCKET, SO_TYPE, [1], [16 => 4]"
    short = {4: two, 4 + 8: two, 3: b"\0\0"}
    got_short = Call("getsockopt", args(3, 1, 8, PTR, PTR), retval=0, memory=short)
    assert show_call(got_short) == '3, SOL_SOCKET, SO_RCVBUF, "\\x00\\x00", [2]'
    failed = Call("getsockopt", args(3, 1, 4, PTR, 0), retval=-14)
    assert show_call(failed) == f"3, SOL_SOCKET, SO_ERROR, {hex(PTR)}, NULL"


def test_times_locks_ids_and_groups(monkeypatch):
    import struct

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        pair = struct.pack("<qqqq", 100, 5, 200, 0)
        touch = Call(
            "utimensat", args(AT_FDCWD, PTR, PTR, 0x100), retval=0, memory={1: b"f", 2: pair}
        )
        assert show_call(touch) == (
            'AT_FDCWD, "f", [{tv_sec=100, tv_nsec=5} /* 1970-01-01T00:01:40.000000005+0000 */, '
            "{tv_sec=200, tv_nsec=0} /* 1970-01-01T00:03:20+0000 */], AT_SYMLINK_NOFOLLOW"
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    now = struct.pack("<qqqq", 0, (1 << 30) - 1, 0, (1 << 30) - 2)
    touch_now = Call("utimensat", args(3, 0, PTR, 0), retval=0, memory={2: now})
    assert show_call(touch_now) == "3, NULL, [UTIME_NOW, UTIME_OMIT], 0"
    tv = struct.pack("<qq", 1795805011, 955927)
    tod = Call("gettimeofday", args(PTR, PTR + 16), retval=0, memory={0: tv, 1: bytes(8)})
    assert show_call(tod) == (
        "{tv_sec=1795805011, tv_usec=955927}, {tz_minuteswest=0, tz_dsttime=0}"
    )
    lock = struct.pack("<hh4xqqi4x", 1, 0, 0, 0, 0)
    setlk = Call("fcntl", args(6, 7, PTR), retval=-4, memory={2: lock})
    assert (
        show_call(setlk) == "6, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}"
    )
    ids = {i: (1000).to_bytes(4, "little") for i in range(3)}
    assert show_call(Call("getresuid", args(PTR, PTR, PTR), retval=0, memory=ids)) == (
        "[1000], [1000], [1000]"
    )
    many = b"".join(g.to_bytes(4, "little") for g in range(40))
    groups = Call("getgroups", args(40, PTR), retval=40, memory={1: many[:128]})
    assert show_call(groups) == "40, [" + ", ".join(map(str, range(32))) + ", ...]"
    assert show_call(Call("getgroups", args(0, 0), retval=3)) == "0, NULL"
    assert show_call(Call("getgroups", args(8, PTR), retval=-14)) == f"8, {hex(PTR)}"


def test_select_sets_and_the_time_left():
    import struct

    nfds, before, after = 6, (0b10011).to_bytes(8, "little"), (0b10000).to_bytes(8, "little")
    left = struct.pack("<qq", 0, 250)
    memory = {1: before, 3: before, 4: struct.pack("<qq", 1, 0), 9: after, 11: after, 12: left}
    call = Call("pselect6", args(nfds, PTR, 0, PTR, PTR, 0), retval=2, memory=memory)
    assert decode.line(call) == (
        "pselect6(6, [0 1 4], NULL, [0 1 4], {tv_sec=1, tv_nsec=0}, NULL) = 2 "
        "(in [4], except [4], left {tv_sec=0, tv_nsec=250})"
    )
    timeout = Call("select", args(1, PTR, 0, 0, PTR), retval=0, memory={1: before, 4: bytes(16)})
    assert decode.line(timeout) == "select(1, [0], NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)"
    i386 = Call("select", args(1, PTR, 0, 0, 0), retval=1, memory={1: before}, arch="i386")
    assert decode.result(i386) == "1"


def test_iovecs_as_the_engine_copies_them():
    import struct

    def record(length: int, data: bytes, flag: int = 0) -> bytes:
        return struct.pack("<QBI", length, flag, len(data)) + data

    pieces = record(6, b"hello ") + record(5, b"world") + record(100, b"x" * 40, flag=1)
    writev = Call("writev", args(1, PTR, 3), retval=111, memory={1: pieces})
    assert show_call(writev) == (
        '1, [{iov_base="hello ", iov_len=6}, {iov_base="world", iov_len=5}, '
        '{iov_base="' + "x" * 32 + '"..., iov_len=100}], 3'
    )
    unreadable = record(4, PTR.to_bytes(8, "little"), flag=2)
    bad = Call("writev", args(1, PTR, 1), retval=-14, memory={1: unreadable})
    assert show_call(bad) == f"1, [{{iov_base={hex(PTR)}, iov_len=4}}], 1"
    many = b"".join(record(1, b"y") for _ in range(3))
    cut = Call("writev", args(1, PTR, 40), retval=40, memory={1: many}, truncated=frozenset({1}))
    assert show_call(cut).endswith('{iov_base="y", iov_len=1}, ...], 40')
    assert show_call(Call("writev", args(1, 0, 0), retval=0)) == "1, NULL, 0"
    assert show_call(Call("readv", args(3, PTR, 2), retval=-11)) == f"3, {hex(PTR)}, 2"


def test_uname_sysinfo_statfs():
    import struct

    names = b"Linux".ljust(65, b"\0") + b"vm".ljust(65, b"\0") + bytes(6)
    assert show_call(Call("uname", args(PTR), retval=0, memory={0: names})) == (
        '{sysname="Linux", nodename="vm", ...}'
    )
    info = struct.pack("<q3Q6QH6xQQI", 53984, 1, 2, 3, 100, 50, 9, 8, 0, 0, 92, 0, 0, 1)
    assert show_call(Call("sysinfo", args(PTR), retval=0, memory={0: info + bytes(4)})) == (
        "{uptime=53984, loads=[1, 2, 3], totalram=100, freeram=50, sharedram=9, bufferram=8, "
        "totalswap=0, freeswap=0, procs=92, totalhigh=0, freehigh=0, mem_unit=1}"
    )
    fs = struct.pack("<qqQQQQQiiqqq", 0xEF53, 4096, 10, 5, 4, 100, 90, 0x1234, 0, 255, 4096, 0x1020)
    assert show_call(Call("fstatfs", args(3, PTR), retval=0, memory={1: fs})) == (
        "3, {f_type=EXT2_SUPER_MAGIC, f_bsize=4096, f_blocks=10, f_bfree=5, f_bavail=4, "
        "f_files=100, f_ffree=90, f_fsid={val=[0x1234, 0]}, f_namelen=255, f_frsize=4096, "
        "f_flags=ST_VALID|ST_RELATIME}"
    )


def test_a_sleep_shows_the_time_left_only_when_a_signal_cut_it_short():
    import struct

    asked, left = struct.pack("<qq", 1, 0), struct.pack("<qq", 0, 813407913)
    cut = Call("nanosleep", args(PTR, PTR + 16), retval=-516, memory={0: asked, 1: left})
    assert show_call(cut) == "{tv_sec=1, tv_nsec=0}, {tv_sec=0, tv_nsec=813407913}"
    whole = Call("nanosleep", args(PTR, PTR + 16), retval=0, memory={0: asked})
    assert show_call(whole) == f"{{tv_sec=1, tv_nsec=0}}, {hex(PTR + 16)}"
    assert show_call(Call("nanosleep", args(PTR, 0), retval=0, memory={0: asked})).endswith("NULL")


def test_timer_settings():
    import struct

    setting = struct.pack("<qqqq", 0, 5000000, 1, 0)
    text = "{it_interval={tv_sec=0, tv_nsec=5000000}, it_value={tv_sec=1, tv_nsec=0}}"
    memory = {2: setting, 3: bytes(32)}
    arm = Call("timer_settime", args(0, 1, PTR, PTR + 32), retval=0, memory=memory)
    zero = "{it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=0}}"
    assert show_call(arm) == f"0, TIMER_ABSTIME, {text}, {zero}"
    read = Call("timerfd_gettime", args(3, PTR), retval=0, memory={1: setting})
    assert show_call(read) == f"3, {text}"
    assert show_call(Call("timerfd_gettime", args(3, PTR), retval=-9)) == f"3, {hex(PTR)}"


def test_a_failing_decoder_falls_back_to_the_raw_arguments(monkeypatch):
    def broken(a: decode.Args) -> list[str]:
        raise ValueError("a value nobody foresaw")

    monkeypatch.setitem(decode.DECODERS, "getppid", broken)
    monkeypatch.setitem(decode.RESULT_DECODERS, "getppid", broken)
    call = Call("getppid", args(), retval=7)
    with pytest.raises(ValueError):  # the suite runs strict (conftest)
        decode.arguments(call)
    monkeypatch.setattr(decode, "_STRICT", False)
    assert decode.line(call) == "getppid() = 7"


def show_call(call: Call) -> str:
    return ", ".join(decode.arguments(call))


def test_i386_calls():
    clone = Call("clone", args(0x3D0F00, PTR & 0xFFFFFFFF, 8, 16, 24), arch="i386")
    assert decode.arguments(clone)[2:] == ["parent_tid=0x8", "tls=0x10", "child_tidptr=0x18"]
    mmap2 = Call("mmap2", args(0, 4096, 1, 2, 3, 2), retval=0xF7F00000, arch="i386")
    assert decode.line(mmap2) == "mmap2(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x2000) = 0xf7f00000"
    lseek = Call("lseek", args(3, 0xFFFFFFFF, 1), arch="i386")
    assert decode.arguments(lseek) == ["3", "-1", "SEEK_CUR"]


# --- results --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (Call("mmap", args(0, 4096, 3, 0x22, MINUS_ONE), retval=PTR), hex(PTR)),
        (
            Call("mmap", args(0, 4096, 3, 0x22, MINUS_ONE), retval=-12),
            "-1 ENOMEM (Cannot allocate memory)",
        ),
        (Call("brk", args(0), retval=0x55C0601000), "0x55c0601000"),
        (Call("brk", args(0), retval=0), "0"),
        (Call("umask", args(0), retval=0o22), "022"),
        (Call("umask", args(0o22), retval=0), "000"),
        (Call("fcntl", args(3, 1), retval=1), "0x1 (flags FD_CLOEXEC)"),
        (Call("fcntl", args(3, 1), retval=0), "0"),
        (Call("fcntl", args(3, 3), retval=0), "0 (flags O_RDONLY)"),
        (Call("fcntl", args(3, 3), retval=0o100002), "0x8002 (flags O_RDWR|O_LARGEFILE)"),
        (Call("fcntl", args(3, 1025), retval=2), "0x2 (F_UNLCK)"),
        (Call("fcntl", args(3, 11), retval=12), "12 (SIGUSR2)"),
        (Call("fcntl", args(3, 0, 10), retval=10), "10"),
        (Call("poll", args(PTR, 1, 0), retval=0), "0 (Timeout)"),
        (
            Call("openat", args(AT_FDCWD, PTR, 0), retval=-2),
            "-1 ENOENT (No such file or directory)",
        ),
        (Call("read", args(0, PTR, 1), retval=-11), "-1 EAGAIN (Resource temporarily unavailable)"),
        (Call("read", args(0, PTR, 1), retval=-95), "-1 EOPNOTSUPP (Operation not supported)"),
        (Call("read", args(0, PTR, 1), retval=-35), "-1 EDEADLK (Resource deadlock avoided)"),
        (Call("read", args(0, PTR, 1), retval=-41), "-1 ERRNO_41 (Unknown error 41)"),
        (Call("exit_group", args(0), retval=None), "?"),
        (
            Call("wait4", args(MINUS_ONE), retval=-512),
            "? ERESTARTSYS (To be restarted if SA_RESTART is set)",
        ),
        (Call("pause", args(), retval=-514), "? ERESTARTNOHAND (To be restarted if no handler)"),
        (
            Call("nanosleep", args(PTR, PTR), retval=-516),
            "? ERESTART_RESTARTBLOCK (Interrupted by signal)",
        ),
        (Call("read", args(0, PTR, 1), retval=-513), "? ERESTARTNOINTR (To be restarted)"),
        (Call("ioctl", args(0, 1), retval=-515), "-1 ENOIOCTLCMD (Unknown error 515)"),
    ],
)
def test_results(call, expected):
    assert decode.result(call) == expected


def test_time_result_carries_the_date(monkeypatch):
    # strace writes the date in its own time zone; pin one to compare with a fixed text.
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert decode.result(Call("time", args(0), retval=1795804168)) == (
            "1795804168 (2026-11-27T18:29:28+0000)"
        )
        assert decode.result(Call("time", args(0), retval=-14)) == "-1 EFAULT (Bad address)"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_whole_lines():
    call = Call("openat", args(AT_FDCWD, PTR, 0o2000000), retval=3, memory={1: b"/etc/ld.so.cache"})
    assert decode.line(call) == 'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3'


# --- wired into the events ------------------------------------------------------------------


def event(name: str, nr: int, values: tuple[int, ...], retval: int | None, **kwargs: object):
    return SyscallEvent(
        pid=10,
        tid=10,
        nr=nr,
        arch="x86_64",
        args=args(*values),
        retval=retval,
        entry_ns=0,
        exit_ns=1,
        **kwargs,  # type: ignore[arg-type]
    )


def test_event_format_and_arguments():
    openat = event("openat", 257, (AT_FDCWD, PTR, 0o101, 0o644), 3, memory={1: b"f"})
    assert openat.name == "openat"
    assert openat.format() == 'openat(AT_FDCWD, "f", O_WRONLY|O_CREAT, 0644) = 3'
    names = [(a.name, a.text) for a in openat.arguments]
    assert names == [
        ("dirfd", "AT_FDCWD"),
        ("filename", '"f"'),
        ("flags", "O_WRONLY|O_CREAT"),
        ("mode", "0644"),
    ]
    assert openat.arguments[1].memory == b"f"
    assert openat.arguments[2].value == 0o101


def test_event_arguments_follow_strace_order():
    clone = event("clone", 56, (0x1200011, 0, 0, PTR, 0), 1234)
    shown = [(a.name, a.value, a.text) for a in clone.arguments]
    assert shown == [
        ("newsp", 0, "child_stack=NULL"),
        ("clone_flags", 0x1200011, "flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"),
        ("child_tidptr", PTR, f"child_tidptr={hex(PTR)}"),
    ]
    close = event("openat", 257, (AT_FDCWD, PTR, 0), 3, memory={1: b"x"})
    assert len(close.arguments) == 3  # no mode without O_CREAT


def test_event_format_string_limit():
    data = b"y" * 40
    write = event("write", 1, (1, PTR, 40), 40, memory={1: data})
    assert write.format() == f'write(1, "{"y" * 32}"..., 40) = 40'
    assert write.format(5) == 'write(1, "yyyyy"..., 40) = 40'
    assert write.format(None) == f'write(1, "{"y" * 40}", 40) = 40'
    mmap = event("mmap", 9, (0, 4096, 3, 0x22, MINUS_ONE, 0), PTR)
    assert mmap.format().endswith(f"= {hex(PTR)}")
    assert event("exit_group", 231, (0,), None).format() == "exit_group(0) = ?"


# --- ints the kernel wrote (copied at exit) ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (0, "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]"),
        (3 << 8, "[{WIFEXITED(s) && WEXITSTATUS(s) == 3}]"),
        (9, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"),
        (11 | 0x80, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"),
        (19 << 8 | 0x7F, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]"),
        ((5 | 0x80) << 8 | 0x7F, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP | 0x80}]"),
        (
            3 << 16 | 5 << 8 | 0x7F,
            "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGTRAP} | PTRACE_EVENT_CLONE << 16]",
        ),
        (0xFFFF, "[{WIFCONTINUED(s)}]"),
    ],
)
def test_wait_status_as_strace_prints_it(status, expected):
    assert decode.wait_status(status) == expected


def test_wait4_status_and_pipe_fds_when_the_kernel_wrote_them():
    status = (7 << 8).to_bytes(4, "little")
    assert show("wait4", 2**64 - 1, PTR, 0, 0, retval=42, memory={1: status}) == (
        "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL"
    )
    # WNOHANG and no child changed state (0), an error, or a fault: the pointer.
    assert show("wait4", 2**64 - 1, PTR, 1, 0, retval=0, memory={1: status}).startswith(
        f"-1, {hex(PTR)}, WNOHANG"
    )
    assert show("wait4", 5, PTR, 0, 0, retval=-10).startswith(f"5, {hex(PTR)}")
    fds = (3).to_bytes(4, "little") + (4).to_bytes(4, "little")
    assert show("pipe2", PTR, 0o2000000, retval=0, memory={0: fds}) == "[3, 4], O_CLOEXEC"
    assert show("pipe2", PTR, 0, retval=-24) == f"{hex(PTR)}, 0"
    assert show("pipe2", 0, 0, retval=-14) == "NULL, 0"
    assert show("socketpair", 1, 1, 0, PTR, retval=0, memory={3: fds}).endswith(", [3, 4]")


def _array(*elements: bytes, cut: int = -1, fault: int = -1) -> bytes:
    """A string array as the engine copies it (csrc/string_array.h)."""
    out = b""
    for k, value in enumerate(elements):
        if k == fault:
            out += bytes([decode.ELEM_FAULT]) + value + b"\0"
        else:
            out += bytes([decode.ELEM_CUT if k == cut else decode.ELEM_WHOLE]) + value + b"\0"
    return out


def test_execve_argv_and_envp_as_strace_prints_them():
    argv = _array(b"/bin/echo", b"a", b"b c")
    envc = (35).to_bytes(4, "little")
    memory = {0: b"/bin/echo", 1: argv, 2: envc}
    assert show("execve", PTR, PTR + 8, PTR + 16, memory=memory, retval=0) == (
        f'"/bin/echo", ["/bin/echo", "a", "b c"], {hex(PTR + 16)} /* 35 vars */'
    )
    one = {0: b"/x", 1: _array(b"x"), 2: (1).to_bytes(4, "little")}
    assert show("execve", PTR, PTR, PTR, memory=one).endswith(" /* 1 var */")
    # At most as many strings as the string limit, each cut at it; then "...".
    many = _array(b"/bin/echo", *(str(n).encode() for n in range(1, 9)))
    assert show("execve", PTR, PTR, 0, limit=4, memory={0: b"/bin/echo", 1: many}) == (
        '"/bin/echo", ["/bin"..., "1", "2", "3", ...], NULL'
    )
    # A string the engine cut, an element it could not read, elements it had no room for.
    odd = _array(b"long", (0x1234).to_bytes(8, "little"), b"x", cut=0, fault=1)
    call = Call("execve", args(PTR, PTR, 0), memory={0: b"/x", 1: odd}, truncated=frozenset({1}))
    assert decode.arguments(call, 32)[1] == '["long"..., 0x1234, "x", ...]'
    # NULL arrays, and arrays that could not be read at all.
    assert show("execve", PTR, 0, 0, memory={0: b"/x"}) == '"/x", NULL, NULL'
    unread = Call("execve", args(PTR, PTR, PTR), memory={0: b"/x"}, faults=frozenset({1, 2}))
    assert decode.arguments(unread, 32)[1:] == [hex(PTR), hex(PTR)]


# --- small structs (copied at entry or exit) -------------------------------------------------


def _words(*values: int) -> bytes:
    return b"".join((v % (1 << 64)).to_bytes(8, "little") for v in values)


def test_structs_as_strace_prints_them():
    regular = _words(1, 2, 1, 0o100644, 0, 0, 5690, *[0] * 11)
    assert show("fstat", 3, PTR, retval=0, memory={1: regular}) == (
        "3, {st_mode=S_IFREG|0644, st_size=5690, ...}"
    )
    null_device = _words(1, 2, 1, 0o20666, 0, 0x103, 0, *[0] * 11)
    assert decode.stat_text(null_device) == "{st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}"
    # A failed stat wrote nothing: the pointer.
    assert show("fstat", 3, PTR, retval=-9, memory={1: regular}) == f"3, {hex(PTR)}"
    assert decode.sigset_text(0) == "[]"
    assert decode.sigset_text(1 << 9 | 1 << 16) == "[USR1 CHLD]"
    glibc_full = ((1 << 64) - 1) & ~(1 << 31 | 1 << 32)
    assert decode.sigset_text(glibc_full) == "~[RTMIN RT_1]"
    assert decode.sigset_text(1 << 33 | 1 << 39 | 1 << 63) == "[RT_2 RT_8 RT_32]"
    action = _words(1, 0x04000000 | 0x08000000, 0x7F00, 1 << 16)
    assert show("rt_sigaction", 12, PTR, 0, 8, retval=0, memory={1: action}) == (
        "SIGUSR2, {sa_handler=SIG_IGN, sa_mask=[CHLD], sa_flags=SA_RESTORER|SA_ONSTACK, "
        "sa_restorer=0x7f00}, NULL, 8"
    )
    assert decode.sigaction_text(_words(0, 0, 0, 0)) == (
        "{sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}"
    )
    limits = _words(8192 * 1024, (1 << 64) - 1)
    assert show("prlimit64", 0, 3, 0, PTR, retval=0, memory={3: limits}).endswith(
        "NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}"
    )
    assert decode.rlimit_text(_words(1024, 4096)) == "{rlim_cur=1024, rlim_max=4*1024}"
    assert decode.timespec_text(_words(-1, 5)) == "{tv_sec=-1, tv_nsec=5}"
    sleep = _words(0, 1000)
    assert show("clock_nanosleep", 0, 0, PTR, 0, retval=0, memory={2: sleep}) == (
        "CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=1000}, NULL"
    )
    # i386 calls have other layouts: their structs print as pointers.
    i386 = Call("nanosleep", args(PTR & 0xFFFFFFFF, 0), arch="i386", memory={0: sleep})
    assert decode.arguments(i386, 32)[0] == hex(PTR & 0xFFFFFFFF)


def test_socket_addresses_and_statx_as_strace_prints_them():
    unix = (1).to_bytes(2, "little") + b"/run/x.sock\0"
    assert show("connect", 3, PTR, len(unix), memory={1: unix}, retval=0) == (
        f'3, {{sa_family=AF_UNIX, sun_path="/run/x.sock"}}, {len(unix)}'
    )
    abstract = (1).to_bytes(2, "little") + b"\0name"
    assert decode.sockaddr_text(abstract) == '{sa_family=AF_UNIX, sun_path=@"name"}'
    assert decode.sockaddr_text((1).to_bytes(2, "little")) == "{sa_family=AF_UNIX}"
    inet = (2).to_bytes(2, "little") + (80).to_bytes(2, "big") + bytes([10, 0, 0, 1]) + bytes(8)
    assert decode.sockaddr_text(inet) == (
        '{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}'
    )
    inet6 = (10).to_bytes(2, "little") + (9).to_bytes(2, "big") + bytes(4) + bytes(15) + b"\1"
    inet6 += (0).to_bytes(4, "little")
    assert decode.sockaddr_text(inet6) == (
        "{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), "
        'inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}'
    )
    # A family not decoded here, or an address shorter than its family's: the pointer.
    other = (17).to_bytes(2, "little") + bytes(18)
    assert show("bind", 3, PTR, 20, memory={1: other}, retval=0) == f"3, {hex(PTR)}, 20"
    assert show("bind", 3, PTR, 4, memory={1: inet[:4]}, retval=0) == f"3, {hex(PTR)}, 4"
    statx = (
        (0x17FF).to_bytes(4, "little")
        + bytes(4)
        + (0x2000).to_bytes(8, "little")
        + bytes(12)
        + (0o40755).to_bytes(2, "little")
        + bytes(10)
        + (4096).to_bytes(8, "little")
    )
    assert decode.statx_text(statx) == (
        "{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=STATX_ATTR_MOUNT_ROOT, "
        "stx_mode=S_IFDIR|0755, stx_size=4096, ...}"
    )


def test_signal_sets_stacks_and_waits_as_strace_prints_them():
    empty = (0).to_bytes(8, "little")
    assert show("rt_sigsuspend", PTR, 8, memory={0: empty}) == "[], 8"
    usr1 = (1 << 9).to_bytes(8, "little")
    assert show("rt_sigpending", PTR, 8, retval=0, memory={0: usr1}) == "[USR1], 8"
    stack = _words(0x7F00, 2 | 0x80000000, 65536)
    assert decode.stack_text(stack) == (
        "{ss_sp=0x7f00, ss_flags=SS_DISABLE|SS_AUTODISARM, ss_size=65536}"
    )
    call = Call("rt_sigtimedwait", args(PTR, PTR, 0, 8), retval=10, memory={0: usr1})
    assert decode.result(call) == "10 (SIGUSR1)"
    assert decode.arguments(call, 32) == ["[USR1]", hex(PTR), "NULL", "8"]


def test_poll_array_and_ready_descriptors_as_strace_prints_them():
    from struct import pack

    before = pack("<ihh", 3, 3, 0) + pack("<ihh", 4, 4, 0)
    after = pack("<ihh", 3, 3, 1) + pack("<ihh", 4, 4, 0)
    call = Call("poll", args(PTR, 2, 0), retval=1, memory={0: before, 8: after})
    assert decode.arguments(call, 32) == [
        "[{fd=3, events=POLLIN|POLLPRI}, {fd=4, events=POLLOUT}]",
        "2",
        "0",
    ]
    assert decode.result(call) == "1 ([{fd=3, revents=POLLIN}])"
    # More descriptors than the string limit: the first ones, then "...".
    assert decode.arguments(call, 1)[0] == "[{fd=3, events=POLLIN|POLLPRI}, ...]"
    timeout = Call("poll", args(PTR, 2, 0), retval=0, memory={0: before})
    assert decode.result(timeout) == "0 (Timeout)"
    assert decode.arguments(Call("poll", args(0, 0, 0), retval=0), 32)[0] == "NULL"


def test_cpu_sets_as_strace_prints_them():
    mask = (0b101).to_bytes(8, "little")
    assert show("sched_setaffinity", 0, 8, PTR, retval=0, memory={2: mask}) == "0, 8, [0 2]"
    assert show("sched_getaffinity", 0, 8, PTR, retval=8, memory={2: mask}) == "0, 8, [0 2]"
    assert show("sched_getaffinity", 0, 8, PTR, retval=-22) == f"0, 8, {hex(PTR)}"


def test_addresses_the_kernel_fills_in_with_their_lengths():
    unnamed = (1).to_bytes(2, "little")
    memory = {1: unnamed, 2: (110).to_bytes(4, "little"), 10: (2).to_bytes(4, "little")}
    assert show("getsockname", 3, PTR, PTR + 8, retval=0, memory=memory) == (
        "3, {sa_family=AF_UNIX}, [110 => 2]"
    )
    same = {1: unnamed + bytes(14), 2: (16).to_bytes(4, "little"), 10: (16).to_bytes(4, "little")}
    inet = (2).to_bytes(2, "little") + (80).to_bytes(2, "big") + bytes([127, 0, 0, 1]) + bytes(8)
    same[1] = inet
    assert show("accept4", 3, PTR, PTR + 8, 0o2000000, retval=4, memory=same) == (
        '3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, [16], '
        "SOCK_CLOEXEC"
    )
    # Failed: the address as a pointer, the length the program offered; NULL stays NULL.
    failed = {2: (110).to_bytes(4, "little")}
    assert show("accept", 3, PTR, PTR + 8, retval=-11, memory=failed) == f"3, {hex(PTR)}, [110]"
    assert show("accept", 3, 0, 0, retval=4) == "3, NULL, NULL"
