"""What the engine records for real programs, under every mechanism that can run here.

Each test starts a small C program from tests/progs, traces it for real and checks the syscalls
it really made, their arguments and results, and how the program ended.
"""

from __future__ import annotations

import errno
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import capabilities, require

import splitpriv
from splitpriv import ExecEvent, ExitEvent, SignalEvent, SyscallEvent, _binding
from splitpriv._values import FrozenInstanceError, value_fields
from splitpriv.session import decode


def syscalls(events: list[splitpriv.Event]) -> list[SyscallEvent]:
    return [e for e in events if isinstance(e, SyscallEvent)]


def trace_all(argv: list[str], **kwargs: object) -> tuple[list[splitpriv.Event], splitpriv.Trace]:
    with splitpriv.trace(argv, **kwargs) as t:  # type: ignore[arg-type]
        events = list(t)
    return events, t


def test_getppid_loop_sequence(progs, mechanism):
    events, t = trace_all([progs["getppid_loop"], "50"], mechanism=mechanism)
    calls = syscalls(events)
    assert calls[0].name == "execve" and calls[0].string(0) == progs["getppid_loop"]
    # The program's own part: 50 getppid, then exit_group(0), which never returns.
    tail = [c.name for c in calls[-51:]]
    assert tail == ["getppid"] * 50 + ["exit_group"]
    if capabilities(mechanism).sees_return_value:
        assert calls[0].retval == 0
        assert all(c.retval == os.getpid() for c in calls[-51:-1])
    assert calls[-1].retval is None and calls[-1].args[0] == 0
    assert isinstance(events[-1], ExitEvent)
    assert t.exit_status == splitpriv.ExitStatus(code=0)


def test_execve_shows_argv_and_how_many_envp_strings(progs, mechanism):
    from splitpriv.syscalls.decode import arguments

    argv = [progs["getppid_loop"], "3", "two words"]
    events, _ = trace_all(argv, mechanism=mechanism, env={"A": "1", "B": "2"}, syscalls=["execve"])
    execve = syscalls(events)[0]
    path, shown_argv, shown_envp = arguments(execve, 200)
    assert path == f'"{progs["getppid_loop"]}"'
    assert shown_argv == f'["{progs["getppid_loop"]}", "3", "two words"]'
    assert shown_envp == f"{hex(execve.args[2])} /* 2 vars */"
    assert execve.strings(1) == argv and execve.strings(0) is None


def test_events_equal_what_their_constructor_makes(progs, mechanism):
    # The session builds each event on a fast path (its dict at once, not __init__): the result
    # must be the very value the constructor would make, with no field missing or extra.
    events, _ = trace_all([progs["getppid_loop"], "5"], mechanism=mechanism)
    names = set(value_fields(SyscallEvent))
    for event in syscalls(events):
        assert set(vars(event)) == names
        assert SyscallEvent(**{name: getattr(event, name) for name in names}) == event
        with pytest.raises(FrozenInstanceError):
            event.pid = 0  # type: ignore[misc]


def test_events_hash_and_their_repr_names_the_call(progs, mechanism):
    events, _ = trace_all([progs["report"], "openat", "/"], mechanism=mechanism)
    calls = syscalls(events)
    opened = next(e for e in calls if e.name == "openat" and e.string(1) == "/")
    assert repr(opened).startswith(f"SyscallEvent(name='openat', pid={opened.pid}, ")
    # Sets and dict keys: a call with copied memory (a dict) hashes too, equal ones alike.
    assert len(set(calls)) == len(calls) and opened in set(calls)
    twin = SyscallEvent(**{name: getattr(opened, name) for name in value_fields(SyscallEvent)})
    assert twin == opened and hash(twin) == hash(opened)


def test_raw_batches_name_every_field(progs, mechanism):
    # Trace.batches() hands tools the engine's records with named fields, unlike the flat
    # records the decoders read: the same calls, in the same order.
    argv = [progs["getppid_loop"], "7"]
    with splitpriv.trace(argv, mechanism=mechanism, syscalls=["getppid"]) as t:
        raws = [raw for batch in t.batches() for raw in batch]
    events = [decode(raw) for raw in raws]
    calls = [(raw, e) for raw, e in zip(raws, events, strict=True) if isinstance(e, SyscallEvent)]
    assert [e.name for _raw, e in calls] == ["getppid"] * 7
    assert all(raw.nr == e.nr and raw.args == e.args and raw.pid == e.pid for raw, e in calls)
    assert t.exit_status.code == 0


