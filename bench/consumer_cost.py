"""What the trace runner's Python side costs per record: ``python3 bench/consumer_cost.py``.

``splitpriv trace`` splits its work in two: the C engine traces (one CPU, with the tracee), and
Python turns each record into strace's line (the other CPU). When Python needs more CPU per
record than the engine and tracee need per call, the run waits for Python at the end, and the
trace runner cannot be faster than the CPU time of its consumer. This script measures that CPU
time (``time.thread_time`` around the consumer, ``trace_cmd._consume``) for one command, with
full output and with ``-c`` (records read and counted, no line formatted), and prints it per
record next to the whole of ``strace -o /dev/null`` per call of the same command, in one run.

Default command: ``tar -cf`` of the benchmark fixture tree (the ``tar`` workload). Another:
``python3 bench/consumer_cost.py -- find /usr/share -fprint /dev/null``. The median of
``--runs`` (default 15) is printed; the machine should be otherwise idle.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from splitpriv import benchmarks
from splitpriv.cli import main as cli_main
from splitpriv.cli import trace_cmd


def consumer_times(trace_args: Sequence[str], command: Sequence[str], runs: int) -> list[float]:
    """Seconds of CPU the consumer thread used in each of ``runs`` runs of ``splitpriv trace``
    (in this process, so that the consumer can be timed)."""
    spent: list[float] = []
    original: Callable[..., int] = trace_cmd._consume

    def timed(*args: Any, **kwargs: Any) -> int:
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.thread_time() - start)

    trace_cmd._consume = timed  # type: ignore[assignment]
    try:
        for _ in range(runs):
            status = cli_main.main(["trace", *trace_args, "-o", os.devnull, *command])
            if status != 0:
                raise SystemExit(f"splitpriv trace exited with {status}")
    finally:
        trace_cmd._consume = original  # type: ignore[assignment]
    return spent


def strace_calls_and_time(command: Sequence[str], runs: int) -> tuple[int, float]:
    """How many calls strace counts in one run (-f -c), and the median wall time of
    ``strace -f -o /dev/null`` over ``runs`` runs, less its launch (strace of /bin/true)."""
    with tempfile.NamedTemporaryFile("r") as summary:
        subprocess.run(["strace", "-f", "-c", "-o", summary.name, *command], check=True)
        total = next(line for line in summary.read().splitlines() if line.endswith(" total"))
    calls = int(total.split()[3])

    def wall(argv: Sequence[str]) -> float:
        values = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            values.append(time.perf_counter() - start)
        return statistics.median(values)

    # strace at its best placement, as the benchmarks run it: tracer and tracee on one CPU
    # (on an idle VM a wake-up across CPUs can cost tens of microseconds).
    pin = ["taskset", "-c", str(max(os.sched_getaffinity(0)))]
    traced = wall([*pin, "strace", "-f", "-o", os.devnull, *command])
    launch = wall([*pin, "strace", "-o", os.devnull, "/bin/true"])
    return calls, traced - launch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("-m", "--mechanism", default="ptrace")
    parser.add_argument("command", nargs="*", help="the command to trace (default: tar -cf)")
    args = parser.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("strace not found on PATH")
    out = Path(tempfile.mkdtemp(prefix="consumer-cost-"))
    try:
        command = args.command
        if not command:
            root = benchmarks.fixtures().root
            command = ["tar", "-cf", str(out / "tree.tar"), "-C", str(root), "tree"]
        calls, strace_s = strace_calls_and_time(command, args.runs)
        full = consumer_times(["-f", "-m", args.mechanism], command, args.runs)
        counted = consumer_times(["-f", "-c", "-m", args.mechanism], command, args.runs)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    full_s, counted_s = statistics.median(full), statistics.median(counted)
    print(f"command: {' '.join(command)} ({calls} calls, strace -f -c)")
    for label, spent in (("full output", full_s), ("-c", counted_s)):
        print(f"consumer CPU, {label}: {spent * 1e3:.1f} ms, {spent / calls * 1e6:.2f} us/call")
    print(
        f"strace -o /dev/null, whole less its launch: {strace_s * 1e3:.1f} ms, "
        f"{strace_s / calls * 1e6:.2f} us/call"
    )
    print(f"consumer (full output) / strace, same run: {full_s / strace_s:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
