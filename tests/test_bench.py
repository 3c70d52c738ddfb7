"""The benchmark harness on a tiny profile: it runs for real, writes a well-formed table, JSON
that pyperf loads and compares, a valid PNG/SVG; missing peers and matplotlib are reported, not
fatal. No timing assertions: the figures of a tiny run mean nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyperf
import pytest

from splitpriv import benchmarks, mechanisms

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAVE_MATPLOTLIB = benchmarks.matplotlib_missing() is None
HAVE_STRACE = benchmarks.strace_path() is not None


def splitpriv_cli(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "splitpriv", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )


def table_lines(markdown: str) -> list[list[str]]:
    """The cells of each line of a Markdown table, checking every line has the same count."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]
    assert rows, markdown
    assert all(len(r) == len(rows[0]) for r in rows), markdown
    assert set(rows[1]) <= {"---", "---:"}, "second line must be the separator"
    return rows[2:]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("bench")
    args = ["bench", "--profile", "tiny", "--workloads", "null_syscall,find", "--markdown"]
    args += ["--json", str(out / "tiny.json")]
    if HAVE_MATPLOTLIB:
        args += ["--plot", str(out / "tiny.png")]
    done = splitpriv_cli(*args)
    return {"done": done, "out": out}


def test_cli_markdown_table_is_well_formed(tiny_run: dict[str, object]) -> None:
    done = tiny_run["done"]
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 0, done.stderr
    rows = table_lines(done.stdout)
    by_workload: dict[str, list[list[str]]] = {}
    for row in rows:
        by_workload.setdefault(row[0], []).append(row)
    assert set(by_workload) == {"null syscall", "find"}
    expected = {"untraced", *mechanisms.names(), *(["strace"] if HAVE_STRACE else [])}
    for workload, wrows in by_workload.items():
        labels = {r[1].strip("*") for r in wrows}
        assert expected <= labels, (workload, labels)
        untraced = next(r for r in wrows if r[1] == "untraced")
        assert untraced[4] == "1.00x"
        measured = [r for r in wrows if r[2] != "-"]
        assert sum("fastest" in r[6] for r in wrows) == 1
        for r in measured:
            assert r[2].endswith(("/ call", "/ run")), r
        for r in wrows:
            if r[2] == "-":  # not measured: the reason must be there
                assert r[6], r


