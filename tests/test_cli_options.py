"""``splitpriv trace`` options: strace's spellings and meanings, and clear errors for mistakes.

Parsing is tested in-process (fast); a few runs through ``main()`` check what the user sees:
one line on stderr, the nearest valid spelling, exit status 2, no traceback.
"""

from __future__ import annotations

import errno
import re
import shutil
import signal
import subprocess
import sys

import pytest

from splitpriv.cli.main import main
from splitpriv.cli.trace_options import (
    TraceOptions,
    UsageError,
    When,
    help_text,
    parse_args,
    parse_syscall_set,
)
from splitpriv.syscalls import classes

MECHANISMS = ("ptrace", "sysemu")
CLI = [sys.executable, "-m", "splitpriv", "trace"]


def parse(*argv: str) -> TraceOptions:
    return parse_args(list(argv), mechanisms=MECHANISMS)


def usage_error(*argv: str) -> str:
    with pytest.raises(UsageError) as caught:
        parse(*argv)
    return str(caught.value)


# --- spellings --------------------------------------------------------------------------------


def test_options_stop_at_the_command_like_getopt_plus():
    o = parse("-f", "ls", "-l", "-f")
    assert o.follow and o.command == ["ls", "-l", "-f"]
    assert parse("--", "-weird-name").command == ["-weird-name"]


def test_short_options_cluster_and_take_glued_values():
    o = parse("-fo", "out.txt", "-s64", "-etrace=openat", "-ttT", "true")
    assert o.follow and o.output == "out.txt" and o.string_limit == 64
    assert o.trace == {"openat"} and o.absolute == "time" and o.absolute_digits == 6
    assert o.syscall_times == 6 and o.command == ["true"]


def test_follow_forks_twice_with_output_writes_one_file_per_process():
    assert parse("-ff", "-o", "x", "true").separate
    assert parse("-f", "--output-separately", "-o", "x", "true").separate
    assert not parse("-f", "-o", "x", "true").separate
    o = parse("-ff", "true")  # strace: -ff without -o is -f
    assert o.follow and not o.separate


@pytest.mark.parametrize(
    ("argv", "absolute", "digits", "relative"),
    [
        (["-t"], "time", 0, None),
        (["-tt"], "time", 6, None),
        (["-ttt"], "unix", 6, None),
        (["-r"], None, 0, 6),
        (["-t", "-r"], "time", 0, 6),
        (["--absolute-timestamps=unix,ns"], "unix", 9, None),
        (["--absolute-timestamps=format:time,precision:ms"], "time", 3, None),
        (["--relative-timestamps=ms"], None, 0, 3),
    ],
)
def test_timestamps(argv, absolute, digits, relative):
    o = parse(*argv, "true")
    assert (o.absolute, o.absolute_digits, o.relative) == (absolute, digits, relative)


def test_long_options_take_values_both_ways_and_abbreviate():
    o = parse("--output", "a.txt", "--string-limit=10", "--follow", "--syscall-lim=5", "true")
    assert o.output == "a.txt" and o.string_limit == 10 and o.follow and o.syscall_limit == 5
    assert parse("--syscall-times=ns", "true").syscall_times == 9
    assert parse("--quiet=attach", "true").quiet_attach
    assert not parse("--quiet=attach", "true").quiet_exit


def test_quiet_levels():
    o = parse("-q", "true")
    assert o.quiet_attach and not o.quiet_exit
    o = parse("-qq", "true")
    assert o.quiet_attach and o.quiet_exit and not o.quiet_superseded
    assert parse("-qqq", "true").quiet_superseded  # strace: -qqq is quiet=all
    assert parse("-e", "quiet=exit", "true").quiet_exit
    for word in ("superseded", "thread-execve", "all"):
        assert parse("-e", f"quiet={word}", "true").quiet_superseded
    assert not parse("-e", "quiet=!superseded", "true").quiet_superseded


def test_summary_options():
    assert parse("-c", "true").summary == "only"
    assert parse("-C", "true").summary == "also"
    assert parse("-c", "-S", "calls", "true").sort_by == "calls"
    assert parse("-C", "--summary-sort-by=count", "true").sort_by == "calls"
    assert parse("-c", "-S", "nothing", "true").sort_by == "nothing"
    assert parse("-c", "-w", "true").summary == "only"


