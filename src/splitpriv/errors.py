"""The exceptions splitpriv raises.

Every error the library raises on purpose derives from :class:`SplitprivError`, so a caller (and
the CLI, which prints one line for it) can catch them all at once. Where a builtin exception says
the same thing, the subclass inherits it too, so ``except FileNotFoundError`` keeps working.

This module must never import anything from the rest of the package.
"""

from __future__ import annotations


class SplitprivError(Exception):
    """Base of every error splitpriv raises on purpose."""


class LaunchError(SplitprivError):
    """The program to trace could not be started."""


class ProgramNotFoundError(LaunchError, FileNotFoundError):
    """The program does not exist (on PATH or at the given path)."""


class NotExecutableError(LaunchError, PermissionError):
    """The program exists but is not an executable file."""


class AttachError(SplitprivError, ProcessLookupError):
    """A pid to attach to does not exist or cannot be traced."""


class UnknownSyscallError(SplitprivError, LookupError):
    """A syscall name or number that the tables do not know."""

    def __init__(self, name: str, suggestion: str | None = None) -> None:
        self.name = name
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        super().__init__(f"unknown syscall {name!r}{hint}")


class ArgumentTypeError(SplitprivError, TypeError):
    """An argument of the wrong type: a string where a list of them is wanted, say."""


class PolicyError(SplitprivError, ValueError):
    """A policy that cannot be applied (bad action, bad errno, unsupported by the mechanism)."""


class MechanismUnavailableError(SplitprivError, OSError):
    """The requested mechanism cannot run on this kernel or machine; the message says why."""


class UnknownMechanismError(SplitprivError, LookupError):
    """No mechanism is registered under that name."""


class EngineError(SplitprivError, OSError):
    """The C supervisor engine failed (a ptrace or wait call returned an unexpected error)."""


class AddressSpaceError(SplitprivError, ValueError):
    """An address-space operation with bad input: unaligned, overlapping, outside the user
    range, not mapped, or on a closed space. Nothing is changed when it is raised."""


class VCpuError(SplitprivError, RuntimeError):
    """A virtual CPU could not start, lost its host process, or was asked to do the impossible."""
