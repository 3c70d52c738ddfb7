"""strace's text output: lines, prefixes, timestamps, colours, and the interleaving of tasks.

The engine hands over each syscall once, complete, when it returned, with its entry and exit
times. strace prints the entry half of a line when a call enters and the rest when it returns,
so when another task prints in between it shows ``read(3,  <unfinished ...>`` and later
``<... read resumed>"..."..., 832) = 832``. :class:`TextTrace` rebuilds that from the
timestamps: every call becomes two points (entry, exit), signals and exits one, and the points
are printed in time order with strace's rules.

While one task is traced nothing can interleave and each call is printed at once. As soon as a
second task exists, points go through a heap in time order. Which of them can be printed
depends on what the engine hands over:

* With entry records (``entries=True``: ptrace, sysemu and seccomp-trace, see
  :meth:`splitpriv.Trace.record_batches`), every call that entered before a record arrives
  ahead of it, as its entry alone (ENTRY) and later whole (ENTRY_SHOWN). So at the end of each
  batch everything older than its newest point is final and goes out, as strace prints.
* Without them, points are held back for :data:`HOLDBACK_NS` (50 ms) after the newest one
  that arrived, so that a call that entered before another task's lines but returned after
  them (its record arrives later) is still put in its place; a timer flushes what is held when
  no event came for that long. A call that entered before what was already printed (it
  blocked longer than the hold-back, say ``wait4`` while a child runs for a second) cannot be
  put back in the past: it is printed whole, where it returned, stamped with its entry time.

A program that repeats a call (same number, arguments and result, nothing copied) gets the
same line each time while one task is traced without timestamps or colours: :meth:`TextTrace.
print_repeats` prints such records straight from their flat form, without making a Call, so the
trace runner keeps pace with the stub mechanisms' loops.
"""

from __future__ import annotations

import heapq
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final, TextIO

from splitpriv import _binding
from splitpriv.cli.trace_fds import FdPaths
from splitpriv.cli.trace_records import (
    CHILD_CREATORS,
    DETACHED,
    ENTRY,
    ENTRY_SHOWN,
    EV_SYSCALL,
    Call,
    Exec,
    Exit,
    Other,
    Signal,
    Stop,
    take_exec,
)
from splitpriv.events import ExitStatus
from splitpriv.syscalls import ARCHES, decode, layout
from splitpriv.syscalls.siginfo import format_siginfo, signal_name

HOLDBACK_NS: Final = 50_000_000
_ENTRY_FLAGS: Final = ENTRY | ENTRY_SHOWN
_ENTRY, _EXIT, _LINE, _WHOLE = 0, 1, 2, 3
_UNFINISHED: Final = " <unfinished ...>"
_CACHE_SIZE: Final = 4096


# --- pieces of a line ----------------------------------------------------------------------


def fraction(ns: int, digits: int) -> str:
    """``.000123`` for ``digits`` = 6; empty for 0."""
    if digits == 0:
        return ""
    return f".{(ns % 1_000_000_000) // 10 ** (9 - digits):0{digits}d}"


def duration(ns: int, digits: int = 6) -> str:
    """strace's ``-T`` text: ``<0.000012>``."""
    return f"<{ns // 1_000_000_000}{fraction(ns, digits)}>"


class Clock:
    """The timestamps of ``-t``/``-tt``/``-ttt`` (absolute) and ``-r`` (since the last line)."""

    def __init__(self, absolute: str | None, absolute_digits: int, relative: int | None) -> None:
        self.absolute = absolute
        self.absolute_digits = absolute_digits
        self.relative = relative
        self.enabled = absolute is not None or relative is not None
        self._last: int | None = None
        self._second = -1
        self._clock_text = ""

    def stamp(self, t_ns: int) -> str:
        """The text before a line's body, with its trailing space; empty when disabled."""
        if not self.enabled:
            return ""
        parts = []
        if self.absolute is not None:
            second = t_ns // 1_000_000_000
            if self.absolute == "unix":
                text = str(second)
            else:
                if second != self._second:
                    self._second = second
                    self._clock_text = time.strftime("%H:%M:%S", time.localtime(second))
                text = self._clock_text
            parts.append(text + fraction(t_ns, self.absolute_digits))
        if self.relative is not None:
            delta = 0 if self._last is None else max(0, t_ns - self._last)
            self._last = t_ns
            rel = f"{delta // 1_000_000_000:6d}{fraction(delta, self.relative)}"
            parts.append(f"(+{rel})" if parts else rel)
        return " ".join(parts) + " "


