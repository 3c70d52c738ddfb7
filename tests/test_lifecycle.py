"""Starting, attaching, stopping and dying: nothing is left stopped, orphaned or untraced.

Bad input gets a clear SplitprivError; a supervisor that gets SIGINT or SIGKILL takes its
launched tracees with it; an attached process is detached and runs on.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import capabilities, proc_state, require

import splitpriv
from splitpriv import Action, ExitEvent, Policy, SignalEvent, StopEvent, SyscallEvent

TRACE = [sys.executable, "-m", "splitpriv", "trace"]


def wait_until_gone(pid: int, timeout: float = 5.0, *, zombie_ok: bool = True) -> str | None:
    """Poll /proc until pid is gone (or a zombie, if that will do); its last state."""
    deadline = time.monotonic() + timeout
    state = proc_state(pid)
    done = (None, "Z") if zombie_ok else (None,)
    while state not in done and time.monotonic() < deadline:
        time.sleep(0.02)
        state = proc_state(pid)
    return state


# -- bad input ---------------------------------------------------------------------------------


def test_missing_program():
    with pytest.raises(splitpriv.ProgramNotFoundError, match="no-such-program-xyz"):
        splitpriv.trace(["no-such-program-xyz"])
    with pytest.raises(FileNotFoundError):
        splitpriv.run(["/nonexistent/prog"])


def test_not_executable(tmp_path: Path):
    plain = tmp_path / "plain.txt"
    plain.write_text("just text\n")
    with pytest.raises(splitpriv.NotExecutableError, match="not executable"):
        splitpriv.trace([str(plain)])
    with pytest.raises(splitpriv.NotExecutableError, match="not an executable file"):
        splitpriv.trace([str(tmp_path)])


def test_exec_failure_in_the_child_is_reported(tmp_path: Path, mechanism):
    script = tmp_path / "bad-interpreter"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    with pytest.raises(splitpriv.LaunchError, match="cannot execute"):
        splitpriv.run([str(script)], mechanism=mechanism)
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x7fELF not really")
    garbage.chmod(0o755)
    with pytest.raises(splitpriv.NotExecutableError, match="Exec format error"):
        splitpriv.run([str(garbage)], mechanism=mechanism)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("deny", [["execve"], ["execve", "exit_group"], "all but rt_sigreturn"])
def test_a_policy_that_denies_the_launch_is_reported_and_ends(mechanism, deny):
    """A policy that denies execve, and with it the exit_group and the write of our launcher
    (an allow-list that forgot execve): the launch error, at once. It used to hang for good,
    the launcher retrying its denied exit_group at 100% CPU. (rt_sigreturn stays allowed: the
    stub mechanisms refuse to deny it, and say why.)"""
    if deny == "all but rt_sigreturn":
        policy = Policy(Action.deny("EPERM")).allow("rt_sigreturn")
    else:
        policy = Policy().deny(*deny)
    with pytest.raises(splitpriv.LaunchError, match="cannot execute '/bin/true': Operation not"):
        splitpriv.run(["/bin/true"], mechanism=mechanism, policy=policy)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("how", ["emulate everything", "emulate execve"])
def test_an_execve_the_policy_answers_is_a_launch_error(mechanism, how):
    """An execve emulated (even as 0) never ran the program: a LaunchError that says so. It
    was reported as the program's end: our launcher's exit 127, or its SIGILL when its
    exit_group was emulated too."""
    if how == "emulate everything":
        policy = Policy(Action.emulate(0)).allow("rt_sigreturn")
    else:
        policy = Policy().emulate("execve", retval=0)
    with pytest.raises(splitpriv.LaunchError, match=r"the policy answered its execve \(0\)"):
        splitpriv.run(["/bin/true"], mechanism=mechanism, policy=policy)


def test_a_failed_exec_shows_none_of_the_launchers_own_calls(tmp_path: Path, mechanism):
    """After the program's execve fails, the launcher reports the error and exits 127: strace
    shows none of its own work, and neither do we (one error line follows the execve). Under
    seccomp-notify, which sees no results, the launcher's report tells the engine (it used to
    print the launcher's exit_group and `+++ exited with 127 +++`)."""
    script = tmp_path / "badinterp"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    done = subprocess.run(
        [sys.executable, "-m", "splitpriv", "trace", "-f", "-m", mechanism, str(script)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    lines = done.stderr.splitlines()
    assert done.returncode == 1
    assert lines[-1] == f"splitpriv: cannot execute '{script}': No such file or directory"
    assert lines[-2].startswith(f'execve("{script}", ')
    assert lines[-2].endswith("= ?" if not capabilities(mechanism).sees_return_value else "")
    assert "ENOENT" in lines[-2] or not capabilities(mechanism).sees_return_value
    # The engine leaves them out, so the library's events are the same: the execve, no more.
    seen: list[splitpriv.Event] = []
    with pytest.raises(splitpriv.ProgramNotFoundError):
        with splitpriv.trace([str(script)], mechanism=mechanism, follow_forks=True) as session:
            seen.extend(session)
    assert [type(e).__name__ for e in seen] == ["SyscallEvent"]
    assert isinstance(seen[0], SyscallEvent) and seen[0].name == "execve"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: splitpriv.run("/bin/true"), TypeError, r"argv must be a list .*\['/bin/true'\]"),
        (lambda: splitpriv.trace(["true"], syscalls="openat"), TypeError, r"\['openat'\]"),
        (lambda: splitpriv.run(["true"], policy="deny"), TypeError, "a splitpriv.Policy"),
        (lambda: splitpriv.run(["true"], mechanism=None), TypeError, "a name such as 'ptrace'"),
        (lambda: splitpriv.trace(["true"], string_limit=-1), ValueError, "between 0 and"),
        (lambda: splitpriv.Policy("deny"), ValueError, "must be an Action"),
        (lambda: splitpriv.Policy().deny(None), ValueError, "a name or a number, not None"),
        (lambda: splitpriv.Policy().deny(["openat"]), ValueError, r"not \['openat'\]"),
        # Each of these once failed in the engine's thread, and the session waited for good.
        (lambda: splitpriv.run(["true", 3]), TypeError, "argv items must be strings, not 3"),
        (lambda: splitpriv.run(["true", "a\0b"]), TypeError, "must not contain a NUL byte"),
        (lambda: splitpriv.run(["true"], env={"A": 1}), TypeError, "env names and values"),
        (lambda: splitpriv.run(["true"], env={"A=B": "1"}), TypeError, "must not contain '='"),
        (lambda: splitpriv.trace(["true"], syscalls=[b"read"]), TypeError, "not b'read'"),
        (lambda: splitpriv.unprivileged("x"), TypeError, "a splitpriv.Policy, not 'x'"),
        (lambda: splitpriv.unprivileged(syscalls="read"), TypeError, r"\['read'\]"),
        (lambda: splitpriv.Policy().rewrite("read", args=[(1, 2)]), ValueError, r"as \{2: 0\}"),
    ],
)
def test_arguments_of_the_wrong_kind_get_one_clear_error(call, error, message):
    # A sandbox author's slips: each is a SplitprivError (and the builtin that fits), raised
    # before anything runs, with what to write instead where that is plain.
    with pytest.raises(splitpriv.SplitprivError, match=message) as raised:
        call()
    assert isinstance(raised.value, error)