def test_merged_repeats_are_the_same_records_read_once(progs, mechanism):
    # record_batches(merge_repeats=True): a loop's calls come as one tuple repeated, found by
    # the engine, and nothing else changes: the same records, in the same order, count and
    # fields (times aside); a record with copied memory is never merged.
    def batches(merge: bool) -> list[list[_binding.Record]]:
        with splitpriv.trace(
            [progs["getppid_loop"], "3000"], mechanism=mechanism, entry_records=False
        ) as t:
            out = list(t.record_batches(merge_repeats=merge))
        assert t.exit_status.code == 0
        return out

    def shape(record: _binding.Record) -> tuple[object, ...]:
        h, segments = record  # (two runs: other pids, addresses and times)
        return h[0], h[1], h[4], h[5], h[21], len(segments)  # kind, flags, arch, nr, nseg

    def repeats(a: _binding.Record, b: _binding.Record) -> bool:
        """b is a in everything but its times (entry, exit), nothing copied."""
        return not a[1] and not b[1] and a[0][:13] + a[0][15:] == b[0][:13] + b[0][15:]

    plain = [r for batch in batches(False) for r in batch]
    merged_batches = batches(True)
    merged = [r for batch in merged_batches for r in batch]
    assert [shape(r) for r in merged] == [shape(r) for r in plain]
    loop = [r for r in merged if r[0][5] == 110]  # getppid
    assert len(loop) == 3000
    # Within a batch a repeat is the tuple before it; each batch starts a run anew, and how
    # many batches the loop spans is the schedule's (up to 200 here on a loaded machine).
    for batch in merged_batches:
        calls = [r for r in batch if r[0][5] == 110]
        assert all((a is b) == repeats(a, b) for a, b in itertools.pairwise(calls))
    assert sum(a is b for a, b in itertools.pairwise(loop)) >= 2000  # (runs were merged)
    copied = [r for r in merged if r[1]]
    assert copied and all(a is not b for a, b in itertools.pairwise(copied))


PIPELINE = ["sh", "-c", "seq 1 3000 | sort -rn | wc -l > /dev/null"]


def test_entry_records_come_before_every_later_record(mechanism):
    """entry_records=True: each record comes after the entry of every other task's call that
    began before it (an EVF_ENTRY record, or the whole call); each entry record is followed
    by its call's whole record, once. Mechanisms that cannot see calls enter in time order
    hand over whole calls only."""
    from splitpriv import _binding

    entry, shown = _binding.EVF_ENTRY, _binding.EVF_ENTRY_SHOWN
    with splitpriv.trace(PIPELINE, mechanism=mechanism, entry_records=True) as t:
        records = [h for batch in t.record_batches() for h, _ in batch]
    assert t.exit_status == splitpriv.ExitStatus(code=0)
    syscall = _binding.EV_SYSCALL
    calls = [h for h in records if h[0] == syscall]
    if not capabilities(mechanism).entry_records:
        assert t.entry_records is False
        assert not [h for h in calls if h[1] & (entry | shown)]
        return
    assert t.entry_records is True
    # The shell waits in wait4 while its children make calls: some entries must show.
    assert any(h[1] & entry for h in calls)
    pending: dict[int, tuple[int, ...]] = {}
    for h in calls:
        tid, key = h[3], (h[4], h[5], h[6:12], h[13])  # arch, nr, args, entry time
        if h[1] & entry:
            assert tid not in pending and not h[1] & shown
            pending[tid] = key
        elif h[1] & shown:
            assert pending.pop(tid) == key
        else:
            assert tid not in pending
    assert pending == {}
    # Time order: once a record of one task (its end, or its event) is out, no call of
    # another task that entered before it may show up for the first time.
    latest: dict[int, int] = {}  # tid -> the time of its newest whole record or event
    no_end = _binding.EVF_NORETURN | entry
    for h in records:
        tid = h[3]
        if h[0] == syscall and not h[1] & shown:
            older = [t for other, t in latest.items() if other != tid and t > h[13]]
            assert not older, f"a call of {tid} that entered at {h[13]} came after {older}"
        if h[0] != syscall:
            latest[tid] = max(latest.get(tid, 0), h[13])
        elif not h[1] & no_end:
            latest[tid] = max(latest.get(tid, 0), h[14])


