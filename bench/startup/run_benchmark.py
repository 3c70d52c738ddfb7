"""startup: a program that makes no calls of its own: the fixed cost of a launch.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/startup/run_benchmark.py --fast -o startup.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("startup")


if __name__ == "__main__":
    main()
