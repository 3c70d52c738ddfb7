"""What this kernel and machine offer: every feature probed for real, and each mechanism's verdict.

``diagnose()`` returns plain data (``Diagnosis``) for ``splitpriv doctor`` to render, and for
tools that want to pick a mechanism themselves. Probes fork short-lived children (csrc/probe.c,
csrc/seccomp.c) or make harmless calls in this process; none leaves anything behind. This module
never prints.
"""

from __future__ import annotations

import ctypes
import os
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

from splitpriv import _binding, mechanisms
from splitpriv.errors import MechanismUnavailableError
from splitpriv.mechanisms import _probes

SYS_PKEY_ALLOC = 330
SYS_PKEY_FREE = 331


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class MechanismStatus:
    name: str
    available: bool
    reason: str
    summary: str
    requirements: tuple[str, ...]
    capabilities: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    kernel: str
    machine: str
    features: tuple[Feature, ...]
    mechanisms: tuple[MechanismStatus, ...]
    auto_trace: str | None
    auto_trace_reason: str
    auto_policy: str | None
    auto_policy_reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_problem(name: str, problem: str | None, ok_detail: str = "") -> Feature:
    return Feature(name, problem is None, problem or ok_detail)


def _from_errno(name: str, err: int, ok_detail: str = "") -> Feature:
    if err == 0:
        return Feature(name, True, ok_detail)
    return Feature(name, False, f"{os.strerror(err)} (errno {err})")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def protection_keys() -> Feature:
    """Whether this CPU and kernel hand out protection keys (pkey_alloc), probed for real."""
    libc = _libc()
    key = libc.syscall(SYS_PKEY_ALLOC, 0, 0)
    if key < 0:
        err = ctypes.get_errno()
        why = ": this CPU or kernel gives no protection keys" if err in (22, 28, 38) else ""
        return Feature(
            "protection keys", False, f"pkey_alloc: {os.strerror(err)} (errno {err}){why}"
        )
    libc.syscall(SYS_PKEY_FREE, key)
    return Feature("protection keys", True, "pkey_alloc works")


def _process_vm_readv() -> Feature:
    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    source = ctypes.create_string_buffer(b"probe")
    target = ctypes.create_string_buffer(5)
    local = IoVec(ctypes.cast(target, ctypes.c_void_p), 5)
    remote = IoVec(ctypes.cast(source, ctypes.c_void_p), 5)
    libc = _libc()
    n = libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if n == 5 and target.raw == b"probe":
        return Feature("process_vm_readv", True)
    err = ctypes.get_errno()
    return Feature("process_vm_readv", False, f"{os.strerror(err)} (errno {err})")


def _pidfd() -> Feature:
    try:
        fd = os.pidfd_open(os.getpid())
    except OSError as exc:
        return Feature("pidfd_open", False, f"{exc.strerror} (errno {exc.errno})")
    os.close(fd)
    return Feature("pidfd_open", True)


def _ptrace_scope() -> Feature:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = int(f.read())
    except OSError:
        return Feature("ptrace_scope", True, "no Yama LSM: no extra ptrace restriction")
    meaning = {
        0: "classic: any process of the same user",
        1: "restricted: descendants only (launching works, -p needs CAP_SYS_PTRACE)",
        2: "admin-only: CAP_SYS_PTRACE needed",
        3: "no attach: ptrace is disabled",
    }.get(scope, "unknown")
    return Feature("ptrace_scope", scope < 3, f"{scope} ({meaning})")


def _capabilities() -> Feature:
    effective = _probes.effective_capabilities()
    if effective is None:
        return Feature("capabilities", False, "cannot read /proc/self/status")
    have = [
        name
        for bit, name in (
            (_probes.CAP_SYS_PTRACE, "CAP_SYS_PTRACE"),
            (_probes.CAP_SYS_ADMIN, "CAP_SYS_ADMIN"),
        )
        if effective >> bit & 1
    ]
    detail = ", ".join(have) if have else "neither CAP_SYS_PTRACE nor CAP_SYS_ADMIN"
    if "CAP_SYS_ADMIN" not in have:
        detail += " (seccomp filters will set no_new_privs)"
    return Feature("capabilities", True, detail)


def vcpu_host() -> Feature:
    """Can a VCpu host start (splitpriv.vcpu)? Boots one for real and stops it."""
    from splitpriv.vcpu import guest_filter

    try:
        host = _binding.VcpuHost(guest_filter(), "none", -1)
    except OSError as exc:
        return Feature("VCpu host", False, f"cannot start: {exc.strerror}")
    host.stop()
    return Feature("VCpu host", True, "a stub-only process: memfd, seccomp RET_TRAP, SCM_RIGHTS")


def probe_features() -> tuple[Feature, ...]:
    """Every feature splitpriv's mechanisms use, each probed for real."""
    return (
        _from_problem("ptrace", _probes.ptrace_problem()),
        _from_problem("PTRACE_SYSEMU", _probes.sysemu_problem()),
        _from_problem("PTRACE_GET_SYSCALL_INFO", _probes.syscall_info_problem(), "Linux 5.3"),
        _from_errno(
            "PTRACE_SET_SYSCALL_INFO", _binding.probe_feature("set_syscall_info"), "Linux 6.16"
        ),
        _from_problem(
            "seccomp RET_TRACE", _probes.seccomp_problem("trace"), "filters load; RET_TRACE stops"
        ),
        _from_problem("seccomp RET_USER_NOTIF", _probes.seccomp_problem("notify"), "Linux 5.0"),
        _from_errno(
            "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", _binding.probe_feature("sync_wakeup"), "Linux 6.7"
        ),
        _from_errno("Syscall User Dispatch", _binding.probe_feature("sud"), "Linux 5.11"),
        _from_errno(
            "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG",
            _binding.probe_feature("set_sud_config"),
            "Linux 6.4",
        ),
        protection_keys(),
        _process_vm_readv(),
        _pidfd(),
        _ptrace_scope(),
        _capabilities(),
        vcpu_host(),
    )


def _auto(**wanted: Any) -> tuple[str | None, str]:  # (booleans: choose() keywords)
    try:
        chosen = mechanisms.choose("auto", **wanted)
    except MechanismUnavailableError as exc:
        return None, str(exc)
    needs = [_NEEDS[k] for k, v in wanted.items() if v]
    return chosen.name, "the cheapest available mechanism that can " + " and ".join(needs)


_NEEDS = {
    "deny": "deny",
    "emulate": "emulate",
    "callbacks": "ask Python",
    "attach": "attach",
    "untraced_children": "leave children untraced",
    "return_values": "see return values",
}


def diagnose() -> Diagnosis:
    statuses = []
    for mechanism in mechanisms.all_mechanisms():
        availability = mechanism.available()
        statuses.append(
            MechanismStatus(
                name=mechanism.name,
                available=availability.ok,
                reason=availability.reason or "all requirements met",
                summary=mechanism.summary,
                requirements=mechanism.requirements,
                capabilities=mechanism.capabilities._asdict(),
            )
        )
    auto_trace, trace_reason = _auto(return_values=True)
    auto_policy, policy_reason = _auto(deny=True, emulate=True)
    return Diagnosis(
        kernel=platform.release(),
        machine=platform.machine(),
        features=probe_features(),
        mechanisms=tuple(statuses),
        auto_trace=auto_trace,
        auto_trace_reason=trace_reason,
        auto_policy=auto_policy,
        auto_policy_reason=policy_reason,
    )
