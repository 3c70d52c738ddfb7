"""Argument metadata for syscalls: C prototypes, and what to copy out of tracee memory.

Prototypes come from python-ptrace's ``SYSCALL_PROTOTYPES`` first-hand where it is right, and from
:data:`EXTRA_PROTOTYPES` (transcribed from the kernel's ``include/linux/syscalls.h`` and the x86
``asm/syscalls.h``) where python-ptrace is missing a call, uses a different name than the syscall
table, or is wrong. The "capture spec" tells the C engine, per argument, whether to copy a string
or a buffer so that events can show paths and data without a second trip into the tracee.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple


def _python_ptrace_prototypes() -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """python-ptrace's SYSCALL_PROTOTYPES, read from its data module alone: importing it the
    usual way runs ``ptrace.syscall``'s package init, which loads most of python-ptrace and
    costs every ``splitpriv trace`` about 15 ms. The module is plain data, so it loads alone."""
    spec = importlib.util.find_spec("ptrace")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "syscall" / "prototypes.py"
        loader = importlib.util.spec_from_file_location("_splitpriv_ptrace_prototypes", path)
        if loader is not None and loader.loader is not None and path.is_file():
            module = importlib.util.module_from_spec(loader)
            try:
                loader.loader.exec_module(module)
                return dict(module.SYSCALL_PROTOTYPES)
            except Exception:  # a layout we do not know: the usual import below
                pass
    from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES as prototypes

    return dict(prototypes)


SYSCALL_PROTOTYPES = _python_ptrace_prototypes()

MAX_ARGS: Final = 6

# Capture codes. The C engine decodes these same numbers, so they must never change.
CAPTURE_NONE: Final = 0
CAPTURE_CSTRING: Final = 1  # NUL-terminated string, copied at syscall entry
CAPTURE_ARGV: Final = 2  # array of strings (execve's argv), copied at entry (see decode)
CAPTURE_ENVC: Final = 3  # array of strings (envp): only how many, an int, at entry
CAPTURE_DIRENTS: Final = 4  # getdents: how many records it wrote, an int, at exit
CAPTURE_POLLFDS: Final = 5  # poll's array (8 bytes x the next argument), at entry and exit
CAPTURE_SOCKADDR_OUT: Final = 6  # an address the kernel fills in; its length in/out the next
CAPTURE_SIGFRAME_MASK: Final = 7  # rt_sigreturn: the mask in its signal frame (ptrace's)
SEG_AFTER: Final = 8  # added to the argument of a copy made at exit again (POLLFDS, FDSET...)
CAPTURE_FDSET: Final = 9  # select's fd_set (argument 0 bits), at entry and again at exit
CAPTURE_IOVEC_IN: Final = 10  # an iovec array (count: the next argument)'s buffers, at entry
CAPTURE_IOVEC_OUT: Final = 11  # the same at exit, as many bytes as the call returned
CAPTURE_MSGHDR_IN: Final = 12  # sendmsg's msghdr and its iovecs, name and control, at entry
CAPTURE_MSGHDR_OUT: Final = 13  # recvmsg's: the msghdr at entry, all of it again at exit
SEG_IOV: Final = 16  # added to a msghdr's argument: its iovecs' buffers,
SEG_NAME: Final = 24  # its name,
SEG_CONTROL: Final = 32  # and its control data
CAPTURE_BUF_ARG: Final = 0x10  # | k: buffer copied at entry, length = argument k
CAPTURE_BUF_RET: Final = 0x20  # buffer copied at exit, length = return value when > 0
CAPTURE_OUT_INTS: Final = 0x40  # | n: n 32-bit ints the kernel wrote, copied at exit
CAPTURE_IN_WORDS: Final = 0x80  # | n (< 32): a struct of n 8-byte words, copied at entry
CAPTURE_OUT_WORDS: Final = 0xA0  # | n (< 32): a struct the kernel writes, copied at exit
CAPTURE_INOUT_WORDS: Final = 0xC0  # | n (< 32): one it reads and rewrites: at entry and exit
CAPTURE_CUT_WORDS: Final = 0xE0  # | n (< 32): one written only when a signal cut the call short


class Param(NamedTuple):
    """One syscall parameter: its C type (without ``__user``) and its kernel name."""

    type: str
    name: str


class Prototype(NamedTuple):
    """A syscall's C prototype."""

    name: str
    restype: str
    params: tuple[Param, ...]


