"""splitpriv.seccomp: the filter builder is right for every syscall number, and the kernel agrees.

Two halves. The simulator half builds filters of every shape (empty, one rule, alternating
actions, hundreds of ranges with long jumps, an instruction-pointer range, i386 checked or
killed) and compares ``evaluate()`` with an independent oracle for every number of both arches,
the x32 range and foreign arches. The kernel half loads representative filters into a forked
child with seccomp(2) (``run_with_filter``, test code on purpose: the library never installs a
filter) and makes real syscalls: ``syscall``, ``int $0x80`` from a small machine-code stub, x32
numbers, calls from a trusted code range.
"""

from __future__ import annotations

import ctypes
import errno
import os
import random
import resource
import select
import signal
import struct
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pytest

from splitpriv.errors import SplitprivError
from splitpriv.seccomp import (
    ALLOW,
    BPF_MAXINSNS,
    ERRNO,
    KILL_PROCESS,
    KILL_THREAD,
    LOG,
    TRACE,
    TRAP,
    USER_NOTIF,
    X32_SYSCALL_BIT,
    Action,
    Assembler,
    FilterProgram,
    FilterTooLargeError,
    Instruction,
    Label,
    SeccompFilterError,
    action_ranges,
    bpf,
    build_filter,
    evaluate,
)
from splitpriv.syscalls import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, numbers_for_all_arches, table

pytestmark = pytest.mark.timeout(30)

X64 = AUDIT_ARCH_X86_64
I386 = AUDIT_ARCH_I386
AUDIT_ARCH_AARCH64 = 0xC00000B7
FOREIGN_ARCHES = (0, AUDIT_ARCH_AARCH64, X64 & ~0x80000000, 0xFFFFFFFF)
U32 = 0xFFFFFFFF

Rules = Mapping[tuple[int, int], Action]

# x86_64 numbers used by the kernel tests.
NR_WRITE, NR_GETPID, NR_GETPPID = 1, 39, 110
I386_NR_GETPID = 20  # what int $0x80 with eax=20 means; on x86_64, 20 is writev


# -- the oracle --------------------------------------------------------------------------------


def intended(
    rules: Rules,
    default: Action,
    nr: int,
    arch: int,
    ip: int = 0,
    *,
    i386: str = "check",
    allow_ip_range: tuple[int, int] | None = None,
) -> Action:
    """What the filter is meant to return, written independently of the builder."""
    if allow_ip_range is not None and allow_ip_range[0] <= ip < allow_ip_range[1]:
        return ALLOW
    nr &= U32
    if arch == X64:
        if nr >= X32_SYSCALL_BIT:
            return KILL_PROCESS
        return rules.get((arch, nr), default)
    if arch == I386 and i386 == "check":
        return rules.get((arch, nr), default)
    return KILL_PROCESS


def numbers_to_check(rules: Rules) -> list[int]:
    """Every number 0..max (tables and rules, plus slack), around each rule, and the edges."""
    top = max([table(X64).max_number(), table(I386).max_number()] + [nr for _, nr in rules])
    top = min(top, 5000) + 64
    around = {n + d for _, nr in rules for n in (nr,) for d in (-1, 0, 1)}
    edges = {
        X32_SYSCALL_BIT - 1,
        X32_SYSCALL_BIT,
        X32_SYSCALL_BIT | NR_GETPID,
        X32_SYSCALL_BIT | 512,
        0x7FFFFFFF,
        0x80000000,
        U32 - 1,
        U32,
    }
    return sorted(n for n in set(range(top)) | around | edges if 0 <= n <= U32)


def assert_exhaustive(program: FilterProgram, rules: Rules, default: Action, **kw: object) -> int:
    """evaluate() == intended() for every number of every arch; returns how many were checked."""
    ip = int(kw.pop("ip", 0))
    i386 = str(kw.pop("i386", "check"))
    ip_range = kw.pop("allow_ip_range", None)
    assert not kw
    checked = 0
    wrong: list[str] = []
    for arch in (X64, I386, *FOREIGN_ARCHES):
        for nr in numbers_to_check(rules):
            got = Action(evaluate(program, nr, arch, ip))
            want = intended(rules, default, nr, arch, ip, i386=i386, allow_ip_range=ip_range)
            checked += 1
            if got != want and len(wrong) < 10:
                wrong.append(f"arch=0x{arch:x} nr={nr} ip=0x{ip:x}: got {got}, want {want}")
    assert not wrong, "\n".join(wrong) + "\n" + program.disassemble()
    return checked


# -- shapes ------------------------------------------------------------------------------------

POOL = (ALLOW, ERRNO(errno.EPERM), ERRNO(errno.EACCES), TRACE(7), USER_NOTIF, TRAP, LOG)


def every_syscall(arch: int) -> list[int]:
    tbl = table(arch)
    return sorted(tbl.number(name) for name in tbl.names())


def alternating(arches: Sequence[int], stop: int | None = None) -> dict[tuple[int, int], Action]:
    """ALLOW / ERRNO(EPERM) alternating over 0..stop (default: every number up to the max)."""
    out: dict[tuple[int, int], Action] = {}
    for arch in arches:
        end = table(arch).max_number() + 1 if stop is None else stop
        for nr in range(end):
            out[(arch, nr)] = ALLOW if nr % 2 else ERRNO(errno.EPERM)
    return out


