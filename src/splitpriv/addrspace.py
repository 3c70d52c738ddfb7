"""Address spaces as objects whose handle is a file descriptor.

The 2002 LKML proposal asked for "an interface to create, manipulate, and destroy address
spaces", with ``unprivilege()`` optionally taking an address space handle, "which would be a file
descriptor". :class:`AddressSpace` is that object: a memfd that carries both the layout (which
virtual ranges are mapped, with which protection) and the memory behind it. A process that
receives the fd (over a socket, or inherited) rebuilds the same space with
:meth:`AddressSpace.from_fd`; ``vcpu.py`` makes it real in a host process by mapping each region
with ``mmap(m.addr, m.length, m.prot, MAP_SHARED | MAP_FIXED, fd, m.file_offset)``.

This module only keeps the books and moves bytes with pread/pwrite. It must never map anything
into the calling process and never run code: the space describes *another* context, and mapping
it here could clobber the interpreter's own memory at those fixed addresses.

File layout (an ABI: other processes read it; all integers little-endian, no implicit padding)::

    0               header, 32 bytes
                      magic       4s   b"SPAS"
                      version     u32  1
                      generation  u64  bumped by every map/protect/unmap
                      count       u32  number of entries that follow
                      reserved    u32  0 (keeps the u64s below 8-byte aligned)
                      data_size   u64  allocation high-water mark of the data area
    32              count entries, 32 bytes each, sorted by addr, never overlapping
                      addr u64, length u64, offset u64, prot u32, pad u32
    TABLE_BYTES     data area: a mapping's bytes are at file offset TABLE_BYTES + offset

The data area is handed out by a bump allocator and never reused, so fresh memory is zero (the
file grows with ftruncate) and memory that was unmapped here stays valid for any holder that
still has it mapped. One writer at a time: the table is not updated atomically. Other holders
call :meth:`AddressSpace.reload` once the writer is done; a holder whose view is stale (its
generation differs from the fd's) cannot change the layout until it has reloaded.
"""

from __future__ import annotations

import mmap
import os
import struct
from bisect import bisect_right
from typing import NamedTuple

from splitpriv.errors import AddressSpaceError

PAGE_SIZE = 4096
USER_MIN = 0x10000  # mmap_min_addr default: nothing may be mapped below it
USER_MAX = 0x7FFF_FFFF_F000  # top of the 47-bit x86_64 user range (TASK_SIZE)
TABLE_BYTES = 65536  # the mapping table at the start of the memfd

PROT_READ: int = mmap.PROT_READ
PROT_WRITE: int = mmap.PROT_WRITE
PROT_EXEC: int = mmap.PROT_EXEC
_PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC

MAGIC = b"SPAS"
VERSION = 1
_HEADER = struct.Struct("<4sIQIIQ")
_ENTRY = struct.Struct("<QQQII")
MAX_MAPPINGS = (TABLE_BYTES - _HEADER.size) // _ENTRY.size
# off_t is signed 64-bit: the file (table + data) can never be larger than this.
_MAX_DATA = (1 << 63) - 1 - TABLE_BYTES


class Mapping(NamedTuple):
    """One mapped range: ``length`` bytes at virtual ``addr``, backed by the data area at
    ``offset``."""

    addr: int
    length: int
    prot: int
    offset: int

    @property
    def end(self) -> int:
        return self.addr + self.length

    @property
    def file_offset(self) -> int:
        """Where the bytes are in the handle: what ``mmap()`` of the fd needs."""
        return TABLE_BYTES + self.offset

    def __str__(self) -> str:
        return f"0x{self.addr:x}-0x{self.end:x} {_prot_str(self.prot)}"


def _prot_str(prot: int) -> str:
    bits = (PROT_READ, PROT_WRITE, PROT_EXEC)
    return "".join(c if prot & bit else "-" for c, bit in zip("rwx", bits, strict=True))


def _slice(m: Mapping, start: int, stop: int) -> Mapping:
    # The backing offset moves with the start so the piece keeps pointing at the same bytes.
    return Mapping(start, stop - start, m.prot, m.offset + (start - m.addr))


def _check_range(addr: int, length: int) -> None:
    if length <= 0:
        raise AddressSpaceError(f"length must be positive, not {length}")
    if addr % PAGE_SIZE or length % PAGE_SIZE:
        raise AddressSpaceError(
            f"addr 0x{addr:x} and length 0x{length:x} must be multiples of {PAGE_SIZE}"
        )
    if addr < USER_MIN or addr + length > USER_MAX:
        raise AddressSpaceError(
            f"0x{addr:x}-0x{addr + length:x} is outside the user range "
            f"[0x{USER_MIN:x}, 0x{USER_MAX:x})"
        )


def _check_prot(prot: int) -> None:
    if prot & ~_PROT_ALL or prot < 0:
        raise AddressSpaceError(f"prot {prot:#x} has bits other than PROT_READ|WRITE|EXEC")


