"""What the two stub mechanisms (`sud`, `seccomp-trap`) share: the stub's fixed code range and
the availability checks. The stub itself is C (csrc/stub/), put into tracees by the engine."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from splitpriv import _binding
from splitpriv.mechanisms._probes import (
    CAP_SYS_ADMIN,
    effective_capabilities,
    ptrace_problem,
    seccomp_problem,
    sud_problem,
    syscall_info_problem,
)
from splitpriv.mechanisms._seccomp_filter import policy_filter
from splitpriv.seccomp import TRAP

# csrc/stub_abi.h: where the stub's code is mapped in every tracee, and how long it is.
STUB_CODE_ADDR = 0x6E0000000000
STUB_CODE_SIZE = 0x10000


# A signal handler cannot make these (clone would return onto a stack the child does not own)
# and rt_sigreturn ends every handler: the filter always lets them through.
ALWAYS_ALLOWED = ("rt_sigreturn", "clone", "clone3", "vfork")
GUARDED_CALLS = (
    "execve",
    "execveat",
    "seccomp",
    "prctl",
    "rt_sigaction",
    "rt_sigprocmask",
    "sigaltstack",
)


def _has_cap_sys_admin() -> bool:
    effective = effective_capabilities()
    if effective is None:
        return os.geteuid() == 0
    return bool(effective >> CAP_SYS_ADMIN & 1)


def stub_problem() -> str | None:
    """Why the stub cannot be put into tracees here, or None. The engine injects it with
    ptrace, installs a seccomp filter, and re-injects after every execve with
    PTRACE_O_SUSPEND_SECCOMP, which needs CAP_SYS_ADMIN."""
    problem = ptrace_problem() or syscall_info_problem() or seccomp_problem("trace")
    if problem is None and not _has_cap_sys_admin():
        problem = "CAP_SYS_ADMIN is needed for PTRACE_O_SUSPEND_SECCOMP (re-injection after exec)"
    return problem


def stub_filter(
    engine_rules: Mapping[int, Sequence[_binding.Rule]], *, route_everything: bool
) -> bytes:
    """The filter of the stub modes: RET_TRAP to the stub, never for the stub's own calls. The
    stub sees every call that could take it away or break it (its own filters, prctl, SIGSYS
    handlers and masks) and every execve, to have itself put back into the new image."""
    return policy_filter(
        engine_rules,
        TRAP,
        allow_ip_range=(STUB_CODE_ADDR, STUB_CODE_ADDR + STUB_CODE_SIZE),
        always_allowed=ALWAYS_ALLOWED,
        always_routed=GUARDED_CALLS,
        route_everything=route_everything,
    )


__all__ = ["STUB_CODE_ADDR", "STUB_CODE_SIZE", "stub_filter", "stub_problem", "sud_problem"]
