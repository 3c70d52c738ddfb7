"""Decoded arguments and results against the real strace, on the same real programs.

Each test runs a program twice in the same setting (same directory contents, environment,
stdin/stdout/stderr kinds): once under ``strace -f -qq -s 32 -o FILE`` and once under
``splitpriv.trace``. The calls are paired per thread, in order (threads are paired through the
clone/fork return values), and for every syscall that has a decoder the name, the argument texts
and the result must be the same, with these normalisations:

* addresses: ``0x`` and 6+ hex digits, on both sides (ASLR moves them between runs);
* pids and tids: numbered in order of appearance, where a pid is printed (clone results, kill,
  wait4, getpid...), since the two runs have different pids;
* memory we do not copy: strace reads structures and arrays behind pointers that the engine
  does not copy, and there we print the pointer, as strace does when it cannot read them. For
  those arguments (listed in NOT_COPIED with the reason) strace's text is replaced by the
  pointer placeholder before comparing. A NULL pointer must still print ``NULL`` on both sides.
"""

from __future__ import annotations

import ctypes
import difflib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import splitpriv
from splitpriv import SyscallEvent
from splitpriv.syscalls import decode

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed")

STRING_LIMIT = 32
ADDRESS = re.compile(r"0x[0-9a-f]{6,}")
PLACEHOLDER = "0xADDR"

# (syscall, argument position in strace's output) -> why strace prints more than we can.
NOT_COPIED: dict[tuple[str, int], str] = {
    ("openat2", 2): "struct open_how",
    ("futex", 3): "struct timespec timeout",
    ("arch_prctl", 1): "ARCH_GET_FS/GS: the address stored there",
    ("copy_file_range", 1): "loff_t in/out",
    ("copy_file_range", 3): "loff_t in/out",
    ("sendfile", 2): "loff_t in/out",
    ("getrlimit", 1): "struct rlimit",
}
# Arguments both sides print in full but whose value differs between the two runs.
DIFFERS_BETWEEN_RUNS: dict[tuple[str, int], str] = {
    ("getrandom", 0): "the random bytes the kernel wrote",
    ("sched_getaffinity", 2): "the CPUs: splitpriv's default placement pins the tracee to one",
    ("sysinfo", 0): "the uptime, loads and free memory",
}
RANDOM = "<random>"
# The same for arguments strace prints as name=value (clone), by name.
NOT_COPIED_NAMED: dict[tuple[str, str], str] = {
    ("clone", "parent_tid"): "[pid] the kernel wrote there",
    ("clone", "tls"): "i386 only: struct user_desc",
}
# Decoded calls not compared at all, and why (none: rt_sigreturn's mask, which is no argument
# but read from the signal frame on the stack, is compared too).
NOT_COMPARED: dict[str, str] = {}
# Where a pid or tid is printed: results, and (syscall, argument position). rt_sigreturn's
# result is the interrupted code's rax, restored: a wait4's pid when SIGCHLD came after it.
PID_RESULTS = frozenset(
    {
        "clone",
        "clone3",
        "fork",
        "vfork",
        "wait4",
        "getpid",
        "gettid",
        "set_tid_address",
        "rt_sigreturn",
    }
)
PID_ARGUMENTS = frozenset(
    {("kill", 0), ("tkill", 0), ("tgkill", 0), ("tgkill", 1), ("wait4", 0), ("prlimit64", 0)}
)
CHILD_CREATORS = frozenset({"clone", "clone3", "fork", "vfork"})
# glibc's malloc takes memory with brk or mmap depending on where ASLR put things, so these
# calls may come and go between two runs of the same program; the others may not.
ALLOCATOR_CALLS = frozenset({"brk", "mmap", "munmap", "mprotect", "madvise", "mremap"})


@dataclass
class Call:
    """One syscall as a line of text: strace's, or ours rendered by the decoder."""

    tid: int
    name: str
    args: list[str]
    result: str


# --- strace's output ------------------------------------------------------------------------


def split_call(text: str) -> tuple[str, list[str], str]:
    """``name(a, {b, c}, "d,e") = 3`` -> ("name", ["a", "{b, c}", '"d,e"'], "3")."""
    name, _, rest = text.partition("(")
    args: list[str] = []
    depth, start, i = 0, 0, 0
    while i < len(rest):
        c = rest[i]
        if c == '"':
            i += 1
            while rest[i] != '"':
                i += 2 if rest[i] == "\\" else 1
        elif rest.startswith("/*", i):
            i = rest.index("*/", i) + 1
        elif c in "([{":
            depth += 1
        elif c in "}]" or (c == ")" and depth > 0):
            depth -= 1
        elif c == ")":
            break
        elif c == "," and depth == 0:
            args.append(rest[start:i].strip())
            start = i + 1
        i += 1
    last = rest[start:i].strip()
    if last or args:
        args.append(last)
    tail = rest[i + 1 :].strip()
    assert tail.startswith("="), f"no result in strace line {text!r}"
    return name, args, tail[1:].strip()


SUPERSEDED = re.compile(r"\+\+\+ superseded by execve in pid (\d+) \+\+\+")
PID_CHANGED = re.compile(r" <pid changed to \d+ \.\.\.>$")


