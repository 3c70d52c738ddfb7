"""The only module that touches cffi's ``ffi`` and ``lib`` for the C engine.

It turns the engine's C structures into plain Python values (``RawEvent``, ``RawTrap``,
tuples, ints) and exposes :class:`EngineSession`, one per tracing session, and
:class:`VcpuHost`, one per VCpu host process. Nothing of cffi leaves this file.
It must never decode or format: that is the job of ``splitpriv.events`` and ``splitpriv.syscalls``.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Generator, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from splitpriv._engine import ffi, lib  # type: ignore[import-not-found]

ALLOW: int = lib.SP_ALLOW
DENY: int = lib.SP_DENY
EMULATE: int = lib.SP_EMULATE
CALLBACK: int = lib.SP_CALLBACK
REWRITE: int = lib.SP_REWRITE
RULE_RECORD: int = lib.SP_RULE_RECORD
NR_MAX: int = lib.SP_NR_MAX

MODE_PTRACE: int = lib.SP_MODE_PTRACE
MODE_SYSEMU: int = lib.SP_MODE_SYSEMU
MODE_SECCOMP_TRACE: int = lib.SP_MODE_SECCOMP_TRACE
MODE_SECCOMP_NOTIFY: int = lib.SP_MODE_SECCOMP_NOTIFY
MODE_INPROCESS: int = lib.SP_MODE_INPROCESS
MODE_SUD: int = lib.SP_MODE_SUD
MODE_SECCOMP_TRAP: int = lib.SP_MODE_SECCOMP_TRAP
PROTECT: dict[str, int] = {
    "none": lib.SP_PROTECT_NONE,
    "mprotect": lib.SP_PROTECT_MPROTECT,
    "pkey": lib.SP_PROTECT_PKEY,
}
STAGE_SECCOMP: int = lib.SP_STAGE_SECCOMP
STAGE_ANSWERED: int = lib.SP_STAGE_ANSWERED

CPU_POLICIES: dict[str, int] = {
    "none": lib.SP_CPU_NONE,
    "same": lib.SP_CPU_SAME,
    "spread": lib.SP_CPU_SPREAD,
}

EV_SYSCALL: int = lib.SP_EV_SYSCALL
EV_SIGNAL: int = lib.SP_EV_SIGNAL
EV_EXIT: int = lib.SP_EV_EXIT
EV_EXEC: int = lib.SP_EV_EXEC
EV_STOPPED: int = lib.SP_EV_STOPPED

EVF_DENIED: int = lib.SP_EVF_DENIED
EVF_EMULATED: int = lib.SP_EVF_EMULATED
EVF_NORETURN: int = lib.SP_EVF_NORETURN
EVF_CALLBACK: int = lib.SP_EVF_CALLBACK
EVF_CONTINUED: int = lib.SP_EVF_CONTINUED
EVF_REWRITTEN: int = lib.SP_EVF_REWRITTEN
EVF_ENTRY: int = lib.SP_EVF_ENTRY
EVF_ENTRY_SHOWN: int = lib.SP_EVF_ENTRY_SHOWN
EVF_DETACHED: int = lib.SP_EVF_DETACHED

SEGF_TRUNCATED: int = lib.SP_SEGF_TRUNCATED
SEGF_FAULT: int = lib.SP_SEGF_FAULT
SEGF_EXIT: int = lib.SP_SEGF_EXIT


class Segment(NamedTuple):
    """Bytes copied from tracee memory for one argument."""

    arg: int
    data: bytes
    truncated: bool
    fault: bool
    at_exit: bool


class RawEvent(NamedTuple):
    """One engine event as plain Python values, not yet decoded."""

    kind: int
    flags: int
    pid: int
    tid: int
    arch: int
    nr: int
    args: tuple[int, ...]
    ret: int
    t_entry_ns: int
    t_exit_ns: int
    sig: int
    status: int
    sig_code: int
    sig_pid: int
    sig_uid: int
    sig_status: int
    segments: tuple[Segment, ...]


class EngineResult(NamedTuple):
    root_pid: int
    root_status: int | None
    launch_errno: int
    launch_stage: int
    notify_sync_wakeup: bool
    error_errno: int
    error_where: str
    cancelled: bool


class Rule(NamedTuple):
    """One entry of the engine's action table."""

    action: int = ALLOW
    record: bool = False
    value: int = 0
    capture: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)
    rewrite: tuple[tuple[int, int], ...] = ()  # (argument index, new value) for REWRITE


