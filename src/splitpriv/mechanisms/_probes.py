"""Kernel feature probes shared by the ptrace-based mechanisms, cached per process.

Each probe traces a short-lived child for real (csrc/probe.c). Results are cached because the
kernel does not change under a running process; nothing here may keep a process alive.
"""

from __future__ import annotations

import os
from functools import cache

from splitpriv import _binding

CAP_SYS_PTRACE = 19
CAP_SYS_ADMIN = 21


def effective_capabilities() -> int | None:
    """This process's effective capability bits (CapEff), or None if /proc cannot say."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return None


def _reason(feature: str, err: int) -> str:
    return f"{feature}: {os.strerror(err)} (errno {err})"


@cache
def ptrace_problem() -> str | None:
    err = _binding.probe_ptrace()
    if err:
        hint = " (a seccomp policy, Yama ptrace_scope=3 or a container may forbid ptrace)"
        return _reason("ptrace", err) + hint
    return None


@cache
def syscall_info_problem() -> str | None:
    err = _binding.probe_syscall_info()
    return _reason("PTRACE_GET_SYSCALL_INFO (Linux 5.3)", err) if err else None


@cache
def sysemu_problem() -> str | None:
    err = _binding.probe_sysemu()
    return _reason("PTRACE_SYSEMU", err) if err else None


@cache
def seccomp_problem(kind: str) -> str | None:
    """Can a child install a seccomp filter whose getppid goes to a tracer ("trace") or to a
    listener ("notify")? With nobody there, the kernel fails the call with ENOSYS: that proves
    the action is understood (an unknown action would kill the child)."""
    from splitpriv.seccomp import ALLOW, TRACE, USER_NOTIF, build_filter
    from splitpriv.syscalls import AUDIT_ARCH_X86_64, table

    getppid = table(AUDIT_ARCH_X86_64).number("getppid")
    err, _ = _binding.probe_seccomp(build_filter({}, ALLOW).to_bytes())
    if err:
        return _reason("seccomp filters", err)
    if kind == "trace":
        program = build_filter({(AUDIT_ARCH_X86_64, getppid): TRACE()}, ALLOW).to_bytes()
        err, ret = _binding.probe_seccomp(program)
        feature = "SECCOMP_RET_TRACE"
    else:
        program = build_filter({(AUDIT_ARCH_X86_64, getppid): USER_NOTIF}, ALLOW).to_bytes()
        err, ret = _binding.probe_seccomp(program, SECCOMP_FILTER_FLAG_NEW_LISTENER)
        feature = "SECCOMP_RET_USER_NOTIF (Linux 5.0)"
    if err:
        return _reason(feature, err)
    if ret != -38:  # -ENOSYS
        return f"{feature}: getppid under the filter returned {ret}, not -ENOSYS"
    return None


SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3


@cache
def sud_problem() -> str | None:
    err = _binding.probe_feature("sud")
    return _reason("Syscall User Dispatch (Linux 5.11)", err) if err else None


@cache
def sud_config_problem() -> str | None:
    err = _binding.probe_feature("set_sud_config")
    return _reason("PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG (Linux 6.4)", err) if err else None