def parse_strace(text: str) -> list[Call]:
    """The calls of ``strace -f -o FILE`` output, unfinished/resumed pairs joined. An execve
    made by a thread other than the leader begins under the thread (`<unfinished ...>` or
    `<pid changed to L ...>`) and resumes under the leader's pid, after `+++ superseded by
    execve in pid T +++`: it is counted as the leader's."""
    pending: dict[int, str] = {}
    calls = []
    for raw in text.splitlines():
        pid_text, _, line = raw.partition(" ")
        pid = int(pid_text)
        line = line.strip()
        superseded = SUPERSEDED.fullmatch(line)
        if superseded and int(superseded.group(1)) in pending:
            pending[pid] = pending.pop(int(superseded.group(1)))
        if line.startswith(("---", "+++")):
            continue
        if PID_CHANGED.search(line):
            line = PID_CHANGED.sub(" <unfinished ...>", line)
        if line.endswith("<unfinished ...>"):
            pending[pid] = line.removesuffix("<unfinished ...>").removesuffix(" ")
            continue
        if line.startswith("<..."):
            line = pending.pop(pid) + line.split("resumed>", 1)[1]
        name, args, result = split_call(line)
        calls.append(Call(pid, name, args, result))
    return calls


def run_strace(argv: list[str], cwd: Path, env: Mapping[str, str], out: Path) -> list[Call]:
    assert STRACE is not None
    log = out.with_suffix(".strace")
    with open(out, "wb") as sink, open(os.devnull, "rb") as devnull:
        subprocess.run(
            [STRACE, "-f", "-qq", "-s", str(STRING_LIMIT), "-o", str(log), *argv],
            cwd=cwd,
            env=dict(env),
            stdin=devnull,
            stdout=sink,
            stderr=sink,
            timeout=60,
            check=False,
            close_fds=False,  # the tracee inherits what ours inherits from this process
        )
    return parse_strace(log.read_text(errors="surrogateescape"))


# --- ours -----------------------------------------------------------------------------------


