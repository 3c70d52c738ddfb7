"""``splitpriv trace``: run or attach to a program and print its syscalls, like strace.

Options have strace's spellings and meanings (:mod:`splitpriv.cli.trace_options`); lines go to
stderr (or ``-o FILE``) in strace's format (:mod:`splitpriv.cli.trace_render`), or as JSON
lines (:mod:`splitpriv.cli.trace_json`). The exit status is the tracee's, and 128 + N when it
was killed by signal N, as strace reports it; 2 for a command line that cannot be run. The C
engine traces in its own thread (on its own CPU with ``--cpu same``) while this thread decodes
and prints.

Ctrl-C: a terminal sends SIGINT to the whole foreground process group, tracee included, so
when the tracee shares our group the supervisor leaves the decision to it (a program that
handles SIGINT keeps running, traced); otherwise it forwards SIGINT to the tracee. With ``-p``,
Ctrl-C detaches from the process, which runs on, and the runner exits 130, as strace does.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import TYPE_CHECKING, TextIO

import splitpriv
from splitpriv import Action, Policy, SyscallEvent, mechanisms
from splitpriv.cli import console
from splitpriv.cli.trace_fds import FD_LIFECYCLE
from splitpriv.cli.trace_json import JsonTrace
from splitpriv.cli.trace_options import (
    Inject,
    TraceOptions,
    UsageError,
    help_text,
    parse_args,
)
from splitpriv.cli.trace_output import OUTPUT_BUFFER, Writer, make_writer
from splitpriv.cli.trace_records import (
    EV_SYSCALL,
    Signal,
    Stop,
    call_from_record,
    other_from_record,
)
from splitpriv.cli.trace_render import TextTrace, Ticker, isatty
from splitpriv.cli.trace_summary import Summary
from splitpriv.session import CPU_CHOICES

if TYPE_CHECKING:
    import argparse

ENGINE_STRING_LIMIT = 4096  # bytes the engine copies per string (paths are printed whole)
ENGINE_STRING_MAX = 8192
TICK_S = 0.025


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # strace's options are parsed by trace_options (getopt rules: clustering, abbreviations,
    # options end at the command); argparse only hands the words over untouched, and only for
    # `splitpriv --help`: `splitpriv trace ...` goes straight to run_trace (cli.main).
    import argparse

    p = subparsers.add_parser(
        "trace",
        help="trace a command's syscalls (strace-compatible options and output)",
        description="Trace the system calls of a command, or of a running process with -p.",
        prefix_chars="\0",
        add_help=False,
    )
    p.add_argument("argv", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args: run_trace(args.argv))


def usage_error(message: str) -> int:
    console.usage_error("splitpriv trace", message)
    return 2


def run_trace(words: list[str]) -> int:
    """``splitpriv trace WORDS...``: the exit status for the shell."""
    try:
        opts = parse_args(words, mechanisms=mechanisms.names(), cpus=CPU_CHOICES)
    except UsageError as exc:
        return usage_error(str(exc))
    if opts.help:
        sys.stdout.write(help_text())
        return 0
    if opts.version:
        sys.stdout.write(f"splitpriv trace {splitpriv.__version__}\n")
        return 0
    for warning in opts.warnings:
        sys.stderr.write(f"splitpriv: {warning}\n")
    return trace_main(opts)


# --- -e inject ------------------------------------------------------------------------------


class _Every:
    """An injection with ``when=``: counts each task's calls of each syscall in the set and
    answers the ones ``when`` selects (a Python callback: it runs in the engine per call)."""

    def __init__(self, inject: Inject) -> None:
        self.inject = inject
        self.counts: dict[tuple[int, str], int] = {}

    def __call__(self, call: SyscallEvent) -> Action | None:
        key = (call.tid, call.name)
        n = self.counts[key] = self.counts.get(key, 0) + 1
        assert self.inject.when is not None
        if n not in self.inject.when:
            return None
        if self.inject.errno is not None:
            return Action.deny(self.inject.errno)
        assert self.inject.retval is not None
        return Action.emulate(self.inject.retval)


def build_policy(injects: list[Inject]) -> Policy | None:
    """``-e inject`` rules as a Policy: static deny/emulate rules (Python never runs for them),
    and a counting callback only for rules with ``when=``. A later rule wins for a syscall."""
    if not injects:
        return None
    policy = Policy()
    for inject in injects:
        names = sorted(inject.names)
        if inject.when is not None:
            policy.callback(*names, fn=_Every(inject))
        elif inject.errno is not None:
            policy.deny(*names, errno=inject.errno)
        else:
            assert inject.retval is not None
            policy.emulate(*names, retval=inject.retval)
    return policy


# --- running ----------------------------------------------------------------------------------


def _environment(opts: TraceOptions) -> dict[str, str]:
    env = dict(os.environ)
    env.update(opts.env_set)
    for name in opts.env_unset:
        env.pop(name, None)
    return env


@contextmanager
def _output(opts: TraceOptions) -> Iterator[TextIO | None]:
    """The stream to write to: stderr, the -o file, or None for -ff (files per task)."""
    if opts.output is None:
        yield sys.stderr
    elif opts.separate:
        yield None
    else:
        try:
            stream = open(opts.output, "a" if opts.append else "w", buffering=OUTPUT_BUFFER)
        except OSError as exc:
            raise splitpriv.SplitprivError(f"can't open '{opts.output}': {exc.strerror}") from None
        try:
            yield stream
        finally:
            stream.close()


@contextmanager
def _sigint(session: splitpriv.Trace, attached: bool) -> Iterator[list[int]]:
    """Ctrl-C for a launched tracee: leave it to the tracee when it shares our process group
    (the terminal signalled it too), forward it otherwise.

    With -p: detach, even when SIGINT was ignored when we started (a background job of a
    script), as strace does whatever it inherited. The session is asked to end and the trace
    goes on to its last record, so that a call in progress shows as strace shows it (`read(0,
     <detached ...>`); the list yielded gets an entry. A second Ctrl-C: KeyboardInterrupt."""
    seen: list[int] = []
    if attached:

        def on_attached_sigint(signum: int, frame: FrameType | None) -> None:
            if seen:
                raise KeyboardInterrupt
            seen.append(signum)
            session.stop()

        previous_handler = signal.signal(signal.SIGINT, on_attached_sigint)
        try:
            yield seen
        finally:
            signal.signal(signal.SIGINT, previous_handler)
        return
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # (Ignored when we started, as a script's `trap "" INT` leaves it: the tracee inherits
        # that, as it would without us, and a handler of ours would undo it at its exec.)
        yield seen
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        pid = session.pid
        try:
            if pid and os.getpgid(pid) != os.getpgrp():
                os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass  # it already ended (the same Ctrl-C reached it first)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


class _Terminated(BaseException):
    """SIGTERM or SIGHUP reached the runner: the trace ends as after Ctrl-C (what we launched
    is killed, what we attached is detached), then the runner exits with 128 + N. A
    BaseException, so that no `except Exception` on the way swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _termination() -> Iterator[None]:
    """SIGTERM and SIGHUP as _Terminated in the main thread, so that the session closes: the
    stub mechanisms' tracees are not attached, and nothing else would end them."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise _Terminated(signum)

    # One ignored when we started stays ignored, for us and for what we launch (`nohup
    # splitpriv trace ...` must not end at a hang-up, and its tracee inherits the SIG_IGN, as
    # under strace).
    previous = {
        sig: signal.signal(sig, on_signal)
        for sig in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _prints_entries(opts: TraceOptions) -> bool:
    """Whether the trace asks the engine for the entries of calls in progress: for one text
    stream of several tasks that prints every record it gets, where they let lines go out in
    time order as they come (trace_render). Filters that look at a call's result, and -y's
    descriptor model, want whole calls only."""
    return (
        opts.follow
        and not opts.separate
        and not opts.json
        and opts.summary == "none"
        and opts.statuses is None
        and opts.syscall_limit is None
        and not opts.decode_fds
    )


def _auto_must_have(opts: TraceOptions) -> tuple[str, ...]:
    """What a mechanism picked by -m auto must see for the lines this trace prints: a strace
    user expects the signal lines and, with -f, every process's exit (its line, unless -qq,
    and the end of its `[pid N]` prefixes). (A mechanism named with -m is used as asked; its
    docs say what it cannot show.)"""
    if opts.mechanism != "auto" or opts.summary == "only":
        return ()
    must: list[str] = []
    if opts.signals is None or opts.signals:
        must.append("sees_signals")
    if opts.follow:
        must.append("sees_every_exit")
    return tuple(must)


def trace_main(opts: TraceOptions) -> int:
    """Run the trace the options describe; the exit status for the shell."""
    command = opts.command[1:] if opts.command[:1] == ["--"] else opts.command
    string_limit = max(ENGINE_STRING_LIMIT, min(opts.string_limit + 1, ENGINE_STRING_MAX))
    recorded = opts.trace
    if opts.decode_fds and recorded is not None and opts.summary != "only":
        recorded = recorded | FD_LIFECYCLE  # -y's descriptor model follows these
    if not opts.follow and opts.pid is None and opts.mechanism != "auto":
        caps = mechanisms.get(opts.mechanism).capabilities
        if not caps.untraced_children:  # what to do about it, which the library cannot say
            raise splitpriv.MechanismUnavailableError(
                f"mechanism '{opts.mechanism}' cannot leave children untraced: "
                "add -f (it follows every child)"
            )
    session = splitpriv.trace(
        command or None,
        pid=opts.pid,
        mechanism=opts.mechanism,
        follow_forks=opts.follow,
        syscalls=None if recorded is None else sorted(recorded),
        policy=build_policy(opts.injects),
        cpu=opts.cpu,
        env=_environment(opts) if command else None,
        string_limit=string_limit,
        entry_records=_prints_entries(opts),
        require=_auto_must_have(opts),
    )
    # What the imports made lives as long as the command: keep the collector from walking it
    # again and again while records stream in (a generation-1 pass over it took 0.6 ms of a
    # 13 ms pipeline's trace).
    gc.freeze()
    if opts.summary != "none" and not session.mechanism.capabilities.sees_return_value:
        sys.stderr.write(
            f"splitpriv: {session.mechanism.name} never sees results: -c counts its calls "
            "with no time and no errors\n"
        )
    try:
        with _output(opts) as out:
            summary = Summary() if opts.summary != "none" else None
            entries = {"entries": True} if session.entry_records else {}
            writer = None if opts.summary == "only" else make_writer(opts, out, **entries)
            status = _consume(session, opts, writer, summary)
            if summary is not None:
                _print_summary(summary, opts, out, writer)
    except OSError as exc:
        if isinstance(exc, splitpriv.SplitprivError | BrokenPipeError):
            raise
        # A full disk, a quota, an I/O error: one line, not a traceback (the session is
        # closed by now, its tracee killed or detached).
        where = f"'{opts.output}'" if opts.output else "stderr"
        raise splitpriv.SplitprivError(
            f"cannot write the trace to {where}: {exc.strerror}"
        ) from None
    return status


def _consume(
    session: splitpriv.Trace, opts: TraceOptions, writer: Writer | None, summary: Summary | None
) -> int:
    """Feed every record to the writer and the summary; the tracee's exit status."""
    attached = opts.pid is not None
    statuses, signals, limit = opts.statuses, opts.signals, opts.syscall_limit
    shown = opts.trace if opts.decode_fds else None  # -y records more than it prints
    captured = 0
    muted = False  # --syscall-limit reached with a launched tracee: drain, print nothing
    ticking = isinstance(writer, TextTrace) and opts.follow
    # Repeats of a printed call go straight from the record to the stream, unless a record
    # must be looked at for more than its line (a summary, a filter, a limit, -y).
    repeats = writer if isinstance(writer, TextTrace) else None
    if summary is not None or statuses is not None or limit is not None or shown is not None:
        repeats = None
    detached = False
    terminated = 0
    try:
        with _termination(), _sigint(session, attached) as interrupted, session:
            if attached:
                assert opts.pid is not None
                started = session.wait_started()
                # With -f every thread is attached too; strace counts them in one line.
                threads = _other_threads(opts.pid) if opts.follow and started else []
                if writer is not None:
                    writer.begin(opts.pid, threads)
                with_threads = f" with {len(threads) + 1} threads" if threads else ""
                if opts.quiet_attach or not started:
                    pass  # (not attached: the error comes when the session closes)
                elif writer is not None:
                    writer.message(f"Process {opts.pid} attached{with_threads}")
                else:
                    sys.stderr.write(f"splitpriv: Process {opts.pid} attached{with_threads}\n")
            begun = attached
            with Ticker(writer.tick, TICK_S) if ticking and writer else nullcontext():
                merge = repeats.prints_repeats if repeats is not None else False
                for batch in session.record_batches(merge_repeats=merge):
                    if muted:
                        continue
                    if not begun and writer is not None and session.pid is not None:
                        writer.begin(session.pid)
                        begun = True
                    at, end = 0, len(batch)
                    while at < end:
                        h, segments = batch[at]
                        if repeats is not None and not segments and not h[1]:
                            at = repeats.print_repeats(batch, at)  # (copied memory: no repeat)
                            if at == end:
                                break
                            h, segments = batch[at]
                        at += 1
                        if h[0] == EV_SYSCALL:  # the record's kind (_binding.R_KIND)
                            call = call_from_record(h, segments)
                            if shown is not None and call.name not in shown:
                                if writer is not None:
                                    writer.observe(call)
                                continue
                            if summary is not None and call.exit_ns is not None:
                                summary.add(
                                    call.arch,
                                    call.nr,
                                    call.name,
                                    call.exit_ns - call.entry_ns,
                                    call.failed,
                                )
                            elif (
                                summary is not None
                                and call.status == "unavailable"
                                and call.name not in _NEVER_RETURN
                            ):
                                # seccomp-notify: counted, with no time and no error known
                                summary.add(call.arch, call.nr, call.name, 0, False)
                            if statuses is not None and call.status not in statuses:
                                if shown is not None and writer is not None:
                                    writer.observe(call)  # (-y's model wants every call)
                                continue
                            if writer is not None:
                                writer.call(call)
                            if limit is not None:
                                captured += 1
                                if captured >= limit:
                                    muted = True
                                    break
                        elif writer is not None:
                            record = other_from_record(h)
                            if (
                                signals is not None
                                and isinstance(record, Signal | Stop)
                                and record.signo not in signals
                            ):
                                continue
                            writer.other(record)
                    if writer is not None:
                        writer.end_batch()
                    if muted and attached:
                        detached = True
                        break
                    if muted and writer is not None:
                        writer.finish()
                        writer = None
        if interrupted:  # -p: Ctrl-C detached, the trace went on
            detached, terminated = True, signal.SIGINT
    except KeyboardInterrupt:
        if not attached:
            raise
        detached, terminated = True, signal.SIGINT  # (a second Ctrl-C: it ends now)
    except _Terminated as exc:
        terminated = exc.signum
        detached = attached
    finally:
        if writer is not None:
            writer.finish()
    if detached and not opts.quiet_attach:
        assert opts.pid is not None
        for tid in (opts.pid, *(_other_threads(opts.pid) if opts.follow else ())):
            sys.stderr.write(f"splitpriv: Process {tid} detached\n")
    if terminated:
        return 128 + terminated
    if detached or attached:
        return 0  # strace's status is the tracee's only for a command it ran itself
    # (A signal that made us detach is strace's status, as it is ours above: 130 for Ctrl-C.)
    status = session.exit_status
    return status.returncode if status is not None else 0


