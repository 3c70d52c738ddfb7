"""Tests for splitpriv.syscalls: tables, prototypes and capture specs (no processes needed)."""

from __future__ import annotations

import pytest

from splitpriv.errors import SplitprivError, UnknownSyscallError
from splitpriv.syscalls import (
    ARCHES,
    AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64,
    CAPTURE_ARGV,
    CAPTURE_BUF_ARG,
    CAPTURE_BUF_RET,
    CAPTURE_CSTRING,
    CAPTURE_CUT_WORDS,
    CAPTURE_DIRENTS,
    CAPTURE_ENVC,
    CAPTURE_FDSET,
    CAPTURE_IN_WORDS,
    CAPTURE_INOUT_WORDS,
    CAPTURE_IOVEC_IN,
    CAPTURE_IOVEC_OUT,
    CAPTURE_MSGHDR_IN,
    CAPTURE_MSGHDR_OUT,
    CAPTURE_NONE,
    CAPTURE_OUT_INTS,
    CAPTURE_OUT_WORDS,
    CAPTURE_POLLFDS,
    CAPTURE_SIGFRAME_MASK,
    CAPTURE_SOCKADDR_OUT,
    EXTRA_PROTOTYPES,
    Param,
    capture_spec,
    has_prototype,
    is_pointer,
    numbers_for_all_arches,
    prototype,
    resolve,
    table,
)
from splitpriv.syscalls import prototypes as protos
from splitpriv.syscalls.prototypes import SEG_AFTER, SEG_CONTROL, SEG_IOV, SEG_NAME

X86_64 = table(AUDIT_ARCH_X86_64)
I386 = table(AUDIT_ARCH_I386)

NEWER_SYSCALLS = """
    openat2 clone3 close_range pidfd_open pidfd_send_signal pidfd_getfd faccessat2 epoll_pwait2
    landlock_create_ruleset landlock_add_rule landlock_restrict_self io_uring_setup io_uring_enter
    io_uring_register futex_waitv process_madvise process_mrelease mount_setattr memfd_secret
    quotactl_fd set_mempolicy_home_node cachestat fchmodat2 map_shadow_stack futex_wake futex_wait
    futex_requeue statmount listmount lsm_get_self_attr lsm_set_self_attr lsm_list_modules mseal
    setxattrat getxattrat listxattrat removexattrat open_tree_attr uretprobe file_getattr
    file_setattr
""".split()


# --- tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "name", "nr"),
    [
        (AUDIT_ARCH_X86_64, "read", 0),
        (AUDIT_ARCH_X86_64, "getppid", 110),
        (AUDIT_ARCH_X86_64, "openat", 257),
        (AUDIT_ARCH_X86_64, "open", 2),
        (AUDIT_ARCH_I386, "open", 5),
        (AUDIT_ARCH_I386, "getppid", 64),
    ],
)
def test_well_known_numbers(arch: int, name: str, nr: int) -> None:
    assert table(arch).number(name) == nr
    assert table(arch).name(nr) == name


def test_table_accepts_arch_names_and_is_cached() -> None:
    assert table("x86_64") is X86_64
    assert table("i386") is I386
    assert X86_64.arch == AUDIT_ARCH_X86_64 and X86_64.arch_name == "x86_64"
    assert I386.arch_name == "i386"
    assert ARCHES == {0xC000003E: "x86_64", 0x40000003: "i386"}


@pytest.mark.parametrize("arch", ["arm64", 0xC00000B7, "", True])
def test_unknown_arch(arch: int | str) -> None:
    with pytest.raises(SplitprivError, match="unknown architecture"):
        table(arch)


def test_unknown_number_is_formatted_like_strace() -> None:
    assert X86_64.name(999) == "syscall_0x3e7"
    assert I386.name(0x3FF) == "syscall_0x3ff"
    assert X86_64.name(-1) == "syscall_0xffffffffffffffff"


def test_names_contains_and_max() -> None:
    assert "getppid" in X86_64
    assert "newfstatat" in X86_64 and "newfstatat" not in I386
    assert 42 not in X86_64
    assert X86_64.names() >= {"read", "write", "openat2"}
    assert X86_64.max_number() == max(X86_64.number(n) for n in X86_64.names())
    assert 400 < X86_64.max_number() <= 1023


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownSyscallError) as info:
        X86_64.number("getppd")
    assert info.value.suggestion == "getppid"
    assert info.value.name == "getppd"
    assert isinstance(info.value, LookupError)
    assert "getppid" in str(info.value)


