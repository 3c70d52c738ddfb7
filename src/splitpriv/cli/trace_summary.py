"""``-c``/``-C``: strace's summary table of time, calls and errors per syscall.

The plain text is strace's layout to the character (column widths grow with the totals as
strace's do, rows sort stably on syscall-number order, one table per architecture with
strace's "System call usage summary for 32 bit mode:" line before the i386 one). On a terminal
the same table is drawn with rich.

What is counted: every traced call that returned (strace counts at syscall exit, so
``exit_group`` and calls cut short by the task's death are not in the table), whatever ``-e
status`` hides. The time is the wall-clock latency between the engine's entry and exit stops,
which is what strace reports with ``-w``; strace's default is the system CPU time the tracee
spent in the call, which a ptrace-based tracer cannot read per call without a /proc read per
stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

_ARCH_ORDER = {"x86_64": 0, "i386": 1}
_PERSONALITY = {"x86_64": "64 bit", "i386": "32 bit"}


class Row:
    """One syscall's totals."""

    __slots__ = ("calls", "errors", "max_ns", "min_ns", "name", "nr", "total_ns")

    def __init__(self, name: str, nr: int) -> None:
        self.name = name
        self.nr = nr
        self.calls = 0
        self.errors = 0
        self.total_ns = 0
        self.min_ns: int | None = None
        self.max_ns = 0

    @property
    def avg_ns(self) -> int:
        return self.total_ns // self.calls if self.calls else 0


def _seconds(ns: int) -> float:
    return ns / 1e9


class Summary:
    """Totals per (architecture, syscall), fed one returned call at a time."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, int], Row] = {}

    def add(self, arch: str, nr: int, name: str, duration_ns: int, failed: bool) -> None:
        key = (arch, nr)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = Row(name, nr)
        row.calls += 1
        if failed:
            row.errors += 1
        spent = duration_ns if duration_ns > 0 else 0
        row.total_ns += spent
        if row.min_ns is None or spent < row.min_ns:
            row.min_ns = spent
        if spent > row.max_ns:
            row.max_ns = spent

    def arches(self) -> list[str]:
        return sorted({arch for arch, _ in self._rows}, key=lambda a: _ARCH_ORDER.get(a, 9))

    def rows(self, arch: str, sort_by: str = "time") -> list[Row]:
        """The rows of one architecture, sorted like strace's -S (stable on number order)."""
        rows = sorted((r for (a, _), r in self._rows.items() if a == arch), key=lambda r: r.nr)
        keys: dict[str, Any] = {
            "time": lambda r: -r.total_ns,
            "min-time": lambda r: -(r.min_ns or 0),
            "max-time": lambda r: -r.max_ns,
            "avg-time": lambda r: -r.avg_ns,
            "calls": lambda r: -r.calls,
            "errors": lambda r: -r.errors,
            "name": lambda r: r.name,
        }
        if sort_by in keys:
            rows.sort(key=keys[sort_by])
        return rows

    def __bool__(self) -> bool:
        return bool(self._rows)

    # -- strace's plain layout -----------------------------------------------------------------

    def plain(self, sort_by: str = "time") -> str:
        """The table exactly as strace prints it (for files, pipes and tests)."""
        arches = self.arches() or ["x86_64"]
        out = []
        for i, arch in enumerate(arches):
            if i:
                out.append(f"System call usage summary for {_PERSONALITY.get(arch, arch)} mode:\n")
            out.append(_plain_table(self.rows(arch, sort_by)))
        return "".join(out)

    # -- rich ----------------------------------------------------------------------------------

    def tables(self, sort_by: str = "time") -> list[Table]:
        """The same tables for a terminal, drawn with rich."""
        result = []
        arches = self.arches() or ["x86_64"]
        for i, arch in enumerate(arches):
            title = None if i == 0 else f"System call usage summary for {_PERSONALITY[arch]} mode"
            result.append(_rich_table(self.rows(arch, sort_by), title))
        return result

    # -- JSON ----------------------------------------------------------------------------------

    def records(self, sort_by: str = "time") -> list[dict[str, Any]]:
        """One ``{"v":1,"type":"summary",...}`` object per architecture (see trace_json)."""
        objects = []
        for arch in self.arches():
            rows = self.rows(arch, sort_by)
            total_ns = sum(r.total_ns for r in rows)
            calls = sum(r.calls for r in rows)
            objects.append(
                {
                    "v": 1,
                    "type": "summary",
                    "arch": arch,
                    "syscalls": [
                        {
                            "name": r.name,
                            "calls": r.calls,
                            "errors": r.errors,
                            "total_ns": r.total_ns,
                            "min_ns": r.min_ns or 0,
                            "max_ns": r.max_ns,
                            "avg_ns": r.avg_ns,
                            "percent": _percent(r.total_ns, total_ns),
                        }
                        for r in rows
                    ],
                    "total": {
                        "calls": calls,
                        "errors": sum(r.errors for r in rows),
                        "total_ns": total_ns,
                    },
                }
            )
        return objects