def test_strace_warnings_for_options_without_effect():
    assert "no effect" in parse("-S", "calls", "true").warnings[0]
    assert "no effect" in parse("-c", "-T", "true").warnings[0]
    o = parse("-z", "-Z", "true")  # the last one wins, as in strace
    assert o.statuses == {"failed"} and "Only the last" in o.warnings[0]


def test_our_own_options():
    o = parse("-m", "sysemu", "--json", "--cpu", "spread", "--color=never", "true")
    assert (o.mechanism, o.json, o.cpu, o.color) == ("sysemu", True, "spread", "never")
    assert parse("--mechanism=auto", "true").mechanism == "auto"
    assert parse("--color", "true").color == "always"


def test_attach_and_environment():
    assert parse("-p", "123").pid == 123
    assert parse("--attach=77").pid == 77
    o = parse("-E", "A=1", "-E", "B", "--env=C=x=y", "true")
    assert o.env_set == {"A": "1", "C": "x=y"} and o.env_unset == ["B"]


def test_decode_fds():
    assert parse("-y", "true").decode_fds
    assert parse("-yy", "true").decode_fds
    assert parse("--decode-fds=path", "true").decode_fds
    assert not parse("-e", "decode-fds=none", "true").decode_fds


# --- -e expressions ---------------------------------------------------------------------------


def test_trace_sets():
    assert parse_syscall_set("all") is None
    assert parse_syscall_set("none") == frozenset()
    assert parse_syscall_set("open,close") == {"open", "close"}
    assert parse_syscall_set("?nosuchcall,close") == {"close"}
    assert parse_syscall_set("39") == {"getpid"}
    assert "openat" in parse_syscall_set("/^open")  # type: ignore[operator]
    everything_else = parse_syscall_set("!open,close")
    assert everything_else is not None
    assert "open" not in everything_else and "read" in everything_else
    assert parse_syscall_set("!all") == frozenset()
    # a bare -e value is a trace set, and a later -e trace= replaces an earlier one
    assert parse("-e", "read", "true").trace == {"read"}
    assert parse("-e", "trace=read", "--trace=write", "true").trace == {"write"}


def test_classes_come_from_straces_flags():
    file_ = parse_syscall_set("%file")
    assert file_ is not None
    assert {"open", "openat", "stat", "execve", "chdir", "unlinkat", "statx"} <= file_
    assert not {"read", "close", "fstat"} & file_
    assert parse_syscall_set("file") == file_  # the old spelling
    process = parse_syscall_set("%process")
    assert process is not None
    assert {"clone", "clone3", "fork", "execve", "exit_group", "wait4", "kill"} <= process
    net = parse_syscall_set("%net")
    assert net == parse_syscall_set("%network")
    assert net is not None and {"socket", "connect", "sendto", "accept4"} <= net
    desc = parse_syscall_set("%desc")
    assert desc is not None and {"read", "write", "close", "openat", "fstat", "mmap"} <= desc
    assert {"mmap", "brk", "munmap"} <= (parse_syscall_set("%memory") or set())
    assert {"rt_sigaction", "kill", "rt_sigreturn"} <= (parse_syscall_set("%signal") or set())
    assert {"shmget", "semop", "msgsnd"} <= (parse_syscall_set("%ipc") or set())
    assert {"getuid", "setresuid", "capset", "prctl"} <= (parse_syscall_set("%creds") or set())
    assert {"clock_gettime", "gettimeofday"} <= (parse_syscall_set("%clock") or set())
    assert parse_syscall_set("%stat") == {"stat", "oldstat", "stat64"}
    assert {"newfstatat", "statx", "fstat"} <= (parse_syscall_set("%fstat") or set())
    assert "getpid" in (parse_syscall_set("%pure") or set())
    assert classes.flags_of("nosuch") == 0


def test_status_and_signal_sets():
    assert parse("-e", "status=failed,unfinished", "true").statuses == {"failed", "unfinished"}
    every_but = parse("-e", "status=!successful", "true").statuses
    assert every_but == {"failed", "unfinished", "unavailable", "detached"}
    o = parse("-e", "signal=SIGCHLD,term,9", "true")
    assert o.signals == {signal.SIGCHLD, signal.SIGTERM, signal.SIGKILL}
    o = parse("-e", "signal=!SIGCHLD", "true")
    assert o.signals is not None and signal.SIGCHLD not in o.signals
    assert signal.SIGUSR1 in o.signals
    assert parse("--signal=none", "true").signals == frozenset()
    assert parse("-e", "signal=SIGRTMIN,SIGRT_1", "true").signals == {32, 33}