class Verdict(NamedTuple):
    """A Python callback's answer for one call."""

    action: int = ALLOW
    value: int = 0
    rewrite: tuple[tuple[int, int], ...] = ()


# struct sp_rule, packed in one go: the table is written with a single memmove.
_RULE = struct.Struct("<BB6BqI4x6Q")
assert _RULE.size == ffi.sizeof("struct sp_rule")
assert ffi.offsetof("struct sp_rule", "rewrite_mask") == 16


def _pack_rule(rule: Rule) -> bytes:
    mask, values = _mask_and_values(rule.rewrite)
    flags = RULE_RECORD if rule.record else 0
    return _RULE.pack(rule.action, flags, *rule.capture, rule.value, mask, *values)


def pack_rules(rules: Sequence[Rule]) -> bytes:
    """A rule table as the engine holds it (cache the result). The table's entries are mostly
    the same few objects (see session._engine_rules): each is packed once."""
    packed: dict[int, bytes] = {}
    out = []
    for rule in rules:
        row = packed.get(id(rule))
        if row is None:
            row = packed[id(rule)] = _pack_rule(rule)
        out.append(row)
    return b"".join(out)


def _mask_and_values(rewrite: tuple[tuple[int, int], ...]) -> tuple[int, list[int]]:
    mask, values = 0, [0] * 6
    for index, value in rewrite:
        mask |= 1 << index
        values[index] = value & 0xFFFFFFFFFFFFFFFF
    return mask, values


# struct sp_event's header and segments, read straight out of the ring (csrc/splitpriv.h).
_HEADER = struct.Struct("<iiiiIi6Qqqqiiiiii")
_COUNTS = struct.Struct("<HH")
_SEGMENT = struct.Struct("<BBHH")
_EVENT_SIZE: int = ffi.sizeof("struct sp_event")
_NSEG_AT: int = ffi.offsetof("struct sp_event", "nseg")
_SEG_AT: int = ffi.offsetof("struct sp_event", "seg")
_DATA_AT: int = ffi.offsetof("struct sp_event", "data")
assert _HEADER.size == _NSEG_AT and _SEG_AT == _NSEG_AT + _COUNTS.size

# The header and the counts in one unpack: a flat record, the fastest form Python can read.
# Its fields, by index: kind, flags, pid, tid, arch, nr, args (6), ret, t_entry_ns, t_exit_ns,
# sig, status, sig_code, sig_pid, sig_uid, sig_status, nseg, data_len.
_RECORD = struct.Struct(_HEADER.format + "HH")
R_KIND, R_FLAGS, R_PID, R_TID, R_ARCH, R_NR = range(6)
R_ARGS = slice(6, 12)
R_RET, R_ENTRY, R_EXIT, R_SIG, R_STATUS, R_SIG_CODE, R_SIG_PID, R_SIG_UID, R_SIG_STATUS = range(
    12, 21
)
R_NSEG, R_DATA_LEN = 21, 22
R_TID, R_ARCH, R_NR = 3, 4, 5
# clone, fork, vfork and clone3, x86_64 and i386 numbers: after one, the times of a merged run
# would matter against the new task's (take_records).
_MAKES_A_TASK = frozenset(
    {(0xC000003E, nr) for nr in (56, 57, 58, 435)} | {(0x40000003, nr) for nr in (2, 120, 190, 435)}
)

Record = tuple[tuple[int, ...], tuple[Segment, ...]]
"""One engine event as read from the ring: the flat header (indices ``R_*``), its segments."""


def _segments(buf: Any, at: int, nseg: int) -> tuple[Segment, ...]:
    segs = []
    for i in range(nseg):
        arg, flags, length, off = _SEGMENT.unpack_from(buf, at + _SEG_AT + 6 * i)
        start = at + _DATA_AT + off
        segs.append(
            Segment(
                arg,
                buf[start : start + length],
                flags & SEGF_TRUNCATED != 0,
                flags & SEGF_FAULT != 0,
                flags & SEGF_EXIT != 0,
            )
        )
    return tuple(segs)


_NO_ARGS: frozenset[int] = frozenset()


