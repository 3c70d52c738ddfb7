"""long trace: the getppid loop of null_syscall, 20 times longer (400,000 calls at scale 1).

The trace runner (`splitpriv trace`) against strace once their start-up is spread thin.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/long_trace/run_benchmark.py --fast -o long_trace.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("long_trace")


if __name__ == "__main__":
    main()