def test_an_errno_may_be_given_as_digits():
    assert splitpriv.Policy().deny("getpid", errno="13").rule_for(0xC000003E, 39).action.value == 13


def test_empty_argv():
    with pytest.raises(splitpriv.LaunchError, match="empty"):
        splitpriv.trace([])


def test_attach_to_missing_pid():
    child = subprocess.Popen(["true"])
    child.wait()
    with pytest.raises(splitpriv.AttachError, match="no such process"):
        splitpriv.trace(pid=child.pid)
    with pytest.raises(splitpriv.AttachError, match="own process"):
        splitpriv.trace(pid=os.getpid())


def test_unknown_mechanism_suggests():
    with pytest.raises(splitpriv.UnknownMechanismError, match="did you mean 'ptrace'"):
        splitpriv.trace(["true"], mechanism="ptrcae")


def test_bad_cpu_choice():
    with pytest.raises(splitpriv.SplitprivError, match="cpu must be one of"):
        splitpriv.trace(["true"], cpu="both")


# -- signals and stops -------------------------------------------------------------------------


def test_group_stop_stays_stopped_until_sigcont(progs, mechanism):
    require(mechanism, "sees_signals")
    seen: list[str] = []
    with splitpriv.trace(
        [progs["sleeper"], "20"], mechanism=mechanism, syscalls=["nanosleep", "clock_nanosleep"]
    ) as t:
        for event in t:
            if isinstance(event, SyscallEvent) and "stop" not in seen:
                seen.append("stop")
                os.kill(event.pid, signal.SIGSTOP)
            elif isinstance(event, StopEvent):
                seen.append("stopped")
                time.sleep(0.3)
                # Still stopped: not running on behind the user's back.
                assert proc_state(event.pid) in ("t", "T")
                os.kill(event.pid, signal.SIGCONT)
            elif isinstance(event, SignalEvent) and event.signal == signal.SIGCONT:
                seen.append("cont")
            elif isinstance(event, SyscallEvent) and seen[-1] == "cont":
                seen.append("term")
                os.kill(event.pid, signal.SIGTERM)
    assert seen == ["stop", "stopped", "cont", "term"]
    assert t.exit_status == splitpriv.ExitStatus(signal=signal.SIGTERM)


