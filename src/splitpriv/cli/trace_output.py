"""Where ``splitpriv trace`` writes: one stream, or one file per process (``-ff -o FILE``).

:func:`make_writer` turns the options into a writer: :class:`~splitpriv.cli.trace_render.
TextTrace` (strace's lines), :class:`~splitpriv.cli.trace_json.JsonTrace` (JSON lines), or
:class:`Separate`, which gives each task its own ``FILE.TID`` with one of those inside, as
strace does for ``-ff`` (each file holds one task's complete lines: nothing interleaves there).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TextIO, cast

from splitpriv.cli.trace_fds import FdPaths, inheritable_descriptors
from splitpriv.cli.trace_json import JsonTrace
from splitpriv.cli.trace_options import TraceOptions
from splitpriv.cli.trace_records import Call, Exec, Exit, Other, take_exec
from splitpriv.cli.trace_render import Clock, LineFormat, Paint, TextTrace, color_system

OUTPUT_BUFFER = 1 << 16


class Writer(Protocol):
    """What the command feeds records to."""

    root: int | None

    def begin(self, root: int, threads: Sequence[int] = ()) -> None: ...

    def call(self, call: Call) -> None: ...

    def observe(self, call: Call) -> None: ...

    def other(self, record: Other) -> None: ...

    def end_batch(self) -> None: ...

    def tick(self) -> None: ...

    def message(self, text: str) -> None: ...

    def finish(self) -> None: ...


class Separate:
    """``-ff -o FILE``: each task's records go to ``FILE.TID``, through its own writer."""

    def __init__(
        self,
        base: str,
        make: Callable[[TextIO], Writer],
        fmt: LineFormat,
        *,
        append: bool = False,
        quiet_attach: bool = False,
        stderr: TextIO | None = None,
    ) -> None:
        self.base = base
        self.make = make
        self.fmt = fmt
        self.mode = "a" if append else "w"
        self.quiet_attach = quiet_attach
        self.stderr = stderr if stderr is not None else sys.stderr
        self.root: int | None = None
        self.lock = threading.RLock()
        self._open: dict[int, tuple[TextIO, Writer]] = {}
        self._used: set[str] = set()
        # pid -> the thread whose execve replaced it, until that execve's record comes (the
        # pid's next record): the thread's file ends with its first half, the pid's goes on.
        self._moved: dict[int, int] = {}

    def _writer(self, tid: int) -> Writer:
        entry = self._open.get(tid)
        if entry is None:
            if self.root is None:
                self.root = tid
            elif tid != self.root and not self.quiet_attach:  # the launched task: no message
                self.message(f"Process {tid} attached")
            path = f"{self.base}.{tid}"
            mode = "a" if path in self._used else self.mode  # a reused tid appends
            self._used.add(path)
            out = cast(TextIO, open(path, mode, buffering=OUTPUT_BUFFER))
            writer = self.make(out)
            writer.root = tid
            entry = self._open[tid] = (out, writer)
        return entry[1]

    def begin(self, root: int, threads: Sequence[int] = ()) -> None:
        if self.root is None:
            self.root = root

    def call(self, call: Call) -> None:
        with self.lock:
            if self._moved and call.pid in self._moved:
                thread = self._moved[call.pid]
                call, former = take_exec(self._moved, call)
                if call.pid not in self._moved:  # the execve's record, or the pid's next one
                    self._end_thread(thread, call if former is not None else None)
            self._writer(call.tid).call(call)

    def _end_thread(self, thread: int, execve: Call | None) -> None:
        """The thread whose execve replaced its leader leaves no more records under its own
        tid: as strace does, its file ends with that execve's first half and ``<pid changed
        to PID ...>``; the rest goes to the pid's file."""
        entry = self._open.pop(thread, None)
        if entry is None:
            return
        out, writer = entry
        if execve is not None and isinstance(writer, TextTrace):
            writer.pid_changed(execve)
        writer.finish()
        out.close()

    def observe(self, call: Call) -> None:
        with self.lock:
            self.fmt.observe(call)

    def other(self, record: Other) -> None:
        with self.lock:
            if isinstance(record, Exit) and record.tid in self._moved:  # (killed in its execve)
                self._end_thread(self._moved.pop(record.tid), None)
            if isinstance(record, Exec):
                if record.former_tid == record.tid:
                    return
                # (-ff follows every thread: the one that made the execve has a file, even
                # when -e trace= left out all its calls but this execve, as in strace.)
                self._writer(record.former_tid)
                self._moved[record.tid] = record.former_tid
            self._writer(record.tid).other(record)
            if isinstance(record, Exit):
                out, writer = self._open.pop(record.tid)
                writer.finish()
                out.close()

    def end_batch(self) -> None:
        with self.lock:
            for _, writer in self._open.values():
                writer.end_batch()

    def tick(self) -> None:
        pass

    def message(self, text: str) -> None:
        self.stderr.write(f"splitpriv: {text}\n")
        self.stderr.flush()

    def finish(self) -> None:
        with self.lock:
            for out, writer in self._open.values():
                writer.finish()
                out.close()
            self._open.clear()


def _fd_paths(opts: TraceOptions) -> FdPaths:
    """-y's model; a launched command starts with our cwd and inheritable descriptors."""
    if not opts.command:
        return FdPaths()
    return FdPaths(os.getcwd(), inheritable_descriptors())


def line_format(opts: TraceOptions) -> LineFormat:
    return LineFormat(
        opts.string_limit,
        _fd_paths(opts) if opts.decode_fds else None,
        None if opts.summary == "only" else opts.syscall_times,
    )


def make_writer(opts: TraceOptions, out: TextIO | None, **kwargs: Any) -> Writer:
    """The writer the options ask for; ``out`` is the stream (None with ``-ff -o``)."""
    fmt = line_format(opts)
    clock_args = (opts.absolute, opts.absolute_digits, opts.relative)

    def single(
        stream: TextIO, *, prefix: str, follow: bool, paint: Paint | None, separate: bool = False
    ) -> Writer:
        if opts.json:
            return JsonTrace(stream, fmt, quiet_exit=opts.quiet_exit, **kwargs)
        return TextTrace(
            stream,
            fmt,
            clock=Clock(*clock_args),
            column=opts.column,
            prefix=prefix,
            follow=follow,
            quiet_attach=opts.quiet_attach,
            quiet_exit=opts.quiet_exit,
            quiet_superseded=opts.quiet_superseded,
            quiet_personality=opts.quiet_personality,
            separate=separate,
            signals=opts.signals,
            whole_calls=opts.statuses is not None,
            paint=paint,
            **kwargs,
        )

    if out is None:
        assert opts.output is not None
        return Separate(
            opts.output,
            lambda stream: single(stream, prefix="none", follow=False, paint=None, separate=True),
            fmt,
            append=opts.append,
            quiet_attach=opts.quiet_attach,
            **kwargs,
        )
    system = None if opts.json else color_system(out, opts.color)
    prefix = "column" if opts.output is not None and opts.follow else "bracket"
    return single(out, prefix=prefix, follow=opts.follow, paint=Paint(system) if system else None)


__all__ = ["OUTPUT_BUFFER", "Separate", "Writer", "line_format", "make_writer"]