def _other_threads(pid: int) -> list[int]:
    """The threads of process ``pid`` other than its main one, as /proc lists them now."""
    try:
        return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if int(t) != pid)
    except OSError:
        return []


# Calls that end their task: strace's table, which counts returns, never has them.
_NEVER_RETURN = frozenset({"exit", "exit_group"})


def _print_summary(
    summary: Summary, opts: TraceOptions, out: TextIO | None, writer: Writer | None
) -> None:
    """-c/-C: the table after the trace, where the trace goes (stderr with -ff)."""
    stream = out if out is not None else sys.stderr
    if opts.json:
        if isinstance(writer, JsonTrace):
            writer.summary(summary.records(opts.sort_by))
            writer.finish()
            return
        import json

        for obj in summary.records(opts.sort_by):
            stream.write(json.dumps(obj, separators=(",", ":")) + "\n")
        stream.flush()
        return
    if not summary:
        return  # no call counted (-e trace=none): strace prints no table at all
    if isatty(stream):  # a file or a pipe gets plain text: no need to import rich
        from rich.console import Console

        term = Console(file=stream, highlight=False)
        if term.is_terminal:
            for table in summary.tables(opts.sort_by):
                term.print(table)
            return
    stream.write(summary.plain(opts.sort_by))
    stream.flush()


__all__ = ["add_parser", "build_policy", "run_trace", "trace_main"]