@contextmanager
def redirected(stdout: Path) -> Iterator[None]:
    """Give the tracee what strace's gets: stdin from /dev/null, stdout and stderr to a file."""
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        with open(os.devnull, "rb") as devnull, open(stdout, "wb") as sink:
            os.dup2(devnull.fileno(), 0)
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        for fd, copy in zip((0, 1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def run_splitpriv(argv: list[str], cwd: Path, env: Mapping[str, str], out: Path) -> list[Call]:
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with redirected(out), splitpriv.trace(argv, env=env, cpu="none") as t:
            events = [e for e in t if isinstance(e, SyscallEvent)]
    finally:
        os.chdir(here)
    return [
        Call(e.tid, e.name, decode.arguments(e, STRING_LIMIT), decode.result(e)) for e in events
    ]


# --- comparison -----------------------------------------------------------------------------


def by_thread(calls: list[Call]) -> dict[int, list[Call]]:
    threads: dict[int, list[Call]] = {}
    for call in calls:
        threads.setdefault(call.tid, []).append(call)
    return threads


def align(theirs: list[Call], ours: list[Call]) -> Iterator[tuple[list[Call], list[Call], bool]]:
    """Runs of calls of two threads, aligned by name: (strace's, ours, whether they match)."""
    t_names, o_names = [c.name for c in theirs], [c.name for c in ours]
    matcher = difflib.SequenceMatcher(None, t_names, o_names, autojunk=False)
    for tag, t_lo, t_hi, o_lo, o_hi in matcher.get_opcodes():
        yield theirs[t_lo:t_hi], ours[o_lo:o_hi], tag == "equal"


def pair_threads(
    theirs: dict[int, list[Call]], root_theirs: int, ours: dict[int, list[Call]], root_ours: int
) -> list[tuple[int, int]]:
    """(strace tid, our tid) pairs: the roots, then the children their clones returned, a
    task's n-th child on one side with its n-th on the other. (Not through the alignment of
    all its calls: a SIGCHLD that comes in the middle of a fork, as the schedule has it,
    restarts the fork (`= ? ERESTARTNOINTR`, the handler's rt_sigreturn, the fork again) in
    one run only, and the child it then made went unpaired: a shell's second pipeline child,
    1 run in 80 on a loaded machine.)"""

    def children(calls: list[Call]) -> list[int]:
        made = (c.result.split()[0] for c in calls if c.name in CHILD_CREATORS and c.result)
        return [int(pid) for pid in made if pid.isdigit() and int(pid) > 0]

    pairs = [(root_theirs, root_ours)]
    for t_tid, o_tid in pairs:
        pairs.extend(
            zip(children(theirs.get(t_tid, [])), children(ours.get(o_tid, [])), strict=False)
        )
    return pairs


MEMORY_TEXT = re.compile(r'(~?\[|\{|"[^"]|0x[0-9a-f]+ /\*)')


def read_from_memory(text: str) -> bool:
    """Whether strace printed what it read behind a pointer: ``{...}``, ``[...]``, a string,
    ``0x... /* 20 vars */``. Plain values (``NULL``, a number, a name) stay as they are."""
    return MEMORY_TEXT.match(text) is not None


# glibc's pthread_create passes clone3 one word as both parent_tid and child_tid, with
# CLONE_CHILD_CLEARTID: the kernel writes the new tid there, and zeroes it when the thread ends.
# A thread that ends before its parent's clone3 returns to the tracer leaves `[0]` to be read:
# strace prints `=> {parent_tid=[0]}` or the tid as the schedule has it (so do we).
SHARED_TID_WORD = re.compile(r"\bchild_tid=(0x[0-9a-f]+), parent_tid=\1\b")


def cleared_parent_tid(text: str, result: str) -> str:
    """clone3's first argument with a `parent_tid=[0]` the thread's end cleared read as the tid
    the kernel wrote there (the call's result): the same text whichever came first."""
    if "CLONE_CHILD_CLEARTID" in text and SHARED_TID_WORD.search(text) and result.isdigit():
        return text.replace("=> {parent_tid=[0]}", f"=> {{parent_tid=[{result}]}}")
    return text


def normalise(
    call: Call, pids: Mapping[int, int], *, strace_side: bool
) -> tuple[str, list[str], str]:
    def pid(text: str) -> str:
        head, *rest = text.split(" ", 1)
        if head.lstrip("-").isdigit() and int(head) in pids:
            head = f"PID{pids[int(head)]}"
        return " ".join([head, *rest])

    args = []
    for i, text in enumerate(call.args):
        if (call.name, i) in PID_ARGUMENTS:
            text = pid(text)
        if strace_side:
            label, equals, value = text.partition("=")
            if equals and (call.name, label) in NOT_COPIED_NAMED and read_from_memory(value):
                text = f"{label}={PLACEHOLDER}"
            elif (call.name, i) in NOT_COPIED and read_from_memory(text):
                text = PLACEHOLDER
        if call.name == "clone3" and i == 0:
            text = cleared_parent_tid(text, call.result)
        # Pids inside structs: clone3's `=> {parent_tid=[PID]}`, a siginfo's sender.
        text = re.sub(r"(parent_tid=\[|si_pid=)(\d+)", lambda m: m[1] + pid(m[2]), text)
        if (call.name, i) in DIFFERS_BETWEEN_RUNS and text[:1] in ('"', "[", "{"):
            text = RANDOM + ("..." if text.endswith('"...') else "")
        args.append(ADDRESS.sub(PLACEHOLDER, text))
    result = pid(call.result) if call.name in PID_RESULTS else call.result
    return call.name, args, ADDRESS.sub(PLACEHOLDER, result)


def compare(theirs: list[Call], ours: list[Call]) -> tuple[list[str], dict[str, int]]:
    """The mismatches (as readable lines), and how many calls of each name matched."""
    t_threads, o_threads = by_thread(theirs), by_thread(ours)
    pairs = pair_threads(t_threads, theirs[0].tid, o_threads, ours[0].tid)
    t_pids = {t: n for n, (t, _o) in enumerate(pairs)}
    o_pids = {o: n for n, (_t, o) in enumerate(pairs)}
    problems: list[str] = []
    matched: dict[str, int] = {}
    assert len(pairs) == len(t_threads) == len(o_threads), (pairs, list(o_threads))
    for t_tid, o_tid in pairs:
        for t_run, o_run, same in align(t_threads[t_tid], o_threads[o_tid]):
            if not same:
                t_names, o_names = [c.name for c in t_run], [c.name for c in o_run]
                if not set(t_names) | set(o_names) <= ALLOCATOR_CALLS:
                    problems.append(
                        f"thread {t_pids[t_tid]}: strace has {t_names} where we have {o_names}"
                    )
                continue
            for t_call, o_call in zip(t_run, o_run, strict=True):
                if t_call.name not in decode.DECODERS or t_call.name in NOT_COMPARED:
                    continue
                expected = normalise(t_call, t_pids, strace_side=True)
                got = normalise(o_call, o_pids, strace_side=False)
                if expected == got:
                    matched[t_call.name] = matched.get(t_call.name, 0) + 1
                else:
                    problems.append(
                        f"strace: {expected[0]}({', '.join(expected[1])}) = {expected[2]}"
                    )
                    problems.append(f"ours:   {got[0]}({', '.join(got[1])}) = {got[2]}")
    return problems, matched


ADDR_NO_RANDOMIZE = 0x0040000


@contextmanager
def no_aslr() -> Iterator[None]:
    """Turn address randomisation off for the children started meanwhile (both tracers pass
    their personality on to the tracee), so that glibc's malloc makes the same brk/mmap/munmap
    calls in both runs; without it, even their order depends on where ASLR put things."""
    libc = ctypes.CDLL(None, use_errno=True)
    before = libc.personality(0xFFFFFFFF)
    if before == -1 or libc.personality(before | ADDR_NO_RANDOMIZE) == -1:
        yield  # personality(2) refused: the runs may differ in allocator calls only
        return
    try:
        yield
    finally:
        libc.personality(before)


def trace_both(argv: list[str], workdir: Path, setup: dict[str, bytes]) -> dict[str, int]:
    """Run ``argv`` under strace and under splitpriv in identical setups; assert they agree."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", LC_ALL="C.UTF-8")
    env.pop("PYTEST_CURRENT_TEST", None)  # it changes between the runs' test phases

    def fresh() -> Path:
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir()
        for name, content in setup.items():
            (workdir / name).write_bytes(content)
        return workdir

    out = workdir.parent / "out.txt"
    subprocess.run(argv, cwd=fresh(), env=env, capture_output=True, timeout=60, check=False)
    with no_aslr():
        theirs = run_strace(argv, fresh(), env, out)
        ours = run_splitpriv(argv, fresh(), env, out)
    problems, matched = compare(theirs, ours)
    assert not problems, "decoded calls differ from strace's:\n" + "\n".join(problems)
    return matched


# --- the programs ---------------------------------------------------------------------------

# Deterministic system calls a small Python program makes (no threads: futex timing would vary).
PYTHON_PROGRAM = r"""
import fcntl, mmap, os, resource, select, signal, socket, termios
d = os.getcwd()
p = d + "/f.txt"
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
os.write(fd, b"hello\n\x00\x01\x7f\xff01 binary\t\"q\" \\ " * 4)
os.lseek(fd, 0, os.SEEK_SET)
os.pwrite(fd, b"abc", 3)
os.close(fd)
fd = os.open(p, os.O_RDONLY)
os.read(fd, 100); os.read(fd, 100); os.pread(fd, 10, 2)
os.lseek(fd, 0, os.SEEK_END); os.lseek(fd, -3, os.SEEK_CUR)
r, w = os.pipe()
a, b = os.pipe2(os.O_NONBLOCK)
os.dup(r); os.dup2(r, 20); os.dup2(r, 21, inheritable=False)
fcntl.fcntl(r, fcntl.F_GETFD); fcntl.fcntl(r, fcntl.F_SETFD, fcntl.FD_CLOEXEC)
fcntl.fcntl(r, fcntl.F_GETFL); fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK)
fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 30); fcntl.fcntl(r, fcntl.F_DUPFD, 40)
fcntl.fcntl(w, fcntl.F_GETFL)
os.access(p, os.R_OK | os.W_OK); os.access("/nonexistent", os.F_OK); os.access(p, os.X_OK)
os.stat(p); os.lstat(p); os.fstat(fd)
os.readlink("/proc/self/exe")
try: os.readlink(p)
except OSError: pass
os.getcwd(); os.chdir("/"); os.chdir(d)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
try: u.connect("/nonexistent/sock")
except OSError: pass
x, y = socket.socketpair()
x.send(b"ping\x00\x01"); y.recv(10)
os.set_blocking(y.fileno(), False)
try: y.recvfrom(10)
except OSError: pass
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
signal.signal(signal.SIGUSR1, lambda *a: None)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR2])
os.kill(os.getpid(), 0)
os.kill(os.getpid(), signal.SIGUSR1)
pid = os.fork()
if pid == 0:
    os._exit(3)