def random_actions(seed: int, arches: Sequence[int]) -> dict[tuple[int, int], Action]:
    rng = random.Random(seed)
    return {(arch, nr): rng.choice(POOL) for arch in arches for nr in every_syscall(arch)}


def allowlist(*names: str) -> dict[tuple[int, int], Action]:
    return {
        (arch, nr): ALLOW for name in names for arch, nr in numbers_for_all_arches(name).items()
    }


SHAPES: dict[str, tuple[Rules, Action, dict[str, object]]] = {
    "empty-allow": ({}, ALLOW, {}),
    "empty-errno": ({}, ERRNO(errno.ENOSYS), {}),
    "empty-kill-i386": ({}, ALLOW, {"i386": "kill"}),
    "one-rule": ({(X64, NR_GETPPID): ERRNO(errno.EACCES)}, ALLOW, {}),
    "one-rule-i386": ({(I386, I386_NR_GETPID): KILL_PROCESS}, ALLOW, {}),
    "first-and-last-numbers": (
        {
            (X64, 0): TRAP,
            (X64, X32_SYSCALL_BIT - 1): LOG,
            (I386, 0): TRACE(1),
            (I386, U32): ERRNO(1),
        },
        ALLOW,
        {},
    ),
    "alternating-both-arches": (alternating([X64, I386]), TRAP, {}),
    "alternating-i386-killed": (alternating([X64, I386]), TRAP, {"i386": "kill"}),
    "over-300-ranges": (alternating([X64], stop=700), KILL_PROCESS, {}),
    "random-every-syscall": (random_actions(1, [X64, I386]), KILL_PROCESS, {}),
    "allowlist": (allowlist("read", "write", "exit_group", "getpid"), KILL_PROCESS, {}),
    "ip-range": (
        {(X64, NR_GETPPID): ERRNO(errno.EACCES)},
        ALLOW,
        {"allow_ip_range": (0x7F0000001000, 0x7F0000002000)},
    ),
    "ip-range-big-rules": (
        alternating([X64, I386]),
        KILL_PROCESS,
        {"allow_ip_range": (0xFFFFF000, 0x100001000), "i386": "kill"},
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_number_of_every_arch(shape: str) -> None:
    rules, default, kw = SHAPES[shape]
    program = build_filter(rules, default, **kw)
    assert len(program) <= BPF_MAXINSNS
    assert program.instructions[-1].code == bpf.RET_K
    checked = assert_exhaustive(program, rules, default, **kw)
    assert checked > 6 * 470
    ip_range = kw.get("allow_ip_range")
    if ip_range is not None:
        start, _ = ip_range
        assert_exhaustive(program, rules, default, ip=start, **kw)


def test_one_rule_program_is_small_and_readable() -> None:
    program = build_filter({(X64, NR_GETPPID): ERRNO(errno.EACCES)}, ALLOW)
    text = program.disassemble()
    assert len(program) == 13, text
    for expected in ("; arch", "AUDIT_ARCH_X86_64", "AUDIT_ARCH_I386", "; nr", "ERRNO(13 EACCES)"):
        assert expected in text
    assert "jge #0x40000000" in text  # the x32 refusal
    assert not any(i.code == bpf.JA for i in program)


def test_size_follows_ranges_not_syscalls() -> None:
    """Many syscalls with one action cost no more than one; the count is 2 * ranges - 1 + fixed."""
    one = build_filter({(X64, 0): ERRNO(1)}, ALLOW, i386="kill")
    many = build_filter({(X64, nr): ERRNO(1) for nr in range(400)}, ALLOW, i386="kill")
    assert len(one) == len(many)
    rules = alternating([X64], stop=100)
    ranges = action_ranges({nr: a for (_, nr), a in rules.items()}, ALLOW, X32_SYSCALL_BIT)
    program = build_filter(rules, ALLOW, i386="kill")
    fixed = len(build_filter({}, ALLOW, i386="kill")) - 1
    assert len(program) == fixed + 2 * len(ranges) - 1


def test_long_jumps_get_trampolines() -> None:
    rules = alternating([X64], stop=700)
    ranges = action_ranges({nr: a for (_, nr), a in rules.items()}, KILL_PROCESS, X32_SYSCALL_BIT)
    assert len(ranges) > 300
    program = build_filter(rules, KILL_PROCESS)
    trampolines = [i for i in program if i.code == bpf.JA]
    assert trampolines, "a tree this large must need ja trampolines"
    assert any(i.k > 255 for i in trampolines)
    assert all(i.jt <= 255 and i.jf <= 255 for i in program)
    # The search stays logarithmic: no path is longer than a few dozen instructions.
    assert len(trampolines) < 20


def test_every_x86_64_syscall_with_random_actions_fits() -> None:
    for seed in range(5):
        rules = random_actions(seed, [X64])
        program = build_filter(rules, KILL_PROCESS)
        assert len(program) < BPF_MAXINSNS
        both = random_actions(seed, [X64, I386])
        assert len(build_filter(both, KILL_PROCESS)) < BPF_MAXINSNS


def test_too_large_raises() -> None:
    rules = {(X64, nr): ERRNO(1 + nr % 2) for nr in range(3000)}
    with pytest.raises(FilterTooLargeError) as info:
        build_filter(rules, ALLOW)
    assert isinstance(info.value, SplitprivError) and isinstance(info.value, ValueError)
    assert "4096" in str(info.value) and "x86_64 ranges" in str(info.value)


def test_just_under_the_limit_builds() -> None:
    program = build_filter(alternating([X64], stop=2040), ALLOW, i386="kill")
    assert 4000 < len(program) <= BPF_MAXINSNS


def test_deterministic() -> None:
    rules = random_actions(3, [X64, I386])
    shuffled = list(rules.items())
    random.Random(9).shuffle(shuffled)
    first = build_filter(rules, TRAP, allow_ip_range=(0x1000, 0x2000))
    again = build_filter(dict(shuffled), TRAP, allow_ip_range=(0x1000, 0x2000))
    assert first.to_bytes() == again.to_bytes()
    assert first.disassemble() == again.disassemble()


def test_x32_is_killed_even_when_the_number_is_allowed() -> None:
    program = build_filter({(X64, NR_GETPID): ALLOW}, ALLOW)
    for nr in (NR_GETPID | X32_SYSCALL_BIT, X32_SYSCALL_BIT, 512 | X32_SYSCALL_BIT, -1):
        assert Action(evaluate(program, nr, X64)) == KILL_PROCESS


def test_i386_numbers_never_pass_through_the_x86_64_table() -> None:
    """x86_64 20 is writev, i386 20 is getpid: denying one must not touch the other."""
    deny_x64 = build_filter({(X64, I386_NR_GETPID): ERRNO(1)}, ALLOW)
    assert Action(evaluate(deny_x64, I386_NR_GETPID, X64)) == ERRNO(1)
    assert Action(evaluate(deny_x64, I386_NR_GETPID, I386)) == ALLOW
    allow_x64 = build_filter({(X64, nr): ALLOW for nr in range(500)}, KILL_PROCESS)
    assert Action(evaluate(allow_x64, I386_NR_GETPID, I386)) == KILL_PROCESS
    killed = build_filter({(I386, I386_NR_GETPID): ALLOW}, ALLOW, i386="kill")
    assert Action(evaluate(killed, I386_NR_GETPID, I386)) == KILL_PROCESS


# -- instruction-pointer ranges ----------------------------------------------------------------

IP_RANGES = [
    (0x7F0000001000, 0x7F0000002000),  # one page, one high word
    (0x1000, 0x2000),  # high word 0
    (0xFFFFF000, 0x100001000),  # crosses 4 GiB
    (0x100000000, 0x300000000),  # word-aligned both ends
    (0, 0x1000),  # from address 0
    (0xFFFFFFFF00000000, 1 << 64),  # to the top
    (0x7FFFFFFFF000, 0x7FFFFFFFF001),  # a single address
    (0x12345678, 0xABCDEF0123),
]


def interesting_ips(start: int, end: int, rng: random.Random) -> set[int]:
    points = {0, 1, U32, U32 + 1, (1 << 64) - 1}
    for bound in (start, end, end - 1):
        for delta in (-(1 << 32), -2, -1, 0, 1, 2, 1 << 32):
            points.add(bound + delta)
        points.add(bound & ~U32)
        points.add(bound | U32)
        points.add((bound & U32) | ((bound >> 32) + 1) << 32)
        points.add((bound & U32) | ((bound >> 32) - 1) << 32)
    points.update(rng.randrange(start, end) for _ in range(10))
    points.update(rng.randrange(1 << 64) for _ in range(10))
    return {p for p in points if 0 <= p < 1 << 64}


@pytest.mark.parametrize(
    "ip_range", [*IP_RANGES, None], ids=lambda r: "random" if r is None else f"{r[0]:#x}-{r[1]:#x}"
)
def test_ip_range_allows_exactly_its_addresses(ip_range: tuple[int, int] | None) -> None:
    rng = random.Random(42)
    ranges = [ip_range] if ip_range else []
    while len(ranges) < (1 if ip_range else 30):
        a, b = sorted(rng.randrange(1 << rng.choice((16, 32, 48, 64))) for _ in range(2))
        if a < b:
            ranges.append((a, b))
    rules = {(X64, NR_GETPPID): ERRNO(errno.EACCES), (I386, I386_NR_GETPID): TRAP}
    probes = [
        (NR_GETPPID, X64),
        (NR_GETPID, X64),
        (NR_GETPID | X32_SYSCALL_BIT, X64),
        (I386_NR_GETPID, I386),
        (0, AUDIT_ARCH_AARCH64),
    ]
    for start, end in ranges:
        program = build_filter(rules, KILL_PROCESS, allow_ip_range=(start, end))
        for ip in interesting_ips(start, end, rng):
            for nr, arch in probes:
                got = Action(evaluate(program, nr, arch, ip))
                want = intended(rules, KILL_PROCESS, nr, arch, ip, allow_ip_range=(start, end))
                assert got == want, f"[{start:#x}, {end:#x}) ip={ip:#x} nr={nr} arch={arch:#x}"


def test_ip_range_compares_high_word_first() -> None:
    """A low word inside the range does not help when the high word is outside."""
    start, end = 0x7F0000001000, 0x7F0000002000
    program = build_filter({}, KILL_PROCESS, allow_ip_range=(start, end))
    assert Action(evaluate(program, 0, X64, ip=start + 8)) == ALLOW
    assert Action(evaluate(program, 0, X64, ip=(start + 8) & U32)) == KILL_PROCESS
    assert Action(evaluate(program, 0, X64, ip=(start + 8) + (1 << 32))) == KILL_PROCESS


@pytest.mark.parametrize(
    "bad", [(5, 5), (6, 5), (-1, 5), (0, (1 << 64) + 1), (0, 1 << 64), (1,), "x"]
)
def test_bad_ip_range(bad: object) -> None:
    with pytest.raises(SeccompFilterError):
        build_filter({}, ALLOW, allow_ip_range=bad)


def test_trusted_range_can_be_narrowed() -> None:
    """With ip_range_refused and ip_range_guards, a call from the range is allowed unless it is
    refused or a guard matches the low word of its argument: then the process is killed.
    Outside the range the rules apply as before."""
    start, end = 0x6E0000000000, 0x6E0000010000
    inside, outside = start + 0x15, 0x401000
    program = build_filter(
        {(X64, 110): TRAP, (X64, 39): ERRNO(1)},
        ALLOW,
        allow_ip_range=(start, end),
        ip_range_refused=[(X64, 110), (I386, 64)],
        ip_range_guards=[(X64, 13, 0, 31), (I386, 174, 0, 31)],
    )
    assert Action(evaluate(program, 110, X64, ip=inside)) == KILL_PROCESS  # refused
    assert Action(evaluate(program, 110, X64, ip=outside)) == TRAP
    assert Action(evaluate(program, 39, X64, ip=inside)) == ALLOW  # not refused: trusted
    assert Action(evaluate(program, 39, X64, ip=outside)) == ERRNO(1)
    assert Action(evaluate(program, 13, X64, ip=inside, args=[31])) == KILL_PROCESS
    assert Action(evaluate(program, 13, X64, ip=inside, args=[31 + (1 << 32)])) == KILL_PROCESS
    assert Action(evaluate(program, 13, X64, ip=inside, args=[10])) == ALLOW
    assert Action(evaluate(program, 174, I386, ip=inside, args=[31])) == KILL_PROCESS
    assert Action(evaluate(program, 64, I386, ip=inside)) == KILL_PROCESS
    assert Action(evaluate(program, 20, I386, ip=inside)) == ALLOW
    assert Action(evaluate(program, 0x40000000, X64, ip=inside)) == KILL_PROCESS  # x32
    assert Action(evaluate(program, 0, 0xC00000B7, ip=inside)) == KILL_PROCESS  # other arch


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ip_range_refused": [(X64, 1)]}, "need allow_ip_range"),
        ({"ip_range_guards": [(X64, 13, 0, 31)]}, "need allow_ip_range"),
        ({"allow_ip_range": (1, 2), "ip_range_guards": [(X64, 13, 6, 31)]}, "arguments 0..5"),
        ({"allow_ip_range": (1, 2), "ip_range_guards": [(X64, 13, 0, 1 << 32)]}, "32 bits"),
        ({"allow_ip_range": (1, 2), "ip_range_guards": [(X64, 13)]}, "a guard is"),
    ],
)
def test_bad_trusted_range_limits(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SeccompFilterError, match=message):
        build_filter({}, ALLOW, **kwargs)  # type: ignore[arg-type]


