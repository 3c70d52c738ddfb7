"""``splitpriv trace -f`` against the real strace, on the same programs in the same setting.

Each program runs twice, under ``strace -f -q -s 32 -o FILE`` and under ``splitpriv trace -f -q
-s 32 -o FILE`` (the command, as a user runs it: its own option parsing, its interleaving of
``<unfinished ...>``/``<... resumed>`` lines, its pid column), with the same directory contents,
environment and standard streams, address randomisation off for both. Both outputs are parsed
with the same parser (tests/test_decode_strace.py: resumed halves joined to their calls) and
compared per task (tasks paired through the clone/fork results):

* the sequence of syscall names and every return value are the same (pids and addresses
  normalised; glibc's allocator calls and futex waits, which depend on timing and placement,
  may come and go);
* for the calls splitpriv decodes, the argument texts are the same, with the normalisation of
  test_decode_strace.py (structures behind pointers that the engine does not copy are compared
  as the pointer);
* the ``--- SIG... ---`` and ``+++ exited with N +++`` lines are the same, except strace's
  ``si_utime``/``si_stime``, which the engine does not record.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import require
from test_decode_strace import (
    ADDRESS,
    ALLOCATOR_CALLS,
    NOT_COMPARED,
    PLACEHOLDER,
    Call,
    align,
    by_thread,
    no_aslr,
    normalise,
    pair_threads,
    parse_strace,
)

from splitpriv.syscalls import decode

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed")

OPTIONS = ["-f", "-q", "-s", "32"]
# Calls whose presence depends on timing (a futex wait happens or not, an asynchronous
# signal is handled here or there) or on where things are
# mapped (glibc's allocator); a difference made of these alone is not a difference.
TIMING_CALLS = ALLOCATOR_CALLS | {"futex", "sched_yield", "rt_sigreturn"}
# Results that are the tracer's own pid, not the tracee's.
PARENT_RESULTS = frozenset({"getppid"})
UTIME = re.compile(r", si_utime=\d+, si_stime=\d+")


def run_both(
    argv: list[str], workdir: Path, setup: dict[str, bytes] | None = None
) -> tuple[str, str]:
    """strace's and splitpriv's -f -o output for ``argv``, run in identical settings."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", LC_ALL="C.UTF-8")
    env.pop("PYTEST_CURRENT_TEST", None)

    def fresh() -> Path:
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir()
        for name, content in (setup or {}).items():
            (workdir / name).write_bytes(content)
        return workdir

    logs = []
    assert STRACE is not None
    tracers = [
        [STRACE, *OPTIONS, "-o"],
        [sys.executable, "-m", "splitpriv", "trace", *OPTIONS, "-o"],
    ]
    with no_aslr():
        for tracer, label in zip(tracers, ("strace", "splitpriv"), strict=True):
            log = workdir.parent / f"{label}.log"
            sink_path = workdir.parent / f"{label}.out"
            with open(sink_path, "wb") as sink, open(os.devnull, "rb") as devnull:
                done = subprocess.run(
                    [*tracer, str(log), *argv],
                    cwd=fresh(),
                    env=env,
                    stdin=devnull,
                    stdout=sink,
                    stderr=sink,
                    timeout=60,
                    check=False,
                )
            assert log.exists(), (label, done.returncode, sink_path.read_text(errors="replace"))
            logs.append(log.read_text(errors="surrogateescape"))
    return logs[0], logs[1]


def event_lines(text: str) -> dict[int, list[str]]:
    """The ``--- SIG ---`` and ``+++ ... +++`` lines of each pid."""
    lines: dict[int, list[str]] = {}
    for raw in text.splitlines():
        pid, _, body = raw.partition(" ")
        body = body.strip()
        if body.startswith(("---", "+++")):
            lines.setdefault(int(pid), []).append(UTIME.sub("", body))
    return lines


