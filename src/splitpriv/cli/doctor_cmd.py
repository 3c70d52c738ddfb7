"""``splitpriv doctor``: what this kernel offers, and which mechanisms can run here and why."""

from __future__ import annotations

import argparse
import json
import sys

from rich.table import Table

from splitpriv.cli import console
from splitpriv.doctor import Diagnosis, diagnose


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="probe the kernel's interception features and each mechanism",
        description="Probe every kernel feature splitpriv uses, for real, and say which "
        "mechanisms can run here, which 'auto' would pick, and why.",
    )
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.set_defaults(func=run_doctor)


def render(diagnosis: Diagnosis) -> list[Table | str]:
    """The doctor report as rich renderables (also used by tests on a captured console)."""
    mark = {True: "[green]yes[/]", False: "[red]no[/]"}
    features = Table(title=f"Kernel {diagnosis.kernel} ({diagnosis.machine})", title_justify="left")
    features.add_column("feature")
    features.add_column("works")
    features.add_column("detail")
    for f in diagnosis.features:
        features.add_row(f.name, mark[f.ok], f.detail)
    mechs = Table(title="Mechanisms", title_justify="left")
    mechs.add_column("mechanism")
    mechs.add_column("available")
    mechs.add_column("why / what it is")
    for m in diagnosis.mechanisms:
        mechs.add_row(m.name, mark[m.available], m.summary if m.available else m.reason)
    auto = (
        f"auto for tracing: [bold]{diagnosis.auto_trace or 'none'}[/] "
        f"({diagnosis.auto_trace_reason})\n"
        f"auto for a deny/emulate policy: [bold]{diagnosis.auto_policy or 'none'}[/] "
        f"({diagnosis.auto_policy_reason})"
    )
    return [features, mechs, auto]


def run_doctor(args: argparse.Namespace) -> int:
    diagnosis = diagnose()
    if args.json:
        json.dump(diagnosis.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    out = console.stdout()
    for part in render(diagnosis):
        out.print(part)
    return 0
