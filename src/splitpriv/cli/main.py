"""Entry point of the ``splitpriv`` command: subcommands, and the one place errors are caught.

Every SplitprivError becomes one line on stderr and exit status 1 (2 for usage errors, as
argparse does); no traceback reaches the user for bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import splitpriv
from splitpriv.cli import console

# Each subcommand's module is imported only when it is the one asked for (or for --help):
# `splitpriv trace` should not pay for rich's progress bars or the benchmark harness.
SUBCOMMANDS = {
    "trace": "splitpriv.cli.trace_cmd",
    "doctor": "splitpriv.cli.doctor_cmd",
    "bench": "splitpriv.cli.bench_cmd",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="splitpriv",
        description="Intercept the system calls of Linux processes, through every mechanism "
        "the kernel offers, and measure them side by side.",
    )
    parser.add_argument("--version", action="version", version=f"splitpriv {splitpriv.__version__}")
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    for name, module in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    first = words[0] if words else None
    parser = build_parser(first if first in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if args.subcommand is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except splitpriv.SplitprivError as exc:
        console.error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())