# -- input checking ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rules",
    [
        {(X64, X32_SYSCALL_BIT): ALLOW},
        {(X64, -1): ALLOW},
        {(I386, 1 << 32): ALLOW},
        {(AUDIT_ARCH_AARCH64, 1): ALLOW},
        {(X64,): ALLOW},
        {(X64, True): ALLOW},
        {(X64, 1): "allow"},
        {(X64, 1): 0x7FFF0000},
    ],
)
def test_bad_rules(rules: object) -> None:
    with pytest.raises(SeccompFilterError):
        build_filter(rules, ALLOW)


def test_bad_default_and_mode() -> None:
    with pytest.raises(SeccompFilterError):
        build_filter({}, 0x7FFF0000)
    with pytest.raises(SeccompFilterError):
        build_filter({}, ALLOW, i386="allow")


def test_actions() -> None:
    assert ALLOW.value == 0x7FFF0000 and ALLOW.kind == "ALLOW"
    assert ERRNO(13).value == 0x0005000D and ERRNO(13).data == 13 and repr(ERRNO(13)) == "ERRNO(13)"
    assert ERRNO(13).describe() == "ERRNO(13 EACCES)"
    assert (
        TRACE().value == 0x7FF00000
        and TRACE(5).value == 0x7FF00005
        and repr(TRACE(5)) == "TRACE(5)"
    )
    assert USER_NOTIF.value == 0x7FC00000
    assert TRAP.value == 0x00030000
    assert KILL_PROCESS.value == 0x80000000 and KILL_THREAD.value == 0
    assert LOG.value == 0x7FFC0000
    assert Action(0x0005000D) == ERRNO(13) and hash(Action(0x0005000D)) == hash(ERRNO(13))
    assert Action(0x7FFF0000) is not None and Action(0x7FFF0000) == ALLOW
    for bad in (-1, 1 << 32, 0x7FFF0001, 0x12340000, 0x00050000 | 4096, True):
        with pytest.raises(SeccompFilterError):
            Action(bad)
    for bad_errno in (-1, 4096, True):
        with pytest.raises(SeccompFilterError):
            ERRNO(bad_errno)
    with pytest.raises(SeccompFilterError):
        TRACE(0x10000)
    with pytest.raises(AttributeError):
        ALLOW.value = 0