os.waitpid(pid, 0)
try: os.waitpid(-1, os.WNOHANG)
except ChildProcessError: pass
os.getrandom(8, os.GRND_NONBLOCK)
m = os.memfd_create("mem", os.MFD_CLOEXEC)
e = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
ep = select.epoll()
ep.register(r, select.EPOLLIN)
ep.poll(0)
os.mkdir(d + "/sub", 0o750); os.rmdir(d + "/sub")
os.umask(0o22)
resource.getrlimit(resource.RLIMIT_NOFILE)
mm = mmap.mmap(-1, 8192); mm.close()
try: fcntl.ioctl(0, termios.TCGETS, bytes(64))
except OSError: pass
fcntl.ioctl(r, termios.FIONREAD, bytes(4))
fcntl.ioctl(r, termios.FIOCLEX)
os.mknod(d + "/fifo", 0o600 | 0o010000); os.unlink(d + "/fifo")
os.rename(p, p + ".old"); os.truncate(p + ".old", 2)
rw = os.open(p + ".old", os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW); os.ftruncate(rw, 1)
os.symlink("f.txt.old", d + "/link"); os.readlink(d + "/link"); os.unlink(d + "/link")
os.chmod(p + ".old", 0o600)
os.unlink(p + ".old")
os.listdir(d)
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.mkdir("sub2", 0o700, dir_fd=dfd); os.rmdir("sub2", dir_fd=dfd)
os.close(os.open("g", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600, dir_fd=dfd))
os.stat("g", dir_fd=dfd, follow_symlinks=False); os.access("g", os.W_OK, effective_ids=True)
os.chown("g", -1, -1); os.unlink("g", dir_fd=dfd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
os.sendfile(w, fd, None, 0)
fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
srv.bind("\0splitpriv-decode-test" + os.getcwd()); srv.listen(3)  # the same in both runs
try: srv.accept()
except BlockingIOError: pass
cli = socket.socket(socket.AF_UNIX); cli.connect(srv.getsockname()); srv.accept()
srv.getsockname(); cli.getpeername()
dg = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dg.bind("\0splitpriv-dgram" + os.getcwd())
dg2 = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); dg2.bind("\0splitpriv-dgram2" + os.getcwd())
dg2.sendto(b"x", dg.getsockname()); dg.recvfrom(10)
x.shutdown(socket.SHUT_WR)
signal.pthread_kill(signal.pthread_self() if False else __import__("threading").get_ident(), 0)
select.poll().poll(0)
pr, pw = os.pipe(); os.write(pw, b"x"); polled = select.poll()
polled.register(pr, select.POLLIN | select.POLLPRI); polled.register(pw, select.POLLOUT)
polled.poll(0)
spawned = os.posix_spawn("/bin/true", ["true", "spawned"], {"A": "1"})
os.waitpid(spawned, 0)
pid = os.fork()
if pid == 0:
    os.execv("/bin/true", ["true", "execed"])