def _percent(part_ns: int, total_ns: int) -> float:
    percent = 100.0 * _seconds(part_ns)
    if percent != 0.0:
        percent /= _seconds(total_ns)
    return percent


def _usecs(seconds: float) -> int:
    return int(seconds * 1e6)


def _plain_table(rows: list[Row]) -> str:
    total_ns = sum(r.total_ns for r in rows)
    calls = sum(r.calls for r in rows)
    errors = sum(r.errors for r in rows)
    total_s = _seconds(total_ns)
    avg_max = max((_seconds(r.avg_ns) for r in rows), default=0.0)
    widths = [
        6,
        max(11, len(f"{total_s:.6f}")),
        max(11, len(str(_usecs(avg_max)))),
        max(9, len(str(calls))),
        max(9, len(str(errors))),
        max(16, max((len(r.name) for r in rows), default=0) + 1),
    ]
    w_pct, w_sec, w_avg, w_calls, w_err, _ = widths
    lines = [
        f"{'% time':>{w_pct}} {'seconds':>{w_sec}} {'usecs/call':>{w_avg}} "
        f"{'calls':>{w_calls}} {'errors':>{w_err}} syscall",
    ]
    rule = " ".join("-" * w for w in widths)
    lines.append(rule)
    for r in rows:
        err = str(r.errors) if r.errors else ""
        lines.append(
            f"{_percent(r.total_ns, total_ns):{w_pct}.2f} {_seconds(r.total_ns):{w_sec}.6f} "
            f"{_usecs(_seconds(r.avg_ns)):{w_avg}d} {r.calls:{w_calls}d} {err:>{w_err}} {r.name}"
        )
    lines.append(rule)
    total_avg = _usecs(total_s / calls) if calls else 0
    err = str(errors) if errors else ""
    lines.append(
        f"{100.0:{w_pct}.2f} {total_s:{w_sec}.6f} {total_avg:{w_avg}d} {calls:{w_calls}d} "
        f"{err:>{w_err}} total"
    )
    return "\n".join(lines) + "\n"


def _rich_table(rows: list[Row], title: str | None) -> Table:
    from rich.table import Table

    total_ns = sum(r.total_ns for r in rows)
    calls = sum(r.calls for r in rows)
    errors = sum(r.errors for r in rows)
    grid = Table(title=title, title_justify="left", show_footer=True, box=None, pad_edge=False)
    total_s = _seconds(total_ns)
    grid.add_column("% time", footer="100.00", justify="right")
    grid.add_column("seconds", footer=f"{total_s:.6f}", justify="right")
    avg = _usecs(total_s / calls) if calls else 0
    grid.add_column("usecs/call", footer=str(avg), justify="right")
    grid.add_column("calls", footer=str(calls), justify="right")
    grid.add_column("errors", footer=str(errors) if errors else "", justify="right")
    grid.add_column("syscall", footer="total")
    for r in rows:
        grid.add_row(
            f"{_percent(r.total_ns, total_ns):.2f}",
            f"{_seconds(r.total_ns):.6f}",
            str(_usecs(_seconds(r.avg_ns))),
            str(r.calls),
            f"[red]{r.errors}[/]" if r.errors else "",
            r.name,
        )
    return grid


__all__ = ["Row", "Summary"]
