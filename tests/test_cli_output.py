"""What ``splitpriv trace`` prints: strace's lines, prefixes, interleaving, timestamps, the -c
table (plain and rich, on a captured console), -y paths, and JSON lines against the schema.

Most tests feed hand-made records to the writers, so the expected text is exact; the last ones
run the command on real programs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

import splitpriv
from splitpriv.cli.trace_fds import FdPaths
from splitpriv.cli.trace_json import SCHEMA, SCHEMA_VERSION, JsonTrace
from splitpriv.cli.trace_records import (
    ENTRY,
    ENTRY_SHOWN,
    EV_SYSCALL,
    Call,
    Exec,
    Exit,
    Signal,
    Stop,
    call_from_record,
    other_from_record,
)
from splitpriv.cli.trace_render import Clock, LineFormat, Paint, TextTrace, duration
from splitpriv.cli.trace_summary import Summary
from splitpriv.events import ExitStatus
from splitpriv.syscalls import layout
from splitpriv.syscalls.siginfo import format_siginfo

CLI = [sys.executable, "-m", "splitpriv"]
US = 1000  # ns


def make_call(
    tid: int,
    name: str,
    args: tuple[int, ...] = (),
    ret: int | None = 0,
    entry_us: int = 0,
    exit_us: int | None = None,
    *,
    pid: int | None = None,
    memory: dict[int, bytes] | None = None,
    flags: int = 0,
) -> Call:
    from splitpriv.syscalls import table

    call = Call.__new__(Call)
    call.pid = tid if pid is None else pid
    call.tid = tid
    call.name = name
    call.nr = table("x86_64").number(name)
    call.arch = "x86_64"
    call.args = tuple(args) + (0,) * (6 - len(args))
    call.retval = ret
    call.entry_ns = entry_us * US
    call.exit_ns = None if ret is None else (exit_us if exit_us is not None else entry_us + 1) * US
    call.flags = flags
    call.memory = memory or {}
    call.truncated = frozenset()
    call.faults = frozenset()
    return call


def line(body: str, result: str, column: int = 40) -> str:
    """strace's layout: ``body) `` padded to the column, then ``= result``."""
    return (body + " ").ljust(column) + "= " + result


def text_trace(**kwargs) -> tuple[TextTrace, StringIO, StringIO]:
    out, err = StringIO(), StringIO()
    trace = TextTrace(out, LineFormat(32), stderr=err, **kwargs)
    return trace, out, err


# --- one task -----------------------------------------------------------------------------------


def test_single_task_lines_are_strace_lines():
    trace, out, _ = text_trace()
    trace.call(make_call(7, "getppid", ret=1))
    trace.call(make_call(7, "close", (3,), ret=-9, entry_us=5))
    trace.call(
        make_call(7, "openat", (2**32 - 100, 1, 0o2000000), ret=3, entry_us=9, memory={1: b"/x"})
    )
    trace.call(make_call(7, "exit_group", (0,), ret=None, entry_us=20))
    trace.other(Exit(7, 7, ExitStatus(code=0), 30 * US))
    trace.finish()
    assert out.getvalue().splitlines() == [
        line("getppid()", "1"),
        line("close(3)", "-1 EBADF (Bad file descriptor)"),
        line('openat(AT_FDCWD, "/x", O_RDONLY|O_CLOEXEC)', "3"),
        line("exit_group(0)", "?"),
        "+++ exited with 0 +++",
    ]


def test_restart_syscall_names_the_call_it_resumes():
    trace, out, _ = text_trace()
    trace.call(make_call(7, "restart_syscall", ret=0))  # nothing interrupted seen: strace's text
    trace.call(make_call(7, "nanosleep", (0, 0), ret=-516, entry_us=5))
    trace.call(make_call(8, "restart_syscall", ret=0, entry_us=6))  # another task's: its own
    trace.call(make_call(7, "getppid", ret=1, entry_us=7))
    trace.call(make_call(7, "restart_syscall", ret=0, entry_us=9))
    trace.finish()
    assert out.getvalue().splitlines() == [
        line("restart_syscall(<... resuming interrupted system call ...>)", "0"),
        line("nanosleep(NULL, NULL)", "? ERESTART_RESTARTBLOCK (Interrupted by signal)"),
        line("[pid     8] restart_syscall(<... resuming interrupted system call ...>)", "0"),
        line("[pid     7] getppid()", "1"),
        line("[pid     7] restart_syscall(<... resuming interrupted nanosleep ...>)", "0"),
    ]


def test_a_call_its_task_died_in_is_unfinished_like_straces():
    from splitpriv import _binding

    died = _binding.EVF_NORETURN
    trace, out, _ = text_trace()
    trace.call(make_call(7, "read", (0, 0x7FFD0000, 10), ret=None, flags=died))
    trace.call(make_call(7, "exit_group", (9,), ret=None, entry_us=5, flags=died))
    trace.finish()
    assert out.getvalue().splitlines() == [
        line("read(0,  <unfinished ...>)", "?"),  # strace's two spaces: ", " then " <unf..."
        line("exit_group(9)", "?"),  # printed whole at entry: nothing left unfinished
    ]