def compare_outputs(
    theirs_text: str, ours_text: str, timing_calls: frozenset[str] | set[str] = TIMING_CALLS
) -> list[str]:
    theirs, ours = parse_strace(theirs_text), parse_strace(ours_text)
    assert theirs and ours, "nothing traced"
    t_threads, o_threads = by_thread(theirs), by_thread(ours)
    pairs = pair_threads(t_threads, theirs[0].tid, o_threads, ours[0].tid)
    assert len(pairs) == len(t_threads) == len(o_threads), (pairs, list(o_threads))
    t_pids = {t: n for n, (t, _) in enumerate(pairs)}
    o_pids = {o: n for n, (_, o) in enumerate(pairs)}
    problems: list[str] = []

    def result(call: Call, pids: dict[int, int], *, strace_side: bool) -> str:
        if call.name in PARENT_RESULTS:
            return "PPID"
        return normalise(call, pids, strace_side=strace_side)[2]

    for t_tid, o_tid in pairs:
        task = t_pids[t_tid]
        for t_run, o_run, same in align(t_threads[t_tid], o_threads[o_tid]):
            if not same:
                names = {c.name for c in t_run} | {c.name for c in o_run}
                if not names <= timing_calls:
                    problems.append(
                        f"task {task}: strace has {[c.name for c in t_run]} where we have "
                        f"{[c.name for c in o_run]}"
                    )
                continue
            for t_call, o_call in zip(t_run, o_run, strict=True):
                t_res = result(t_call, t_pids, strace_side=True)
                o_res = result(o_call, o_pids, strace_side=False)
                if t_call.name in TIMING_CALLS and t_call.name == "futex":
                    continue  # a wake's count and a wait's outcome depend on timing
                if t_call.name in NOT_COMPARED:
                    continue
                if t_res != o_res:
                    problems.append(
                        f"task {task}: {t_call.name} = {t_res} (strace), {o_res} (ours)"
                    )
                    continue
                if t_call.name not in decode.DECODERS:
                    continue
                expected = normalise(t_call, t_pids, strace_side=True)
                got = normalise(o_call, o_pids, strace_side=False)
                if expected[:2] != got[:2]:
                    problems.append(f"strace: {expected[0]}({', '.join(expected[1])})")
                    problems.append(f"ours:   {got[0]}({', '.join(got[1])})")
    t_events, o_events = event_lines(theirs_text), event_lines(ours_text)
    for t_tid, o_tid in pairs:

        def norm(lines: list[str], pids: dict[int, int]) -> list[str]:
            def swap(match: re.Match[str]) -> str:
                pid = int(match.group(2))
                return f"{match.group(1)}PID{pids[pid]}" if pid in pids else match.group(0)

            pid = r"(si_pid=|superseded by execve in pid )(\d+)"
            return [ADDRESS.sub(PLACEHOLDER, re.sub(pid, swap, x)) for x in lines]

        expected_events = norm(t_events.get(t_tid, []), t_pids)
        got_events = norm(o_events.get(o_tid, []), o_pids)
        if expected_events != got_events:
            problems.append(f"task {t_pids[t_tid]}: {expected_events} != {got_events}")
    return problems


def check(
    argv: list[str],
    workdir: Path,
    setup: dict[str, bytes] | None = None,
    also_timing: frozenset[str] = frozenset(),
    attempts: int = 1,
) -> str:
    """Trace argv under strace and under splitpriv and compare. A program whose own schedule
    varies from run to run (a shell pipeline) gets more attempts: a decoding or sequencing
    fault of ours shows in every one of them, a different schedule does not."""
    for _ in range(attempts):
        theirs, ours = run_both(argv, workdir, setup)  # each run starts from a fresh workdir
        problems = compare_outputs(theirs, ours, TIMING_CALLS | also_timing)
        if not problems:
            break
    assert not problems, "splitpriv trace -f differs from strace -f:\n" + "\n".join(problems)
    return ours


@pytest.mark.parametrize(
    ("program", "args"),
    [
        ("fork_wait", []),
        ("vfork_exec", ["/bin/true"]),
        ("exec_chain", ["2"]),
        ("signal_self", ["die"]),
        ("open_read_close", ["/etc/hostname"]),
        ("two_threads", []),
        ("thread_exec", []),
    ],
)
def test_test_programs(progs, tmp_path: Path, program: str, args: list[str]):
    ours = check([progs[program], *args], tmp_path / "work")
    if program in ("fork_wait", "two_threads"):
        assert re.search(r"^\d+ +<\.\.\. \w+ resumed>", ours, re.M) or "<unfinished" not in ours