def split_segments(
    segments: tuple[Segment, ...],
) -> tuple[dict[int, bytes], frozenset[int], frozenset[int]]:
    """A record's segments as an event holds them: the bytes by argument, and the arguments
    that were cut short and that could not be read. Once per record with copied memory: one
    pass, and the two sets only when not empty."""
    memory = {}
    truncated: set[int] | None = None
    faults: set[int] | None = None
    for seg in segments:
        if seg.fault:
            faults = {seg.arg} if faults is None else faults | {seg.arg}
        else:
            memory[seg.arg] = seg.data
        if seg.truncated:
            truncated = {seg.arg} if truncated is None else truncated | {seg.arg}
    return (
        memory,
        _NO_ARGS if truncated is None else frozenset(truncated),
        _NO_ARGS if faults is None else frozenset(faults),
    )


class SignalFields(NamedTuple):
    """What a signal record says, in the order the event types take it."""

    pid: int
    tid: int
    sig: int
    code: int
    sender_pid: int
    sender_uid: int
    status: int
    time_ns: int


def signal_fields(h: tuple[int, ...]) -> SignalFields:
    """The fields of a flat signal record (kind EV_SIGNAL)."""
    return SignalFields(
        h[R_PID],
        h[R_TID],
        h[R_SIG],
        h[R_SIG_CODE],
        h[R_SIG_PID],
        h[R_SIG_UID],
        h[R_SIG_STATUS],
        h[R_ENTRY],
    )


def raw_event(record: Record) -> RawEvent:
    """A flat record as a RawEvent (named fields; slower to build)."""
    h, segments = record
    return RawEvent(*h[:6], h[R_ARGS], *h[R_RET:R_NSEG], segments)


def record_of(raw: RawEvent) -> Record:
    """A RawEvent as a flat record (the inverse of ``raw_event``; data_len is not kept)."""
    return (*raw[:6], *raw.args, *raw[7:16], len(raw.segments), 0), raw.segments


def _record_at(buf: Any, at: int) -> tuple[Record, int]:
    """The record at byte offset ``at`` of ``buf``, and the bytes it takes there."""
    h = _RECORD.unpack_from(buf, at)
    record = h, _segments(buf, at, h[R_NSEG]) if h[R_NSEG] else ()
    return record, (_DATA_AT + h[R_DATA_LEN] + 7) & ~7


# Decide callbacks by session handle; the engine thread calls sp_py_decide with the GIL taken
# by cffi, the call copied to the session's decide_event. A callback returns a Verdict, or None
# to allow the call (the engine's verdict starts as allow); an exception is kept on the session
# and makes the engine fail closed and end the session.
DecideFn = Callable[[Record], "Verdict | None"]


@ffi.def_extern()  # type: ignore[misc]
def sp_py_decide(handle: Any, out: Any) -> int:
    session: EngineSession = ffi.from_handle(handle)
    try:
        assert session.decide is not None
        # One view made with the session, not one per call (a new view costs about as much
        # as the unpacking; see the ask figures in bench/RESULTS.md).
        call = session.decide_view
        h = _RECORD.unpack_from(call)
        verdict = session.decide((h, _segments(call, 0, h[R_NSEG]) if h[R_NSEG] else ()))
    except BaseException as exc:  # re-raised in the consumer thread
        if session.callback_error is None:  # the first: the engine asks no more after it
            session.callback_error = exc
        return -1
    if verdict is not None:
        out.action = verdict.action
        out.value = verdict.value
        if verdict.rewrite:
            out.rewrite_mask, out.rewrite[0:6] = _mask_and_values(verdict.rewrite)
    return 0