def test_events_leave_entry_records_out(mechanism):
    with splitpriv.trace(PIPELINE, mechanism=mechanism, entry_records=True) as t:
        calls = syscalls(list(t))
    seen = [(c.tid, c.nr, c.entry_ns) for c in calls]
    assert len(seen) == len(set(seen)) and any(c.name == "wait4" for c in calls)
    if capabilities(mechanism).sees_return_value:
        assert all(c.retval is not None for c in calls if c.name == "wait4")


def test_only_selected_syscalls_are_recorded(progs, mechanism):
    events, t = trace_all([progs["getppid_loop"], "20"], mechanism=mechanism, syscalls=["getppid"])
    names = [c.name for c in syscalls(events)]
    assert names == ["getppid"] * 20
    assert t.exit_status.code == 0


def test_open_read_close_arguments_and_results(progs, mechanism, tmp_path: Path):
    target = tmp_path / "data.txt"
    content = b"hello from a real file\n" * 4
    target.write_bytes(content)
    events, t = trace_all(
        [progs["open_read_close"], str(target)],
        mechanism=mechanism,
        syscalls=["openat", "read", "close", "write"],
    )
    calls = syscalls(events)
    opens = [c for c in calls if c.name == "openat" and c.string(1) == str(target)]
    assert len(opens) == 1
    assert opens[0].format().startswith(f'openat(AT_FDCWD, "{target}", ')
    after = calls[calls.index(opens[0]) + 1 :]
    assert [c.name for c in after] == ["read", "close", "write"]
    read, close, write = after
    assert write.args[0] == 1 and write.memory[1] == content[:64] and write.args[2] == 64
    if not capabilities(mechanism).sees_return_value:
        return  # what read() filled in and every result are only known after the call
    fd = opens[0].retval
    assert fd is not None and fd >= 3
    assert read.args[0] == fd and read.args[2] == 64 and read.retval == 64
    assert read.memory[1] == content[:64]
    assert close.args[0] == fd and close.retval == 0
    assert write.args[0] == 1 and write.memory[1] == content[:64] and write.retval == 64
    assert t.exit_status.code == 0


def test_failed_call_reports_errno(progs, mechanism, tmp_path: Path):
    require(mechanism, "sees_return_value")
    missing = tmp_path / "missing"
    events, t = trace_all(
        [progs["open_read_close"], str(missing)], mechanism=mechanism, syscalls=["openat"]
    )
    call = next(c for c in syscalls(events) if c.string(1) == str(missing))
    assert call.retval == -2 and call.errno == 2
    assert call.format().endswith("= -1 ENOENT (No such file or directory)")
    assert t.exit_status.code == 1


def test_launched_program_gets_a_shells_signal_state(mechanism, capfd):
    # The child is started in our own memory (clone with CLONE_VM) and must leave Python's
    # signal state behind: nothing blocked, SIGPIPE and SIGXFSZ back to default (Python ignores
    # both), no handler of ours (the stub modes install their own SIGSYS handler).
    _events, t = trace_all(["cat", "/proc/self/status"], mechanism=mechanism)
    assert t.exit_status.code == 0
    masks = dict(line.split(":\t", 1) for line in capfd.readouterr().out.splitlines())
    blocked, ignored, caught = (int(masks[key], 16) for key in ("SigBlk", "SigIgn", "SigCgt"))
    assert blocked == 0
    assert not ignored & (1 << (signal.SIGPIPE - 1) | 1 << (signal.SIGXFSZ - 1))
    assert caught & ~(1 << (signal.SIGSYS - 1)) == 0


