"""splitpriv: intercept the system calls of Linux processes through every mechanism the kernel
offers (ptrace, PTRACE_SYSEMU, and more to come), behind one API, and measure them side by side.

In a nutshell::

    import splitpriv
    with splitpriv.trace(["cat", "/etc/hostname"], syscalls=["openat", "read"]) as t:
        for event in t:
            print(event)                       # openat(AT_FDCWD, "/etc/hostname", 0) = 3
    print(t.exit_status)                       # exited with 0

    policy = splitpriv.Policy().deny("unlinkat", errno="EACCES").emulate("getuid", retval=0)
    result = splitpriv.run(["rm", "-f", "x"], policy=policy, mechanism="sysemu")
    print(result.returncode, result.counts["unlinkat"])

The hot loop is C (``csrc/``); Python sees events in batches and runs per syscall only for the
syscalls a policy hands to a Python callback.

Address spaces with fd handles and virtual CPUs that switch among them (the seed's other half)
are ``splitpriv.AddressSpace`` and ``splitpriv.VCpu``, imported on first use.
"""

from typing import Any

from splitpriv.errors import (
    AddressSpaceError,
    ArgumentTypeError,
    AttachError,
    EngineError,
    LaunchError,
    MechanismUnavailableError,
    NotExecutableError,
    PolicyError,
    ProgramNotFoundError,
    SplitprivError,
    UnknownMechanismError,
    UnknownSyscallError,
    VCpuError,
)
from splitpriv.events import (
    Argument,
    Event,
    ExecEvent,
    ExitEvent,
    ExitStatus,
    SignalEvent,
    StopEvent,
    SyscallEvent,
)
from splitpriv.policy import ALLOW, Action, Policy
from splitpriv.session import RunResult, Trace, run, trace
from splitpriv.unprivileged import Unprivileged, unprivileged

__version__ = "0.1.0"

# Imported on first use: ``import splitpriv`` stays quick for the trace runner.
_LAZY = {
    "AddressSpace": "splitpriv.addrspace",
    "Context": "splitpriv.vcpu",
    "Registers": "splitpriv.vcpu",
    "Trap": "splitpriv.vcpu",
    "VCpu": "splitpriv.vcpu",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'splitpriv' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "ALLOW",
    "Action",
    "AddressSpace",
    "AddressSpaceError",
    "Argument",
    "ArgumentTypeError",
    "AttachError",
    "Context",
    "EngineError",
    "Event",
    "ExecEvent",
    "ExitEvent",
    "ExitStatus",
    "LaunchError",
    "MechanismUnavailableError",
    "NotExecutableError",
    "Policy",
    "PolicyError",
    "ProgramNotFoundError",
    "Registers",
    "RunResult",
    "SignalEvent",
    "SplitprivError",
    "StopEvent",
    "SyscallEvent",
    "Trace",
    "Trap",
    "UnknownMechanismError",
    "UnknownSyscallError",
    "Unprivileged",
    "VCpu",
    "VCpuError",
    "__version__",
    "run",
    "trace",
    "unprivileged",
]
