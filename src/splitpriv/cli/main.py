"""Entry point of the ``splitpriv`` command: subcommands, and the one place errors are caught.

Every SplitprivError becomes one line on stderr and exit status 1 (2 for usage errors, as
argparse does); no traceback reaches the user for bad input.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

import splitpriv
from splitpriv.cli import console
from splitpriv.nearest import did_you_mean

if TYPE_CHECKING:
    import argparse

# Each subcommand's module is imported only when it is the one asked for (or for --help):
# `splitpriv trace` should not pay for rich's progress bars or the benchmark harness.
SUBCOMMANDS = {
    "trace": "splitpriv.cli.trace_cmd",
    "doctor": "splitpriv.cli.doctor_cmd",
    "bench": "splitpriv.cli.bench_cmd",
}


class CommandLineError(Exception):
    """A command line argparse refused: one line for the user (``prog: message``), exit 2."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: {message}")
        self.prog, self.message = prog, message


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class OneLineParser(argparse.ArgumentParser):
        """argparse that reports a mistake in one line, as ``splitpriv trace`` does, rather
        than a usage block and a line: the usage is one ``--help`` away."""

        def error(self, message: str) -> NoReturn:
            raise CommandLineError(self.prog, message)

    return OneLineParser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _parser_class()(
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
    try:
        if first == "trace":
            # Straight to strace's option parser, which reads every word after "trace": the
            # argparse tree (and the gettext and locale look-ups it makes) cost about 3.5 ms
            # of each launch here, for nothing a trace uses.
            from splitpriv.cli.trace_cmd import run_trace

            return run_trace(words[1:])
        parser = build_parser(first if first in SUBCOMMANDS else None)
        if first is not None and not first.startswith("-") and first not in SUBCOMMANDS:
            raise CommandLineError(
                "splitpriv",
                f"unknown command '{first}'{did_you_mean(first, SUBCOMMANDS)}; "
                f"one of: {', '.join(SUBCOMMANDS)}",
            )
        args, extra = parser.parse_known_args(words)
        if extra:  # (argparse would blame the top-level parser, and show its usage)
            raise CommandLineError(*_unrecognized(parser, args.subcommand, extra[0]))
        if args.subcommand is None:
            parser.print_help(sys.stderr)
            return 2
        return int(args.func(args))
    except CommandLineError as exc:
        console.usage_error(exc.prog, exc.message)
        return 2
    except splitpriv.SplitprivError as exc:
        console.error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 141


def _unrecognized(
    parser: argparse.ArgumentParser, subcommand: str | None, word: str
) -> tuple[str, str]:
    """Who refuses ``word`` and how, with the nearest option of that subcommand."""
    import argparse

    prog = parser.prog
    options = [s for a in parser._actions for s in a.option_strings]
    for action in parser._actions:  # (argparse keeps no public list of a parser's options)
        if isinstance(action, argparse._SubParsersAction) and subcommand in action.choices:
            command = action.choices[subcommand]
            prog = command.prog
            options = [s for a in command._actions for s in a.option_strings]
    if not word.startswith("-") or word == "--":
        return prog, f"unexpected argument '{word}'"
    name = word.split("=", 1)[0]
    return prog, f"unrecognized option '{name}'{did_you_mean(name, options)}"


def entry() -> NoReturn:
    """The ``splitpriv`` command: :func:`main`, then exit without tearing the interpreter down.

    Tearing down the modules a trace imports took about 8 ms of every ``splitpriv trace``
    here, longer than strace's whole run of a small program, and frees nothing the kernel
    does not free at exit. Exit handlers still run and both streams are flushed, so nothing
    written is lost. Tests call :func:`main`, which returns."""
    status = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: what was lost is lost already
            status = status or 1
    os._exit(status & 0xFF)


if __name__ == "__main__":
    entry()
