"""The in-process unprivileged mode: this very interpreter's syscalls trap to splitpriv's SIGSYS
handler (Syscall User Dispatch) and follow a policy, with no tracer. Skipped, with the kernel's
reason, where Syscall User Dispatch is missing."""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import splitpriv
from splitpriv import Policy, SyscallEvent
from splitpriv.mechanisms._probes import sud_problem
from splitpriv.unprivileged import unprivileged

PR_SET_SYSCALL_USER_DISPATCH = 59

pytestmark = pytest.mark.skipif(sud_problem() is not None, reason=f"{sud_problem()}")


def calls(u) -> list[SyscallEvent]:  # type: ignore[no-untyped-def]
    return [e for e in u.events if isinstance(e, SyscallEvent)]


def test_policy_applies_to_the_interpreter_itself(tmp_path: Path):
    target = tmp_path / "made-here"
    policy = Policy().emulate("getppid", retval=1).deny("mkdir", "mkdirat", errno="EROFS")
    with unprivileged(policy) as u:
        parent = os.getppid()
        with pytest.raises(OSError) as raised:
            os.mkdir(target)
    assert parent == 1 and os.getppid() != 1
    assert raised.value.errno == errno.EROFS and not target.exists()
    made = {c.name: c for c in calls(u)}
    assert made["getppid"].verdict == "emulated" and made["getppid"].retval == 1
    assert made["mkdir"].verdict == "denied" and made["mkdir"].string(0) == str(target)
    assert u.counts()["getppid"] == 1


def test_allowed_calls_really_run_and_are_recorded_with_results(tmp_path: Path):
    data = tmp_path / "data"
    data.write_bytes(b"unprivileged bytes")
    with unprivileged(syscalls=["openat", "read", "close"]) as u:
        with open(data, "rb") as f:
            content = f.read()
    assert content == b"unprivileged bytes"
    opened = [c for c in calls(u) if c.name == "openat" and c.string(1) == str(data)]
    assert len(opened) == 1 and opened[0].retval is not None and opened[0].retval >= 0
    reads = [c for c in calls(u) if c.name == "read" and c.args[0] == opened[0].retval]
    assert reads[0].retval == len(content) and reads[0].memory[1] == content
    assert {c.name for c in calls(u)} <= {"openat", "read", "close"}


def _until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)


def test_signal_handlers_of_the_interpreter_keep_working():
    got: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda sig, frame: got.append(sig))
    try:
        with unprivileged(syscalls=["kill"]) as u:
            # One at a time: a second SIGUSR1 sent while the first is still pending (the kernel
            # may have picked another thread for it) would merge with it.
            os.kill(os.getpid(), signal.SIGUSR1)
            _until(lambda: len(got) >= 1)
            os.kill(os.getpid(), signal.SIGUSR1)
            _until(lambda: len(got) >= 2)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert got == [signal.SIGUSR1, signal.SIGUSR1]
    assert [c.args[1] for c in calls(u)] == [signal.SIGUSR1] * 2


SIGNALS_WHILE_TRAPPING = textwrap.dedent(
    """
    import ctypes, os, signal, sys, threading, time
    import splitpriv
    from splitpriv.unprivileged import unprivileged
    mode = sys.argv[1]
    got = []
    signal.signal(signal.SIGALRM, lambda sig, frame: got.append(sig))
    if mode == "sa_mask":  # a handler whose sa_mask blocks SIGSYS, installed inside
        libc = ctypes.CDLL(None)
        handler = ctypes.CFUNCTYPE(None, ctypes.c_int)(lambda sig: got.append(sig))
        class Action(ctypes.Structure):
            _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                        ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]
    def busy():
        with unprivileged(splitpriv.Policy().emulate("getppid", retval=1)) as u:
            if mode == "sa_mask":
                action = Action()
                action.handler = ctypes.cast(handler, ctypes.c_void_p)
                action.mask[0] = ~0  # every signal, SIGSYS among them
                assert libc.sigaction(signal.SIGALRM, ctypes.byref(action), None) == 0
            signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
            end = time.monotonic() + 0.3
            while time.monotonic() < end:
                assert os.getppid() == 1
            signal.setitimer(signal.ITIMER_REAL, 0)
        return u
    if mode == "blocked":  # a thread that blocks SIGSYS before the block
        def in_thread():
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGSYS})
            with unprivileged(splitpriv.Policy().emulate("getppid", retval=1)):
                assert os.getppid() == 1
            assert signal.SIGSYS in signal.pthread_sigmask(signal.SIG_BLOCK, set())
            got.append("thread")
        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
    else:
        busy()
    print("survived", len(got) > 0)
    """
)


