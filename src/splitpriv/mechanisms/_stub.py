"""What the two stub mechanisms (`sud`, `seccomp-trap`) share: the stub's fixed code range and
the availability checks. The stub itself is C (csrc/stub/), put into tracees by the engine."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from splitpriv import _binding
from splitpriv.mechanisms._probes import (
    CAP_SYS_ADMIN,
    effective_capabilities,
    ptrace_problem,
    seccomp_problem,
    sud_problem,
    syscall_info_problem,
)
from splitpriv.syscalls import AUDIT_ARCH_X86_64
from splitpriv.syscalls import table as syscall_table

if TYPE_CHECKING:
    from splitpriv.policy import Policy

# csrc/stub_abi.h: where the stub's code is mapped in every tracee, and how long it is.
STUB_CODE_ADDR = 0x6E0000000000
STUB_CODE_SIZE = 0x10000


# rt_sigreturn ends every handler: the filter always lets it through.
ALWAYS_ALLOWED = ("rt_sigreturn",)
# The calls that make a task. The stub sees them all (it must know when a child inherits its
# signal stack); those that make a thread or a vfork child it makes from its clone cells, in
# its code range, once its handler has returned.
MAKE_A_TASK = ("clone", "clone3", "vfork", "fork")
GUARDED_CALLS = (
    "execve",
    "execveat",
    "seccomp",
    "prctl",
    "rt_sigaction",
    "rt_sigprocmask",
    "sigaltstack",
    # calls with a signal mask, which the stub makes without SIGSYS (call_without_sigsys)
    "rt_sigsuspend",
    "ppoll",
    "pselect6",
    "epoll_pwait",
    "epoll_pwait2",
)


def stub_policy_problem(policy: Policy) -> str | None:
    """What of ``policy`` a stub mechanism cannot keep: a verdict other than allow on
    ``rt_sigreturn`` (the stub ends every signal handler, its own included, through it). None
    when it can keep it all."""
    names = syscall_table(AUDIT_ARCH_X86_64)
    rule = policy.rule_for(AUDIT_ARCH_X86_64, names.number("rt_sigreturn"))
    kind = "callback" if rule.callback is not None else rule.action.kind
    if kind == "allow":
        return None
    verb = {"deny": "deny", "emulate": "emulate", "rewrite": "rewrite the arguments of"}
    what = "ask a Python callback about" if kind == "callback" else verb[kind]
    return f"{what} rt_sigreturn (every signal handler returns through it)"


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


# Every call csrc/stub/stub.c makes for its own sake, whatever the policy says of it.
STUB_OWN_CALLS = (
    "clock_gettime",
    "execve",
    "execveat",
    "futex",
    "getpid",
    "gettid",
    "kill",
    "mprotect",
    "prctl",
    "process_vm_readv",
    "process_vm_writev",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sched_yield",
    "tgkill",
)
SIGSYS = 31
PR_SET_SYSCALL_USER_DISPATCH = 59
PR_SET_SECCOMP = 22


def stub_range_limits(
    engine_rules: Mapping[int, Sequence[_binding.Rule]], *, arms_sud: bool
) -> tuple[set[tuple[int, int]], list[tuple[int, int, int, int]]]:
    """What the stub's code range may not do: (refused calls, argument guards).

    The stub makes a tracee's call itself only when the policy lets it run (allow, rewrite,
    record, or a callback that may allow it); denied and emulated calls it answers without
    making them, and it never installs a seccomp filter, points SIGSYS elsewhere or (under
    `seccomp-trap`) touches Syscall User Dispatch. So a tracee that jumps into the stub's code
    to make a call gains: the calls of STUB_OWN_CALLS that its policy denies or emulates, and
    the calls a callback decides, without the callback. Everything else from there kills it.
    """
    refused: set[tuple[int, int]] = set()
    guards: list[tuple[int, int, int, int]] = []
    for arch, table in engine_rules.items():
        names = syscall_table(arch)
        own = {names.number(n) for n in STUB_OWN_CALLS if n in names}
        for nr, rule in enumerate(table[: _binding.NR_MAX]):
            if rule.action in (_binding.DENY, _binding.EMULATE) and nr not in own:
                refused.add((arch, nr))
        if "seccomp" in names:
            refused.add((arch, names.number("seccomp")))
        guards.append((arch, names.number("rt_sigaction"), 0, SIGSYS))
        guards.append((arch, names.number("prctl"), 0, PR_SET_SECCOMP))
        if not arms_sud:
            guards.append((arch, names.number("prctl"), 0, PR_SET_SYSCALL_USER_DISPATCH))
    return refused, guards


def stub_filter(
    engine_rules: Mapping[int, Sequence[_binding.Rule]], *, route_everything: bool
) -> bytes:
    """The filter of the stub modes: RET_TRAP to the stub, never for the stub's own calls. The
    stub sees every call that could take it away or break it (its own filters, prctl, SIGSYS
    handlers and masks) and every execve, to have itself put back into the new image. From the
    stub's code range only what the stub itself makes is allowed (:func:`stub_range_limits`).
    ``route_everything`` is the `sud` mode, where the stub also arms Syscall User Dispatch."""
    # The filter builder is imported here, when a filter is built: not by every program that
    # imports splitpriv.
    from splitpriv.mechanisms._seccomp_filter import policy_filter
    from splitpriv.seccomp import TRAP

    refused, guards = stub_range_limits(engine_rules, arms_sud=route_everything)
    return policy_filter(
        engine_rules,
        TRAP,
        allow_ip_range=(STUB_CODE_ADDR, STUB_CODE_ADDR + STUB_CODE_SIZE),
        ip_range_refused=refused,
        ip_range_guards=guards,
        always_allowed=ALWAYS_ALLOWED,
        always_routed=(*GUARDED_CALLS, *MAKE_A_TASK),
        route_everything=route_everything,
    )


__all__ = [
    "STUB_CODE_ADDR",
    "STUB_CODE_SIZE",
    "STUB_OWN_CALLS",
    "stub_filter",
    "stub_policy_problem",
    "stub_problem",
    "stub_range_limits",
    "sud_problem",
]
