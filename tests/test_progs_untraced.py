"""Run every test program without any tracer and check what it really does.

Tracing tests compare against these behaviours, so they are pinned here first.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import descendants, proc_state
from progs.build import PROGRAM_NAMES, BuildError, compile_one

TIMEOUT = 20


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, timeout=TIMEOUT, check=False, cwd=cwd)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(32, 127)) * 2)  # 190 bytes, more than the 64 read
    return path


def test_every_program_is_built(progs) -> None:
    for name in PROGRAM_NAMES:
        if name in progs.unavailable:
            continue
        path = Path(progs[name])
        assert path.is_absolute() and os.access(path, os.X_OK), name


def test_compile_error_carries_gcc_stderr(tmp_path: Path) -> None:
    src = tmp_path / "broken.c"
    src.write_text("int main(void) { return undeclared_thing; }\n")
    with pytest.raises(BuildError) as info:
        compile_one("broken", src, tmp_path)
    assert "undeclared_thing" in str(info.value)
    assert "broken" in str(info.value)


# -- getppid_loop ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["getppid_loop", "getppid_loop_static"])
@pytest.mark.parametrize("args", [[], ["5"], ["0"]])
def test_getppid_loop(progs, name: str, args: list[str]) -> None:
    res = run(progs[name], *args)
    assert (res.returncode, res.stdout, res.stderr) == (0, b"", b"")


def test_getppid_loop_static_is_static(progs) -> None:
    with open(progs["getppid_loop_static"], "rb") as f:
        elf = f.read()
    assert b"/ld-linux" not in elf  # no PT_INTERP


# -- open_read_close -------------------------------------------------------------------


def test_open_read_close_prints_first_64_bytes(progs, data_file: Path) -> None:
    res = run(progs["open_read_close"], str(data_file))
    assert res.returncode == 0
    assert res.stdout == data_file.read_bytes()[:64]


def test_open_read_close_short_file(progs, tmp_path: Path) -> None:
    (tmp_path / "short").write_bytes(b"hello\n")
    res = run(progs["open_read_close"], str(tmp_path / "short"))
    assert (res.returncode, res.stdout) == (0, b"hello\n")


def test_open_read_close_missing(progs, tmp_path: Path) -> None:
    res = run(progs["open_read_close"], str(tmp_path / "missing"))
    assert (res.returncode, res.stdout) == (1, b"errno=2\n")


def test_open_read_close_relative_path(progs, data_file: Path) -> None:
    res = run(progs["open_read_close"], data_file.name, cwd=data_file.parent)
    assert (res.returncode, res.stdout) == (0, data_file.read_bytes()[:64])


# -- report ----------------------------------------------------------------------------


def report(progs, *args: str) -> str:
    res = run(progs["report"], *args)
    assert res.returncode == 0, res
    assert res.stderr == b""
    return res.stdout.decode()


def test_report_getppid(progs) -> None:
    assert report(progs, "getppid") == f"getppid ret={os.getpid()} errno=0\n"


def test_report_getuid(progs) -> None:
    assert report(progs, "getuid") == f"getuid ret={os.getuid()} errno=0\n"


def test_report_getpid(progs) -> None:
    with subprocess.Popen([progs["report"], "getpid"], stdout=subprocess.PIPE) as proc:
        out, _ = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0
    assert out == f"getpid ret={proc.pid} errno=0\n".encode()


def test_report_openat_existing(progs, data_file: Path) -> None:
    # subprocess closes every fd above 2, so the lowest free descriptor is 3.
    assert report(progs, "openat", str(data_file)) == "openat ret=3 errno=0\n"


def test_report_openat_missing(progs, tmp_path: Path) -> None:
    assert report(progs, "openat", str(tmp_path / "nope")) == "openat ret=-1 errno=2\n"


def test_report_mkdir(progs, tmp_path: Path) -> None:
    target = tmp_path / "newdir"
    assert report(progs, "mkdir", str(target)) == "mkdir ret=0 errno=0\n"
    assert target.is_dir()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700 & ~_umask()
    assert report(progs, "mkdir", str(target)) == "mkdir ret=-1 errno=17\n"


def test_report_kill0(progs) -> None:
    assert report(progs, "kill0") == "kill0 ret=0 errno=0\n"


@pytest.mark.parametrize("args", [[], ["bogus"], ["openat"], ["mkdir"]])
def test_report_usage(progs, args: list[str]) -> None:
    res = run(progs["report"], *args)
    assert res.returncode == 2
    assert res.stdout == b""
    assert b"usage" in res.stderr


def _umask() -> int:
    old = os.umask(0o022)
    os.umask(old)
    return old


# -- fork_wait, vfork_exec, exec_chain, two_threads ------------------------------------


def test_fork_wait(progs) -> None:
    res = run(progs["fork_wait"])
    assert (res.returncode, res.stdout) == (0, b"child exited 7\n")


@pytest.mark.parametrize("code", [0, 5, 42])
def test_vfork_exec_propagates_exit_code(progs, code: int) -> None:
    res = run(progs["vfork_exec"], progs["exit_code"], str(code))
    assert res.returncode == code


def test_vfork_exec_passes_argv_and_output(progs) -> None:
    res = run(progs["vfork_exec"], progs["fork_wait"])
    assert (res.returncode, res.stdout) == (0, b"child exited 7\n")
    res = run(progs["vfork_exec"], progs["report"], "getuid")
    assert (res.returncode, res.stdout) == (0, f"getuid ret={os.getuid()} errno=0\n".encode())


def test_vfork_exec_missing_program(progs, tmp_path: Path) -> None:
    assert run(progs["vfork_exec"], str(tmp_path / "nope")).returncode == 127


def test_vfork_exec_child_killed_by_signal(progs) -> None:
    res = run(progs["vfork_exec"], progs["signal_self"], "die")
    assert res.returncode == 128 + signal.SIGTERM
    assert res.stdout == b"handled\n"


@pytest.mark.parametrize("n", [0, 1, 3])
def test_exec_chain(progs, n: int) -> None:
    res = run(progs["exec_chain"], str(n))
    assert (res.returncode, res.stdout, res.stderr) == (3, b"", b"")


def test_two_threads(progs) -> None:
    res = run(progs["two_threads"])
    assert (res.returncode, res.stdout) == (0, b"threads done\n")


# -- signal_self, exit_code ------------------------------------------------------------


def test_signal_self(progs) -> None:
    res = run(progs["signal_self"])
    assert (res.returncode, res.stdout) == (0, b"handled\n")


def test_signal_self_die(progs) -> None:
    res = run(progs["signal_self"], "die")
    assert (res.returncode, res.stdout) == (-signal.SIGTERM, b"handled\n")


@pytest.mark.parametrize(("args", "code"), [([], 0), (["0"], 0), (["1"], 1), (["42"], 42)])
def test_exit_code(progs, args: list[str], code: int) -> None:
    res = run(progs["exit_code"], *args)
    assert (res.returncode, res.stdout) == (code, b"")


# -- int80_open ------------------------------------------------------------------------


def test_int80_open_existing(progs, data_file: Path) -> None:
    res = run(progs["int80_open"], str(data_file))
    assert res.returncode == 0, res
    assert res.stdout == b"int80 open ret=3\n"


def test_int80_open_missing(progs, tmp_path: Path) -> None:
    res = run(progs["int80_open"], str(tmp_path / "nope"))
    assert (res.returncode, res.stdout) == (0, b"int80 open ret=-2\n")


# -- sleeper ---------------------------------------------------------------------------


def test_sleeper_prints_pid_and_exits(progs) -> None:
    start = time.monotonic()
    with subprocess.Popen([progs["sleeper"], "0.3"], stdout=subprocess.PIPE) as proc:
        out, _ = proc.communicate(timeout=TIMEOUT)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0
    assert out == f"{proc.pid}\n".encode()
    assert 0.25 <= elapsed < 10


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL, signal.SIGTERM])
def test_sleeper_dies_by_signal(progs, sig: signal.Signals) -> None:
    with subprocess.Popen([progs["sleeper"]], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == f"{proc.pid}\n".encode()
        time.sleep(0.2)
        assert proc.poll() is None  # default 30 s: still sleeping
        assert proc_state(proc.pid) in {"S", "R"}
        proc.send_signal(sig)
        assert proc.wait(timeout=TIMEOUT) == -sig
    assert proc_state(proc.pid) is None


# -- thread_exec -----------------------------------------------------------------------


def test_thread_exec_becomes_its_program(progs) -> None:
    # exit_code 0 runs (not the pause of main, which would never return) and fails otherwise.
    res = run(progs["thread_exec"], progs["exit_code"])
    assert (res.returncode, res.stdout, res.stderr) == (0, b"", b"")
    assert run(progs["thread_exec"], "/nonexistent/program").returncode == 1


# -- helpers ---------------------------------------------------------------------------


def test_proc_state_and_descendants(progs) -> None:
    assert proc_state(os.getpid()) in {"R", "S"}
    with subprocess.Popen([progs["sleeper"], "10"], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()
        assert proc.pid in descendants()
        os.kill(proc.pid, signal.SIGSTOP)
        for _ in range(250):
            if proc_state(proc.pid) == "T":
                break
            time.sleep(0.02)
        assert proc_state(proc.pid) == "T"
        os.kill(proc.pid, signal.SIGKILL)
        for _ in range(250):
            if proc_state(proc.pid) == "Z":
                break
            time.sleep(0.02)
        assert proc_state(proc.pid) == "Z"  # dead but not yet reaped
        assert proc.wait(timeout=TIMEOUT) == -signal.SIGKILL
    assert proc_state(proc.pid) is None
    assert proc.pid not in descendants()


def test_proc_state_of_missing_pid() -> None:
    assert proc_state(2**22 + 12345) is None  # above pid_max's maximum


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