def test_a_call_detached_from_ends_like_straces():
    # -p and Ctrl-C: the engine lets go of the task inside the call; strace's line stops there.
    from splitpriv import _binding

    detached = _binding.EVF_NORETURN | _binding.EVF_DETACHED
    trace, out, _ = text_trace()
    trace.call(make_call(7, "read", (0, 0x7FFD0000, 10), ret=None, flags=detached))
    trace.call(make_call(7, "nanosleep", (0, 0), ret=-516, entry_us=5))
    trace.call(make_call(7, "restart_syscall", ret=None, entry_us=9, flags=detached))
    trace.finish()
    assert out.getvalue().splitlines() == [
        "read(0,  <detached ...>",
        line("nanosleep(NULL, NULL)", "? ERESTART_RESTARTBLOCK (Interrupted by signal)"),
        "restart_syscall(<... resuming interrupted nanosleep ...> <detached ...>",
    ]


def test_a_clone_whose_result_sud_never_sees_is_printed_whole():
    # The stub mechanisms record clone and make it from a clone cell once their handler has
    # returned: the call returned, only its result is unknown. The whole line, then `= ?`.
    from splitpriv import _binding

    trace, out, _ = text_trace()
    flags = 0x01200011  # CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD
    args = (flags, 0, 0, 0x7F0000000A10, 0)
    trace.call(make_call(7, "clone", args, ret=None, flags=_binding.EVF_NORETURN))
    trace.finish()
    assert out.getvalue().splitlines() == [
        line(
            "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            "child_tidptr=0x7f0000000a10)",
            "?",
        )
    ]


def test_result_column_option_and_long_lines():
    trace, out, _ = text_trace(column=20)
    trace.call(make_call(7, "getppid", ret=1))
    trace.call(make_call(7, "write", (1, 0x1000, 0), ret=0, entry_us=3, memory={1: b""}))
    trace.finish()
    assert out.getvalue().splitlines() == ["getppid()           = 1", 'write(1, "", 0)     = 0']
    long = "x" * 50
    trace, out, _ = text_trace()
    trace.call(make_call(7, "chdir", (1,), ret=0, memory={0: long.encode()}))
    assert out.getvalue() == f'chdir("{long}") = 0\n'


def test_signals_stops_and_exits():
    trace, out, _ = text_trace()
    trace.other(Signal(7, 7, 10, 0, 99, 0, 0, 1 * US))
    trace.other(Signal(7, 7, 17, 2, 12, 0, 9, 2 * US))
    trace.other(Stop(7, 7, 19, 3 * US))
    trace.other(Exit(7, 7, ExitStatus(signal=11, core_dumped=True), 4 * US))
    trace.finish()
    assert out.getvalue().splitlines() == [
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=99, si_uid=0} ---",
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=12, si_uid=0, "
        "si_status=SIGKILL} ---",
        "--- stopped by SIGSTOP ---",
        "+++ killed by SIGSEGV (core dumped) +++",
    ]


def test_siginfo_fields_follow_straces_rules():
    assert format_siginfo(11, 1, 0, 0, 0) == "{si_signo=SIGSEGV, si_code=SEGV_MAPERR}"
    assert format_siginfo(15, 0x80, 0, 0, 0) == "{si_signo=SIGTERM, si_code=SI_KERNEL}"
    assert format_siginfo(34, -6, 5, 1000, 0) == (
        "{si_signo=SIGRT_2, si_code=SI_TKILL, si_pid=5, si_uid=1000}"
    )
    assert format_siginfo(14, -2, 0, 0, 0) == "{si_signo=SIGALRM, si_code=SI_TIMER}"


def test_quiet_exit_hides_exit_lines():
    trace, out, _ = text_trace(quiet_exit=True)
    trace.call(make_call(7, "getppid", ret=1))
    trace.other(Exit(7, 7, ExitStatus(code=3), 9 * US))
    trace.finish()
    assert out.getvalue().splitlines() == [line("getppid()", "1")]


def test_injected_results_and_syscall_times():
    trace = TextTrace(StringIO(), LineFormat(32, times_digits=6))
    denied = make_call(7, "unlink", (1,), ret=-13, entry_us=1, exit_us=13, memory={0: b"f"})
    denied.flags = 1  # EVF_DENIED
    trace.call(denied)
    trace.call(make_call(7, "exit_group", (0,), ret=None, entry_us=20))
    assert trace.out.getvalue().splitlines() == [  # type: ignore[attr-defined]
        line('unlink("f")', "-1 EACCES (Permission denied) (INJECTED) <0.000012>"),
        line("exit_group(0)", "?"),
    ]
    assert duration(1_234_567_891, 6) == "<1.234567>" and duration(1_500_000, 3) == "<0.001>"


# --- several tasks: strace's interleaving -------------------------------------------------------


def fork_and_wait(trace: TextTrace) -> None:
    """Records in engine order for: parent forks, waits; the child runs meanwhile."""
    parent, child = 100, 101
    trace.call(make_call(parent, "getppid", ret=1, entry_us=1, exit_us=5))
    trace.call(make_call(parent, "fork", ret=child, entry_us=10, exit_us=30))
    trace.call(make_call(child, "getpid", ret=child, entry_us=25, exit_us=35))
    trace.call(make_call(child, "exit_group", (7,), ret=None, entry_us=50))
    trace.other(Exit(child, child, ExitStatus(code=7), 60 * US))
    trace.call(make_call(parent, "wait4", (child, 0, 0, 0), ret=child, entry_us=32, exit_us=70))
    trace.other(Signal(parent, parent, 17, 1, child, 0, 7, 75 * US))
    trace.call(make_call(parent, "exit_group", (0,), ret=None, entry_us=90))
    trace.other(Exit(parent, parent, ExitStatus(code=0), 95 * US))
    trace.end_batch()
    trace.finish()


