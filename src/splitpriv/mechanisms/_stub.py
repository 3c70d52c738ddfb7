"""What the two stub mechanisms (`sud`, `seccomp-trap`) share: the stub's fixed code range and
the availability checks. The stub itself is C (csrc/stub/), put into tracees by the engine."""

from __future__ import annotations

from splitpriv.mechanisms._probes import ptrace_problem, sud_problem, syscall_info_problem

# csrc/stub_abi.h: where the stub's code is mapped in every tracee, and how long it is.
STUB_CODE_ADDR = 0x6E0000000000
STUB_CODE_SIZE = 0x10000


def stub_problem() -> str | None:
    """Why the stub cannot be injected here (it needs ptrace for process events), or None."""
    return ptrace_problem() or syscall_info_problem()


__all__ = ["STUB_CODE_ADDR", "STUB_CODE_SIZE", "stub_problem", "sud_problem"]
