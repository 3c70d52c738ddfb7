"""Virtual CPUs (splitpriv.vcpu): guest contexts run unprivileged in a host process that holds
nothing but the VCpu stub; every syscall and fault comes back as a Trap. Real host processes,
real seccomp traps, real page faults; hand-assembled guests, plus the guest-kernel example."""

from __future__ import annotations

import errno
import gc
import importlib.util
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from helpers import proc_state, read_proc_stat

from splitpriv.addrspace import PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace
from splitpriv.errors import VCpuError
from splitpriv.vcpu import STRATEGIES, STUB_END, STUB_START, Context, Trap, VCpu

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "examples" / "guest_kernel" / "kernel.py"

CODE = 0x400000  # the guest's code page (r-x)
DATA = 0x600000  # its data and stack page (rw-)
PAGE = 4096
UNMAPPED = 0x700000
CTRL = STUB_START + 0x10000  # the stub's control region
AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
NR_GETPID, NR_GETUID = 39, 102
NR_I386_GETPID = 20
MASK64 = (1 << 64) - 1
SEGV_MAPERR, SEGV_ACCERR = 1, 2  # si_code of a SIGSEGV: nothing mapped / not allowed
TIMEOUT = 5.0  # for run(): a guest that hangs fails its test instead of the suite

# ---- a tiny assembler: x86_64 machine code, checked against GNU as -------------------------------

SYSCALL = b"\x0f\x05"
INT80 = b"\xcd\x80"
UD2 = b"\x0f\x0b"
JMP_SELF = b"\xeb\xfe"
MOV_RDI_RAX = b"\x48\x89\xc7"
LOAD_RAX_FROM_RAX = b"\x48\x8b\x00"  # mov rax, [rax]
STORE_1_TO_RAX = b"\xc6\x00\x01"  # mov byte [rax], 1
PUSH_RDI, POP_RSI = b"\x57", b"\x5e"
INC_R12 = b"\x49\xff\xc4"
MOV_RDI_R12, MOV_RSI_R13 = b"\x4c\x89\xe7", b"\x4c\x89\xee"
MOV_RDX_R14, MOV_R10_R15 = b"\x4c\x89\xf2", b"\x4d\x89\xfa"


def mov_eax(value: int) -> bytes:
    return b"\xb8" + value.to_bytes(4, "little")


def movabs_rax(value: int) -> bytes:
    return b"\x48\xb8" + value.to_bytes(8, "little")


def loop(code: bytes) -> bytes:
    """``code`` followed by a short jmp back to its first byte."""
    assert len(code) + 2 <= 128
    return code + b"\xeb" + (-(len(code) + 2) & 0xFF).to_bytes(1, "little")


GETPID_LOOP = loop(mov_eax(NR_GETPID) + SYSCALL)


def make_space(
    code: bytes, *, name: str = "vcpu-test", code_at: int = CODE, data_at: int = DATA
) -> AddressSpace:
    """A space with ``code`` in an r-x page and an rw- data/stack page."""
    space = AddressSpace.create(name)
    space.map(code_at, PAGE, PROT_READ | PROT_EXEC)
    space.write(code_at, code)
    space.map(data_at, PAGE, PROT_READ | PROT_WRITE)
    return space


@pytest.fixture
def spaces() -> Iterator[list[AddressSpace]]:
    """Spaces a test makes: closed at its end."""
    made: list[AddressSpace] = []
    yield made
    for space in made:
        space.close()


def new_space(
    spaces: list[AddressSpace],
    code: bytes,
    *,
    name: str = "vcpu-test",
    code_at: int = CODE,
    data_at: int = DATA,
) -> AddressSpace:
    space = make_space(code, name=name, code_at=code_at, data_at=data_at)
    spaces.append(space)
    return space