class EngineSession:
    """One C engine session: its rules, its engine thread entry point and its event ring."""

    def __init__(
        self,
        *,
        mode: int,
        follow_forks: bool,
        cpu: str,
        attach_pid: int = 0,
        string_limit: int = 4096,
        ring_bytes: int = 4 << 20,
        record_signals: bool = True,
        decide: DecideFn | None = None,
        seccomp_filter: bytes = b"",
        protect: str = "none",
        entry_records: bool = False,
    ) -> None:
        self.decide = decide
        self.callback_error: BaseException | None = None
        self._handle = ffi.new_handle(self)
        config = ffi.new("struct sp_config *")
        config.mode = mode
        config.follow_forks = int(follow_forks)
        config.cpu_policy = CPU_POLICIES[cpu]
        config.attach_pid = attach_pid
        config.string_limit = string_limit
        config.ring_bytes = ring_bytes
        config.record_signals = int(record_signals)
        config.py_handle = self._handle
        if decide is not None:  # the engine copies each call it asks about here
            self._decide_event = ffi.new("struct sp_event *")
            self.decide_view = ffi.buffer(self._decide_event)
            config.decide_event = self._decide_event
        # A struct sock_filter array is 8 bytes an instruction; the engine keeps the pointer.
        self._filter = ffi.from_buffer(seccomp_filter) if seccomp_filter else ffi.NULL
        config.filter = self._filter
        config.filter_len = len(seccomp_filter) // 8
        config.protect = PROTECT[protect]
        config.entry_records = int(entry_records)
        session = lib.sp_session_new(config)
        if session == ffi.NULL:
            raise MemoryError("splitpriv: cannot allocate an engine session")
        self._session = ffi.gc(session, lib.sp_session_free)
        if decide is not None:
            lib.sp_use_python_callback(self._session)
        self._keepalive: list[Any] = []
        size = ffi.new("unsigned long long *")
        memory = lib.sp_ring_memory(self._session, size)
        # The ring and the slack after it, where a record that starts near the end runs on.
        self._ring = ffi.buffer(memory, size[0] + _EVENT_SIZE)
        self._ring_mask = size[0] - 1
        self._repeat_bytes = ffi.new("unsigned long long *")

    def set_rules(self, arch_index: int, rules: Sequence[Rule] | bytes) -> None:
        """Write NR_MAX + 1 rules for one architecture (the last one: numbers out of range),
        as Rule objects or already packed by `pack_rules`."""
        table = lib.sp_rules(self._session, arch_index)
        packed = rules if isinstance(rules, bytes) else pack_rules(rules)
        if len(packed) != (NR_MAX + 1) * _RULE.size:
            raise ValueError(f"a rule table holds {NR_MAX + 1} rules")
        ffi.memmove(table, packed, len(packed))

    def run(self, path: str | None, argv: Sequence[str], env: dict[str, str]) -> int:
        """Launch (or attach) and trace until the end; blocks. Call it from the engine thread."""
        if path is None:
            return int(lib.sp_run(self._session, ffi.NULL, ffi.NULL, ffi.NULL))
        c_path = ffi.new("char[]", os.fsencode(path))
        c_args = [ffi.new("char[]", os.fsencode(a)) for a in argv]
        c_env = [ffi.new("char[]", os.fsencode(f"{k}={v}")) for k, v in env.items()]
        c_argv = ffi.new("char *[]", [*c_args, ffi.NULL])
        c_envp = ffi.new("char *[]", [*c_env, ffi.NULL])
        self._keepalive = [c_path, c_args, c_env, c_argv, c_envp]
        return int(lib.sp_run(self._session, c_path, c_argv, c_envp))

    def cancel(self) -> None:
        lib.sp_cancel(self._session)

    def wait_events(self, timeout_ms: int) -> int:
        """Events ready to read; 0 on timeout; -1 once the engine ended and all were read."""
        return int(lib.sp_wait_events(self._session, timeout_ms))

    def take_records(self, count: int, *, merge_repeats: bool = False) -> list[Record]:
        """Read the next ``count`` ready events in place as flat records, then release them.

        ``merge_repeats``: a record that repeats the one before it in everything but its
        times, with nothing copied (a loop's), is that very tuple, times included: the engine
        finds such runs (sp_ring_repeats) and they are not read one by one. Only while the
        batch has one task's records and no call that makes another (whose records the times
        would have to be ordered against). For consumers that need no per-call times."""
        if not merge_repeats:
            return list(self.iter_records(count))
        ring, mask, unpack = self._ring, self._ring_mask, _RECORD.unpack_from
        session, repeats, size = self._session, lib.sp_ring_repeats, self._repeat_bytes
        start = position = lib.sp_ring_tail(session)
        records: list[Record] = []
        tid = None  # merging stops at another task's record, or a call that makes one
        while len(records) < count:
            at = position & mask
            h = unpack(ring, at)
            if tid is None:
                tid = h[R_TID]
            elif tid != h[R_TID] or (h[R_ARCH], h[R_NR]) in _MAKES_A_TASK:
                tid = -1
            merge = tid == h[R_TID] and not h[R_NSEG]
            run = repeats(session, position, count - len(records), size) if merge else 0
            if run:
                records.extend(repeat((h, ()), run))
                position += size[0]
            else:  # copied memory: a record of its own
                records.append((h, _segments(ring, at, h[R_NSEG]) if h[R_NSEG] else ()))
                position += (_DATA_AT + h[R_DATA_LEN] + 7) & ~7
        lib.sp_release(session, len(records), position - start)
        return records

    def iter_records(self, count: int) -> Generator[Record, None, None]:
        """The next ``count`` ready events as flat records, one at a time; the ones read are
        released when the iterator ends or is closed (close it before anything else reads the
        ring). Unlike :meth:`take_records` it holds no list of the batch: records the consumer
        does not keep die at once, where a list would keep thousands alive through the
        garbage collector's young generation and make each of its passes costly."""
        ring, mask, unpack = self._ring, self._ring_mask, _RECORD.unpack_from
        start = position = lib.sp_ring_tail(self._session)
        done = 0
        try:
            while done < count:  # _record_at, written out: this loop runs once per event
                at = position & mask
                h = unpack(ring, at)
                position += (_DATA_AT + h[R_DATA_LEN] + 7) & ~7
                done += 1
                yield h, (_segments(ring, at, h[R_NSEG]) if h[R_NSEG] else ())
        finally:
            if done:
                lib.sp_release(self._session, done, position - start)

    def release(self, count: int) -> None:
        """Release the next ``count`` ready events unread."""
        start = position = lib.sp_ring_tail(self._session)
        for _ in range(count):
            position += _record_at(self._ring, position & self._ring_mask)[1]
        lib.sp_release(self._session, count, position - start)

    def result(self) -> EngineResult:
        r = lib.sp_result(self._session)
        return EngineResult(
            root_pid=r.root_pid,
            root_status=r.root_status if r.root_exited else None,
            launch_errno=r.launch_errno,
            launch_stage=r.launch_stage,
            notify_sync_wakeup=bool(r.notify_sync_wakeup),
            error_errno=r.error_errno,
            error_where=ffi.string(r.error_where).decode(),
            cancelled=bool(r.cancelled),
        )

    def root_pid(self) -> int:
        return int(lib.sp_result(self._session).root_pid)

    def counts(self, arch_index: int) -> tuple[list[int], list[int]]:
        """Calls and errors per syscall number for one architecture."""
        calls = lib.sp_counts(self._session, arch_index)
        errors = lib.sp_error_counts(self._session, arch_index)
        return list(calls[0:NR_MAX]), list(errors[0:NR_MAX])

    def stops(self) -> int:
        return int(lib.sp_stops(self._session))

    # -- the in-process unprivileged mode (csrc/unpriv.c) ---------------------------------

    def unpriv_enter(self, protect: str) -> int:
        """Put the calling thread in unprivileged mode; 0 or -errno."""
        return int(lib.sp_unpriv_enter(self._session, PROTECT[protect]))

    def unpriv_exit(self) -> None:
        lib.sp_unpriv_exit(self._session)

    def unpriv_events(self) -> list[Record]:
        """Every event recorded in unprivileged mode (call after unpriv_exit)."""
        size = ffi.new("unsigned long long *")
        memory = lib.sp_unpriv_events(self._session, size)
        if size[0] == 0:
            return []
        buf = ffi.buffer(memory, size[0])
        records: list[Record] = []
        at = 0
        while at < size[0]:
            record, used = _record_at(buf, at)
            records.append(record)
            at += used
        return records

    def rules_address(self) -> int:
        """Where the action table lives (tests prove it is out of reach when protected)."""
        return int(ffi.cast("uintptr_t", lib.sp_rules_address(self._session)))