class AddressSpace:
    """An address space whose handle is a memfd; see the module docstring for the layout."""

    def __init__(self, fd: int, maps: list[Mapping], generation: int, data_size: int) -> None:
        # Use create() or from_fd(); this takes ownership of fd.
        self._fd = fd
        self._maps = maps
        self._generation = generation
        self._data_size = data_size

    @classmethod
    def create(cls, name: str = "splitpriv-as") -> AddressSpace:
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, TABLE_BYTES)
            _write_table(fd, [], 0, 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, [], 0, 0)

    @classmethod
    def from_fd(cls, fd: int) -> AddressSpace:
        """Rebuild a space from a handle received from another process. The fd is dup'ed: the
        caller keeps (and must close) its own."""
        try:
            own = os.dup(fd)
        except OSError as e:
            raise AddressSpaceError(f"fd {fd} is not an address space: {e.strerror}") from e
        try:
            return cls(own, *_load(own))
        except BaseException:
            os.close(own)
            raise

    # -- the handle ---------------------------------------------------------------------------

    def fileno(self) -> int:
        self._check_open()
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> AddressSpace:
        self._check_open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Like a file object: an abandoned space does not leak its fd.
        if getattr(self, "_fd", -1) >= 0:
            self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<AddressSpace closed>"
        return (
            f"<AddressSpace fd={self._fd} mappings={len(self._maps)} "
            f"generation={self._generation} data=0x{self._data_size:x}>"
        )

    # -- the layout ---------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        self._check_open()
        return self._generation

    def mappings(self) -> list[Mapping]:
        self._check_open()
        return list(self._maps)

    def find(self, addr: int) -> Mapping | None:
        """The mapping that contains ``addr``, or None."""
        self._check_open()
        i = bisect_right(self._maps, addr, key=lambda m: m.addr) - 1
        if i >= 0 and addr < self._maps[i].end:
            return self._maps[i]
        return None

    def reload(self) -> None:
        """Re-read the table from the fd, after another holder changed it."""
        self._check_open()
        self._maps, self._generation, self._data_size = _load(self._fd)

    def map(self, addr: int, length: int, prot: int, offset: int | None = None) -> Mapping:
        """Map ``length`` bytes at ``addr``. Without ``offset`` the memory is fresh and zeroed;
        with one, the existing backing memory there is mapped again (an alias)."""
        self._check_open()
        _check_range(addr, length)
        _check_prot(prot)
        if offset is not None and (offset < 0 or offset % PAGE_SIZE):
            raise AddressSpaceError(f"offset {offset:#x} must be a non-negative multiple of 4096")
        for m in self._maps:
            if m.addr < addr + length and addr < m.end:
                raise AddressSpaceError(
                    f"0x{addr:x}-0x{addr + length:x} overlaps the existing mapping {m}"
                )
        start = self._data_size if offset is None else offset
        data_size = max(self._data_size, start + length)
        if data_size > _MAX_DATA:
            raise AddressSpaceError(f"offset 0x{start:x} + length is beyond the largest file")
        new = Mapping(addr, length, prot, start)
        self._commit(sorted([*self._maps, new]), data_size)
        return new

    def protect(self, addr: int, length: int, prot: int) -> None:
        """Change the protection of a range that must be wholly mapped (by one or more
        mappings); mappings it covers only in part are split."""
        self._check_open()
        _check_range(addr, length)
        _check_prot(prot)
        self._cover(addr, length, "protect")
        self._commit(self._carve(addr, addr + length, prot), self._data_size)

    def unmap(self, addr: int, length: int) -> None:
        """Remove a range, trimming or splitting the mappings it covers in part. Holes inside it
        are fine, as with munmap(). The backing memory is not reused (see the module doc)."""
        self._check_open()
        _check_range(addr, length)
        self._commit(self._carve(addr, addr + length, None), self._data_size)

    # -- the memory (privileged access: prot is ignored, as on the kernel side) ----------------

    def read(self, addr: int, n: int) -> bytes:
        self._check_open()
        if n < 0:
            raise AddressSpaceError(f"read size must not be negative, not {n}")
        chunks: list[bytes] = []
        for m, start, stop in self._cover(addr, n, "read"):
            chunks.append(_pread_all(self._fd, stop - start, m.file_offset + start - m.addr))
        return b"".join(chunks)

    def write(self, addr: int, data: bytes) -> None:
        self._check_open()
        view = memoryview(data).cast("B")
        # Walk the whole range before writing a byte, so a bad write changes nothing.
        for m, start, stop in self._cover(addr, len(view), "write"):
            _pwrite_all(self._fd, view[start - addr : stop - addr], m.file_offset + start - m.addr)

    # -- internals ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._fd < 0:
            raise AddressSpaceError("address space is closed")

    def _cover(self, addr: int, length: int, what: str) -> list[tuple[Mapping, int, int]]:
        """The (mapping, start, stop) pieces that cover [addr, addr + length), in order; an
        error naming the first unmapped address if there is a gap."""
        pieces: list[tuple[Mapping, int, int]] = []
        pos, end = addr, addr + length
        i = max(bisect_right(self._maps, addr, key=lambda m: m.addr) - 1, 0)
        while pos < end:
            if i >= len(self._maps) or not self._maps[i].addr <= pos < self._maps[i].end:
                raise AddressSpaceError(
                    f"cannot {what} 0x{addr:x}-0x{end:x}: 0x{pos:x} is not mapped"
                )
            m = self._maps[i]
            stop = min(end, m.end)
            pieces.append((m, pos, stop))
            pos, i = stop, i + 1
        return pieces

    def _carve(self, start: int, end: int, prot: int | None) -> list[Mapping]:
        """The mapping list with [start, end) given ``prot``, or removed if ``prot`` is None."""
        out: list[Mapping] = []
        for m in self._maps:
            # Untouched, or already at the wanted prot: keep it whole rather than split it.
            if m.end <= start or m.addr >= end or m.prot == prot:
                out.append(m)
                continue
            if m.addr < start:
                out.append(_slice(m, m.addr, start))
            if prot is not None:
                out.append(_slice(m, max(m.addr, start), min(m.end, end))._replace(prot=prot))
            if m.end > end:
                out.append(_slice(m, end, m.end))
        return out

    def _commit(self, maps: list[Mapping], data_size: int) -> None:
        # Last check before anything changes; the in-memory state follows the file only once
        # the file has been written, so a failure leaves this object as it was.
        if len(maps) > MAX_MAPPINGS:
            raise AddressSpaceError(f"too many mappings (max {MAX_MAPPINGS})")
        # Writing a table built on a stale view would drop another holder's changes, and its
        # data_size, so later allocations would hand out memory that is already in use.
        on_file = _HEADER.unpack(os.pread(self._fd, _HEADER.size, 0))[2]
        if on_file != self._generation:
            raise AddressSpaceError(
                f"the table changed under this object (generation {on_file} in the fd, "
                f"{self._generation} here): reload() first"
            )
        if os.fstat(self._fd).st_size < TABLE_BYTES + data_size:
            os.ftruncate(self._fd, TABLE_BYTES + data_size)
        generation = self._generation + 1
        _write_table(self._fd, maps, generation, data_size)
        self._maps, self._generation, self._data_size = maps, generation, data_size