def test_inject_and_fault():
    (inject,) = parse("-e", "inject=openat,open:error=ENOENT", "true").injects
    assert inject.names == {"openat", "open"} and inject.errno == errno.ENOENT
    assert inject.when is None
    (inject,) = parse("--inject=getppid:retval=42:when=2+", "true").injects
    assert inject.retval == 42 and inject.when == When(2, None, 1)
    (inject,) = parse("-e", "fault=unlinkat", "true").injects
    assert inject.errno == errno.ENOSYS
    assert parse("-e", "inject=read:error=13", "true").injects[0].errno == 13


@pytest.mark.parametrize(
    ("when", "selected"),
    [
        ("3", {3}),
        ("2+", {2, 3, 4, 5, 6, 7, 8, 9}),
        ("2+3", {2, 5, 8}),
        ("2..4", {2, 3, 4}),
        ("1..7+3", {1, 4, 7}),
    ],
)
def test_when_selects_like_strace(when, selected):
    (inject,) = parse("-e", f"inject=read:error=EIO:when={when}", "true").injects
    assert inject.when is not None
    assert {n for n in range(1, 10) if n in inject.when} == selected


# --- mistakes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--jsn", "true"], "unrecognized option '--jsn' (did you mean '--json'?)"),
        (["-json", "true"], "(did you mean '--json'?)"),
        (["--folow-forks", "true"], "(did you mean '--follow-forks'?)"),
        (["--folow", "true"], "(did you mean '--follow-forks'?)"),  # a long name cut short
        (["-K", "true"], "invalid option -- 'K'"),
        (["-k", "true"], "option -k (stack traces) is not supported"),
        (["--seccomp-bpf", "true"], "-m seccomp-trace is ours"),
        (["--s", "true"], "option '--s' is ambiguous"),
        (["-o"], "option requires an argument -- 'o'"),
        (["--output"], "option '--output' requires an argument"),
        (["--json=1", "true"], "doesn't allow an argument"),
        (["-e", "trace=opne", "true"], "invalid system call 'opne' (did you mean 'open'?)"),
        (["-e", "trace=%fiel", "true"], "invalid syscall class '%fiel' (did you mean '%file'?)"),
        (["-e", "trace=/(", "true"], "invalid regular expression"),
        (["-e", "trace=open@64", "true"], "personality suffixes"),
        (["-e", "tarce=open", "true"], "invalid -e qualifier 'tarce' (did you mean 'trace'?)"),
        (["-e", "verbose=all", "true"], "(verbose structures) is not supported"),
        (["-e", "status=faild", "true"], "(did you mean 'failed'?)"),
        (["-e", "signal=SIGCHDL", "true"], "(did you mean 'SIGCHLD'?)"),
        (["-e", "inject=open", "true"], "give error=ERRNO or retval=N"),
        (["-e", "inject=open:error=ENOENT:retval=1", "true"], "cannot be combined"),
        (["-e", "inject=open:error=ENOENTT", "true"], "(did you mean 'ENOENT'?)"),
        (["-e", "inject=open:eror=ENOENT", "true"], "(did you mean 'error='?)"),
        (["-e", "inject=open:error=EIO:when=0", "true"], "invalid when='0'"),
        (["-e", "inject=open:signal=SIGSEGV", "true"], "signal= is not supported"),
        (["-S", "cals", "-c", "true"], "invalid sortby 'cals' (did you mean 'calls'?)"),
        (["-m", "ptrcae", "true"], "invalid mechanism 'ptrcae' (did you mean 'ptrace'?)"),
        (["--cpu", "sam", "true"], "(did you mean 'same'?)"),
        (["--color=alwys", "true"], "(did you mean 'always'?)"),
        (["-s", "x", "true"], "invalid -s string limit 'x'"),
        (["-s", "99999999999999999999", "true"], "(must be at most 1073741823)"),
        (["-e", "trace=", "true"], "invalid system call ''"),
        (["-e", "trace=open,,close", "true"], "invalid system call ''"),
        (["-e", "signal=", "true"], "invalid signal ''"),
        (["--syscall-limit=0", "true"], "must be at least 1"),
        (["-T", "--syscall-times=xs", "true"], "invalid -T precision"),
        (["-c", "-C", "true"], "cannot be combined"),
        (["-c", "-ff", "-o", "p", "true"], "and -ff/--output-separately are mutually exclusive"),
        (["-p", "1", "-p", "2"], "only one -p PID"),
        (["-p", "12", "true"], "either a command or -p PID"),
        ([], "must have PROG [ARGS] or -p PID"),
        (["-E", "A=1", "-p", "5"], "-E applies to a command"),
        (["-o", "|cat", "true"], "piping the trace into a command is not supported"),
    ],
)
def test_mistakes_get_one_clear_line(argv, message):
    text = usage_error(*argv)
    assert message in text
    assert "\n" not in text


