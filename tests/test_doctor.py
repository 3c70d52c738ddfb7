"""``splitpriv doctor`` and ``mechanism="auto"``: real probes of this kernel, rendered."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

from rich.console import Console

import splitpriv
from splitpriv import mechanisms
from splitpriv.cli.doctor_cmd import render
from splitpriv.doctor import diagnose, probe_features


def test_diagnosis_agrees_with_each_mechanism():
    diagnosis = diagnose()
    names = {m.name for m in diagnosis.mechanisms}
    assert names == set(mechanisms.names())
    for status in diagnosis.mechanisms:
        assert status.available == bool(mechanisms.get(status.name).available())
        assert status.reason
    features = {f.name: f for f in diagnosis.features}
    for status in diagnosis.mechanisms:
        if "ptrace" in status.requirements and not features["ptrace"].ok:
            assert not status.available
    pkeys = features["protection keys"]
    assert pkeys.ok or "pkey_alloc" in pkeys.detail


def test_auto_picks_an_available_mechanism_that_can_do_the_job(progs):
    diagnosis = diagnose()
    assert diagnosis.auto_trace is not None
    chosen = mechanisms.get(diagnosis.auto_trace)
    assert chosen.available() and chosen.capabilities.sees_return_value
    with splitpriv.trace([progs["getppid_loop"], "3"], mechanism="auto", syscalls=["getppid"]) as t:
        calls = [e for e in t if isinstance(e, splitpriv.SyscallEvent)]
    assert t.mechanism.name == diagnosis.auto_trace
    assert [c.retval for c in calls] == [calls[0].retval] * 3 and calls[0].retval is not None


def test_rendered_report_names_every_mechanism_and_the_auto_choice():
    diagnosis = diagnose()
    out = StringIO()
    console = Console(file=out, width=160, color_system=None)
    for part in render(diagnosis):
        console.print(part)
    text = out.getvalue()
    for name in mechanisms.names():
        assert name in text
    assert f"auto for tracing: {diagnosis.auto_trace}" in text
    assert "PTRACE_GET_SYSCALL_INFO" in text and diagnosis.kernel in text


def test_doctor_json_from_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "splitpriv", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {m["name"] for m in data["mechanisms"]} == set(mechanisms.names())
    assert any(f["name"] == "seccomp RET_USER_NOTIF" for f in data["features"])


def test_vcpu_host_feature_is_a_real_boot():
    """doctor's VCpu line agrees with what a VCpu really does here."""
    from splitpriv.addrspace import PROT_EXEC, PROT_READ, AddressSpace
    from splitpriv.vcpu import VCpu

    feature = {f.name: f for f in probe_features()}["VCpu host"]
    with AddressSpace.create() as space, VCpu() as cpu:
        space.map(0x400000, 4096, PROT_READ | PROT_EXEC)
        space.write(0x400000, bytes.fromhex("b8 27 00 00 00 0f 05 eb f7"))  # getpid; loop
        try:
            trap = cpu.unprivilege(0x400000, space, timeout=5)
        except splitpriv.VCpuError:
            assert not feature.ok
        else:
            assert feature.ok and trap.name == "getpid"
