"""python import: python3 -c "import json, email, http.client".

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/python_import/run_benchmark.py --fast -o python_import.json``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("python_import")


if __name__ == "__main__":
    main()
