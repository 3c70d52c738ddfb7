"""The VCpu benchmark: what a switch between address spaces costs, `remap` against `process`.

    python3 bench/vcpu/run_sweep.py [--quick] [--json OUT.json] [--plot OUT.png] [--markdown OUT.md]

Part 1, switch latency. Two guest contexts, each in its own AddressSpace with R data regions
(plus its code and stack), each looping "write one byte to K pages, sched_yield". A C loop
(sp_vcpu_bench) resumes them alternately, so every resume is a switch; the time per resume is
reported for both strategies, and with a single context (no switch: the trap round trip alone).
`remap` unmaps the other space's regions and maps this one's inside the trap, and the K pages
fault in again after every switch; `process` resumes the other context's own host process.

Part 2, hiding the privileged side. The kernel in the same address space as its user, kept
PROT_NONE while the user runs (User-Mode Linux's tt mode): bench/csrc/hide_mprotect.c opens
and closes P populated pages with mprotect around every trap. Against it: the privileged side
in a separate space, i.e. the VCpu trap round trip (the guest's host process to the
supervisor and back), and the VCpu's own protect="mprotect" of its control region.

Every figure is the median of several runs in this process; the host processes and this
thread are pinned to one CPU (a VM wakes a sleeper on another CPU slowly: see RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from splitpriv.addrspace import PAGE_SIZE, PROT_READ, PROT_WRITE, AddressSpace
from splitpriv.guest import build_guest, load_elf
from splitpriv.vcpu import STRATEGIES, Context, VCpu

HERE = Path(__file__).resolve().parent
CSRC = HERE.parent / "csrc"
REGION_BASE = 0x30000000
STACK_TOP = 0x20000000
TABLE_ADDR = STACK_TOP - 0x10000  # the list of pages to touch, at the bottom of the stack region
REGIONS = (1, 4, 16, 64)
PAGES = (0, 1, 16, 256)
HIDE_PAGES = (0, 1, 16, 256, 4096)


def make_context(image: Path, regions: int, pages: int, name: str) -> Context:
    """A space with ``regions`` data regions (separate VMAs: a guard gap between them) that
    hold the ``pages`` the guest touches, spread round-robin over the regions."""
    space = AddressSpace.create(name)
    entry = load_elf(space, image)
    space.map(STACK_TOP - 0x20000, 0x20000, PROT_READ | PROT_WRITE)
    per_region = max(1, -(-pages // regions))
    stride = (per_region + 1) * PAGE_SIZE
    for r in range(regions):
        space.map(REGION_BASE + r * stride, per_region * PAGE_SIZE, PROT_READ | PROT_WRITE)
    table = [
        REGION_BASE + (j % regions) * stride + (j // regions) * PAGE_SIZE for j in range(pages)
    ]
    space.write(TABLE_ADDR, b"".join(a.to_bytes(8, "little") for a in table))
    return Context.at(space, entry, stack=TABLE_ADDR - 8, args=(TABLE_ADDR, pages), name=name)


def per_resume(
    strategy: str,
    image: Path,
    regions: int,
    pages: int,
    contexts: int,
    rounds: int,
    repeat: int,
    protect: str = "none",
) -> float:
    """Median nanoseconds per resume of ``contexts`` contexts run round-robin."""
    ctxs = [make_context(image, regions, pages, f"ctx{i}") for i in range(contexts)]
    try:
        with VCpu(strategy, protect=protect, cpu=CPU) as cpu:  # type: ignore[arg-type]
            cpu.measure_switches(ctxs, max(1, rounds // 10))  # warm up
            return statistics.median(cpu.measure_switches(ctxs, rounds) for _ in range(repeat))
    finally:
        for ctx in ctxs:
            ctx.space.close()


def hide_cost(program: Path, pages: int, calls: int, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [str(program), str(pages), str(calls)], capture_output=True, text=True, check=True
        )
        runs.append(float(out.stdout))
    return statistics.median(runs)


def crossover(xs: tuple[int, ...], low: list[float], high: list[float]) -> str:
    """The first x at which ``low`` is no longer below ``high``."""
    for i, (x, a, b) in enumerate(zip(xs, low, high, strict=True)):
        if a >= b:
            return f"{x} (already at the smallest measured)" if i == 0 else str(x)
    return f"> {xs[-1]} (never in this range)"


CPU: int | None = sorted(os.sched_getaffinity(0))[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a few seconds)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument(
        "--redraw", type=Path, metavar="JSON", help="no run: rewrite markdown and plot from JSON"
    )
    parser.add_argument(
        "--cpu",
        choices=("same", "none"),
        default="same",
        help="same: this thread and the hosts on one CPU (default); none: the scheduler decides",
    )
    args = parser.parse_args()
    global CPU
    if args.cpu == "none":
        CPU = None
    if args.redraw:
        results = json.loads(args.redraw.read_text())
        if args.markdown:
            args.markdown.write_text(markdown(results))
        if args.plot:
            plot(results, args.plot)
        return 0
    rounds, repeat, calls = (100, 3, 5000) if args.quick else (1000, 5, 50000)
    if CPU is not None:
        os.sched_setaffinity(0, {CPU})

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        image = build_guest([HERE / "guest.c"], work / "guest")
        hide = work / "hide_mprotect"
        subprocess.run(["gcc", "-O2", "-o", str(hide), str(CSRC / "hide_mprotect.c")], check=True)

        switch: dict[str, dict[str, list[float]]] = {s: {} for s in STRATEGIES}
        for strategy in STRATEGIES:
            for regions in REGIONS:
                row = []
                for pages in PAGES:
                    ns = per_resume(strategy, image, regions, pages, 2, rounds, repeat)
                    row.append(ns)
                    print(
                        f"switch {strategy:8} regions {regions:3} pages {pages:4}: "
                        f"{ns / 1000:9.2f} us",
                        file=sys.stderr,
                    )
                switch[strategy][str(regions)] = row
        no_switch = [per_resume("remap", image, 1, pages, 1, rounds, repeat) for pages in PAGES]
        roundtrip = {
            p: per_resume("remap", image, 1, 0, 1, rounds, repeat, protect=p)
            for p in ("none", "mprotect")
        }
        hidden = [hide_cost(hide, pages, calls, repeat) for pages in HIDE_PAGES]

    results = {
        "cpu": args.cpu,
        "regions": REGIONS,
        "pages": PAGES,
        "switch_ns": switch,
        "no_switch_ns": no_switch,
        "vcpu_roundtrip_ns": roundtrip,
        "hide_pages": HIDE_PAGES,
        "hide_mprotect_ns": hidden,
        "command": "python3 bench/vcpu/run_sweep.py"
        + (" --quick" if args.quick else "")
        + (" --cpu none" if args.cpu == "none" else ""),
    }
    text = markdown(results)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(text)
    if args.plot:
        plot(results, args.plot)
    return 0


def markdown(r: dict) -> str:  # type: ignore[type-arg]
    pages, regions = r["pages"], r["regions"]
    lines = [
        f"Command: `{r['command']}`; medians in µs per resume; every resume of the two-context "
        "runs is a switch. Regions: data regions per space, besides code and stack.",
        "",
        "| regions | " + " | ".join(f"K={k}: remap | process" for k in pages) + " |",
        "|---|" + "---|---|" * len(pages),
    ]
    for reg in regions:
        cells = []
        for i in range(len(pages)):
            cells += [
                f"{r['switch_ns']['remap'][str(reg)][i] / 1000:.1f}",
                f"{r['switch_ns']['process'][str(reg)][i] / 1000:.1f}",
            ]
        lines.append(f"| {reg} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "No switch (one context, one region): "
        + ", ".join(
            f"K={k}: {v / 1000:.1f} µs" for k, v in zip(pages, r["no_switch_ns"], strict=True)
        )
        + ".",
        "",
        "Crossover (the first K, pages touched after the switch, at which `process` is faster "
        "than `remap`):",
        "",
        "| regions | crossover K |",
        "|---|---|",
    ]
    for reg in regions:
        remap, process = r["switch_ns"]["remap"][str(reg)], r["switch_ns"]["process"][str(reg)]
        lines.append(f"| {reg} | {crossover(tuple(pages), remap, process)} |")
    rt = r["vcpu_roundtrip_ns"]
    lines += [
        "",
        "Hiding the privileged side: mprotect in the same space (hide_mprotect, P populated pages "
        "opened and closed around each trap) against a separate space (the VCpu trap round trip "
        f'to the supervisor: {rt["none"] / 1000:.1f} µs; with protect="mprotect" of its control '
        f"region: {rt['mprotect'] / 1000:.1f} µs):",
        "",
        "| P pages | same space, mprotect | ÷ separate space |",
        "|---|---|---|",
    ]
    for p, v in zip(r["hide_pages"], r["hide_mprotect_ns"], strict=True):
        lines.append(f"| {p} | {v / 1000:.2f} µs | {v / rt['none']:.2f} |")
    lines += [
        "",
        "Crossover: the separate space is cheaper from P = "
        + crossover(
            tuple(r["hide_pages"]), r["hide_mprotect_ns"], [rt["none"]] * len(r["hide_pages"])
        )
        + " pages on.",
        "",
    ]
    return "\n".join(lines)


def plot(r: dict, path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    xs = [max(k, 0.5) for k in r["pages"]]
    for reg in r["regions"]:
        left.plot(
            xs,
            [v / 1000 for v in r["switch_ns"]["remap"][str(reg)]],
            "o-",
            label=f"remap, {reg} regions",
        )
    for reg in (r["regions"][0], r["regions"][-1]):
        left.plot(
            xs,
            [v / 1000 for v in r["switch_ns"]["process"][str(reg)]],
            "s--",
            label=f"process, {reg} regions",
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("pages touched after the switch (0 plotted at 0.5)")
    left.set_ylabel("µs per switch")
    left.set_title("VCpu switch: remap vs one process per space")
    left.legend(fontsize=7)
    hx = [max(p, 0.5) for p in r["hide_pages"]]
    right.plot(hx, [v / 1000 for v in r["hide_mprotect_ns"]], "o-", label="same space, mprotect")
    right.axhline(
        r["vcpu_roundtrip_ns"]["none"] / 1000, color="C1", label="separate space (VCpu round trip)"
    )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("privileged pages hidden (0 plotted at 0.5)")
    right.set_ylabel("µs per trap")
    right.set_title("Hiding the privileged side")
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
