"""stub actions: the getppid loop under each action (allow, log, deny, ask) and protect mode of
the stub mechanisms (sud, seccomp-trap), against the raw SIGSYS floor of each trap, the raw round
trip of the ask channel, ptrace, and ``splitpriv trace`` on the command line.

pyperf benchmark: every peer of this workload in one run (see bench/README.md and
bench/harness.py): ``python3 bench/stub_actions/run_benchmark.py --fast -o stub_actions.json``,
then ``python3 bench/compare.py stub_actions.json`` for the target ratios.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness


def main() -> None:
    harness.main("stub_actions")


if __name__ == "__main__":
    main()