# -- BPF encoding, the assembler and the interpreter -------------------------------------------


def test_instruction_encoding() -> None:
    insn = bpf.jump(bpf.BPF_JEQ | bpf.BPF_K, 0xC000003E, 1, 2)
    raw = insn.pack()
    assert raw == struct.pack("=HBBI", 0x15, 1, 2, 0xC000003E) and len(raw) == 8
    assert Instruction.unpack(raw) == insn
    assert bpf.stmt(bpf.LD_ABS, 4) == Instruction(0x20, 0, 0, 4)
    assert bpf.RET_K == 0x06 and bpf.JGE_K == 0x35 and bpf.JGT_K == 0x25 and bpf.JSET_K == 0x45
    assert bpf.AND_K == 0x54 and bpf.JA == 0x05
    assert (bpf.seccomp_data_arg_lo(0), bpf.seccomp_data_arg_hi(5)) == (16, 60)
    for field, value in (("jt", 256), ("jf", -1), ("k", 1 << 32), ("code", 1 << 16)):
        with pytest.raises(SeccompFilterError):
            Instruction(**{"code": 6, field: value})


def test_program_round_trips_through_bytes() -> None:
    program = build_filter(random_actions(5, [X64, I386]), TRAP, allow_ip_range=(1 << 40, 1 << 41))
    raw = program.to_bytes()
    assert len(raw) == 8 * len(program)
    assert FilterProgram.from_bytes(raw) == program
    assert evaluate(raw, NR_GETPID, X64) == evaluate(program, NR_GETPID, X64)
    with pytest.raises(SeccompFilterError):
        FilterProgram.from_bytes(raw[:-1])


