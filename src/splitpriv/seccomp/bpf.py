"""Classic BPF as seccomp runs it: instruction encoding, programs, an assembler, a disassembler.

A program is an array of ``struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}`` (8 bytes each,
native byte order) that reads ``struct seccomp_data`` and ends in ``ret``. Classic BPF only jumps
forward; the conditional jumps' ``jt``/``jf`` offsets are 8 bits (at most 255 instructions
ahead), only ``ja`` has a 32-bit offset. :class:`Assembler` lets the filter builder jump to
labels and inserts ``ja`` trampolines where an 8-bit offset would not reach.

Nothing here touches a process: this is data in, bytes out.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from splitpriv._values import field, value_class
from splitpriv.seccomp.actions import Action
from splitpriv.seccomp.errors import FilterTooLargeError, SeccompFilterError
from splitpriv.syscalls import ARCHES

# Instruction classes (<linux/bpf_common.h>).
BPF_LD: Final = 0x00
BPF_LDX: Final = 0x01
BPF_ST: Final = 0x02
BPF_STX: Final = 0x03
BPF_ALU: Final = 0x04
BPF_JMP: Final = 0x05
BPF_RET: Final = 0x06
BPF_MISC: Final = 0x07

# ld/ldx: size and mode.
BPF_W: Final = 0x00
BPF_H: Final = 0x08
BPF_B: Final = 0x10
BPF_IMM: Final = 0x00
BPF_ABS: Final = 0x20
BPF_IND: Final = 0x40
BPF_MEM: Final = 0x60
BPF_LEN: Final = 0x80

# alu operations.
BPF_ADD: Final = 0x00
BPF_SUB: Final = 0x10
BPF_MUL: Final = 0x20
BPF_DIV: Final = 0x30
BPF_OR: Final = 0x40
BPF_AND: Final = 0x50
BPF_LSH: Final = 0x60
BPF_RSH: Final = 0x70
BPF_NEG: Final = 0x80
BPF_XOR: Final = 0xA0

# jmp operations.
BPF_JA: Final = 0x00
BPF_JEQ: Final = 0x10
BPF_JGT: Final = 0x20
BPF_JGE: Final = 0x30
BPF_JSET: Final = 0x40

# Operand source: the constant k, or the X register. ret may also return A.
BPF_K: Final = 0x00
BPF_X: Final = 0x08
BPF_A: Final = 0x10

# misc operations.
BPF_TAX: Final = 0x00
BPF_TXA: Final = 0x80

BPF_MAXINSNS: Final = 4096
BPF_MEMWORDS: Final = 16
MAX_JUMP: Final = 0xFF  # jt and jf are u8

# struct seccomp_data {int nr; u32 arch; u64 instruction_pointer; u64 args[6];}, little endian.
SECCOMP_DATA_NR: Final = 0
SECCOMP_DATA_ARCH: Final = 4
SECCOMP_DATA_IP_LO: Final = 8
SECCOMP_DATA_IP_HI: Final = 12
SECCOMP_DATA_ARGS: Final = 16
SECCOMP_DATA_SIZE: Final = 64


def seccomp_data_arg_lo(index: int) -> int:
    """Offset of the low 32 bits of syscall argument ``index`` (0..5)."""
    if not 0 <= index < 6:
        raise SeccompFilterError(f"syscalls have arguments 0..5, not {index}")
    return SECCOMP_DATA_ARGS + 8 * index


def seccomp_data_arg_hi(index: int) -> int:
    """Offset of the high 32 bits of syscall argument ``index`` (0..5)."""
    return seccomp_data_arg_lo(index) + 4


_FIELD_NAMES: Final[dict[int, str]] = {
    SECCOMP_DATA_NR: "nr",
    SECCOMP_DATA_ARCH: "arch",
    SECCOMP_DATA_IP_LO: "instruction_pointer (low)",
    SECCOMP_DATA_IP_HI: "instruction_pointer (high)",
    **{SECCOMP_DATA_ARGS + 8 * i: f"args[{i}] (low)" for i in range(6)},
    **{SECCOMP_DATA_ARGS + 8 * i + 4: f"args[{i}] (high)" for i in range(6)},
}

# Frequently used opcodes, spelled out.
LD_ABS: Final = BPF_LD | BPF_W | BPF_ABS
RET_K: Final = BPF_RET | BPF_K
JA: Final = BPF_JMP | BPF_JA
JEQ_K: Final = BPF_JMP | BPF_JEQ | BPF_K
JGT_K: Final = BPF_JMP | BPF_JGT | BPF_K
JGE_K: Final = BPF_JMP | BPF_JGE | BPF_K
JSET_K: Final = BPF_JMP | BPF_JSET | BPF_K
AND_K: Final = BPF_ALU | BPF_AND | BPF_K

# The opcodes the kernel's seccomp_check_filter() lets through (LEN loads are rewritten there).
SECCOMP_OPCODES: Final = frozenset(
    {
        LD_ABS,
        BPF_LD | BPF_W | BPF_LEN,
        BPF_LDX | BPF_W | BPF_LEN,
        BPF_LD | BPF_IMM,
        BPF_LDX | BPF_IMM,
        BPF_LD | BPF_MEM,
        BPF_LDX | BPF_MEM,
        BPF_ST,
        BPF_STX,
        BPF_MISC | BPF_TAX,
        BPF_MISC | BPF_TXA,
        BPF_RET | BPF_K,
        BPF_RET | BPF_A,
        BPF_ALU | BPF_NEG,
        JA,
    }
    | {
        BPF_ALU | op | src
        for op in (BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH)
        for src in (BPF_K, BPF_X)
    }
    | {BPF_JMP | op | src for op in (BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET) for src in (BPF_K, BPF_X)}
)

_STRUCT: Final = struct.Struct("=HBBI")  # struct sock_filter, native byte order, 8 bytes
INSTRUCTION_SIZE: Final = _STRUCT.size


def bpf_class(code: int) -> int:
    return code & 0x07


def bpf_op(code: int) -> int:
    return code & 0xF0


def bpf_src(code: int) -> int:
    return code & 0x08


def is_conditional_jump(code: int) -> bool:
    return bpf_class(code) == BPF_JMP and bpf_op(code) != BPF_JA


@value_class
class Instruction:
    """One ``struct sock_filter``. Field ranges are checked: they must fit the C struct."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0

    def __post_init__(self) -> None:
        for name, value, bits in (
            ("code", self.code, 16),
            ("jt", self.jt, 8),
            ("jf", self.jf, 8),
            ("k", self.k, 32),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
                raise SeccompFilterError(f"BPF {name} must fit in {bits} bits, not {value!r}")

    def pack(self) -> bytes:
        return _STRUCT.pack(self.code, self.jt, self.jf, self.k)

    @classmethod
    def unpack(cls, raw: bytes) -> Instruction:
        code, jt, jf, k = _STRUCT.unpack(raw)
        return cls(code, jt, jf, k)

    def text(self, pc: int) -> str:
        """This instruction at position ``pc``, in bpf_asm-like syntax with absolute targets."""
        code, k = self.code, self.k
        cls = bpf_class(code)
        if code == LD_ABS:
            return f"ld [{k}]"
        if code == BPF_LD | BPF_IMM:
            return f"ld #{_num(k)}"
        if code == BPF_LDX | BPF_IMM:
            return f"ldx #{_num(k)}"
        if code == BPF_LD | BPF_MEM:
            return f"ld M[{k}]"
        if code == BPF_LDX | BPF_MEM:
            return f"ldx M[{k}]"
        if code in (BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN):
            return "ld #len" if cls == BPF_LD else "ldx #len"
        if code == BPF_ST:
            return f"st M[{k}]"
        if code == BPF_STX:
            return f"stx M[{k}]"
        if code == BPF_MISC | BPF_TAX:
            return "tax"
        if code == BPF_MISC | BPF_TXA:
            return "txa"
        if code == RET_K:
            return f"ret #{_num(k)}"
        if code == BPF_RET | BPF_A:
            return "ret a"
        if cls == BPF_ALU:
            name = _ALU_NAMES.get(bpf_op(code), f"alu?{code:#x}")
            if bpf_op(code) == BPF_NEG:
                return name
            return f"{name} " + ("x" if bpf_src(code) == BPF_X else f"#{_num(k)}")
        if code == JA:
            return f"ja {pc + 1 + k}"
        if cls == BPF_JMP:
            name = _JMP_NAMES.get(bpf_op(code), f"j?{code:#x}")
            operand = "x" if bpf_src(code) == BPF_X else f"#{_num(k)}"
            return f"{name} {operand}  jt {pc + 1 + self.jt}  jf {pc + 1 + self.jf}"
        return f".insn code={code:#06x} jt={self.jt} jf={self.jf} k={k:#x}"

    def comment(self) -> str:
        """What a reader wants to know besides the instruction: field, action or arch name."""
        if self.code == LD_ABS:
            return _FIELD_NAMES.get(self.k, "")
        if self.code == RET_K:
            try:
                return Action(self.k).describe()
            except SeccompFilterError:
                return "not a seccomp action"
        if self.code == JEQ_K and self.k in ARCHES:
            return f"AUDIT_ARCH_{ARCHES[self.k].upper()}"
        return ""


_ALU_NAMES: Final = {
    BPF_ADD: "add",
    BPF_SUB: "sub",
    BPF_MUL: "mul",
    BPF_DIV: "div",
    BPF_OR: "or",
    BPF_AND: "and",
    BPF_LSH: "lsh",
    BPF_RSH: "rsh",
    BPF_NEG: "neg",
    BPF_XOR: "xor",
}
_JMP_NAMES: Final = {BPF_JEQ: "jeq", BPF_JGT: "jgt", BPF_JGE: "jge", BPF_JSET: "jset"}


def _num(k: int) -> str:
    return str(k) if k < 0x10000 else f"0x{k:x}"


def stmt(code: int, k: int = 0) -> Instruction:
    """A non-jump instruction (``BPF_STMT``)."""
    return Instruction(code, 0, 0, k)


def jump(code: int, k: int, jt: int, jf: int) -> Instruction:
    """A jump with relative offsets (``BPF_JUMP``); ``code`` may omit BPF_JMP."""
    return Instruction(code | BPF_JMP, jt, jf, k)


@value_class
class FilterProgram:
    """A complete classic-BPF program that the kernel's static checks would accept.

    Construction checks what ``bpf_check_classic()`` and ``seccomp_check_filter()`` check: 1 to
    4096 instructions, only seccomp's opcodes, aligned ``seccomp_data`` loads, jumps that stay
    inside the program, scratch memory indexes below 16, no division by a zero constant or shift
    by 32 or more, and a ``ret`` at the end. Too long raises :class:`FilterTooLargeError`,
    anything else :class:`SeccompFilterError`. (The kernel also rejects reads of scratch memory
    that no path stored first; :func:`~splitpriv.seccomp.evaluate` raises when one happens.)
    """

    instructions: tuple[Instruction, ...]

    def __post_init__(self) -> None:
        insns = self.instructions
        if not insns:
            raise SeccompFilterError("a BPF program needs at least one instruction")
        if len(insns) > BPF_MAXINSNS:
            raise FilterTooLargeError(len(insns), BPF_MAXINSNS)
        last = len(insns) - 1
        for pc, insn in enumerate(insns):
            _check(pc, insn, last)
        if bpf_class(insns[-1].code) != BPF_RET:
            raise SeccompFilterError("a BPF program must end with a ret instruction")

    @classmethod
    def from_bytes(cls, raw: bytes) -> FilterProgram:
        """Parse an array of ``struct sock_filter`` (as :meth:`to_bytes` wrote it)."""
        if len(raw) % INSTRUCTION_SIZE:
            raise SeccompFilterError(
                f"{len(raw)} bytes is not a whole number of {INSTRUCTION_SIZE}-byte instructions"
            )
        return cls(
            tuple(
                Instruction.unpack(raw[i : i + INSTRUCTION_SIZE])
                for i in range(0, len(raw), INSTRUCTION_SIZE)
            )
        )

    def to_bytes(self) -> bytes:
        """The ``struct sock_filter`` array for ``struct sock_fprog.filter``."""
        return b"".join(insn.pack() for insn in self.instructions)

    def __len__(self) -> int:
        return len(self.instructions)

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    def disassemble(self) -> str:
        """One line per instruction: position, bpf_asm-like text, and what it means."""
        width = len(str(len(self.instructions) - 1))
        lines = []
        for pc, insn in enumerate(self.instructions):
            text = f"{pc:>{width}}: {insn.text(pc)}"
            note = insn.comment()
            lines.append(f"{text:<40} ; {note}" if note else text)
        return "\n".join(lines)


def _check(pc: int, insn: Instruction, last: int) -> None:
    code, k = insn.code, insn.k
    where = f"instruction {pc} ({insn.text(pc)})"
    if code not in SECCOMP_OPCODES:
        raise SeccompFilterError(f"{where}: opcode {code:#06x} is not allowed in a seccomp filter")
    if code == LD_ABS and (k % 4 or k >= SECCOMP_DATA_SIZE):
        raise SeccompFilterError(f"{where}: seccomp_data loads must be aligned and below 64")
    if code in (BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX) and k >= BPF_MEMWORDS:
        raise SeccompFilterError(f"{where}: scratch memory has {BPF_MEMWORDS} words")
    if code == BPF_ALU | BPF_DIV | BPF_K and k == 0:
        raise SeccompFilterError(f"{where}: division by zero")
    if code in (BPF_ALU | BPF_LSH | BPF_K, BPF_ALU | BPF_RSH | BPF_K) and k >= 32:
        raise SeccompFilterError(f"{where}: shift by 32 or more")
    if code == JA:
        if pc + 1 + k > last:
            raise SeccompFilterError(f"{where}: jumps past the end of the program")
    elif is_conditional_jump(code):
        if pc + 1 + max(insn.jt, insn.jf) > last:
            raise SeccompFilterError(f"{where}: jumps past the end of the program")


class Label:
    """A jump target for :class:`Assembler`; place it exactly once, after every jump to it."""

    __slots__ = ("name",)

    def __init__(self, name: str = "") -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Label({self.name!r})"


@value_class(frozen=False, eq=False)
class _Op:
    code: int
    k: int
    jt: Label | None = None  # None: the next instruction
    jf: Label | None = None
    target: Label | None = None  # for ja


@value_class(frozen=False)
class Assembler:
    """Build a program with symbolic forward jumps; :meth:`assemble` lays it out.

    A conditional jump whose target is more than 255 instructions ahead gets a ``ja``
    trampoline right behind it (its ``jt`` or ``jf`` then points at the trampoline). Inserting
    trampolines moves code, so layout repeats until no new far jump appears; the set of far
    jumps only grows, so this ends.
    """

    _items: list[_Op | Label] = field(default_factory=list)
    _placed: set[Label] = field(default_factory=set)

    def stmt(self, code: int, k: int = 0) -> None:
        if bpf_class(code) == BPF_JMP:
            raise SeccompFilterError("use jump() or ja() for jumps")
        self._items.append(_Op(code, k))

    def load(self, offset: int) -> None:
        """``ld [offset]``: A = 32-bit word of seccomp_data."""
        self.stmt(LD_ABS, offset)

    def ret(self, action: Action) -> None:
        self.stmt(RET_K, action.value)

    def jump(self, code: int, k: int, jt: Label | None = None, jf: Label | None = None) -> None:
        """A conditional jump; a target of None means the instruction that follows."""
        code |= BPF_JMP
        if not is_conditional_jump(code):
            raise SeccompFilterError("jump() is for conditional jumps; use ja()")
        self._items.append(_Op(code, k, jt, jf))

    def ja(self, target: Label) -> None:
        self._items.append(_Op(JA, 0, target=target))

    def place(self, label: Label) -> None:
        if label in self._placed:
            raise SeccompFilterError(f"{label!r} placed twice")
        self._placed.add(label)
        self._items.append(label)

    def __len__(self) -> int:
        """Instructions so far, not counting trampolines."""
        return sum(1 for item in self._items if isinstance(item, _Op))

    def assemble(self) -> FilterProgram:
        items = self._items
        far: set[tuple[int, bool]] = set()  # (item index, True for jt / False for jf)
        while True:
            where, labels, length = self._layout(far)
            grew = False
            for i, item in enumerate(items):
                if not isinstance(item, _Op) or not is_conditional_jump(item.code):
                    continue
                nxt = where[i] + 1
                for is_jt, label in ((True, item.jt), (False, item.jf)):
                    if (i, is_jt) in far:
                        continue
                    tramps = ((i, True) in far) + ((i, False) in far)
                    target = self._target(label, labels, nxt + tramps)
                    if target - nxt > MAX_JUMP:
                        far.add((i, is_jt))
                        grew = True
            if not grew:
                break
        if length > BPF_MAXINSNS:
            raise FilterTooLargeError(length, BPF_MAXINSNS, f"{len(far)} of them jump trampolines")
        out: list[Instruction] = []
        for i, item in enumerate(items):
            if isinstance(item, Label):
                continue
            pc = where[i]
            if item.code == JA:
                assert item.target is not None
                target = self._target(item.target, labels, pc + 1)
                if target <= pc:
                    raise SeccompFilterError(f"ja to {item.target!r} goes backwards")
                out.append(Instruction(JA, 0, 0, target - pc - 1))
                continue
            if not is_conditional_jump(item.code):
                out.append(Instruction(item.code, 0, 0, item.k))
                continue
            tramp_labels = [
                lbl for is_jt, lbl in ((True, item.jt), (False, item.jf)) if (i, is_jt) in far
            ]
            nxt = pc + 1 + len(tramp_labels)
            offsets: list[int] = []
            slot = 0
            for is_jt, label in ((True, item.jt), (False, item.jf)):
                if (i, is_jt) in far:
                    offsets.append(slot)
                    slot += 1
                else:
                    target = self._target(label, labels, nxt)
                    if target <= pc:
                        raise SeccompFilterError(f"jump to {label!r} goes backwards")
                    offsets.append(target - pc - 1)
            out.append(Instruction(item.code, offsets[0], offsets[1], item.k))
            for n, label in enumerate(tramp_labels):
                assert label is not None  # "next" is never far away
                tramp_pc = pc + 1 + n
                out.append(Instruction(JA, 0, 0, self._target(label, labels, 0) - tramp_pc - 1))
        return FilterProgram(tuple(out))

    def _layout(self, far: set[tuple[int, bool]]) -> tuple[dict[int, int], dict[Label, int], int]:
        where: dict[int, int] = {}
        labels: dict[Label, int] = {}
        pc = 0
        for i, item in enumerate(self._items):
            if isinstance(item, Label):
                labels[item] = pc
                continue
            where[i] = pc
            pc += 1 + ((i, True) in far) + ((i, False) in far)
        return where, labels, pc

    @staticmethod
    def _target(label: Label | None, labels: dict[Label, int], nxt: int) -> int:
        if label is None:
            return nxt
        try:
            return labels[label]
        except KeyError:
            raise SeccompFilterError(f"{label!r} is never placed") from None
