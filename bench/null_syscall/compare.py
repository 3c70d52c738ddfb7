"""Report of a null_syscall run: ``python3 bench/null_syscall/compare.py RESULT.json``.

Reads the pyperf JSON file written by ``run_benchmark.py -o RESULT.json`` and prints, per
benchmark, the time per getppid call and its ratio to the untraced run; then the ratios the
project's targets are stated in (splitpriv against the raw C tracer doing the same work, same
CPU placement for both, target <= 1.15) and the cost of each CPU placement.
"""

from __future__ import annotations

import argparse
import sys

import pyperf

TARGET = 1.15

# (what, splitpriv benchmark, floor benchmark, target or None)
RATIOS = (
    (
        "ptrace trace vs raw ptrace, same CPU",
        "splitpriv-ptrace-trace-same",
        "raw-ptrace-same",
        TARGET,
    ),
    (
        "sysemu trace vs raw sysemu, same CPU",
        "splitpriv-sysemu-trace-same",
        "raw-sysemu-same",
        TARGET,
    ),
    (
        "sysemu run vs raw sysemu-run, same CPU",
        "splitpriv-sysemu-run-same",
        "raw-sysemu-run-same",
        TARGET,
    ),
    (
        "sysemu emulate vs raw sysemu-emulate, same CPU",
        "splitpriv-sysemu-emulate-same",
        "raw-sysemu-emulate-same",
        TARGET,
    ),
    ("ptrace run vs raw ptrace, same CPU", "splitpriv-ptrace-run-same", "raw-ptrace-same", None),
    (
        "ptrace trace vs raw ptrace-info, same CPU",
        "splitpriv-ptrace-trace-same",
        "raw-ptrace-info-same",
        None,
    ),
    (
        "ptrace run vs raw ptrace-info, same CPU",
        "splitpriv-ptrace-run-same",
        "raw-ptrace-info-same",
        None,
    ),
    (
        "ptrace trace vs raw ptrace, spread",
        "splitpriv-ptrace-trace-spread",
        "raw-ptrace-spread",
        None,
    ),
    ("ptrace trace vs raw ptrace, none", "splitpriv-ptrace-trace-none", "raw-ptrace-none", None),
    ("raw ptrace: spread vs same", "raw-ptrace-spread", "raw-ptrace-same", None),
    ("raw ptrace: none vs same", "raw-ptrace-none", "raw-ptrace-same", None),
    (
        "splitpriv ptrace trace: spread vs same",
        "splitpriv-ptrace-trace-spread",
        "splitpriv-ptrace-trace-same",
        None,
    ),
    (
        "splitpriv ptrace trace: none vs same",
        "splitpriv-ptrace-trace-none",
        "splitpriv-ptrace-trace-same",
        None,
    ),
    ("raw sysemu: spread vs same", "raw-sysemu-spread", "raw-sysemu-same", None),
)


def ns(seconds: float) -> str:
    return f"{seconds * 1e9:,.0f}"


def report(path: str) -> int:
    suite = pyperf.BenchmarkSuite.load(path)
    means: dict[str, float] = {}
    rows = []
    for bench in suite.get_benchmarks():
        name = bench.get_name()
        mean = bench.mean()
        means[name] = mean
        stdev = bench.stdev() if bench.get_nvalue() > 1 else 0.0
        calls = bench.get_metadata().get("calls_per_run", "?")
        rows.append((name, mean, stdev, calls))

    base = means.get("untraced")
    width = max(len(r[0]) for r in rows)
    head = f"{'ns/call':>10}  {'+-':>8}  {'calls/run':>9}  {'x untraced':>10}"
    print(f"{'benchmark':<{width}}  {head}")
    for name, mean, stdev, calls in rows:
        ratio = f"{mean / base:,.1f}" if base else "-"
        print(f"{name:<{width}}  {ns(mean):>10}  {ns(stdev):>8}  {calls!s:>9}  {ratio:>10}")

    print()
    width = max(len(r[0]) for r in RATIOS)
    print(f"{'ratio':<{width}}  {'value':>6}  target")
    failed = False
    for what, num, den, target in RATIOS:
        if num not in means or den not in means:
            continue
        value = means[num] / means[den]
        verdict = ""
        if target is not None:
            ok = value <= target
            failed |= not ok
            verdict = f"<= {target:.2f} {'ok' if ok else 'MISSED'}"
        print(f"{what:<{width}}  {value:>6.2f}  {verdict}")

    placements = {
        p: means[f"splitpriv-ptrace-trace-{p}"]
        for p in ("same", "spread", "none")
        if f"splitpriv-ptrace-trace-{p}" in means
    }
    if placements:
        best = min(placements, key=placements.__getitem__)
        print(
            f"\nfastest placement for splitpriv ptrace trace: {best} "
            f"({ns(placements[best])} ns/call)"
        )
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", help="pyperf JSON file from run_benchmark.py -o")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target ratio is missed"
    )
    args = parser.parse_args()
    rc = report(args.result)
    sys.exit(rc if args.check else 0)


if __name__ == "__main__":
    main()