def test_leaving_early_is_quiet(progs, mechanism, monkeypatch):
    """A break out of the events ends the session with no error and nothing printed: under the
    stub mechanisms the cancel's kill once failed the stub's injection (ESRCH), which came out
    as "Exception ignored in: <generator ...>" (one run in 15)."""
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    for _ in range(40):
        with splitpriv.trace([progs["threads_many"], "2", "5000"], mechanism=mechanism) as t:
            for _event in t:
                break
    assert unraisable == []


def test_close_from_a_callback_ends_the_session(progs, mechanism):
    """close() in a policy callback (the engine's own thread) asks the session to end, as
    stop() does; it once ended it with no exit status and the error lost."""
    require(mechanism, "python_callbacks")
    box: list[splitpriv.Trace] = []

    def close_it(call: SyscallEvent) -> None:
        box[0].close()

    policy = splitpriv.Policy().callback("getppid", fn=close_it)
    t = splitpriv.trace([progs["getppid_loop"], "100000"], mechanism=mechanism, policy=policy)
    box.append(t)  # (before the session starts: the callback may come at once)
    with t:
        list(t)
    assert t.exit_status == splitpriv.ExitStatus(signal=signal.SIGKILL)


def test_leaving_early_kills_the_launched_tracee(progs, mechanism):
    with splitpriv.trace([progs["sleeper"], "30"], mechanism=mechanism) as t:
        for event in t:
            if isinstance(event, SyscallEvent) and event.name == "write":
                pid = event.pid
                break
    assert wait_until_gone(pid) in (None, "Z")


def test_leaving_in_the_middle_of_a_full_ring_ends_the_session(progs, mechanism):
    """Events are read one record at a time, and what was read is released when the loop is
    left: leaving in the middle of a batch, with the engine held up by a full ring behind it,
    must still end the session at once (its clean-up releases the rest) and kill the tracee."""
    seen = 0
    pid = 0
    with splitpriv.trace([progs["getppid_loop"], "2000000"], mechanism=mechanism) as t:
        for event in t:
            if isinstance(event, SyscallEvent) and event.name == "getppid":
                seen += 1
                if seen == 5000:
                    pid = event.pid
                    time.sleep(0.3)  # the loop runs on: the ring fills, the engine waits
                elif seen == 5001:
                    break
    assert seen == 5001
    assert wait_until_gone(pid) in (None, "Z")


def test_attach_and_detach_leaves_the_process_running(progs, mechanism):
    require(mechanism, "attach")
    sleeper = subprocess.Popen([progs["sleeper"], "30"], stdout=subprocess.PIPE)
    try:
        assert sleeper.stdout is not None
        assert int(sleeper.stdout.readline()) == sleeper.pid
        sleeps = 0
        with splitpriv.trace(pid=sleeper.pid, mechanism=mechanism) as t:
            for event in t:
                if isinstance(event, SyscallEvent) and "nanosleep" in event.name:
                    assert event.pid == sleeper.pid
                    sleeps += 1
                    if sleeps == 3:
                        break
        assert sleeps == 3
        time.sleep(0.3)
        assert proc_state(sleeper.pid) in ("S", "R")
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sleeper.returncode == -signal.SIGKILL


