"""Report of bench/ results: ``python3 bench/compare.py RESULT.json [RESULT.json ...]``.

Reads pyperf JSON files written by ``bench/<workload>/run_benchmark.py -o`` (or by
``splitpriv bench --json``) and prints the table (time per unit, ratio to untraced and to strace
of the same run) and the ratios the project's targets are stated in (issue 4):

* each splitpriv mechanism against the raw C supervisor doing the same work (its floor), same
  run, same CPU placement: target <= 1.15;
* selective tracing (only a syscall the loop never makes is traced): seccomp-trace and
  seccomp-notify against untraced, same run: target <= 1.1. Whole runs are compared, so the
  session set-up (see the startup workload) counts; the startup-corrected per-call ratio is
  printed beside it when the startup workload was measured too.

``--check`` exits with 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import pyperf

from splitpriv import benchmarks
from splitpriv.benchmarks import Measurement

FLOOR_TARGET = 1.15
SELECTIVE_TARGET = 1.1
SELECTIVE_MECHANISMS = ("seccomp-trace", "seccomp-notify")
TARGET_WORKLOADS = ("null_syscall", "selective")
# the raw peer of the startup workload that measures each mechanism's floor's launch cost
FLOOR_STARTUP = {
    "ptrace": "ptrace",
    "sysemu": "sysemu",
    "seccomp-trace": "seccomp-trace-exit",
    "seccomp-notify": "notify",
}
EXTRA_PAIRS = (  # informative, no target
    ("splitpriv-ptrace-run", "raw-ptrace"),
    ("splitpriv-ptrace-emulate", "raw-ptrace"),
    ("splitpriv-ptrace", "raw-ptrace-info"),
    ("splitpriv-seccomp-trace-run", "untraced"),
    ("splitpriv-seccomp-notify-run", "untraced"),
    ("raw-seccomp-trace-exit", "raw-seccomp-trace"),
    ("raw-notify", "raw-notify-nosync"),
    ("strace", "raw-ptrace"),
)


@dataclass(frozen=True)
class Ratio:
    what: str
    value: float
    target: float | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.value <= self.target else "MISSED"


def load(paths: Sequence[str]) -> list[Measurement]:
    out: list[Measurement] = []
    for path in paths:
        out += benchmarks.from_suite(pyperf.BenchmarkSuite.load(path))
    return out


def ratios(results: Sequence[Measurement]) -> list[Ratio]:
    """The target ratios and a few telling others, from whatever was measured."""
    means = {m.name: m.median for m in results if m.median is not None}
    units = {m.name: m.units for m in results}
    out: list[Ratio] = []

    def add(what: str, num: str, den: str, target: float | None, note: str = "") -> None:
        a, b = means.get(num), means.get(den)
        if a is not None and b:
            out.append(Ratio(what, a / b, target, note))

    def per_call(name: str, startup: str) -> float | None:
        """Time per call of a null_syscall/selective case without its launch cost."""
        if name not in means or startup not in means:
            return None
        return means[name] - means[startup] / units[name]

    for m in results:
        if m.floor_of and m.median is not None:
            sp = f"{m.workload}/{m.floor_of}"
            target = FLOOR_TARGET if m.workload in TARGET_WORKLOADS and "@" not in m.peer else None
            note = ""
            if m.workload in TARGET_WORKLOADS:
                mech_peer = "splitpriv-" + (m.mechanism or "")
                a = per_call(sp, f"startup/{mech_peer}")
                b = per_call(m.name, f"startup/raw-{FLOOR_STARTUP.get(m.mechanism or '', '')}")
                if a is not None and b:
                    note = f"startup-corrected per call: {a / b:.2f}"
            add(
                f"{m.workload}: splitpriv {m.floor_of.removeprefix('splitpriv-')} vs {m.label}",
                sp,
                m.name,
                target,
                note,
            )
    for num, den in EXTRA_PAIRS:
        add(f"null_syscall: {num} vs {den}", f"null_syscall/{num}", f"null_syscall/{den}", None)
    for mech in SELECTIVE_MECHANISMS:
        num, den = f"selective/splitpriv-{mech}", "selective/untraced"
        note = ""
        start_sp, start_un = means.get(f"startup/splitpriv-{mech}"), means.get("startup/untraced")
        if num in means and den in means and start_sp is not None and start_un is not None:
            # whole run minus the launch, per call
            per_call_sp = means[num] - start_sp / units[num]
            per_call_un = means[den] - start_un / units[den]
            if per_call_un > 0:
                note = f"startup-corrected per call: {per_call_sp / per_call_un:.2f}"
        add(f"selective: splitpriv {mech} vs untraced", num, den, SELECTIVE_TARGET, note)
    for raw in ("raw-seccomp-trace-selective", "raw-notify-selective"):
        add(f"selective: {raw} vs untraced", f"selective/{raw}", "selective/untraced", None)
    for m in results:
        if m.workload == "startup" and m.kind == "splitpriv" and m.median is not None:
            add(f"startup: splitpriv {m.label} vs untraced", m.name, "startup/untraced", None)
    return out


def ratio_table(items: Sequence[Ratio]) -> str:
    """The ratios as a Markdown table."""
    lines = ["| ratio (same run) | value | target | |", "|---|---:|---:|---|"]
    for r in items:
        target = f"<= {r.target:.2f}" if r.target is not None else ""
        verdict = f"**{r.verdict}**" if r.verdict == "MISSED" else r.verdict
        extra = f" ({r.note})" if r.note else ""
        lines.append(f"| {r.what} | {r.value:.2f} | {target} | {verdict}{extra} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="pyperf JSON files")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when a target ratio is missed"
    )
    args = parser.parse_args()
    results = load(args.results)
    sys.stdout.write(benchmarks.markdown(benchmarks.table(results)))
    print()
    items = ratios(results)
    sys.stdout.write(ratio_table(items))
    missed = [r for r in items if r.verdict == "MISSED"]
    sys.exit(1 if args.check and missed else 0)


if __name__ == "__main__":
    main()
