"""Benchmarks: every mechanism, side by side with strace, python-ptrace and raw C floors.

In a nutshell::

    from splitpriv import benchmarks as b
    cases = b.plan(["null_syscall", "find"], with_peers=["strace"], profile=b.PROFILES["quick"])
    results = b.measure(cases, b.PROFILES["quick"])
    for row in b.table(results):
        print(row.workload, row.label, row.time, row.vs_untraced, row.vs_strace)

A *workload* is a program run from start to end (a getppid loop, ``find`` over a tree the
benchmark creates, ...); a *peer* is one way of running it: untraced, under a splitpriv mechanism,
under ``strace`` or python-ptrace's ``strace.py``, or under the smallest C supervisor that does
what a mechanism does (``raw``, the floor). A *case* is one peer on one workload. Every value is
the time of one whole run divided by the units it did (calls, loop iterations, spawns, or 1 for a
program run), so startup is included and amortised over the run; ``units`` says over how much.

:func:`measure` runs the cases of a plan in rounds (each round runs every case once, in rotated
order), so slow drift of the machine hits every peer alike and ratios are same-run. The bench/
folder registers the same cases with pyperf instead (``Case.func`` is a pyperf time function).
Results are plain data: :func:`table` (ratios, fastest), :func:`markdown`, :func:`to_suite` and
:func:`from_suite` (pyperf's JSON format), :func:`plot` (matplotlib, imported only there). This
module never prints.

The tracee programs are C (bench/csrc in a source checkout, or ``$SPLITPRIV_BENCH_DIR``), built
with ``gcc -O2`` into a cache directory; where either is missing, the workloads that need them are
reported unavailable with the reason, as are peers whose tool is not installed and mechanisms that
``splitpriv doctor`` finds unavailable.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from splitpriv import mechanisms
from splitpriv.errors import SplitprivError
from splitpriv.events import SyscallEvent
from splitpriv.nearest import did_you_mean
from splitpriv.policy import Policy

TimeFunc = Callable[[int], float]
"""pyperf's time function: run the case ``loops`` times, return the seconds it took."""

SELECTIVE_SYSCALL = "openat2"
"""What the selective workload traces: a syscall its loop never makes."""

PLACEMENTS = ("same", "spread", "none")
PEER_GROUPS = ("strace", "python-ptrace", "raw", "variants", "loop", "launch")
"""Optional peers (``with_peers``): strace (plain, and --seccomp-bpf where it can differ),
python-ptrace's strace.py, the raw C floors, the run/emulate variants of each mechanism, and
the twins of the stub_actions peers that give the per-call cost without the launch: ``loop``
(the program times its own loop) and ``launch`` (the same command with no calls)."""

TAR_OUTPUT_PREFIX = "tar-"


class BenchmarkError(SplitprivError):
    """A benchmark cannot be set up or a traced run failed."""


@dataclass(frozen=True, slots=True)
class Profile:
    """How long to measure: rounds of values, and a scale for the units of each run."""

    name: str
    values: int
    warmups: int
    scale: float
    description: str = ""


PROFILES = {
    "tiny": Profile("tiny", 1, 0, 0.01, "one value of very short runs: tests the harness only"),
    "quick": Profile("quick", 5, 1, 0.5, "5 values of half-size runs (under a minute here)"),
    "rigorous": Profile("rigorous", 10, 2, 1.0, "10 values of full-size runs (minutes)"),
}


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    title: str
    unit: str  # what one value is per: call, iteration, spawn, run
    units: int  # units per run at scale 1 (0: a program run, always 1)
    description: str
    native_units: int = 0  # units per run for peers at native speed (selective), at scale 1
    slow_units: int = 0  # units per run for python-ptrace where `units` would take seconds
    multiprocess: bool = False  # strace and python-ptrace need -f
    selective: bool = False  # peers trace only SELECTIVE_SYSCALL
    programs: tuple[str, ...] = ()  # built C programs it needs
    tools: tuple[str, ...] = ()  # programs it needs on PATH

    def units_for(
        self, profile: Profile, *, native: bool = False, slow: bool = False, cross_cpu: bool = False
    ) -> int:
        if self.units == 0:
            return 1
        base = self.units
        if native and self.native_units:
            base = self.native_units
        elif slow and self.slow_units:
            base = self.slow_units
        n = max(1, round(base * profile.scale))
        return max(1, n // 10) if cross_cpu else n


LONG_FIND_REPEATS = 100
"""How many times long_find names the tree of find: find walks each name in turn."""

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "null_syscall",
            "null syscall",
            "call",
            20_000,
            "getppid through the raw syscall, in a loop; every peer sees every call",
            programs=("getppid_loop",),
        ),
        Workload(
            "long_trace",
            "long trace",
            "call",
            400_000,
            "the getppid loop, 20 times longer: what each traced call costs the trace runner "
            "and strace, once their start-up is spread thin",
            programs=("getppid_loop",),
        ),
        Workload(
            "selective",
            "selective tracing",
            "call",
            20_000,
            f"the getppid loop with only {SELECTIVE_SYSCALL} traced, a call it never makes",
            native_units=1_000_000,
            selective=True,
            programs=("getppid_loop",),
        ),
        Workload(
            "startup",
            "startup",
            "run",
            0,
            "a program that makes no calls of its own: the fixed cost of a launch",
            programs=("getppid_loop",),
        ),
        Workload(
            "file_io",
            "file I/O",
            "iteration",
            5_000,
            "open, read 4 KiB, close a file the benchmark creates, in a loop",
            programs=("fileio_loop",),
        ),
        Workload(
            "process_creation",
            "process creation",
            "spawn",
            100,
            "fork, exec a small dynamic program, wait, in a loop",
            slow_units=10,
            multiprocess=True,
            programs=("spawn_loop", "getppid_loop"),
        ),
        Workload(
            "find",
            "find",
            "run",
            0,
            "find over a tree of 40 directories and 1000 files",
            tools=("find",),
        ),
        Workload(
            "long_find",
            "long find",
            "run",
            0,
            f"find over the same tree named {LONG_FIND_REPEATS} times in one command (about "
            "100,000 entries, a large source tree's count): the trace runner's cost on a real "
            "workload once its start-up is spread thin",
            tools=("find",),
        ),
        Workload(
            "tar",
            "tar",
            "run",
            0,
            "tar -c of the same tree into a file",
            tools=("tar",),
        ),
        Workload(
            "python_import",
            "python import",
            "run",
            0,
            'python3 -c "import json, email, http.client"',
        ),
        Workload(
            "sh_pipeline",
            "sh pipeline",
            "run",
            0,
            "sh -c 'seq 1 20000 | sort -rn | uniq | wc -l > /dev/null'",
            multiprocess=True,
            tools=("sh", "seq", "sort", "uniq", "wc"),
        ),
        Workload(
            "stub_actions",
            "stub actions",
            "call",
            20_000,
            "the getppid loop under each action (allow, log, deny, ask) and protect mode of the "
            "stub mechanisms, against raw SIGSYS floors, the ask channel, ptrace and the CLI",
            programs=("getppid_loop", "getppid_timed", "sigsys_floor", "channel_roundtrip"),
        ),
    )
}
PIPELINE = "seq 1 20000 | sort -rn | uniq | wc -l > /dev/null"
PYTHON_IMPORT = "import json, email, http.client"