def test_interleaved_calls_are_unfinished_and_resumed_like_strace():
    trace, out, err = text_trace()
    fork_and_wait(trace)
    assert out.getvalue().splitlines() == [
        line("getppid()", "1"),
        "fork( <unfinished ...>",
        "[pid   101] getpid( <unfinished ...>",
        line("[pid   100] <... fork resumed>)", "101"),
        "[pid   100] wait4(101,  <unfinished ...>",
        line("[pid   101] <... getpid resumed>)", "101"),
        line("[pid   101] exit_group(7)", "?"),
        "[pid   101] +++ exited with 7 +++",
        line("<... wait4 resumed>NULL, 0, NULL)", "101"),
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=7} ---",
        line("exit_group(0)", "?"),
        "+++ exited with 0 +++",
    ]
    assert err.getvalue() == "splitpriv: Process 101 attached\n"


def test_status_filters_print_whole_calls_in_the_order_they_return():
    # -z, -Z and -e status= must know a call's result before printing it: strace 6.1 then
    # prints each call whole when it returns, never split into unfinished and resumed.
    trace, out, _ = text_trace(whole_calls=True)
    fork_and_wait(trace)
    assert out.getvalue().splitlines() == [
        line("getppid()", "1"),
        line("fork()", "101"),  # (the child counts from here, as in strace)
        line("[pid   101] getpid()", "101"),
        line("[pid   101] exit_group(7)", "?"),
        "[pid   101] +++ exited with 7 +++",
        line("wait4(101, NULL, 0, NULL)", "101"),  # (strace: "[pid 100] ", see trace.md)
        "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=7} ---",
        line("exit_group(0)", "?"),
        "+++ exited with 0 +++",
    ]


def test_entry_records_let_lines_out_at_each_batch_in_straces_order():
    """With entry records (ptrace, sysemu, seccomp-trace), what came before a batch's newest
    point is final: it is printed when the batch ends, not held back, and the lines are
    those of test_interleaved_calls_are_unfinished_and_resumed_like_strace."""
    parent, child = 100, 101

    def entry(tid: int, name: str, args: tuple[int, ...], entry_us: int) -> Call:
        return make_call(tid, name, args, ret=None, entry_us=entry_us, flags=ENTRY)

    trace, out, _ = text_trace(entries=True)
    # The engine's order: a record comes after the entry of every call of another task that
    # began before it.
    trace.call(make_call(parent, "getppid", ret=1, entry_us=1, exit_us=5))
    trace.call(entry(child, "getpid", (), 25))
    trace.call(make_call(parent, "fork", ret=child, entry_us=10, exit_us=30))
    trace.end_batch()
    assert out.getvalue() == line("getppid()", "1") + "\nfork( <unfinished ...>\n" + (
        "[pid   101] getpid("
    )
    trace.call(entry(parent, "wait4", (child, 0, 0, 0), 32))
    shown = make_call(child, "getpid", ret=child, entry_us=25, exit_us=35, flags=ENTRY_SHOWN)
    trace.call(shown)
    trace.end_batch()
    assert out.getvalue().endswith("[pid   100] wait4(101, ")
    trace.call(make_call(child, "exit_group", (7,), ret=None, entry_us=50))
    trace.other(Exit(child, child, ExitStatus(code=7), 60 * US))
    wait4 = make_call(parent, "wait4", (child, 0, 0, 0), ret=child, entry_us=32, exit_us=70)
    wait4.flags = ENTRY_SHOWN
    trace.call(wait4)
    trace.other(Signal(parent, parent, 17, 1, child, 0, 7, 75 * US))
    trace.call(make_call(parent, "exit_group", (0,), ret=None, entry_us=90))
    trace.other(Exit(parent, parent, ExitStatus(code=0), 95 * US))
    trace.end_batch()
    trace.finish()
    reference, reference_out, _ = text_trace()
    fork_and_wait(reference)
    assert out.getvalue() == reference_out.getvalue()


def test_an_entry_record_whose_task_exec_d_from_a_thread_finds_its_whole_record():
    """execve from a thread: its entry shows under its own tid, its whole record comes under
    the pid it takes over, where one task is left (no prefix, as strace)."""
    trace, out, _ = text_trace(entries=True, quiet_attach=True)
    trace.begin(100)
    trace.call(make_call(100, "clone", ret=102, entry_us=1, exit_us=2))
    trace.call(make_call(102, "execve", (1, 2, 3), ret=None, entry_us=3, flags=ENTRY))
    trace.call(make_call(100, "futex", (1, 2, 3), ret=None, entry_us=4, exit_us=None))
    trace.other(Exec(100, 100, 102, 6 * US))
    trace.call(make_call(100, "execve", (1, 2, 3), ret=0, entry_us=3, exit_us=7, flags=ENTRY_SHOWN))
    trace.end_batch()
    trace.finish()
    lines = out.getvalue().splitlines()
    assert lines[1:] == [
        "[pid   102] execve(0x1, 0x2, 0x3 <unfinished ...>",
        line("[pid   100] futex(0x1, FUTEX_FD, 3)", "?"),
        "+++ superseded by execve in pid 102 +++",
        line("<... execve resumed>)", "0"),
    ]


