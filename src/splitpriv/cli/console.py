"""The one place rich is configured: consoles for errors and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

# rich is imported when something is first printed through it: a trace written to a file
# never needs it, and importing it costs a run of `splitpriv trace` about 16 ms.
if TYPE_CHECKING:
    from rich.console import Console

_stderr: Console | None = None
_stdout: Console | None = None


def stdout() -> Console:
    global _stdout
    if _stdout is None:
        from rich.console import Console

        _stdout = Console(highlight=False)
    return _stdout


def stderr() -> Console:
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


def error(message: str) -> None:
    """The one-line error every failure gets (no traceback)."""
    stderr().print(f"[bold red]splitpriv:[/] {message}", markup=True)


def usage_error(prog: str, message: str) -> None:
    """The one line a command line that cannot run gets: ``prog: message``, the message as
    typed (no rich markup read in it: it quotes what the user typed)."""
    from rich.markup import escape

    stderr().print(f"[bold red]{prog}:[/] {escape(message)}", markup=True, highlight=False)