def _write_table(fd: int, maps: list[Mapping], generation: int, data_size: int) -> None:
    table = bytearray(_HEADER.pack(MAGIC, VERSION, generation, len(maps), 0, data_size))
    for m in maps:
        table += _ENTRY.pack(m.addr, m.length, m.offset, m.prot, 0)
    _pwrite_all(fd, table, 0)


def _pwrite_all(fd: int, data: bytes | bytearray | memoryview, pos: int) -> None:
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, pos)
        view, pos = view[done:], pos + done


def _pread_all(fd: int, n: int, pos: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        got = os.pread(fd, n - len(out), pos + len(out))
        if not got:
            raise AddressSpaceError(f"backing memory ends at file offset 0x{pos + len(out):x}")
        out += got
    return bytes(out)


def _load(fd: int) -> tuple[list[Mapping], int, int]:
    """Read and validate the table in ``fd``: (mappings, generation, data_size)."""

    def bad(why: str) -> AddressSpaceError:
        return AddressSpaceError(f"fd {fd} is not a valid address space: {why}")

    try:
        raw = os.pread(fd, TABLE_BYTES, 0)
        size = os.fstat(fd).st_size
    except OSError as e:
        raise bad(e.strerror or str(e)) from e
    if len(raw) < _HEADER.size:
        raise bad(f"{len(raw)} bytes is too short for the header")
    magic, version, generation, count, _, data_size = _HEADER.unpack_from(raw)
    if magic != MAGIC:
        raise bad(f"magic {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise bad(f"version {version}, expected {VERSION}")
    if count > MAX_MAPPINGS or len(raw) < _HEADER.size + count * _ENTRY.size:
        raise bad(f"{count} entries do not fit the table")
    if size < TABLE_BYTES + data_size:
        raise bad(f"file is {size} bytes, the data area needs {TABLE_BYTES + data_size}")
    # Check every entry as map() would have: a bad table could make a VCpu map garbage.
    maps: list[Mapping] = []
    for i in range(count):
        addr, length, offset, prot, _ = _ENTRY.unpack_from(raw, _HEADER.size + i * _ENTRY.size)
        m = Mapping(addr, length, prot, offset)
        try:
            _check_range(addr, length)
            _check_prot(prot)
        except AddressSpaceError as e:
            raise bad(f"entry {i}: {e}") from None
        if offset % PAGE_SIZE or offset + length > data_size:
            raise bad(f"entry {i} ({m}): offset 0x{offset:x} is outside the data area")
        if maps and maps[-1].end > addr:
            raise bad(f"entry {i} ({m}) is out of order or overlaps {maps[-1]}")
        maps.append(m)
    return maps, generation, data_size
