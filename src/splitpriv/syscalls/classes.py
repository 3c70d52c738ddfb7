"""strace's syscall classes (``-e trace=%file``, ``%process``, ...) as data.

Each syscall carries the class flags strace gives it in its own tables
(``src/linux/x86_64/syscallent.h``, ``src/linux/i386/syscallent.h`` and
``src/linux/generic/syscallent-common.h``; the flag letters are those of
``src/sysent_shorthand_defs.h``). Only the flags that define a class are kept here: TD (%desc),
TF (%file), TI (%ipc), TN (%network), TP (%process), TS (%signal), TM (%memory), TST/TLST/TFST/TSTA
(%stat, %lstat, %fstat, %%stat), TSF/TFSF/TSFA (%statfs, %fstatfs, %%statfs), PU (%pure),
TC (%creds), TCL (%clock) and TSD (%seccomp_default). A syscall absent from the tables is in no
class. Names are shared by both architectures a 64-bit tracee can reach, as in
:func:`splitpriv.syscalls.numbers_for_all_arches`; the i386-only names have their own entries.

Pure data and lookups: nothing here touches a process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from splitpriv.syscalls.table import ARCHES, table

TD: Final = 1 << 0
TF: Final = 1 << 1
TI: Final = 1 << 2
TN: Final = 1 << 3
TP: Final = 1 << 4
TS: Final = 1 << 5
TM: Final = 1 << 6
TST: Final = 1 << 7
TLST: Final = 1 << 8
TFST: Final = 1 << 9
TSTA: Final = 1 << 10
TSF: Final = 1 << 11
TFSF: Final = 1 << 12
TSFA: Final = 1 << 13
PU: Final = 1 << 14
TC: Final = 1 << 15
TCL: Final = 1 << 16
TSD: Final = 1 << 17

_LETTERS: Final[Mapping[str, int]] = {
    "TD": TD,
    "TF": TF,
    "TI": TI,
    "TN": TN,
    "TP": TP,
    "TS": TS,
    "TM": TM,
    "TST": TST,
    "TLST": TLST,
    "TFST": TFST,
    "TSTA": TSTA,
    "TSF": TSF,
    "TFSF": TFSF,
    "TSFA": TSFA,
    "PU": PU,
    "TC": TC,
    "TCL": TCL,
    "TSD": TSD,
}

# The class names ``-e trace=`` accepts, and the flag each selects. strace still accepts the
# first seven without their ``%`` (``trace=file``), for compatibility; so do we.
CLASSES: Final[Mapping[str, int]] = MappingProxyType(
    {
        "%desc": TD,
        "%file": TF,
        "%ipc": TI,
        "%network": TN,
        "%net": TN,
        "%process": TP,
        "%signal": TS,
        "%memory": TM,
        "%stat": TST,
        "%lstat": TLST,
        "%fstat": TFST,
        "%%stat": TSTA,
        "%statfs": TSF,
        "%fstatfs": TFSF,
        "%%statfs": TSFA,
        "%pure": PU,
        "%creds": TC,
        "%clock": TCL,
        "%seccomp_default": TSD,
    }
)
LEGACY_CLASSES: Final = frozenset({"desc", "file", "ipc", "network", "process", "signal", "memory"})

# "name FLAGS" per line, FLAGS joined with "|". Syscalls in no class are left out.
_TABLE = """
read TD
write TD
open TD|TF
close TD
stat TF|TST|TSTA
fstat TD|TFST|TSTA
lstat TF|TLST|TSTA
poll TD
lseek TD
mmap TD|TM
mprotect TM
munmap TM
brk TM
rt_sigaction TS
rt_sigprocmask TS
rt_sigreturn TS
ioctl TD
pread64 TD
pwrite64 TD
readv TD
writev TD
access TF
pipe TD
select TD
mremap TM
msync TM
mincore TM
madvise TM
shmget TI
shmat TI|TM
shmctl TI
dup TD
dup2 TD
pause TS
getpid PU
sendfile TD|TN
socket TN
connect TN
accept TN
sendto TN
recvfrom TN
sendmsg TN
recvmsg TN
shutdown TN
bind TN
listen TN
getsockname TN
getpeername TN
socketpair TN
setsockopt TN
getsockopt TN
clone TP
fork TP
vfork TP
execve TF|TP|TSD
exit TP
wait4 TP
kill TS|TP
semget TI
semop TI
semctl TI
shmdt TI|TM
msgget TI
msgsnd TI
msgrcv TI
msgctl TI
fcntl TD
flock TD
fsync TD
fdatasync TD
truncate TF
ftruncate TD
getdents TD
getcwd TF
chdir TF
fchdir TD
rename TF
mkdir TF
rmdir TF
creat TD|TF
link TF
unlink TF
symlink TF
readlink TF
chmod TF
fchmod TD
chown TF
fchown TD
lchown TF
gettimeofday TCL
getuid TC|PU
getgid TC|PU
setuid TC
setgid TC
geteuid TC|PU
getegid TC|PU
getppid PU
getpgrp PU
setreuid TC
setregid TC
getgroups TC
setgroups TC
setresuid TC
getresuid TC
setresgid TC
getresgid TC
setfsuid TC
setfsgid TC
capget TC
capset TC
rt_sigpending TS
rt_sigtimedwait TS
rt_sigqueueinfo TS|TP
rt_sigsuspend TS
sigaltstack TS
utime TF
mknod TF
uselib TF
ustat TSFA
statfs TF|TSF|TSFA
fstatfs TD|TFSF|TSFA
mlock TM
munlock TM
mlockall TM
munlockall TM
pivot_root TF
prctl TC
adjtimex TCL
chroot TF
acct TF
settimeofday TCL
mount TF
umount2 TF
swapon TF
swapoff TF
quotactl TF
getpmsg TN
putpmsg TN
gettid PU
readahead TD
setxattr TF
lsetxattr TF
fsetxattr TD
getxattr TF
lgetxattr TF
fgetxattr TD
listxattr TF
llistxattr TF
flistxattr TD
removexattr TF
lremovexattr TF
fremovexattr TD
tkill TS|TP
time TCL
io_setup TM
io_destroy TM
epoll_create TD
remap_file_pages TM
getdents64 TD
semtimedop TI
fadvise64 TD
clock_settime TCL
clock_gettime TCL
clock_getres TCL
exit_group TP
epoll_wait TD
epoll_ctl TD
tgkill TS|TP
utimes TF
mbind TM
set_mempolicy TM
get_mempolicy TM
mq_open TD
mq_timedsend TD
mq_timedreceive TD
mq_notify TD
mq_getsetattr TD
waitid TP
inotify_init TD
inotify_add_watch TD|TF
inotify_rm_watch TD
migrate_pages TM
openat TD|TF
mkdirat TD|TF
mknodat TD|TF
fchownat TD|TF
futimesat TD|TF
newfstatat TD|TF|TFST|TSTA
unlinkat TD|TF
renameat TD|TF
linkat TD|TF
symlinkat TD|TF
readlinkat TD|TF
fchmodat TD|TF
faccessat TD|TF
pselect6 TD
ppoll TD
splice TD
tee TD
sync_file_range TD
vmsplice TD
move_pages TM
utimensat TD|TF
epoll_pwait TD
signalfd TD|TS
timerfd_create TD
eventfd TD
fallocate TD
timerfd_settime TD
timerfd_gettime TD
accept4 TN
signalfd4 TD|TS
eventfd2 TD
epoll_create1 TD
dup3 TD
pipe2 TD
inotify_init1 TD
preadv TD
pwritev TD
rt_tgsigqueueinfo TP|TS
perf_event_open TD
recvmmsg TN
fanotify_init TD
fanotify_mark TD|TF
name_to_handle_at TD|TF
open_by_handle_at TD
clock_adjtime TCL
syncfs TD
sendmmsg TN
setns TD
finit_module TD
renameat2 TD|TF
memfd_create TD
kexec_file_load TD
bpf TD
execveat TD|TF|TP|TSD
userfaultfd TD
mlock2 TM
copy_file_range TD
preadv2 TD
pwritev2 TD
pkey_mprotect TM
statx TD|TF|TFST|TSTA
pidfd_send_signal TD|TS|TP
io_uring_setup TD
io_uring_enter TD|TS
io_uring_register TD|TM
open_tree TD|TF
move_mount TD|TF
fsopen TD
fsconfig TD|TF
fsmount TD
fspick TD|TF
pidfd_open TD
clone3 TP
openat2 TD|TF
pidfd_getfd TD
faccessat2 TD|TF
process_madvise TD
epoll_pwait2 TD
mount_setattr TD|TF
quotactl_fd TD
landlock_create_ruleset TD
landlock_add_rule TD
landlock_restrict_self TD
memfd_secret TD
process_mrelease TD
set_mempolicy_home_node TM
cachestat TD
fchmodat2 TD|TF
map_shadow_stack TM
mseal TM
setxattrat TD|TF
getxattrat TD|TF
listxattrat TD|TF
removexattrat TD|TF
waitpid TP
break TM
oldstat TF|TST|TSTA
umount TF
oldfstat TD|TFST|TSTA
signal TS
sigaction TS
sgetmask TS
ssetmask TS
sigsuspend TS
sigpending TS
oldlstat TF|TLST|TSTA
readdir TD
socketcall TD|TSD
ipc TI|TSD
sigreturn TS
sigprocmask TS
_llseek TD
_newselect TD
mmap2 TD|TM
truncate64 TF
ftruncate64 TD
stat64 TF|TST|TSTA
lstat64 TF|TLST|TSTA
fstat64 TD|TFST|TSTA
lchown32 TF
getuid32 TC|PU
getgid32 TC|PU
geteuid32 TC|PU
getegid32 TC|PU
setreuid32 TC
setregid32 TC
getgroups32 TC
setgroups32 TC
fchown32 TD
setresuid32 TC
getresuid32 TC
setresgid32 TC
getresgid32 TC
chown32 TF
setuid32 TC
setgid32 TC
setfsuid32 TC
setfsgid32 TC
fcntl64 TD
sendfile64 TD|TN
statfs64 TF|TSF|TSFA
fstatfs64 TD|TFSF|TSFA
fadvise64_64 TD
fstatat64 TD|TF|TFST|TSTA
clock_gettime64 TCL
clock_settime64 TCL
clock_adjtime64 TCL
clock_getres_time64 TCL
timerfd_gettime64 TD
timerfd_settime64 TD
utimensat_time64 TD|TF
pselect6_time64 TD
ppoll_time64 TD
recvmmsg_time64 TN
mq_timedsend_time64 TD
mq_timedreceive_time64 TD
semtimedop_time64 TI
rt_sigtimedwait_time64 TS
"""


def _parse(text: str) -> dict[str, int]:
    flags: dict[str, int] = {}
    for line in text.split("\n"):
        if not line:
            continue
        name, letters = line.split()
        value = 0
        for letter in letters.split("|"):
            value |= _LETTERS[letter]
        flags[name] = value
    return flags


FLAGS: Final[Mapping[str, int]] = MappingProxyType(_parse(_TABLE))


def flags_of(name: str) -> int:
    """The class flags of a syscall name (0: in no class)."""
    return FLAGS.get(name, 0)


def known_names() -> frozenset[str]:
    """Every syscall name of every architecture the tracer understands."""
    return _known_names()


@functools.cache
def _known_names() -> frozenset[str]:
    return frozenset().union(*(table(arch).names() for arch in ARCHES))


def class_flag(spec: str) -> int | None:
    """The flag of a class spelled ``%file`` (or ``file``, the old way), or None."""
    if spec in CLASSES:
        return CLASSES[spec]
    if spec in LEGACY_CLASSES:
        return CLASSES["%" + spec]
    return None


@functools.cache
def members(flag: int) -> frozenset[str]:
    """The syscall names (on any architecture we know) that carry ``flag``."""
    known = known_names()
    return frozenset(name for name, value in FLAGS.items() if value & flag and name in known)


__all__ = [
    "CLASSES",
    "FLAGS",
    "LEGACY_CLASSES",
    "class_flag",
    "flags_of",
    "known_names",
    "members",
]
