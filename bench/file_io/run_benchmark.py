"""file I/O: open, read 4 KiB, close a file the benchmark creates, in a loop.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/file_io/run_benchmark.py --fast -o file_io.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("file_io")


if __name__ == "__main__":
    main()