def test_fork_is_followed(progs, mechanism, capfd):
    events, t = trace_all([progs["fork_wait"]], mechanism=mechanism)
    calls = syscalls(events)
    root = calls[0].pid
    child_calls = [c for c in calls if c.pid != root]
    assert [c.name for c in child_calls][-2:] == ["getpid", "exit_group"]
    child = child_calls[-1].pid
    assert child_calls[-1].args[0] == 7
    assert capfd.readouterr().out == "child exited 7\n"
    if capabilities(mechanism).sees_every_exit:
        exits = {e.pid: e.status for e in events if isinstance(e, ExitEvent)}
        assert exits[child] == splitpriv.ExitStatus(code=7)
    if not capabilities(mechanism).sees_return_value:
        return
    assert child_calls[-2].retval == child
    wait4 = [c for c in calls if c.name == "wait4" and c.pid == root]
    assert wait4 and wait4[-1].retval == child
    assert t.exit_status.code == 0


def test_the_call_that_made_a_child_is_recorded(progs, mechanism):
    """Where a mechanism sees every call, it sees the fork too: with the child's pid as its
    result, or with none where the call runs past the mechanism (the stub mechanisms make a
    vfork or a thread outside their handler, and the child's pid goes straight to the
    program)."""
    require(mechanism, "counts_every_call")
    creators = ["clone", "clone3", "fork", "vfork"]
    events, t = trace_all([progs["fork_wait"]], mechanism=mechanism, syscalls=[*creators, "getpid"])
    calls = syscalls(events)
    root = t.pid
    made = [c for c in calls if c.pid == root and c.name in creators]
    child = next(c.pid for c in calls if c.pid != root and c.name == "getpid")
    assert len(made) == 1 and made[0].retval in (child, None)
    assert t.exit_status.code == 0


def test_every_way_of_making_a_task_is_seen_once_and_told_apart(progs, mechanism, capfd):
    """fork, glibc's fork (clone), vfork, posix_spawn (a CLONE_VFORK clone3 on a stack of its
    own), clone(CLONE_VM|CLONE_VFORK) on a new stack, and two threads: each call that made a
    task is recorded once, as its parent's, and each task's own getppid as its own. (The stub
    mechanisms once recorded a child forked in their handler as a second return of its
    parent's fork, and `seccomp-trap` let the clone family through unseen, so that a vfork
    child's calls would pass for its parent's.)"""
    creators = ["clone", "clone3", "fork", "vfork"]
    events, t = trace_all(
        [progs["make_tasks"]], mechanism=mechanism, syscalls=[*creators, "getppid"]
    )
    out = capfd.readouterr().out.splitlines()
    assert out[-1] == "done" and t.exit_status.code == 0
    children = {kind: int(pid) for kind, pid in (line.split() for line in out[:-1])}
    assert list(children) == ["fork", "clone", "vfork", "spawn", "vclone"]
    calls = syscalls(events)
    root = t.pid
    made = [c for c in calls if c.name in creators]
    assert [(c.pid, c.tid, c.name) for c in made] == [
        (root, root, name)
        for name in ("fork", "clone", "vfork", "clone3", "clone", "clone3", "clone3")
    ]
    for call, (kind, pid) in zip(made, children.items(), strict=False):
        # The stub mechanisms make the calls of a new stack or a vfork outside their handler.
        forked = kind in ("fork", "clone")
        if capabilities(mechanism).sees_return_value:
            assert call.retval == pid if forked else call.retval in (pid, None)
    asked = [c for c in calls if c.name == "getppid"]
    assert sorted((c.pid, c.tid) for c in asked if c.pid != root) == sorted(
        (pid, pid) for pid in children.values()
    )
    threads = [c.tid for c in asked if c.pid == root]
    assert len(threads) == 2 and len(set(threads)) == 2 and root not in threads
    if capabilities(mechanism).sees_return_value:
        assert {c.retval for c in asked if c.pid != root} == {root}


def test_not_following_forks_sees_only_the_parent(progs, mechanism):
    require(mechanism, "untraced_children")
    events, t = trace_all([progs["fork_wait"]], mechanism=mechanism, follow_forks=False)
    pids = {c.pid for c in syscalls(events)}
    assert len(pids) == 1
    assert t.exit_status.code == 0


