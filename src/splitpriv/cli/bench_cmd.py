"""``splitpriv bench``: what each mechanism costs on this machine, next to strace and python-ptrace.

Runs the workloads of :mod:`splitpriv.benchmarks` under every peer in rounds (so ratios are
same-run) and prints one table: time per call (or iteration, spawn, run), ratio to untraced and
to strace, the fastest tracer of each workload marked. A mechanism this kernel lacks, or a peer
that is not installed, is shown with the reason instead of failing the run. ``--json`` writes
pyperf's format (``pyperf compare_to a.json b.json`` works on it), ``--plot`` a bar chart.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from splitpriv import benchmarks
from splitpriv.benchmarks import Case, Row, format_ratio, format_time, spread
from splitpriv.cli import console
from splitpriv.cli.main import CommandLineError
from splitpriv.nearest import did_you_mean


def _list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [item.strip() for item in text.split(",") if item.strip()]
    return [] if items == ["none"] else items


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    workloads = ", ".join(benchmarks.WORKLOADS)
    p = subparsers.add_parser(
        "bench",
        help="measure every mechanism side by side with strace and python-ptrace",
        description="Run the benchmark workloads untraced, under each mechanism and under the "
        "chosen peers, in one same-run comparison; print time per unit and ratios. "
        f"Workloads: {workloads}.",
    )
    p.add_argument(
        "--rigorous",
        action="store_true",
        help="longer runs and more values (several minutes) instead of the quick profile",
    )
    p.add_argument(
        "--profile",
        choices=list(benchmarks.PROFILES),
        help="quick (default), rigorous, or tiny (very short runs: tests the harness only)",
    )
    p.add_argument(
        "--mechanisms", metavar="LIST", help="comma list of mechanisms (default: every one)"
    )
    p.add_argument("--workloads", metavar="LIST", help=f"comma list of workloads: {workloads}")
    p.add_argument(
        "--with",
        dest="with_peers",
        metavar="LIST",
        default="strace",
        help="optional peers, comma list or 'none': strace (default), python-ptrace, "
        "raw (the C floor of each mechanism), variants (run/emulate, null_syscall only)",
    )
    p.add_argument("--json", metavar="FILE", help="write the results in pyperf's JSON format")
    p.add_argument(
        "--plot", metavar="FILE", help="write a bar chart per workload (.png or .svg; matplotlib)"
    )
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown instead")
    p.set_defaults(func=run_bench)


def render(rows: list[Row], title: str = "") -> Table:
    """The rich table: one section per workload, headed by its name and unit of work."""
    t = Table(title=title or None, title_justify="left")
    t.add_column("workload / peer", no_wrap=True)
    t.add_column("time", justify="right", no_wrap=True)
    t.add_column("±", justify="right", no_wrap=True)
    t.add_column("vs untraced", justify="right", no_wrap=True)
    t.add_column("vs strace", justify="right", no_wrap=True)
    t.add_column("", ratio=1)
    previous = None
    for r in rows:
        if r.workload != previous:
            if previous is not None:
                t.add_section()
            w = benchmarks.WORKLOADS.get(r.workload)
            unit = r.unit if r.time is not None else (w.unit if w else "run")
            t.add_row(f"[bold]{w.title if w else r.workload}[/] [dim](per {unit})[/]")
            previous = r.workload
        if r.time is None:
            t.add_row(f"  [dim]{r.label}[/]", "-", "", "", "", f"[dim]{r.note}[/]")
            continue
        t.add_row(
            f"  [bold green]{r.label}[/]" if r.fastest else f"  {r.label}",
            format_time(r.time),
            spread(r),
            format_ratio(r.vs_untraced),
            format_ratio(r.vs_strace),
            "[bold green]fastest[/]" if r.fastest else "",
        )
    return t


def _check_names(what: str, names: list[str] | None, known: list[str]) -> None:
    """A mistyped name in a comma list is a usage error (exit 2), with the nearest name."""
    for name in names or ():
        if name not in known:
            hint = did_you_mean(name, known)
            raise CommandLineError(
                "splitpriv bench",
                f"unknown {what} '{name}'{hint}; known: {', '.join(known)}",
            )


def run_bench(args: argparse.Namespace) -> int:
    profile = benchmarks.PROFILES["rigorous" if args.rigorous else args.profile or "quick"]
    if args.plot:
        missing = benchmarks.matplotlib_missing()
        if missing:
            console.error(f"--plot needs matplotlib: {missing}")
            return 1
        if Path(args.plot).suffix.lower() not in (".png", ".svg"):
            console.error(f"--plot: the file must end in .png or .svg, not {args.plot!r}")
            return 2
    _check_names("workload", _list(args.workloads), list(benchmarks.WORKLOADS))
    _check_names("mechanism", _list(args.mechanisms), benchmarks.ordered_mechanisms())
    cases = benchmarks.plan(
        _list(args.workloads),
        mechanism_names=_list(args.mechanisms),
        with_peers=_list(args.with_peers) or [],
        profile=profile,
    )
    err = console.stderr()
    for case in cases:
        if case.reason and case.peer.kind not in ("splitpriv", "raw"):
            err.print(f"[yellow]skipped[/] {case.name}: {case.reason}", markup=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"bench ({profile.name})", total=None)

        def progress(case: Case, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=case.name)

        results = benchmarks.measure(cases, profile, progress)
    rows = benchmarks.table(results)
    if args.markdown:
        sys.stdout.write(benchmarks.markdown(rows))
    else:
        title = f"splitpriv bench, {profile.name} profile: time per unit of work"
        console.stdout().print(render(rows, title))
    if args.json:
        command = "splitpriv " + shlex.join(sys.argv[1:])
        suite = benchmarks.to_suite(results, {"profile": profile.name, "bench_command": command})
        suite.dump(args.json, replace=True)
        err.print(f"wrote {args.json} (pyperf format)")
    if args.plot:
        benchmarks.plot(rows, args.plot, f"splitpriv bench ({profile.name})")
        err.print(f"wrote {args.plot}")
    return 0
