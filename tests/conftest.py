"""Shared fixtures: the compiled test programs, and the leftover-process check."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from helpers import ProcInfo, descendants
from progs.build import PROGRAM_NAMES, build_all

# A decoder that fails must fail its test, here and in every CLI the tests start (in use, the
# call would quietly print its raw arguments: splitpriv.syscalls.decode.apply_decoder).
os.environ["SPLITPRIV_STRICT_DECODE"] = "1"

LEFTOVER_GRACE_S = 2.0
LEFTOVER_POLL_S = 0.02
_WALL = 0x40000000  # waitpid flag __WALL (not exported by the os module)


class Progs(Mapping[str, str]):
    """name -> absolute path of a compiled test program.

    Asking for a program that could not be built on this machine (the optional
    static build) skips the asking test, with gcc's reason.
    """

    def __init__(self, built: dict[str, Path], unavailable: dict[str, str]) -> None:
        self._paths = {name: str(path) for name, path in built.items()}
        self._unavailable = dict(unavailable)

    def __getitem__(self, name: str) -> str:
        try:
            return self._paths[name]
        except KeyError:
            if name in self._unavailable:
                pytest.skip(f"test program {name!r} unavailable here: {self._unavailable[name]}")
            raise KeyError(f"no test program {name!r}; known: {', '.join(PROGRAM_NAMES)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    @property
    def unavailable(self) -> dict[str, str]:
        return dict(self._unavailable)


@pytest.fixture(scope="session")
def progs(tmp_path_factory: pytest.TempPathFactory) -> Progs:
    """Mapping name -> absolute path (str) of every program in tests/progs, built once."""
    unavailable: dict[str, str] = {}
    built = build_all(tmp_path_factory.mktemp("progs"), unavailable=unavailable)
    return Progs(built, unavailable)


def _key(info: ProcInfo) -> tuple[int, int]:
    return (info.pid, info.starttime)


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Fail a test that leaves a descendant process behind (alive, stopped or zombie).

    Descendants that already existed when the test started (e.g. owned by a
    session fixture) are ignored. Leftovers get LEFTOVER_GRACE_S to disappear;
    the ones still there are listed, SIGKILLed and (if our children) reaped, so
    one leaky test does not fail the ones after it.
    """
    before = {_key(i) for i in descendants().values()}
    yield

    def leftovers() -> list[ProcInfo]:
        return [i for i in descendants().values() if _key(i) not in before]

    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = leftovers()
    while left and time.monotonic() < deadline:
        time.sleep(LEFTOVER_POLL_S)
        left = leftovers()
    if not left:
        return

    listing = "\n".join("  " + i.describe() for i in sorted(left, key=lambda i: i.pid))
    me = os.getpid()
    for info in left:
        if info.state != "Z":
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    unreaped = {i.pid for i in left if i.ppid == me}
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while unreaped and time.monotonic() < deadline:
        for pid in list(unreaped):
            try:
                got, status = os.waitpid(pid, os.WNOHANG | _WALL)
            except ChildProcessError:
                unreaped.discard(pid)
                continue
            if got == pid and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
                unreaped.discard(pid)
        if unreaped:
            time.sleep(LEFTOVER_POLL_S)
    pytest.fail(
        f"test left {len(left)} descendant process(es) of pid {me} behind "
        f"after {LEFTOVER_GRACE_S:.0f} s:\n{listing}",
        pytrace=False,
    )


def _mechanism_params() -> list[str]:
    from splitpriv import mechanisms

    return mechanisms.names()


@pytest.fixture(params=_mechanism_params())
def mechanism(request: pytest.FixtureRequest) -> str:
    """Each registered mechanism; skipped, with the kernel's reason, where it cannot run."""
    from splitpriv import mechanisms

    availability = mechanisms.get(request.param).available()
    if not availability:
        pytest.skip(f"{request.param}: {availability.reason}")
    return str(request.param)
