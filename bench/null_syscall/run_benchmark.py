"""null syscall: getppid through the raw syscall, in a loop; every peer sees every call.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/null_syscall/run_benchmark.py --fast -o null_syscall.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("null_syscall")


if __name__ == "__main__":
    main()