def test_vfork_exec_is_followed(progs, mechanism):
    events, t = trace_all(
        [progs["vfork_exec"], progs["exit_code"], "9"], mechanism=mechanism, syscalls=["execve"]
    )
    execs = syscalls(events)
    assert [c.string(0) for c in execs] == [progs["vfork_exec"], progs["exit_code"]]
    assert execs[1].pid != execs[0].pid
    assert t.exit_status.code == 9


def test_a_vfork_child_tries_exec_along_path(progs, mechanism, tmp_path: Path):
    # One failed execve after another from a vfork child, as execvp and Python's subprocess
    # make them: each must be seen to fail, and the last to succeed. (The stub mechanisms once
    # hung here: the next exec's request overwrote the engine's view of the failed one.)
    path = os.pathsep.join(
        [str(tmp_path / "a"), str(tmp_path / "b"), str(Path(progs["exit_code"]).parent)]
    )
    env = {**os.environ, "PATH": path}
    events, t = trace_all(
        [progs["vfork_exec"], "exit_code", "5"], mechanism=mechanism, syscalls=["execve"], env=env
    )
    execs = syscalls(events)[1:]  # (the first is vfork_exec's own)
    assert [c.string(0) for c in execs] == [
        str(tmp_path / "a" / "exit_code"),
        str(tmp_path / "b" / "exit_code"),
        progs["exit_code"],
    ]
    if capabilities(mechanism).sees_return_value:
        assert [c.errno for c in execs] == [errno.ENOENT, errno.ENOENT, None]
    assert t.exit_status.code == 5


def test_python_subprocess_along_path(mechanism, tmp_path: Path):
    # The same from Python's own subprocess (a vfork child, execve per PATH directory): under
    # the stub mechanisms this hung every time before the fix. Run in a child process, so a
    # hang fails this test after 30 s rather than stopping the suite.
    path = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b"), "/usr/bin", "/bin"])
    script = (
        "import splitpriv, sys\n"
        "code = 'import subprocess; print(subprocess.run([\"true\"]).returncode)'\n"
        f"with splitpriv.trace([sys.executable, '-c', code], mechanism={mechanism!r},\n"
        f"                     env={{'PATH': {path!r}}}) as t:\n"
        "    calls = [e.string(0) for e in t if getattr(e, 'name', '') == 'execve']\n"
        "print(len(calls), t.exit_status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.stdout.splitlines() == ["0", "4 exited with 0"], done.stderr


def test_threads_are_followed(progs, mechanism):
    events, t = trace_all(
        [progs["two_threads"]], mechanism=mechanism, syscalls=["getppid", "gettid"]
    )
    calls = syscalls(events)
    root = t.pid
    assert {c.pid for c in calls} == {root}
    tids = {c.tid for c in calls}
    assert len(tids) == 2 and root not in tids
    for tid in tids:
        mine = [c for c in calls if c.tid == tid]
        assert [c.name for c in mine] == ["gettid"] + ["getppid"] * 10
        if capabilities(mechanism).sees_return_value:
            assert mine[0].retval == tid
    assert t.exit_status.code == 0


def test_exec_chain(progs, mechanism):
    events, t = trace_all([progs["exec_chain"], "3"], mechanism=mechanism, syscalls=["execve"])
    execs = syscalls(events)
    assert len(execs) == 4 and {c.pid for c in execs} == {t.pid}
    if capabilities(mechanism).sees_return_value:
        assert all(c.retval == 0 for c in execs)
        assert len([e for e in events if isinstance(e, ExecEvent)]) == 4
    assert t.exit_status.code == 3


def test_signal_is_passed_on(progs, mechanism, capfd):
    require(mechanism, "sees_signals")
    events, t = trace_all([progs["signal_self"]], mechanism=mechanism, syscalls=["kill"])
    sigs = [e for e in events if isinstance(e, SignalEvent)]
    assert [s.signal for s in sigs] == [signal.SIGUSR1]
    assert sigs[0].sender_pid == t.pid
    assert capfd.readouterr().out == "handled\n"
    assert t.exit_status.code == 0


@pytest.mark.parametrize("mode", ["sigaction", "sigsuspend", "ppoll"])
def test_a_handler_runs_under_a_mask_that_blocks_every_signal(progs, mechanism, mode, capfd):
    # A mask the program sets for a while (a handler's sa_mask, a mask to wait with) blocks
    # SIGSYS too: the stub mechanisms must keep their entry point open all the same, or the
    # handler's calls (and its return) get the process killed by SIGSYS, as dash was after
    # every command whose SIGCHLD came while it had all signals blocked.
    events, t = trace_all([progs["masked_handler"], mode], mechanism=mechanism)
    assert capfd.readouterr().out == f"in handler\nhandled {mode}\n"
    assert t.exit_status == splitpriv.ExitStatus(code=0)
    names = [e.name for e in syscalls(events)]
    assert names.count("getppid") == 1


def test_every_event_formats_with_a_string_limit(progs, mechanism):
    # A generic consumer's `[e.format(60) for e in t]`: every kind takes the limit.
    events, _ = trace_all([progs["signal_self"], "die"], mechanism=mechanism)
    lines = [e.format(60) for e in events]
    assert lines[-1] == "+++ killed by SIGTERM +++"
    assert any(line.startswith("kill(") for line in lines)
    # print(event) shows every kind as strace would (an exec, which strace shows by its
    # execve alone, in words), not as a repr.
    texts = [str(e) for e in events]
    assert all(
        text and not text.startswith(type(e).__name__)
        for text, e in zip(texts, events, strict=True)
    )
    if capabilities(mechanism).sees_signals:
        assert "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=" in "\n".join(texts)


def test_death_by_signal(progs, mechanism):
    events, t = trace_all([progs["signal_self"], "die"], mechanism=mechanism, syscalls=["kill"])
    assert t.exit_status == splitpriv.ExitStatus(signal=signal.SIGTERM)
    assert t.exit_status.returncode == 128 + signal.SIGTERM
    assert str(events[-1].format()) == "+++ killed by SIGTERM +++"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [0, 1, 42, 255])
