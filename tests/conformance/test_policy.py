"""Policies take effect in real programs: the program itself reports what it got back."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from helpers import capabilities, require

import splitpriv
from splitpriv import Action, Policy, SyscallEvent


def test_deny_with_errno(progs, mechanism, capfd):
    require(mechanism, "deny")
    policy = Policy().deny("getppid", errno="EACCES")
    result = splitpriv.run([progs["report"], "getppid"], policy=policy, mechanism=mechanism)
    assert capfd.readouterr().out == "getppid ret=-1 errno=13\n"
    assert result.returncode == 0
    if capabilities(mechanism).counts_every_call:
        assert result.counts["getppid"] == 1 and result.errors["getppid"] == 1


def test_deny_really_prevents_the_call(progs, mechanism, capfd, tmp_path: Path):
    require(mechanism, "deny")
    target = tmp_path / "newdir"
    policy = Policy().deny("mkdirat", "mkdir", errno=errno.EROFS)
    splitpriv.run([progs["report"], "mkdir", str(target)], policy=policy, mechanism=mechanism)
    assert capfd.readouterr().out == f"mkdir ret=-1 errno={errno.EROFS}\n"
    assert not target.exists()


def test_emulate_return_value(progs, mechanism, capfd):
    require(mechanism, "emulate")
    policy = Policy().emulate("getuid", retval=4242)
    splitpriv.run([progs["report"], "getuid"], policy=policy, mechanism=mechanism)
    assert capfd.readouterr().out == "getuid ret=4242 errno=0\n"


def test_denied_call_in_trace(progs, mechanism):
    require(mechanism, "deny")
    policy = Policy().deny("getppid")
    with splitpriv.trace(
        [progs["report"], "getppid"], mechanism=mechanism, policy=policy, syscalls=["getppid"]
    ) as t:
        calls = [e for e in t if isinstance(e, SyscallEvent)]
    assert len(calls) == 1
    assert calls[0].verdict == "denied" and calls[0].retval == -errno.EPERM


def test_int80_open_is_denied_by_name(progs, mechanism, capfd, tmp_path: Path):
    require(mechanism, "deny")
    target = tmp_path / "f"
    target.write_text("x")
    policy = Policy().deny("open", errno="EACCES")
    splitpriv.run([progs["int80_open"], str(target)], policy=policy, mechanism=mechanism)
    assert capfd.readouterr().out == "int80 open ret=-13\n"


def test_callback_sees_decoded_call_and_decides(progs, mechanism, capfd, tmp_path: Path):
    require(mechanism, "python_callbacks")
    secret = tmp_path / "secret"
    secret.write_text("top secret")
    seen: list[tuple[str, str | None, int]] = []
    unmade: list[tuple[int | None, int | None, str]] = []

    def guard(call: SyscallEvent) -> Action | None:
        path = call.string(1)
        seen.append((call.name, path, call.args[0]))
        unmade.append((call.retval, call.exit_ns, call.verdict))
        if path == str(secret):
            return Action.deny("ENOENT")
        return None

    policy = Policy().callback("openat", fn=guard)
    with splitpriv.trace(
        [progs["report"], "openat", str(secret)],
        mechanism=mechanism,
        policy=policy,
        syscalls=["openat"],
    ) as t:
        calls = [e for e in t if isinstance(e, SyscallEvent)]
    assert capfd.readouterr().out == "openat ret=-1 errno=2\n"
    assert ("openat", str(secret), 2**32 - 100) in [(n, p, fd & 0xFFFFFFFF) for n, p, fd in seen]
    # The dynamic loader's own opens were asked about too, and allowed.
    assert len(seen) == len(calls) > 1
    # The callback decides before the call is made: no result, no exit time yet.
    assert set(unmade) == {(None, None, "allowed")}
    last = calls[-1]
    assert last.by_callback and last.verdict == "denied" and last.string(1) == str(secret)
    assert all(c.verdict == "allowed" for c in calls[:-1])


def test_callback_can_emulate(progs, mechanism, capfd):
    require(mechanism, "python_callbacks")
    policy = Policy().callback("getppid", fn=lambda call: Action.emulate(7))
    splitpriv.run([progs["report"], "getppid"], policy=policy, mechanism=mechanism)
    assert capfd.readouterr().out == "getppid ret=7 errno=0\n"


def test_callback_error_ends_the_session_and_is_raised(progs, mechanism):
    require(mechanism, "python_callbacks")

    def broken(call: SyscallEvent) -> Action:
        raise RuntimeError("policy bug")

    policy = Policy().callback("getppid", fn=broken)
    with pytest.raises(RuntimeError, match="policy bug"):
        splitpriv.run([progs["getppid_loop"], "100000"], policy=policy, mechanism=mechanism)


def test_no_callback_is_asked_after_one_raised(progs, mechanism):
    """The first error is the one raised, and the callback is not asked again: under the stub
    mechanisms the threads that were waiting for an answer once were all asked, and the last
    error won."""
    require(mechanism, "python_callbacks")
    asked = []

    def broken(call: SyscallEvent) -> Action:
        asked.append(call.tid)
        raise RuntimeError(f"policy bug #{len(asked)}")

    policy = Policy().callback("getppid", fn=broken)
    with pytest.raises(RuntimeError, match=r"policy bug #1$"):
        splitpriv.run([progs["threads_many"], "16", "1000"], policy=policy, mechanism=mechanism)
    assert len(asked) == 1


def test_callback_must_return_an_action(progs, mechanism):
    require(mechanism, "python_callbacks")
    policy = Policy().callback("getppid", fn=lambda call: "deny")  # type: ignore[arg-type,return-value]
    with pytest.raises(splitpriv.PolicyError, match="not an Action"):
        splitpriv.run([progs["report"], "getppid"], policy=policy, mechanism=mechanism)


def test_unknown_syscall_suggests_the_nearest():
    with pytest.raises(splitpriv.UnknownSyscallError, match="did you mean 'getppid'"):
        Policy().deny("getppd")
    with pytest.raises(LookupError):
        splitpriv.trace(["true"], syscalls=["opneat"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Policy().deny("getpid", errno="ENOTANERRNO"),
        lambda: Policy().deny("getpid", errno=0),
        lambda: Policy().emulate("getpid", retval="1"),  # type: ignore[arg-type]
        lambda: Policy().callback("getpid", fn=42),  # type: ignore[arg-type]
        lambda: Policy().deny(),
    ],
)
def test_malformed_policies_are_refused(make):
    with pytest.raises(splitpriv.PolicyError):
        make()


def test_rewrite_an_argument(progs, mechanism):
    require(mechanism, "rewrite_args")
    policy = Policy().rewrite("exit_group", args={0: 5})
    result = splitpriv.run([progs["exit_code"], "0"], policy=policy, mechanism=mechanism)
    assert result.exit_status.code == 5


@pytest.mark.parametrize("how", ["rule", "recorded", "callback"])
def test_a_rewrite_leaves_the_programs_registers_alone(progs, mechanism, how, capfd):
    """The call runs with the new arguments, and the program gets its own registers back (the
    syscall instruction changes only rax, rcx and r11): under the ptrace mechanisms the
    rewritten values once stayed in rdx, r10 and r9 after the call."""
    require(mechanism, "rewrite_args")
    new = {2: 2, 3: 7, 5: 9}
    if how == "callback":
        require(mechanism, "python_callbacks")
        policy = Policy().callback("write", fn=lambda call: Action.rewrite(new))
    else:
        policy = Policy().rewrite("write", args=new)
    with splitpriv.trace(
        [progs["regs_kept"]],
        mechanism=mechanism,
        policy=policy,
        syscalls=["write"] if how != "rule" else [],
    ) as t:
        writes = [e for e in t if isinstance(e, SyscallEvent)]
    # stdio's own writes are rewritten too: it goes on two bytes at a time (and the last
    # write, of one byte, gives two).
    out = capfd.readouterr().out
    assert out.startswith("ke\n") and "registers kept (write returned 2)" in out
    assert t.exit_status == splitpriv.ExitStatus(code=0)
    if how != "rule":
        assert [w.args[2] for w in writes][:1] == [2] and writes[0].verdict == "rewritten"


def test_callback_rewrites_a_signal(progs, mechanism, capfd):
    """kill(self, SIGTERM) becomes kill(self, SIGUSR1): the handler runs twice, nobody dies."""
    require(mechanism, "rewrite_args")
    require(mechanism, "python_callbacks")

    def soften(call: SyscallEvent) -> Action | None:
        return Action.rewrite({1: 10}) if call.args[1] == 15 else None

    policy = Policy().callback("kill", fn=soften)
    with splitpriv.trace(
        [progs["signal_self"], "die"], mechanism=mechanism, policy=policy, syscalls=["kill"]
    ) as t:
        kills = [e for e in t if isinstance(e, SyscallEvent)]
    assert capfd.readouterr().out == "handled\nhandled\n"
    assert t.exit_status == splitpriv.ExitStatus(code=1)
    assert [(k.args[1], k.verdict) for k in kills] == [(10, "allowed"), (10, "rewritten")]


def test_mechanisms_that_cannot_rewrite_refuse_the_policy(progs, mechanism):
    from splitpriv import mechanisms

    if mechanisms.get(mechanism).capabilities.rewrite_args:
        pytest.skip(f"{mechanism} can rewrite arguments")
    with pytest.raises(splitpriv.MechanismUnavailableError, match="cannot rewrite"):
        splitpriv.run(
            [progs["exit_code"]],
            policy=Policy().rewrite("exit_group", args={0: 5}),
            mechanism=mechanism,
        )


@pytest.mark.parametrize("recorded", [True, False])
def test_a_denied_fork_fails_whether_recorded_or_not(progs, mechanism, recorded):
    # seccomp-trap's filter lets the clone family through untrapped (a new thread cannot
    # start inside the stub's handler): a deny of them must still hold, answered in BPF, and
    # it once was lost whenever the calls were also recorded.
    require(mechanism, "deny")
    policy = Policy().deny("clone", "clone3", "fork", "vfork", errno="EAGAIN")
    with splitpriv.trace(
        [progs["fork_wait"]], mechanism=mechanism, policy=policy, syscalls=None if recorded else []
    ) as t:
        list(t)
    assert t.exit_status == splitpriv.ExitStatus(code=1)  # fork_wait: fork() < 0


def test_a_callback_is_asked_once_per_call_while_signals_interrupt(progs, mechanism, capfd):
    """A timer's signal every 200 us, landing while the engine decides: each call is still asked
    about once and recorded once. Under seccomp-notify the kernel used to drop the answer of an
    interrupted call and notify it again (about one call in six asked twice here)."""
    require(mechanism, "python_callbacks")
    calls = 5000
    asked = 0

    def count(call: SyscallEvent) -> Action:
        nonlocal asked
        asked += 1
        return Action.emulate(7)

    policy = Policy().callback("getppid", fn=count)
    with splitpriv.trace(
        [progs["alarm_calls"], str(calls), "200"],
        mechanism=mechanism,
        policy=policy,
        syscalls=["getppid"],
    ) as t:
        recorded = [e for e in t if isinstance(e, SyscallEvent)]
    assert t.exit_status is not None and t.exit_status.code == 0
    handled = int(capfd.readouterr().out.split()[1])
    assert handled > 0  # the timer did interrupt
    assert asked == calls
    assert len(recorded) == calls and {e.retval for e in recorded} == {7}
