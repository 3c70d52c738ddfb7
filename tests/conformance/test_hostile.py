"""A tracee cannot shed the supervisor: its own seccomp filter, PTRACE_TRACEME, becoming
non-dumpable or switching Syscall User Dispatch off change nothing about what the policy decides,
on every mechanism that claims to hold against a hostile tracee."""

from __future__ import annotations

import pytest
from helpers import require

import splitpriv
from splitpriv import Policy


@pytest.mark.parametrize("attempt", ["filter", "traceme", "dumpable", "detach-sud"])
def test_policy_survives_attempts_to_shed_the_supervisor(progs, mechanism, attempt, capfd):
    require(mechanism, "holds_against_hostile_tracee")
    require(mechanism, "deny")
    policy = Policy().deny("getppid", errno="EACCES")
    result = splitpriv.run([progs["shed"], attempt], policy=policy, mechanism=mechanism)
    lines = capfd.readouterr().out.splitlines()
    assert lines[-1] == "getppid ret=-1 errno=13", lines
    assert result.returncode == 0
