"""tar: tar -c of the same tree into a file.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/tar/run_benchmark.py --fast -o tar.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("tar")


if __name__ == "__main__":
    main()
