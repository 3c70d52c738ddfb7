"""Guest programs for a :class:`~splitpriv.vcpu.VCpu`: build one from C, load it into a space.

A guest is a static, freestanding x86_64 ELF executable (no libc, no dynamic loader, no
relocations): :func:`build_guest` compiles one with the flags that make it so, and
:func:`load_elf` copies its PT_LOAD segments into an
:class:`~splitpriv.addrspace.AddressSpace` at their link addresses, with their protection.
Guests make raw ``syscall`` instructions; every one of them traps to the VCpu's owner.

This module never runs the guest and never maps it into the calling process.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from splitpriv.addrspace import PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, AddressSpace
from splitpriv.errors import VCpuError

# General-purpose registers only: a VCpu switch saves and loads nothing else.
GUEST_CFLAGS = (
    "-O2",
    "-static",
    "-nostdlib",
    "-ffreestanding",
    "-fno-pic",
    "-no-pie",
    "-mgeneral-regs-only",
    "-fno-stack-protector",
    "-fcf-protection=none",
    "-fno-asynchronous-unwind-tables",
    "-fno-builtin",
    "-Wl,--build-id=none",
    "-Wl,-z,noexecstack",
    "-Wl,-z,norelro",
)
DEFAULT_BASE = 0x10000000

_ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
_PROGRAM_HEADER = struct.Struct("<IIQQQQQQ")
_PT_LOAD = 1
_PF_X, _PF_W, _PF_R = 1, 2, 4


def build_guest(sources: list[Path], output: Path, *, base: int = DEFAULT_BASE) -> Path:
    """Compile freestanding C (or assembly) into a static guest linked at ``base``; the entry
    point is ``_start``. Raises VCpuError with the compiler's message when it fails."""
    gcc = shutil.which("gcc")
    if gcc is None:
        raise VCpuError("building a guest needs gcc")
    cmd = [gcc, *GUEST_CFLAGS, f"-Wl,-Ttext-segment=0x{base:x}", "-o", str(output)]
    result = subprocess.run([*cmd, *map(str, sources)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise VCpuError(f"building the guest failed: {result.stderr.strip().splitlines()[-1]}")
    return output


def load_elf(space: AddressSpace, image: bytes | Path) -> int:
    """Map every PT_LOAD segment of a static ELF into ``space`` and copy its bytes; returns
    the entry point. Segments sharing a page are not supported (link with page alignment)."""
    data = image.read_bytes() if isinstance(image, Path) else image
    if len(data) < _ELF_HEADER.size or data[:4] != b"\x7fELF":
        raise VCpuError("the guest is not an ELF file")
    ident, etype, machine, _, entry, phoff, _, _, _, phentsize, phnum, *_ = _ELF_HEADER.unpack_from(
        data
    )
    if ident[4] != 2 or machine != 62 or etype != 2:
        raise VCpuError("the guest must be a static (ET_EXEC) x86_64 ELF executable")
    for i in range(phnum):
        ptype, flags, offset, vaddr, _, filesz, memsz, _ = _PROGRAM_HEADER.unpack_from(
            data, phoff + i * phentsize
        )
        if ptype != _PT_LOAD or memsz == 0:
            continue
        start = vaddr & ~(PAGE_SIZE - 1)
        end = (vaddr + memsz + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)
        prot = (
            (PROT_READ if flags & _PF_R else 0)
            | (PROT_WRITE if flags & _PF_W else 0)
            | (PROT_EXEC if flags & _PF_X else 0)
        )
        space.map(start, end - start, prot)
        space.write(vaddr, data[offset : offset + filesz])
    return int(entry)


__all__ = ["DEFAULT_BASE", "GUEST_CFLAGS", "build_guest", "load_elf"]