def test_unknown_name_without_suggestion() -> None:
    with pytest.raises(UnknownSyscallError) as info:
        X86_64.number("zzzzzzzzzzzz")
    assert info.value.suggestion is None


@pytest.mark.parametrize(
    ("spec", "arch", "nr"),
    [
        ("getppid", AUDIT_ARCH_X86_64, 110),
        ("getppid", AUDIT_ARCH_I386, 64),
        ("getppid", "i386", 64),
        (39, AUDIT_ARCH_X86_64, 39),
        ("39", AUDIT_ARCH_X86_64, 39),
        (" 39 ", AUDIT_ARCH_X86_64, 39),
        (0, AUDIT_ARCH_X86_64, 0),
        (1023, AUDIT_ARCH_X86_64, 1023),
    ],
)
def test_resolve(spec: str | int, arch: int | str, nr: int) -> None:
    assert resolve(spec, arch) == nr


def test_resolve_defaults_to_x86_64() -> None:
    assert resolve("openat") == 257


@pytest.mark.parametrize("spec", [-1, 1024, "-1", "1024", True])
def test_resolve_rejects_out_of_range(spec: str | int) -> None:
    with pytest.raises(UnknownSyscallError):
        resolve(spec)


def test_resolve_name_missing_on_arch() -> None:
    with pytest.raises(UnknownSyscallError) as info:
        resolve("newfstatat", AUDIT_ARCH_I386)
    assert info.value.suggestion is not None  # e.g. "fstatat64"
    with pytest.raises(UnknownSyscallError) as info:
        resolve("getppd")
    assert info.value.suggestion == "getppid"


def test_numbers_for_all_arches() -> None:
    assert numbers_for_all_arches("open") == {AUDIT_ARCH_X86_64: 2, AUDIT_ARCH_I386: 5}
    assert numbers_for_all_arches("openat2") == {AUDIT_ARCH_X86_64: 437, AUDIT_ARCH_I386: 437}
    assert set(numbers_for_all_arches("arch_prctl")) == {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386}
    assert numbers_for_all_arches("newfstatat") == {AUDIT_ARCH_X86_64: 262}
    with pytest.raises(UnknownSyscallError) as info:
        numbers_for_all_arches("getppd")
    assert info.value.suggestion == "getppid"


# --- prototypes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHES))
def test_every_table_name_has_a_prototype(arch: int) -> None:
    names = table(arch).names()
    missing = sorted(n for n in names if not has_prototype(n))
    assert missing == [], f"no prototype in python-ptrace or EXTRA_PROTOTYPES: {missing}"
    for name in names:
        proto = prototype(name)
        assert proto.name == name
        assert len(proto.params) <= 6, name
        assert all(p.name and p.type for p in proto.params), name


@pytest.mark.parametrize("name", NEWER_SYSCALLS)
def test_newer_syscalls_have_our_own_prototypes(name: str) -> None:
    assert name in X86_64
    assert name in EXTRA_PROTOTYPES
    assert prototype(name) == EXTRA_PROTOTYPES[name]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("openat2", "dfd filename how usize"),
        ("clone3", "uargs size"),
        ("close_range", "fd max_fd flags"),
        ("pidfd_send_signal", "pidfd sig info flags"),
        ("landlock_add_rule", "ruleset_fd rule_type rule_attr flags"),
        ("io_uring_enter", "fd to_submit min_complete flags argp argsz"),
        ("setxattrat", "dfd path at_flags name args size"),
        ("file_getattr", "dfd filename attr usize at_flags"),
        ("uretprobe", ""),
        ("rt_sigaction", "sig act oact sigsetsize"),
        ("clone", "clone_flags newsp parent_tidptr child_tidptr tls"),
        ("getppid", ""),
        ("umount2", "name flags"),
    ],
)
def test_kernel_param_names(name: str, params: str) -> None:
    assert [p.name for p in prototype(name).params] == params.split()


def test_prototype_types() -> None:
    openat2 = prototype("openat2")
    assert openat2.restype == "long"
    assert openat2.params[1] == Param("const char *", "filename")
    assert openat2.params[2] == Param("struct open_how *", "how")
    assert prototype("landlock_add_rule").params[1].type == "enum landlock_rule_type"


