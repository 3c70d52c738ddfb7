"""Regenerate bench/RESULTS.md: ``python3 bench/make_results.py [--fast | --rigorous]``.

Runs every benchmark folder of bench/ with pyperf (one pyperf run per workload, every peer of the
workload in it, so ratios are same-run), writes the JSON files, the plot and the log of each run
into bench/results/, and RESULTS.md with the machine, the kernel, the commands, the date, the
target ratios and the full table. ``--no-run`` rebuilds RESULTS.md and the plot from the JSON
files already there.

Environment variables that choose what is measured (PYTHONPATH, SPLITPRIV_BENCH_DIR,
XDG_CACHE_HOME) are handed on to pyperf's worker processes.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyperf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compare

import splitpriv
from splitpriv import benchmarks, doctor

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
INHERIT = ("PYTHONPATH", "SPLITPRIV_BENCH_DIR", "XDG_CACHE_HOME")


def _first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if text else "-"


def _cpuinfo() -> tuple[str, bool]:
    model, hypervisor = platform.processor() or "-", False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("-", "", platform.processor()):
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and " hypervisor" in line:
                    hypervisor = True
    except OSError:
        pass
    return model, hypervisor


def _memory() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "-"


def _os_release() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "-"


def _git() -> str:
    head = _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True
    ).stdout.strip()
    return f"{head}{' with uncommitted changes' if dirty else ''}"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> list[tuple[str, str]]:
    """What the results were measured on, as (what, value) pairs."""
    model, hypervisor = _cpuinfo()
    virt = _first_line(["systemd-detect-virt"]) if shutil.which("systemd-detect-virt") else ""
    guest = (
        f", {virt} guest"
        if virt not in ("", "-", "none")
        else (", virtual machine" if hypervisor else "")
    )
    features = {f.name: f for f in doctor.probe_features()}
    sync = features.get("SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP")
    mechs = []
    for m in doctor.diagnose().mechanisms:
        mechs.append(m.name if m.available else f"{m.name} (unavailable: {m.reason})")
    load = os.getloadavg()
    return [
        ("CPU", f"{model}, {os.cpu_count()} CPUs{guest}"),
        ("memory", _memory()),
        ("kernel", f"Linux {platform.release()} ({platform.version()}) {platform.machine()}"),
        ("OS", _os_release()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("splitpriv", f"{splitpriv.__version__}, git {_git()}"),
        ("strace", _first_line(["strace", "-V"]) if shutil.which("strace") else "not installed"),
        ("python-ptrace", _version("python-ptrace")),
        ("pyperf", _version("pyperf")),
        ("mechanisms", ", ".join(mechs)),
        (
            "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP",
            "yes" if sync and sync.ok else f"no ({sync.detail if sync else 'not probed'})",
        ),
        ("load average before the run", f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"),
    ]


def run_workload(name: str, out: Path, pyperf_args: list[str]) -> list[str]:
    """Run bench/<name>/run_benchmark.py with pyperf into out/<name>.json; the command."""
    result, log = out / f"{name}.json", out / f"{name}.log"
    result.unlink(missing_ok=True)  # pyperf refuses to overwrite
    cmd = [sys.executable, str(BENCH / name / "run_benchmark.py"), *pyperf_args]
    inherit = [v for v in INHERIT if os.environ.get(v)]
    if inherit:
        cmd += ["--inherit-environ", ",".join(inherit)]
    cmd += ["-o", str(result)]
    for attempt in (1, 2):
        result.unlink(missing_ok=True)
        with open(log, "a" if attempt > 1 else "w") as f:
            done = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=ROOT)
        if done.returncode == 0:
            return cmd
        print(f"{name}: pyperf failed (exit {done.returncode}), see {log}", flush=True)
    raise SystemExit(f"{name}: pyperf failed twice, see {log}")


def _display(cmd: list[str]) -> str:
    """A command as a reader would type it (paths relative to the repository)."""
    parts = ["python3" if c == sys.executable else c for c in cmd]
    parts = [os.path.relpath(p, ROOT) if p.startswith(str(ROOT)) else p for p in parts]
    return shlex.join(parts)


def write_results(out: Path, profile: str, commands: list[str], target: Path) -> Path:
    files = [out / f"{n}.json" for n in benchmarks.WORKLOADS if (out / f"{n}.json").exists()]
    results = compare.load([str(f) for f in files])
    rows = benchmarks.table(results)
    plot_path = out / "bench.png"
    no_plot = benchmarks.matplotlib_missing()
    if no_plot is None:
        title = f"splitpriv benchmarks ({profile}), time per unit, log scale"
        benchmarks.plot(rows, plot_path, title)
    dates = []
    for f in files:
        suite = pyperf.BenchmarkSuite.load(str(f))
        for b in suite.get_benchmarks():
            date = b.get_metadata().get("date")
            if date:
                dates.append(str(date))
    when = max(dates) if dates else datetime.datetime.now().isoformat(timespec="seconds")
    info_file = out / "run_info.json"
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    elapsed = info.get("elapsed_s")
    described = [tuple(pair) for pair in info.get("machine", [])] or machine()
    lines = [
        "# splitpriv benchmark results",
        "",
        f"Measured {when[:16].replace('T', ' ')} (local time) with `python3 bench/make_results.py"
        f"{'' if profile == 'default' else ' --' + profile}`"
        + (f", {elapsed / 60:.1f} minutes" if elapsed else "")
        + ". Generated file: rerun the script rather than editing it. "
        "Every performance claim in the project points here.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v.replace('|', '/')} |" for k, v in described),
        "",
        "## How it was measured",
        "",
        "One pyperf run per workload, every peer of that workload in it, so each ratio is "
        "same-run. Each value is one whole run of the workload (launch, its calls, exit; and "
        "for splitpriv the session set-up) divided by the units it did: calls, loop "
        "iterations, spawns, or one program run. Peers: `untraced`; each splitpriv mechanism "
        'through `splitpriv.trace(...)` with every event decoded and dropped (`cpu="same"`); '
        "`(run)` and `(emulate)` use `splitpriv.run`; `strace -o /dev/null` (`-f` for "
        "multi-process workloads) and `strace -f --seccomp-bpf`, pinned to one CPU as "
        "`taskset -c N` would; python-ptrace's `strace.py`, pinned too; `raw ...`: the smallest "
        "C supervisor doing what a mechanism does (`bench/csrc/raw_tracer.c`, the floor). "
        "The `stub actions` workload has peers of its own: `<mechanism>/<action>/<protect>` "
        "for the stub mechanisms, the raw floors `floor/...` (`bench/csrc/sigsys_floor.c`, "
        "`bench/csrc/channel_roundtrip.c`), `ptrace/trace`, `cli/<mechanism>` (`splitpriv "
        "trace -f -m M -o FILE`), and their twins: `loop/...` (the program times its own loop, "
        "`bench/csrc/getppid_timed.c`) and `launch/...` (the same with no calls). "
        "The exact command of every peer is in the JSON metadata (`peer_command`, and "
        "`peer_note` where the name cannot say what a peer measures). Tables and "
        "the plot show the median of each benchmark's values (`±`: standard deviation over "
        "median); before each benchmark the harness waited for the machine to be idle "
        "(`--wait-quiet`), since these VMs are shared and a benchmark runs alone.",
        "",
        "```sh",
        *commands,
        f"python3 bench/compare.py {' '.join(os.path.relpath(f, ROOT) for f in files)}",
        "```",
        "",
        "## Targets",
        "",
        "Each splitpriv mechanism within 1.15x of its raw C floor on the null syscall; selective "
        "`seccomp-trace` and `seccomp-notify` within 1.1x of untraced (issue 4). Whole runs are "
        "compared, so the per-session set-up counts; the startup-corrected per-call ratio "
        "(the `startup` workload's launch cost taken out of both sides) isolates the loop.",
        "",
        "The trace runner (issue 3): `splitpriv trace -m ptrace -o /dev/null` no slower than "
        "`strace -o /dev/null` on the getppid loop and the real workloads. Twice: whole runs, "
        "and with each command's launch (its run of the `startup` program, which makes no "
        "calls) subtracted from both sides, which leaves what tracing the workload costs.",
        "",
        "The unprivileged mode (`stub actions`, each protect mode): allow, log and deny within "
        "1.3x of the raw C floor of the mechanism's own trap (a SIGSYS handler answering at "
        "once); ask within 2x of that floor plus one raw round trip of the ask channel; "
        "`splitpriv trace -m sud` at least 4x faster than `splitpriv trace -m ptrace` with full "
        "output. Each ratio twice: whole runs (the session set-up and tear-down count), and per "
        "call: the loop as the traced program timed it (`loop/` twins of the same run), or for "
        "the CLI, whose output is written after the loop, the whole run minus its `launch/` "
        "twin. A peer that cannot run here is listed as skipped with the reason.",
        "",
        compare.ratio_table(compare.ratios(results)).rstrip(),
        "",
        "## All results",
        "",
        "Fastest tracer per workload in bold (raw floors not ranked). `vs strace` is plain "
        "`strace` of the same run.",
        "",
        benchmarks.markdown(rows).rstrip(),
        "",
        "## Plot",
        "",
    ]
    if no_plot is None:
        lines += [
            f"`{os.path.relpath(plot_path, ROOT)}`: one chart per workload, log scale, one "
            "colour per mechanism in every chart (its raw floor in the lighter shade).",
            "",
            f"![splitpriv benchmarks]({os.path.relpath(plot_path, target.resolve().parent)})",
            "",
        ]
    else:
        lines += [f"No plot: {no_plot}.", ""]
    target.write_text("\n".join(lines))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--fast", action="store_true", help="pyperf --fast (default)")
    speed.add_argument("--rigorous", action="store_true", help="pyperf --rigorous (long)")
    speed.add_argument("--default", action="store_true", help="pyperf's default settings")
    parser.add_argument(
        "--workloads",
        default=",".join(benchmarks.WORKLOADS),
        help="comma list of workloads (default: all)",
    )
    parser.add_argument("--out", default=str(BENCH / "results"), help="where the files go")
    parser.add_argument(
        "--results", default=str(BENCH / "RESULTS.md"), help="the Markdown file to write"
    )
    parser.add_argument(
        "--no-run", action="store_true", help="only rebuild RESULTS.md from the JSON files"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="before each benchmark wait up to this long for an idle machine (default 30)",
    )
    parser.add_argument(
        "--pyperf-args", default="", help="more pyperf options, e.g. '-p 6' (one string)"
    )
    args = parser.parse_args()
    profile = "rigorous" if args.rigorous else "default" if args.default else "fast"
    names = [n for n in args.workloads.split(",") if n]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pyperf_args = ([] if profile == "default" else [f"--{profile}"]) + shlex.split(args.pyperf_args)
    if args.wait_quiet > 0:
        pyperf_args += ["--wait-quiet", f"{args.wait_quiet:g}"]
    commands = []
    info_file = out / "run_info.json"
    subset = set(names) != set(benchmarks.WORKLOADS)
    if subset and info_file.exists() and not args.no_run:
        # Re-running some workloads: keep the description of the full run, note this one.
        info = json.loads(info_file.read_text())
        load = os.getloadavg()
        when = datetime.datetime.now().isoformat(timespec="minutes")
        info["machine"].append(
            (f"re-run of {', '.join(names)}", f"{when}, git {_git()}, load before {load[0]:.2f}")
        )
    else:
        info = {"machine": machine()}
    t0 = time.monotonic()
    for name in benchmarks.WORKLOADS:
        cmd = [sys.executable, str(BENCH / name / "run_benchmark.py"), *pyperf_args]
        commands.append(_display([*cmd, "-o", str(out / f"{name}.json")]))
    for i, name in enumerate(names, 1):
        if not args.no_run:
            print(f"[{i}/{len(names)}] {name} ...", flush=True)
            run_workload(name, out, pyperf_args)
    if not args.no_run:
        info["elapsed_s"] = info.get("elapsed_s", 0.0) + time.monotonic() - t0
        load = os.getloadavg()
        info["machine"].append(
            (
                "load average after the re-run" if subset else "load average after the run",
                f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            )
        )
        info_file.write_text(json.dumps(info, indent=1) + "\n")
    target = write_results(out, profile, commands, Path(args.results))
    print(f"wrote {os.path.relpath(target, Path.cwd())}")


if __name__ == "__main__":
    main()
