"""Seccomp filters as data: build, inspect and simulate classic-BPF programs in pure Python.

In a nutshell::

    from splitpriv.seccomp import ALLOW, ERRNO, KILL_PROCESS, Action, build_filter, evaluate
    from splitpriv.syscalls import AUDIT_ARCH_X86_64 as X86_64

    program = build_filter({(X86_64, 110): ERRNO(13)}, ALLOW)   # getppid fails with EACCES
    print(program.disassemble())                                # readable, annotated
    Action(evaluate(program, 110, X86_64))                      # ERRNO(13), without a kernel
    raw = program.to_bytes()                                    # struct sock_filter[] to load

The seccomp mechanisms use it to turn a policy into the filter their tracee installs: actions
per (audit arch, syscall number), an arch check that keeps ``int $0x80`` (i386 numbering) and the
x32 ABI from slipping past the x86_64 rules, an optional trusted instruction-pointer range, and a
binary search whose size grows with the number of distinct ranges rather than syscalls.

What it must never do: install anything. Nothing in this package calls prctl() or seccomp(),
forks, or touches a process; it produces bytes and answers questions about them. A filter cannot
be removed once installed, so loading one is left to code that owns a child process: the C
engine (``csrc/seccomp.c``) in a tracee before exec, and the test helper ``run_with_filter`` in
``tests/test_seccomp_filter.py``, which does it in a forked child only.
"""

from splitpriv.seccomp.actions import (
    ALLOW,
    ERRNO,
    KILL_PROCESS,
    KILL_THREAD,
    LOG,
    TRACE,
    TRAP,
    USER_NOTIF,
    Action,
)
from splitpriv.seccomp.bpf import (
    BPF_MAXINSNS,
    Assembler,
    FilterProgram,
    Instruction,
    Label,
)
from splitpriv.seccomp.errors import FilterTooLargeError, SeccompFilterError
from splitpriv.seccomp.filter import (
    X32_SYSCALL_BIT,
    I386Mode,
    NrRange,
    action_ranges,
    build_filter,
)
from splitpriv.seccomp.simulator import evaluate, seccomp_data

__all__ = [
    "ALLOW",
    "BPF_MAXINSNS",
    "ERRNO",
    "KILL_PROCESS",
    "KILL_THREAD",
    "LOG",
    "TRACE",
    "TRAP",
    "USER_NOTIF",
    "X32_SYSCALL_BIT",
    "Action",
    "Assembler",
    "FilterProgram",
    "FilterTooLargeError",
    "I386Mode",
    "Instruction",
    "Label",
    "NrRange",
    "SeccompFilterError",
    "action_ranges",
    "build_filter",
    "evaluate",
    "seccomp_data",
]
