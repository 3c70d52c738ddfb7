"""The exceptions of :mod:`splitpriv.seccomp`.

They live here rather than in :mod:`splitpriv.errors` so that the filter builder stays a
self-contained package; both derive from :class:`~splitpriv.errors.SplitprivError` (so the CLI's
one ``except`` still catches them) and from :class:`ValueError` (the request was malformed).
"""

from __future__ import annotations

from splitpriv.errors import SplitprivError


class SeccompFilterError(SplitprivError, ValueError):
    """A seccomp action, rule set or BPF program that is not valid (bad errno, bad jump, ...)."""


class FilterTooLargeError(SeccompFilterError):
    """The program would exceed BPF_MAXINSNS (4096) instructions, the kernel's limit."""

    def __init__(self, length: int, limit: int, detail: str = "") -> None:
        self.length = length
        self.limit = limit
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"seccomp filter needs {length} instructions, more than the kernel's limit of "
            f"{limit}{extra}"
        )