# Prototypes python-ptrace lacks or gets wrong, as "type name, type name" strings in the kernel's
# spelling (``__user`` dropped, as python-ptrace does). Sources: include/linux/syscalls.h, and for
# x86-only calls arch/x86/include/asm/syscalls.h with names from their SYSCALL_DEFINE.
_EXTRA_SIGNATURES: Final[dict[str, str]] = {
    # -- x86 architecture calls --
    "arch_prctl": "int option, unsigned long arg2",
    "iopl": "unsigned int level",
    "modify_ldt": "int func, void *ptr, unsigned long bytecount",
    "set_thread_area": "struct user_desc *u_info",
    "get_thread_area": "struct user_desc *u_info",
    "rt_sigreturn": "",
    "sigreturn": "",
    "vm86old": "struct vm86_struct *user_vm86",
    "vm86": "unsigned long cmd, unsigned long arg",
    # Reserved in syscall_64.tbl with no entry point (always ENOSYS); strace and glibc treat them
    # as the pre-2.6 epoll_ctl/epoll_wait, so we describe them the same way.
    "epoll_ctl_old": "int epfd, int op, int fd, struct epoll_event *event",
    "epoll_wait_old": "int epfd, struct epoll_event *events, int maxevents, int timeout",
    # -- generic calls newer than python-ptrace's list (4.6 onwards) --
    "preadv2": "unsigned long fd, const struct iovec *vec, unsigned long vlen, "
    "unsigned long pos_l, unsigned long pos_h, rwf_t flags",
    "pwritev2": "unsigned long fd, const struct iovec *vec, unsigned long vlen, "
    "unsigned long pos_l, unsigned long pos_h, rwf_t flags",
    "pkey_mprotect": "unsigned long start, size_t len, unsigned long prot, int pkey",
    "pkey_alloc": "unsigned long flags, unsigned long init_val",
    "pkey_free": "int pkey",
    "io_pgetevents": "aio_context_t ctx_id, long min_nr, long nr, struct io_event *events, "
    "struct __kernel_timespec *timeout, const struct __aio_sigset *sig",
    "rseq": "struct rseq *rseq, uint32_t rseq_len, int flags, uint32_t sig",
    "pidfd_send_signal": "int pidfd, int sig, siginfo_t *info, unsigned int flags",
    "io_uring_setup": "u32 entries, struct io_uring_params *p",
    "io_uring_enter": "unsigned int fd, u32 to_submit, u32 min_complete, u32 flags, "
    "const void *argp, size_t argsz",
    "io_uring_register": "unsigned int fd, unsigned int op, void *arg, unsigned int nr_args",
    "open_tree": "int dfd, const char *path, unsigned flags",
    "move_mount": "int from_dfd, const char *from_path, int to_dfd, const char *to_path, "
    "unsigned int ms_flags",
    "fsopen": "const char *fs_name, unsigned int flags",
    "fsconfig": "int fs_fd, unsigned int cmd, const char *key, const void *value, int aux",
    "fsmount": "int fs_fd, unsigned int flags, unsigned int ms_flags",
    "fspick": "int dfd, const char *path, unsigned int flags",
    "pidfd_open": "pid_t pid, unsigned int flags",
    "clone3": "struct clone_args *uargs, size_t size",
    "close_range": "unsigned int fd, unsigned int max_fd, unsigned int flags",
    # syscalls.h calls the last one "size"; fs/open.c's SYSCALL_DEFINE4 (and so the ftrace event
    # format, the name users see at runtime) calls it "usize". We follow the runtime name.
    "openat2": "int dfd, const char *filename, struct open_how *how, size_t usize",
    "pidfd_getfd": "int pidfd, int fd, unsigned int flags",
    "faccessat2": "int dfd, const char *filename, int mode, int flags",
    "process_madvise": "int pidfd, const struct iovec *vec, size_t vlen, int behavior, "
    "unsigned int flags",
    "epoll_pwait2": "int epfd, struct epoll_event *events, int maxevents, "
    "const struct __kernel_timespec *timeout, const sigset_t *sigmask, size_t sigsetsize",
    "mount_setattr": "int dfd, const char *path, unsigned int flags, struct mount_attr *uattr, "
    "size_t usize",
    "quotactl_fd": "unsigned int fd, unsigned int cmd, qid_t id, void *addr",
    "landlock_create_ruleset": "const struct landlock_ruleset_attr *attr, size_t size, __u32 flags",
    "landlock_add_rule": "int ruleset_fd, enum landlock_rule_type rule_type, "
    "const void *rule_attr, __u32 flags",
    "landlock_restrict_self": "int ruleset_fd, __u32 flags",
    "memfd_secret": "unsigned int flags",
    "process_mrelease": "int pidfd, unsigned int flags",
    "futex_waitv": "struct futex_waitv *waiters, unsigned int nr_futexes, unsigned int flags, "
    "struct __kernel_timespec *timeout, clockid_t clockid",
    "set_mempolicy_home_node": "unsigned long start, unsigned long len, "
    "unsigned long home_node, unsigned long flags",
    "cachestat": "unsigned int fd, struct cachestat_range *cstat_range, "
    "struct cachestat *cstat, unsigned int flags",
    "fchmodat2": "int dfd, const char *filename, umode_t mode, unsigned int flags",
    "map_shadow_stack": "unsigned long addr, unsigned long size, unsigned int flags",
    "futex_wake": "void *uaddr, unsigned long mask, int nr, unsigned int flags",
    "futex_wait": "void *uaddr, unsigned long val, unsigned long mask, unsigned int flags, "
    "struct __kernel_timespec *timespec, clockid_t clockid",
    "futex_requeue": "struct futex_waitv *waiters, unsigned int flags, int nr_wake, int nr_requeue",
    "statmount": "const struct mnt_id_req *req, struct statmount *buf, size_t bufsize, "
    "unsigned int flags",
    "listmount": "const struct mnt_id_req *req, u64 *mnt_ids, size_t nr_mnt_ids, "
    "unsigned int flags",
    "lsm_get_self_attr": "unsigned int attr, struct lsm_ctx *ctx, u32 *size, u32 flags",
    "lsm_set_self_attr": "unsigned int attr, struct lsm_ctx *ctx, u32 size, u32 flags",
    "lsm_list_modules": "u64 *ids, u32 *size, u32 flags",
    "mseal": "unsigned long start, size_t len, unsigned long flags",
    "setxattrat": "int dfd, const char *path, unsigned int at_flags, const char *name, "
    "const struct xattr_args *args, size_t size",
    "getxattrat": "int dfd, const char *path, unsigned int at_flags, const char *name, "
    "struct xattr_args *args, size_t size",
    "listxattrat": "int dfd, const char *path, unsigned int at_flags, char *list, size_t size",
    "removexattrat": "int dfd, const char *path, unsigned int at_flags, const char *name",
    "open_tree_attr": "int dfd, const char *path, unsigned flags, struct mount_attr *uattr, "
    "size_t usize",
    "uretprobe": "",
    "uprobe": "",
    "file_getattr": "int dfd, const char *filename, struct file_attr *attr, size_t usize, "
    "unsigned int at_flags",
    "file_setattr": "int dfd, const char *filename, struct file_attr *attr, size_t usize, "
    "unsigned int at_flags",
    "listns": "const struct ns_id_req *req, u64 *ns_ids, size_t nr_ns_ids, unsigned int flags",
    "rseq_slice_yield": "",
    # -- corrections: python-ptrace has these, but wrong for x86_64 --
    # python-ptrace leaves the sigsetsize parameter unnamed.
    "rt_sigaction": "int sig, const struct sigaction *act, struct sigaction *oact, "
    "size_t sigsetsize",
    "ppoll": "struct pollfd *ufds, unsigned int nfds, struct __kernel_timespec *tsp, "
    "const sigset_t *sigmask, size_t sigsetsize",
    # x86_64 is not CONFIG_CLONE_BACKWARDS: the 5th argument is tls, not "regs".
    "clone": "unsigned long clone_flags, unsigned long newsp, int *parent_tidptr, "
    "int *child_tidptr, unsigned long tls",
    # x86's sys_mmap takes a byte offset ("off"), not a page offset.
    "mmap": "unsigned long addr, unsigned long len, unsigned long prot, unsigned long flags, "
    "unsigned long fd, unsigned long off",
    # python-ptrace names getcwd's output buffer "pathname", which would look like an input path.
    "getcwd": "char *buf, unsigned long size",
    # python-ptrace types uargs as a string; it is a pointer to a filter/struct.
    "seccomp": "unsigned int op, unsigned int flags, void *uargs",
}

