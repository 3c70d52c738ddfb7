"""AddressSpace: a memfd-backed address space whose table and memory travel with the fd."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import splitpriv.addrspace
from splitpriv.addrspace import (
    MAX_MAPPINGS,
    PAGE_SIZE,
    PROT_EXEC,
    PROT_READ,
    PROT_WRITE,
    TABLE_BYTES,
    USER_MAX,
    USER_MIN,
    AddressSpace,
    Mapping,
)
from splitpriv.errors import AddressSpaceError, SplitprivError

RW = PROT_READ | PROT_WRITE
BASE = 0x40_0000
P = PAGE_SIZE


@pytest.fixture
def space() -> Iterator[AddressSpace]:
    with AddressSpace.create() as s:
        yield s


def test_constants_and_error_type():
    assert (PROT_READ, PROT_WRITE, PROT_EXEC) == (mmap.PROT_READ, mmap.PROT_WRITE, mmap.PROT_EXEC)
    assert issubclass(AddressSpaceError, SplitprivError)
    assert issubclass(AddressSpaceError, ValueError)
    m = Mapping(BASE, 2 * P, RW, 3 * P)
    assert m.end == BASE + 2 * P
    assert m.file_offset == TABLE_BYTES + 3 * P


def test_map_write_read_round_trip(space):
    m = space.map(BASE, 2 * P, RW)
    assert m == Mapping(BASE, 2 * P, RW, 0)
    assert space.mappings() == [m]
    assert space.read(BASE, 2 * P) == bytes(2 * P)  # fresh memory is zero
    space.write(BASE + 100, b"hello")
    assert space.read(BASE + 98, 9) == b"\0\0hello\0\0"
    assert space.read(BASE, 0) == b""
    assert space.find(BASE + P + 5) == m
    assert space.find(BASE - 1) is None
    assert space.find(m.end) is None


def test_fresh_allocations_do_not_share_memory(space):
    a = space.map(BASE, P, RW)
    b = space.map(BASE + 16 * P, 2 * P, PROT_READ)
    assert (a.offset, b.offset) == (0, P)
    space.write(BASE, b"A" * P)
    assert space.read(b.addr, 2 * P) == bytes(2 * P)


def test_backing_memory_is_in_the_memfd(space):
    space.map(BASE, P, RW)
    m = space.map(BASE + 8 * P, 2 * P, PROT_READ)
    payload = bytes(range(256)) * 32
    space.write(m.addr, payload)
    assert os.fstat(space.fileno()).st_size >= m.file_offset + m.length
    with mmap.mmap(space.fileno(), m.length, offset=m.file_offset) as view:
        assert view[: len(payload)] == payload
        view[0:4] = b"XYZW"  # and writes through the fd are what read() sees
    assert space.read(m.addr, 4) == b"XYZW"


def test_alias_via_explicit_offset(space):
    a = space.map(BASE, 2 * P, RW)
    b = space.map(BASE + 32 * P, P, PROT_READ, offset=a.offset + P)
    assert b.file_offset == a.file_offset + P
    space.write(BASE + P + 10, b"shared")
    assert space.read(b.addr + 10, 6) == b"shared"
    space.write(b.addr, b"back")  # privileged write ignores PROT_READ-only
    assert space.read(BASE + P, 4) == b"back"
    # A later fresh allocation must not land on the aliased memory.
    c = space.map(BASE + 64 * P, P, RW)
    assert c.offset >= a.offset + a.length


def test_explicit_offset_beyond_data_grows_the_file(space):
    m = space.map(BASE, P, RW, offset=10 * P)
    assert os.fstat(space.fileno()).st_size >= TABLE_BYTES + 11 * P
    assert space.read(BASE, P) == bytes(P)
    assert space.map(BASE + P, P, RW).offset == 11 * P  # high-water mark moved past it
    assert m.offset == 10 * P


def test_protect_middle_page_splits_into_three(space):
    space.map(BASE, 3 * P, RW)
    space.write(BASE, b"a" * P + b"b" * P + b"c" * P)
    space.protect(BASE + P, P, PROT_READ)
    assert space.mappings() == [
        Mapping(BASE, P, RW, 0),
        Mapping(BASE + P, P, PROT_READ, P),
        Mapping(BASE + 2 * P, P, RW, 2 * P),
    ]
    assert space.read(BASE, 3 * P) == b"a" * P + b"b" * P + b"c" * P  # same bytes behind them


def test_protect_across_adjacent_mappings(space):
    space.map(BASE, 2 * P, RW)
    space.map(BASE + 2 * P, 2 * P, PROT_READ)
    space.protect(BASE + P, 2 * P, PROT_EXEC | PROT_READ)
    assert [(m.addr, m.length, m.prot) for m in space.mappings()] == [
        (BASE, P, RW),
        (BASE + P, P, PROT_READ | PROT_EXEC),
        (BASE + 2 * P, P, PROT_READ | PROT_EXEC),
        (BASE + 3 * P, P, PROT_READ),
    ]


def test_protect_to_same_prot_does_not_split(space):
    space.map(BASE, 3 * P, RW)
    space.protect(BASE + P, P, RW)
    assert space.mappings() == [Mapping(BASE, 3 * P, RW, 0)]


def test_unmap_trims_splits_and_skips_holes(space):
    space.map(BASE, 4 * P, RW)
    space.map(BASE + 8 * P, 2 * P, PROT_READ)
    space.unmap(BASE + P, P)  # split
    assert space.mappings() == [
        Mapping(BASE, P, RW, 0),
        Mapping(BASE + 2 * P, 2 * P, RW, 2 * P),
        Mapping(BASE + 8 * P, 2 * P, PROT_READ, 4 * P),
    ]
    space.unmap(BASE + 3 * P, 6 * P)  # trims both ends, hole in between is fine
    assert space.mappings() == [
        Mapping(BASE, P, RW, 0),
        Mapping(BASE + 2 * P, P, RW, 2 * P),
        Mapping(BASE + 9 * P, P, PROT_READ, 5 * P),
    ]
    space.unmap(USER_MIN, 64 * P)  # nothing mapped there at all: also fine
    space.unmap(BASE, 16 * P)
    assert space.mappings() == []


def test_read_write_span_adjacent_mappings(space):
    space.map(BASE, P, RW)
    space.map(BASE + P, P, PROT_READ, offset=5 * P)  # adjacent, backing not contiguous
    data = b"0123456789"
    space.write(BASE + P - 4, data)
    assert space.read(BASE + P - 4, 10) == data
    assert space.read(BASE + P - 4, 4) == b"0123"
    assert space.read(BASE + P, 6) == b"456789"


def test_generation_bumps_on_every_change(space):
    assert space.generation == 0
    space.map(BASE, 2 * P, RW)
    assert space.generation == 1
    space.protect(BASE, P, PROT_READ)
    assert space.generation == 2
    space.unmap(BASE, P)
    assert space.generation == 3
    space.write(BASE + P, b"x")
    space.read(BASE + P, 1)
    assert space.generation == 3  # memory access is not a layout change


def test_from_fd_same_process(space):
    space.map(BASE, P, RW)
    space.map(BASE + 4 * P, 2 * P, PROT_READ | PROT_EXEC, offset=0)
    space.write(BASE, b"payload")
    with AddressSpace.from_fd(space.fileno()) as other:
        assert other.fileno() != space.fileno()
        assert other.mappings() == space.mappings()
        assert other.generation == space.generation
        assert other.read(BASE + 4 * P, 7) == b"payload"
    os.fstat(space.fileno())  # closing the copy left the caller's fd open
    assert space.read(BASE, 7) == b"payload"


CHILD = """
import json, sys
from splitpriv.addrspace import AddressSpace
with AddressSpace.from_fd(int(sys.argv[1])) as s:
    print(json.dumps({
        "maps": [list(m) for m in s.mappings()],
        "generation": s.generation,
        "data": s.read(int(sys.argv[2]), 16).hex(),
    }))
    s.write(int(sys.argv[2]), b"from the child")