@pytest.mark.parametrize(
    "name",
    "newfstatat pread64 pwrite64 prlimit64 getdents64 rt_sigaction wait4 execveat clone".split(),
)
def test_names_spelled_like_the_kernel_table(name: str) -> None:
    assert name in X86_64
    assert has_prototype(name)


def test_aliases_keep_the_asked_name() -> None:
    stat = prototype("stat")  # x86_64 stat is the kernel's newstat
    assert stat.name == "stat"
    assert stat.params[1].type == "struct stat *"
    assert prototype("chown32").params == prototype("chown").params


def test_unknown_prototype_is_generic() -> None:
    proto = prototype("no_such_syscall")
    assert not has_prototype("no_such_syscall")
    assert [p.name for p in proto.params] == [f"arg{i}" for i in range(6)]
    assert {p.type for p in proto.params} == {"kernel_ulong_t"}  # raw registers, printed in hex


def test_is_pointer() -> None:
    assert is_pointer(Param("const char *", "filename"))
    assert is_pointer(Param("cap_user_header_t", "header"))
    assert not is_pointer(Param("unsigned long", "flags"))


# --- capture specs ------------------------------------------------------------------------------


def test_capture_codes_are_fixed() -> None:
    # Shared with the C engine: changing these breaks the ABI.
    assert (CAPTURE_NONE, CAPTURE_CSTRING, CAPTURE_BUF_ARG, CAPTURE_BUF_RET) == (0, 1, 0x10, 0x20)
    assert (CAPTURE_ARGV, CAPTURE_ENVC, CAPTURE_OUT_INTS) == (2, 3, 0x40)
    assert (CAPTURE_IN_WORDS, CAPTURE_OUT_WORDS) == (0x80, 0xA0)
    from splitpriv._binding import lib

    ours = {
        "NONE": CAPTURE_NONE,
        "CSTRING": CAPTURE_CSTRING,
        "ARGV": CAPTURE_ARGV,
        "ENVC": CAPTURE_ENVC,
        "DIRENTS": CAPTURE_DIRENTS,
        "POLLFDS": CAPTURE_POLLFDS,
        "SOCKADDR_OUT": CAPTURE_SOCKADDR_OUT,
        "SIGFRAME_MASK": CAPTURE_SIGFRAME_MASK,
        "FDSET": CAPTURE_FDSET,
        "INOUT_WORDS": CAPTURE_INOUT_WORDS,
        "CUT_WORDS": CAPTURE_CUT_WORDS,
        "IOVEC_IN": CAPTURE_IOVEC_IN,
        "IOVEC_OUT": CAPTURE_IOVEC_OUT,
        "MSGHDR_IN": CAPTURE_MSGHDR_IN,
        "MSGHDR_OUT": CAPTURE_MSGHDR_OUT,
        "BUF_ARG": CAPTURE_BUF_ARG,
        "BUF_RET": CAPTURE_BUF_RET,
        "OUT_INTS": CAPTURE_OUT_INTS,
        "IN_WORDS": CAPTURE_IN_WORDS,
        "OUT_WORDS": CAPTURE_OUT_WORDS,
    }
    assert {name: getattr(lib, f"SP_CAPTURE_{name}") for name in ours} == ours
    assert (CAPTURE_DIRENTS, CAPTURE_POLLFDS, CAPTURE_SOCKADDR_OUT) == (4, 5, 6)
    assert SEG_AFTER == lib.SP_SEG_AFTER == 8
    assert (SEG_IOV, SEG_NAME, SEG_CONTROL) == (lib.SP_SEG_IOV, lib.SP_SEG_NAME, lib.SP_SEG_CONTROL)


