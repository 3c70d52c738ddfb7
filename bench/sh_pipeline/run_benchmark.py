"""sh pipeline: sh -c 'seq 1 20000 | sort -rn | uniq | wc -l > /dev/null'.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/sh_pipeline/run_benchmark.py --fast -o sh_pipeline.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("sh_pipeline")


if __name__ == "__main__":
    main()
