"""long find: find over the tree of the find workload, named 100 times in one command.

The trace runner (`splitpriv trace`) against strace once their start-up is spread thin.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/long_find/run_benchmark.py --fast -o long_find.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("long_find")


if __name__ == "__main__":
    main()