class Paint:
    """ANSI colours for the trace on a terminal, made with rich once per style (a per-line
    rich render would cost more than the rest of the line)."""

    STYLES: Final = {
        "prefix": "cyan",
        "time": "dim",
        "name": "bold",
        "error": "red",
        "injected": "magenta",
        "unfinished": "dim",
        "signal": "yellow",
        "exit": "bold green",
        "killed": "bold red",
        "message": "dim",
    }

    def __init__(self, color_system: str = "standard") -> None:
        from rich.color import ColorSystem
        from rich.style import Style

        system = {
            "standard": ColorSystem.STANDARD,
            "256": ColorSystem.EIGHT_BIT,
            "truecolor": ColorSystem.TRUECOLOR,
            "windows": ColorSystem.WINDOWS,
        }.get(color_system, ColorSystem.STANDARD)
        self._codes: dict[str, tuple[str, str]] = {}
        for kind, spec in self.STYLES.items():
            start, _, end = Style.parse(spec).render("\0", color_system=system).partition("\0")
            self._codes[kind] = (start, end)

    def __call__(self, kind: str, text: str) -> str:
        if not text:
            return text
        start, end = self._codes[kind]
        return f"{start}{text}{end}"


_RESTARTBLOCK: Final = -516  # -ERESTART_RESTARTBLOCK: the kernel resumes with restart_syscall


class LineFormat:
    """A call's three pieces of text: what strace prints at entry, at exit, and after ``=``."""

    def __init__(
        self, string_limit: int, fds: FdPaths | None = None, times_digits: int | None = None
    ) -> None:
        self.limit = string_limit
        self.fds = fds
        self.times = times_digits
        self.cacheable = fds is None and times_digits is None
        self._cache: dict[tuple[object, ...], tuple[str, str, str]] | None = (
            {} if self.cacheable else None
        )
        # Each task's last call the kernel will resume with restart_syscall (one that returned
        # ERESTART_RESTARTBLOCK), which strace names: "<... resuming interrupted nanosleep ...>".
        self._interrupted: dict[int, str] = {}

    def arguments(self, call: Call) -> list[str]:
        if self.fds is not None:
            return self.fds.arguments(call, self.limit)
        return decode.arguments(call, self.limit, indexed=False)

    def result(self, call: Call) -> str:
        text = decode.result(call)
        if self.fds is not None:
            text = self.fds.result(call, text)
        if call.injected:
            text += " (INJECTED)"
        if self.times is not None and call.exit_ns is not None:
            text += " " + duration(call.exit_ns - call.entry_ns, self.times)
        return text

    def parts(self, call: Call) -> tuple[str, str, str]:
        """Entry half, exit half, result. Called once per call, in the order the engine
        recorded them (``-y`` keeps its descriptor model up to date here).

        A call with no copied memory prints as a function of its number, arguments, result
        and flags alone (without ``-y`` and ``-T``), so loops that repeat a call reuse its
        text."""
        if call.retval == _RESTARTBLOCK:
            self._interrupted[call.tid] = call.name
        elif call.name == "restart_syscall":
            resumed = self._interrupted.get(call.tid, "system call")
            head, tail = layout.split(call.name, [f"<... resuming interrupted {resumed} ...>"])
            return self._detached(call, head) or (head, tail, self.result(call))
        key = None
        if self._cache is not None and not call.memory and not call.faults:
            key = (call.nr, call.arch, call.args, call.retval, call.flags)
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        head, tail = layout.split(call.name, self.arguments(call))
        detached = self._detached(call, head)
        if detached is not None:
            return detached
        if (
            call.retval is None
            and call.flags & _binding.EVF_NORETURN
            and tail != ")"
            and call.name not in CHILD_CREATORS
        ):
            # The task ended inside the call (killed): strace never prints what it would have
            # printed at exit, e.g. `clock_nanosleep(..., {tv_sec=5, tv_nsec=0},  <unfinished
            # ...>) = ?`. Calls printed whole at entry (exit_group) end as usual, and so do
            # the clone family under `sud` (the program's own instruction ran them again, so
            # the result is unknown, not lost: `clone(..., child_tidptr=0x...) = ?`).
            tail = " <unfinished ...>)"
        parts = (head, tail, self.result(call))
        if key is not None:
            assert self._cache is not None
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = parts
        return parts

    @staticmethod
    def _detached(call: Call, head: str) -> tuple[str, str, str] | None:
        """We let go of the task inside the call: strace's `read(0,  <detached ...>`, with no
        result (an empty one: the writer ends the line there). None for any other call."""
        if call.flags & DETACHED and call.retval is None:
            return head, " <detached ...>", ""
        return None

    def observe(self, call: Call) -> None:
        """A call recorded for ``-y``'s model only (not printed)."""
        if self.fds is not None:
            self.fds.observe(call)