def test_shell_pipeline(tmp_path: Path):
    sh = shutil.which("sh")
    assert sh is not None
    # The shell's newfstatat comes before or after its children start, as scheduling has it,
    # under strace as under splitpriv: its place is timing, not a difference.
    check(
        [sh, "-c", "echo hello | tr a-z A-Z; exit 3"],
        tmp_path / "work",
        also_timing=frozenset({"newfstatat"}),
        attempts=3,
    )


def test_ls_and_cat(tmp_path: Path):
    ls, cat = shutil.which("ls"), shutil.which("cat")
    assert ls is not None and cat is not None
    setup = {"a.txt": b"some text\n" * 20, "b.bin": b"\0\1\2"}
    check([ls, "-la", ".", "missing"], tmp_path / "ls", setup)
    check([cat, "a.txt", "missing"], tmp_path / "cat", setup)


def test_python(tmp_path: Path):
    program = "import os, sys\nfd = os.open('f', os.O_CREAT | os.O_WRONLY, 0o600)\n"
    program += "os.write(fd, b'x' * 40)\nos.close(fd)\npid = os.fork()\n"
    program += "if pid == 0:\n    os._exit(5)\nos.waitpid(pid, 0)\nsys.exit(4)\n"
    check([sys.executable, "-c", program], tmp_path / "work")


TERMINAL_PROGRAM = r"""
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    struct termios saved, changed;
    struct winsize size;
    int n = 0, one = 1;
    ioctl(0, TCGETS, &saved);
    changed = saved;
    changed.c_iflag = changed.c_oflag = changed.c_lflag = 0;
    ioctl(0, TCSETS, &changed);
    ioctl(0, TCGETS, &changed);
    changed.c_cflag |= CRTSCTS;
    ioctl(0, TCSETSF, &changed);
    ioctl(0, TCSETSW, &saved);
    ioctl(0, TIOCGWINSZ, &size);
    ioctl(0, TIOCSWINSZ, &size);
    ioctl(0, FIONREAD, &n);
    ioctl(0, FIONBIO, &one);
    one = 0;
    ioctl(0, FIONBIO, &one);
    ioctl(0, TCGETS, 0);
    return 0;
}
"""