@dataclass(frozen=True, slots=True)
class Peer:
    """One way of running a workload."""

    name: str  # the benchmark name's second half: untraced, splitpriv-ptrace-trace, strace ...
    kind: str  # untraced, splitpriv, strace, python-ptrace, raw
    label: str  # short, for tables and plots
    group: str = ""  # the with_peers group that adds it ("" for untraced and mechanisms)
    mechanism: str | None = None  # splitpriv mechanism, or the mechanism a raw floor stands for
    variant: str = "trace"  # splitpriv: trace, run, emulate; raw: the raw_tracer mode
    placement: str = "same"
    native: bool = False  # runs at native speed on this workload (sized with native_units)
    floor_of: str | None = None  # raw: the splitpriv peer this is the floor of
    protect: str = "none"  # stub mechanisms: the protect mode of the stub's data
    twin: str = ""  # stub_actions: "loop" (the program's own loop time) or "launch" (no calls)
    note: str = ""  # what exactly it measures, where the name cannot say (peer_note metadata)

    @property
    def colour_key(self) -> str:
        """Peers that share a colour in plots: a mechanism's splitpriv and raw peers differ."""
        if self.kind == "splitpriv":
            return f"splitpriv-{self.mechanism}"
        if self.kind == "raw" and self.mechanism:
            return f"raw-{self.mechanism}"
        name = self.name.removeprefix(f"{self.twin}/") if self.twin else self.name
        return name.split("@")[0]  # a twin in its peer's colour


@dataclass(slots=True)
class Case:
    """One peer on one workload, resolved for this machine."""

    workload: Workload
    peer: Peer
    units: int
    command: str
    reason: str | None = None  # why it cannot run here
    func: TimeFunc | None = None

    @property
    def name(self) -> str:
        return f"{self.workload.name}/{self.peer.name}"

    def metadata(self) -> dict[str, str | int]:
        """What pyperf stores with each value (and :func:`from_suite` reads back)."""
        return Measurement.of(self).metadata()


# -- where things are ----------------------------------------------------------------------


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "splitpriv-bench"
    return Path(tempfile.gettempdir()) / f"splitpriv-bench-{os.getuid()}"


def source_dir() -> Path:
    """The C sources of the tracee programs and the raw supervisor."""
    env = os.environ.get("SPLITPRIV_BENCH_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "bench" / "csrc"


SOURCES = {
    "getppid_loop": "getppid_loop.c",
    "fileio_loop": "fileio_loop.c",
    "spawn_loop": "spawn_loop.c",
    "raw_tracer": "raw_tracer.c",
    "getppid_timed": "getppid_timed.c",
    "sigsys_floor": "sigsys_floor.c",
    "channel_roundtrip": "channel_roundtrip.c",
}
CC = "gcc"
CFLAGS = ("-std=gnu11", "-O2", "-Wall", "-Werror")


@cache
def build_programs() -> dict[str, Path]:
    """``{name: path}`` of the C programs, compiled into the cache if not there yet.

    Raises BenchmarkError when the sources or gcc are missing, or a build fails."""
    src = source_dir()
    missing = [s for s in SOURCES.values() if not (src / s).is_file()]
    if missing:
        raise BenchmarkError(
            f"benchmark sources not found in {src} (they ship in bench/csrc of a source "
            "checkout; set SPLITPRIV_BENCH_DIR)"
        )
    digest = hashlib.sha256(" ".join((CC, *CFLAGS)).encode())
    for source in sorted(SOURCES.values()):
        digest.update(source.encode() + b"\0" + (src / source).read_bytes())
    out = cache_root() / f"programs-{digest.hexdigest()[:16]}"
    built = {name: out / name for name in SOURCES}
    if all(path.exists() for path in built.values()):
        return built
    cc = shutil.which(CC)
    if cc is None:
        raise BenchmarkError(f"{CC} not found on PATH (needed to build the benchmark programs)")
    out.mkdir(parents=True, exist_ok=True)
    for name, source in SOURCES.items():
        target = built[name]
        if not target.exists():
            tmp = out / f".{name}.{os.getpid()}"
            cmd = [cc, *CFLAGS, "-o", str(tmp), str(src / source)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BenchmarkError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
            os.replace(tmp, target)  # concurrent builders never see half a file
    return built


TREE_DIRS = 40
TREE_FILES = 25
FIXTURES_VERSION = 1


@dataclass(frozen=True, slots=True)
class Fixtures:
    root: Path
    data_file: Path  # 4 KiB, for file_io
    tree: Path  # TREE_DIRS directories of TREE_FILES files, for find and tar


@cache
def fixtures() -> Fixtures:
    """The files the workloads read, created once in the cache (atomically, by rename)."""
    root = cache_root() / f"fixtures-v{FIXTURES_VERSION}"
    if not (root / "done").exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".fixtures-", dir=root.parent))
        (tmp / "data").write_bytes(bytes(range(256)) * 16)
        for d in range(TREE_DIRS):
            sub = tmp / "tree" / f"dir{d:02d}"
            sub.mkdir(parents=True)
            for f in range(TREE_FILES):
                line = f"file {f} of directory {d}: splitpriv benchmark fixture\n"
                (sub / f"file{f:02d}.txt").write_text(line * (1 + (d * TREE_FILES + f) % 40))
        (tmp / "done").write_text("ok\n")
        try:
            os.rename(tmp, root)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return Fixtures(root, root / "data", root / "tree")


@cache
def cli_command() -> list[str]:
    """How the benchmarks start ``splitpriv`` (the trace runner), byte-compiled first.

    An editable install has no bytecode until something writes it, and with
    PYTHONDONTWRITEBYTECODE (set on these machines) nothing does: every start would compile
    each module again, about 40 ms here, which a regular install (byte-compiled by pip) never
    pays."""
    import compileall

    compileall.compile_dir(str(Path(__file__).parent), quiet=2)  # (read-only: as it is)
    return [sys.executable, "-m", "splitpriv"]


@cache
def strace_path() -> str | None:
    return shutil.which("strace")


@cache
def python_ptrace_script() -> tuple[str, ...] | None:
    """The command that runs python-ptrace's strace.py, or None when it is not installed.

    The script beside this interpreter comes first: a pyenv shim on PATH would add a shell and
    a second interpreter start to every run."""
    candidates = [Path(sysconfig.get_path("scripts")) / "strace.py"]
    found = shutil.which("strace.py")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file():
            with open(path, "rb") as f:
                first = f.readline()
            if first.startswith(b"#!") and b"python" in first:
                return (sys.executable, str(path))
            if os.access(path, os.X_OK):
                return (str(path),)
    return None


def _last_cpu() -> int:
    return max(os.sched_getaffinity(0))


# -- time functions --------------------------------------------------------------------------


def _check(what: str, status: int) -> None:
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        code = os.waitstatus_to_exitcode(status)
        raise BenchmarkError(f"{what}: the run failed (exit status {code})")


@contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    """Run the body with this thread on one CPU (what ``taskset -c CPU`` does to a command):
    processes spawned meanwhile inherit it."""
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _spawn_func(
    argv: Sequence[str], *, cpu: int | None = None, quiet: bool = False, after: Path | None = None
) -> TimeFunc:
    """posix_spawn + waitpid, ``loops`` times. ``quiet`` sends the program's stderr to /dev/null
    (strace's warnings); ``after`` is a file the run leaves behind, removed after timing."""
    args = list(argv)
    actions = [(os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)] if quiet else []

    def run(loops: int) -> float:
        env = os.environ
        with _pinned(cpu):
            t0 = time.perf_counter()
            for _ in range(loops):
                pid = os.posix_spawn(args[0], args, env, file_actions=actions)
                _, status = os.waitpid(pid, 0)
                _check(args[0], status)
            elapsed = time.perf_counter() - t0
        if after is not None:
            after.unlink(missing_ok=True)
        return elapsed

    return run