os.waitpid(pid, 0)
"""


def _report(matched: dict[str, int]) -> None:
    print("matched:", ", ".join(f"{name} x{n}" for name, n in sorted(matched.items())))


def test_cat_matches_strace(tmp_path: Path):
    cat = shutil.which("cat")
    assert cat is not None
    matched = trace_both(
        [cat, "data.txt", "missing.txt"], tmp_path / "work", {"data.txt": b"some text\n" * 50}
    )
    assert {"openat", "read", "close", "mmap", "execve"} <= matched.keys()
    _report(matched)


def test_ls_matches_strace(tmp_path: Path):
    ls = shutil.which("ls")
    assert ls is not None
    matched = trace_both(
        [ls, "-a", ".", "missing"], tmp_path / "work", {"a.txt": b"a", "b.bin": b"\0"}
    )
    assert {"openat", "getdents64", "write", "ioctl"} <= matched.keys()
    _report(matched)


def test_true_matches_strace(tmp_path: Path):
    true = shutil.which("true")
    assert true is not None
    matched = trace_both([true], tmp_path / "work", {})
    assert {"execve", "exit_group", "mmap", "arch_prctl"} <= matched.keys()
    _report(matched)


def test_python_matches_strace(tmp_path: Path):
    matched = trace_both([sys.executable, "-c", PYTHON_PROGRAM], tmp_path / "work", {})
    expected = {
        "openat",
        "read",
        "write",
        "pread64",
        "pwrite64",
        "lseek",
        "pipe2",
        "dup2",
        "dup3",
        "fcntl",
        "access",
        "newfstatat",
        "readlink",
        "getcwd",
        "chdir",
        "socket",
        "connect",
        "socketpair",
        "sendto",
        "recvfrom",
        "rt_sigaction",
        "rt_sigprocmask",
        "kill",
        "clone",
        "wait4",
        "getrandom",
        "memfd_create",
        "eventfd2",
        "epoll_create1",
        "epoll_ctl",
        "mkdir",
        "rmdir",
        "umask",
        "prlimit64",
        "mmap",
        "munmap",
        "ioctl",
        "mknodat",
        "exit_group",
        "faccessat2",
        "unlinkat",
        "mkdirat",
        "fadvise64",
        "sendfile",
        "flock",
        "bind",
        "listen",
        "accept4",
        "shutdown",
        "tgkill",
        "clone3",
        "execve",
    }
    assert expected <= matched.keys(), sorted(expected - matched.keys())
    _report(matched)


# Odd values through raw syscall(2): unknown bits and constants, flags strace names specially,
# quoting at the -s boundary. Compiled at test time.
ODD_VALUES_PROGRAM = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/time.h>

int main(void)
{
    char buf[64];
    int fds[2];
    struct timespec ts = {0, 0};
    long fd;
    syscall(SYS_openat, AT_FDCWD, "odd-file", O_WRONLY | O_CREAT | 0x40000000, 0);
    fd = syscall(SYS_openat, AT_FDCWD, ".", O_RDWR | __O_TMPFILE, 0600);
    syscall(SYS_openat, AT_FDCWD, "odd\001\0027\"\\\n\t\xff", O_RDONLY | O_NOFOLLOW | O_NOATIME);
    syscall(SYS_mmap, 0, 4096, PROT_READ | 0x10,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << 26), -1, 0);
    syscall(SYS_mmap, 0x10000, 4096, PROT_NONE, 0x4 | 0x40000000, -1, 0x1000);
    syscall(SYS_clone, CLONE_THREAD | 0x400000, 0, 0, 0, 0);
    syscall(SYS_clone, CLONE_SIGHAND | SIGUSR1, 0, 0, 0, 0);
    syscall(SYS_kill, 999999, 40);
    syscall(SYS_kill, getpid(), 99);
    syscall(SYS_tgkill, 999999, 999999, 32);
    syscall(SYS_rt_sigprocmask, 5, 0, 0, 8);
    syscall(SYS_rt_sigaction, 64, 0, 0, 8);
    syscall(SYS_lseek, 0, 0, 7);
    syscall(SYS_lseek, 0, -5, SEEK_CUR);
    syscall(SYS_fcntl, 0, 999, 0x1234);
    syscall(SYS_fcntl, 0, F_SETFD, 0x3);
    syscall(SYS_fcntl, 0, F_SETFL, 0);
    syscall(SYS_fcntl, 0, F_GETLEASE);
    syscall(SYS_fcntl, 0, F_SETSIG, SIGUSR2);
    syscall(SYS_fcntl, 0, F_GETSIG);
    syscall(SYS_fcntl, 0, F_NOTIFY, DN_MODIFY | 0x100);
    syscall(SYS_socket, 99, SOCK_STREAM | 0x100, 0);
    syscall(SYS_socket, AF_UNIX, 12, 0);
    syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
    syscall(SYS_socket, AF_INET, SOCK_RAW, 199);
    /* AF_PACKET's protocol is in network byte order: htons(ETH_P_ALL), ...; unknown ones too */
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0x0300);
    syscall(SYS_socket, AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0x0008);
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0x0608);
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0xdd86);
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0x3412);
    syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0x12340300);
    syscall(SYS_access, "/", 0x10);
    syscall(SYS_access, "/", R_OK | 0x10);
    syscall(SYS_ioctl, 1, 0x12345678, 0);
    syscall(SYS_ioctl, 1, 0x5499, 7);
    syscall(SYS_ioctl, 100, TCXONC, 1);
    syscall(SYS_ioctl, 100, TIOCSCTTY, 0);
    syscall(SYS_ioctl, 100, TIOCNOTTY);
    syscall(SYS_umask, 0);
    syscall(SYS_umask, 022);
    syscall(SYS_mknodat, AT_FDCWD, "chr", S_IFCHR | S_ISUID | 0600, makedev(1, 3));
    syscall(SYS_unlinkat, AT_FDCWD, "chr", 0);
    syscall(SYS_mknodat, AT_FDCWD, "reg", 0644, 0);
    syscall(SYS_unlinkat, AT_FDCWD, "reg", AT_REMOVEDIR);
    syscall(SYS_futex, buf, 99, 1, 0, 0, 0);
    syscall(SYS_futex, buf, FUTEX_WAKE_BITSET, 1, 0, 0, 0x5);
    syscall(SYS_futex, buf, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 1, 0, 0, 0);
    syscall(SYS_futex, buf, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, buf + 8, 3);
    syscall(SYS_futex, buf, FUTEX_WAKE_OP_PRIVATE, 1, 2, buf + 8,
            FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_GT, 0));
    syscall(SYS_wait4, -1, 0, WNOHANG | __WALL | 0x100, 0);
    syscall(SYS_arch_prctl, 0x3001, 0);
    syscall(SYS_arch_prctl, 0x1011, 0);
    syscall(SYS_getrandom, buf, 0, 0x8);
    syscall(SYS_getrandom, buf, 0, 0);
    syscall(SYS_write, 1, buf, 0);
    syscall(SYS_prlimit64, 0, 99, 0, 0);
    syscall(SYS_statx, AT_FDCWD, "/", AT_STATX_FORCE_SYNC | AT_SYMLINK_NOFOLLOW | 0x10000000,
            STATX_ALL | 0x80000000, 0);
    syscall(SYS_statx, AT_FDCWD, "/", 0, STATX_TYPE | STATX_BTIME, 0);
    syscall(SYS_newfstatat, AT_FDCWD, "/", 0, 0);
    syscall(SYS_memfd_create, "x", MFD_HUGETLB | (21 << 26));
    syscall(SYS_memfd_create, "y", 0);
    syscall(SYS_epoll_ctl, 0, 9, 0, 0);
    syscall(SYS_dup3, 0, 0, O_CREAT);
    syscall(SYS_pipe2, fds, 1);
    syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, 0);
    syscall(SYS_clock_nanosleep, 99, 2, &ts, 0);
    syscall(SYS_sendto, 1, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
    syscall(SYS_madvise, 0, 0, 77);
    syscall(SYS_mprotect, 0, 0, PROT_READ | PROT_GROWSDOWN);
    syscall(SYS_mremap, 0x10000, 4096, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000);
    syscall(SYS_msync, 0, 0, MS_SYNC | 0x40);
    syscall(SYS_flock, 100, LOCK_EX | LOCK_NB);
    syscall(SYS_shutdown, 100, 7);
    syscall(SYS_fchmodat, AT_FDCWD, "nope", 04755);
    syscall(SYS_mkdir, "nope/x", 0);
    syscall(SYS_renameat2, AT_FDCWD, "nope", 100, "nope2", RENAME_NOREPLACE | 8);
    syscall(SYS_fchownat, AT_FDCWD, "nope", 1000, -1, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_eventfd2, 7, 0x2);
    syscall(SYS_epoll_create1, 0);
    syscall(SYS_rseq, 0, 0, 1, 0);
    syscall(SYS_fadvise64, 0, 1, 2, 9);
    syscall(SYS_faccessat2, AT_FDCWD, "/", X_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW);
    syscall(SYS_faccessat, 100, "rel", F_OK);
    syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/cwd", buf, 3);
    syscall(SYS_getcwd, buf, 2);
    syscall(SYS_mmap, 0, 0, 0, 0, 5, 0);
    memcpy(buf, "\x01" "2\x03" "4567890123456789012345678901\x01" "2", 33);
    syscall(SYS_write, 1, buf, 32);
    syscall(SYS_write, 1, buf, 33);
    syscall(SYS_write, 1, buf + 29, 4);
    int value = 0;
    syscall(SYS_prctl, 15 /* PR_SET_NAME */, "odd-values-with-a-long-name", 0, 0, 0);
    syscall(SYS_prctl, 16 /* PR_GET_NAME */, buf, 0, 0, 0);
    syscall(SYS_prctl, 1 /* PR_SET_PDEATHSIG */, SIGKILL, 0, 0, 0);
    syscall(SYS_prctl, 2 /* PR_GET_PDEATHSIG */, &value, 0, 0, 0);
    syscall(SYS_prctl, 1 /* PR_SET_PDEATHSIG */, 0, 0, 0, 0);
    syscall(SYS_prctl, 3 /* PR_GET_DUMPABLE */, 0, 0, 0, 0);
    syscall(SYS_prctl, 23 /* PR_CAPBSET_READ */, 32, 0, 0, 0);
    syscall(SYS_prctl, 23 /* PR_CAPBSET_READ */, 99, 0, 0, 0);
    syscall(SYS_prctl, 39 /* PR_GET_NO_NEW_PRIVS */, 0, 0, 0, 0);
    syscall(SYS_prctl, 40 /* PR_GET_TID_ADDRESS */, buf, 0, 0, 0);
    syscall(SYS_prctl, 22 /* PR_SET_SECCOMP */, 2, 0, 0, 0);
    syscall(SYS_prctl, 0x59616d61 /* PR_SET_PTRACER */, -1, 0, 0, 0);
    syscall(SYS_prctl, 52 /* PR_GET_SPECULATION_CTRL */, 0, 0, 0, 0);
    syscall(SYS_prctl, 999, 1, 2, 3, 4);
    syscall(SYS_timerfd_create, CLOCK_MONOTONIC, O_CLOEXEC | O_NONBLOCK);
    syscall(SYS_timerfd_create, 99, 0x10);
    int watched = syscall(SYS_inotify_init1, O_CLOEXEC);
    syscall(SYS_inotify_add_watch, watched, ".", 0x300 /* IN_CREATE|IN_DELETE */);
    syscall(SYS_inotify_add_watch, watched, ".", 0x5000fff);
    unsigned long long usr1 = 1ull << (SIGUSR1 - 1);
    syscall(SYS_signalfd4, -1, &usr1, 8, O_CLOEXEC);
    syscall(SYS_setpriority, 7, 0, -3);
    syscall(SYS_getpriority, 1 /* PRIO_PGRP */, 0);
    syscall(SYS_getrusage, -1 /* RUSAGE_CHILDREN */, 0);
    syscall(SYS_getrusage, 5, 0);
    int sock = socket(AF_INET, SOCK_STREAM, 0), one = 1, got = 0;
    struct linger linger = {1, 5};
    socklen_t got_length = 16;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(sock, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
    setsockopt(sock, 6 /* SOL_TCP */, 1 /* TCP_NODELAY */, &one, sizeof one);
    setsockopt(sock, SOL_SOCKET, 9999, &one, sizeof one);
    setsockopt(sock, 77, 1, &one, sizeof one);
    int netlink = socket(AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */);
    setsockopt(netlink, 270 /* SOL_NETLINK */, 11 /* NETLINK_EXT_ACK */, &one, sizeof one);
    setsockopt(netlink, 270, 99, &one, sizeof one);
    getsockopt(sock, SOL_SOCKET, SO_TYPE, buf, &got_length);
    got_length = 2;
    getsockopt(sock, SOL_SOCKET, SO_RCVBUF, &got, &got_length);
    getsockopt(sock, SOL_SOCKET, SO_ERROR, &got, 0);
    int locked = open("lockfile", O_CREAT | O_RDWR, 0644);
    struct flock lock = {F_WRLCK, SEEK_SET, 0, 0, 0};
    fcntl(locked, F_SETLKW, &lock);
    lock.l_type = F_UNLCK;
    lock.l_start = 10;
    lock.l_len = 100;
    fcntl(locked, F_SETLK, &lock);
    fcntl(locked, F_SETFD, FD_CLOEXEC);
    struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    syscall(SYS_utimensat, AT_FDCWD, "lockfile", times, 0);
    struct timespec fixed[2] = {{100, 5}, {200, 0}};
    syscall(SYS_utimensat, AT_FDCWD, "lockfile", fixed, AT_SYMLINK_NOFOLLOW);
    syscall(SYS_utimensat, locked, 0, 0, 0);
    unsigned ids[3];
    syscall(SYS_getresuid, &ids[0], &ids[1], &ids[2]);
    syscall(SYS_getresgid, &ids[0], &ids[1], &ids[2]);
    unsigned groups[3] = {0, 4, 27};
    syscall(SYS_getgroups, 0, 0);
    syscall(SYS_setgroups, 3, groups);
    syscall(SYS_getgroups, 8, buf);
    int ready[2];
    pipe(ready);
    write(ready[1], "x", 1);
    unsigned long long readable = (1ull << ready[0]) | 1, writable = 1ull << ready[1];
    struct timespec brief = {0, 1000};
    syscall(SYS_pselect6, ready[1] + 1, &readable, &writable, 0, 0, 0);
    readable = 1ull << ready[1];
    syscall(SYS_pselect6, ready[1] + 1, &readable, 0, 0, &brief, 0);
    syscall(SYS_select, 0, 0, 0, 0, &brief);
    struct pollfd polled[2] = {{ready[0], POLLIN, 0}, {ready[1], POLLOUT, 0}};
    syscall(SYS_ppoll, polled, 2, 0, &usr1, 8);
    syscall(SYS_ppoll, polled, 1, &brief, 0, 8);
    read(ready[0], buf, 1);
    syscall(SYS_ppoll, polled, 1, &brief, 0, 8);
    struct iovec pieces[3] = {{"hello ", 6}, {"world", 5}, {"\n", 1}};
    syscall(SYS_writev, ready[1], pieces, 3);
    char long_piece[100];
    memset(long_piece, 'x', sizeof long_piece);
    struct iovec longer[2] = {{long_piece, sizeof long_piece}, {"tail", 4}};
    syscall(SYS_writev, ready[1], longer, 2);
    char first[4], second[200];
    struct iovec into[2] = {{first, sizeof first}, {second, sizeof second}};
    syscall(SYS_readv, ready[0], into, 2);
    syscall(SYS_writev, ready[1], 0, 0);
    syscall(SYS_writev, ready[1], 1, 1);
    syscall(SYS_pwritev, ready[1], pieces, 1, 0, 0);
    struct iovec nothing[2] = {{0, 0}, {"", 0}};
    syscall(SYS_writev, ready[1], nothing, 2);
    static char names[390], filesystem[120];
    syscall(SYS_uname, names);
    syscall(SYS_uname, 0);
    syscall(SYS_fstatfs, ready[0], filesystem);
    int pair[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, pair);
    struct iovec hello = {"hello", 5};
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &hello;
    message.msg_iovlen = 1;
    sendmsg(pair[0], &message, 0);
    char control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int));
    int passed = 0;
    memcpy(CMSG_DATA(rights), &passed, sizeof passed);
    sendmsg(pair[0], &message, MSG_NOSIGNAL);
    char received[64], received_control[64];
    struct iovec into_one = {received, sizeof received};
    struct msghdr reply;
    memset(&reply, 0, sizeof reply);
    reply.msg_iov = &into_one;
    reply.msg_iovlen = 1;
    recvmsg(pair[1], &reply, 0);
    reply.msg_control = received_control;
    reply.msg_controllen = sizeof received_control;
    recvmsg(pair[1], &reply, MSG_DONTWAIT);
    recvmsg(pair[1], &reply, MSG_DONTWAIT);
    sendmsg(pair[0], 0, 0);
    int poller = syscall(SYS_epoll_create1, O_CLOEXEC);
    write(ready[1], "x", 1);
    struct epoll_event interest = {EPOLLIN | EPOLLET, {.u64 = 0x1234567890}}, seen[8];
    syscall(SYS_epoll_ctl, poller, EPOLL_CTL_ADD, ready[0], &interest);
    interest.events = EPOLLOUT;
    interest.data.fd = ready[1];
    syscall(SYS_epoll_ctl, poller, EPOLL_CTL_ADD, ready[1], &interest);
    syscall(SYS_epoll_ctl, poller, EPOLL_CTL_DEL, ready[1], 0);
    syscall(SYS_epoll_wait, poller, seen, 8, 0);
    syscall(SYS_epoll_pwait, poller, seen, 8, 0, &usr1, 8);
    int clock_fd = syscall(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
    struct itimerspec setting = {{0, 5000000}, {100, 0}}, previous;
    syscall(SYS_timerfd_settime, clock_fd, 0, &setting, &previous);
    syscall(SYS_timerfd_settime, clock_fd, 1 /* TFD_TIMER_ABSTIME */, &setting, 0);
    syscall(SYS_timerfd_settime, clock_fd, 8, &setting, 0);
    static char altstack[16384];
    stack_t ss = {altstack, 0, sizeof altstack}, old_ss;
    syscall(SYS_sigaltstack, &ss, &old_ss);
    syscall(SYS_sigaltstack, 0, &old_ss);
    ss.ss_flags = SS_DISABLE;
    syscall(SYS_sigaltstack, &ss, 0);
    unsigned long long sigs = 1ull << (SIGUSR1 - 1), pending = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &sigs, 0, 8);
    syscall(SYS_rt_sigpending, &pending, 8);
    struct timespec zero = {0, 0};
    syscall(SYS_rt_sigtimedwait, &sigs, buf, &zero, 8);
    syscall(SYS_kill, getpid(), SIGUSR1);
    syscall(SYS_rt_sigpending, &pending, 8);
    syscall(SYS_rt_sigtimedwait, &sigs, buf, &zero, 8);
    struct sigevent when;
    memset(&when, 0, sizeof when);
    when.sigev_notify = SIGEV_SIGNAL;
    when.sigev_signo = SIGALRM;
    int timer_id = -1;
    syscall(SYS_timer_create, CLOCK_REALTIME, &when, &timer_id);
    when.sigev_notify = SIGEV_NONE;
    when.sigev_value.sival_int = 5;
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &when, &timer_id);
    syscall(SYS_timer_create, CLOCK_MONOTONIC, 0, 0);
    syscall(SYS_timer_delete, timer_id);
    struct itimerval off = {{0, 0}, {0, 0}}, was;
    syscall(SYS_setitimer, ITIMER_REAL, &off, &was);
    syscall(SYS_getitimer, ITIMER_PROF, &was);
    syscall(SYS_setitimer, ITIMER_VIRTUAL, &off, 0);
    syscall(SYS_getitimer, 7, &was);
    syscall(SYS_fallocate, -1, 1 /* FALLOC_FL_KEEP_SIZE */, 0, 4096);
    syscall(SYS_fallocate, -1, 3 | 0x80, 0, 100);
    syscall(SYS_sync_file_range, -1, 0, 0, 7);
    syscall(SYS_tee, -1, -1, 10, 2);
    syscall(SYS_splice, -1, 0, -1, 0, 10, 1 | 4);
    syscall(SYS_membarrier, 0, 0);
    syscall(SYS_membarrier, 77, 0);
    syscall(SYS_sched_getscheduler, 0);
    syscall(SYS_personality, 0xffffffff);
    syscall(SYS_ioprio_get, 1, 0);
    syscall(SYS_ioprio_get, 9, 0);
    syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
    syscall(SYS_shmget, 0 /* IPC_PRIVATE */, 0, 01000 | 0600);
    syscall(SYS_shmget, 0x1234, 4096, 0);
    syscall(SYS_shmctl, -1, 0x100 | 0 /* IPC_64|IPC_RMID */, 0);
    syscall(SYS_semget, 0, -1, 01000 | 02000 | 0640);
    syscall(SYS_semctl, -1, 0, 12 /* GETVAL */, 0);
    syscall(SYS_msgget, 0x1234, 0);
    syscall(SYS_msgctl, -1, 2 /* IPC_STAT */, 0);
    void *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    syscall(SYS_mlock2, page, 4096, 1);
    syscall(SYS_munlock, page, 4096);
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = 0xffull << 40;
    ca.exit_signal = SIGCHLD;
    syscall(SYS_clone3, &ca, sizeof ca);
    int ptid = 0;
    ca.flags = CLONE_PARENT_SETTID;
    ca.parent_tid = (uintptr_t)&ptid;
    if (syscall(SYS_clone3, &ca, sizeof ca) == 0)
        syscall(SYS_exit_group, 0);
    syscall(SYS_wait4, -1, 0, 0, 0);
    syscall(SYS_exit_group, 3);
    return 0;
}
"""