# Table names whose kernel entry point has another name, mapped to the python-ptrace key for that
# entry point (x86 syscall_64.tbl / syscall_32.tbl). Applied once, never chained.
_PTRACE_ALIASES: Final[dict[str, str]] = {
    # x86_64 (and i386) stat/fstat/lstat/uname are the "new" variants.
    "stat": "newstat",
    "fstat": "newfstat",
    "lstat": "newlstat",
    "uname": "newuname",
    "umount2": "umount",
    # i386 only. (Names on both arches follow x86_64: i386's select/getrlimit/mmap are the "old"
    # entry points there, and its clone swaps tls/child_tidptr; prototypes are per name.)
    "umount": "oldumount",
    "oldstat": "stat",
    "oldfstat": "fstat",
    "oldlstat": "lstat",
    "olduname": "uname",
    "oldolduname": "olduname",
    "readdir": "old_readdir",
    "ugetrlimit": "getrlimit",
    "_llseek": "llseek",
    "_newselect": "select",
    **{
        f"{base}32": base
        for base in (
            "chown fchown lchown getuid geteuid getgid getegid getgroups setgroups getresuid "
            "getresgid setresuid setresgid setuid setgid setreuid setregid setfsuid setfsgid"
        ).split()
    },
    # i386 *_time64 calls are the generic calls with a 64-bit timespec, i.e. what x86_64 has.
    "clock_adjtime64": "clock_adjtime",
    "clock_getres_time64": "clock_getres",
    "clock_gettime64": "clock_gettime",
    "clock_nanosleep_time64": "clock_nanosleep",
    "clock_settime64": "clock_settime",
    "futex_time64": "futex",
    "io_pgetevents_time64": "io_pgetevents",
    "mq_timedreceive_time64": "mq_timedreceive",
    "mq_timedsend_time64": "mq_timedsend",
    "ppoll_time64": "ppoll",
    "pselect6_time64": "pselect6",
    "recvmmsg_time64": "recvmmsg",
    "rt_sigtimedwait_time64": "rt_sigtimedwait",
    "sched_rr_get_interval_time64": "sched_rr_get_interval",
    "semtimedop_time64": "semtimedop",
    "timer_gettime64": "timer_gettime",
    "timer_settime64": "timer_settime",
    "timerfd_gettime64": "timerfd_gettime",
    "timerfd_settime64": "timerfd_settime",
    "utimensat_time64": "utimensat",
}