def probe_ptrace() -> int:
    return int(lib.sp_probe_ptrace())


def probe_sysemu() -> int:
    return int(lib.sp_probe_sysemu())


def probe_syscall_info() -> int:
    return int(lib.sp_probe_syscall_info())


def probe_seccomp(program: bytes, flags: int = 0) -> tuple[int, int]:
    """Install ``program`` in a child with these seccomp flags and call getppid under it:
    (0 or the errno of the install, getppid's result or -errno)."""
    ret = ffi.new("long long *")
    buf = ffi.from_buffer(program)
    err = int(lib.sp_probe_seccomp(buf, len(program) // 8, flags, ret))
    return err, int(ret[0])


FEATURES: dict[str, int] = {
    "set_syscall_info": lib.SP_FEATURE_SET_SYSCALL_INFO,
    "set_sud_config": lib.SP_FEATURE_SET_SUD_CONFIG,
    "sud": lib.SP_FEATURE_SUD,
    "sync_wakeup": lib.SP_FEATURE_SYNC_WAKEUP,
}


def probe_feature(name: str) -> int:
    """0 when the feature works here, else the errno the kernel gave."""
    return int(lib.sp_probe_feature(FEATURES[name]))


# ---- VCpu hosts (csrc/vcpu.c) --------------------------------------------------------------

VCPU_NREGS: int = lib.SP_VCPU_NREGS
VCPU_MAX_FDS: int = lib.SP_VCPU_MAX_FDS
VCPU_MAX_OPS: int = lib.SP_VCPU_MAX_OPS
TRAP_SYSCALL: int = lib.SP_TRAP_SYSCALL
TRAP_OPFAIL: int = lib.SP_TRAP_OPFAIL
TRAP_EXITED: int = lib.SP_TRAP_EXITED
OP_MAP: int = lib.SP_VCPU_OP_MAP
OP_UNMAP: int = lib.SP_VCPU_OP_UNMAP
OP_CLOSE_FD: int = lib.SP_VCPU_OP_CLOSE_FD


class RawTrap(NamedTuple):
    kind: int
    signo: int
    code: int
    error: int
    arch: int
    op_index: int
    nr: int
    args: tuple[int, ...]
    addr: int
    regs: tuple[int, ...]


class VcpuOp(NamedTuple):
    kind: int
    addr: int = 0
    length: int = 0
    prot: int = 0
    slot: int = 0
    offset: int = 0


class VcpuHost:
    """One VCpu host process. Raises OSError when it cannot start."""

    def __init__(self, filter_program: bytes, protect: str, cpu: int) -> None:
        error = ffi.new("int *")
        host = lib.sp_vcpu_start(
            ffi.from_buffer(filter_program), len(filter_program) // 8, PROTECT[protect], cpu, error
        )
        if host == ffi.NULL:
            raise OSError(-error[0], os.strerror(-error[0]))
        self._host = host
        self._trap = ffi.new("struct sp_vcpu_trap *")
        self._regs = ffi.new("unsigned long long[]", VCPU_NREGS)
        self._op = ffi.new("struct sp_vcpu_op *")
        self.pid = int(lib.sp_vcpu_pid(host))

    def send_fd(self, fd: int, slot: int) -> int:
        return int(lib.sp_vcpu_send_fd(self._host, fd, slot))

    def queue(self, op: VcpuOp) -> int:
        c = self._op
        c.kind, c.addr, c.length, c.prot, c.slot, c.offset = op
        return int(lib.sp_vcpu_queue(self._host, c))

    def resume(self, regs: Sequence[int], timeout_ms: int) -> int:
        self._regs[0:VCPU_NREGS] = regs
        return int(lib.sp_vcpu_resume(self._host, self._regs, timeout_ms, self._trap))

    def wait(self, timeout_ms: int) -> int:
        return int(lib.sp_vcpu_wait(self._host, timeout_ms, self._trap))

    def trap(self) -> RawTrap:
        t = self._trap
        return RawTrap(
            t.kind,
            t.signo,
            t.code,
            t.error,
            t.arch,
            t.op_index,
            t.nr,
            tuple(t.args),
            t.addr,
            tuple(t.regs),
        )

    def stop(self) -> None:
        if self._host is not None:
            lib.sp_vcpu_stop(self._host)
            self._host = None


def vcpu_bench(
    hosts: Sequence[VcpuHost],
    regs: Sequence[Sequence[int]],
    ops: Sequence[Sequence[VcpuOp]],
    rounds: int,
    yield_nr: int,
) -> int:
    """Run sp_vcpu_bench: nanoseconds for rounds x len(hosts) resumes, or -errno. ``regs`` is
    updated with each context's registers at its last trap."""
    n = len(hosts)
    c_hosts = ffi.new("struct sp_vcpu_host *[]", [h._host for h in hosts])
    flat_regs = ffi.new("unsigned long long[]", [v for r in regs for v in r])
    flat_ops = [op for per in ops for op in per]
    c_ops = ffi.new("struct sp_vcpu_op[]", max(1, len(flat_ops)))
    for i, op in enumerate(flat_ops):
        c = c_ops[i]
        c.kind, c.addr, c.length, c.prot, c.slot, c.offset = op
    starts = [0]
    for per in ops:
        starts.append(starts[-1] + len(per))
    c_starts = ffi.new("unsigned int[]", starts)
    elapsed = int(lib.sp_vcpu_bench(c_hosts, n, flat_regs, c_ops, c_starts, rounds, yield_nr))
    if elapsed >= 0 and isinstance(regs, list):
        for i in range(n):
            regs[i] = tuple(flat_regs[i * VCPU_NREGS : (i + 1) * VCPU_NREGS])
    return elapsed