def test_odd_values_match_strace(tmp_path: Path):
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    source = tmp_path / "odd.c"
    source.write_text(ODD_VALUES_PROGRAM)
    binary = tmp_path / "odd"
    subprocess.run([gcc, "-O0", "-o", str(binary), str(source)], check=True, timeout=60)
    matched = trace_both([str(binary)], tmp_path / "work", {})
    expected = {
        "openat",
        "mmap",
        "clone",
        "clone3",
        "sigaltstack",
        "rt_sigpending",
        "rt_sigtimedwait",
        "kill",
        "tgkill",
        "rt_sigprocmask",
        "rt_sigaction",
        "lseek",
        "fcntl",
        "socket",
        "access",
        "ioctl",
        "umask",
        "mknodat",
        "unlinkat",
        "futex",
        "wait4",
        "arch_prctl",
        "prctl",
        "timerfd_create",
        "inotify_init1",
        "inotify_add_watch",
        "signalfd4",
        "getpriority",
        "setpriority",
        "getrusage",
        "setsockopt",
        "getsockopt",
        "utimensat",
        "getresuid",
        "getresgid",
        "getgroups",
        "setgroups",
        "pselect6",
        "select",
        "ppoll",
        "writev",
        "readv",
        "uname",
        "fstatfs",
        "sendmsg",
        "recvmsg",
        "epoll_wait",
        "epoll_pwait",
        "timerfd_settime",
        "getrandom",
        "write",
        "prlimit64",
        "statx",
        "newfstatat",
        "memfd_create",
        "epoll_ctl",
        "dup3",
        "pipe2",
        "clock_nanosleep",
        "sendto",
        "madvise",
        "mremap",
        "msync",
        "flock",
        "shutdown",
        "fchmodat",
        "mkdir",
        "renameat2",
        "fchownat",
        "eventfd2",
        "epoll_create1",
        "rseq",
        "fadvise64",
        "faccessat2",
        "faccessat",
        "readlinkat",
        "getcwd",
        "setitimer",
        "getitimer",
        "timer_create",
        "fallocate",
        "sync_file_range",
        "tee",
        "splice",
        "membarrier",
        "personality",
        "ioprio_get",
        "ioprio_set",
        "shmget",
        "shmctl",
        "semget",
        "semctl",
        "msgget",
        "msgctl",
        "mlock2",
    }
    assert expected <= matched.keys(), sorted(expected - matched.keys())
    _report(matched)