def exit_text(status: ExitStatus) -> str:
    if status.signal is not None:
        core = " (core dumped)" if status.core_dumped else ""
        return f"+++ killed by {signal_name(status.signal)}{core} +++"
    return f"+++ exited with {status.code} +++"


def other_text(record: Other) -> str:
    """The line of a signal, stop or exit; an exec prints only when another thread called it
    (strace's ``+++ superseded by execve in pid N +++``, on the line of the task it replaced)."""
    if isinstance(record, Signal):
        info = format_siginfo(
            record.signo, record.code, record.sender_pid, record.sender_uid, record.status
        )
        return f"--- {signal_name(record.signo)} {info} ---"
    if isinstance(record, Stop):
        return f"--- stopped by {signal_name(record.signo)} ---"
    if isinstance(record, Exit):
        return exit_text(record.status)
    if record.former_tid != record.tid:
        return f"+++ superseded by execve in pid {record.former_tid} +++"
    return ""


# --- the stream ----------------------------------------------------------------------------


class _Item:
    """One call on its way through the timeline. An entry record's text waits (``undecoded``)
    until it is printed, since its whole record often comes first and is then the only one
    decoded. ``tid`` is the task whose line the call begins on: ``call.tid`` but for an
    execve made by a thread other than the leader, which returns as the leader's pid."""

    __slots__ = ("call", "head", "late", "result", "tail", "tid", "undecoded")

    def __init__(self, call: Call, parts: tuple[str, str, str] | None) -> None:
        self.call = call
        self.tid = call.tid
        self.late = False
        self.undecoded = parts is None
        self.head, self.tail, self.result = ("", "", "") if parts is None else parts


Point = tuple[int, int, int, "_Item | Other"]