def _trace_func(
    argv: Sequence[str],
    mechanism: str,
    cpu: str,
    syscalls: Sequence[str] | None,
    after: Path | None = None,
) -> TimeFunc:
    import splitpriv

    def run(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            with splitpriv.trace(argv, mechanism=mechanism, cpu=cpu, syscalls=syscalls) as t:
                for _event in t:
                    pass
            if t.exit_status is None or t.exit_status.returncode != 0:
                raise BenchmarkError(f"splitpriv.trace ({mechanism}): {t.exit_status}")
        elapsed = time.perf_counter() - t0
        if after is not None:
            after.unlink(missing_ok=True)
        return elapsed

    return run


def _run_func(
    argv: Sequence[str], mechanism: str, cpu: str, policy: Policy | None, after: Path | None = None
) -> TimeFunc:
    import splitpriv

    def run(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            result = splitpriv.run(argv, mechanism=mechanism, cpu=cpu, policy=policy)
            if result.returncode != 0:
                raise BenchmarkError(f"splitpriv.run ({mechanism}): {result.exit_status}")
        elapsed = time.perf_counter() - t0
        if after is not None:
            after.unlink(missing_ok=True)
        return elapsed

    return run


# -- the plan --------------------------------------------------------------------------------

RAW_MODES: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    # workload: (raw_tracer mode, mechanism it is the floor of, splitpriv variant it floors)
    "null_syscall": (
        ("ptrace", "ptrace", "trace"),
        ("ptrace-info", "ptrace", None),
        ("sysemu", "sysemu", "trace"),
        ("sysemu-run", "sysemu", "run"),
        ("sysemu-emulate", "sysemu", "emulate"),
        ("seccomp-trace", "seccomp-trace", None),
        ("seccomp-trace-exit", "seccomp-trace", "trace"),
        ("seccomp-trace-emulate", "seccomp-trace", "emulate"),
        ("notify", "seccomp-notify", "trace"),
        ("notify-nosync", "seccomp-notify", None),
        ("notify-emulate", "seccomp-notify", "emulate"),
    ),
    "selective": (
        ("seccomp-trace-selective", "seccomp-trace", "trace"),
        ("notify-selective", "seccomp-notify", "trace"),
    ),
    "startup": (
        ("ptrace", "ptrace", "trace"),
        ("sysemu", "sysemu", "trace"),
        ("seccomp-trace-exit", "seccomp-trace", "trace"),
        ("notify", "seccomp-notify", "trace"),
    ),
}
NATIVE_WHEN_SELECTIVE = {"seccomp-trace", "seccomp-notify"}


def _workload_argv(w: Workload, units: int, progs: dict[str, Path], fx: Fixtures) -> list[str]:
    if w.name in ("null_syscall", "long_trace", "selective"):
        return [str(progs["getppid_loop"]), str(units)]
    if w.name == "startup":
        return [str(progs["getppid_loop"]), "0"]
    if w.name == "file_io":
        return [str(progs["fileio_loop"]), str(units), str(fx.data_file)]
    if w.name == "process_creation":
        return [str(progs["spawn_loop"]), str(units), str(progs["getppid_loop"]), "0"]
    if w.name == "find":
        return [_tool("find"), str(fx.tree), "-fprint", os.devnull]
    if w.name == "long_find":
        return [_tool("find"), *[str(fx.tree)] * LONG_FIND_REPEATS, "-fprint", os.devnull]
    if w.name == "tar":
        return [_tool("tar"), "-cf", str(_tar_output(fx)), "-C", str(fx.root), "tree"]
    if w.name == "python_import":
        return [sys.executable, "-c", PYTHON_IMPORT]
    if w.name == "sh_pipeline":
        return [_tool("sh"), "-c", PIPELINE]
    raise BenchmarkError(f"no command for workload {w.name!r}")


def _tar_output(fx: Fixtures) -> Path:
    return fx.root.parent / f"{TAR_OUTPUT_PREFIX}{os.getpid()}.tar"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchmarkError(f"{name} not found on PATH")
    return path


def _mechanism_reason(name: str) -> str | None:
    availability = mechanisms.get(name).available()
    return None if availability else f"unavailable: {availability.reason}"


# Where the trace runner meets strace (-o /dev/null both): the getppid loop and real
# workloads. Start-up counts, as it does for strace; the startup workload measures both
# launches too, so that a report can also give each ratio with the launch taken out.
CLI_WORKLOADS = (
    "null_syscall",
    "long_trace",
    "file_io",
    "find",
    "long_find",
    "tar",
    "sh_pipeline",
)
LONG_WORKLOADS = ("long_trace", "long_find")
"""Workloads that only compare the trace runner, the library under it and strace: long runs
about their cost per call (the other mechanisms are measured on the short ones)."""
CLI_LAUNCH_WORKLOAD = "startup"


def peers_for(
    w: Workload,
    mechanism_names: Sequence[str],
    with_peers: Collection[str],
    placements: Sequence[str] = ("same",),
) -> list[Peer]:
    """The peers of one workload, in table order."""
    out = [Peer("untraced", "untraced", "untraced", native=True)]
    if w.name in LONG_WORKLOADS:
        # Only the trace runner against strace (and the library it runs on): the long run is
        # about their per-call cost, the other mechanisms are measured on the short ones.
        mechanism_names = [m for m in mechanism_names if m == "ptrace"]
        with_peers = [p for p in with_peers if p == "strace"]
    extra = [p for p in placements if p != "same"] if w.name == "null_syscall" else []
    for m in mechanism_names:
        native = w.selective and m in NATIVE_WHEN_SELECTIVE
        out.append(Peer(f"splitpriv-{m}", "splitpriv", m, mechanism=m, native=native))
        if "variants" in with_peers and w.name == "null_syscall":
            for variant in ("run", "emulate"):
                out.append(
                    Peer(
                        f"splitpriv-{m}-{variant}",
                        "splitpriv",
                        f"{m} ({variant})",
                        "variants",
                        m,
                        variant,
                    )
                )
        for p in extra:
            out.append(Peer(f"splitpriv-{m}@{p}", "splitpriv", f"{m} @{p}", "", m, placement=p))
    if "strace" in with_peers:
        out.append(Peer("strace", "strace", "strace", "strace"))
        cli = w.name in CLI_WORKLOADS or w.name == CLI_LAUNCH_WORKLOAD
        if cli and "ptrace" in mechanism_names:
            out.append(
                Peer(
                    "cli-ptrace",
                    "splitpriv",
                    "splitpriv trace",
                    "strace",
                    "ptrace",
                    "cli",
                    note="python3 -m splitpriv trace -m ptrace -o /dev/null: every line "
                    "formatted and written, as strace -o /dev/null does",
                )
            )
        if w.name in ("null_syscall", "selective"):
            out.append(
                Peer(
                    "strace-seccomp",
                    "strace",
                    "strace --seccomp-bpf",
                    "strace",
                    variant="seccomp",
                    native=w.selective,
                )
            )
        if "none" in extra:
            out.append(Peer("strace@none", "strace", "strace @none", "strace", placement="none"))
    if "python-ptrace" in with_peers:
        out.append(Peer("python-ptrace", "python-ptrace", "python-ptrace", "python-ptrace"))
    for mode, mech, floors in RAW_MODES.get(w.name, ()):
        wanted = "variants" in with_peers or ("raw" in with_peers and floors == "trace")
        if mech not in mechanism_names or not wanted:
            continue
        group = "raw" if floors == "trace" else "variants"
        floor_of = None
        if floors:
            floor_of = f"splitpriv-{mech}" + ("" if floors == "trace" else f"-{floors}")
        out.append(
            Peer(
                f"raw-{mode}",
                "raw",
                f"raw {mode}",
                group,
                mech,
                mode,
                native=w.selective,
                floor_of=floor_of,
            )
        )
        for p in extra if floors == "trace" else ():
            out.append(
                Peer(
                    f"raw-{mode}@{p}",
                    "raw",
                    f"raw {mode} @{p}",
                    group,
                    mech,
                    mode,
                    p,
                    floor_of=f"{floor_of}@{p}",
                )
            )
    return out


def _command_text(argv: Sequence[str]) -> str:
    import shlex

    return shlex.join(argv)


def _case(w: Workload, peer: Peer, profile: Profile) -> Case:
    if w.name == "stub_actions":
        return _stub_case(w, peer, profile)
    units = w.units_for(
        profile,
        native=peer.native,
        slow=peer.kind == "python-ptrace",
        cross_cpu=peer.placement != "same",
    )
    try:
        progs = build_programs() if (w.programs or peer.kind == "raw") else {}
        fx = fixtures()
        argv = _workload_argv(w, units, progs, fx)
    except BenchmarkError as exc:
        return Case(w, peer, units, "", reason=str(exc))
    after = _tar_output(fx) if w.name == "tar" else None
    cpu = _last_cpu()
    syscalls = [SELECTIVE_SYSCALL] if w.selective else None
    if peer.kind == "untraced":
        return Case(w, peer, units, _command_text(argv), func=_spawn_func(argv, after=after))
    if peer.kind == "splitpriv" and peer.variant == "cli":
        mech = peer.mechanism or ""
        opts = ["-f"] if w.multiprocess else []
        full = [*cli_command(), "trace", *opts, "-m", mech, "-o", os.devnull]
        full += argv
        text = _command_text(full)
        reason = _mechanism_reason(mech)
        if reason:
            return Case(w, peer, units, text, reason=reason)
        return Case(w, peer, units, text, func=_spawn_func(full, after=after))
    if peer.kind == "splitpriv":
        mech = peer.mechanism or ""
        reason = _mechanism_reason(mech)
        if peer.variant == "emulate":
            argv = [*argv, "1"]  # the loop exits 1 if a getppid was not answered with 1
        text = f"splitpriv.{'trace' if peer.variant == 'trace' else 'run'}({list(argv)!r}"
        text += f", mechanism={mech!r}, cpu={peer.placement!r}"
        if peer.variant == "trace" and syscalls:
            text += f", syscalls={syscalls!r}"
        if peer.variant == "emulate":
            text += ', policy=Policy().emulate("getppid", retval=1)'
        text += ")"
        if reason:
            return Case(w, peer, units, text, reason=reason)
        if peer.variant == "trace":
            func = _trace_func(argv, mech, peer.placement, syscalls, after)
        else:
            policy = Policy().emulate("getppid", retval=1) if peer.variant == "emulate" else None
            func = _run_func(argv, mech, peer.placement, policy, after)
        return Case(w, peer, units, text, func=func)
    if peer.kind == "strace":
        strace = strace_path()
        opts = ["-f"] if w.multiprocess or peer.variant == "seccomp" else []
        if peer.variant == "seccomp":
            opts.append("--seccomp-bpf")
        if syscalls:
            opts += ["-e", f"trace={','.join(syscalls)}"]
        full = [strace or "strace", *opts, "-o", os.devnull, *argv]
        pin = None if peer.placement == "none" else cpu
        text = (f"taskset -c {pin} " if pin is not None else "") + _command_text(full)
        if strace is None:
            return Case(w, peer, units, text, reason="not installed (strace not found on PATH)")
        func = _spawn_func(full, cpu=pin, quiet=peer.variant == "seccomp", after=after)
        return Case(w, peer, units, text, func=func)
    if peer.kind == "python-ptrace":
        script = python_ptrace_script()
        opts = ["-f"] if w.multiprocess else []
        if syscalls:
            opts += ["-e", ",".join(syscalls)]
        full = [*(script or ("strace.py",)), *opts, "-o", os.devnull, "--", *argv]
        text = f"taskset -c {cpu} " + _command_text(full)
        if script is None:
            return Case(
                w,
                peer,
                units,
                text,
                reason="not installed (pip install python-ptrace provides strace.py)",
            )
        return Case(w, peer, units, text, func=_spawn_func(full, cpu=cpu, after=after))
    if peer.kind == "raw":
        if peer.variant.endswith("emulate"):
            argv = [*argv, "1"]
        full = [str(progs["raw_tracer"]), peer.variant, peer.placement, *argv]
        text = _command_text(full)
        reason = _mechanism_reason(peer.mechanism or "")
        if reason:
            return Case(w, peer, units, text, reason=reason)
        return Case(w, peer, units, text, func=_spawn_func(full, after=after))
    raise BenchmarkError(f"unknown peer kind {peer.kind!r}")


# -- the stub actions workload ---------------------------------------------------------------
#
# What each action of the stub mechanisms costs per getppid, in each protect mode, against the
# floor of its trap (a raw C program whose SIGSYS handler answers at once), the ask channel's
# raw round trip, ptrace, and the CLI. Peers are named <mechanism>/<action>/<protect>,
# floor/<what>, ptrace/trace and cli/<mechanism>. Their twins give the cost per call without the
# launch: "loop/<peer>" runs the same with a loop the program times itself, "launch/<peer>" (the
# CLI's, where the program's own time would leave out the output) the same with no calls.

STUB_MECHANISMS = ("sud", "seccomp-trap")
STUB_ACTIONS = ("allow", "log", "deny", "ask")
PROTECT_MODES = ("none", "mprotect", "pkey")
STUB_FLOORS = {"sud": "floor/sigsys-sud", "seccomp-trap": "floor/sigsys"}
"""The floor of each stub mechanism: a SIGSYS handler reached by its own kind of trap."""
CHANNEL_FLOOR = "floor/channel-roundtrip"
CLI_MECHANISMS = ("sud", "ptrace")
LOOP_PREFIX = "loop/"
LAUNCH_PREFIX = "launch/"
TWIN_PREFIXES = (LOOP_PREFIX, LAUNCH_PREFIX)


@dataclass(frozen=True, slots=True)
class Floor:
    """A raw C floor of the stub_actions workload: ``program mode N [FILE]``."""

    name: str
    label: str
    program: str
    mode: str
    mechanism: str | None  # the stub mechanism whose trap it takes (None: the ask channel)
    note: str


FLOORS = {
    f.name: f
    for f in (
        Floor(
            "floor/sigsys",
            "floor: SIGSYS via seccomp",
            "sigsys_floor",
            "seccomp",
            "seccomp-trap",
            "bench/csrc/sigsys_floor.c: seccomp RET_TRAP for getppid, a SIGSYS handler that "
            "writes the answer into RAX and returns",
        ),
        Floor(
            "floor/sigsys-sud",
            "floor: SIGSYS via SUD",
            "sigsys_floor",
            "sud",
            "sud",
            "bench/csrc/sigsys_floor.c: Syscall User Dispatch with a selector byte, a SIGSYS "
            "handler that writes the answer into RAX and returns",
        ),
        Floor(
            CHANNEL_FLOOR,
            "floor: ask channel round trip",
            "channel_roundtrip",
            "signal",
            None,
            "bench/csrc/channel_roundtrip.c: one round trip of the ask channel between two "
            "processes on one CPU: tgkill to a thread in ppoll, answer by FUTEX_WAKE to a futex "
            "waiter (the stub's ask with ask_spins = 0)",
        ),
        Floor(
            "floor/channel-roundtrip-futex",
            "floor: futex round trip",
            "channel_roundtrip",
            "futex",
            None,
            "bench/csrc/channel_roundtrip.c: the same round trip with a futex wake instead of "
            "the signal (informative)",
        ),
    )
}

_ACTION_NOTES = {
    "allow": "Policy(): under sud every call traps to the stub, which makes getppid itself; "
    "nothing recorded",
    "log": "splitpriv.trace(syscalls=['getppid']): the stub makes the call and records it in "
    "the shared ring, the drainer thread moves it to the session, Python decodes every event",
    "deny": "Policy().deny('getppid'): the stub answers -EPERM; nothing recorded",
    "ask": "Policy().callback('getppid'): the stub asks the engine thread (tgkill, then "
    "FUTEX_WAIT), which can only ask Python: no C table answers an ask. The callback returns "
    "None (allow) and the stub makes the call",
}
_SECCOMP_TRAP_NOTES = {  # where seccomp-trap's filter takes another path than sud's stub
    "allow": "a plain allow never reaches the stub (the filter allows it in the kernel, at "
    "native speed), so the rule is Policy().rewrite('getppid', args={0: 0}): the filter traps "
    "getppid, the stub rewrites an argument getppid does not read and makes the call itself; "
    "nothing recorded",
    "deny": "Policy().deny('getppid'): the seccomp filter answers EPERM (RET_ERRNO) in the "
    "kernel; the call never traps and the stub is not involved",
}
_TWIN_NOTES = {
    "loop": "the same peer running bench/csrc/getppid_timed.c (the floors: their own FILE "
    "argument): the loop timed by the program itself (vDSO clock, no syscall), divided by N; "
    "no launch, no session set-up or tear-down",
    "launch": "the same command with N = 0: the launch alone, per run",
}


def _action_note(mech: str, action: str) -> str:
    special = _SECCOMP_TRAP_NOTES if mech == "seccomp-trap" else {}
    return special.get(action, _ACTION_NOTES[action])


def stub_action_peers(mechanism_names: Sequence[str], with_peers: Collection[str]) -> list[Peer]:
    """The peers of the stub_actions workload, in table order (the twins last)."""
    peers = [Peer("untraced", "untraced", "untraced", native=True)]
    for mech in STUB_MECHANISMS:
        if mech not in mechanism_names:
            continue
        for action in STUB_ACTIONS:
            for protect in PROTECT_MODES:
                peers.append(
                    Peer(
                        f"{mech}/{action}/{protect}",
                        "splitpriv",
                        f"{mech} {action} ({protect})",
                        mechanism=mech,
                        variant=action,
                        protect=protect,
                        note=_action_note(mech, action),
                    )
                )
    for f in FLOORS.values():
        if f.mechanism is None or f.mechanism in mechanism_names:
            peers.append(Peer(f.name, "raw", f.label, mechanism=f.mechanism, note=f.note))
    if "ptrace" in mechanism_names:
        note = "splitpriv.trace, every call recorded and decoded (null_syscall's peer)"
        peers.append(
            Peer("ptrace/trace", "splitpriv", "ptrace trace", mechanism="ptrace", note=note)
        )
    for mech in CLI_MECHANISMS:
        if mech in mechanism_names:
            peers.append(
                Peer(
                    f"cli/{mech}",
                    "splitpriv",
                    f"splitpriv trace -m {mech}",
                    mechanism=mech,
                    variant="cli",
                    note="every call written to the -o file; -f because without it the stub "
                    "mechanisms refuse to start (they cannot leave children untraced)",
                )
            )
    return peers + [twin for p in peers for twin in _twins(p, with_peers)]


def _twins(peer: Peer, with_peers: Collection[str]) -> list[Peer]:
    """A peer's loop twin (not the CLI's: the program's own time would leave out the output
    written after it) and launch twin (the CLI's, and untraced's to compare it with)."""
    kinds = []
    if "loop" in with_peers and peer.variant != "cli":
        kinds.append("loop")
    if "launch" in with_peers and (peer.variant == "cli" or peer.kind == "untraced"):
        kinds.append("launch")
    return [
        replace(
            peer,
            name=f"{kind}/{peer.name}",
            label=f"{peer.label} [{kind}]",
            group=kind,
            twin=kind,
            note=f"{_TWIN_NOTES[kind]}. {peer.note}".rstrip(". "),
        )
        for kind in kinds
    ]


@cache
def _protect_reason(protect: str) -> str | None:
    """Why a protect mode cannot be used here: the probe the session itself relies on. Probed
    once: without protection keys the kernel says EINVAL to a process's first pkey_alloc and
    ENOSPC to the next ones, and every pkey peer should give the same reason."""
    if protect != "pkey":
        return None
    from splitpriv.doctor import protection_keys

    keys = protection_keys()
    return None if keys.ok else f"unavailable: protection keys: {keys.detail}"


def _floor_reason(peer: Peer) -> str | None:
    if peer.mechanism == "sud":
        from splitpriv.mechanisms._stub import sud_problem

        problem = sud_problem()
        return f"unavailable: {problem}" if problem else None
    return None


Runner = Callable[[Sequence[str]], None]
"""Runs a command once under a peer; BenchmarkError if it failed or took another path."""


def _spawned(argv: Sequence[str]) -> None:
    pid = os.posix_spawn(argv[0], list(argv), os.environ)
    _, status = os.waitpid(pid, 0)
    _check(argv[0], status)


def _wall_func(runner: Runner, argv: Sequence[str], after: Path | None = None) -> TimeFunc:
    """The wall time of ``loops`` whole runs."""

    def run(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            runner(argv)
        elapsed = time.perf_counter() - t0
        if after is not None:
            after.unlink(missing_ok=True)
        return elapsed

    return run


def _loop_func(runner: Runner, argv: Sequence[str], report: Path) -> TimeFunc:
    """The time ``loops`` runs spent in the program's own loop, as it wrote it into ``report``
    (nanoseconds): the per-call cost without launch, set-up or tear-down."""

    def run(loops: int) -> float:
        total = 0
        for _ in range(loops):
            report.unlink(missing_ok=True)
            runner(argv)
            try:
                total += int(report.read_text())
            except (OSError, ValueError) as exc:
                raise BenchmarkError(f"{argv[0]} did not report its loop time: {exc}") from None
        report.unlink(missing_ok=True)
        return total / 1e9

    return run


class _Asked:
    """The ask peers' callback: allow, and count, so a run proves every call was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, event: SyscallEvent) -> None:
        self.calls += 1


def _stub_policy(mech: str, action: str, asked: _Asked) -> tuple[Policy, str]:
    """The policy of a run-based action peer, and how it reads in peer_command."""
    if action == "allow" and mech == "sud":
        return Policy(), "Policy()"
    if action == "allow":
        return Policy().rewrite("getppid", args={0: 0}), "Policy().rewrite('getppid', {0: 0})"
    if action == "deny":
        return Policy().deny("getppid", errno="EPERM"), "Policy().deny('getppid')"
    return Policy().callback("getppid", fn=asked), "Policy().callback('getppid', fn=allow)"


def _expect(what: str, got: int, want: int) -> None:
    if got != want:
        raise BenchmarkError(f"{what}: {got} getppid calls, not {want}")


def _stub_run_runner(mech: str, protect: str, policy: Policy, traps: int, asked: _Asked) -> Runner:
    """splitpriv.run, checking that getppid took the path the peer claims: ``traps`` calls
    counted by the stub, and as many asks for an ask peer."""
    import splitpriv

    asks = traps if policy.has_callbacks() else 0

    def run(argv: Sequence[str]) -> None:
        asked.calls = 0
        result = splitpriv.run(argv, mechanism=mech, cpu="same", policy=policy, protect=protect)
        if result.returncode != 0:
            raise BenchmarkError(f"splitpriv.run ({mech}): {result.exit_status}")
        _expect(f"{mech}: the stub saw", result.counts.get("getppid", 0), traps)
        _expect(f"{mech}: Python was asked", asked.calls, asks)

    return run


def _trace_runner(mech: str, protect: str, syscalls: Sequence[str] | None, calls: int) -> Runner:
    """splitpriv.trace, every event decoded; with ``syscalls``, checks that ``calls`` getppid
    events arrived."""
    import splitpriv
    from splitpriv.syscalls import AUDIT_ARCH_X86_64, table

    getppid = table(AUDIT_ARCH_X86_64).number("getppid")

    def run(argv: Sequence[str]) -> None:
        seen = 0
        with splitpriv.trace(
            argv, mechanism=mech, cpu="same", syscalls=syscalls, protect=protect
        ) as t:
            for event in t:
                seen += isinstance(event, SyscallEvent) and event.nr == getppid
        if t.exit_status is None or t.exit_status.returncode != 0:
            raise BenchmarkError(f"splitpriv.trace ({mech}): {t.exit_status}")
        _expect(f"{mech}: events recorded", seen, calls)

    return run


@dataclass(frozen=True, slots=True)
class _How:
    """How a stub_actions peer runs a command, and how that reads in peer_command."""

    runner: Runner
    text: Callable[[Sequence[str]], str]
    reason: str | None = None


def _how(peer: Peer, n: int) -> _How:
    """The runner of a splitpriv peer of stub_actions (not the floors, untraced or the CLI)."""
    mech, action, protect = peer.mechanism or "", peer.variant, peer.protect
    reason = _mechanism_reason(mech) or _protect_reason(protect)
    if mech == "ptrace":
        runner = _trace_runner(mech, protect, None, n)
        return _How(runner, lambda a: f"splitpriv.trace({list(a)!r}, mechanism='ptrace')", reason)
    if action == "log":
        runner = _trace_runner(mech, protect, ["getppid"], n)
        options = f"mechanism={mech!r}, cpu='same', syscalls=['getppid'], protect={protect!r}"
        return _How(runner, lambda a: f"splitpriv.trace({list(a)!r}, {options})", reason)
    asked = _Asked()
    policy, policy_text = _stub_policy(mech, action, asked)
    # the seccomp-trap filter answers a plain deny itself: the stub never sees those calls
    traps = 0 if (mech, action) == ("seccomp-trap", "deny") else n
    runner = _stub_run_runner(mech, protect, policy, traps, asked)
    options = f"mechanism={mech!r}, cpu='same', protect={protect!r}, policy={policy_text}"
    return _How(runner, lambda a: f"splitpriv.run({list(a)!r}, {options})", reason)


def _stub_case(w: Workload, peer: Peer, profile: Profile) -> Case:
    """A case of the stub_actions workload, or of one of its twins."""
    units = 1 if peer.twin == "launch" else w.units_for(profile)
    n = 0 if peer.twin == "launch" else units
    try:
        progs = build_programs()
        fx = fixtures()
    except BenchmarkError as exc:
        return Case(w, peer, units, "", reason=str(exc))
    report = fx.root.parent / f"stub-loop-{os.getpid()}.ns"
    timed = peer.twin == "loop"
    name = peer.name.removeprefix(f"{peer.twin}/") if peer.twin else peer.name
    after = None
    if peer.kind == "untraced":
        how = _How(_spawned, _command_text)
        argv = [str(progs["getppid_loop"]), str(n)]
    elif peer.kind == "raw":
        floor = FLOORS[name]
        how = _How(_spawned, _command_text, _floor_reason(peer))
        argv = [str(progs[floor.program]), floor.mode, str(n)]
        argv += [str(report)] if timed else []
    elif peer.variant == "cli":
        after = fx.root.parent / f"stub-actions-{os.getpid()}.txt"
        how = _How(_spawned, _command_text, _mechanism_reason(peer.mechanism or ""))
        argv = [*cli_command(), "trace", "-f", "-m", peer.mechanism or ""]
        argv += ["-o", str(after), str(progs["getppid_loop"]), str(n)]
    else:
        how = _how(peer, n)
        argv = [str(progs["getppid_loop"]), str(n)]
    if timed and peer.kind != "raw":
        argv = [str(progs["getppid_timed"]), str(n), str(report)]
    text = how.text(argv)
    if how.reason:
        return Case(w, peer, units, text, reason=how.reason)
    func = _loop_func(how.runner, argv, report) if timed else _wall_func(how.runner, argv, after)
    return Case(w, peer, units, text, func=func)


MECHANISM_ORDER = ("ptrace", "sysemu", "seccomp-trace", "seccomp-notify", "sud", "seccomp-trap")


def ordered_mechanisms() -> list[str]:
    """Every registered mechanism, oldest interception path first (DESIGN.md's order)."""
    rank = {name: i for i, name in enumerate(MECHANISM_ORDER)}
    return sorted(mechanisms.names(), key=lambda n: (rank.get(n, len(rank)), n))


def plan(
    workloads: Sequence[str] | None = None,
    *,
    mechanism_names: Sequence[str] | None = None,
    with_peers: Collection[str] = ("strace",),
    profile: Profile = PROFILES["quick"],
    placements: Sequence[str] = ("same",),
) -> list[Case]:
    """Every case to measure, available or not (``Case.reason`` says why not), in table order.

    ``workloads`` and ``mechanism_names`` default to all; unknown names raise BenchmarkError or
    UnknownMechanismError. ``with_peers`` adds optional peers (see PEER_GROUPS); ``placements``
    adds CPU placements other than "same" to the null_syscall workload (a placement study)."""
    names = list(WORKLOADS) if not workloads else list(workloads)
    for name in names:
        if name not in WORKLOADS:
            raise BenchmarkError(
                f"unknown workload {name!r}{did_you_mean(name, WORKLOADS)}; "
                f"known: {', '.join(WORKLOADS)}"
            )
    mechs = ordered_mechanisms() if mechanism_names is None else list(mechanism_names)
    for m in mechs:
        mechanisms.get(m)  # raises UnknownMechanismError with a suggestion
    for g in with_peers:
        if g not in PEER_GROUPS:
            raise BenchmarkError(
                f"unknown peer {g!r}{did_you_mean(g, PEER_GROUPS)}; known: {', '.join(PEER_GROUPS)}"
            )
    for p in placements:
        if p not in PLACEMENTS:
            raise BenchmarkError(
                f"unknown placement {p!r}{did_you_mean(p, PLACEMENTS)}; "
                f"known: {', '.join(PLACEMENTS)}"
            )
    cases = []
    for name in names:
        w = WORKLOADS[name]
        if name == "stub_actions":
            cases += _skip_twins_of_skipped(
                [_case(w, peer, profile) for peer in stub_action_peers(mechs, with_peers)]
            )
            continue
        cases += [_case(w, peer, profile) for peer in peers_for(w, mechs, with_peers, placements)]
    return cases


def _skip_twins_of_skipped(cases: list[Case]) -> list[Case]:
    """Leave out the twins of a peer that cannot run: the peer's row says why."""
    skipped = {c.peer.name for c in cases if c.reason and not c.peer.twin}
    return [
        c
        for c in cases
        if not (c.peer.twin and c.peer.name.removeprefix(f"{c.peer.twin}/") in skipped)
    ]


# -- measuring -------------------------------------------------------------------------------


@dataclass(slots=True)
class Measurement:
    """The values of one case: seconds per unit."""

    workload: str
    peer: str
    label: str
    kind: str
    unit: str
    units: int
    command: str
    mechanism: str | None = None
    floor_of: str | None = None
    colour_key: str = ""
    group: str = ""  # the with_peers group that added it ("variants" are not ranked)
    values: list[float] = field(default_factory=list)
    warmups: list[float] = field(default_factory=list)
    reason: str | None = None  # unavailable, or the run failed
    note: str = ""  # what exactly the peer measures (Peer.note)

    @property
    def name(self) -> str:
        return f"{self.workload}/{self.peer}"

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values and not self.reason else None

    @property
    def median(self) -> float | None:
        """What tables, ratios and plots show: robust to a run disturbed by other load."""
        return statistics.median(self.values) if self.values and not self.reason else None

    @property
    def stdev(self) -> float | None:
        if len(self.values) < 2 or self.reason:
            return None
        return statistics.stdev(self.values)

    def metadata(self) -> dict[str, str | int]:
        """This case described in pyperf metadata (keys pyperf itself does not use)."""
        return {
            "workload": self.workload,
            "peer": self.peer,
            "peer_kind": self.kind,
            "peer_label": self.label,
            "mechanism": self.mechanism or "-",
            "floor_of": self.floor_of or "-",
            "colour_key": self.colour_key or "-",
            "peer_group": self.group or "-",
            "work_unit": self.unit,
            "units_per_run": self.units,
            "peer_command": self.command or "-",
            "peer_note": self.note or "-",
        }

    @classmethod
    def of(cls, case: Case) -> Measurement:
        return cls(
            case.workload.name,
            case.peer.name,
            case.peer.label,
            case.peer.kind,
            "run" if case.peer.twin == "launch" else case.workload.unit,
            case.units,
            case.command,
            case.peer.mechanism,
            case.peer.floor_of,
            case.peer.colour_key,
            case.peer.group,
            reason=case.reason,
            note=case.peer.note,
        )


Progress = Callable[[Case, int, int], None]
"""Called before each run: the case, how many runs are done, how many there are in all."""


def measure(
    cases: Sequence[Case], profile: Profile, progress: Progress | None = None
) -> list[Measurement]:
    """Run every available case ``profile.warmups + profile.values`` times, in rounds."""
    results = [Measurement.of(c) for c in cases]
    runnable = [i for i, c in enumerate(cases) if c.func is not None]
    rounds = profile.warmups + profile.values
    total, done = rounds * len(runnable), 0
    for r in range(rounds):
        shift = r % len(runnable) if runnable else 0
        for i in runnable[shift:] + runnable[:shift]:
            case, m = cases[i], results[i]
            if progress is not None:
                progress(case, done, total)
            done += 1
            if m.reason is not None or case.func is None:
                continue
            try:
                value = case.func(1) / case.units
            except Exception as exc:  # one broken peer must not cost the others' results
                m.reason = f"failed: {type(exc).__name__}: {exc}"
                m.values.clear()
                continue
            (m.warmups if r < profile.warmups else m.values).append(value)
    if progress is not None and cases:
        progress(cases[-1], total, total)
    return results


# -- reporting -------------------------------------------------------------------------------

RANKED_KINDS = ("splitpriv", "strace", "python-ptrace")
UNRANKED_GROUPS = ("variants", "loop", "launch")  # not the workload's whole run: never fastest


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report."""

    workload: str
    peer: str
    label: str
    kind: str
    unit: str
    units: int
    time: float | None  # the median value: seconds per unit
    stdev: float | None
    vs_untraced: float | None
    vs_strace: float | None
    fastest: bool
    note: str
    colour_key: str = ""


def table(results: Sequence[Measurement]) -> list[Row]:
    """Rows in the order measured, with ratios to untraced and to strace of the same workload,
    and the fastest tracer of each workload marked (splitpriv mechanisms, strace, python-ptrace;
    not the raw floors, nor the run/emulate variants or the twins, which measure other things).
    A twin (stub_actions: loop/..., launch/...) is compared with untraced's twin of its kind."""
    by_workload: dict[str, list[Measurement]] = {}
    for m in results:
        by_workload.setdefault(m.workload, []).append(m)
    rows = []
    for workload, ms in by_workload.items():
        times = {m.peer: m.median for m in ms}
        ranked = [
            m
            for m in ms
            if m.kind in RANKED_KINDS and m.group not in UNRANKED_GROUPS and m.median is not None
        ]
        fastest = min(ranked, key=lambda m: m.median or math.inf).peer if ranked else None
        for m in ms:
            prefix = next((p for p in TWIN_PREFIXES if m.peer.startswith(p)), "")
            base, strace = times.get(prefix + "untraced"), times.get(prefix + "strace")
            mean = m.median
            rows.append(
                Row(
                    workload,
                    m.peer,
                    m.label,
                    m.kind,
                    m.unit,
                    m.units,
                    mean,
                    m.stdev,
                    mean / base if mean is not None and base else None,
                    mean / strace if mean is not None and strace else None,
                    m.peer == fastest,
                    m.reason or "",
                    m.colour_key,
                )
            )
    return rows


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:,.3g} {unit}".replace(" us", " µs")
    return f"{seconds * 1e9:,.0f} ns"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:,.2f}x" if ratio < 10 else f"{ratio:,.0f}x"


def spread(row: Row) -> str:
    if row.stdev is None or not row.time:
        return "-"
    return f"±{100 * row.stdev / row.time:.0f}%"


def markdown(rows: Sequence[Row]) -> str:
    """The report as a GitHub Markdown table (one line per workload and peer)."""
    lines = [
        "| workload | peer | time per | ± | vs untraced | vs strace | |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        title = WORKLOADS[r.workload].title if r.workload in WORKLOADS else r.workload
        per = f"{format_time(r.time)} / {r.unit}" if r.time is not None else "-"
        note = "**fastest**" if r.fastest else r.note.replace("|", "\\|")
        label = f"**{r.label}**" if r.fastest else r.label
        lines.append(
            f"| {title} | {label} | {per} | {spread(r)} | {format_ratio(r.vs_untraced)} "
            f"| {format_ratio(r.vs_strace)} | {note} |"
        )
    return "\n".join(lines) + "\n"


# -- pyperf's format -------------------------------------------------------------------------


def to_suite(results: Sequence[Measurement], metadata: dict[str, Any] | None = None) -> Any:
    """A pyperf.BenchmarkSuite of the measured cases (unavailable ones are listed in the
    ``skipped`` metadata of every benchmark of their workload)."""
    import pyperf

    common: dict[str, Any] = {}
    probe = pyperf.Run([1.0], metadata={"name": "probe"}, collect_metadata=True)
    common.update(pyperf.Benchmark([probe]).get_metadata())
    common.pop("name", None)
    common.update(metadata or {})
    skipped: dict[str, list[str]] = {}
    for m in results:
        if m.mean is None:
            skipped.setdefault(m.workload, []).append(f"{m.peer}: {m.reason or 'no value'}")
    benchmarks = []
    for m in results:
        if m.mean is None:
            continue
        meta = dict(common)
        meta.update(m.metadata())
        meta.update({"name": m.name, "unit": "second", "loops": 1, "inner_loops": m.units})
        if m.workload in skipped:
            meta["skipped"] = "; ".join(skipped[m.workload])
        warmups = [(1, w) for w in m.warmups] or None
        run = pyperf.Run(m.values, warmups=warmups, metadata=meta, collect_metadata=False)
        benchmarks.append(pyperf.Benchmark([run]))
    if not benchmarks:
        raise BenchmarkError("nothing was measured: no case could run here")
    return pyperf.BenchmarkSuite(benchmarks)


def from_suite(suite: Any) -> list[Measurement]:
    """Measurements from a pyperf suite written by :func:`to_suite` or by bench/ (workers'
    values pooled); the skipped cases come back with their reason."""
    out: list[Measurement] = []
    seen: set[str] = set()
    skipped: dict[str, list[tuple[str, str]]] = {}
    for bench in suite.get_benchmarks():
        meta = bench.get_metadata()
        name = bench.get_name()
        workload, _, peer = name.partition("/")

        def get(key: str, default: str, meta: dict[str, Any] = meta) -> str:
            value = meta.get(key, "-")
            return default if value == "-" else str(value)

        m = Measurement(
            get("workload", workload),
            get("peer", peer or name),
            get("peer_label", peer or name),
            get("peer_kind", "untraced" if peer == "untraced" else "other"),
            get("work_unit", "run"),
            int(meta.get("units_per_run", meta.get("inner_loops", 1))),
            get("peer_command", ""),
            get("mechanism", "") or None,
            get("floor_of", "") or None,
            get("colour_key", peer or name),
            get("peer_group", ""),
            values=list(bench.get_values()),
            note=get("peer_note", ""),
        )
        if not m.group and m.kind == "splitpriv" and m.peer.endswith(("-run", "-emulate")):
            m.group = "variants"  # files written before peer_group was recorded
        out.append(m)
        seen.add(m.name)
        for item in str(meta.get("skipped", "")).split("; "):
            if item:
                p, _, reason = item.partition(": ")
                skipped.setdefault(m.workload, []).append((p, reason))
    for workload, items in skipped.items():
        for p, reason in items:
            if f"{workload}/{p}" not in seen:
                seen.add(f"{workload}/{p}")
                out.append(Measurement(workload, p, p, "skipped", "-", 0, "", reason=reason))
    return out


# -- plots -----------------------------------------------------------------------------------

COLOURS = {
    "untraced": "#7f7f7f",
    "splitpriv-ptrace": "#1f77b4",
    "splitpriv-sysemu": "#ff7f0e",
    "splitpriv-seccomp-trace": "#2ca02c",
    "splitpriv-seccomp-notify": "#d62728",
    "splitpriv-sud": "#8c564b",
    "splitpriv-seccomp-trap": "#bcbd22",
    "raw-ptrace": "#aec7e8",
    "raw-sysemu": "#ffbb78",
    "raw-seccomp-trace": "#98df8a",
    "raw-seccomp-notify": "#ff9896",
    "raw-sud": "#c49c94",
    "raw-seccomp-trap": "#dbdb8d",
    "strace": "#9467bd",
    "strace-seccomp": "#c5b0d5",
    "python-ptrace": "#e377c2",
}
ROW_BARS = 40
EXTRA_COLOURS = ("#17becf", "#c49c94", "#dbdb8d", "#9edae5", "#393b79", "#637939")


def colour(key: str) -> str:
    """A peer's colour, the same in every chart (mechanisms registered later get a stable one)."""
    if key in COLOURS:
        return COLOURS[key]
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return EXTRA_COLOURS[digest % len(EXTRA_COLOURS)]


def matplotlib_missing() -> str | None:
    """Why plots cannot be drawn here, or None."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib)"
    return None


def plot(rows: Sequence[Row], path: str | os.PathLike[str], title: str = "") -> None:
    """A bar chart per workload (log scale, time per unit), written as PNG or SVG by suffix."""
    missing = matplotlib_missing()
    if missing:
        raise BenchmarkError(missing)
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise BenchmarkError(f"plot file must end in .png or .svg, not {Path(path).name!r}")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[Row]] = {}
    for r in rows:
        w = WORKLOADS.get(r.workload)
        # launch twins are per run: another scale than the chart's (the table has them)
        if r.time is not None and (w is None or r.unit == w.unit or w.unit == "run"):
            groups.setdefault(r.workload, []).append(r)
    if not groups:
        raise BenchmarkError("nothing to plot: no case was measured")
    # Rows of charts, each chart as wide as its number of bars, at most ROW_BARS bars a row.
    rows_of: list[list[str]] = [[]]
    for workload, group in groups.items():
        used = sum(len(groups[w]) + 2 for w in rows_of[-1])
        if rows_of[-1] and used + len(group) + 2 > ROW_BARS:
            rows_of.append([])
        rows_of[-1].append(workload)
    widest = max(sum(len(groups[w]) + 2 for w in row) for row in rows_of)
    fig = plt.figure(figsize=(1.5 + 0.36 * widest, 4.4 * len(rows_of)))
    outer = fig.add_gridspec(len(rows_of), 1)
    placed = []
    for i, row in enumerate(rows_of):
        ratios = [len(groups[w]) + 2 for w in row]
        spare = widest - sum(ratios)
        inner = outer[i].subgridspec(
            1,
            len(row) + (1 if spare else 0),
            wspace=0.35,
            width_ratios=ratios + ([spare] if spare else []),
        )
        placed += [(fig.add_subplot(inner[0, j]), w) for j, w in enumerate(row)]
    for ax, workload in placed:
        group = groups[workload]
        xs = range(len(group))
        heights = [r.time or 0.0 for r in group]
        bars = ax.bar(xs, heights, color=[colour(r.colour_key) for r in group])
        for bar, r in zip(bars, group, strict=True):
            if r.fastest:
                bar.set_edgecolor("black")
                bar.set_linewidth(1.5)
            ax.annotate(
                format_time(r.time),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
                xytext=(0, 2),
                textcoords="offset points",
            )
        ax.set_yscale("log")
        ax.set_xticks(list(xs))
        ax.set_xticklabels([r.label for r in group], rotation=60, ha="right", fontsize=7)
        w = WORKLOADS.get(workload)
        ax.set_title(w.title if w else workload, fontsize=10)
        ax.set_ylabel(f"seconds per {group[0].unit} (log)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.margins(y=0.25)
    if title:
        fig.suptitle(title, fontsize=11, y=1.0 + 0.02 / len(rows_of))
    fig.tight_layout(h_pad=2.0)
    fig.savefig(path, format=suffix[1:], dpi=110, bbox_inches="tight")
    plt.close(fig)