def test_exec_from_a_thread_with_nothing_between_changes_the_pid():
    """strace's `<pid changed to N ...>` ends the line of an execve from a thread when nothing
    was printed since it began; -e quiet=superseded leaves out the superseded line."""
    for quiet in (False, True):
        trace, out, _ = text_trace(entries=True, quiet_attach=True, quiet_superseded=quiet)
        trace.begin(100)
        trace.call(make_call(100, "clone", ret=102, entry_us=1, exit_us=2))
        trace.call(make_call(102, "execve", (1, 2, 3), ret=None, entry_us=3, flags=ENTRY))
        trace.other(Exec(100, 100, 102, 6 * US))
        trace.call(
            make_call(100, "execve", (1, 2, 3), ret=0, entry_us=3, exit_us=7, flags=ENTRY_SHOWN)
        )
        trace.call(make_call(100, "getpid", ret=100, entry_us=8))
        trace.finish()
        superseded = [] if quiet else ["+++ superseded by execve in pid 102 +++"]
        assert out.getvalue().splitlines()[1:] == [
            "[pid   102] execve(0x1, 0x2, 0x3 <pid changed to 100 ...>",
            *superseded,
            line("<... execve resumed>)", "0"),
            line("getpid()", "100"),
        ]


def test_exec_from_a_thread_without_entry_records():
    """The mechanisms that hand over whole calls: the execve's record comes after the exec,
    under the pid (ptrace family) or under the thread (stub mechanisms); either way its first
    half is the thread's and it returns as the pid's, in time order."""
    for record_tid in (100, 102):
        trace, out, _ = text_trace(quiet_attach=True)
        trace.begin(100)
        trace.call(make_call(100, "clone", ret=102, entry_us=1, exit_us=2))
        trace.call(make_call(100, "pause", ret=None, entry_us=3))
        trace.other(Exec(100, 100, 102, 6 * US))
        trace.call(make_call(record_tid, "execve", (1,), ret=0, entry_us=4, exit_us=7, pid=100))
        trace.call(make_call(100, "exit_group", ret=None, entry_us=8))
        trace.finish()
        assert out.getvalue().splitlines()[1:] == [
            "[pid   100] pause( <unfinished ...>",
            "[pid   102] execve(0x1, NULL, NULL <unfinished ...>",
            line("[pid   100] <... pause resumed>)", "?"),
            "+++ superseded by execve in pid 102 +++",
            line("<... execve resumed>)", "0"),
            line("exit_group(0)", "?"),
        ]


def test_pid_column_with_output_file_and_follow():
    trace, out, _ = text_trace(prefix="column", quiet_attach=True)
    fork_and_wait(trace)
    lines = out.getvalue().splitlines()
    assert lines[0] == line("100   getppid()", "1")
    assert lines[2] == "101   getpid( <unfinished ...>"
    assert lines[-1] == "100   +++ exited with 0 +++"
    assert all(text[:6].strip().isdigit() for text in lines)


def test_a_call_older_than_what_was_printed_is_printed_whole_where_it_returned():
    trace, out, _ = text_trace(holdback_ns=0)
    trace.call(make_call(100, "fork", ret=101, entry_us=10, exit_us=20))
    trace.call(make_call(101, "getpid", ret=101, entry_us=21, exit_us=22))
    trace.end_batch()  # nothing held back: all printed
    trace.call(make_call(100, "wait4", (101, 0, 0, 0), ret=101, entry_us=15, exit_us=40))
    trace.end_batch()
    trace.finish()
    assert out.getvalue().splitlines()[-1] == line("[pid   100] wait4(101, NULL, 0, NULL)", "101")


def test_messages_share_stderr_without_breaking_lines():
    out = StringIO()
    trace = TextTrace(out, LineFormat(32), stderr=out)
    fork_and_wait(trace)
    lines = out.getvalue().splitlines()
    assert "splitpriv: Process 101 attached" in lines
    assert lines[1] == "fork( <unfinished ...>"


def test_layout_splits_calls_where_strace_does():
    assert layout.split("read", ["3", '"x"', "1"]) == ("read(3, ", '"x", 1)')
    assert layout.split("wait4", ["5", "NULL", "0", "NULL"]) == ("wait4(5, ", "NULL, 0, NULL)")
    # What the kernel wrote back into clone3's struct is printed at exit, as strace does.
    assert layout.split("clone3", ["{flags=0, exit_signal=SIGCHLD} => {parent_tid=[5]}", "88"]) == (
        "clone3({flags=0, exit_signal=SIGCHLD}",
        " => {parent_tid=[5]}, 88)",
    )
    assert layout.split("clone3", ["{flags=0}", "88"]) == ("clone3({flags=0}", ", 88)")
    assert layout.split("clone", ["child_stack=NULL", "flags=SIGCHLD", "child_tidptr=0x1"]) == (
        "clone(child_stack=NULL, flags=SIGCHLD",
        ", child_tidptr=0x1)",
    )
    assert layout.split("getppid", []) == ("getppid(", ")")
    assert layout.split("getcwd", ['"/"', "4096"]) == ("getcwd(", '"/", 4096)')
    assert layout.split("write", ["1", '"x"', "1"]) == ('write(1, "x", 1', ")")


# --- timestamps and colours ---------------------------------------------------------------------