"""


def test_from_fd_in_another_process(space):
    space.map(BASE, 2 * P, RW)
    space.map(BASE + 2 * P, P, PROT_READ)
    space.write(BASE + P - 8, b"across two pages")
    fd = space.fileno()
    # The child imports the same splitpriv as this process, however it was put on sys.path.
    src = str(Path(splitpriv.addrspace.__file__).resolve().parents[1])
    path = [src, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(fd), str(BASE + P - 8)],
        pass_fds=[fd],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert [Mapping(*m) for m in got["maps"]] == space.mappings()
    assert got["generation"] == space.generation
    assert bytes.fromhex(got["data"]) == b"across two pages"
    assert space.read(BASE + P - 8, 14) == b"from the child"  # same memory, not a copy


def test_reload_sees_changes_from_another_holder(space):
    space.map(BASE, P, RW)
    with AddressSpace.from_fd(space.fileno()) as other:
        other.map(BASE + P, P, PROT_READ)
        other.protect(BASE, P, PROT_READ)
        assert space.generation == 1  # stale until reload
        space.reload()
        assert space.mappings() == other.mappings()
        assert space.generation == other.generation == 3
        # And the next allocation respects memory the other holder allocated.
        assert space.map(BASE + 2 * P, P, RW).offset == 2 * P


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda s: s.map(BASE + 1, P, RW), "must be multiples of 4096"),
        (lambda s: s.map(BASE, P + 1, RW), "must be multiples of 4096"),
        (lambda s: s.map(BASE, P, RW, offset=100), "offset 0x64 must be a non-negative multiple"),
        (lambda s: s.map(BASE, P, RW, offset=-P), "offset -0x1000 must be a non-negative multiple"),
        (lambda s: s.map(BASE, 0, RW), "length must be positive"),
        (lambda s: s.map(BASE, -P, RW), "length must be positive"),
        (lambda s: s.map(0, P, RW), "outside the user range"),
        (lambda s: s.map(USER_MIN - P, P, RW), "outside the user range"),
        (lambda s: s.map(USER_MAX - P, 2 * P, RW), "outside the user range"),
        (lambda s: s.map(BASE + 7 * P, 2 * P, RW), r"overlaps the existing mapping 0x408000-"),
        (lambda s: s.map(BASE - P, 2 * P, RW), r"overlaps the existing mapping 0x400000-"),
        (lambda s: s.map(BASE + 16 * P, P, 8), "prot 0x8 has bits other than"),
        (lambda s: s.map(BASE + 16 * P, P, -1), "has bits other than"),
        (lambda s: s.protect(BASE, P, 0x10), "has bits other than"),
        (lambda s: s.protect(BASE, 4 * P, PROT_READ), r"0x403000 is not mapped"),
        (lambda s: s.protect(BASE - P, 2 * P, PROT_READ), r"0x3ff000 is not mapped"),
        (lambda s: s.protect(BASE + 1, P, PROT_READ), "must be multiples"),
        (lambda s: s.unmap(BASE, P + 7), "must be multiples"),
        (lambda s: s.unmap(USER_MAX, P), "outside the user range"),
        (lambda s: s.read(BASE + 3 * P - 2, 4), r"cannot read .*: 0x403000 is not mapped"),
        (lambda s: s.read(BASE - 1, 2), r"0x3fffff is not mapped"),
        (lambda s: s.read(BASE, -1), "must not be negative"),
        (lambda s: s.write(BASE + 3 * P - 2, b"abcd"), r"cannot write .*0x403000 is not"),
    ],
)
def test_errors_change_nothing(space, call, match):
    # A 3-page mapping and a separate page: every failing call must leave both as they were.
    space.map(BASE, 3 * P, RW)
    space.map(BASE + 8 * P, P, PROT_READ)
    space.write(BASE + 3 * P - 2, b"zz")
    before = (space.mappings(), space.generation, space.read(BASE, 3 * P))
    with pytest.raises(AddressSpaceError, match=match):
        call(space)
    assert (space.mappings(), space.generation, space.read(BASE, 3 * P)) == before
    with AddressSpace.from_fd(space.fileno()) as other:  # nor was the table in the fd touched
        assert (other.mappings(), other.generation) == before[:2]


def test_a_stale_holder_cannot_change_the_layout(space):
    space.map(BASE, P, RW)
    with AddressSpace.from_fd(space.fileno()) as other:
        other.map(BASE + P, P, RW)  # allocates data offset P, generation 2
        before = space.mappings()
        with pytest.raises(AddressSpaceError, match=r"generation 2 in the fd, 1 here.*reload"):
            space.map(BASE + 4 * P, P, RW)  # would hand out offset P again
        assert (space.mappings(), space.generation) == (before, 1)
        other.reload()
        assert other.mappings() == [Mapping(BASE, P, RW, 0), Mapping(BASE + P, P, RW, P)]
        space.reload()
        assert space.map(BASE + 4 * P, P, RW).offset == 2 * P


def test_too_many_mappings(space):
    # Alternate protections on a single mapping: each page becomes its own entry, cheaply.
    space.map(BASE, (MAX_MAPPINGS + 1) * P, RW)
    for i in range(1, MAX_MAPPINGS, 2):
        space.protect(BASE + i * P, P, PROT_READ)
    assert len(space.mappings()) == MAX_MAPPINGS
    before = (space.mappings(), space.generation)
    with pytest.raises(AddressSpaceError, match=rf"too many mappings \(max {MAX_MAPPINGS}\)"):
        space.map(USER_MAX - P, P, RW)
    with pytest.raises(AddressSpaceError, match="too many mappings"):
        space.protect(BASE + MAX_MAPPINGS * P, P, PROT_READ)  # would split the last one
    assert (space.mappings(), space.generation) == before
    with AddressSpace.from_fd(space.fileno()) as other:  # a full table round-trips
        assert other.mappings() == before[0]


def test_use_after_close():
    s = AddressSpace.create()
    s.map(BASE, P, RW)
    s.close()
    s.close()  # twice is fine
    assert s.closed
    assert "closed" in repr(s)
    for call in (
        lambda: s.fileno(),
        lambda: s.map(BASE + P, P, RW),
        lambda: s.protect(BASE, P, PROT_READ),
        lambda: s.unmap(BASE, P),
        lambda: s.read(BASE, 1),
        lambda: s.write(BASE, b"x"),
        lambda: s.mappings(),
        lambda: s.find(BASE),
        lambda: s.generation,
        lambda: s.reload(),
    ):
        with pytest.raises(AddressSpaceError, match="address space is closed"):
            call()


def test_context_manager_closes_the_fd():
    with AddressSpace.create() as s:
        fd = s.fileno()
        assert not s.closed
        assert f"fd={fd}" in repr(s)
    assert s.closed
    with pytest.raises(OSError):
        os.fstat(fd)


def test_from_fd_rejects_what_is_not_an_address_space():
    fd = os.memfd_create("garbage", os.MFD_CLOEXEC)
    try:
        with pytest.raises(AddressSpaceError, match="too short"):
            AddressSpace.from_fd(fd)  # empty
        os.write(fd, b"NOPE" + os.urandom(TABLE_BYTES - 4))
        with pytest.raises(AddressSpaceError, match="magic b'NOPE'"):
            AddressSpace.from_fd(fd)
    finally:
        os.close(fd)
    r, w = os.pipe()
    try:
        with pytest.raises(AddressSpaceError, match="not a valid address space"):
            AddressSpace.from_fd(r)
    finally:
        os.close(r)
        os.close(w)
    with pytest.raises(AddressSpaceError, match="is not an address space"):
        AddressSpace.from_fd(r)  # closed fd


def test_from_fd_rejects_a_corrupt_table(space):
    space.map(BASE, P, RW)
    fd = space.fileno()
    header = bytearray(os.pread(fd, 32, 0))
    os.pwrite(fd, b"\x02\0\0\0", 4)  # version 2
    with pytest.raises(AddressSpaceError, match="version 2, expected 1"):
        AddressSpace.from_fd(fd)
    os.pwrite(fd, bytes(header), 0)
    os.pwrite(fd, (BASE + 1).to_bytes(8, "little"), 32)  # entry 0 addr unaligned
    with pytest.raises(AddressSpaceError, match="entry 0"):
        AddressSpace.from_fd(fd)
    with pytest.raises(AddressSpaceError, match="entry 0"):
        space.reload()
    assert space.mappings() == [Mapping(BASE, P, RW, 0)]  # a failed reload keeps the old state
