"""The pyperf side of splitpriv's benchmarks: ``bench/<workload>/run_benchmark.py`` calls
:func:`main` with its workload's name, in pyperformance's layout (one folder per benchmark, a
``main()`` and a ``pyperf.Runner``).

The cases come from :mod:`splitpriv.benchmarks` (the same ones ``splitpriv bench`` measures):
untraced, every registered mechanism through ``splitpriv.trace``, and the optional peers of
``--with`` (strace, python-ptrace's strace.py, the raw C floors, the run/emulate variants).
Every peer of a workload is a benchmark of the same pyperf run, so ratios are same-run. A peer
that cannot run here (no strace, a mechanism this kernel lacks) is listed on stderr and in the
``skipped`` metadata, and left out.

Each value is the time of one whole run of the workload divided by its units (pyperf's
``inner_loops``): seconds per call, iteration, spawn or run; ``units_per_run`` in the metadata
says how many units a run did.
"""

from __future__ import annotations

import argparse
import sys
import time

import pyperf

from splitpriv import benchmarks

DEFAULT_WITH = {
    "null_syscall": "strace,python-ptrace,raw,variants",
    "long_trace": "strace",
    "long_find": "strace",
    "selective": "strace,python-ptrace,raw",
    "startup": "strace,python-ptrace,raw",  # the floors' launch cost, for startup correction
    "stub_actions": "loop,launch",  # the per-call twins of every peer (compare.py)
}
OTHERS_WITH = "strace,python-ptrace"


def _list(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def busy_fraction(interval: float = 0.5) -> float:
    """The share of the machine's CPU time spent busy over ``interval`` (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, all

    idle0, total0 = sample()
    time.sleep(interval)
    idle1, total1 = sample()
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def wait_quiet(limit: float, threshold: float = 0.15) -> float:
    """Wait (up to ``limit`` seconds) until other processes leave the CPUs alone; how long."""
    start = time.monotonic()
    while time.monotonic() - start < limit and busy_fraction() > threshold:
        pass
    return time.monotonic() - start


def retrying(name: str, func: benchmarks.TimeFunc) -> benchmarks.TimeFunc:
    """``func``, timed again once if a run fails: on a shared machine a process of another
    session may kill one of ours, and a failure in a worker would end the whole pyperf run."""

    def run(loops: int) -> float:
        try:
            return func(loops)
        except benchmarks.BenchmarkError as exc:
            print(f"{name}: {exc}; timing it again", file=sys.stderr)
            return func(loops)

    return run


def add_cmdline_args(cmd: list[str], args: argparse.Namespace) -> None:
    """Hand our own options on to pyperf's worker processes."""
    cmd += ["--with", args.with_peers, "--mechanisms", args.mechanisms]
    cmd += ["--scale", repr(args.scale), "--peers", args.peers, "--placements", args.placements]
    cmd += ["--exclude", args.exclude]


def main(workload: str) -> None:
    w = benchmarks.WORKLOADS[workload]
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.metadata["description"] = f"{w.title}: {w.description}"
    parser = runner.argparser
    parser.add_argument(
        "--with",
        dest="with_peers",
        default=DEFAULT_WITH.get(workload, OTHERS_WITH),
        help="comma list of optional peers: " + ", ".join(benchmarks.PEER_GROUPS),
    )
    parser.add_argument(
        "--mechanisms", default="", help="comma list of mechanisms (default: all registered)"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the units per run (calls, iterations, spawns) by this",
    )
    parser.add_argument(
        "--peers", default="", help="comma list: run only peers whose name contains one of these"
    )
    parser.add_argument(
        "--placements",
        default="same",
        help="null_syscall only: also these CPU placements (spread, none) for the tracers",
    )
    parser.add_argument(
        "--exclude",
        default="",
        help="comma list of benchmark names to leave out (the main process adds those whose "
        "trial run fails)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each benchmark, wait up to this long for the machine to be idle "
        "(other load skews a benchmark that runs alone; default: do not wait)",
    )
    parser.add_argument(
        "--no-preflight",
        action="store_true",
        help="do not try each case once before handing it to pyperf",
    )
    args = runner.parse_args()
    profile = benchmarks.Profile("pyperf", 0, 0, args.scale)
    mechs = _list(args.mechanisms) or None
    placements = ["same", *(p for p in _list(args.placements) if p != "same")]
    cases = benchmarks.plan(
        [workload],
        mechanism_names=mechs,
        with_peers=_list(args.with_peers),
        profile=profile,
        placements=placements,
    )
    patterns = _list(args.peers)
    skipped = [f"{c.peer.name}: {c.reason}" for c in cases if c.reason]
    if skipped:
        runner.metadata["skipped"] = "; ".join(skipped)
        if not args.worker:
            for line in skipped:
                print(f"{workload}: skipped {line}", file=sys.stderr)
    selected = [
        case
        for case in cases
        if case.func is not None
        and case.name not in _list(args.exclude)
        and (
            not patterns
            or case.peer.name == "untraced"
            or any(p in case.peer.name for p in patterns)
        )
    ]
    if not args.worker and not args.no_preflight:
        # A peer that fails (a mechanism still in the works) would stop the whole pyperf run
        # in a worker: try each once here, and tell the workers which ones to leave out.
        failed = []
        for case in selected:
            try:
                assert case.func is not None
                case.func(1)
            except Exception as exc:
                failed.append(case.name)
                reason = f"{case.peer.name}: failed: {type(exc).__name__}: {exc}"
                print(f"{workload}: skipped {reason}", file=sys.stderr)
                runner.metadata["skipped"] = "; ".join(
                    filter(None, [runner.metadata.get("skipped", ""), reason])
                )
        args.exclude = ",".join([*_list(args.exclude), *failed])
        selected = [c for c in selected if c.name not in failed]
    excluded = [c.peer.name for c in cases if c.name in _list(args.exclude)]
    if args.worker and excluded:
        notes = [f"{name}: left out (its trial run failed: see the log)" for name in excluded]
        runner.metadata["skipped"] = "; ".join([*skipped, *notes])
    for case in selected:
        if args.wait_quiet > 0 and not args.worker:
            waited = wait_quiet(args.wait_quiet)
            if waited > 1.0:
                print(f"{case.name}: waited {waited:.0f} s for a quiet machine", file=sys.stderr)
        assert case.func is not None
        runner.bench_time_func(
            case.name,
            retrying(case.name, case.func),
            inner_loops=case.units,
            metadata=case.metadata(),
        )