def test_cli_json_is_pyperf_format(tiny_run: dict[str, object]) -> None:
    out = tiny_run["out"]
    assert isinstance(out, Path)
    path = out / "tiny.json"
    suite = pyperf.BenchmarkSuite.load(str(path))
    names = suite.get_benchmark_names()
    assert "null_syscall/untraced" in names and "find/untraced" in names
    for bench in suite.get_benchmarks():
        assert bench.get_nvalue() >= 1
        assert all(v > 0 for v in bench.get_values())
        meta = bench.get_metadata()
        assert meta["unit"] == "second"
        assert meta["workload"] in ("null_syscall", "find")
        assert meta["peer_kind"] in ("untraced", "splitpriv", "strace")
    back = benchmarks.from_suite(suite)
    assert {m.name for m in back if m.mean is not None} == set(names)
    # pyperf's own comparison tool reads it
    done = subprocess.run(
        [sys.executable, "-m", "pyperf", "compare_to", str(path), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert "null_syscall/untraced" in done.stdout or "identical" in done.stdout.lower()


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed")
def test_cli_plot_png_is_an_image(tiny_run: dict[str, object]) -> None:
    out = tiny_run["out"]
    assert isinstance(out, Path)
    data = (out / "tiny.png").read_bytes()
    assert data.startswith(PNG_MAGIC)
    from PIL import Image  # matplotlib depends on Pillow

    with Image.open(out / "tiny.png") as img:
        img.verify()
        assert img.size[0] > 200 and img.size[1] > 200


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="matplotlib is not installed")
def test_plot_svg_is_an_image(tmp_path: Path) -> None:
    rows = benchmarks.table(
        [
            measurement("untraced", "untraced", [1e-7, 1.1e-7]),
            measurement("splitpriv-ptrace", "splitpriv", [5e-6], mechanism="ptrace"),
            measurement("strace", "strace", [6e-6]),
        ]
    )
    path = tmp_path / "plot.svg"
    benchmarks.plot(rows, path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def measurement(
    peer: str, kind: str, values: list[float], mechanism: str | None = None
) -> benchmarks.Measurement:
    return benchmarks.Measurement(
        "null_syscall",
        peer,
        peer,
        kind,
        "call",
        100,
        "cmd",
        mechanism,
        colour_key=peer,
        values=values,
    )


def test_table_ratios_fastest_and_reasons() -> None:
    results = [
        measurement("untraced", "untraced", [1.0, 1.0]),
        measurement("splitpriv-ptrace", "splitpriv", [5.0], mechanism="ptrace"),
        measurement("strace", "strace", [10.0]),
        measurement("raw-ptrace", "raw", [0.5], mechanism="ptrace"),
    ]
    missing = measurement("splitpriv-sud", "splitpriv", [], mechanism="sud")
    missing.reason = "unavailable: no Syscall User Dispatch here"
    rows = benchmarks.table([*results, missing])
    by_peer = {r.peer: r for r in rows}
    assert by_peer["splitpriv-ptrace"].vs_untraced == 5.0
    assert by_peer["splitpriv-ptrace"].vs_strace == 0.5
    assert by_peer["splitpriv-ptrace"].fastest  # raw floors are not ranked
    assert not by_peer["raw-ptrace"].fastest
    assert by_peer["splitpriv-sud"].time is None
    assert "Syscall User Dispatch" in by_peer["splitpriv-sud"].note
    cells = table_lines(benchmarks.markdown(rows))
    assert len(cells) == 5
    suite = benchmarks.to_suite([*results, missing])
    back = {m.peer: m for m in benchmarks.from_suite(suite)}
    assert back["splitpriv-sud"].reason == missing.reason
    assert back["strace"].values == [10.0]


def test_missing_strace_is_reported_and_skipped(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # no strace, no gcc: programs come from the cache
    benchmarks.build_programs()
    done = splitpriv_cli(
        "bench",
        "--profile",
        "tiny",
        "--workloads",
        "null_syscall",
        "--mechanisms",
        "ptrace",
        "--with",
        "strace",
        "--markdown",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = {r[1].strip("*"): r for r in table_lines(done.stdout)}
    assert rows["strace"][2] == "-" and "not installed" in rows["strace"][6]
    assert rows["ptrace"][2] != "-"
    assert "strace" in done.stderr and "not installed" in done.stderr


def test_plot_without_matplotlib_is_one_line_and_status_1(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None  # import matplotlib now raises ImportError\n"
        "from splitpriv.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "bench",
            "--profile",
            "tiny",
            "--plot",
            str(tmp_path / "x.png"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "matplotlib" in done.stderr
    assert not (tmp_path / "x.png").exists()


def test_unknown_workload_is_a_one_line_error() -> None:
    done = splitpriv_cli("bench", "--workloads", "nosuch")
    assert done.returncode == 2  # a usage error, as for any mistyped option
    assert done.stderr.startswith("splitpriv bench: unknown workload 'nosuch'; known: ")
    assert done.stderr.count("\n") == 1


def test_pyperf_benchmark_folder_and_compare(tmp_path: Path) -> None:
    """bench/<workload>/run_benchmark.py under pyperf, then bench/compare.py on its output."""
    out = tmp_path / "startup.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "startup" / "run_benchmark.py"),
            "--debug-single-value",
            "--peers",
            "ptrace",
            "--with",
            "raw",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    suite = pyperf.BenchmarkSuite.load(str(out))
    names = set(suite.get_benchmark_names())
    assert {"startup/untraced", "startup/splitpriv-ptrace", "startup/raw-ptrace"} <= names
    report = subprocess.run(
        [sys.executable, str(BENCH / "compare.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert report.returncode == 0, report.stderr
    assert "startup: splitpriv ptrace vs raw ptrace" in report.stdout
    table_lines(report.stdout.split("\n\n")[0])


def test_every_workload_has_a_benchmark_folder() -> None:
    for name in benchmarks.WORKLOADS:
        script = BENCH / name / "run_benchmark.py"
        assert script.is_file(), script
        assert f'harness.main("{name}")' in script.read_text()
    assert json.loads(json.dumps(list(benchmarks.PROFILES)))  # profiles are plain names


def test_make_results_writes_results_md(tmp_path: Path) -> None:
    """bench/make_results.py end to end on one workload, two peers, one value each."""
    md = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "make_results.py"),
            "--default",
            "--workloads",
            "startup",
            "--pyperf-args",
            "--debug-single-value --peers ptrace --with raw",
            "--wait-quiet",
            "0",
            "--out",
            str(tmp_path),
            "--results",
            str(md),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    text = md.read_text()
    for heading in ("## Machine", "## How it was measured", "## Targets", "## All results"):
        assert heading in text
    assert "| kernel | Linux " in text
    assert "bench/startup/run_benchmark.py --debug-single-value" in text
    table_lines(text.split("## All results")[1].split("## Plot")[0])
    assert pyperf.BenchmarkSuite.load(str(tmp_path / "startup.json"))
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "bench.png").read_bytes().startswith(PNG_MAGIC)
        assert "![splitpriv benchmarks](bench.png)" in text


def test_stub_actions_run_once_and_compare_states_every_target() -> None:
    """bench/stub_actions at 200 calls a run: every case runs for real or says why it cannot,
    and compare.py states each target of the unprivileged mode with a verdict."""
    availability = {m: mechanisms.get(m).available() for m in benchmarks.STUB_MECHANISMS}
    here = [m for m, available in availability.items() if available]
    if not here:
        reasons = "; ".join(f"{m}: {a.reason}" for m, a in availability.items())
        pytest.skip(f"no stub mechanism here ({reasons})")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))  # compare.py is a script of bench/, not a module
    import compare

    profile = benchmarks.Profile("test", 1, 0, 0.01)
    cases = benchmarks.plan(["stub_actions"], with_peers=["loop", "launch"], profile=profile)
    results = benchmarks.measure(cases, profile)
    by_peer = {m.peer: m for m in results}
    for m in results:
        assert (m.reason is None) == bool(m.values), m
        assert m.reason is None or not m.reason.startswith("failed"), m.reason
        assert all(v > 0 for v in m.values), m
    keys = benchmarks._protect_reason("pkey")
    for mech in here:
        floor = benchmarks.STUB_FLOORS[mech]
        assert by_peer[floor].values and by_peer[f"loop/{floor}"].values
        for action in benchmarks.STUB_ACTIONS:
            assert by_peer[f"{mech}/{action}/none"].values
            assert by_peer[f"loop/{mech}/{action}/mprotect"].values
            pkey = by_peer[f"{mech}/{action}/pkey"]
            assert (pkey.reason == keys) if keys else pkey.values
    table_lines(benchmarks.markdown(benchmarks.table(results)))
    ratios = {r.what: r for r in compare.stub_action_ratios(results)}
    for mech in here:
        floor = benchmarks.STUB_FLOORS[mech]
        for how in ("whole run", "per call, loop timed by the program"):
            for action in ("allow", "log", "deny"):
                ratio = ratios[f"stub_actions: {mech}/{action}/none vs {floor}, {how}"]
                assert ratio.target == compare.STUB_TARGET and ratio.verdict in ("MET", "MISSED")
            ask = f"stub_actions: {mech}/ask/none vs {floor} + {benchmarks.CHANNEL_FLOOR}, {how}"
            assert ratios[ask].target == compare.ASK_TARGET
        if keys:
            skipped = ratios[f"stub_actions: {mech}/allow/pkey vs {floor}"]
            assert skipped.verdict == "skipped" and skipped.note == keys
    if "sud" in here:  # (per call, the launch subtracted can be negative at 200 calls)
        cli = ratios[
            "stub_actions: cli/ptrace vs cli/sud (splitpriv trace -f -m M -o FILE, full output), "
            "whole run"
        ]
        assert cli.at_least and cli.verdict in ("MET", "MISSED")


@pytest.mark.skipif(not HAVE_STRACE, reason="strace is not installed")
def test_trace_runner_meets_strace_in_the_same_run() -> None:
    """The CLI peer (`splitpriv trace -m ptrace -o /dev/null`) runs beside strace on the
    getppid loop, and compare.py states issue 3's target for it."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import compare

    profile = benchmarks.Profile("test", 1, 0, 0.01)
    cases = benchmarks.plan(["null_syscall", "startup"], with_peers=["strace"], profile=profile)
    cli = [c for c in cases if c.peer.name == "cli-ptrace"]
    assert len(cli) == 2  # the getppid loop, and the launch alone (startup)
    assert all("splitpriv trace" in c.command and "-o /dev/null" in c.command for c in cli)
    wanted = [c for c in cases if c.peer.name in ("cli-ptrace", "strace", "untraced")]
    results = benchmarks.measure(wanted, profile)
    assert all(m.values and all(v > 0 for v in m.values) for m in results), results
    ratios = {r.what: r for r in compare.ratios(results)}
    for how in ("whole runs", "launch subtracted"):
        ratio = ratios[f"null_syscall: splitpriv trace -m ptrace vs strace (-o /dev/null, {how})"]
        assert ratio.target == compare.CLI_STRACE_TARGET
        assert ratio.verdict in ("MET", "MISSED") or "launch" in ratio.note, ratio
    launch = ratios["startup: splitpriv trace -m ptrace vs strace (-o /dev/null, the launch alone)"]
    assert launch.target is None and launch.value > 0