def test_clock_formats():
    t = 1_700_000_000_123_456_789
    local = time.strftime("%H:%M:%S", time.localtime(1_700_000_000))
    assert Clock("time", 0, None).stamp(t) == f"{local} "
    assert Clock("time", 6, None).stamp(t) == f"{local}.123456 "
    assert Clock("unix", 6, None).stamp(t) == "1700000000.123456 "
    assert Clock("unix", 9, None).stamp(t) == "1700000000.123456789 "
    relative = Clock(None, 0, 6)
    assert relative.stamp(t) == "     0.000000 "
    assert relative.stamp(t + 1_250_000_000) == "     1.250000 "
    both = Clock("time", 0, 6)
    both.stamp(t)
    assert both.stamp(t + 160_000) == f"{local} (+     0.000160) "
    assert Clock(None, 0, None).stamp(t) == ""


def test_timestamps_and_durations_in_lines():
    out = StringIO()
    trace = TextTrace(out, LineFormat(32, times_digits=6), clock=Clock("unix", 6, None))
    trace.call(make_call(7, "getppid", ret=1, entry_us=1_000_000, exit_us=1_000_012))
    assert out.getvalue() == line("1.000000 getppid()", "1 <0.000012>") + "\n"


def test_colours_are_ansi_and_keep_the_column():
    out = StringIO()
    trace = TextTrace(out, LineFormat(32), paint=Paint("standard"))
    trace.call(make_call(7, "close", (3,), ret=-9))
    text = out.getvalue()
    assert "\x1b[1m" in text and "\x1b[31m" in text  # bold name, red error
    plain = text.replace("\x1b[1m", "").replace("\x1b[31m", "").replace("\x1b[0m", "")
    assert plain == line("close(3)", "-1 EBADF (Bad file descriptor)") + "\n"


# --- -y -----------------------------------------------------------------------------------------


def test_decode_fds_follows_the_descriptor_table(tmp_path: Path):
    paths = FdPaths(str(tmp_path))
    trace = TextTrace(StringIO(), LineFormat(32, paths))
    pid = 4_000_000  # no such process: everything comes from the model
    at_fdcwd = 2**32 - 100
    trace.call(
        make_call(pid, "openat", (at_fdcwd, 1, 0o2000000), ret=3, memory={1: b"a.txt"}, entry_us=1)
    )
    trace.call(make_call(pid, "dup2", (3, 10), ret=10, entry_us=2))
    trace.call(make_call(pid, "close", (3,), ret=0, entry_us=3))
    trace.call(make_call(pid, "read", (10, 0x1000, 4), ret=0, entry_us=4))
    trace.call(make_call(pid, "close", (3,), ret=-9, entry_us=5))
    trace.call(make_call(pid, "chdir", (1,), ret=0, memory={0: b"/"}, entry_us=6))
    trace.call(
        make_call(pid, "openat", (at_fdcwd, 1, 0), ret=4, memory={1: b"proc/self/x"}, entry_us=7)
    )
    real = os.path.realpath(tmp_path / "a.txt")
    assert trace.out.getvalue().splitlines() == [  # type: ignore[attr-defined]
        line(f'openat(AT_FDCWD<{tmp_path}>, "a.txt", O_RDONLY|O_CLOEXEC)', f"3<{real}>"),
        line(f"dup2(3<{real}>, 10)", f"10<{real}>"),
        line(f"close(3<{real}>)", "0"),
        line(f'read(10<{real}>, "", 4)', "0"),
        line("close(3)", "-1 EBADF (Bad file descriptor)"),
        line('chdir("/")', "0"),
        line('openat(AT_FDCWD</>, "proc/self/x", O_RDONLY)', f"4</proc/{pid}/x>"),
    ]


def test_decode_fds_knows_what_a_command_inherits_and_what_dup2_replaced():
    paths = FdPaths("/w", inherited={1: "/dev/null", 2: "/tmp/log"})
    trace = TextTrace(StringIO(), LineFormat(32, paths))
    pid = 4_000_001  # no such process: /proc can tell nothing
    at_fdcwd = 2**32 - 100
    trace.call(make_call(pid, "openat", (at_fdcwd, 1, 0), ret=3, memory={1: b"/etc/a"}))
    trace.call(make_call(pid, "dup2", (3, 1), ret=1, entry_us=2))  # 1 was /dev/null before
    trace.call(make_call(pid, "dup2", (3, 9), ret=9, entry_us=3))  # 9 was nothing
    trace.call(make_call(pid, "write", (2, 0x1000, 0), ret=0, entry_us=4, memory={1: b""}))
    pipe_fds = (4).to_bytes(4, "little") + (5).to_bytes(4, "little")
    trace.call(make_call(pid, "pipe2", (0x2000, 0), ret=0, entry_us=5, memory={0: pipe_fds}))
    assert trace.out.getvalue().splitlines() == [  # type: ignore[attr-defined]
        line('openat(AT_FDCWD</w>, "/etc/a", O_RDONLY)', "3</etc/a>"),
        line("dup2(3</etc/a>, 1</dev/null>)", "1</etc/a>"),
        line("dup2(3</etc/a>, 9)", "9</etc/a>"),
        line('write(2</tmp/log>, "", 0)', "0"),
        line("pipe2([4, 5], 0)", "0"),  # gone before /proc was read: numbers only
    ]