RET_ALLOW = bpf.stmt(bpf.RET_K, ALLOW.value)


@pytest.mark.parametrize(
    "insns",
    [
        (),
        (bpf.stmt(bpf.LD_ABS, 0),),  # no ret at the end
        (bpf.jump(bpf.JEQ_K, 0, 1, 0), RET_ALLOW),  # jumps past the end
        (Instruction(bpf.JA, 0, 0, 1), RET_ALLOW),
        (bpf.stmt(bpf.LD_ABS, 2), RET_ALLOW),  # misaligned load
        (bpf.stmt(bpf.LD_ABS, 64), RET_ALLOW),  # outside seccomp_data
        (bpf.stmt(bpf.BPF_LD | bpf.BPF_B | bpf.BPF_ABS, 0), RET_ALLOW),  # not for seccomp
        (bpf.stmt(bpf.BPF_ALU | bpf.BPF_DIV | bpf.BPF_K, 0), RET_ALLOW),
        (bpf.stmt(bpf.BPF_ALU | bpf.BPF_LSH | bpf.BPF_K, 32), RET_ALLOW),
        (bpf.stmt(bpf.BPF_ST, 16), RET_ALLOW),
    ],
)
def test_programs_the_kernel_would_reject(insns: tuple[Instruction, ...]) -> None:
    with pytest.raises(SeccompFilterError):
        FilterProgram(insns)


def test_program_limit() -> None:
    assert len(FilterProgram((RET_ALLOW,) * BPF_MAXINSNS)) == BPF_MAXINSNS
    with pytest.raises(FilterTooLargeError):
        FilterProgram((RET_ALLOW,) * (BPF_MAXINSNS + 1))


def test_assembler_trampolines_and_labels() -> None:
    asm = Assembler()
    far, near = Label("far"), Label("near")
    asm.load(bpf.SECCOMP_DATA_NR)
    asm.jump(bpf.JEQ_K, 1, jt=far)
    asm.jump(bpf.JEQ_K, 2, jt=far, jf=near)  # both targets beyond 255 instructions
    for _ in range(300):
        asm.ret(ERRNO(1))
    asm.place(near)
    asm.ret(ERRNO(2))
    for _ in range(300):
        asm.ret(ERRNO(3))
    asm.place(far)
    asm.ret(ALLOW)
    program = asm.assemble()
    assert sum(i.code == bpf.JA for i in program) == 3
    assert Action(evaluate(program, 1, X64)) == ALLOW
    assert Action(evaluate(program, 2, X64)) == ALLOW
    assert Action(evaluate(program, 3, X64)) == ERRNO(2)
    assert Action(evaluate(program, 0, X64)) == ERRNO(2)

    backwards = Assembler()
    back = Label("back")
    backwards.place(back)
    backwards.load(0)
    backwards.jump(bpf.JEQ_K, 0, jt=back)
    backwards.ret(ALLOW)
    with pytest.raises(SeccompFilterError):
        backwards.assemble()
    unplaced = Assembler()
    unplaced.jump(bpf.JEQ_K, 0, jt=Label("nowhere"))
    unplaced.ret(ALLOW)
    with pytest.raises(SeccompFilterError):
        unplaced.assemble()


