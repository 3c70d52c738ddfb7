"""Small /proc helpers shared by the tests and conftest.py."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    state: str
    comm: str
    starttime: int  # clock ticks after boot; (pid, starttime) identifies a process

    def describe(self) -> str:
        return (
            f"pid={self.pid} ppid={self.ppid} state={self.state} comm={self.comm!r} "
            f"cmdline={proc_cmdline(self.pid)!r}"
        )


def read_proc_stat(pid: int) -> ProcInfo | None:
    """Parse /proc/PID/stat; None if the process is gone (or the file is unreadable)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    # comm is in parentheses and may itself contain spaces or ')'.
    lparen = data.find("(")
    rparen = data.rfind(")")
    if lparen < 0 or rparen < 0:
        return None
    rest = data[rparen + 2 :].split()
    # rest[0] is field 3 (state), rest[1] field 4 (ppid), rest[19] field 22 (starttime).
    try:
        return ProcInfo(
            pid=int(data[:lparen]),
            ppid=int(rest[1]),
            state=rest[0],
            comm=data[lparen + 1 : rparen],
            starttime=int(rest[19]),
        )
    except (IndexError, ValueError):
        return None


def proc_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, D, t, T, Z, ...), or None if gone."""
    info = read_proc_stat(pid)
    return None if info is None else info.state


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    return " ".join(a.decode("utf-8", "replace") for a in raw.split(b"\0") if a)


def all_processes() -> dict[int, ProcInfo]:
    """Every process (thread-group leader) listed in /proc right now."""
    procs: dict[int, ProcInfo] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = read_proc_stat(int(name))
            if info is not None:
                procs[info.pid] = info
    return procs


def descendants(root: int | None = None) -> dict[int, ProcInfo]:
    """Processes (alive, stopped or zombie) descending from ``root`` (default: us).

    Parentage is the real parent (/proc/PID/stat field 4), not a ptrace tracer.
    Processes already reparented away (to init or a subreaper) are not found.
    """
    if root is None:
        root = os.getpid()
    procs = all_processes()
    children: dict[int, list[int]] = {}
    for info in procs.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: dict[int, ProcInfo] = {}
    todo = list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        if pid in found or pid == root:
            continue
        found[pid] = procs[pid]
        todo.extend(children.get(pid, ()))
    return found


def require(mechanism: str, capability: str) -> None:
    """Skip unless the mechanism has this capability (a field of mechanisms.Capabilities)."""
    import pytest

    from splitpriv import mechanisms

    if not getattr(mechanisms.get(mechanism).capabilities, capability):
        pytest.skip(f"{mechanism} cannot: {capability.replace('_', ' ')}")


def capabilities(mechanism: str):  # type: ignore[no-untyped-def]
    """The mechanism's Capabilities, for tests that check more where a mechanism sees more."""
    from splitpriv import mechanisms

    return mechanisms.get(mechanism).capabilities
