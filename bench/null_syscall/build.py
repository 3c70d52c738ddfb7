"""Compile the benchmark's C programs (the tracee and the raw tracer) with ``gcc -O2``.

Binaries go into a cache directory named after a hash of the sources and flags, so that every
pyperf worker process finds them built and an edited source is rebuilt. Each one is compiled to
a temporary name and renamed into place, so concurrent builds never see half a file.

Run as a script to build and print the paths: ``python3 bench/null_syscall/build.py``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parent
CC = "gcc"
FLAGS = ("-std=gnu11", "-O2", "-Wall", "-Werror")
SOURCES = {"getppid_loop": "getppid_loop.c", "raw_tracer": "raw_tracer.c"}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        tempfile.gettempdir(), f"splitpriv-bench-{os.getuid()}"
    )
    digest = hashlib.sha256(" ".join((CC, *FLAGS)).encode())
    for source in sorted(SOURCES.values()):
        digest.update(source.encode() + b"\0" + (SRC_DIR / source).read_bytes())
    return Path(base) / "splitpriv-null_syscall" / digest.hexdigest()[:16]


def build() -> dict[str, Path]:
    """``{name: path}`` of the built programs, compiling those not yet in the cache."""
    out = cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    built = {}
    for name, source in SOURCES.items():
        target = out / name
        if not target.exists():
            tmp = out / f".{name}.{os.getpid()}"
            cmd = [CC, *FLAGS, "-o", str(tmp), str(SRC_DIR / source)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
            os.replace(tmp, target)
        built[name] = target
    return built


if __name__ == "__main__":
    for name, path in build().items():
        print(f"{name}: {path}")
    sys.exit(0)