def test_decode_fds_names_no_copy_of_a_descriptor_it_cannot_name():
    # A shell's pipe, closed before its lines are formatted: its ends are unnamed, and so is
    # what dup2 makes of them, in the child too. The target loses its old name (1 is no longer
    # /tmp/out), and /proc, read later, could only show what the numbers hold by then.
    paths = FdPaths("/w", inherited={0: "/dev/null", 1: "/tmp/out"})
    trace = TextTrace(StringIO(), LineFormat(32, paths))
    shell, child = 4_000_001, 4_000_002  # no such processes: /proc can tell nothing
    pipe_fds = (3).to_bytes(4, "little") + (4).to_bytes(4, "little")
    trace.call(make_call(shell, "pipe2", (0x2000, 0), ret=0, memory={0: pipe_fds}))
    trace.call(make_call(shell, "vfork", ret=child, entry_us=2))
    trace.call(make_call(child, "dup2", (4, 1), ret=1, entry_us=3))
    trace.call(make_call(child, "write", (1, 0x1000, 0), ret=0, entry_us=4, memory={1: b""}))
    trace.finish()
    assert trace.out.getvalue().splitlines()[2:] == [  # type: ignore[attr-defined]
        line(f"[pid {child}] dup2(4, 1</tmp/out>)", "1"),
        line(f'[pid {child}] write(1, "", 0)', "0"),
    ]


def test_decode_fds_of_a_short_lived_command(tmp_path: Path):
    """`echo` ends long before its lines are formatted: its stdout, which it inherited, is
    known all the same (strace reads it while echo is stopped in the call)."""
    out = tmp_path / "out.txt"
    with open(out, "w") as stdout:
        done = subprocess.run(
            [*CLI, "trace", "-y", "-e", "trace=write", "echo", "hello"],
            stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    writes = [text for text in done.stderr.splitlines() if text.startswith("write(")]
    assert writes and all(text.startswith(f"write(1<{out}>, ") for text in writes), done.stderr


def test_decode_fds_shows_each_call_as_it_was_not_as_proc_says_later(tmp_path: Path):
    """A shell that moves, then makes descriptor 4 after a call refused it: each line shows the
    working directory and descriptors at that call, as strace does (it reads /proc in the
    stop), not what /proc says once the line is formatted. The shell waits in `sleep` with 4
    open, so a /proc read at formatting time would find it: `fcntl(4</etc/hostname>, ...)`
    and `dup2(3</etc/hostname>, 4</etc/hostname>)`, and `AT_FDCWD</etc>` for the loader's
    opens, made before the `cd`."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    script = "cd /etc; exec 3</etc/hostname; exec 4>&3; sleep 0.3"
    options = ["-f", "-y", "-e", "trace=openat,dup2,fcntl", "-o"]
    work = tmp_path / "work"
    work.mkdir()
    texts = []
    for label, tracer in (("strace", [strace]), ("splitpriv", [*CLI, "trace"])):
        log = tmp_path / f"{label}.log"
        with open(tmp_path / "out", "w") as sink, open(os.devnull) as devnull:
            done = subprocess.run(
                [*tracer, *options, str(log), "sh", "-c", script],
                cwd=work, stdin=devnull, stdout=sink, stderr=sink, timeout=60,
            )  # fmt: skip
        assert done.returncode == 0, (tmp_path / "out").read_text()
        lines = log.read_text().splitlines()
        root = lines[0].split()[0]  # the shell's lines only: `sleep` loads its own libraries
        texts.append(
            [
                re.sub(r" +=", " =", text.split(None, 1)[1])  # (the pid column's padding)
                for text in lines
                if text.split()[0] == root and text.split()[1].startswith(("open", "dup", "fc"))
            ]
        )
    theirs, ours = texts
    assert ours == theirs
    assert ours[0].startswith(f'openat(AT_FDCWD<{work}>, "/etc/ld.so.cache", ')
    assert "fcntl(4, F_DUPFD, 10) = -1 EBADF (Bad file descriptor)" in ours
    assert "dup2(3</etc/hostname>, 4) = 4</etc/hostname>" in ours


def test_decode_fds_follows_the_calls_that_status_filters_hide(tmp_path: Path):
    """With -Z the shell's successful dup2 of /etc onto its stdin is not printed, but -y's model
    must still see it: the failed read is from 0</etc> (as strace prints), not the /dev/null
    the command inherited."""
    with open(os.devnull) as devnull:
        done = subprocess.run(
            [*CLI, "trace", "-y", "-Z", "-e", "trace=read,dup2",
             "sh", "-c", "exec 3</etc; read x <&3"],
            stdin=devnull, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    reads = [text for text in done.stderr.splitlines() if text.startswith("read(")]
    assert reads and reads[0].startswith("read(0</etc>, "), done.stderr
    assert not any(text.startswith("dup2(") for text in done.stderr.splitlines())


# --- -c -------------------------------------------------------------------------------------------


def sample_summary() -> Summary:
    summary = Summary()
    for _ in range(3):
        summary.add("x86_64", 10, "mprotect", 49_000, False)
    summary.add("x86_64", 56, "clone", 117_000, False)
    for _ in range(8):
        summary.add("x86_64", 9, "mmap", 0, False)
    summary.add("x86_64", 21, "access", 0, True)
    return summary


STRACE_TABLE = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 55.68    0.000147          49         3           mprotect
 44.32    0.000117         117         1           clone
  0.00    0.000000           0         8           mmap
  0.00    0.000000           0         1         1 access
------ ----------- ----------- --------- --------- ----------------
100.00    0.000264          20        13         1 total
"""


def test_summary_plain_is_straces_layout():
    assert sample_summary().plain() == STRACE_TABLE


def test_summary_sorting():
    def names(sort_by: str) -> list[str]:
        return [row.name for row in sample_summary().rows("x86_64", sort_by)]

    assert names("calls") == ["mmap", "mprotect", "access", "clone"]  # ties: number order
    assert names("name") == ["access", "clone", "mmap", "mprotect"]
    assert names("errors")[0] == "access"
    assert names("nothing") == ["mmap", "mprotect", "access", "clone"]
    assert names("avg-time")[0] == "clone"


def test_summary_widths_grow_and_i386_gets_its_own_table():
    summary = Summary()
    summary.add("x86_64", 146, "sched_get_priority_max", 12_000_000_000, False)
    summary.add("i386", 20, "getpid", 1000, False)
    text = summary.plain()
    lines = text.splitlines()
    assert lines[0] == "% time     seconds  usecs/call     calls    errors syscall"
    assert lines[1].endswith(" " + "-" * 23)
    assert lines[2] == "100.00   12.000000    12000000         1           sched_get_priority_max"
    assert "System call usage summary for 32 bit mode:" in lines
    assert lines[-1] == "100.00    0.000001           1         1           total"


def test_summary_rich_on_a_terminal():
    term = Console(file=StringIO(), force_terminal=True, width=100, color_system=None)
    for table in sample_summary().tables():
        term.print(table)
    text = term.file.getvalue()  # type: ignore[attr-defined]
    for piece in ("% time", "usecs/call", "mprotect", "55.68", "0.000264", "total", "13"):
        assert piece in text


def test_summary_as_json():
    (obj,) = sample_summary().records()
    assert obj["type"] == "summary" and obj["total"] == {
        "calls": 13,
        "errors": 1,
        "total_ns": 264000,
    }
    assert obj["syscalls"][0]["name"] == "mprotect"


# --- JSON -----------------------------------------------------------------------------------------


def check_schema(obj: dict) -> None:
    """Validate one line: with jsonschema when installed, and by hand in any case."""
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(obj, SCHEMA)
    assert obj["v"] == SCHEMA_VERSION
    (variant,) = [v for v in SCHEMA["oneOf"] if v["properties"]["type"]["const"] == obj["type"]]
    assert set(obj) == set(variant["required"])


def test_json_records_match_the_schema():
    from splitpriv import _binding

    out = StringIO()
    trace = JsonTrace(out, LineFormat(32))
    trace.call(make_call(7, "openat", (2**32 - 100, 1, 0), ret=-2, memory={1: b"/nope"}))
    trace.call(make_call(7, "exit_group", (1,), ret=None))
    detached = _binding.EVF_NORETURN | _binding.EVF_DETACHED  # a call in progress at -p's end
    trace.call(make_call(7, "read", (0, 0x7FFD0000, 10), ret=None, flags=detached))
    trace.other(Signal(7, 7, 17, 1, 8, 0, 0, 5))
    trace.other(Stop(7, 7, 19, 6))
    trace.other(Exit(7, 7, ExitStatus(code=1), 7))
    trace.summary(sample_summary().records())
    objects = [json.loads(text) for text in out.getvalue().splitlines()]
    for obj in objects:
        check_schema(obj)
    first = objects[0]
    assert first["args"] == ["AT_FDCWD", '"/nope"', "O_RDONLY"]
    assert first["errno"] == "ENOENT" and first["retval"] == -2 and first["status"] == "failed"
    assert first["result"] == "-1 ENOENT (No such file or directory)"
    assert objects[1]["status"] == "unfinished" and objects[1]["exit_ns"] is None
    assert objects[2]["status"] == "detached"
    assert [o["type"] for o in objects] == [
        "syscall",
        "syscall",
        "syscall",
        "signal",
        "stop",
        "exit",
        "summary",
    ]


# --- the command on real programs -----------------------------------------------------------------


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "trace", *args], capture_output=True, text=True, timeout=timeout)