def test_interpreter_covers_the_seccomp_instruction_set() -> None:
    s, j = bpf.stmt, bpf.jump
    alu = bpf.BPF_ALU
    # A = (args[1].low & 0xff) + nr; M[0] = A; X = 3; A = A << X; A = A | M[0] ... ret A
    program = FilterProgram(
        (
            s(bpf.LD_ABS, bpf.seccomp_data_arg_lo(1)),
            s(bpf.AND_K, 0xFF),
            s(bpf.BPF_MISC | bpf.BPF_TAX),
            s(bpf.LD_ABS, bpf.SECCOMP_DATA_NR),
            s(alu | bpf.BPF_ADD | bpf.BPF_X),
            s(bpf.BPF_ST, 0),
            s(bpf.BPF_LDX | bpf.BPF_IMM, 3),
            s(alu | bpf.BPF_LSH | bpf.BPF_X),
            s(bpf.BPF_LDX | bpf.BPF_MEM, 0),
            s(alu | bpf.BPF_OR | bpf.BPF_X),
            j(bpf.JSET_K, 0x100, 0, 1),
            s(bpf.RET_K, ERRNO(99).value),
            s(alu | bpf.BPF_SUB | bpf.BPF_K, 1),
            s(alu | bpf.BPF_NEG),
            s(alu | bpf.BPF_XOR | bpf.BPF_K, U32),
            s(bpf.BPF_ALU | bpf.BPF_RSH | bpf.BPF_K, 0),
            s(bpf.BPF_RET | bpf.BPF_A),
        )
    )
    # args[1] low byte 0x12 + nr 5 = 0x17; (0x17 << 3) | 0x17 = 0xbf; no 0x100 bit;
    # -(0xbf - 1) ^ 0xffffffff = 0xbd
    assert evaluate(program, 5, X64, args=(0, 0xABCDEF12)) == 0xBD
    # 0x21 + 0xff = 0x120 -> (0x120 << 3) | 0x120 has 0x100 set
    assert evaluate(program, 0x21, X64, args=(0, 0xFF)) == ERRNO(99).value

    divide = FilterProgram(
        (s(bpf.BPF_LDX | bpf.BPF_IMM, 0), s(bpf.BPF_ALU | bpf.BPF_DIV | bpf.BPF_X), RET_ALLOW)
    )
    assert evaluate(divide, 0, X64) == 0  # run-time division by zero returns 0
    uninitialised = FilterProgram((s(bpf.BPF_LD | bpf.BPF_MEM, 3), s(bpf.BPF_RET | bpf.BPF_A)))
    with pytest.raises(SeccompFilterError):
        evaluate(uninitialised, 0, X64)
    fields = FilterProgram(
        (
            s(bpf.LD_ABS, bpf.SECCOMP_DATA_IP_HI),
            j(bpf.JEQ_K, 0x11223344, 0, 3),
            s(bpf.LD_ABS, bpf.SECCOMP_DATA_IP_LO),
            j(bpf.JEQ_K, 0x55667788, 0, 1),
            s(bpf.RET_K, TRAP.value),
            RET_ALLOW,
        )
    )
    assert evaluate(fields, 0, X64, ip=0x1122334455667788) == TRAP.value
    assert evaluate(fields, 0, X64, ip=0x5566778811223344) == ALLOW.value


def test_disassembly_annotations() -> None:
    program = build_filter(
        {(X64, NR_GETPPID): ERRNO(errno.EACCES)}, ALLOW, allow_ip_range=(0x1000, 0x2000)
    )
    lines = program.disassemble().splitlines()
    assert len(lines) == len(program)
    assert lines[0].startswith(" 0: ld [12]") and "instruction_pointer (high)" in lines[0]
    assert any("jt" in line and "jf" in line for line in lines)


# -- the real kernel ---------------------------------------------------------------------------

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
LIBC.prctl.restype = ctypes.c_int
LIBC.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
LIBC.mmap.restype = ctypes.c_void_p
LIBC.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
LIBC.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]

PR_SET_NO_NEW_PRIVS = 38
SYS_SECCOMP = 317
SECCOMP_SET_MODE_FILTER = 1
PAGE = 4096

REPORT = struct.Struct("<qqq")  # kind, value, errno
KIND_RESULT, KIND_INSTALL_FAILED, KIND_CHILD_ERROR = 1, 2, 3


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@dataclass(frozen=True)
class Outcome:
    """How the child ended, and what the call under test returned if it got to report it."""

    pid: int
    value: int | None  # the callable's result; None: it never reported (killed, or argv mode)
    errno: int  # errno after a -1 result, else 0
    signal: int | None  # the signal that ended the child
    exit_code: int | None

    @property
    def killed_by_sigsys(self) -> bool:
        return self.signal == signal.SIGSYS and self.value is None


def raw_syscall(nr: int, *args: int) -> Callable[[], int]:
    """A callable for the child: syscall(nr, args...) through libc, -1 and errno on failure."""
    fn = LIBC.syscall
    cargs = [ctypes.c_long(a) for a in args]
    return lambda: int(fn(ctypes.c_long(nr), *cargs))


