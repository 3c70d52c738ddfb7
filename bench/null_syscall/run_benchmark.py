"""null_syscall: the cost of one traced getppid, for every way splitpriv can trace it and for the
smallest C tracer that does the same work (the floor), in one pyperf run so ratios are same-run.

The tracee (getppid_loop.c) makes N raw ``syscall(SYS_getppid)`` calls and exits. Each benchmark
value is the time to run that whole program ``loops`` times, divided by ``loops * N`` (pyperf's
``inner_loops``): pyperf reports seconds per getppid call. Process startup (fork, exec, dynamic
loading, ~30 startup syscalls and, for splitpriv, setting up a session) is included in every
variant alike; with the default N it is a few percent of the untraced time and noise for the
traced ones. Run ``--calls 0`` to see it alone.

Benchmarks (``--benchmarks`` selects by substring, ``--placements`` by CPU placement):

* ``untraced``: the program spawned with os.posix_spawn and waited for;
* ``raw-<mode>-<placement>``: raw_tracer.c, the floor of each mechanism (its header says what
  each mode does; ``ptrace-info`` adds the PTRACE_GET_SYSCALL_INFO per stop that any tracer
  looking at the calls needs, ``sysemu-run`` is sysemu without the exit stop, as splitpriv.run);
* ``splitpriv-ptrace-trace-<placement>``: ``splitpriv.trace(mechanism="ptrace")`` iterated to
  the end, every call recorded and decoded into an event (what users of trace() do);
* ``splitpriv-<mechanism>-run-same``: ``splitpriv.run()``, nothing recorded;
* ``splitpriv-sysemu-trace-same``: ``splitpriv.trace(mechanism="sysemu")`` iterated;
* ``splitpriv-sysemu-emulate-same``: ``splitpriv.run()`` with getppid emulated (returns 1),
  against ``raw-sysemu-emulate-same``; the tracee checks that it saw 1.

Placement ``same`` pins tracer and tracee to one CPU, ``spread`` puts them on two, ``none``
leaves it to the scheduler. Cross-CPU wake-ups are ~30x dearer on these VMs, so the ``spread``
and ``none`` variants run ``--cross-calls`` calls (fewer) instead of ``--calls``; the value is
still per call.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyperf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build

import splitpriv

DEFAULT_CALLS = 20_000
DEFAULT_CROSS_CALLS = 2_000
PLACEMENTS = ("same", "spread", "none")

TimeFunc = Callable[[int], float]


def check_status(what: str, status: int) -> None:
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise RuntimeError(f"{what}: the traced program failed (wait status {status:#x})")


def spawn_loop(argv: list[str]) -> TimeFunc:
    """Run ``argv`` ``loops`` times with posix_spawn; argv[0] is a path."""

    def run(loops: int) -> float:
        env = os.environ
        t0 = time.perf_counter()
        for _ in range(loops):
            pid = os.posix_spawn(argv[0], argv, env)
            _, status = os.waitpid(pid, 0)
            check_status(argv[0], status)
        return time.perf_counter() - t0

    return run


def splitpriv_trace(argv: list[str], mechanism: str, cpu: str) -> TimeFunc:
    def run(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            with splitpriv.trace(argv, mechanism=mechanism, cpu=cpu) as t:
                for _event in t:
                    pass
            if t.exit_status is None or t.exit_status.code != 0:
                raise RuntimeError(f"splitpriv.trace: the program ended with {t.exit_status}")
        return time.perf_counter() - t0

    return run


def splitpriv_run(
    argv: list[str], mechanism: str, cpu: str, policy: splitpriv.Policy | None = None
) -> TimeFunc:
    def run(loops: int) -> float:
        t0 = time.perf_counter()
        for _ in range(loops):
            result = splitpriv.run(argv, mechanism=mechanism, cpu=cpu, policy=policy)
            if result.returncode != 0:
                raise RuntimeError(f"splitpriv.run: the program ended with {result.exit_status}")
        return time.perf_counter() - t0

    return run


def benchmarks(calls: int, cross_calls: int) -> list[tuple[str, int, TimeFunc]]:
    """Every benchmark as (name, calls per run, time function), in the order they run."""
    progs = build.build()
    loop, raw = str(progs["getppid_loop"]), str(progs["raw_tracer"])

    def n_for(cpu: str) -> int:
        return calls if cpu == "same" else cross_calls

    def prog(cpu: str, expect: int | None = None) -> list[str]:
        argv = [loop, str(n_for(cpu))]
        return argv if expect is None else [*argv, str(expect)]

    emulate_getppid = splitpriv.Policy().emulate("getppid", retval=1)
    out: list[tuple[str, int, TimeFunc]] = [("untraced", calls, spawn_loop(prog("same")))]
    for mode, cpus in (
        ("ptrace", PLACEMENTS),
        ("ptrace-info", ("same",)),
        ("sysemu", ("same", "spread")),
        ("sysemu-run", ("same",)),
        ("sysemu-emulate", ("same",)),
    ):
        for cpu in cpus:
            expect = 1 if mode == "sysemu-emulate" else None
            argv = [raw, mode, cpu, *prog(cpu, expect)]
            out.append((f"raw-{mode}-{cpu}", n_for(cpu), spawn_loop(argv)))
    for cpu in PLACEMENTS:
        out.append(
            (f"splitpriv-ptrace-trace-{cpu}", n_for(cpu), splitpriv_trace(prog(cpu), "ptrace", cpu))
        )
    out += [
        ("splitpriv-ptrace-run-same", calls, splitpriv_run(prog("same"), "ptrace", "same")),
        ("splitpriv-sysemu-trace-same", calls, splitpriv_trace(prog("same"), "sysemu", "same")),
        ("splitpriv-sysemu-run-same", calls, splitpriv_run(prog("same"), "sysemu", "same")),
        (
            "splitpriv-sysemu-emulate-same",
            calls,
            splitpriv_run(prog("same", 1), "sysemu", "same", emulate_getppid),
        ),
    ]
    return out


def selected(name: str, patterns: list[str], placements: list[str]) -> bool:
    if name != "untraced" and not any(name.endswith("-" + p) for p in placements):
        return False
    return not patterns or any(p in name for p in patterns)


def add_cmdline_args(cmd: list[str], args: argparse.Namespace) -> None:
    """Hand our own options on to pyperf's worker processes."""
    cmd += ["--calls", str(args.calls), "--cross-calls", str(args.cross_calls)]
    cmd += ["--benchmarks", args.benchmarks, "--placements", args.placements]


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.metadata["description"] = "null syscall (getppid) under splitpriv and raw C tracers"
    parser = runner.argparser
    parser.add_argument(
        "--calls",
        type=int,
        default=DEFAULT_CALLS,
        help=f"getppid calls per run on one CPU (default {DEFAULT_CALLS})",
    )
    parser.add_argument(
        "--cross-calls",
        type=int,
        default=DEFAULT_CROSS_CALLS,
        help="getppid calls per run for the spread and none placements "
        f"(default {DEFAULT_CROSS_CALLS})",
    )
    parser.add_argument(
        "--benchmarks",
        default="",
        help="comma list: run only benchmarks whose name contains one of these",
    )
    parser.add_argument(
        "--placements",
        default=",".join(PLACEMENTS),
        help="comma list of CPU placements to run (default: all)",
    )
    args = runner.parse_args()
    patterns = [p for p in args.benchmarks.split(",") if p]
    placements = [p for p in args.placements.split(",") if p]
    runner.metadata["null_syscall_calls"] = args.calls
    runner.metadata["null_syscall_cross_calls"] = args.cross_calls

    for name, n, func in benchmarks(args.calls, args.cross_calls):
        if selected(name, patterns, placements):
            runner.bench_time_func(name, func, inner_loops=max(n, 1), metadata={"calls_per_run": n})


if __name__ == "__main__":
    main()