def test_json_from_a_real_trace(progs, tmp_path: Path):
    out = tmp_path / "t.jsonl"
    done = run_cli("--json", "-f", "-o", str(out), progs["fork_wait"])
    assert done.returncode == 0, done.stderr
    objects = [json.loads(text) for text in out.read_text().splitlines()]
    for obj in objects:
        check_schema(obj)
    exits = [o for o in objects if o["type"] == "exit"]
    assert sorted(o["exit_code"] for o in exits) == [0, 7]
    assert any(o["type"] == "signal" and o["signal"] == "SIGCHLD" for o in objects)
    assert any(o["type"] == "syscall" and o["name"] == "wait4" for o in objects)


def test_summary_from_a_real_trace(progs, tmp_path: Path):
    out = tmp_path / "c.txt"
    done = run_cli(
        "-c", "-o", str(out), "-e", "trace=getppid,exit_group", progs["getppid_loop"], "7"
    )
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "% time     seconds  usecs/call     calls    errors syscall"
    assert lines[2].endswith("         7           getppid")
    assert lines[-1].endswith("         7           total")  # exit_group never returns


def test_no_table_when_no_call_was_counted(progs):
    # strace -c -e trace=none prints nothing, not a table with a 0 total.
    done = run_cli("-c", "-e", "trace=none", progs["exit_code"], "0")
    assert (done.returncode, done.stderr) == (0, "")