class TextTrace:
    """strace's text output on one stream (stderr, a -o file, or one -ff file).

    Thread-safe: the consumer feeds records and ends batches; a timer thread may call
    :meth:`tick`. ``prefix`` is "bracket" (``[pid N] `` once several tasks are traced, as on
    stderr), "column" (``N     `` on every line, as with ``-f -o FILE``) or "none".
    """

    def __init__(
        self,
        out: TextIO,
        fmt: LineFormat,
        *,
        clock: Clock | None = None,
        column: int = layout.DEFAULT_COLUMN,
        prefix: str = "bracket",
        follow: bool = True,
        quiet_attach: bool = False,
        quiet_exit: bool = False,
        quiet_superseded: bool = False,
        quiet_personality: bool = False,
        separate: bool = False,
        signals: frozenset[int] | None = None,
        paint: Paint | None = None,
        stderr: TextIO | None = None,
        holdback_ns: int = HOLDBACK_NS,
        entries: bool = False,
        whole_calls: bool = False,
    ) -> None:
        self.out = out
        self.write: Callable[[str], object] = out.write
        self.fmt = fmt
        self.clock = clock or Clock(None, 0, None)
        self.column = column
        self.prefix_mode = prefix
        self.follow = follow
        self.quiet_attach = quiet_attach
        self.quiet_exit = quiet_exit
        self.quiet_superseded = quiet_superseded
        self.quiet_personality = quiet_personality
        # strace's personality: the ABI of the last call printed, and of each process's.
        self._arch = "x86_64"
        self._arch_of: dict[int, str] = {}
        self.separate = separate  # one task's -ff file: another thread's execve began elsewhere
        self.signals = signals
        self.whole_calls = whole_calls  # never split a line (the filters that need results)
        self.paint = paint
        self.stderr = stderr if stderr is not None else sys.stderr
        self.holdback_ns = holdback_ns
        self.entries = entries  # the engine hands over entry records (see the module doc)
        self.lock = threading.Lock()
        self.root: int | None = None
        self._pads = [" " * n for n in range(column + 1)]
        self._prefixes: dict[int, str] = {}  # a task's line prefix, by tid
        self._heap: list[Point] = []
        self._seq = 0
        self._open: _Item | None = None
        self._open_col = 0
        self._watermark = 0
        self._newest = 0
        self._known: dict[int, None] = {}  # tasks alive, as far as records have arrived
        self._live: dict[int, None] = {}  # tasks alive, where printing has got to
        self._awaiting: dict[int, _Item] = {}  # calls that never returned, by tid
        self._entered: dict[int, _Item] = {}  # calls whose entry record came, by tid
        self._exited: set[int] = set()  # tasks whose exit record arrived
        # pid -> the thread whose execve replaced it, until that execve's record comes: it is
        # the next record of the pid (the exec event comes before the call's exit stop).
        self._moved: dict[int, int] = {}
        self._printed_exits: set[int] = set()  # ... and was printed
        self._last_feed = time.monotonic()
        # Whole lines of calls printed alone, by (tid, nr, arch, args, result): what a repeat
        # of the call prints while the prefix stays what it was (see print_repeats).
        self._repeats: dict[tuple[object, ...], str] = {}

    # -- feeding (consumer thread) -----------------------------------------------------------

    def _buffered(self) -> bool:
        """Whether records must go through the timeline (several tasks, or some held)."""
        return (
            len(self._known) > 1
            or bool(self._awaiting)
            or bool(self._entered)
            or bool(self._moved)
            or bool(self._heap)
            or self._open is not None
        )

    def _settle(self, tid: int) -> None:
        """After a record of ``tid``: if it is the only task left (or none is), nothing older
        can arrive any more (one task's records come in order), so print all that is held."""
        known = self._known
        if (
            self._heap
            and not self._awaiting
            and not self._moved  # the execve's entry, not yet come, goes before what is held
            and (not known or (len(known) == 1 and tid in known))
        ):
            self._flush(None)

    def begin(self, root: int, threads: Sequence[int] = ()) -> None:
        """The traced process is ``root`` (known before its first record arrives: with a
        trace set that leaves out its calls, a child's records can come first); ``threads``:
        its other threads, attached with it (``-f -p``), announced with it rather than each
        at its first line."""
        with self.lock:
            if self.root is None:
                self.root = root
            for tid in (root, *threads):
                self._known.setdefault(tid, None)
                self._live.setdefault(tid, None)

    def call(self, call: Call) -> None:
        with self.lock:
            former = None
            if self._moved:
                call, former = take_exec(self._moved, call)
            tid = call.tid
            known = self._known
            if tid not in known:
                known[tid] = None
            creates = (
                self.follow
                and call.name in CHILD_CREATORS
                and call.retval is not None
                and call.retval > 0
            )
            if creates:
                assert call.retval is not None
                if call.retval not in self._exited:
                    known[call.retval] = None
            if creates or call.flags & _ENTRY_FLAGS or former is not None or self._buffered():
                self._push_call(call, former)
                self._settle(tid)
            else:
                self._write_now(call)

    def prints_repeats(self) -> bool:
        """Whether :meth:`print_repeats` can print repeats now: nothing can make a line differ
        from the first one's (one task traced, no timestamps, colours or -y), and no line is
        held whose order against them would depend on their times. (The consumer asks it
        before each batch, for ``record_batches(merge_repeats=...)``.)"""
        with self.lock:
            return self._prints_repeats()

    def _prints_repeats(self) -> bool:
        return (
            len(self._known) <= 1
            and not self._heap
            and not self._awaiting
            and self._open is None
            and self.paint is None
            and not self.clock.enabled
            and self.fmt.cacheable
        )

    def print_repeats(self, batch: list[_binding.Record], start: int) -> int:
        """Print the records of ``batch`` from ``start`` on that repeat a call already printed
        alone, while :meth:`prints_repeats`; return the index of the first record left for
        :meth:`call` or :meth:`other`. The consumer's hot path for loops."""
        with self.lock:
            known = self._known
            if len(known) != 1 or not self._prints_repeats():
                return start
            (tid,) = known
            lines, write, arch_of = self._repeats, self.write, ARCHES.get
            i, end, last_exit = start, len(batch), 0
            while i < end:
                record = batch[i]
                h, segments = record
                if h[0] != EV_SYSCALL or h[1] or segments or h[3] != tid:
                    break
                line = lines.get((tid, h[5], arch_of(h[4], "x86_64"), h[6:12], h[12]))
                if line is None:
                    break
                # A run the engine found repeated (record_batches(merge_repeats=True)) is one
                # tuple: one write for all of it.
                j = i + 1
                while j < end and batch[j] is record:
                    j += 1
                write(line if j == i + 1 else line * (j - i))
                last_exit = h[14]
                i = j
            if last_exit > self._watermark:
                self._watermark = last_exit
            return i

    def other(self, record: Other) -> None:
        with self.lock:
            tid = record.tid
            if isinstance(record, Exec):
                self._exec(record)
                return
            if isinstance(record, Exit):
                self._moved.pop(tid, None)  # (killed before its execve returned)
            self._resolve(tid, record.time_ns)
            if isinstance(record, Exit):
                self._abandon(tid, record.time_ns)
            if tid not in self._known:
                self._known[tid] = None
            buffered = self._buffered()
            if isinstance(record, Exit):
                self._known.pop(tid, None)
                self._exited.add(tid)
            if not buffered:
                self._write_line(record)
                return
            self._push(record.time_ns, _LINE, record)
            self._newest = max(self._newest, record.time_ns)
            self._settle(tid)

    def _exec(self, record: Exec) -> None:
        """An execve succeeded. When a thread other than the leader made it, the kernel gave
        it the leader's pid and the leader is gone: its call in progress ends here, and from
        here that pid's lines are the thread's (its execve returns under the pid), as strace
        prints them: ``+++ superseded by execve in pid THREAD +++`` on the leader's line."""
        tid, former, t = record.tid, record.former_tid, record.time_ns
        self._resolve(former, t)
        self._resolve(tid, t)
        # Only a thread traced here (with -f) replaces the leader in this trace; without -f the
        # engine sees the exec of a thread it never traced, as strace does, and says nothing.
        if former == tid or not (self.follow or self.separate):
            return
        self._known.pop(former, None)
        execve = self._entered.pop(former, None)
        if execve is not None:  # its whole record comes under the new tid
            self._entered[tid] = execve
        self._moved[tid] = former
        self._push(t, _LINE, record)
        self._newest = max(self._newest, t)

    def end_batch(self) -> None:
        """A batch was fed: print what can no longer be reordered."""
        with self.lock:
            self._last_feed = time.monotonic()
            if self._heap:
                self._flush(self._newest if self.entries else self._newest - self.holdback_ns)

    def tick(self) -> None:
        """Timer: when nothing arrived for the hold-back time, print everything held."""
        with self.lock:
            idle = time.monotonic() - self._last_feed
            if self._heap and idle * 1e9 >= self.holdback_ns:
                self._flush(None)

    def observe(self, call: Call) -> None:
        """A call recorded only for ``-y``'s descriptor model."""
        with self.lock:
            self.fmt.observe(call)

    def message(self, text: str) -> None:
        """A ``splitpriv: ...`` message for stderr (attach, detach), kept off a -o file."""
        with self.lock:
            self._message(text)

    def finish(self) -> None:
        """The trace ended: print everything, closing lines of calls that never returned."""
        with self.lock:
            for tid in list(self._awaiting):
                self._resolve(tid, max(self._watermark, self._awaiting[tid].call.entry_ns))
            for tid in list(self._entered):
                self._abandon(tid, max(self._watermark, self._entered[tid].call.entry_ns))
            self._flush(None)
            self._close_open()
            self.out.flush()

    # -- the timeline --------------------------------------------------------------------------

    def _push(self, t: int, kind: int, obj: _Item | Other) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, kind, obj))

    def _push_call(self, call: Call, former: int | None = None) -> None:
        """``former``: the thread that began this execve before it became ``call.tid``."""
        tid, flags, entry_ns = call.tid, call.flags, call.entry_ns
        heap, push = self._heap, heapq.heappush
        shown = self._entered.pop(tid, None) if flags & ENTRY_SHOWN else None
        if self._awaiting:
            self._resolve(tid, entry_ns)
        if shown is not None:  # its entry point is in already: now the rest of it
            shown.call = call
            shown.head, shown.tail, shown.result = self.fmt.parts(call)
            shown.undecoded = False
            item = shown
        elif self.whole_calls and not flags & ENTRY and call.exit_ns is not None:
            # -z, -Z, -e status=: strace prints a call once its result is known, whole, so
            # the lines go in the order calls return (with their entry time for -t).
            self._seq += 1
            push(heap, (call.exit_ns, self._seq, _WHOLE, _Item(call, self.fmt.parts(call))))
            self._newest = max(self._newest, call.exit_ns)
            return
        elif former is not None and self.separate:
            # -ff: the thread's own file has its line up to ` <pid changed to N ...>`
            # (Separate); this one only `<... execve resumed>`.
            item = _Item(call, self.fmt.parts(call))
        else:
            item = _Item(call, None if flags & ENTRY else self.fmt.parts(call))
            if former is not None:
                item.tid = former
            if entry_ns < self._watermark:
                item.late = True
            else:
                self._seq += 1
                push(heap, (entry_ns, self._seq, _ENTRY, item))
        newest = entry_ns
        if flags & ENTRY:
            self._entered[tid] = item
        elif call.exit_ns is not None:
            self._seq += 1
            push(heap, (call.exit_ns, self._seq, _EXIT, item))
            newest = call.exit_ns
        elif call.unavailable:
            self._push(entry_ns, _EXIT, item)
        else:
            self._awaiting[tid] = item
        if newest > self._newest:
            self._newest = newest

    def _resolve(self, tid: int, t: int) -> None:
        """A call of ``tid`` that never returned ends here (its task exited or exec'd)."""
        item = self._awaiting.pop(tid, None)
        if item is not None:
            self._push(max(t, item.call.entry_ns), _EXIT, item)

    def _abandon(self, tid: int, t: int) -> None:
        """The task or the trace ended after a call's entry record, and its whole record
        never came (the engine sends one for every entry it showed; this is a safety net)."""
        item = self._entered.pop(tid, None)
        if item is not None:
            self._push(max(t, item.call.entry_ns), _EXIT, item)

    def _flush(self, limit: int | None) -> None:
        heap, pop = self._heap, heapq.heappop
        while heap and (limit is None or heap[0][0] < limit):
            t, _seq, kind, obj = pop(heap)
            if kind == _ENTRY:
                assert isinstance(obj, _Item)
                after = heap[0] if heap else None
                if (
                    after is not None
                    and after[3] is obj  # its own exit comes next: one whole line
                    and (limit is None or after[0] < limit)
                    and self.paint is None
                ):
                    pop(heap)
                    self._write_whole(obj, t)
                    t = after[0]
                else:
                    self._write_entry(obj, t)
            elif kind == _EXIT:
                assert isinstance(obj, _Item)
                self._write_exit(obj, t)
            elif kind == _WHOLE:
                assert isinstance(obj, _Item)
                self._write_whole(obj, obj.call.entry_ns)
            else:
                assert not isinstance(obj, _Item)
                self._write_line(obj)
            if t > self._watermark:
                self._watermark = t

    # -- writing ------------------------------------------------------------------------------

    def _prefix(self, tid: int) -> str:
        mode = self.prefix_mode
        if mode == "bracket" and len(self._live) <= 1:
            return ""
        prefix = self._prefixes.get(tid)
        if prefix is None:
            if mode == "bracket":
                prefix = f"[pid {tid:5d}] "
            elif mode == "column":
                prefix = f"{tid:<5d} "
            else:
                prefix = ""
            if len(self._prefixes) >= _CACHE_SIZE:
                self._prefixes.clear()
            self._prefixes[tid] = prefix
        return prefix

    def _enter(self, tid: int) -> None:
        """``tid`` shows up in the printed trace (a new task: say so, like strace)."""
        if tid in self._live:
            return
        self._live[tid] = None
        self._repeats.clear()  # a prefix may change: "[pid N] " once two tasks show
        if self.root is None:
            self.root = tid
        elif self.follow and not self.quiet_attach:
            self._message(f"Process {tid} attached")

    def _personality(self, call: Call) -> None:
        """strace's ``[ Process PID=N runs in 32 bit mode. ]`` before the first call of a
        process in another ABI than its last one (``int $0x80`` in a 64-bit program), on
        stderr as strace writes it (not in a -o file), unless quiet (-q, or -o with a command).
        """
        self._arch = call.arch
        if self._arch_of.get(call.pid, "x86_64") == call.arch:
            return
        self._arch_of[call.pid] = call.arch
        if not self.quiet_personality:
            mode = {"x86_64": "64 bit", "i386": "32 bit"}.get(call.arch, call.arch)
            self._notice(f"[ Process PID={call.pid} runs in {mode} mode. ]")

    def _message(self, text: str) -> None:
        self._notice(f"splitpriv: {text}")

    def _notice(self, line: str) -> None:
        if self.stderr is self.out:
            self._close_open()
            self.write((self.paint("message", line) if self.paint else line) + "\n")
        else:
            self.stderr.write(line + "\n")
            self.stderr.flush()

    def _close_open(self) -> None:
        if self._open is not None:
            self.write(self.paint("unfinished", _UNFINISHED) if self.paint else _UNFINISHED)
            self.write("\n")
            self._open = None

    def _pad(self, length: int) -> str:
        return self._pads[self.column - length] if length < self.column else ""

    def _finish_line(self, length: int, result: str, failed: bool) -> str:
        """What follows the closing parenthesis: `` ``, padding, ``= result``, newline."""
        paint = self.paint
        if paint is not None:
            kind = "error" if failed else "injected" if result.endswith("(INJECTED)") else ""
            result = paint(kind, result) if kind else result
        if not result:  # (a call we detached from: the line ends at `<detached ...>`)
            return "\n"
        return " " + self._pad(length + 1) + "= " + result + "\n"

    def _write_now(self, call: Call) -> None:
        """Single task: the whole line at once."""
        if call.arch != self._arch:
            self._personality(call)
        tid = call.tid
        if tid not in self._live:
            self._enter(tid)
        head, tail, result = self.fmt.parts(call)
        prefix = self._prefix(tid)
        stamp = self.clock.stamp(call.entry_ns) if self.clock.enabled else ""
        paint = self.paint
        if paint is None:
            text = prefix + stamp + head + tail
            line = text + self._finish_line(len(text), result, False)
            self.write(line)
            if not stamp and not call.flags and not call.memory and not call.faults:
                if self.fmt.cacheable:
                    self._remember(call, line)
        else:
            length = len(prefix) + len(stamp) + len(head) + len(tail)
            self.write(
                paint("prefix", prefix)
                + paint("time", stamp)
                + self._painted_head(head)
                + tail
                + self._finish_line(length, result, call.failed)
            )
        exit_ns = call.exit_ns if call.exit_ns is not None else call.entry_ns
        if exit_ns > self._watermark:
            self._watermark = exit_ns

    def _remember(self, call: Call, line: str) -> None:
        """Keep the line of a call printed alone, for its repeats (:meth:`print_repeats`)."""
        repeats = self._repeats
        if len(repeats) >= _CACHE_SIZE:
            repeats.clear()
        repeats[(call.tid, call.nr, call.arch, call.args, call.retval)] = line

    def _painted_head(self, head: str) -> str:
        assert self.paint is not None
        name, paren, rest = head.partition("(")
        return self.paint("name", name) + paren + rest

    def _decode(self, item: _Item) -> None:
        item.head, item.tail, item.result = self.fmt.parts(item.call)
        item.undecoded = False

    def _write_entry(self, item: _Item, t: int) -> None:
        self._close_open()
        if item.call.arch != self._arch:
            self._personality(item.call)
        self._enter(item.tid)
        if item.undecoded:  # an entry record printed before its whole record came
            self._decode(item)
        head = item.head
        prefix = self._prefix(item.tid)
        stamp = self.clock.stamp(t) if self.clock.enabled else ""
        if self.paint is None:
            self.write(prefix + stamp + head)
        else:
            paint = self.paint
            self.write(paint("prefix", prefix) + paint("time", stamp) + self._painted_head(head))
        self._open = item
        self._open_col = len(prefix) + len(stamp) + len(head)

    def _write_whole(self, item: _Item, t: int) -> None:
        """A call whose entry and exit points come one after the other: what
        :meth:`_write_entry` and then :meth:`_write_exit` would write, in one go."""
        self._close_open()
        call = item.call
        if call.arch != self._arch:
            self._personality(call)
        tid = call.tid
        if tid not in self._live:
            self._enter(tid)
        if item.undecoded:
            self._decode(item)
        text = self._prefix(tid) + (self.clock.stamp(t) if self.clock.enabled else "")
        text += item.head + item.tail
        child = self._child_shown(call)
        self.write(text + self._finish_line(len(text), item.result, False))
        if child is not None and not self.quiet_attach:
            self._message(f"Process {child} attached")

    def _child_shown(self, call: Call) -> int | None:
        """The task a call made, if it is new to the printed trace (it counts from here)."""
        retval = call.retval
        if self.follow and retval and retval > 0 and call.name in CHILD_CREATORS:
            if retval not in self._live and retval not in self._printed_exits:
                self._live[retval] = None
                self._repeats.clear()
                return retval
        return None

    def _write_exit(self, item: _Item, t: int) -> None:
        call = item.call
        if item.undecoded:  # (an entry record whose whole record never came)
            self._decode(item)
        child = self._child_shown(call)
        paint = self.paint
        if item.late:
            self._close_open()
            self._enter(call.tid)
            head, tail, result = item.head, item.tail, item.result
            prefix = self._prefix(call.tid)
            stamp = self.clock.stamp(call.entry_ns) if self.clock.enabled else ""
            length = len(prefix) + len(stamp) + len(head) + len(tail)
            if paint is None:
                body = prefix + stamp + head + tail
            else:
                body = (
                    paint("prefix", prefix) + paint("time", stamp) + self._painted_head(head) + tail
                )
            self.write(body + self._finish_line(length, result, call.failed))
        elif self._open is item:
            length = self._open_col + len(item.tail)
            self.write(item.tail + self._finish_line(length, item.result, call.failed))
            self._open = None
        else:
            self._close_open()
            self._enter(call.tid)
            prefix = self._prefix(call.tid)
            stamp = self.clock.stamp(t) if self.clock.enabled else ""
            resumed = f"<... {call.name} resumed>"
            length = len(prefix) + len(stamp) + len(resumed) + len(item.tail)
            if paint is not None:
                prefix, stamp = paint("prefix", prefix), paint("time", stamp)
                resumed = paint("unfinished", resumed)
            self.write(
                prefix
                + stamp
                + resumed
                + item.tail
                + self._finish_line(length, item.result, call.failed)
            )
        if child is not None and not self.quiet_attach:
            self._message(f"Process {child} attached")

    def _exit_hidden(self, record: Other) -> bool:
        """strace's rule: `+++ killed by SIG +++` follows `-e signal=` (even with -qq),
        `+++ exited with N +++` follows -qq (whatever `-e signal=` says)."""
        assert isinstance(record, Exit)
        killer = record.status.signal
        if killer is None:
            return self.quiet_exit
        return self.signals is not None and killer not in self.signals

    def _write_line(self, record: Other) -> None:
        tid = record.tid
        if isinstance(record, Exec):
            self._write_superseded(record)
            return
        self._close_open()
        is_exit = isinstance(record, Exit)
        if not (is_exit and self._exit_hidden(record)):
            self._enter(tid)
            prefix = self._prefix(tid)
            stamp = self.clock.stamp(record.time_ns) if self.clock.enabled else ""
            text = other_text(record)
            paint = self.paint
            if paint is not None:
                if isinstance(record, Exit):
                    bad = record.status.signal is not None or record.status.code != 0
                    text = paint("killed" if bad else "exit", text)
                else:
                    text = paint("signal", text)
                prefix, stamp = paint("prefix", prefix), paint("time", stamp)
            self.write(prefix + stamp + text + "\n")
        if is_exit:
            self._live.pop(tid, None)
            self._printed_exits.add(tid)
            self._repeats.clear()
        if record.time_ns > self._watermark:
            self._watermark = record.time_ns

    def _write_superseded(self, record: Exec) -> None:
        """The leader ``record.tid`` was replaced by the thread that made an execve: strace
        drops the leader and goes on with the thread under its pid, so that pid counts as one
        task from here on (`[pid N]` prefixes go when it is the only one)."""
        open_item = self._open
        if open_item is not None and open_item.tid == record.former_tid:
            # Nothing was printed since the thread's execve began: strace ends that line so.
            self.write(f" <pid changed to {record.tid} ...>\n")
            self._open = None
        else:
            self._close_open()
        self._live.pop(record.former_tid, None)
        self._repeats.clear()
        if not self.quiet_superseded:
            self._enter(record.tid)
            prefix = self._prefix(record.tid)
            stamp = self.clock.stamp(record.time_ns) if self.clock.enabled else ""
            text = other_text(record)
            if self.paint is not None:
                prefix, stamp = self.paint("prefix", prefix), self.paint("time", stamp)
                text = self.paint("exit", text)
            self.write(prefix + stamp + text + "\n")
        if record.time_ns > self._watermark:
            self._watermark = record.time_ns

    def pid_changed(self, call: Call) -> None:
        """-ff: the execve ``call`` this file's task began returned as the leader's pid,
        ``call.tid``: its first half is the last line here, as strace ends it."""
        with self.lock:
            self._flush(None)
            self._close_open()
            head, _, _ = self.fmt.parts(call)
            stamp = self.clock.stamp(call.entry_ns) if self.clock.enabled else ""
            self.write(f"{stamp}{head} <pid changed to {call.tid} ...>\n")