def run_with_filter(
    program: FilterProgram,
    target: Sequence[str] | Callable[[], int],
    *,
    timeout: float = 10.0,
) -> Outcome:
    """Fork; the child sets no_new_privs, installs ``program`` with seccomp(2), then either
    calls ``target()`` and writes the result (and errno after -1) to a pipe, or execs argv
    ``target``. The parent collects the report and the exit status. Only the child ever has
    the filter: nothing is installed in the test process.
    """
    raw = program.to_bytes()
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = SockFprog(len(program), ctypes.cast(buf, ctypes.c_void_p))
    rfd, wfd = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 127
        try:
            os.close(rfd)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGSYS must not leave a core
            if LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
                os.write(wfd, REPORT.pack(KIND_INSTALL_FAILED, 1, ctypes.get_errno()))
                os._exit(code)
            if (
                LIBC.syscall(
                    ctypes.c_long(SYS_SECCOMP),
                    ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                    ctypes.c_long(0),
                    ctypes.byref(fprog),
                )
                != 0
            ):
                os.write(wfd, REPORT.pack(KIND_INSTALL_FAILED, 2, ctypes.get_errno()))
                os._exit(code)
            # The filter is on: from here only the call under test, write and exit_group.
            if callable(target):
                value = target()
                err = ctypes.get_errno() if value == -1 else 0
                os.write(wfd, REPORT.pack(KIND_RESULT, value, err))
                code = 0
            else:
                os.execv(target[0], list(target))
        except OSError as exc:
            os.write(wfd, REPORT.pack(KIND_CHILD_ERROR, 0, exc.errno or 0))
        finally:
            os._exit(code)
    os.close(wfd)
    deadline = time.monotonic() + timeout
    try:
        data = _read_until_eof(rfd, deadline)
    finally:
        os.close(rfd)
    status = _wait(pid, deadline)
    value, err = None, 0
    if data:
        assert len(data) == REPORT.size, f"short report from the child: {data!r}"
        kind, got, err = REPORT.unpack(data)
        if kind == KIND_INSTALL_FAILED:
            step = "prctl(PR_SET_NO_NEW_PRIVS)" if got == 1 else "seccomp(SET_MODE_FILTER)"
            pytest.fail(f"{step} failed in the child: {os.strerror(err)}\n{program.disassemble()}")
        assert kind == KIND_RESULT, f"child failed before reporting: {os.strerror(err)}"
        value = got
    return Outcome(
        pid=pid,
        value=value,
        errno=err,
        signal=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    )


