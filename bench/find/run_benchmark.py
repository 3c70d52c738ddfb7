"""find: find over a tree of 40 directories and 1000 files.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/find/run_benchmark.py --fast -o find.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("find")


if __name__ == "__main__":
    main()
