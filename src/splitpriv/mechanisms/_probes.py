"""Kernel feature probes shared by the ptrace-based mechanisms, cached per process.

Each probe traces a short-lived child for real (csrc/probe.c). Results are cached because the
kernel does not change under a running process; nothing here may keep a process alive.
"""

from __future__ import annotations

import os
from functools import cache

from splitpriv import _binding


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