def test_timestamps_durations_and_limits_on_a_real_trace(progs, tmp_path: Path):
    out = tmp_path / "t.txt"
    done = run_cli(
        "-ttt",
        "-T",
        "--syscall-limit=3",
        "-e",
        "trace=getppid",
        "-o",
        str(out),
        progs["getppid_loop"],
        "10",
    )
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 3
    for text in lines:
        stamp, body = text.split(" ", 1)
        assert abs(float(stamp) - time.time()) < 60
        assert body.startswith("getppid()") and body.endswith(">") and " <0.0" in body


def test_separate_files_per_process(progs, tmp_path: Path):
    base = tmp_path / "ff"
    done = run_cli(
        "-ff", "-o", str(base), "-e", "trace=getpid,wait4,exit_group", progs["fork_wait"]
    )
    assert done.returncode == 0, done.stderr
    files = sorted(tmp_path.glob("ff.*"))
    assert len(files) == 2
    texts = {f.read_text().splitlines()[-1] for f in files}
    assert texts == {"+++ exited with 0 +++", "+++ exited with 7 +++"}
    child = next(f for f in files if f.read_text().endswith("+++ exited with 7 +++\n"))
    assert child.read_text().splitlines()[0] == line("getpid()", child.name.split(".")[1])
    # strace's default with -o FILE and a command is -q: no "Process N attached" on stderr...
    assert "attached" not in done.stderr
    # ...unless -e quiet= says which messages to leave out.
    loud = run_cli(
        "-ff",
        "-o",
        str(tmp_path / "loud"),
        "-e",
        "quiet=none",
        "-e",
        "trace=getpid",
        progs["fork_wait"],
    )
    assert loud.returncode == 0, loud.stderr
    # One message, for the child: none for the launched process (strace prints the same).
    files = list(tmp_path.glob("loud.*"))
    child = next(f for f in files if f.read_text().endswith("+++ exited with 7 +++\n"))
    announced = [text for text in loud.stderr.splitlines() if "attached" in text]
    assert len(files) == 2
    assert announced == [f"splitpriv: Process {child.name.split('.')[1]} attached"]


def test_inject_on_a_real_trace(progs):
    done = run_cli(
        "-e", "trace=getppid", "-e", "inject=getppid:retval=42:when=2+2", progs["getppid_loop"], "4"
    )
    assert done.returncode == 0, done.stderr
    results = [text.rsplit("= ", 1)[1] for text in done.stderr.splitlines() if "getppid" in text]
    assert results[1] == results[3] == "42 (INJECTED)"
    assert "INJECTED" not in results[0] + results[2]


def test_status_filter_and_exit_status(progs, tmp_path: Path):
    # The trace goes to a file: on stderr its lines would interleave with cat's message, which
    # cat writes in four pieces (as under strace, whose lines land between them too).
    out = tmp_path / "trace"
    done = run_cli("-Z", "-qq", "-o", str(out), "cat", "/nonexistent/file")
    assert done.returncode == 1
    assert "No such file or directory" in done.stderr
    lines = out.read_text().splitlines()
    assert any(line.startswith("openat(") for line in lines), lines
    for text in lines:
        assert " = -1 E" in text, text
    killed = run_cli("-e", "trace=none", progs["signal_self"], "die")
    assert killed.returncode == 128 + 15
    assert killed.stderr.splitlines()[-1] == "+++ killed by SIGTERM +++"


@pytest.mark.parametrize("color", ["always", "never"])
def test_color_option(progs, color):
    done = run_cli(f"--color={color}", "-e", "trace=getppid", progs["getppid_loop"], "1")
    assert done.returncode == 0
    assert ("\x1b[" in done.stderr) == (color == "always")


def _feed(writer: TextTrace, batches: list, *, repeats: bool) -> None:
    """Records to a writer as the trace command feeds them, with or without print_repeats."""
    for batch in batches:
        at = 0
        while at < len(batch):
            if repeats:
                at = writer.print_repeats(batch, at)
                if at == len(batch):
                    break
            h, segments = batch[at]
            at += 1
            if h[0] == EV_SYSCALL:
                writer.call(call_from_record(h, segments))
            else:
                writer.other(other_from_record(h))
        writer.end_batch()
    writer.finish()


@pytest.mark.parametrize("prefix", ["bracket", "column", "none"])
def test_repeats_print_as_the_general_path_prints_them(progs, prefix: str):
    """A repeat of a call already printed alone goes from its record straight to the stream
    (TextTrace.print_repeats). The records of one real trace, fed both ways, must print the
    same text: the same lines, the ``[pid N]`` prefix appearing with the child and going with
    it, the signal and the exits between the same lines."""
    n = 300
    with splitpriv.trace(
        [progs["repeat_fork"], str(n)], mechanism="ptrace", follow_forks=True
    ) as t:
        batches = list(t.record_batches())
    assert t.exit_status is not None and t.exit_status.returncode == 0
    texts = []
    for repeats in (True, False):
        out = StringIO()
        writer = TextTrace(out, LineFormat(32), prefix=prefix, quiet_attach=True)
        writer.begin(t.pid or 0)
        _feed(writer, batches, repeats=repeats)
        texts.append(out.getvalue())
    assert texts[0] == texts[1]
    lines = texts[0].splitlines()
    assert sum("getuid(" in line for line in lines) == 5 * n  # (whole, or entered)
    assert any("--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER" in line for line in lines)
    assert any(line.endswith("+++ exited with 3 +++") for line in lines)
    if prefix == "bracket":  # shown while the child is, and only then
        prefixed = [line for line in lines if line.startswith("[pid ")]
        assert n <= len(prefixed) < len(lines) - 2 * n
