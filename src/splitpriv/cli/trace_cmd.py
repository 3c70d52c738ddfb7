"""``splitpriv trace``: run or attach to a program and print one line per syscall, like strace.

Lines go to stderr (or ``-o FILE``) in strace's format. The exit status is the tracee's, and
128 + N when it was killed by signal N, as strace reports it. Formatting happens in this thread
while the C engine keeps tracing in its own.

Ctrl-C: a terminal sends SIGINT to the whole foreground process group, tracee included, so
when the tracee shares our group the supervisor leaves the decision to it (a program that
handles SIGINT keeps running, traced); otherwise it forwards SIGINT to the tracee. With ``-p``,
Ctrl-C detaches from the process, which runs on.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType
from typing import TextIO

import splitpriv
from splitpriv import ExitEvent, SignalEvent, StopEvent, SyscallEvent
from splitpriv.session import CPU_CHOICES, DEFAULT_CPU


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "trace",
        help="trace a command's syscalls (strace-compatible output)",
        description="Trace the system calls of a command, or of a running process with -p.",
    )
    p.add_argument("-m", "--mechanism", default="ptrace", help="ptrace, sysemu or auto")
    p.add_argument("-f", action="store_true", dest="follow", help="follow forks and threads")
    p.add_argument("-o", dest="output", metavar="FILE", help="write the trace to FILE")
    p.add_argument(
        "-e",
        dest="expr",
        metavar="trace=SET",
        action="append",
        default=[],
        help="trace only these syscalls (comma list)",
    )
    p.add_argument("-p", dest="pid", type=int, metavar="PID", help="attach to a running process")
    p.add_argument(
        "-s",
        dest="strsize",
        type=int,
        default=32,
        metavar="N",
        help="print at most N bytes of each string (default 32)",
    )
    p.add_argument(
        "--cpu",
        choices=CPU_CHOICES,
        default=DEFAULT_CPU,
        help="where the engine and tracees run (default: %(default)s)",
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command to run")
    p.set_defaults(func=run_trace)


def _trace_set(exprs: list[str]) -> list[str] | None:
    names: list[str] | None = None
    for expr in exprs:
        key, _, value = expr.partition("=")
        if not value:
            key, value = "trace", key
        if key != "trace":
            raise splitpriv.SplitprivError(f"unsupported expression -e {expr!r} (only trace=SET)")
        if value == "none":
            names = []
        elif value != "all":
            names = (names or []) + [n for n in value.split(",") if n]
    return names


class _Printer:
    def __init__(self, out: TextIO, root: int | None, strsize: int) -> None:
        self.out = out
        self.root = root
        self.strsize = strsize

    def prefix(self, tid: int) -> str:
        return "" if tid == self.root else f"[pid {tid:>5}] "

    def line(self, event: splitpriv.Event) -> str | None:
        if isinstance(event, SyscallEvent):
            return self.prefix(event.tid) + event.format(self.strsize)
        if isinstance(event, SignalEvent | StopEvent | ExitEvent):
            return self.prefix(event.tid) + event.format()
        return None


def run_trace(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command and args.pid is None:
        raise splitpriv.SplitprivError("must have PROG [ARGS] or -p PID")
    if command and args.pid is not None:
        raise splitpriv.SplitprivError("give either a command or -p PID, not both")
    session = splitpriv.trace(
        command or None,
        pid=args.pid,
        mechanism=args.mechanism,
        follow_forks=args.follow,
        syscalls=_trace_set(args.expr),
        cpu=args.cpu,
    )
    out = open(args.output, "w", buffering=1 << 16) if args.output else sys.stderr
    try:
        return _print_trace(session, out, args, attached=args.pid is not None)
    finally:
        if out is not sys.stderr:
            out.close()


def _print_trace(
    session: splitpriv.Trace, out: TextIO, args: argparse.Namespace, attached: bool
) -> int:
    previous = None
    if not attached:

        def on_sigint(signum: int, frame: FrameType | None) -> None:
            pid = session.pid
            try:
                if pid and os.getpgid(pid) != os.getpgrp():
                    os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass  # it already ended (the same Ctrl-C reached it first)

        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with session:
            printer = _Printer(out, session.pid, args.strsize)
            for event in session:
                if printer.root is None:
                    printer.root = session.pid
                text = printer.line(event)
                if text is not None:
                    out.write(text + "\n")
    except KeyboardInterrupt:
        out.write(f"splitpriv: Process {args.pid} detached\n")
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    status = session.exit_status
    return status.returncode if status is not None else 0