def test_main_exits_2_with_one_line_and_no_traceback(capsys):
    assert main(["trace", "--jsn", "true"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean '--json'?" in err
    assert "Traceback" not in err
    assert main(["trace", "-e", "trace=opneat", "true"]) == 2
    assert "did you mean 'openat'?" in capsys.readouterr().err
    assert main(["trace"]) == 2
    assert "must have PROG [ARGS] or -p PID" in capsys.readouterr().err


def test_main_prints_strace_warnings_and_runs(capsys):
    assert main(["trace", "-S", "calls", "-e", "trace=none", "true"]) == 0
    err = capsys.readouterr().err
    assert "splitpriv: -S/--summary-sort-by has no effect" in err
    assert main(["trace", "-A", "-e", "trace=none", "true"]) == 0
    err = capsys.readouterr().err
    assert "splitpriv: -A/--output-append-mode has no effect without -o/--output" in err


# Each line: options strace 6.1 warns about (and runs the trace) or refuses (and runs nothing).
STRACE_CHECKS = [
    ["-r", "-c"],
    ["-t", "-c"],
    ["--absolute-timestamps=unix,ns", "-c"],
    ["-y", "-c"],
    ["-e", "decode-fds=none", "-c"],  # no -y left: nothing to say
    ["-c", "-z", "-Z", "-y", "-A", "-T", "-tt", "-r"],  # strace's order, not the command line's
    ["-C", "-r", "-t", "-y", "-w"],  # with -C they all have an effect
    ["--output-separately"],
    ["-f", "--output-separately"],  # strace 6.1 says nothing of these two
    ["-ff"],
    ["-A", "-S", "calls", "-Z", "-z", "--output-separately"],
    ["-w"],
    ["--summary-wall-clock", "-S", "calls"],
    ["-ff", "-c"],
    ["--output-separately", "-C"],
    ["-ff", "--output-separately", "-o", "/dev/null"],
]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("options", STRACE_CHECKS, ids=" ".join)
def test_warnings_and_refusals_are_straces(options: list[str]):
    """strace's own messages, word for word and in its order, for options that have no effect
    (the trace runs) or cannot be given together (nothing runs: strace exits 1 and we 2, our
    status for every command line that cannot run)."""
    said = []
    for tracer, prefix in ((["strace"], "strace: "), (CLI, "splitpriv( trace)?: ")):
        done = subprocess.run(
            [*tracer, *options, "-e", "trace=execve", "true"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        lines = done.stderr.splitlines()
        messages = [re.sub(f"^{prefix}", "", text) for text in lines if re.match(prefix, text)]
        ran = any("execve" in text for text in lines)  # its line, or its row in the table
        said.append((messages, ran, done.returncode))
    (theirs, they_ran, their_status), (ours, we_ran, our_status) = said
    assert ours == theirs
    assert (we_ran, our_status) == (they_ran, 0 if their_status == 0 else 2)


def test_help_and_version(capsys):
    assert main(["trace", "--help"]) == 0
    out = capsys.readouterr().out
    for spelling in ("-f, --follow-forks", "--syscall-limit=N", "-e EXPR", "--json", "%file"):
        assert spelling in out
    assert main(["trace", "-V"]) == 0
    assert capsys.readouterr().out.startswith("splitpriv trace ")
    assert help_text().count("\n") > 40
