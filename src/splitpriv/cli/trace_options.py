"""The options of ``splitpriv trace``: strace's spellings and meanings, parsed like strace does.

strace parses its command line with getopt: short options cluster (``-fft``, ``-s64``,
``-o/tmp/x``), long ones take ``--name=value`` or ``--name value`` and may be abbreviated to a
unique prefix, and options stop at the first word that is not one (the traced command and its
own options follow). This module does the same by hand, from one table of :class:`Opt`, so that
every mistake gets one clear line and the nearest valid spelling (:class:`UsageError`) and the
help text is generated from the same table.

``-e`` expressions (``trace=``, ``signal=``, ``status=``, ``inject=``, ``fault=``, ``quiet=``,
``decode-fds=``) are parsed here into plain sets; nothing here starts a process.
"""

from __future__ import annotations

import errno as errno_module
import re
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

from splitpriv.nearest import did_you_mean
from splitpriv.syscalls import classes, render, table
from splitpriv.syscalls.layout import DEFAULT_COLUMN
from splitpriv.syscalls.siginfo import signal_names, signal_number

STATUSES: Final = ("successful", "failed", "unfinished", "unavailable", "detached")
SORT_KEYS: Final[dict[str, str]] = {
    "time": "time",
    "time_percent": "time",
    "time-percent": "time",
    "time_total": "time",
    "time-total": "time",
    "total_time": "time",
    "total-time": "time",
    "min-time": "min-time",
    "min_time": "min-time",
    "shortest": "min-time",
    "time_min": "min-time",
    "time-min": "min-time",
    "max-time": "max-time",
    "max_time": "max-time",
    "longest": "max-time",
    "time_max": "max-time",
    "time-max": "max-time",
    "avg-time": "avg-time",
    "avg_time": "avg-time",
    "time_avg": "avg-time",
    "time-avg": "avg-time",
    "calls": "calls",
    "count": "calls",
    "errors": "errors",
    "error": "errors",
    "name": "name",
    "syscall": "name",
    "syscall_name": "name",
    "syscall-name": "name",
    "nothing": "nothing",
    "none": "nothing",
}
# Digits after the decimal point for each precision strace accepts.
PRECISIONS: Final[dict[str, int]] = {"s": 0, "ms": 3, "us": 6, "ns": 9}
COLOR_CHOICES: Final = ("auto", "always", "never")


class UsageError(Exception):
    """A command line that cannot be run: one line of text for the user, exit status 2."""


# --- what the command line asks for --------------------------------------------------------


class When(NamedTuple):
    """strace's ``when=FIRST[..LAST][+[STEP]]``: which invocations (counted from 1) an
    injection applies to."""

    first: int
    last: int | None = None
    step: int | None = None  # None: FIRST alone (or FIRST..LAST, step 1)

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < self.first:
            return False
        if self.last is not None and n > self.last:
            return False
        if self.step is None:
            return self.last is not None or n == self.first
        return (n - self.first) % self.step == 0


class Inject(NamedTuple):
    """One ``-e inject=SET:error=E|retval=N[:when=W]`` (or ``fault=``)."""

    names: frozenset[str]
    errno: int | None = None
    retval: int | None = None
    when: When | None = None


class TraceOptions:
    """Everything ``splitpriv trace`` was asked to do, checked and normalised (a plain
    class: the parser fills in one at each start, and a dataclass costs half a millisecond
    of start-up to define)."""

    command: list[str]
    pid: int | None = None
    follow: bool = False
    separate: bool = False  # -ff with -o: one file per process, FILE.PID
    output: str | None = None
    append: bool = False
    trace: frozenset[str] | None = None  # None: every syscall
    signals: frozenset[int] | None = None  # None: every signal
    statuses: frozenset[str] | None = None  # None: every status
    summary: str = "none"  # "none", "only" (-c) or "also" (-C)
    sort_by: str = "time"
    syscall_times: int | None = None  # -T: digits after the point
    absolute: str | None = None  # -t/-tt/-ttt: "time" or "unix"
    absolute_digits: int = 0
    relative: int | None = None  # -r: digits after the point
    string_limit: int = 32
    decode_fds: bool = False
    quiet_attach: bool = False
    quiet_exit: bool = False
    quiet_superseded: bool = False  # no "+++ superseded by execve in pid N +++"
    quiet_personality: bool = False  # no "[ Process PID=N runs in 32 bit mode. ]"
    quiet_given: bool = False  # -e quiet=SET was given: no -q by default
    syscall_limit: int | None = None
    injects: list[Inject]
    column: int = DEFAULT_COLUMN
    env_set: dict[str, str]
    env_unset: list[str]
    mechanism: str = "ptrace"
    json: bool = False
    cpu: str = "same"
    color: str = "auto"
    help: bool = False
    version: bool = False
    warnings: list[str]

    def __init__(self) -> None:
        self.command = []
        self.injects = []
        self.env_set = {}
        self.env_unset = []
        self.warnings = []


