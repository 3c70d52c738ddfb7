"""Compile the C test programs in this directory.

``build_all(outdir)`` runs one ``gcc`` per program, with fixed flags, and returns
``{name: absolute Path}``. A required program that fails to compile raises
:class:`BuildError` carrying gcc's command line and stderr. Optional programs (the
static build) are left out of the result instead; pass ``unavailable={}`` to learn
why (name -> reason).

Run as a script to build into a directory: ``python3 tests/progs/build.py OUTDIR``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parent

CC = "gcc"
BASE_FLAGS: tuple[str, ...] = ("-std=gnu11", "-O1", "-Wall", "-Werror", "-D_GNU_SOURCE")


@dataclass(frozen=True)
class Program:
    name: str
    source: str
    extra_flags: tuple[str, ...] = ()
    optional: bool = False  # failure to build is reported, not raised


PROGRAMS: tuple[Program, ...] = (
    Program("getppid_loop", "getppid_loop.c"),
    Program("getppid_loop_static", "getppid_loop.c", ("-static",), optional=True),
    Program("open_read_close", "open_read_close.c"),
    Program("report", "report.c"),
    Program("masked_handler", "masked_handler.c"),
    Program("fork_wait", "fork_wait.c"),
    Program("vfork_exec", "vfork_exec.c"),
    Program("two_threads", "two_threads.c", ("-pthread",)),
    Program("exec_chain", "exec_chain.c"),
    Program("signal_self", "signal_self.c"),
    Program("exit_code", "exit_code.c"),
    # The path handed to int $0x80 is copied below 4 GiB with MAP_32BIT; -no-pie
    # additionally keeps the image itself there.
    Program("int80_open", "int80_open.c", ("-no-pie",)),
    Program("sleeper", "sleeper.c"),
    Program("shed", "shed.c"),
    Program("threads_many", "threads_many.c", ("-pthread",)),
    Program("peek", "peek.c"),
    Program("stub_jump", "stub_jump.c"),
    Program("sigsys_self", "sigsys_self.c"),
    Program("altstack", "altstack.c"),
    Program("notsc", "notsc.c"),
    Program("alarm_calls", "alarm_calls.c"),
    Program("exit_while_logging", "exit_while_logging.c", ("-pthread",)),
    Program("repeat_fork", "repeat_fork.c"),
    Program("make_tasks", "make_tasks.c", ("-pthread",)),
    Program("regs_kept", "regs_kept.c"),
    Program("thread_exec", "thread_exec.c", ("-pthread",)),
)

PROGRAM_NAMES: tuple[str, ...] = tuple(p.name for p in PROGRAMS)


class BuildError(RuntimeError):
    """gcc failed (or is missing) for one program."""

    def __init__(self, name: str, cmd: list[str], returncode: int | None, stderr: str) -> None:
        self.name = name
        self.cmd = cmd
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(
            f"building test program {name!r} failed (exit status {returncode}):\n"
            f"  $ {' '.join(cmd)}\n{stderr.rstrip()}"
        )


def gcc_command(src: Path, out: Path, extra_flags: tuple[str, ...] = ()) -> list[str]:
    return [CC, *BASE_FLAGS, *extra_flags, "-o", str(out), str(src)]


def compile_one(name: str, src: Path, outdir: Path, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile ``src`` into ``outdir/name`` with one gcc call; raise BuildError on failure."""
    out = Path(outdir).resolve() / name
    cmd = gcc_command(Path(src), out, extra_flags)
    if shutil.which(CC) is None:
        raise BuildError(name, cmd, None, f"{CC!r} not found on PATH")
    env = dict(os.environ, LC_ALL="C")
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, check=False
    )
    if proc.returncode != 0 or not out.is_file():
        raise BuildError(name, cmd, proc.returncode, proc.stderr + proc.stdout)
    return out


def build_all(outdir: Path, *, unavailable: dict[str, str] | None = None) -> dict[str, Path]:
    """Compile every program into ``outdir``; return ``{name: absolute path}``.

    Raises BuildError for a required program. Optional programs that fail are
    omitted from the result and, if ``unavailable`` is given, recorded there.
    """
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)

    def one(prog: Program) -> Path | BuildError:
        try:
            return compile_one(prog.name, SRC_DIR / prog.source, outdir, prog.extra_flags)
        except BuildError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        results = list(pool.map(one, PROGRAMS))

    built: dict[str, Path] = {}
    for prog, res in zip(PROGRAMS, results, strict=True):
        if isinstance(res, Path):
            built[prog.name] = res
        elif prog.optional:
            if unavailable is not None:
                unavailable[prog.name] = str(res)
        else:
            raise res
    return built


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTDIR")
    missing: dict[str, str] = {}
    for prog_name, path in build_all(Path(sys.argv[1]), unavailable=missing).items():
        print(f"{prog_name}: {path}")
    for prog_name, why in missing.items():
        print(f"{prog_name}: UNAVAILABLE\n{why}", file=sys.stderr)
