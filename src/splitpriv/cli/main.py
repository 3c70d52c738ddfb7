"""Entry point of the ``splitpriv`` command: subcommands, and the one place errors are caught.

Every SplitprivError becomes one line on stderr and exit status 1 (2 for usage errors, as
argparse does); no traceback reaches the user for bad input.
"""

from __future__ import annotations

import argparse
import sys

import splitpriv
from splitpriv.cli import bench_cmd, console, doctor_cmd, trace_cmd


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="splitpriv",
        description="Intercept the system calls of Linux processes, through every mechanism "
        "the kernel offers, and measure them side by side.",
    )
    parser.add_argument("--version", action="version", version=f"splitpriv {splitpriv.__version__}")
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    trace_cmd.add_parser(sub)
    doctor_cmd.add_parser(sub)
    bench_cmd.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
