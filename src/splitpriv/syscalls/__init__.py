"""Syscall tables and argument metadata: names, numbers, prototypes, what to capture.

This package is pure data and lookups so that every mechanism (ptrace, seccomp, eBPF, ...) and
the CLI agree on what "openat" or argument 1 means. It must never touch processes: no ptrace, no
/proc reads, no signals, no imports of the engine. Anything that needs a live tracee belongs in
``splitpriv.mechanisms``.
"""

from splitpriv.syscalls.prototypes import (
    CAPTURE_ARGV,
    CAPTURE_BUF_ARG,
    CAPTURE_BUF_RET,
    CAPTURE_CSTRING,
    CAPTURE_DIRENTS,
    CAPTURE_ENVC,
    CAPTURE_FDSET,
    CAPTURE_IN_WORDS,
    CAPTURE_INOUT_WORDS,
    CAPTURE_NONE,
    CAPTURE_OUT_INTS,
    CAPTURE_OUT_WORDS,
    CAPTURE_POLLFDS,
    CAPTURE_SIGFRAME_MASK,
    CAPTURE_SOCKADDR_OUT,
    EXTRA_PROTOTYPES,
    CaptureSpec,
    Param,
    Prototype,
    capture_spec,
    has_prototype,
    is_pointer,
    is_string_param,
    prototype,
)
from splitpriv.syscalls.table import (
    ARCHES,
    AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64,
    MAX_SYSCALL_NR,
    SyscallTable,
    numbers_for_all_arches,
    resolve,
    table,
)

__all__ = [
    "ARCHES",
    "AUDIT_ARCH_I386",
    "AUDIT_ARCH_X86_64",
    "CAPTURE_ARGV",
    "CAPTURE_BUF_ARG",
    "CAPTURE_BUF_RET",
    "CAPTURE_CSTRING",
    "CAPTURE_DIRENTS",
    "CAPTURE_ENVC",
    "CAPTURE_FDSET",
    "CAPTURE_INOUT_WORDS",
    "CAPTURE_IN_WORDS",
    "CAPTURE_NONE",
    "CAPTURE_OUT_INTS",
    "CAPTURE_OUT_WORDS",
    "CAPTURE_POLLFDS",
    "CAPTURE_SIGFRAME_MASK",
    "CAPTURE_SOCKADDR_OUT",
    "EXTRA_PROTOTYPES",
    "MAX_SYSCALL_NR",
    "CaptureSpec",
    "Param",
    "Prototype",
    "SyscallTable",
    "capture_spec",
    "has_prototype",
    "is_pointer",
    "is_string_param",
    "numbers_for_all_arches",
    "prototype",
    "resolve",
    "table",
]