N, S = CAPTURE_NONE, CAPTURE_CSTRING


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("getppid", (N, N, N, N, N, N)),
        ("openat", (N, S, N, N, N, N)),
        ("openat2", (N, S, N, N, N, N)),
        ("open", (S, N, N, N, N, N)),
        ("execve", (S, CAPTURE_ARGV, CAPTURE_ENVC, N, N, N)),
        ("execveat", (N, S, CAPTURE_ARGV, CAPTURE_ENVC, N, N)),
        ("rename", (S, S, N, N, N, N)),
        ("renameat2", (N, S, N, S, N, N)),
        ("symlink", (S, S, N, N, N, N)),
        ("mount", (S, S, S, N, N, N)),
        ("setxattr", (S, S, N, N, N, N)),
        ("getxattrat", (N, S, N, S, N, N)),
        ("write", (N, CAPTURE_BUF_ARG | 2, N, N, N, N)),
        ("pwrite64", (N, CAPTURE_BUF_ARG | 2, N, N, N, N)),
        ("sendto", (N, CAPTURE_BUF_ARG | 2, N, N, CAPTURE_BUF_ARG | 5, N)),
        ("connect", (N, CAPTURE_BUF_ARG | 2, N, N, N, N)),
        ("statx", (N, S, N, N, CAPTURE_OUT_WORDS | 6, N)),
        ("getdents64", (N, CAPTURE_DIRENTS, N, N, N, N)),
        ("poll", (CAPTURE_POLLFDS, N, N, N, N, N)),
        ("accept4", (N, CAPTURE_SOCKADDR_OUT, N, N, N, N)),
        ("recvfrom", (N, CAPTURE_BUF_RET, N, N, CAPTURE_SOCKADDR_OUT, N)),
        ("rt_sigreturn", (CAPTURE_SIGFRAME_MASK, N, N, N, N, N)),
        ("pselect6", (N, CAPTURE_FDSET, CAPTURE_FDSET, CAPTURE_FDSET, CAPTURE_INOUT_WORDS | 2, N)),
        ("writev", (N, CAPTURE_IOVEC_IN, N, N, N, N)),
        ("readv", (N, CAPTURE_IOVEC_OUT, N, N, N, N)),
        ("ppoll", (CAPTURE_POLLFDS, N, CAPTURE_INOUT_WORDS | 2, CAPTURE_IN_WORDS | 1, N, N)),
        ("sethostname", (CAPTURE_BUF_ARG | 1, N, N, N, N, N)),
        ("sendmsg", (N, CAPTURE_MSGHDR_IN, N, N, N, N)),
        ("recvmsg", (N, CAPTURE_MSGHDR_OUT, N, N, N, N)),
        ("read", (N, CAPTURE_BUF_RET, N, N, N, N)),
        ("pread64", (N, CAPTURE_BUF_RET, N, N, N, N)),
        ("readlink", (S, CAPTURE_BUF_RET, N, N, N, N)),
        ("readlinkat", (N, S, CAPTURE_BUF_RET, N, N, N)),
        ("getcwd", (CAPTURE_BUF_RET, N, N, N, N, N)),
        ("wait4", (N, CAPTURE_OUT_INTS | 1, N, CAPTURE_OUT_WORDS | 4, N, N)),  # status, rusage
        ("pipe2", (CAPTURE_OUT_INTS | 2, N, N, N, N, N)),
        ("socketpair", (N, N, N, CAPTURE_OUT_INTS | 2, N, N)),
        ("newfstatat", (N, S, CAPTURE_OUT_WORDS | 18, N, N, N)),
        ("rt_sigaction", (N, CAPTURE_IN_WORDS | 4, CAPTURE_OUT_WORDS | 4, N, N, N)),
        ("seccomp", (N, N, N, N, N, N)),
        ("no_such_syscall", (N, N, N, N, N, N)),
    ],
)
def test_capture_spec(name: str, spec: tuple[int, ...]) -> None:
    assert capture_spec(name) == spec


@pytest.mark.parametrize("arch", list(ARCHES))
def test_capture_spec_copies_exactly_the_string_params_of_the_prototype(arch: int) -> None:
    """capture_spec reads the raw tables (it runs at every session's start); the strings it
    copies are the ones prototype() and is_string_param() name, for every syscall."""
    for name in table(arch).names():
        params = prototype(name).params[:6]
        strings = {i for i, p in enumerate(params) if protos.is_string_param(name, p)}
        spec = capture_spec(name)
        assert {i for i, c in enumerate(spec) if c == CAPTURE_CSTRING} == strings, name


@pytest.mark.parametrize("arch", list(ARCHES))
def test_every_char_pointer_is_classified(arch: int) -> None:
    """A char* parameter must be a known string name or an explicit exception, never unnoticed."""
    unclassified = [
        (name, p.name)
        for name in sorted(table(arch).names())
        for p in prototype(name).params
        if p.type in ("const char *", "char *")
        and p.name not in protos.STRING_PARAM_NAMES
        and p.name not in protos._NOT_STRINGS.get(name, frozenset())
    ]
    assert unclassified == []
