"""selective tracing: the getppid loop with only openat2 traced, a call it never makes.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/selective/run_benchmark.py --fast -o selective.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("selective")


if __name__ == "__main__":
    main()
