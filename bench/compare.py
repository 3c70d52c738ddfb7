"""Report of bench/ results: ``python3 bench/compare.py RESULT.json [RESULT.json ...]``.

Reads pyperf JSON files written by ``bench/<workload>/run_benchmark.py -o`` (or by
``splitpriv bench --json``) and prints the table (time per unit, ratio to untraced and to strace
of the same run) and the ratios the project's targets are stated in (issue 4):

* each splitpriv mechanism against the raw C supervisor doing the same work (its floor), same
  run, same CPU placement: target <= 1.15;
* the trace runner, ``splitpriv trace -m ptrace -o /dev/null``, against ``strace -o /dev/null``
  on the getppid loop and the real workloads: target <= 1.0 (issue 3), for whole runs (start-up
  included) and with each command's launch subtracted (its run of a program that makes no
  calls, measured in the startup workload);
* selective tracing (only a syscall the loop never makes is traced): seccomp-trace and
  seccomp-notify against untraced, same run: target <= 1.1. Whole runs are compared, so the
  session set-up (see the startup workload) counts; the startup-corrected per-call ratio is
  printed beside it when the startup workload was measured too.

And those of the unprivileged mode (the stub mechanisms ``sud`` and ``seccomp-trap``, workload
``stub_actions``), each in every protect mode:

* allow, log and deny against the raw C floor of the mechanism's own trap (a SIGSYS handler that
  answers at once): target <= 1.3;
* ask against that floor plus one raw round trip of the ask channel: target <= 2;
* ``splitpriv trace -m ptrace`` against ``splitpriv trace -m sud`` (full output to a file):
  target >= 4.

Each of these twice: whole runs (the session set-up and tear-down count, as above), and per
call: the loop as the traced program timed it itself (the loop/ twin of each peer, same run),
or for the CLI, whose output is written after the program's loop, the whole run minus the
launch (the launch/ twin: the same command making no calls).
A target whose peer could not run here (protect="pkey" without protection keys) is listed as
skipped, with the reason.

``--check`` exits with 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyperf

from splitpriv import benchmarks
from splitpriv.benchmarks import Measurement

FLOOR_TARGET = 1.15
SELECTIVE_TARGET = 1.1
STUB_WORKLOAD = "stub_actions"
STUB_TARGET = 1.3  # allow, log, deny vs the floor of the mechanism's trap
ASK_TARGET = 2.0  # ask vs (floor + one channel round trip)
CLI_TARGET = 4.0  # splitpriv trace -m ptrace vs -m sud, at least
CLI_STRACE_TARGET = 1.0  # splitpriv trace -m ptrace vs strace, full output, at most
STUB_NOTES = {
    ("seccomp-trap", "allow"): "a no-op rewrite, so that getppid reaches the stub",
    ("seccomp-trap", "deny"): "answered by the filter (RET_ERRNO): no trap at all",
    ("sud", "ask"): "Python callback",
    ("seccomp-trap", "ask"): "Python callback",
}
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
    value: float | None  # None: a peer it needs could not run here (the note says why)
    target: float | None
    note: str = ""
    at_least: bool = False  # the target is a minimum (a speed-up), not a maximum

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.value is None:
            return "skipped"
        met = self.value >= self.target if self.at_least else self.value <= self.target
        return "MET" if met else "MISSED"


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
    launch = benchmarks.CLI_LAUNCH_WORKLOAD
    for w in benchmarks.CLI_WORKLOADS:
        what = f"{w}: splitpriv trace -m ptrace vs strace (-o /dev/null, whole runs)"
        add(what, f"{w}/cli-ptrace", f"{w}/strace", CLI_STRACE_TARGET)
        # The same with each command's launch (its run of a program that makes no calls, in
        # the startup workload) taken out: what the trace itself costs, per unit.
        sp = per_call(f"{w}/cli-ptrace", f"{launch}/cli-ptrace")
        st = per_call(f"{w}/strace", f"{launch}/strace")
        if sp is not None and st is not None:
            what = f"{w}: splitpriv trace -m ptrace vs strace (-o /dev/null, launch subtracted)"
            if st > 0:
                out.append(Ratio(what, sp / st, CLI_STRACE_TARGET))
            else:  # a run so short that the launches' noise is larger than strace's trace
                out.append(Ratio(what, None, CLI_STRACE_TARGET, "strace's launch >= its run"))
    add(
        f"{launch}: splitpriv trace -m ptrace vs strace (-o /dev/null, the launch alone)",
        f"{launch}/cli-ptrace",
        f"{launch}/strace",
        None,
    )
    for raw in ("raw-seccomp-trace-selective", "raw-notify-selective"):
        add(f"selective: {raw} vs untraced", f"selective/{raw}", "selective/untraced", None)
    for m in results:
        if m.workload == "startup" and m.kind == "splitpriv" and m.peer != "cli-ptrace":
            add(f"startup: splitpriv {m.label} vs untraced", m.name, "startup/untraced", None)
    return out + stub_action_ratios(results)


def stub_action_ratios(results: Sequence[Measurement]) -> list[Ratio]:
    """The unprivileged mode's targets (workload stub_actions): each ratio for whole runs, and
    per call: from the loop/ twins (the loop as the program timed it) or, for the CLI, from the
    launch/ twins (the launch subtracted from the whole run)."""
    ms = [m for m in results if m.workload == STUB_WORKLOAD]
    whole = {m.peer: m.median for m in ms if m.median is not None}
    skipped = {m.peer: m.reason for m in ms if m.reason}
    units = {m.peer: m.units for m in ms}
    out: list[Ratio] = []

    def loop(peer: str) -> float | None:
        return whole.get(benchmarks.LOOP_PREFIX + peer)

    def launch_subtracted(peer: str) -> float | None:
        launch = whole.get(benchmarks.LAUNCH_PREFIX + peer)
        if peer not in whole or launch is None:
            return None
        return whole[peer] - launch / units[peer]

    per_call = (
        ("whole run", whole.get),
        ("per call, loop timed by the program", loop),
        ("per call, launch subtracted", launch_subtracted),
    )

    def pair(what: str, num: str, den: Sequence[str], target: float | None, **kw: Any) -> None:
        """num / sum(den) each way both sides were measured; skipped if a peer could not run."""
        missing = [skipped[p] for p in (num, *den) if p in skipped]
        if missing:
            kw["note"] = missing[0]
            out.append(Ratio(f"{STUB_WORKLOAD}: {what}", None, target, **kw))
            return
        for how, get in per_call:
            a, parts = get(num), [get(p) for p in den]
            if a is None or any(b is None for b in parts):
                continue
            b = sum(b for b in parts if b is not None)
            if b > 0:
                out.append(Ratio(f"{STUB_WORKLOAD}: {what}, {how}", a / b, target, **kw))

    for mech, floor in benchmarks.STUB_FLOORS.items():
        for protect in benchmarks.PROTECT_MODES:
            for action in ("allow", "log", "deny"):
                peer = f"{mech}/{action}/{protect}"
                if peer in whole or peer in skipped:
                    note = STUB_NOTES.get((mech, action), "")
                    pair(f"{peer} vs {floor}", peer, [floor], STUB_TARGET, note=note)
            peer = f"{mech}/ask/{protect}"
            if peer in whole or peer in skipped:
                what = f"{peer} vs {floor} + {benchmarks.CHANNEL_FLOOR}"
                note = STUB_NOTES.get((mech, "ask"), "")
                pair(what, peer, [floor, benchmarks.CHANNEL_FLOOR], ASK_TARGET, note=note)
    what = "cli/ptrace vs cli/sud (splitpriv trace -f -m M -o FILE, full output)"
    pair(what, "cli/ptrace", ["cli/sud"], CLI_TARGET, at_least=True)
    pair(
        "ptrace/trace vs sud/log/none (every event decoded)", "ptrace/trace", ["sud/log/none"], None
    )
    pair(
        "floor/channel-roundtrip vs the same with a futex wake",
        benchmarks.CHANNEL_FLOOR,
        ["floor/channel-roundtrip-futex"],
        None,
    )
    return out


def ratio_table(items: Sequence[Ratio]) -> str:
    """The ratios as a Markdown table."""
    lines = ["| ratio (same run) | value | target | |", "|---|---:|---:|---|"]
    for r in items:
        target = ""
        if r.target is not None:
            target = f"{'>=' if r.at_least else '<='} {r.target:.2f}"
        verdict = f"**{r.verdict}**" if r.verdict == "MISSED" else r.verdict
        extra = f" ({r.note})" if r.note else ""
        value = "-" if r.value is None else f"{r.value:.2f}"
        lines.append(f"| {r.what} | {value} | {target} | {verdict}{extra} |")
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