def test_attached_process_exit_ends_the_trace(progs, mechanism):
    require(mechanism, "attach")
    sleeper = subprocess.Popen([progs["sleeper"], "0.5"], stdout=subprocess.PIPE)
    assert sleeper.stdout is not None
    sleeper.stdout.readline()
    with splitpriv.trace(pid=sleeper.pid, mechanism=mechanism) as t:
        events = list(t)
    assert isinstance(events[-1], ExitEvent) and events[-1].pid == sleeper.pid
    assert sleeper.wait() == 0


SUPERVISOR = textwrap.dedent(
    """
    import sys, splitpriv
    try:
        with splitpriv.trace([sys.argv[1], "30"], mechanism=sys.argv[2]) as t:
            for event in t:
                if isinstance(event, splitpriv.SyscallEvent) and event.name == "write":
                    print("traced", event.pid, flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


def start_supervisor(progs, mechanism: str) -> tuple[subprocess.Popen[str], int]:
    """The supervisor, once it has seen the sleeper's write. The sleeper writes its pid to the
    same stdout; seccomp-notify reports a call before it runs, so that line may come later."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, progs["sleeper"], mechanism],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    while not (line := proc.stdout.readline()).startswith("traced "):
        assert line, "the supervisor ended before it saw the write"
    tracee = int(line.split()[1])
    assert proc_state(tracee) is not None
    return proc, tracee


def test_sigkill_to_the_supervisor_kills_the_tracee(progs, mechanism):
    proc, tracee = start_supervisor(progs, mechanism)
    proc.kill()
    proc.wait()
    assert wait_until_gone(tracee) in (None, "Z")


def _running(argv: list[str]) -> list[int]:
    """The processes whose command line is exactly argv."""
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read() == wanted:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def test_a_descendant_is_not_left_waiting_for_a_killed_supervisor(progs, mechanism):
    """SIGKILL the runner while a child of the traced shell logs calls, and leave the runner
    unreaped (a zombie, as a shell that has not waited yet leaves it): the child ends anyway,
    killed (ptrace's EXITKILL) or run to its end. Under `sud` and `seccomp-trap` its stub once
    took the zombie for a live supervisor and waited for room in the ring for good."""
    loop = [progs["getppid_loop"], str(3_000_000 + random.randrange(1_000_000))]  # ours alone
    proc = subprocess.Popen(
        [*TRACE, "-f", "-qq", "-o", "/dev/null", "-m", mechanism,
         "sh", "-c", f"{' '.join(loop)} & wait"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not (children := _running(loop)) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert children, "the child never started"
        time.sleep(0.2)  # (logging: the ring fills while nobody is left to drain it)
        proc.kill()
        assert wait_until_gone(children[0], timeout=20) in (None, "Z")
    finally:
        proc.kill()
        proc.wait()
        for pid in _running(loop):  # (what a failure left behind)
            os.kill(pid, signal.SIGKILL)


def test_sigint_to_the_supervisor_kills_the_tracee_and_exits(progs, mechanism):
    proc, tracee = start_supervisor(progs, mechanism)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    lines = out.split()
    assert lines[-1:] == ["interrupted"] and proc.returncode == 130, out
    assert set(lines[:-1]) <= {str(tracee)}, out  # at most the sleeper's own line
    # Killed, and reaped (by the supervisor, or by init if the exit raced the reaping).
    assert wait_until_gone(tracee, zombie_ok=False) is None


def test_attach_to_a_process_already_traced(progs, mechanism):
    require(mechanism, "attach")
    with splitpriv.trace([progs["sleeper"], "30"], mechanism=mechanism) as first:
        for event in first:
            if isinstance(event, SyscallEvent) and event.name == "write":
                with pytest.raises(splitpriv.AttachError, match="Operation not permitted"):
                    with splitpriv.trace(pid=event.pid, mechanism=mechanism) as second:
                        list(second)
                break


def test_a_failed_attach_is_only_its_error(progs, mechanism):
    """`splitpriv trace -p` of a process another tracer holds: the one error line, no
    "Process N attached" before it (the engine knows the pid only once attached)."""
    require(mechanism, "attach")
    with splitpriv.trace([progs["sleeper"], "30"], mechanism=mechanism) as first:
        for event in first:
            if isinstance(event, SyscallEvent) and event.name == "write":
                done = subprocess.run(
                    [*TRACE, "-m", mechanism, "-p", str(event.pid)],
                    capture_output=True, text=True, timeout=30,
                )  # fmt: skip
                assert done.returncode == 1
                assert done.stderr.splitlines() == [
                    "splitpriv: cannot attach to process: Operation not permitted"
                ]
                break


def test_the_engine_holds_none_of_pythons_files(progs, mechanism):
    # A pipe that Python closes while a trace runs must reach EOF at once: the engine thread
    # may keep a file table of its own (seccomp-notify does), but never Python's files in it.
    read_end, write_end = os.pipe()
    try:
        with splitpriv.trace([progs["sleeper"], "0.5"], mechanism=mechanism) as t:
            for event in t:
                if isinstance(event, SyscallEvent) and event.name == "write" and write_end >= 0:
                    # The tracee sleeps on and the engine is in its loop (leaving this loop
                    # would end the session).
                    os.close(write_end)
                    write_end = -1
                    readable, _, _ = select.select([read_end], [], [], 0.2)
                    assert readable, "a copy of the pipe's write end is still open"
                    assert os.read(read_end, 1) == b""
        assert write_end == -1 and t.exit_status == splitpriv.ExitStatus(code=0)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_callback_uses_pythons_files(progs, mechanism, tmp_path: Path):
    # Callbacks run in the engine thread: whatever it does with its file table, Python's files
    # must work there, even one opened after the session started.
    require(mechanism, "python_callbacks")
    log_path = tmp_path / "log"
    opened: list = []

    def note(call):
        if not opened:
            opened.append(open(log_path, "w"))  # closed below, after the run
        opened[0].write(f"{call.name}\n")
        opened[0].flush()
        return None

    policy = splitpriv.Policy().callback("getppid", fn=note)
    result = splitpriv.run([progs["getppid_loop"], "3"], mechanism=mechanism, policy=policy)
    opened[0].close()
    assert result.returncode == 0
    assert log_path.read_text() == "getppid\n" * 3


# -- every process of the tree, whatever the mechanism ------------------------------------------


def running_with(marker: str) -> list[int]:
    """The live processes whose command line ends with the argument marker (not the runner's
    or the shell's, which hold it inside a longer argument)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            command = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if command.endswith(b"\0" + marker.encode() + b"\0") and proc_state(int(name)) not in (
            None,
            "Z",
        ):
            found.append(int(name))
    return found


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_child_that_outlives_the_launched_process_is_traced_to_its_end(mechanism):
    """strace -f follows a child after its parent exits, and ends with it. The stub mechanisms'
    tracees are not ptrace-attached: the session must still wait for them, not leave them
    running untraced."""
    require(mechanism, "follows_forks")
    marker = f"outlives-{os.getpid()}"
    script = f"(sleep 0.3; exec /bin/echo {marker}) & exit 0"
    done = subprocess.run(
        [*TRACE, "-f", "-m", mechanism, "-e", "trace=execve", "sh", "-c", script],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{marker}\n"
    assert f'execve("/bin/echo", ["/bin/echo", "{marker}"], ' in done.stderr, done.stderr
    assert not running_with(marker)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_to_the_runner_ends_every_process_it_launched(mechanism, signum):
    require(mechanism, "follows_forks")
    marker = f"31.{os.getpid()}{int(signum)}"  # a sleep's unique length
    runner = subprocess.Popen(
        [*TRACE, "-f", "-q", "-m", mechanism, "-o", os.devnull, "sh", "-c",
         f"sleep {marker} & sleep {marker} & wait"],
    )  # fmt: skip
    try:
        assert wait_for(lambda: len(running_with(marker)) == 2), "the sleeps never started"
        runner.send_signal(signum)
        assert runner.wait(timeout=10) == 128 + signum
        assert wait_for(lambda: not running_with(marker), timeout=5), running_with(marker)
    finally:
        runner.kill()
        for pid in running_with(marker):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(60)
def test_a_stop_right_after_the_launch_still_tells_how_the_program_ended(progs, mechanism):
    """stop() at once: the program is killed, and its status says so, every time. Under the
    stub mechanisms a SIGKILL that came while the stub was being put into the new image was
    reaped by the injection's own wait and lost: "exited with None" (returncode 0), about one
    run in ten on a busy machine."""
    for _ in range(20):
        with splitpriv.trace([progs["getppid_loop"], "100000000"], mechanism=mechanism) as t:
            assert t.wait_started()
            t.stop()
            for _event in t:
                pass
        assert t.exit_status == splitpriv.ExitStatus(signal=signal.SIGKILL)