def test_terminal_ioctls_match_strace(tmp_path: Path):
    """What a program on a terminal asks of it (termios, window size, ints), decoded on a
    pseudo-terminal by both tools: the lines are the same (strace 6.1's spelling of empty
    flag words, `c_lflag=`, and of numbers with two names, `SNDCTL_TMR_STOP or TCSETSW`)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("no C compiler")
    source, program = tmp_path / "tty.c", tmp_path / "tty"
    source.write_text(TERMINAL_PROGRAM)
    subprocess.run([gcc, "-O0", "-o", str(program), str(source)], check=True, timeout=60)
    texts = []
    for label, tracer in (
        ("strace", [STRACE or "strace"]),
        ("splitpriv", [sys.executable, "-m", "splitpriv", "trace"]),
    ):
        log = tmp_path / f"{label}.log"
        controller, terminal = os.openpty()
        try:
            subprocess.run(
                [*tracer, "-e", "trace=ioctl", "-o", str(log), str(program)],
                stdin=terminal, stdout=terminal, stderr=subprocess.DEVNULL,
                timeout=60, check=True,
            )  # fmt: skip
        finally:
            os.close(terminal)
            os.close(controller)
        texts.append([text for text in log.read_text().splitlines() if text.startswith("ioctl(")])
    assert len(texts[1]) == 11 and texts[0] == texts[1]


THREAD_EXEC_CALLS = "trace=clone,clone3,execve,pause,exit_group"


def thread_exec_lines(text: str, pids: dict[int, str]) -> list[str]:
    """Lines with the tasks' pids named (``pids``), addresses and the count of environment
    variables (the tools' own environments differ) left out, tool messages dropped."""
    lines = []
    for line in text.splitlines():
        if line.startswith(("strace:", "splitpriv:")):
            continue
        line = ADDRESS.sub(PLACEHOLDER, re.sub(r"0x[0-9a-f]+ /\* \d+ vars \*/", "ENV", line))
        lines.append(re.sub(r"\d+", lambda m: pids.get(int(m.group()), m.group()), line))
    return lines


def thread_exec_pids(text: str) -> dict[int, str]:
    """The leader's pid (L) and its thread's (T), from the clone3 line: `... = T`."""
    clone = next(line for line in text.splitlines() if "clone3(" in line)
    thread = int(clone.rsplit("= ", 1)[1])
    others = {int(n) for n in re.findall(r"\[pid +(\d+)\]", text)} - {thread}
    assert len(others) == 1, text
    return {others.pop(): "L", thread: "T"}


def test_exec_from_a_thread_matches_strace(progs, mechanism, tmp_path: Path):
    """A thread that is not the leader calls execve while main waits in pause(): the kernel
    ends main and the thread goes on under main's pid. strace shows the execve on the
    thread's line, main's call ending `= ?`, `+++ superseded by execve in pid T +++` and the
    rest without `[pid N]` (one task is left); with -ff the thread's file ends in `<pid
    changed to L ...>` and the leader's goes on. splitpriv prints the same lines."""
    require(mechanism, "entry_records")  # the execve's first half, shown before main's end
    require(mechanism, "sees_every_exit")  # main's call, ended by the exec
    argv = [progs["thread_exec"]]
    ours_cmd = [sys.executable, "-m", "splitpriv", "trace", "-m", mechanism]
    theirs_cmd = [STRACE or "strace"]
    options = ["-q", "-f", "-e", THREAD_EXEC_CALLS]
    texts = []
    for tracer in (theirs_cmd, ours_cmd):
        done = subprocess.run(
            [*tracer, *options, *argv], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        texts.append(thread_exec_lines(done.stderr, thread_exec_pids(done.stderr)))
    theirs, ours = texts
    assert "+++ superseded by execve in pid T +++" in theirs  # (strace 6.1's wording)
    assert ours == theirs
    assert ours[-4:] == [
        "+++ superseded by execve in pid T +++",
        "<... execve resumed>)                   = 0",
        "exit_group(0)                           = ?",
        "+++ exited with 0 +++",
    ]

    # -ff: one file per task, named by its tid.
    files = []
    for label, tracer in (("strace", theirs_cmd), ("splitpriv", ours_cmd)):
        base = tmp_path / label / "t"
        base.parent.mkdir()
        done = subprocess.run(
            [*tracer, "-ff", "-o", str(base), "-e", THREAD_EXEC_CALLS, *argv],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        paths = {int(path.suffix[1:]): path.read_text() for path in base.parent.iterdir()}
        leader = next(tid for tid, text in paths.items() if "clone3(" in text)
        pids = {tid: "L" if tid == leader else "T" for tid in paths}
        files.append({pids[tid]: thread_exec_lines(text, pids) for tid, text in paths.items()})
    assert files[1] == files[0]
    assert files[1]["T"][-1].endswith(" <pid changed to L ...>")

    # -e quiet=superseded (strace's thread-execve) leaves that line out.
    quiet = subprocess.run(
        [*ours_cmd, "-e", "quiet=superseded", *options, *argv],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert quiet.returncode == 0 and "<... execve resumed>" in quiet.stderr
    assert "superseded" not in quiet.stderr


def test_a_change_of_abi_is_announced_as_strace_does(progs, tmp_path: Path):
    """A 64-bit program's `int $0x80` call: strace says `[ Process PID=N runs in 32 bit mode. ]`
    before it and `... 64 bit mode. ]` when the program goes back, on stderr; -q and -o FILE
    with a command keep it quiet."""
    argv = [progs["int80_open"], "/nonexistent"]

    def notices(tracer: list[str], *options: str) -> list[str]:
        done = subprocess.run(
            [*tracer, *options, *argv], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        return [
            re.sub(r"PID=\d+", "PID=N", line)
            for line in done.stderr.splitlines()
            if line.startswith("[ Process") or line.startswith("open(")
        ]

    ours = [sys.executable, "-m", "splitpriv", "trace"]
    theirs = [STRACE or "strace"]
    expected = [
        "[ Process PID=N runs in 32 bit mode. ]",
        'open("/nonexistent", O_RDONLY)          = -1 ENOENT (No such file or directory)',
        "[ Process PID=N runs in 64 bit mode. ]",
    ]
    assert notices(theirs) == notices(ours) == expected
    assert notices(ours, "-q") == notices(theirs, "-q") == expected[1:2]
    out = tmp_path / "out"
    assert notices(ours, "-o", str(out)) == notices(theirs, "-o", str(out)) == []