# --- the option table ----------------------------------------------------------------------

NONE, REQUIRED, OPTIONAL = 0, 1, 2

Apply = Callable[[TraceOptions, "str | None", "Parser"], None]


class Opt(NamedTuple):
    """One option: its spellings, whether it takes a value, what it does, its help line."""

    short: str | None
    long: str | None
    takes: int
    apply: Apply
    help: str
    metavar: str = ""
    group: str = "Tracing"


class Unsupported(NamedTuple):
    """An strace option splitpriv does not implement, and why (said when it is used)."""

    short: str | None
    long: str | None
    takes: int
    what: str


class Parser:
    """Per-parse state that several options share (counts of -f, -t, -q, -y...)."""

    def __init__(self, mechanisms: Sequence[str], cpus: Sequence[str]) -> None:
        self.mechanisms = list(mechanisms)
        self.cpus = list(cpus)
        self.follow_count = 0
        self.separately = False
        self.t_count = 0
        self.q_count = 0
        self.z_flags: list[str] = []
        self.pids: list[int] = []
        self.summary_flags: list[str] = []
        self.sort_given = False
        self.times_given = False
        self.wall_clock = False


def _integer(value: str, what: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        number = int(value, 0)
    except ValueError:
        raise UsageError(f"invalid {what} '{value}' (not a number)") from None
    if number < minimum:
        raise UsageError(f"invalid {what} '{value}' (must be at least {minimum})")
    if maximum is not None and number > maximum:
        raise UsageError(f"invalid {what} '{value}' (must be at most {maximum})")
    return number


def _choice(value: str, choices: Sequence[str], what: str) -> str:
    if value in choices:
        return value
    raise UsageError(
        f"invalid {what} '{value}'{did_you_mean(value, choices)}; one of: {', '.join(choices)}"
    )


def _precision(value: str | None, what: str, default: int = 6) -> int:
    if value is None:
        return default
    name = value.removeprefix("precision:")
    if name not in PRECISIONS:
        raise UsageError(
            f"invalid {what} precision '{value}'{did_you_mean(name, list(PRECISIONS))}; "
            "one of: s, ms, us, ns"
        )
    return PRECISIONS[name]


# Option actions ---------------------------------------------------------------------------


def _follow(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.follow_count += 1


def _follow_long(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.follow_count = max(p.follow_count, 1)


def _separately(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.separately = True


def _output(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    if v.startswith(("|", "!")):
        raise UsageError(f"-o '{v}': piping the trace into a command is not supported")
    o.output = v


def _append(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.append = True


def _expr(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    apply_expression(o, v)


def _qualifier(key: str) -> Apply:
    def apply(o: TraceOptions, v: str | None, p: Parser) -> None:
        assert v is not None
        apply_expression(o, f"{key}={v}")

    return apply


def _quiet(o: TraceOptions, v: str | None, p: Parser) -> None:
    if v is None:
        p.q_count += 1
    else:
        apply_expression(o, f"quiet={v}")


def _successful(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.z_flags.append("-z")
    o.statuses = frozenset({"successful"})


def _failed(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.z_flags.append("-Z")
    o.statuses = frozenset({"failed"})


def _summary_only(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.summary_flags.append("-c")
    o.summary = "only"


def _summary_also(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.summary_flags.append("-C")
    o.summary = "also"


def _sort(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    if v not in SORT_KEYS:
        keys = ["time", "min-time", "max-time", "avg-time", "calls", "errors", "name", "nothing"]
        raise UsageError(
            f"invalid sortby '{v}'{did_you_mean(v, list(SORT_KEYS))}; one of: {', '.join(keys)}"
        )
    p.sort_given = True
    o.sort_by = SORT_KEYS[v]


def _wall_clock(o: TraceOptions, v: str | None, p: Parser) -> None:
    # The summary's times are always wall-clock latencies here (see docs/trace.md); the flag is
    # kept only to refuse it without a summary, as strace does.
    p.wall_clock = True


def _syscall_times(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.times_given = True
    o.syscall_times = _precision(v, "-T")


def _t(o: TraceOptions, v: str | None, p: Parser) -> None:
    p.t_count += 1


def _absolute(o: TraceOptions, v: str | None, p: Parser) -> None:
    if v is None:
        p.t_count = max(p.t_count, 1)
        return
    fmt, digits = "time", 0
    for part in v.split(","):
        key, _, value = part.rpartition(":")
        if key == "format" or (not key and value in ("none", "time", "unix")):
            fmt = _choice(value, ("none", "time", "unix"), "timestamp format")
        elif key == "precision" or (not key and value in PRECISIONS):
            digits = _precision(value, "timestamp")
        else:
            raise UsageError(f"invalid --absolute-timestamps '{v}'; e.g. time,us or unix,ns")
    p.t_count = 0
    o.absolute = None if fmt == "none" else fmt
    o.absolute_digits = digits


def _relative(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.relative = _precision(v, "-r")


def _strsize(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    o.string_limit = _integer(v, "-s string limit", maximum=render.STRING_LIMIT_MAX)


def _decode_fds(o: TraceOptions, v: str | None, p: Parser) -> None:
    if v is None:
        o.decode_fds = True
    else:
        apply_expression(o, f"decode-fds={v}")


def _attach(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    for word in re.split(r"[,\s]+", v.strip()):
        if not word:
            continue
        pid = _integer(word, "process id", minimum=1)
        p.pids.append(pid)
    if len(p.pids) > 1:
        raise UsageError(
            "only one -p PID is supported (attach to one process; with -f its new children "
            "and threads are followed)"
        )
    o.pid = p.pids[0]


def _column(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    o.column = _integer(v, "-a column")


def _env(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    name, equals, value = v.partition("=")
    if not name:
        raise UsageError(f"invalid -E '{v}' (VAR=VAL or VAR)")
    if equals:
        o.env_set[name] = value
        if name in o.env_unset:
            o.env_unset.remove(name)
    else:
        o.env_set.pop(name, None)
        o.env_unset.append(name)


def _syscall_limit(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    o.syscall_limit = _integer(v, "--syscall-limit", minimum=1)


def _mechanism(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    o.mechanism = _choice(v, [*p.mechanisms, "auto"], "mechanism")


def _json(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.json = True


def _cpu(o: TraceOptions, v: str | None, p: Parser) -> None:
    assert v is not None
    o.cpu = _choice(v, p.cpus, "--cpu")


def _color(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.color = "always" if v is None else _choice(v, COLOR_CHOICES, "--color")


def _help(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.help = True


def _version(o: TraceOptions, v: str | None, p: Parser) -> None:
    o.version = True


OPTIONS: Final[tuple[Opt, ...]] = (
    Opt(
        "f",
        "follow-forks",
        NONE,
        _follow,
        "follow forks, vforks and clones (-ff with -o: one file per process, FILE.PID)",
        group="Tracing",
    ),
    Opt(
        None,
        "output-separately",
        NONE,
        _separately,
        "with -f and -o: one file per process",
        group="Output",
    ),
    Opt(
        "p",
        "attach",
        REQUIRED,
        _attach,
        "attach to the running process PID (Ctrl-C detaches)",
        "PID",
    ),
    Opt(
        "E",
        "env",
        REQUIRED,
        _env,
        "set VAR=VAL (or remove VAR) in the command's environment",
        "VAR=VAL",
        group="Startup",
    ),
    Opt(
        "e",
        None,
        REQUIRED,
        _expr,
        "trace=SET, signal=SET, status=SET, inject=SET:error=E|"
        "retval=N[:when=W], fault=..., quiet=SET, decode-fds=SET",
        "EXPR",
        group="Filtering",
    ),
    Opt(
        None,
        "trace",
        REQUIRED,
        _qualifier("trace"),
        "same as -e trace=SET",
        "SET",
        group="Filtering",
    ),
    Opt(
        None,
        "signal",
        REQUIRED,
        _qualifier("signal"),
        "same as -e signal=SET",
        "SET",
        group="Filtering",
    ),
    Opt(
        None,
        "status",
        REQUIRED,
        _qualifier("status"),
        "same as -e status=SET",
        "SET",
        group="Filtering",
    ),
    Opt(
        None,
        "inject",
        REQUIRED,
        _qualifier("inject"),
        "same as -e inject=...",
        "SET:...",
        group="Tampering",
    ),
    Opt(
        None,
        "fault",
        REQUIRED,
        _qualifier("fault"),
        "same as -e fault=... (default ENOSYS)",
        "SET:...",
        group="Tampering",
    ),
    Opt(
        "z",
        "successful-only",
        NONE,
        _successful,
        "print only syscalls that succeeded",
        group="Filtering",
    ),
    Opt("Z", "failed-only", NONE, _failed, "print only syscalls that failed", group="Filtering"),
    Opt(
        None,
        "syscall-limit",
        REQUIRED,
        _syscall_limit,
        "stop after N traced syscalls (detach with -p)",
        "N",
        group="Filtering",
    ),
    Opt(
        "o",
        "output",
        REQUIRED,
        _output,
        "write the trace to FILE instead of stderr",
        "FILE",
        group="Output",
    ),
    Opt("A", "output-append-mode", NONE, _append, "append to the -o FILE", group="Output"),
    Opt(
        "a",
        "columns",
        REQUIRED,
        _column,
        "align results at COLUMN (default 40)",
        "COLUMN",
        group="Output",
    ),
    Opt(
        "q",
        "quiet",
        OPTIONAL,
        _quiet,
        "-q: no attach/detach messages; -qq: no exit messages either",
        group="Output",
    ),
    Opt(
        "r",
        "relative-timestamps",
        OPTIONAL,
        _relative,
        "print the time since the previous line ([=s|ms|us|ns])",
        group="Output",
    ),
    Opt(
        "s",
        "string-limit",
        REQUIRED,
        _strsize,
        "print at most N bytes of strings (default 32)",
        "N",
        group="Output",
    ),
    Opt(
        "t",
        None,
        NONE,
        _t,
        "-t: time of day; -tt: with microseconds; -ttt: UNIX time",
        group="Output",
    ),
    Opt(
        None,
        "absolute-timestamps",
        OPTIONAL,
        _absolute,
        "[format:]time|unix|none[,[precision:]s|ms|us|ns]",
        group="Output",
    ),
    Opt(
        "T",
        "syscall-times",
        OPTIONAL,
        _syscall_times,
        "print the time spent in each syscall ([=s|ms|us|ns])",
        group="Output",
    ),
    Opt(
        "y",
        "decode-fds",
        OPTIONAL,
        _decode_fds,
        "print the path of each file descriptor",
        group="Output",
    ),
    Opt(
        "c",
        "summary-only",
        NONE,
        _summary_only,
        "count time, calls and errors per syscall and print a summary table only",
        group="Statistics",
    ),
    Opt(
        "C", "summary", NONE, _summary_also, "like -c, and print the trace too", group="Statistics"
    ),
    Opt(
        "S",
        "summary-sort-by",
        REQUIRED,
        _sort,
        "sort the summary by time, min-time, max-time, avg-time, calls, errors, name or nothing",
        "SORTBY",
        group="Statistics",
    ),
    Opt(
        "w",
        "summary-wall-clock",
        NONE,
        _wall_clock,
        "summarise wall-clock latency (always the case here)",
        group="Statistics",
    ),
    Opt(
        "m",
        "mechanism",
        REQUIRED,
        _mechanism,
        "how to intercept: a mechanism name or auto (default ptrace)",
        "NAME",
        group="splitpriv",
    ),
    Opt(
        None,
        "json",
        NONE,
        _json,
        "print JSON lines (schema version 1, see docs/trace.md)",
        group="splitpriv",
    ),
    Opt(
        None,
        "cpu",
        REQUIRED,
        _cpu,
        "where the engine and tracees run: same, spread or none (default same)",
        "WHERE",
        group="splitpriv",
    ),
    Opt(
        None,
        "color",
        OPTIONAL,
        _color,
        "colour the trace: auto (on a terminal), always or never",
        "WHEN",
        group="splitpriv",
    ),
    Opt("h", "help", NONE, _help, "print this help", group="Miscellaneous"),
    Opt("V", "version", NONE, _version, "print the version", group="Miscellaneous"),
)

UNSUPPORTED: Final[tuple[Unsupported, ...]] = (
    Unsupported("b", "detach-on", REQUIRED, "detaching on execve"),
    Unsupported("D", "daemonize", OPTIONAL, "running the tracer as a daemon"),
    Unsupported("d", "debug", NONE, "strace's debug output"),
    Unsupported("I", "interruptible", REQUIRED, "choosing which signals interrupt the tracer"),
    Unsupported("i", "instruction-pointer", NONE, "printing the instruction pointer"),
    Unsupported("k", "stack-traces", OPTIONAL, "stack traces"),
    Unsupported("n", "syscall-number", NONE, "printing syscall numbers"),
    Unsupported("O", "summary-syscall-overhead", REQUIRED, "a tracing overhead for -c"),
    Unsupported("P", "trace-path", REQUIRED, "filtering by path"),
    Unsupported("U", "summary-columns", REQUIRED, "choosing the summary's columns"),
    Unsupported("u", "user", REQUIRED, "running the command as another user"),
    Unsupported("v", "no-abbrev", NONE, "unabbreviated structures"),
    Unsupported("x", "strings-in-hex", OPTIONAL, "strings in hex"),
    Unsupported("X", "const-print-style", REQUIRED, "other styles of constants"),
    Unsupported("Y", "decode-pids", OPTIONAL, "decoding pids"),
    Unsupported(None, "seccomp-bpf", NONE, "strace's own seccomp filter; -m seccomp-trace is ours"),
    Unsupported(None, "tips", OPTIONAL, "tips"),
    Unsupported(None, "kvm", REQUIRED, "KVM exit reasons"),
    Unsupported(None, "secontext", OPTIONAL, "SELinux contexts"),
    Unsupported(None, "stack-trace-frame-limit", REQUIRED, "stack traces"),
    Unsupported(None, "abbrev", REQUIRED, "abbreviation control"),
    Unsupported(None, "verbose", REQUIRED, "verbose structures"),
    Unsupported(None, "raw", REQUIRED, "raw arguments"),
    Unsupported(None, "read", REQUIRED, "dumping data read"),
    Unsupported(None, "write", REQUIRED, "dumping data written"),
    Unsupported(None, "strings-in-hex", OPTIONAL, "strings in hex"),
)

_SHORT: Final = {o.short: o for o in OPTIONS if o.short}
_LONG: Final = {o.long: o for o in OPTIONS if o.long}
_SHORT_UNSUPPORTED: Final = {u.short: u for u in UNSUPPORTED if u.short}
_LONG_UNSUPPORTED: Final = {u.long: u for u in UNSUPPORTED if u.long}


# --- -e expressions ------------------------------------------------------------------------

_QUALIFIERS: Final[dict[str, str]] = {
    "trace": "trace",
    "t": "trace",
    "signal": "signal",
    "signals": "signal",
    "s": "signal",
    "status": "status",
    "inject": "inject",
    "fault": "fault",
    "quiet": "quiet",
    "silent": "quiet",
    "silence": "quiet",
    "q": "quiet",
    "decode-fds": "decode-fds",
    "decode-fd": "decode-fds",
}
_UNSUPPORTED_QUALIFIERS: Final[dict[str, str]] = {
    "abbrev": "abbreviation control",
    "a": "abbreviation control",
    "verbose": "verbose structures",
    "v": "verbose structures",
    "raw": "raw arguments",
    "x": "raw arguments",
    "read": "dumping data read",
    "reads": "dumping data read",
    "r": "dumping data read",
    "write": "dumping data written",
    "writes": "dumping data written",
    "w": "dumping data written",
    "kvm": "KVM exit reasons",
    "trace-fds": "filtering by descriptor",
}


_QUIET_WORDS: Final = ("attach", "exit", "path-resolution", "personality", "thread-execve")
_QUIET_ALIASES: Final = {"exits": "exit", "superseded": "thread-execve"}


def apply_expression(o: TraceOptions, expr: str) -> None:
    """One ``-e`` expression: ``QUALIFIER=VALUE``, or a bare value meaning ``trace=VALUE``."""
    key, equals, value = expr.partition("=")
    if not equals:
        key, value = "trace", expr
    if key in _UNSUPPORTED_QUALIFIERS:
        raise UsageError(f"-e {key}=... ({_UNSUPPORTED_QUALIFIERS[key]}) is not supported")
    if key not in _QUALIFIERS:
        known = sorted(set(_QUALIFIERS) - {"t", "s", "q", "signals", "silent", "silence"})
        raise UsageError(
            f"invalid -e qualifier '{key}'{did_you_mean(key, known)}; one of: {', '.join(known)}"
        )
    kind = _QUALIFIERS[key]
    if kind == "trace":
        o.trace = parse_syscall_set(value)
    elif kind == "signal":
        o.signals = parse_signal_set(value)
    elif kind == "status":
        o.statuses = parse_status_set(value)
    elif kind in ("inject", "fault"):
        o.injects.append(parse_inject(value, fault=kind == "fault"))
    elif kind == "quiet":
        # strace's aliases name the same message: `!superseded` leaves out thread-execve too.
        invert, words = value.startswith("!"), value.removeprefix("!").split(",")
        canonical = ",".join(_QUIET_ALIASES.get(word, word) for word in words)
        quiet = _parse_set(("!" if invert else "") + canonical, _QUIET_WORDS, "quiet")
        o.quiet_attach = quiet is None or "attach" in quiet
        o.quiet_exit = quiet is None or "exit" in quiet
        o.quiet_superseded = quiet is None or "thread-execve" in quiet
        o.quiet_personality = quiet is None or "personality" in quiet
        o.quiet_given = True
    else:
        fds = _parse_set(value, ("path", "socket", "dev", "pidfd", "signalfd"), "decode-fds")
        o.decode_fds = fds is None or bool(fds)


def _parse_set(value: str, allowed: Sequence[str], what: str) -> frozenset[str] | None:
    """``[!]a,b,c`` over a fixed vocabulary, with all and none; None means all."""
    invert = value.startswith("!")
    words = [w for w in value.removeprefix("!").split(",") if w]
    chosen: set[str] = set()
    everything = False
    for word in words:
        if word == "all":
            everything = True
        elif word == "none":
            continue
        elif word in allowed:
            chosen.add(word)
        else:
            raise UsageError(
                f"invalid {what} '{word}'{did_you_mean(word, allowed)}; "
                f"one of: {', '.join(allowed)}"
            )
    if everything:
        return frozenset() if invert else None
    if invert:
        return frozenset(allowed) - chosen
    return frozenset(chosen)


def parse_status_set(value: str) -> frozenset[str] | None:
    return _parse_set(value, STATUSES, "status")


def parse_signal_set(value: str) -> frozenset[int] | None:
    """``-e signal=SET``: names (with or without SIG), numbers, all, none, a leading !."""
    invert = value.startswith("!")
    chosen: set[int] = set()
    everything = False
    words = value.removeprefix("!").split(",")
    if "" in words:
        raise UsageError("invalid signal ''")  # strace's words for an empty set or item
    for word in words:
        if word == "all":
            everything = True
            continue
        if word == "none":
            continue
        number = signal_number(word)
        if number is None:
            upper = word.upper()
            guess = upper if upper.startswith("SIG") else "SIG" + upper
            raise UsageError(f"invalid signal '{word}'{did_you_mean(guess, signal_names())}")
        chosen.add(number)
    every = frozenset(range(1, 65))
    if everything:
        return frozenset() if invert else None
    return every - chosen if invert else frozenset(chosen)


def parse_syscall_set(value: str) -> frozenset[str] | None:
    """``-e trace=SET`` as strace reads it; None means every syscall.

    SET is a comma list of names, ``all``, ``none``, classes (``%file``...), ``/regex`` and
    numbers (x86_64), each optionally prefixed with ``?`` (no error if it matches nothing),
    the whole list optionally prefixed with ``!`` (everything but these)."""
    invert = value.startswith("!")
    known = classes.known_names()
    chosen: set[str] = set()
    everything = False
    for raw_token in value.removeprefix("!").split(","):
        token = raw_token.strip()
        optional = token.startswith("?")
        token = token.removeprefix("?")
        if not token:
            raise UsageError("invalid system call ''")  # as strace says of an empty item
        if "@" in token:
            raise UsageError(
                f"invalid system call '{token}': personality suffixes (@64, @32) are not "
                "supported; a name covers both architectures"
            )
        if token == "all":
            everything = True
            continue
        if token == "none":
            continue
        matched: frozenset[str] | set[str]
        flag = classes.class_flag(token)
        if flag is not None:
            matched = classes.members(flag)
        elif token.startswith("/"):
            try:
                pattern = re.compile(token[1:])
            except re.error as exc:
                raise UsageError(f"invalid regular expression '{token[1:]}': {exc}") from None
            matched = {name for name in known if pattern.search(name)}
        elif token.isdigit():
            number = int(token)
            name = table("x86_64").name(number)
            if name.startswith("syscall_0x"):
                matched = set()
            else:
                matched = {name}
        elif token in known:
            matched = {token}
        elif token.startswith("%"):
            if optional:
                continue
            names = [*classes.CLASSES]
            raise UsageError(f"invalid syscall class '{token}'{did_you_mean(token, names)}")
        else:
            matched = set()
        if not matched and not optional:
            hint = did_you_mean(token, sorted(known))
            raise UsageError(f"invalid system call '{token}'{hint}")
        chosen |= matched
    if everything:
        return frozenset() if invert else None
    if invert:
        return known - chosen
    return frozenset(chosen)


_WHEN = re.compile(r"(\d+)(?:\.\.(\d+))?(?:\+(\d*))?")


def parse_when(value: str) -> When:
    match = _WHEN.fullmatch(value)
    if match is None:
        raise UsageError(f"invalid when='{value}' (FIRST[..LAST][+[STEP]], e.g. 3, 2+, 1+2, 2..5)")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else None
    plus = match.group(3)
    step = None if plus is None else int(plus or "1")
    if first < 1 or (last is not None and last < first) or step == 0:
        raise UsageError(f"invalid when='{value}' (counts start at 1, LAST >= FIRST, STEP >= 1)")
    return When(first, last, step)


def _errno(value: str) -> int:
    if value.isdigit():
        number = int(value)
        if not 1 <= number <= 4095:
            raise UsageError(f"invalid error={value} (1 to 4095)")
        return number
    code = getattr(errno_module, value.upper(), None)
    if not isinstance(code, int) or not value.upper().startswith("E"):
        names = [n for n in dir(errno_module) if n.startswith("E")]
        raise UsageError(f"invalid error='{value}'{did_you_mean(value.upper(), names)}")
    return code


def parse_inject(value: str, *, fault: bool = False) -> Inject:
    """``SET:error=ERRNO|retval=N[:when=EXPR]`` (``fault=``: error defaults to ENOSYS)."""
    what = "fault" if fault else "inject"
    set_text, _, rest = value.partition(":")
    names = parse_syscall_set(set_text)
    if names is None:
        names = classes.known_names()
    error: int | None = None
    retval: int | None = None
    when: When | None = None
    for part in (p for p in rest.split(":") if p) if rest else ():
        key, equals, arg = part.partition("=")
        if not equals:
            raise UsageError(f"-e {what}: invalid '{part}' (KEY=VALUE)")
        if key == "error":
            error = _errno(arg)
        elif key == "retval" and not fault:
            try:
                retval = int(arg, 0)
            except ValueError:
                raise UsageError(f"invalid retval='{arg}' (not a number)") from None
        elif key == "when":
            when = parse_when(arg)
        elif key in ("signal", "syscall", "delay_enter", "delay_exit", "poke_enter", "poke_exit"):
            raise UsageError(f"-e {what}: {key}= is not supported (error= and retval= are)")
        else:
            keys = ["error", "when"] if fault else ["error", "retval", "when"]
            hint = did_you_mean(key, keys).replace("'?)", "='?)")
            raise UsageError(f"-e {what}: unknown '{key}='{hint}")
    if error is not None and retval is not None:
        raise UsageError(f"-e {what}: error= and retval= cannot be combined")
    if error is None and retval is None:
        if not fault:
            raise UsageError(f"-e {what}={value}: give error=ERRNO or retval=N")
        error = errno_module.ENOSYS
    if not names:
        raise UsageError(f"-e {what}={value}: the set selects no syscall")
    return Inject(frozenset(names), error, retval, when)


# --- the command line ----------------------------------------------------------------------


def _long_match(name: str) -> Opt | Unsupported:
    """The option a (possibly abbreviated) long name means; UsageError when none or ambiguous."""
    if name in _LONG:
        return _LONG[name]
    if name in _LONG_UNSUPPORTED:
        return _LONG_UNSUPPORTED[name]
    every = sorted({*_LONG, *_LONG_UNSUPPORTED})
    candidates = [n for n in every if n.startswith(name)] if name else []
    if len(candidates) == 1:
        return _LONG.get(candidates[0]) or _LONG_UNSUPPORTED[candidates[0]]
    if len(candidates) > 1:
        shown = ", ".join(f"--{c}" for c in candidates[:6])
        more = ", ..." if len(candidates) > 6 else ""
        raise UsageError(f"option '--{name}' is ambiguous ({shown}{more})")
    raise UsageError(f"unrecognized option '--{name}'{did_you_mean(name, list(_LONG), '--')}")


def _refuse(option: Unsupported, spelling: str) -> UsageError:
    return UsageError(f"option {spelling} ({option.what}) is not supported by splitpriv trace")


def parse_args(
    argv: Sequence[str],
    *,
    mechanisms: Sequence[str] = ("ptrace",),
    cpus: Sequence[str] = ("same", "spread", "none"),
) -> TraceOptions:
    """``splitpriv trace``'s arguments (everything after ``trace``) as :class:`TraceOptions`.

    Raises :class:`UsageError` with one line for the user on any mistake."""
    o = TraceOptions()
    p = Parser(mechanisms, cpus)
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        if arg.startswith("--"):
            name, equals, value = arg[2:].partition("=")
            option = _long_match(name)
            spelling = f"--{option.long}"
            if isinstance(option, Unsupported):
                raise _refuse(option, spelling)
            if option.takes == NONE and equals:
                raise UsageError(f"option '{spelling}' doesn't allow an argument")
            given: str | None = value if equals else None
            if option.takes == REQUIRED and not equals:
                if i + 1 >= len(args):
                    raise UsageError(f"option '{spelling}' requires an argument")
                i += 1
                given = args[i]
            option.apply(o, given, p)
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                letter = arg[j]
                short = _SHORT.get(letter)
                if short is None:
                    if letter in _SHORT_UNSUPPORTED:
                        raise _refuse(_SHORT_UNSUPPORTED[letter], f"-{letter}")
                    hint = ""
                    if j == 1:
                        word = arg[1:].partition("=")[0]
                        hint = did_you_mean(word, list(_LONG), "--")
                    raise UsageError(f"invalid option -- '{letter}'{hint}")
                if short.takes == REQUIRED:
                    value = arg[j + 1 :]
                    if not value:
                        if i + 1 >= len(args):
                            raise UsageError(f"option requires an argument -- '{letter}'")
                        i += 1
                        value = args[i]
                    short.apply(o, value, p)
                    break
                short.apply(o, None, p)
                j += 1
        else:
            break
        i += 1
    o.command = args[i:]
    _finish(o, p)
    return o


def _finish(o: TraceOptions, p: Parser) -> None:
    """Counted options, and the combinations: errors for conflicts, strace's warnings for
    options that have no effect."""
    o.follow = p.follow_count > 0 or p.separately
    o.separate = (p.follow_count > 1 or p.separately) and o.output is not None
    if p.t_count:
        o.absolute = "unix" if p.t_count >= 3 else "time"
        o.absolute_digits = 0 if p.t_count == 1 else 6
    # strace: a command traced to `-o FILE` gets -q unless -q or -e quiet= was given, so the
    # "Process N attached" lines of followed children do not clutter the terminal.
    quiet_by_default = o.output is not None and bool(o.command) and not o.quiet_given
    o.quiet_attach = o.quiet_attach or p.q_count >= 1 or quiet_by_default
    o.quiet_exit = o.quiet_exit or p.q_count >= 2
    o.quiet_superseded = o.quiet_superseded or p.q_count >= 3  # -qqq is quiet=all
    o.quiet_personality = o.quiet_personality or p.q_count >= 1 or quiet_by_default
    if o.help or o.version:
        return
    if len(set(p.summary_flags)) > 1:
        raise UsageError("-c/--summary-only and -C/--summary cannot be combined")
    # strace's refusals and warnings, in its words and (for the warnings) its order.
    if p.follow_count > 1 and p.separately:
        raise UsageError("-ff and --output-separately cannot be provided simultaneously")
    if o.summary != "none" and (p.follow_count > 1 or p.separately):  # with -o or not
        raise UsageError(
            "(-c/--summary-only or -C/--summary) and -ff/--output-separately are mutually exclusive"
        )
    if p.wall_clock and o.summary == "none":
        raise UsageError(
            "-w/--summary-wall-clock must be given with (-c/--summary-only or -C/--summary)"
        )
    if o.summary == "only":
        useless = (
            ("-r/--relative-timestamps", o.relative is not None),
            ("-t/--absolute-timestamps", o.absolute is not None),
            ("-T/--syscall-times", p.times_given),
            ("-y/--decode-fds", o.decode_fds),
        )
        o.warnings += [f"{name} has no effect with -c/--summary-only" for name, on in useless if on]
    if p.sort_given and o.summary == "none":
        o.warnings.append(
            "-S/--summary-sort-by has no effect without (-c/--summary-only or -C/--summary)"
        )
    if p.separately and p.follow_count == 0 and o.output is None:
        # (not said of -ff, nor of -f --output-separately: strace 6.1 says nothing then)
        o.warnings.append("--output-separately has no effect without -o/--output")
    if o.append and o.output is None:
        o.warnings.append("-A/--output-append-mode has no effect without -o/--output")
    if len(p.z_flags) > 1:
        o.warnings.append(
            "Only the last of -z/--successful-only/-Z/--failed-only options will take effect. "
            "See status qualifier for more complex filters."
        )
    if o.command and o.pid is not None:
        raise UsageError("give either a command or -p PID, not both")
    if not o.command and o.pid is None:
        raise UsageError("must have PROG [ARGS] or -p PID")
    if o.pid is not None and (o.env_set or o.env_unset):
        raise UsageError("-E applies to a command that splitpriv starts, not to -p PID")


def help_text(prog: str = "splitpriv trace") -> str:
    """The ``--help`` text, generated from the option table."""
    lines = [
        f"usage: {prog} [OPTIONS] [--] PROG [ARGS]",
        f"   or: {prog} [OPTIONS] -p PID",
        "",
        "Trace the system calls of a command (or of a running process) and print them in",
        "strace's format. Options have strace's spellings and meanings.",
    ]
    groups: dict[str, list[Opt]] = {}
    for opt in OPTIONS:
        groups.setdefault(opt.group, []).append(opt)
    for group, opts in groups.items():
        lines += ["", f"{group}:"]
        for opt in opts:
            spell = []
            meta = f" {opt.metavar}" if opt.takes == REQUIRED and opt.metavar else ""
            if opt.short:
                spell.append(f"-{opt.short}{meta}")
            if opt.long:
                if opt.takes == REQUIRED:
                    spell.append(f"--{opt.long}={opt.metavar or 'VALUE'}")
                elif opt.takes == OPTIONAL:
                    spell.append(f"--{opt.long}[=...]")
                else:
                    spell.append(f"--{opt.long}")
            left = ", ".join(spell)
            if len(left) > 26:
                lines.append(f"  {left}")
                lines.append(f"  {'':26} {opt.help}")
            else:
                lines.append(f"  {left:26} {opt.help}")
    lines += [
        "",
        "Classes for -e trace=: " + ", ".join(c for c in classes.CLASSES),
        "See docs/trace.md for the JSON schema and every difference from strace.",
    ]
    return "\n".join(lines) + "\n"


__all__ = [
    "COLOR_CHOICES",
    "OPTIONS",
    "SORT_KEYS",
    "STATUSES",
    "Inject",
    "TraceOptions",
    "UsageError",
    "When",
    "apply_expression",
    "help_text",
    "parse_args",
    "parse_inject",
    "parse_signal_set",
    "parse_status_set",
    "parse_syscall_set",
    "parse_when",
]
