"""process creation: fork, exec a small dynamic program, wait, in a loop.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py):
``python3 bench/process_creation/run_benchmark.py --fast -o process_creation.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("process_creation")


if __name__ == "__main__":
    main()