class Ticker:
    """A daemon thread that calls ``tick()`` on a trace every ``interval`` seconds."""

    def __init__(self, tick: Callable[[], None], interval: float) -> None:
        self._tick = tick
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="splitpriv-trace-ticker", daemon=True
        )

    def __enter__(self) -> Ticker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._tick()
            except (BrokenPipeError, OSError):
                return


def isatty(out: TextIO) -> bool:
    """Whether ``out`` is a terminal (False for anything that cannot say)."""
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def color_system(out: TextIO, when: str) -> str | None:
    """The colour system for ``--color WHEN`` on ``out`` (None: no colour). "auto" colours a
    terminal only, and honours NO_COLOR and TERM=dumb through rich's detection."""
    if when == "never":
        return None
    if when == "auto" and not isatty(out):
        return None  # a file or a pipe: no need to ask rich (or to import it)
    from rich.console import Console

    console = Console(file=out, force_terminal=True if when == "always" else None)
    if when == "always":
        return console.color_system or "standard"
    if not console.is_terminal or os.environ.get("NO_COLOR"):
        return None
    return console.color_system


__all__ = [
    "HOLDBACK_NS",
    "Clock",
    "LineFormat",
    "Paint",
    "TextTrace",
    "Ticker",
    "color_system",
    "duration",
    "exit_text",
    "fraction",
    "isatty",
    "other_text",
]
