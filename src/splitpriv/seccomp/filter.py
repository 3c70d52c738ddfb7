"""Compile per-syscall actions into one compact seccomp filter.

The program has this shape (``disassemble()`` shows it)::

    [ip in [start, end)?  -> ret ALLOW]         optional, before anything else; with
                                                ip_range_refused or ip_range_guards, a
                                                section of its own (below) instead
    ld arch
    jeq AUDIT_ARCH_X86_64 -> x86_64
    jeq AUDIT_ARCH_I386   -> i386               only with i386="check"
    ret KILL_PROCESS                            any other arch (and i386 with i386="kill")
  x86_64:
    ld nr
    jge 0x40000000 -> ret KILL_PROCESS          the x32 ABI
    <binary search over the x86_64 ranges>
  i386:
    ld nr
    <binary search over the i386 ranges>

Each arch's numbers are cut into maximal runs of one action (numbers without a rule get the
default), covering every 32-bit value. A balanced binary search over the run boundaries
(``jge``, one per internal node; a leaf is ``ret``) decides in about log2(runs) jumps, with
2 * runs - 1 instructions: the size follows the number of runs, not the number of syscalls. Jumps
that would exceed 255 instructions get ``ja`` trampolines from :class:`~.bpf.Assembler`.

strace's ``filter_seccomp.c`` (linear ranges, or a bitmap tested with ``jset``; it gives up
when a jump would not fit in 8 bits) is the model; the tree and the trampolines are what let
this builder handle any number of distinct actions.

The trusted code range may be narrowed to the calls that code really makes: a call from it is
then allowed unless its (arch, nr) is in ``ip_range_refused`` or one of ``ip_range_guards``
(arch, nr, argument, value) matches the low 32 bits of that argument (int arguments such as a
signal number or a prctl option: the kernel ignores the high bits), and killed otherwise::

  ip section:
    ld arch; jeq AUDIT_ARCH_X86_64 / AUDIT_ARCH_I386, else ret KILL_PROCESS
    [ld nr; jeq NR, else next; ld args[i] (low); jeq VALUE -> ret KILL_PROCESS]   per guard
    ld nr; [jge 0x40000000 -> ret KILL_PROCESS]; <binary search: refused -> KILL_PROCESS>
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final, Literal

from splitpriv._values import value_class
from splitpriv.seccomp.actions import ALLOW, KILL_PROCESS, Action
from splitpriv.seccomp.bpf import (
    BPF_MAXINSNS,
    JEQ_K,
    JGE_K,
    JGT_K,
    SECCOMP_DATA_ARCH,
    SECCOMP_DATA_IP_HI,
    SECCOMP_DATA_IP_LO,
    SECCOMP_DATA_NR,
    Assembler,
    FilterProgram,
    Label,
    seccomp_data_arg_lo,
)
from splitpriv.seccomp.errors import FilterTooLargeError, SeccompFilterError
from splitpriv.syscalls import AUDIT_ARCH_I386, AUDIT_ARCH_X86_64

# A 64-bit process reaches the x32 ABI by setting this bit in the syscall number.
X32_SYSCALL_BIT: Final = 0x40000000

I386Mode = Literal["check", "kill"]

_U32: Final = 0xFFFFFFFF
_U64: Final = (1 << 64) - 1
_NR_LIMITS: Final = {AUDIT_ARCH_X86_64: X32_SYSCALL_BIT, AUDIT_ARCH_I386: 1 << 32}


@value_class
class NrRange:
    """Syscall numbers ``start <= nr < stop`` that all get ``action``."""

    start: int
    stop: int
    action: Action


def action_ranges(actions: Mapping[int, Action], default: Action, stop: int) -> list[NrRange]:
    """Cut ``0 <= nr < stop`` into maximal runs of one action (``default`` where no rule)."""
    out: list[NrRange] = []

    def add(start: int, end: int, action: Action) -> None:
        if out and out[-1].action == action:
            out[-1] = NrRange(out[-1].start, end, action)
        else:
            out.append(NrRange(start, end, action))

    pos = 0
    for nr in sorted(actions):
        if nr > pos:
            add(pos, nr, default)
        add(nr, nr + 1, actions[nr])
        pos = nr + 1
    if pos < stop:
        add(pos, stop, default)
    return out


def build_filter(
    rules: Mapping[tuple[int, int], Action],
    default: Action,
    *,
    allow_ip_range: tuple[int, int] | None = None,
    ip_range_refused: Collection[tuple[int, int]] = (),
    ip_range_guards: Collection[tuple[int, int, int, int]] = (),
    i386: I386Mode = "check",
) -> FilterProgram:
    """A seccomp program giving ``rules[(arch, nr)]`` to each call, ``default`` to the rest.

    ``rules`` are keyed like :mod:`splitpriv.policy`'s: (AUDIT_ARCH_X86_64 or AUDIT_ARCH_I386,
    number). x86_64 numbers must be below the x32 bit, which is always refused.

    ``allow_ip_range=(start, end)``: any syscall whose instruction pointer (the address after
    the syscall instruction) lies in ``[start, end)`` is allowed before anything else is
    checked, whatever its arch or number: that code is trusted. ``ip_range_refused`` (keys
    like ``rules``) and ``ip_range_guards`` ((arch, nr, argument index, value) tuples) narrow
    that trust: those calls from the range kill the process (see the module docstring).

    ``i386``: ``"check"`` gives ``int $0x80`` calls their own section, decided by the i386
    rules and the default; ``"kill"`` kills the process on any i386 call (its rules are then
    not used). Any other arch is always killed.

    Raises :class:`SeccompFilterError` for malformed input and :class:`FilterTooLargeError`
    when the program would exceed 4096 instructions.
    """
    if not isinstance(default, Action):
        raise SeccompFilterError(f"default must be a seccomp Action, not {default!r}")
    if i386 not in ("check", "kill"):
        raise SeccompFilterError(f'i386 must be "check" or "kill", not {i386!r}')
    per_arch: dict[int, dict[int, Action]] = {AUDIT_ARCH_X86_64: {}, AUDIT_ARCH_I386: {}}
    for key, action in rules.items():
        arch, nr = _check_key(key)
        if not isinstance(action, Action):
            raise SeccompFilterError(f"rule {key!r}: expected a seccomp Action, not {action!r}")
        per_arch[arch][nr] = action
    ip_range = None if allow_ip_range is None else _check_ip_range(allow_ip_range)
    refused = [_check_key(key) for key in ip_range_refused]
    guards = [_check_guard(guard) for guard in ip_range_guards]
    if (refused or guards) and ip_range is None:
        raise SeccompFilterError("ip_range_refused and ip_range_guards need allow_ip_range")

    ranges64 = action_ranges(per_arch[AUDIT_ARCH_X86_64], default, X32_SYSCALL_BIT)
    ranges32 = action_ranges(per_arch[AUDIT_ARCH_I386], default, 1 << 32) if i386 == "check" else []
    detail = f"{len(ranges64)} x86_64 ranges, {len(ranges32)} i386 ranges"
    # Two search trees alone need 2 * ranges - 1 instructions each: fail before assembling.
    floor = 2 * len(ranges64) - 1 + max(0, 2 * len(ranges32) - 1)
    if floor > BPF_MAXINSNS:
        raise FilterTooLargeError(floor, BPF_MAXINSNS, detail)

    asm = Assembler()
    if ip_range is not None and not (refused or guards):
        _emit_ip_allow(asm, *ip_range)
    trusted = Label("trusted range")
    if ip_range is not None and (refused or guards):
        _emit_ip_allow(asm, *ip_range, inside=trusted)

    x86_64, i386_section = Label("x86_64"), Label("i386")
    asm.load(SECCOMP_DATA_ARCH)
    asm.jump(JEQ_K, AUDIT_ARCH_X86_64, jt=x86_64)
    if i386 == "check":
        asm.jump(JEQ_K, AUDIT_ARCH_I386, jt=i386_section)
    asm.ret(KILL_PROCESS)

    asm.place(x86_64)
    asm.load(SECCOMP_DATA_NR)
    native = Label("x86_64 numbers")
    asm.jump(JGE_K, X32_SYSCALL_BIT, jf=native)
    asm.ret(KILL_PROCESS)
    asm.place(native)
    _emit_search(asm, ranges64, 0, len(ranges64))

    if i386 == "check":
        asm.place(i386_section)
        if len(ranges32) > 1:
            asm.load(SECCOMP_DATA_NR)
        _emit_search(asm, ranges32, 0, len(ranges32))
    if ip_range is not None and (refused or guards):
        _emit_trusted_section(asm, trusted, refused, guards)  # last: BPF only jumps forward

    try:
        return asm.assemble()
    except FilterTooLargeError as exc:
        raise FilterTooLargeError(exc.length, exc.limit, f"{detail}; {exc.detail}") from None


def _check_key(key: object) -> tuple[int, int]:
    if not (isinstance(key, tuple) and len(key) == 2 and all(_is_int(v) for v in key)):
        raise SeccompFilterError(f"rule keys are (audit arch, number) pairs, not {key!r}")
    arch, nr = key
    limit = _NR_LIMITS.get(arch)
    if limit is None:
        raise SeccompFilterError(
            f"rule {key!r}: arch 0x{arch:x} is neither AUDIT_ARCH_X86_64 nor AUDIT_ARCH_I386"
        )
    if not 0 <= nr < limit:
        why = " (x32 numbers are always killed)" if arch == AUDIT_ARCH_X86_64 else ""
        raise SeccompFilterError(f"rule {key!r}: number out of range 0..{limit - 1}{why}")
    return arch, nr


def _check_ip_range(ip_range: object) -> tuple[int, int]:
    if not (
        isinstance(ip_range, tuple) and len(ip_range) == 2 and all(_is_int(v) for v in ip_range)
    ):
        raise SeccompFilterError(f"allow_ip_range is a (start, end) pair, not {ip_range!r}")
    start, end = ip_range
    if not 0 <= start < end <= 1 << 64:
        raise SeccompFilterError(
            f"allow_ip_range [0x{start:x}, 0x{end:x}) must be non-empty and within 64 bits"
        )
    if start == 0 and end == 1 << 64:
        raise SeccompFilterError("allow_ip_range covers every address: the filter would be a no-op")
    return start, end


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_guard(guard: object) -> tuple[int, int, int, int]:
    if not (isinstance(guard, tuple) and len(guard) == 4 and all(_is_int(v) for v in guard)):
        raise SeccompFilterError(f"a guard is (arch, nr, argument, value), not {guard!r}")
    arch, nr = _check_key(guard[:2])
    index, value = guard[2], guard[3]
    seccomp_data_arg_lo(index)  # raises for an argument that does not exist
    if not 0 <= value <= _U32:
        raise SeccompFilterError(f"a guard compares 32 bits, not {value!r}")
    return arch, nr, index, value


def _emit_trusted_section(
    asm: Assembler,
    section: Label,
    refused: list[tuple[int, int]],
    guards: list[tuple[int, int, int, int]],
) -> None:
    """The decision for calls from the trusted range: refused calls and matching guards are
    killed, the rest allowed. Emitted after everything else."""
    asm.place(section)
    kill = Label("trusted range: kill")
    asm.load(SECCOMP_DATA_ARCH)
    arch_labels = {arch: Label(f"trusted range, arch 0x{arch:x}") for arch in _NR_LIMITS}
    for arch, label in arch_labels.items():
        asm.jump(JEQ_K, arch, jt=label)
    asm.ret(KILL_PROCESS)
    for arch, label in arch_labels.items():
        asm.place(label)
        for g_arch, nr, index, value in guards:
            if g_arch != arch:
                continue
            other = Label(f"not guarded call {nr}")
            asm.load(SECCOMP_DATA_NR)
            asm.jump(JEQ_K, nr, jf=other)
            asm.load(seccomp_data_arg_lo(index))
            asm.jump(JEQ_K, value, jt=kill)
            asm.place(other)
        asm.load(SECCOMP_DATA_NR)
        if arch == AUDIT_ARCH_X86_64:
            asm.jump(JGE_K, X32_SYSCALL_BIT, jt=kill)
        ranges = action_ranges(
            {nr: KILL_PROCESS for a, nr in refused if a == arch}, ALLOW, _NR_LIMITS[arch]
        )
        _emit_search(asm, ranges, 0, len(ranges))
    asm.place(kill)
    asm.ret(KILL_PROCESS)


def _emit_ip_allow(asm: Assembler, start: int, end: int, inside: Label | None = None) -> None:
    """``if start <= ip < end: ret ALLOW``, on the 64-bit ip as two 32-bit words; or, with
    ``inside``, jump there instead of returning.

    Compared as ``start <= ip <= last`` (last = end - 1, so a range ending at 2**64 needs no
    upper check). The high word decides unless it equals the bound's high word; only then does
    the low word matter.
    """
    last = end - 1
    start_hi, start_lo = start >> 32, start & _U32
    last_hi, last_lo = last >> 32, last & _U32
    target = inside
    inside, outside = Label("ip inside"), Label("ip outside")
    here = inside
    if start_hi == last_hi:
        asm.load(SECCOMP_DATA_IP_HI)
        asm.jump(JEQ_K, start_hi, jf=outside)
        if start_lo > 0 or last_lo < _U32:
            asm.load(SECCOMP_DATA_IP_LO)
            if start_lo > 0:
                asm.jump(JGE_K, start_lo, jf=outside)
            if last_lo < _U32:
                asm.jump(JGT_K, last_lo, jt=outside, jf=inside)
    else:
        if start > 0:
            asm.load(SECCOMP_DATA_IP_HI)
            if start_lo == 0:
                asm.jump(JGE_K, start_hi, jf=outside)
            else:
                above = Label("ip high word above start's")
                asm.jump(JGT_K, start_hi, jt=above)
                asm.jump(JEQ_K, start_hi, jf=outside)
                asm.load(SECCOMP_DATA_IP_LO)
                asm.jump(JGE_K, start_lo, jf=outside)
                asm.place(above)
        if last < _U64:
            asm.load(SECCOMP_DATA_IP_HI)
            asm.jump(JGT_K, last_hi, jt=outside)
            if last_lo < _U32:
                asm.jump(JEQ_K, last_hi, jf=inside)
                asm.load(SECCOMP_DATA_IP_LO)
                asm.jump(JGT_K, last_lo, jt=outside)
    if target is None:
        asm.place(here)
        asm.ret(ALLOW)
    else:
        asm.place(here)
        asm.ja(target)
    asm.place(outside)


def _emit_search(asm: Assembler, ranges: list[NrRange], lo: int, hi: int) -> None:
    """Decide among ``ranges[lo:hi]`` (A holds nr): ``jge`` on the middle boundary, in preorder.

    The left half follows its node directly (jf = 0); jt skips over it, which is the only jump
    that can get long, and only near the root.
    """
    if hi - lo == 1:
        asm.ret(ranges[lo].action)
        return
    mid = (lo + hi) // 2
    upper = Label(f"nr >= {ranges[mid].start}")
    asm.jump(JGE_K, ranges[mid].start, jt=upper)
    _emit_search(asm, ranges, lo, mid)
    asm.place(upper)
    _emit_search(asm, ranges, mid, hi)