def _read_until_eof(fd: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            pytest.fail("the filtered child neither reported nor exited in time")
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _wait(pid: int, deadline: float) -> int:
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    if not ready:
        pytest.fail(f"the filtered child {pid} did not exit in time; killed it")
    return status


PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_PRIVATE, MAP_ANONYMOUS = 0x02, 0x20

# mov eax, 20 ; int 0x80 ; ret        -> i386 getpid through the compat entry
INT80_GETPID = b"\xb8\x14\x00\x00\x00\xcd\x80\xc3"
# mov eax, 110 ; syscall ; ret        -> x86_64 getppid from a known address
SYSCALL_GETPPID = b"\xb8\x6e\x00\x00\x00\x0f\x05\xc3"


@dataclass(frozen=True)
class Stub:
    address: int
    size: int
    call: Callable[[], int]


@pytest.fixture(scope="module")
def stubs() -> Iterator[dict[str, Stub]]:
    """Machine-code stubs, each in its own read+exec page (written first, then mprotected)."""
    made: dict[str, Stub] = {}
    pages: list[int] = []
    try:
        for name, code, restype in (
            ("int80_getpid", INT80_GETPID, ctypes.c_int),  # eax only: a 32-bit result
            ("syscall_getppid", SYSCALL_GETPPID, ctypes.c_long),
        ):
            addr = LIBC.mmap(None, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if addr in (None, ctypes.c_void_p(-1).value):
                pytest.skip(f"mmap failed: {os.strerror(ctypes.get_errno())}")
            pages.append(addr)
            ctypes.memmove(addr, code, len(code))
            if LIBC.mprotect(addr, PAGE, PROT_READ | PROT_EXEC) != 0:
                pytest.skip(
                    f"cannot make a code page executable: {os.strerror(ctypes.get_errno())}"
                )
            fn = ctypes.CFUNCTYPE(restype)(addr)
            made[name] = Stub(addr, len(code), lambda fn=fn: int(fn()))
        yield made
    finally:
        for addr in pages:
            LIBC.munmap(addr, PAGE)


ALLOW_ALL = FilterProgram((RET_ALLOW,))


@pytest.fixture(scope="module")
def int80(stubs: dict[str, Stub]) -> Stub:
    """The int $0x80 getpid stub, if this kernel runs i386 calls from 64-bit processes."""
    stub = stubs["int80_getpid"]
    probe = run_with_filter(ALLOW_ALL, stub.call)
    if probe.value != probe.pid:
        pytest.skip(f"int $0x80 does not work here (IA32 emulation off?): {probe}")
    return stub


def test_kernel_getppid_denied_getpid_still_works() -> None:
    program = build_filter({(X64, NR_GETPPID): ERRNO(errno.EACCES)}, ALLOW)
    denied = run_with_filter(program, raw_syscall(NR_GETPPID))
    assert (denied.value, denied.errno, denied.exit_code) == (-1, errno.EACCES, 0)
    allowed = run_with_filter(program, raw_syscall(NR_GETPID))
    assert (allowed.value, allowed.errno, allowed.exit_code) == (allowed.pid, 0, 0)


def test_kernel_default_errno_with_an_allowlist() -> None:
    rules = allowlist(
        "write",
        "exit_group",
        "exit",
        "getpid",
        "brk",
        "mmap",
        "munmap",
        "mremap",
        "madvise",
        "rt_sigprocmask",
        "rt_sigaction",
        "futex",
    )
    program = build_filter(rules, ERRNO(errno.EPERM))
    allowed = run_with_filter(program, raw_syscall(NR_GETPID))
    assert (allowed.value, allowed.exit_code) == (allowed.pid, 0)
    denied = run_with_filter(program, raw_syscall(NR_GETPPID))
    assert (denied.value, denied.errno, denied.exit_code) == (-1, errno.EPERM, 0)
    # uname is not on the list: it fails instead of filling the buffer
    buf = ctypes.create_string_buffer(65 * 6)
    uname = run_with_filter(program, lambda: int(LIBC.syscall(ctypes.c_long(63), buf)))
    assert (uname.value, uname.errno) == (-1, errno.EPERM)


def test_kernel_kill_process_is_sigsys() -> None:
    program = build_filter({(X64, NR_GETPPID): KILL_PROCESS}, ALLOW)
    outcome = run_with_filter(program, raw_syscall(NR_GETPPID))
    assert outcome.killed_by_sigsys, outcome


def test_kernel_x32_syscall_is_killed() -> None:
    program = build_filter({}, ALLOW)
    outcome = run_with_filter(program, raw_syscall(NR_GETPID | X32_SYSCALL_BIT))
    assert outcome.killed_by_sigsys, outcome
    # without the filter the same call is just refused (no x32 here) or runs: it is the filter
    control = run_with_filter(ALLOW_ALL, raw_syscall(NR_GETPID | X32_SYSCALL_BIT))
    assert control.signal is None and control.value in (-1, control.pid)


def test_kernel_i386_call_is_decided_by_the_i386_section(int80: Stub) -> None:
    deny_i386 = build_filter({(I386, I386_NR_GETPID): ERRNO(errno.EACCES)}, ALLOW)
    outcome = run_with_filter(deny_i386, int80.call)
    assert outcome.value == -errno.EACCES  # int $0x80 returns -errno in eax
    assert run_with_filter(deny_i386, raw_syscall(NR_GETPID)).errno == 0

    # x86_64 20 (writev) killed, x86_64 getpid denied: the i386 getpid still runs.
    deny_x64 = build_filter(
        {(X64, I386_NR_GETPID): KILL_PROCESS, (X64, NR_GETPID): ERRNO(errno.EACCES)}, ALLOW
    )
    outcome = run_with_filter(deny_x64, int80.call)
    assert outcome.value == outcome.pid
    assert run_with_filter(deny_x64, raw_syscall(NR_GETPID)).errno == errno.EACCES


def test_kernel_i386_kill_mode(int80: Stub) -> None:
    program = build_filter({(I386, I386_NR_GETPID): ALLOW}, ALLOW, i386="kill")
    assert run_with_filter(program, int80.call).killed_by_sigsys
    ok = run_with_filter(program, raw_syscall(NR_GETPID))
    assert ok.value == ok.pid


def test_kernel_ip_range_allows_calls_from_trusted_code(stubs: dict[str, Stub]) -> None:
    stub = stubs["syscall_getppid"]
    program = build_filter(
        {(X64, NR_GETPPID): ERRNO(errno.EPERM)},
        ALLOW,
        allow_ip_range=(stub.address, stub.address + stub.size),
    )
    trusted = run_with_filter(program, stub.call)
    assert trusted.value == os.getpid()  # the child's parent is this test process
    outside = run_with_filter(program, raw_syscall(NR_GETPPID))
    assert (outside.value, outside.errno) == (-1, errno.EPERM)


def test_kernel_ip_range_comes_before_the_arch_check(int80: Stub) -> None:
    """Trusted code is trusted for every ABI: even with i386="kill" it may use int $0x80."""
    program = build_filter(
        {}, ALLOW, i386="kill", allow_ip_range=(int80.address, int80.address + PAGE)
    )
    outcome = run_with_filter(program, int80.call)
    assert outcome.value == outcome.pid


def test_kernel_accepts_long_jumps_and_near_limit_programs() -> None:
    for stop in (700, 2030):
        rules = {(X64, nr): ERRNO(1 + nr % 2) for nr in range(stop)}
        rules.update({(X64, nr): ALLOW for nr in (NR_WRITE, NR_GETPID, 60, 231)})
        rules[(X64, NR_GETPPID)] = ERRNO(errno.EACCES)
        program = build_filter(rules, KILL_PROCESS, i386="kill")
        assert any(i.code == bpf.JA for i in program)
        allowed = run_with_filter(program, raw_syscall(NR_GETPID))
        assert allowed.value == allowed.pid, len(program)
        denied = run_with_filter(program, raw_syscall(NR_GETPPID))
        assert (denied.value, denied.errno) == (-1, errno.EACCES)
        odd = run_with_filter(program, raw_syscall(3, -1))  # close(-1): rule ERRNO(2)
        assert (odd.value, odd.errno) == (-1, 2)
    assert len(program) > 4000


def test_kernel_accepts_exactly_bpf_maxinsns() -> None:
    """Odd numbers (write, getpid, exit_group) allowed, even ones (getppid) ERRNO(EPERM)."""
    program = build_filter(alternating([X64], stop=2042), ALLOW, i386="kill")
    assert len(program) == BPF_MAXINSNS
    allowed = run_with_filter(program, raw_syscall(NR_GETPID))
    assert allowed.value == allowed.pid
    denied = run_with_filter(program, raw_syscall(NR_GETPPID))
    assert (denied.value, denied.errno) == (-1, errno.EPERM)
    with pytest.raises(FilterTooLargeError):
        build_filter(alternating([X64], stop=2043), ALLOW, i386="kill")


def test_kernel_filter_survives_exec(progs, capfd) -> None:
    program = build_filter({(X64, NR_GETPPID): ERRNO(errno.EACCES)}, ALLOW)
    outcome = run_with_filter(program, [progs["report"], "getppid"])
    assert outcome.exit_code == 0
    assert capfd.readouterr().out == "getppid ret=-1 errno=13\n"