_PARAM_RE: Final = re.compile(r"(?P<type>.*?[\s*])(?P<name>\w+)")


def _parse_params(signature: str) -> tuple[Param, ...]:
    """Parse "const char *filename, int flags" into Params, formatting types like python-ptrace."""
    params = []
    for chunk in filter(None, (c.strip() for c in signature.split(","))):
        match = _PARAM_RE.fullmatch(chunk)
        if match is None:
            raise ValueError(f"cannot parse parameter {chunk!r}")
        params.append(Param(match["type"].strip(), match["name"]))
    return tuple(params)


EXTRA_PROTOTYPES: Final[Mapping[str, Prototype]] = MappingProxyType(
    {name: Prototype(name, "long", _parse_params(sig)) for name, sig in _EXTRA_SIGNATURES.items()}
)


def _entry(name: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The result type and (type, name) parameter pairs either source has for ``name``: our
    own prototypes first, then python-ptrace's (under the entry point's name)."""
    target = _PTRACE_ALIASES.get(name, name)
    extra = EXTRA_PROTOTYPES.get(target)
    if extra is not None:
        return extra.restype, extra.params  # (a Param is a (type, name) pair)
    entry = SYSCALL_PROTOTYPES.get(target)
    if entry is None:
        return None
    restype, raw = entry
    return str(restype), tuple((str(t), str(n)) for t, n in raw)


# The type of the arguments of a call without a prototype: a register, printed as C's %#lx.
RAW_REGISTER: Final = "kernel_ulong_t"


@functools.cache
def _known(name: str) -> Prototype | None:
    found = _entry(name)
    if found is None:
        return None
    # Report the name that was asked for, not the entry point's.
    restype, params = found
    return Prototype(name, restype, tuple(Param(t, n) for t, n in params))


def has_prototype(name: str) -> bool:
    """Whether either source actually knows ``name`` (as opposed to the generic fallback)."""
    return _known(name) is not None


@functools.cache
def prototype(name: str) -> Prototype:
    """The prototype of ``name``; unknown names get six raw ``kernel_ulong_t argN`` parameters,
    which print in hex as strace prints the arguments of a call it cannot decode."""
    known = _known(name)
    if known is not None:
        return known
    generic = tuple(Param(RAW_REGISTER, f"arg{i}") for i in range(MAX_ARGS))
    return Prototype(name, "long", generic)


# --- what to copy out of the tracee -------------------------------------------------------------

# Typedefs that are pointers although their spelling has no '*'.
_POINTER_TYPEDEFS: Final = frozenset({"cap_user_header_t", "cap_user_data_t", "__sighandler_t"})

_CHAR_POINTERS: Final = frozenset({"const char *", "char *"})

# Names the kernel gives to NUL-terminated string inputs: paths, xattr/key/module/fs names.
# A char* parameter with any other name is *not* a string unless decided otherwise below; every
# char* parameter in the tables must be in here or in _NOT_STRINGS (a test enforces that).
STRING_PARAM_NAMES: Final = frozenset(
    (
        # paths
        "filename pathname path oldname newname old new new_root put_old specialfile special "
        "library dev_name dir_name from_path to_path "
        # names: xattr, mqueue, acct file, umount target, module, fs/key/memfd names
        "name name_user uargs cmdline_ptr type fs_name key uname_ptr "
        "_type _description _callout_info"
    ).split()
)

# char* parameters that are binary data or outputs, never captured as C strings. Listed per
# syscall so that a new char* parameter cannot silently slip into either category.
_NOT_STRINGS: Final[dict[str, frozenset[str]]] = {
    name: frozenset(params.split())
    for name, params in {
        "read": "buf",
        "write": "buf",
        "pread64": "buf",
        "pwrite64": "buf",
        "readlink": "buf",
        "readlinkat": "buf",
        "getcwd": "buf",
        "getrandom": "buf",
        "syslog": "buf",
        "lookup_dcookie": "buf",
        "shmat": "shmaddr",
        "shmdt": "shmaddr",
        "mincore": "vec",
        "setsockopt": "optval",
        "getsockopt": "optval",
        "listxattr": "list",
        "llistxattr": "list",
        "flistxattr": "list",
        "listxattrat": "list",
        "mq_timedsend": "msg_ptr",
        "mq_timedreceive": "msg_ptr",
        "mq_timedsend_time64": "msg_ptr",
        "mq_timedreceive_time64": "msg_ptr",
        # Length-delimited, not NUL-terminated: captured as a buffer instead (see _BUF_ARG).
        "sethostname": "name",
        "setdomainname": "name",
    }.items()
}

# Buffers the kernel reads: syscall -> {buffer arg index: length arg index}. sendmsg/writev
# are not here on purpose: their data is scattered behind iovecs, not one flat buffer.
_BUF_ARG: Final[dict[str, dict[int, int]]] = {
    "write": {1: 2},
    "pwrite64": {1: 2},
    "sendto": {1: 2, 4: 5},
    "sched_setaffinity": {2: 1},
    "connect": {1: 2},  # the sockaddr, as long as its length argument says
    "bind": {1: 2},
    "sethostname": {0: 1},
    "setdomainname": {0: 1},
    "setsockopt": {3: 4},  # the option's value
}

# Buffers the kernel fills: syscall -> buffer arg index; the return value is the byte count.
_BUF_RET: Final[dict[str, int]] = {
    "read": 1,
    "pread64": 1,
    "recvfrom": 1,
    "readlink": 1,
    "readlinkat": 2,
    "getcwd": 0,
    "getrandom": 0,
    "sched_getaffinity": 2,
}


# Arrays: execve's argv is copied, its envp only counted (strace's /* N vars */), and so are
# the records getdents writes (/* N entries */).
_ARRAYS: Final[dict[str, dict[int, int]]] = {
    "execve": {1: CAPTURE_ARGV, 2: CAPTURE_ENVC},
    "execveat": {2: CAPTURE_ARGV, 3: CAPTURE_ENVC},
    "getdents64": {1: CAPTURE_DIRENTS},
    "getdents": {1: CAPTURE_DIRENTS},
    "poll": {0: CAPTURE_POLLFDS},
    "sendmsg": {1: CAPTURE_MSGHDR_IN},
    "recvmsg": {1: CAPTURE_MSGHDR_OUT},
    "writev": {1: CAPTURE_IOVEC_IN},
    "pwritev": {1: CAPTURE_IOVEC_IN},
    "readv": {1: CAPTURE_IOVEC_OUT},
    "preadv": {1: CAPTURE_IOVEC_OUT},
    "ppoll": {0: CAPTURE_POLLFDS, 2: CAPTURE_INOUT_WORDS | 2, 3: CAPTURE_IN_WORDS | 1},
    "pselect6": {1: CAPTURE_FDSET, 2: CAPTURE_FDSET, 3: CAPTURE_FDSET, 4: CAPTURE_INOUT_WORDS | 2},
    "select": {1: CAPTURE_FDSET, 2: CAPTURE_FDSET, 3: CAPTURE_FDSET, 4: CAPTURE_INOUT_WORDS | 2},
    "accept": {1: CAPTURE_SOCKADDR_OUT},
    "accept4": {1: CAPTURE_SOCKADDR_OUT},
    "getsockname": {1: CAPTURE_SOCKADDR_OUT},
    "getpeername": {1: CAPTURE_SOCKADDR_OUT},
    "recvfrom": {4: CAPTURE_SOCKADDR_OUT},
    "getsockopt": {3: CAPTURE_SOCKADDR_OUT},  # the value and its length work alike
    # No argument: the engine copies the mask from the stack, and labels it argument 0.
    "rt_sigreturn": {0: CAPTURE_SIGFRAME_MASK},
}

# Small structs (x86_64 layouts; decode.py prints i386 ones as pointers): syscall -> {arg
# index: capture code}. The kernel reads an IN struct (copied at entry) and writes an OUT one
# (copied at exit when the call did not fail).
_STAT_WORDS: Final = 18  # struct stat, 144 bytes
_STRUCTS: Final[dict[str, dict[int, int]]] = {
    # prctl: what the kernel wrote at arg2 for the options that write (a name, an int, an
    # address; also read back for PR_SET_NAME, which it does not change), and the struct at arg3
    # (PR_SET_SECCOMP's filter program). Copies from numbers that are not addresses fail
    # harmlessly.
    "prctl": {1: CAPTURE_OUT_WORDS | 2, 2: CAPTURE_IN_WORDS | 2},
    "signalfd4": {1: CAPTURE_IN_WORDS | 1},  # sigset_t
    "fcntl": {2: CAPTURE_IN_WORDS | 4},  # a struct flock (other commands: a number, no read)
    # The struct or int an ioctl reads or writes (termios, winsize, [N]): 40 bytes at entry
    # and again at exit; a request whose argument is a number is below 4096, never read.
    "ioctl": {2: CAPTURE_INOUT_WORDS | 5},
    "utimensat": {2: CAPTURE_IN_WORDS | 4},  # two struct timespec
    "gettimeofday": {0: CAPTURE_OUT_WORDS | 2, 1: CAPTURE_OUT_WORDS | 1},
    "getgroups": {1: CAPTURE_OUT_WORDS | 16},  # the first 32 gids
    "uname": {0: CAPTURE_OUT_WORDS | 17},  # sysname and nodename, what strace shows
    # struct itimerspec: the new setting, and the old one written back
    "timerfd_settime": {2: CAPTURE_IN_WORDS | 4, 3: CAPTURE_OUT_WORDS | 4},
    "timer_settime": {2: CAPTURE_IN_WORDS | 4, 3: CAPTURE_OUT_WORDS | 4},
    "timerfd_gettime": {1: CAPTURE_OUT_WORDS | 4},
    "timer_gettime": {1: CAPTURE_OUT_WORDS | 4},
    "timer_create": {1: CAPTURE_IN_WORDS | 4, 2: CAPTURE_OUT_INTS | 1},  # struct sigevent; the id
    # struct itimerval: the new setting, and the old one written back
    "setitimer": {1: CAPTURE_IN_WORDS | 4, 2: CAPTURE_OUT_WORDS | 4},
    "getitimer": {1: CAPTURE_OUT_WORDS | 4},
    "sched_setscheduler": {2: CAPTURE_IN_WORDS | 1},  # struct sched_param (its 4 bytes, read as 8)
    "epoll_ctl": {3: CAPTURE_IN_WORDS | 2},  # struct epoll_event (12 bytes)
    "epoll_wait": {1: CAPTURE_OUT_WORDS | 30},  # the first 20 events it wrote
    "epoll_pwait": {1: CAPTURE_OUT_WORDS | 30, 4: CAPTURE_IN_WORDS | 1},
    "sysinfo": {0: CAPTURE_OUT_WORDS | 14},
    "statfs": {1: CAPTURE_OUT_WORDS | 11},  # struct statfs up to f_flags
    "fstatfs": {1: CAPTURE_OUT_WORDS | 11},
    "setgroups": {1: CAPTURE_IN_WORDS | 16},
    "getrusage": {1: CAPTURE_OUT_WORDS | 4},  # struct rusage: its two timevals
    "wait4": {3: CAPTURE_OUT_WORDS | 4},
    "stat": {1: CAPTURE_OUT_WORDS | _STAT_WORDS},
    "lstat": {1: CAPTURE_OUT_WORDS | _STAT_WORDS},
    "fstat": {1: CAPTURE_OUT_WORDS | _STAT_WORDS},
    "newfstatat": {2: CAPTURE_OUT_WORDS | _STAT_WORDS},
    "rt_sigaction": {1: CAPTURE_IN_WORDS | 4, 2: CAPTURE_OUT_WORDS | 4},  # struct sigaction
    "rt_sigprocmask": {1: CAPTURE_IN_WORDS | 1, 2: CAPTURE_OUT_WORDS | 1},  # sigset_t
    "prlimit64": {2: CAPTURE_IN_WORDS | 2, 3: CAPTURE_OUT_WORDS | 2},  # struct rlimit64
    "nanosleep": {0: CAPTURE_IN_WORDS | 2, 1: CAPTURE_CUT_WORDS | 2},  # the time, the time left
    "clock_nanosleep": {2: CAPTURE_IN_WORDS | 2, 3: CAPTURE_CUT_WORDS | 2},
    "clock_gettime": {1: CAPTURE_OUT_WORDS | 2},
    "clock_getres": {1: CAPTURE_OUT_WORDS | 2},
    "statx": {4: CAPTURE_OUT_WORDS | 6},  # the first 48 bytes: what strace prints of it
    "clone3": {0: CAPTURE_IN_WORDS | 11},  # struct clone_args (88 bytes, the version-2 size)
    "rt_sigsuspend": {0: CAPTURE_IN_WORDS | 1},
    "rt_sigpending": {0: CAPTURE_OUT_WORDS | 1},
    "sigaltstack": {0: CAPTURE_IN_WORDS | 3, 1: CAPTURE_OUT_WORDS | 3},  # stack_t
    # the set, what siginfo_t holds of a signal's sender (32 bytes), the timeout
    "rt_sigtimedwait": {
        0: CAPTURE_IN_WORDS | 1,
        1: CAPTURE_OUT_WORDS | 4,
        2: CAPTURE_IN_WORDS | 2,
    },
}

# Small int arrays the kernel writes: syscall -> {arg index: how many ints}. Copied at exit when
# the call did not fail.
_OUT_INTS: Final[dict[str, dict[int, int]]] = {
    "wait4": {1: 1},  # the wait status
    "getresuid": {0: 1, 1: 1, 2: 1},
    "getresgid": {0: 1, 1: 1, 2: 1},
    "pipe": {0: 2},
    "pipe2": {0: 2},
    "socketpair": {3: 2},
}


def is_pointer(param: Param) -> bool:
    """Whether the parameter is a pointer into tracee memory."""
    return "*" in param.type or param.type.removeprefix("const ") in _POINTER_TYPEDEFS


def is_string_param(syscall: str, param: Param) -> bool:
    """Whether ``param`` of ``syscall`` is a NUL-terminated string input (a path or a name)."""
    return _is_string(syscall, param.type, param.name)


def _is_string(syscall: str, type_: str, name: str) -> bool:
    return (
        type_ in _CHAR_POINTERS
        and name in STRING_PARAM_NAMES
        and name not in _NOT_STRINGS.get(syscall, frozenset())
    )


CaptureSpec = tuple[int, int, int, int, int, int]


@functools.cache
def capture_spec(name: str) -> CaptureSpec:
    """Per argument, the CAPTURE_* code telling the engine what to copy from the tracee."""
    spec = [CAPTURE_NONE] * MAX_ARGS
    # The raw pairs, not prototype(): this runs for every syscall at each session's start.
    found = _entry(name)
    for index, (type_, param) in enumerate(found[1][:MAX_ARGS] if found else ()):
        if _is_string(name, type_, param):
            spec[index] = CAPTURE_CSTRING
    for index, length_index in _BUF_ARG.get(name, {}).items():
        spec[index] = CAPTURE_BUF_ARG | length_index
    if name in _BUF_RET:
        spec[_BUF_RET[name]] = CAPTURE_BUF_RET
    for index, count in _OUT_INTS.get(name, {}).items():
        spec[index] = CAPTURE_OUT_INTS | count
    for index, code in _ARRAYS.get(name, {}).items():
        spec[index] = code
    for index, code in _STRUCTS.get(name, {}).items():
        spec[index] = code
    return (spec[0], spec[1], spec[2], spec[3], spec[4], spec[5])
