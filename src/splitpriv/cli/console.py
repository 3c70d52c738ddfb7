"""The one place rich is configured: consoles for errors and reports."""

from __future__ import annotations

from rich.console import Console

_stderr: Console | None = None
_stdout: Console | None = None


def stdout() -> Console:
    global _stdout
    if _stdout is None:
        _stdout = Console(highlight=False)
    return _stdout


def stderr() -> Console:
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def error(message: str) -> None:
    """The one-line error every failure gets (no traceback)."""
    stderr().print(f"[bold red]splitpriv:[/] {message}", markup=True)