@pytest.mark.parametrize("mode", ["timer", "sa_mask", "blocked"])
def test_signals_and_masks_never_meet_a_blocked_sigsys(mode):
    """A signal handler that runs at the end of a trap (timer), one whose sa_mask blocks every
    signal (sa_mask), and a thread that blocked SIGSYS before entering (blocked): each once
    ended the process with SIGSYS, which the kernel sends killing when it is blocked."""
    done = subprocess.run(
        [sys.executable, "-c", SIGNALS_WHILE_TRAPPING, mode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "survived True\n"), done.stderr


SIGSYS_SENT = textwrap.dedent(
    """
    import os, signal, sys, splitpriv
    got = []
    if sys.argv[1] == "ignored":
        signal.signal(signal.SIGSYS, signal.SIG_IGN)
    if sys.argv[1] == "handled":
        signal.signal(signal.SIGSYS, lambda signo, frame: got.append(signo))
    with splitpriv.unprivileged(splitpriv.Policy()):
        os.kill(os.getpid(), signal.SIGSYS)
        for _ in range(100):  # (Python runs its handler between bytecodes, in here)
            os.getppid()
    print("survived", got)
    """
)


@pytest.mark.parametrize(
    ("before", "outcome", "out"),
    [
        ("default", -signal.SIGSYS, ""),
        ("ignored", 0, "survived []\n"),
        ("handled", 0, "survived [31]\n"),
    ],
)
def test_a_sigsys_sent_in_the_mode_does_what_it_did_before(before, outcome, out):
    """A SIGSYS that is no trap (kill) ends the interpreter at the default action, runs the
    Python handler installed before, and is let go if it was ignored. It used to be taken for
    a trap with no syscall: os.kill raised ENOSYS, the handler's answer written into the
    interrupted code's rax."""
    done = subprocess.run(
        [sys.executable, "-c", SIGSYS_SENT, before], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout) == (outcome, out), done.stderr


def test_processes_and_threads_started_inside_work(progs):
    done: list[str] = []
    with unprivileged(syscalls=["clone", "clone3", "vfork", "wait4"]) as u:
        out = subprocess.run([progs["exit_code"], "4"], check=False).returncode
        pid = os.fork()
        if pid == 0:
            os._exit(9)
        _, status = os.waitpid(pid, 0)
        thread = threading.Thread(target=lambda: done.append("thread"))
        thread.start()
        thread.join()
    assert out == 4 and os.waitstatus_to_exitcode(status) == 9 and done == ["thread"]
    names = [c.name for c in calls(u)]
    assert "wait4" in names and ({"clone", "clone3", "vfork"} & set(names))
    # Calls that start a new stack run after the handler returns: no result is seen.
    assert all(c.retval is None for c in calls(u) if c.name in ("clone", "clone3", "vfork"))


def test_the_entry_point_cannot_be_taken_away():
    libc = ctypes.CDLL(None, use_errno=True)
    with unprivileged(syscalls=["getppid"]) as u:
        with pytest.raises(OSError):
            signal.signal(signal.SIGSYS, signal.SIG_IGN)
        turned_off = libc.prctl(PR_SET_SYSCALL_USER_DISPATCH, 0, 0, 0, 0)
        off_errno = ctypes.get_errno()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGSYS})
        os.getppid()  # still trapped and recorded: the mode is still on
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert turned_off == -1 and off_errno == errno.EPERM
    assert signal.SIGSYS not in blocked
    assert [c.name for c in calls(u)] == ["getppid"]


def test_only_one_thread_at_a_time():
    with unprivileged():
        with pytest.raises(splitpriv.SplitprivError, match="already"):
            with unprivileged():
                pass


def test_callbacks_are_refused():
    with pytest.raises(splitpriv.PolicyError, match="callbacks"):
        unprivileged(Policy().callback("getppid", fn=lambda call: None))


PROTECTED = textwrap.dedent(
    """
    import ctypes, os, sys
    from splitpriv.unprivileged import unprivileged
    u = unprivileged(syscalls=["getppid"], protect="mprotect")
    with u:
        os.getppid()                       # the handler reads the table: works
        sys.stdout.write("handler ok\\n")
        sys.stdout.flush()
        ctypes.string_at(u.table_address, 1)   # outside the handler: must fault
    print("read the protected table")
    """
)


def test_protected_table_faults_outside_the_handler():
    done = subprocess.run(
        [sys.executable, "-c", PROTECTED], capture_output=True, text=True, timeout=30
    )
    assert done.stdout == "handler ok\n"
    assert done.returncode == -signal.SIGSEGV


def test_protected_table_is_readable_again_after_the_block():
    u = unprivileged(syscalls=["getppid"], protect="mprotect")
    with u:
        os.getppid()
    assert len(ctypes.string_at(u.table_address, 16)) == 16
    assert [c.name for c in calls(u)] == ["getppid"]


def test_protection_keys_where_the_cpu_has_them():
    try:
        block = unprivileged(syscalls=["getppid"], protect="pkey")
        with block as u:
            os.getppid()
    except splitpriv.MechanismUnavailableError as exc:
        pytest.skip(str(exc))
    assert [c.name for c in calls(u)] == ["getppid"]


FORK_INSIDE = textwrap.dedent(
    """
    import os, sys, splitpriv
    with splitpriv.unprivileged(splitpriv.Policy().emulate("getppid", retval=4242)):
        pid = os.fork()
    if pid == 0:
        sys.exit(0)  # the interpreter's own exit, which frees the session's copy
    print("child status", os.waitpid(pid, 0)[1])
    """
)


def test_a_child_forked_in_the_mode_exits():
    """os.fork() inside the block: the child's exit freed its copy of the session, and
    pthread_cond_destroy waited for good for the parent's waiters (3 runs in 4)."""
    for _ in range(4):
        done = subprocess.run(
            [sys.executable, "-c", FORK_INSIDE], capture_output=True, text=True, timeout=30
        )
        assert (done.returncode, done.stdout) == (0, "child status 0\n"), done.stderr