@pytest.fixture(params=STRATEGIES)
def strategy(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def maps_of(pid: int) -> list[tuple[int, int, str, str]]:
    """(start, end, perms, name) of every line of /proc/PID/maps."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            out.append((start, end, fields[1], fields[5].strip() if len(fields) > 5 else ""))
    return out


def guest_regions(pid: int) -> set[tuple[int, int, str]]:
    """The host's regions outside the stub range and [vsyscall]: the guest's."""
    return {
        (start, end, perms)
        for start, end, perms, name in maps_of(pid)
        if not (STUB_START <= start and end <= STUB_END) and name != "[vsyscall]"
    }


def expected_regions(space: AddressSpace) -> set[tuple[int, int, str]]:
    def perms(prot: int) -> str:
        bits = ((PROT_READ, "r"), (PROT_WRITE, "w"), (PROT_EXEC, "x"))
        return "".join(c if prot & bit else "-" for bit, c in bits) + "s"

    return {(m.addr, m.end, perms(m.prot)) for m in space.mappings()}


def assert_syscall(trap: Trap, nr: int) -> None:
    assert (trap.kind, trap.nr, trap.arch) == ("syscall", nr, AUDIT_ARCH_X86_64), trap


# ---- 1. the guest-kernel example -----------------------------------------------------------------


@pytest.fixture(scope="module")
def kernel() -> Iterator[ModuleType]:
    """examples/guest_kernel/kernel.py, imported from its path (registered in sys.modules while
    it loads and runs: its dataclass looks its module up there)."""
    name = "guest_kernel_example"
    spec = importlib.util.spec_from_file_location(name, KERNEL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


LINE = re.compile(r"task (\d+) \(pid (\d+)\): round (\d+), counter (-?\d+)")


@pytest.mark.parametrize("protect", ["none", "mprotect"])
def test_guest_kernel_demo_is_the_same_under_both_strategies(kernel, protect):
    results = {}
    for strategy in STRATEGIES:
        out: list[str] = []
        status, hosts, switches = kernel.run(strategy, 3, out.append, protect)
        results[strategy] = ("".join(out), status, hosts, switches)
        assert all(gone(pid) for pid in hosts), f"{strategy}: hosts left behind {hosts}"

    text = results["remap"][0]
    assert results["process"][0] == text
    assert results["remap"][1] == results["process"][1] == {0: 0, 1: 1, 2: 2}
    assert len(results["remap"][2]) == 1 and len(results["process"][2]) == 3
    assert results["remap"][3] == results["process"][3] > 0

    seen: dict[int, list[tuple[int, int, int]]] = {}
    for task, pid, round_, counter in LINE.findall(text):
        seen.setdefault(int(task), []).append((int(pid), int(round_), int(counter)))
    # Task i runs i + 2 rounds; its counter (the same virtual address in every task) counts
    # only its own rounds: each task's memory is its own.
    for task in range(3):
        rounds = task + 2
        assert seen[task] == [(100 + task, r, r) for r in range(1, rounds + 1)]
    for task in range(3):
        assert f"[kernel] task {task} exited with {task}\n" in text
    assert text.count("\n") == sum(t + 2 for t in range(3)) + 3


def test_guest_kernel_script_prints_the_same(kernel):
    out: list[str] = []
    kernel.run("process", 3, out.append)
    done = subprocess.run(
        [sys.executable, str(KERNEL), "--strategy", "process"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "".join(out)
    assert "strategy process: 3 host process(es)" in done.stderr


# ---- 2. syscalls, return values, registers -------------------------------------------------------


def test_syscall_trap_reports_number_args_and_next_rip(strategy, spaces):
    code = loop(mov_eax(NR_GETPID) + SYSCALL + MOV_RDI_RAX + mov_eax(NR_GETUID) + SYSCALL)
    space = new_space(spaces, code)
    args = (0x1111, 0x2222_0000_0000_0002, 3, MASK64, 0x5555, 0x6666_6666)
    ctx = Context(space)
    ctx.regs.rip = CODE
    ctx.regs.rdi, ctx.regs.rsi, ctx.regs.rdx, ctx.regs.r10, ctx.regs.r8, ctx.regs.r9 = args
    with VCpu(strategy) as cpu:
        trap = cpu.run(ctx, timeout=TIMEOUT)
        assert_syscall(trap, NR_GETPID)
        assert trap.name == "getpid"
        assert trap.args == args
        assert trap.context is ctx and ctx.regs.rip == CODE + 7  # past mov eax + syscall

        for value in (0x1234_5678_9ABC_DEF0, -errno.ENOSYS):
            ctx.set_return(value)
            trap = cpu.run(ctx, timeout=TIMEOUT)
            assert_syscall(trap, NR_GETUID)  # the guest went on: mov rdi, rax; syscall
            assert trap.args[0] == value & MASK64
            assert ctx.regs.rip == CODE + 17
            trap = cpu.run(ctx, timeout=TIMEOUT)  # jmp back to the getpid call
            assert_syscall(trap, NR_GETPID)
        assert cpu.switches == 0 and cpu.current is ctx


@pytest.mark.parametrize("layout", ["shared space", "separate spaces"])
def test_registers_survive_switches_between_contexts(strategy, layout, spaces):
    # Each round: r12 += 1, then syscall(getpid, r12, r13, r14, r15): the guest reports its own
    # registers, so what is checked is what the CPU really held, not what Python kept.
    code = loop(
        INC_R12
        + MOV_RDI_R12
        + MOV_RSI_R13
        + MOV_RDX_R14
        + MOV_R10_R15
        + mov_eax(NR_GETPID)
        + SYSCALL
    )
    first = new_space(spaces, code)
    second = first if layout == "shared space" else new_space(spaces, code)
    a, b = Context.at(first, CODE, name="a"), Context.at(second, CODE, name="b")
    a.regs.r12, a.regs.r13, a.regs.r14, a.regs.r15 = 1000, 0xA13, 0xA14, 0xA15
    b.regs.r12, b.regs.r13, b.regs.r14, b.regs.r15 = 2000, 0xB13, 0xB14, 0xB15
    a.regs.rbx, a.regs.rbp, b.regs.rbx, b.regs.rbp = 0xA0B, 0xAB9, 0xB0B, 0xBB9
    with VCpu(strategy) as cpu:
        for n in range(1, 4):
            for ctx, base, tag in ((a, 1000, 0xA00), (b, 2000, 0xB00)):
                trap = cpu.run(ctx, timeout=TIMEOUT)
                assert_syscall(trap, NR_GETPID)
                assert trap.args[:4] == (base + n, tag + 0x13, tag + 0x14, tag + 0x15)
                assert (ctx.regs.r12, ctx.regs.r15) == (base + n, tag + 0x15)
                assert (ctx.regs.rbx, ctx.regs.rbp) == (tag + 0xB, tag + 0xB9)
        assert cpu.switches == 5
        hosts = 1 if strategy == "remap" or layout == "shared space" else 2
        assert len(cpu.host_pids()) == hosts


# ---- 3. faults -----------------------------------------------------------------------------------


def test_read_of_an_unmapped_address_is_a_segv_at_it(strategy, spaces):
    space = new_space(spaces, movabs_rax(UNMAPPED) + LOAD_RAX_FROM_RAX + JMP_SELF)
    with VCpu(strategy) as cpu:
        trap = cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
    assert (trap.kind, trap.name, trap.signo) == ("fault", "SIGSEGV", signal.SIGSEGV)
    assert (trap.addr, trap.code) == (UNMAPPED, SEGV_MAPERR)
    assert trap.context.regs.rip == CODE + 10  # the load, which did not complete


def test_write_after_protect_faults_once_the_host_remaps(strategy, spaces):
    space = new_space(
        spaces, loop(movabs_rax(DATA) + STORE_1_TO_RAX + mov_eax(NR_GETPID) + SYSCALL)
    )
    ctx = Context.at(space, CODE)
    with VCpu(strategy) as cpu:
        assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
        assert space.read(DATA, 1) == b"\x01"  # the guest's store landed in the space's memory
        space.write(DATA, b"\x00")
        space.protect(DATA, PAGE, PROT_READ)
        trap = cpu.run(ctx, timeout=TIMEOUT)
        assert (trap.kind, trap.name, trap.addr, trap.code) == (
            "fault",
            "SIGSEGV",
            DATA,
            SEGV_ACCERR,
        )
        assert ctx.regs.rip == CODE + 10
        assert space.read(DATA, 1) == b"\x00"
        [pid] = cpu.host_pids()
        assert (DATA, DATA + PAGE, "r--s") in guest_regions(pid)
        # And once the page is unmapped, the same store finds nothing there.
        space.unmap(DATA, PAGE)
        trap = cpu.run(ctx, timeout=TIMEOUT)
        assert (trap.kind, trap.name, trap.addr, trap.code) == (
            "fault",
            "SIGSEGV",
            DATA,
            SEGV_MAPERR,
        )
        assert guest_regions(pid) == expected_regions(space)


def test_ud2_is_a_sigill(strategy, spaces):
    space = new_space(spaces, UD2 + JMP_SELF)
    with VCpu(strategy) as cpu:
        trap = cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
    assert (trap.kind, trap.name, trap.signo) == ("fault", "SIGILL", signal.SIGILL)
    assert trap.context.regs.rip == CODE


# ---- 4. privileged-only memory -------------------------------------------------------------------

PEEK_CTRL = loop(movabs_rax(CTRL) + LOAD_RAX_FROM_RAX + MOV_RDI_RAX + mov_eax(NR_GETPID) + SYSCALL)


def test_control_region_is_out_of_reach_with_mprotect(strategy, spaces):
    space = new_space(spaces, PEEK_CTRL)
    with VCpu(strategy, protect="mprotect") as cpu:
        trap = cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
        assert (trap.kind, trap.name, trap.addr) == ("fault", "SIGSEGV", CTRL)
        # The host still serves traps after the guest's fault on its control region.
        past_the_load = CODE + 16  # mov eax, 39; syscall
        trap = cpu.run(Context.at(space, past_the_load), timeout=TIMEOUT)
        assert_syscall(trap, NR_GETPID)


def test_control_region_is_readable_without_protection(strategy, spaces):
    space = new_space(spaces, PEEK_CTRL)
    with VCpu(strategy, protect="none") as cpu:
        trap = cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
    assert_syscall(trap, NR_GETPID)
    # The guest read the live control region: the state word says RUN (2), booted is 1.
    assert trap.args[0] == 2 | 1 << 32


@pytest.mark.parametrize(("protect", "running"), [("none", "rw-s"), ("mprotect", "---s")])
def test_control_region_is_locked_only_while_guest_code_runs(strategy, spaces, protect, running):
    # getpid(), then jmp $: look at the host's maps while it is stopped, then while it spins.
    space = new_space(spaces, mov_eax(NR_GETPID) + SYSCALL + JMP_SELF)
    ctx = Context.at(space, CODE)

    def ctrl_perms(pid: int) -> set[str]:
        return {p for s, e, p, _ in maps_of(pid) if s <= CTRL < e}

    with VCpu(strategy, protect=protect) as cpu:
        assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
        [pid] = cpu.host_pids()
        assert ctrl_perms(pid) == {"rw-s"}  # the handler has opened it
        errors: list[Exception] = []

        def spin() -> None:
            try:
                cpu.run(ctx, timeout=TIMEOUT)
            except Exception as exc:  # checked below
                errors.append(exc)

        runner = threading.Thread(target=spin)
        runner.start()
        seen: set[str] = set()
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:  # until the guest spins (running, not in a wait)
            seen = ctrl_perms(pid)
            if seen == {running} and proc_state(pid) == "R":
                break
            time.sleep(0.005)
        os.kill(pid, signal.SIGKILL)  # ends the run
        runner.join(TIMEOUT)
    assert seen == {running}
    assert len(errors) == 1 and "host process died" in str(errors[0]), errors


# ---- 5. what the host holds ----------------------------------------------------------------------


@pytest.mark.parametrize("protect", ["none", "mprotect"])
def test_host_holds_only_the_stub_and_the_guest(strategy, protect, spaces):
    name = f"splitpriv-vcpu-test-{os.getpid()}"
    space = new_space(spaces, GETPID_LOOP, name=name)
    with VCpu(strategy, protect=protect) as cpu:
        assert_syscall(cpu.run(Context.at(space, CODE), timeout=TIMEOUT), NR_GETPID)
        [pid] = cpu.host_pids()
        assert proc_state(pid) in ("S", "R")  # waiting in its handler for us
        maps = maps_of(pid)
        for start, end, _, label in maps:
            in_stub = STUB_START <= start and end <= STUB_END
            home = space.find(start)
            in_guest = home is not None and end <= home.end
            assert in_stub or in_guest or label == "[vsyscall]", (hex(start), hex(end), label)
        assert guest_regions(pid) == expected_regions(space)
        assert any(STUB_START <= s < STUB_END and "x" in p for s, _, p, _ in maps)

        targets = {}
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                targets[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except FileNotFoundError:
                pass
        memfds = [t for t in targets.values() if "memfd:" in t and name in t]
        assert len(memfds) == 1, targets  # the space's handle, received over the socket
        assert targets.get(3, "").startswith("socket:"), targets
        extra = {fd: t for fd, t in targets.items() if fd > 3 and not ("memfd:" in t and name in t)}
        assert not extra, f"the host holds descriptors besides the space's: {extra}"


# ---- 6. int $0x80 --------------------------------------------------------------------------------


def test_int80_traps_as_an_i386_call(strategy, spaces):
    space = new_space(spaces, loop(INT80))
    ctx = Context.at(space, CODE)
    ctx.regs.rax = NR_I386_GETPID
    ctx.regs.rbx, ctx.regs.rcx, ctx.regs.rdx = 0x1_0000_0001, 2, 3
    ctx.regs.rsi, ctx.regs.rdi, ctx.regs.rbp = 4, 5, 0xFFFF_FFFF_0000_0006
    with VCpu(strategy) as cpu:
        trap = cpu.run(ctx, timeout=TIMEOUT)
    if trap.kind == "fault":
        pytest.skip(f"int $0x80 does not work here (IA32 emulation off?): {trap.name}")
    assert (trap.kind, trap.arch, trap.nr, trap.name) == (
        "syscall",
        AUDIT_ARCH_I386,
        NR_I386_GETPID,
        "getpid",
    )
    assert trap.args == (1, 2, 3, 4, 5, 6)  # the i386 argument registers, 32 bits each
    assert ctx.regs.rip == CODE + 2


# ---- 7. timeout ----------------------------------------------------------------------------------


def test_a_guest_that_never_traps_times_out_and_its_host_dies(strategy, spaces):
    # getpid(), then jmp $: the first run traps, the second never does.
    space = new_space(spaces, mov_eax(NR_GETPID) + SYSCALL + JMP_SELF)
    ctx = Context.at(space, CODE)
    with VCpu(strategy) as cpu:
        assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
        [pid] = cpu.host_pids()
        started = time.monotonic()
        with pytest.raises(VCpuError, match=r"did not trap within 0\.3 s"):
            cpu.run(ctx, timeout=0.3)
        elapsed = time.monotonic() - started
        assert 0.25 <= elapsed < 3, elapsed
        assert gone(pid)  # killed and reaped
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert cpu.host_pids() == [] and cpu.current is None
        # The VCpu is still usable: the next run starts a new host.
        assert_syscall(cpu.run(Context.at(space, CODE), timeout=TIMEOUT), NR_GETPID)
        [new_pid] = cpu.host_pids()
        assert new_pid != pid


def test_a_host_killed_under_a_running_guest_is_reported(strategy, spaces):
    space = new_space(spaces, mov_eax(NR_GETPID) + SYSCALL + JMP_SELF)
    ctx = Context.at(space, CODE)
    with VCpu(strategy) as cpu:
        assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
        [pid] = cpu.host_pids()
        killer = threading.Timer(0.05, os.kill, (pid, signal.SIGKILL))
        killer.start()
        started = time.monotonic()
        with pytest.raises(VCpuError, match="host process died"):
            cpu.run(ctx, timeout=TIMEOUT)
        killer.join()
        assert time.monotonic() - started < 2
        assert gone(pid) and cpu.host_pids() == [] and cpu.current is None


# ---- 8. errors, and unprivilege() ----------------------------------------------------------------


def test_bad_arguments_are_refused():
    with pytest.raises(VCpuError, match="strategy must be one of"):
        VCpu("bogus")
    with pytest.raises(VCpuError, match="protect must be one of"):
        VCpu("remap", protect="pkey")
    with AddressSpace.create() as space, pytest.raises(VCpuError, match="at most 6 arguments"):
        Context.at(space, CODE, args=(1, 2, 3, 4, 5, 6, 7))


@pytest.mark.parametrize(
    "where",
    [STUB_START, STUB_END - PAGE, STUB_START - PAGE],
    ids=["at-start", "last-page", "straddles-start"],
)
def test_a_space_overlapping_the_stub_is_refused(strategy, spaces, where):
    space = new_space(spaces, GETPID_LOOP)
    space.map(where, 2 * PAGE if where < STUB_START else PAGE, PROT_READ | PROT_WRITE)
    with VCpu(strategy) as cpu:
        with pytest.raises(VCpuError, match="overlaps the VCpu stub"):
            cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
        # Nothing was half done: a good space runs on the same VCpu.
        good = new_space(spaces, GETPID_LOOP)
        assert_syscall(cpu.run(Context.at(good, CODE), timeout=TIMEOUT), NR_GETPID)


def test_run_after_close_and_on_a_closed_space_are_refused(strategy, spaces):
    space = new_space(spaces, GETPID_LOOP)
    ctx = Context.at(space, CODE)
    cpu = VCpu(strategy)
    try:
        doomed = make_space(GETPID_LOOP)
        doomed.close()
        with pytest.raises(VCpuError, match="address space is closed"):
            cpu.run(Context.at(doomed, CODE), timeout=TIMEOUT)
        assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
        [pid] = cpu.host_pids()
    finally:
        cpu.close()
    assert gone(pid)
    with pytest.raises(VCpuError, match="closed"):
        cpu.run(ctx, timeout=TIMEOUT)
    assert cpu.host_pids() == []


def test_unprivilege_needs_a_space_then_runs_and_resumes(strategy, spaces):
    # push rdi; pop rsi; getpid(): the argument goes through the guest's stack.
    space = new_space(spaces, loop(PUSH_RDI + POP_RSI + mov_eax(NR_GETPID) + SYSCALL))
    stack = DATA + PAGE
    with VCpu(strategy) as cpu:
        with pytest.raises(VCpuError, match="no address space given"):
            cpu.unprivilege(CODE)
        trap = cpu.unprivilege(CODE, space, stack=stack, args=(0x5EED,), timeout=TIMEOUT)
        assert_syscall(trap, NR_GETPID)
        assert trap.args[:2] == (0x5EED, 0x5EED)
        assert struct.unpack("<Q", space.read(stack - 8, 8))[0] == 0x5EED
        assert trap.context.regs.rsp == stack and cpu.current is trap.context

        again = cpu.run(trap.context, timeout=TIMEOUT)  # resumes after the syscall
        assert_syscall(again, NR_GETPID)
        assert again.context is trap.context and again.context.regs.rip == CODE + 9

        # With no space given, the current context's space is used.
        other = cpu.unprivilege(CODE, stack=stack - 64, args=(7,), timeout=TIMEOUT)
        assert other.context.space is space and other.args[:2] == (7, 7)
        assert cpu.switches == 1


def test_unprivilege_takes_the_handle_itself(strategy, spaces):
    space = new_space(
        spaces, loop(movabs_rax(DATA) + STORE_1_TO_RAX + mov_eax(NR_GETPID) + SYSCALL)
    )
    with VCpu(strategy) as cpu:
        trap = cpu.unprivilege(CODE, space.fileno(), timeout=TIMEOUT)
        assert_syscall(trap, NR_GETPID)
        rebuilt = trap.context.space
        assert rebuilt.mappings() == space.mappings()
        # The same memory: the guest's store is seen through the original object.
        assert space.read(DATA, 1) == b"\x01"
        assert_syscall(cpu.run(trap.context, timeout=TIMEOUT), NR_GETPID)


def test_one_handle_is_one_space_however_often_it_is_given(strategy, spaces):
    space = new_space(spaces, GETPID_LOOP)
    with VCpu(strategy) as cpu:
        first = cpu.unprivilege(CODE, space.fileno(), timeout=TIMEOUT)
        duplicate = os.dup(space.fileno())
        try:
            again = cpu.unprivilege(CODE, duplicate, timeout=TIMEOUT)
        finally:
            os.close(duplicate)
        assert first.context.space is again.context.space
        assert len(cpu.host_pids()) == 1
        rebuilt = first.context.space
    assert rebuilt.closed  # the VCpu built it from the handle, and closes it with itself


# ---- 9. nothing left behind ----------------------------------------------------------------------


def test_closing_kills_and_reaps_every_host(strategy, spaces):
    a, b = new_space(spaces, GETPID_LOOP), new_space(spaces, GETPID_LOOP)
    with VCpu(strategy) as cpu:
        for space in (a, b):
            assert_syscall(cpu.run(Context.at(space, CODE), timeout=TIMEOUT), NR_GETPID)
        pids = cpu.host_pids()
        assert len(pids) == (1 if strategy == "remap" else 2)
        for pid in pids:
            info = read_proc_stat(pid)
            assert info is not None and info.ppid == os.getpid()
    assert all(gone(pid) for pid in pids), [proc_state(p) for p in pids]


def test_a_dropped_vcpu_takes_its_hosts_with_it(strategy, spaces):
    space = new_space(spaces, GETPID_LOOP)
    cpu = VCpu(strategy)
    trap = cpu.run(Context.at(space, CODE), timeout=TIMEOUT)
    [pid] = cpu.host_pids()
    del cpu
    gc.collect()
    assert gone(pid)
    assert trap.kind == "syscall"


DOOMED = f"""
import os, signal
from splitpriv.addrspace import AddressSpace
from splitpriv.vcpu import Context, VCpu
space = AddressSpace.create("orphan")
space.map({CODE}, {PAGE}, 5)
space.write({CODE}, {GETPID_LOOP!r})
cpu = VCpu("remap")
trap = cpu.run(Context.at(space, {CODE}), timeout=5)
assert trap.kind == "syscall", trap
print(cpu.host_pids()[0], flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""

# A subreaper between us and the doomed supervisor: the orphaned host is reparented to it, so
# it can reap the host and report how it died (PID 1 may never reap it here).
REAPER = f"""
import ctypes, json, os, subprocess, sys, time
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    print(json.dumps({{"skip": os.strerror(ctypes.get_errno())}}))
    sys.exit(0)
doomed = subprocess.Popen([sys.executable, "-c", {DOOMED!r}], stdout=subprocess.PIPE, text=True)
host = int(doomed.stdout.readline())
doomed.wait()
died = time.monotonic()
status = None
while status is None and time.monotonic() < died + 2:
    try:
        pid, raw = os.waitpid(host, os.WNOHANG)
        if pid == host:
            status = raw
    except ChildProcessError:  # not reparented to us yet
        pass
    time.sleep(0.005)
signal = os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None
print(json.dumps({{"supervisor": doomed.returncode, "host": host, "status": status,
                  "signal": signal, "after": time.monotonic() - died,
                  "proc": os.path.exists(f"/proc/{{host}}")}}))
"""


def test_hosts_die_with_their_supervisor():
    done = subprocess.run(
        [sys.executable, "-c", REAPER], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    if "skip" in report:
        pytest.skip(f"PR_SET_CHILD_SUBREAPER: {report['skip']}")
    assert report["supervisor"] == -signal.SIGKILL
    # The host was SIGKILLed (PR_SET_PDEATHSIG) as its supervisor died, and is gone once reaped.
    assert report["signal"] == signal.SIGKILL, report
    assert report["after"] < 2 and report["proc"] is False, report


# ---- 10. switching spaces on one host -----------------------------------------------------------


def test_switching_spaces_changes_the_host_layout(strategy, spaces):
    a = new_space(spaces, GETPID_LOOP, code_at=0x400000, data_at=0x600000)
    b = new_space(spaces, GETPID_LOOP, code_at=0x800000, data_at=0xA00000)
    b.map(0xB00000, 4 * PAGE, PROT_READ)
    ca, cb = Context.at(a, 0x400000), Context.at(b, 0x800000)
    with VCpu(strategy) as cpu:
        shown = []
        for ctx in (ca, cb, ca, cb):
            assert_syscall(cpu.run(ctx, timeout=TIMEOUT), NR_GETPID)
            shown.append({pid: guest_regions(pid) for pid in cpu.host_pids()})
        pids = cpu.host_pids()
    if strategy == "remap":
        [pid] = pids
        for ctx, layout in zip((ca, cb, ca, cb), shown, strict=True):
            assert layout[pid] == expected_regions(ctx.space)
    else:
        # One host per space, each keeping its own space and nothing else.
        assert len(pids) == 2
        host_a, host_b = pids
        assert shown[-1] == {host_a: expected_regions(a), host_b: expected_regions(b)}
        assert shown[0] == {host_a: expected_regions(a)}


def test_a_region_with_the_same_start_but_shorter_leaves_no_tail(strategy, spaces):
    # Same layout but for one region, which is shorter in b: its tail must not survive the
    # switch (a switch skips the munmap only for regions the target maps exactly again).
    a = new_space(spaces, GETPID_LOOP)
    a.map(0x610000, 2 * PAGE, PROT_READ | PROT_WRITE)
    b = new_space(spaces, GETPID_LOOP)
    b.map(0x610000, PAGE, PROT_READ | PROT_WRITE)
    b.write(CODE + 0x100, movabs_rax(0x611000) + LOAD_RAX_FROM_RAX + JMP_SELF)
    with VCpu(strategy) as cpu:
        assert_syscall(cpu.run(Context.at(a, CODE), timeout=TIMEOUT), NR_GETPID)
        trap = cpu.run(Context.at(b, CODE + 0x100), timeout=TIMEOUT)
        assert (trap.kind, trap.name, trap.addr) == ("fault", "SIGSEGV", 0x611000)
        for pid in cpu.host_pids():
            assert guest_regions(pid) in (expected_regions(a), expected_regions(b))
        assert guest_regions(cpu.host_pids()[-1]) == expected_regions(b)


READ_DATA_LOOP = loop(
    movabs_rax(DATA) + LOAD_RAX_FROM_RAX + MOV_RDI_RAX + mov_eax(NR_GETPID) + SYSCALL
)


def test_more_spaces_than_fd_slots_on_one_remap_host(spaces):
    # Each guest reports the word in its own data page; 64 fd slots in the host (SP_VCPU_MAX_FDS),
    # so going round 70 spaces twice evicts handles and sends them again.
    code = READ_DATA_LOOP
    contexts = []
    for i in range(70):
        space = new_space(spaces, code, name=f"many-{i}")
        space.write(DATA, struct.pack("<Q", 0x1000 + i))
        contexts.append(Context.at(space, CODE))
    with VCpu("remap") as cpu:
        for _ in range(2):
            reported = [cpu.run(ctx, timeout=TIMEOUT).args[0] for ctx in contexts]
            assert reported == [0x1000 + i for i in range(70)]
        [pid] = cpu.host_pids()
        held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        assert 0 < sum("memfd:many-" in t for t in held) <= 64


def test_a_switch_at_the_operation_limit_keeps_spaces_apart(spaces):
    # Both guests report the word at DATA in their own space.
    small = new_space(spaces, READ_DATA_LOOP, name="small")
    small.write(DATA, struct.pack("<Q", 0x5))
    big = new_space(spaces, READ_DATA_LOOP, name="big")
    big.write(DATA, struct.pack("<Q", 0xB))
    for i in range(1022):  # 1024 mappings: the switch is 1024 MAP operations, the documented max
        big.map(0x1000000 + 2 * i * PAGE, PAGE, PROT_READ)
    with VCpu("remap") as cpu:
        ctx = Context.at(small, CODE)
        assert cpu.run(ctx, timeout=TIMEOUT).args[0] == 0x5
        try:
            outcome: object = cpu.run(Context.at(big, CODE), timeout=TIMEOUT).args[0]
        except VCpuError as exc:
            outcome = str(exc)
        # Whatever happened to that switch, the small context still runs in its own space...
        assert cpu.run(ctx, timeout=TIMEOUT).args[0] == 0x5
        [pid] = cpu.host_pids()
        assert guest_regions(pid) == expected_regions(small)
        # ... and the switch either worked or was refused cleanly.
        assert outcome == 0xB or "a switch needs" in str(outcome), outcome
