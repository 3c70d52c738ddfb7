"""Run a seccomp BPF program in Python: what would the kernel's filter return for this call?

:func:`evaluate` interprets every instruction seccomp accepts (loads from ``seccomp_data``,
scratch memory, 32-bit ALU, conditional and unconditional jumps, ``ret``) with the kernel's
semantics, so tests can check a builder's output over every syscall number without loading it.
It never executes anything for real.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

from splitpriv.seccomp.bpf import (
    BPF_A,
    BPF_ADD,
    BPF_ALU,
    BPF_AND,
    BPF_DIV,
    BPF_IMM,
    BPF_JEQ,
    BPF_JGE,
    BPF_JGT,
    BPF_JMP,
    BPF_JSET,
    BPF_K,
    BPF_LD,
    BPF_LDX,
    BPF_LEN,
    BPF_LSH,
    BPF_MEM,
    BPF_MEMWORDS,
    BPF_MISC,
    BPF_MUL,
    BPF_NEG,
    BPF_OR,
    BPF_RET,
    BPF_RSH,
    BPF_ST,
    BPF_STX,
    BPF_SUB,
    BPF_TAX,
    BPF_TXA,
    BPF_W,
    BPF_X,
    BPF_XOR,
    JA,
    LD_ABS,
    SECCOMP_DATA_SIZE,
    FilterProgram,
    bpf_op,
    bpf_src,
)
from splitpriv.seccomp.errors import SeccompFilterError

_U32: Final = 0xFFFFFFFF
_U64: Final = (1 << 64) - 1
_DATA: Final = struct.Struct("<II7Q")  # nr, arch, instruction_pointer, args[6] (x86: little)


def seccomp_data(nr: int, arch: int, ip: int = 0, args: Sequence[int] = (0,) * 6) -> bytes:
    """The 64-byte ``struct seccomp_data`` the kernel hands a filter for this call.

    ``nr`` is the C ``int``: -1 becomes 0xffffffff. ``ip`` and each argument are 64-bit.
    """
    if len(args) > 6:
        raise SeccompFilterError(f"a syscall has at most 6 arguments, not {len(args)}")
    full = [a & _U64 for a in args] + [0] * (6 - len(args))
    return _DATA.pack(nr & _U32, arch & _U32, ip & _U64, *full)


def evaluate(
    program: FilterProgram | bytes,
    nr: int,
    arch: int,
    ip: int = 0,
    args: Sequence[int] = (0,) * 6,
) -> int:
    """The 32-bit value ``program`` returns for syscall ``nr`` of ``arch`` made from ``ip``.

    Decode the result with ``Action(result)``. ``program`` may also be the raw bytes of a
    ``struct sock_filter`` array (they are checked as the kernel would first).
    """
    if isinstance(program, bytes | bytearray):
        program = FilterProgram.from_bytes(bytes(program))
    return run(program, seccomp_data(nr, arch, ip, args))


def run(program: FilterProgram, data: bytes) -> int:
    """Interpret ``program`` over a raw ``seccomp_data`` buffer; returns the 32-bit result."""
    if len(data) != SECCOMP_DATA_SIZE:
        raise SeccompFilterError(f"seccomp_data is {SECCOMP_DATA_SIZE} bytes, not {len(data)}")
    insns = program.instructions
    a = x = 0
    mem: list[int | None] = [None] * BPF_MEMWORDS
    pc = 0
    while True:
        insn = insns[pc]  # a checked program ends with ret and never jumps past it
        code, k = insn.code, insn.k
        pc += 1
        cls = code & 0x07
        if code == LD_ABS:
            a = int.from_bytes(data[k : k + 4], "little")
        elif cls == BPF_RET:
            return k if code == BPF_RET | BPF_K else a if code == BPF_RET | BPF_A else _bad(insn)
        elif cls == BPF_JMP:
            if code == JA:
                pc += k
                continue
            operand = x if bpf_src(code) == BPF_X else k
            op = bpf_op(code)
            if op == BPF_JEQ:
                taken = a == operand
            elif op == BPF_JGT:
                taken = a > operand
            elif op == BPF_JGE:
                taken = a >= operand
            elif op == BPF_JSET:
                taken = bool(a & operand)
            else:
                _bad(insn)
            pc += insn.jt if taken else insn.jf
        elif cls == BPF_ALU:
            op = bpf_op(code)
            if op == BPF_NEG:
                a = -a & _U32
                continue
            operand = x if bpf_src(code) == BPF_X else k
            if op == BPF_DIV:
                if operand == 0:
                    return 0  # the kernel ends the program with 0 (SECCOMP_RET_KILL_THREAD)
                a //= operand
            elif op in _ALU:
                a = _ALU[op](a, operand) & _U32
            else:
                _bad(insn)
        elif code == BPF_LD | BPF_IMM:
            a = k
        elif code == BPF_LDX | BPF_IMM:
            x = k
        elif code in (BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN):
            if cls == BPF_LD:
                a = SECCOMP_DATA_SIZE
            else:
                x = SECCOMP_DATA_SIZE
        elif code in (BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM):
            word = mem[k]
            if word is None:
                raise SeccompFilterError(f"instruction {pc - 1} reads M[{k}] before any store")
            if cls == BPF_LD:
                a = word
            else:
                x = word
        elif code == BPF_ST:
            mem[k] = a
        elif code == BPF_STX:
            mem[k] = x
        elif code == BPF_MISC | BPF_TAX:
            x = a
        elif code == BPF_MISC | BPF_TXA:
            a = x
        else:
            _bad(insn)


_ALU: Final[dict[int, Callable[[int, int], int]]] = {
    BPF_ADD: lambda a, b: a + b,
    BPF_SUB: lambda a, b: a - b,
    BPF_MUL: lambda a, b: a * b,
    BPF_OR: lambda a, b: a | b,
    BPF_AND: lambda a, b: a & b,
    BPF_XOR: lambda a, b: a ^ b,
    BPF_LSH: lambda a, b: a << (b & 31),
    BPF_RSH: lambda a, b: a >> (b & 31),
}


def _bad(insn: object) -> NoReturn:
    raise SeccompFilterError(f"cannot interpret {insn!r}")