def test_exit_codes(progs, mechanism, code):
    result = splitpriv.run([progs["exit_code"], str(code)], mechanism=mechanism)
    assert result.exit_status.code == code


def test_static_binary(progs, mechanism):
    events, _t = trace_all(
        [progs["getppid_loop_static"], "10"], mechanism=mechanism, syscalls=["getppid"]
    )
    assert [c.name for c in syscalls(events)] == ["getppid"] * 10


def test_int80_is_seen_with_i386_numbers(progs, mechanism, tmp_path: Path, capfd):
    target = tmp_path / "f"
    target.write_text("x")
    events, _t = trace_all(
        [progs["int80_open"], str(target)], mechanism=mechanism, syscalls=["open"]
    )
    calls = syscalls(events)
    assert [(c.arch, c.name) for c in calls] == [("i386", "open")]
    assert calls[0].nr == 5 and calls[0].string(0) == str(target)
    assert capfd.readouterr().out == "int80 open ret=3\n"
    if capabilities(mechanism).sees_return_value:
        assert calls[0].retval == 3


def test_run_counts_syscalls(progs, mechanism):
    require(mechanism, "counts_every_call")
    result = splitpriv.run([progs["getppid_loop"], "30"], mechanism=mechanism)
    assert result.counts["getppid"] == 30
    assert result.counts["execve"] == 1
    assert result.returncode == 0


def test_every_event_survives_a_full_buffer(progs, mechanism):
    """A 64 KiB ring (about 400 events) and 3,000 calls, read slowly: the engine waits for
    Python, nothing is dropped, nothing repeats."""
    session = splitpriv.Trace(
        [progs["getppid_loop"], "3000"], mechanism=mechanism, syscalls=["getppid"], ring_bytes=1
    )
    seen = []
    with session:
        for event in session:
            if isinstance(event, SyscallEvent):
                seen.append(event.entry_ns)
                if len(seen) % 500 == 0:
                    time.sleep(0.05)  # let the engine run into a full ring
    assert len(seen) == 3000
    assert seen == sorted(seen) and len(set(seen)) == 3000
