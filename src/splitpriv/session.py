"""Tracing sessions: the Python face of the C engine (``splitpriv.trace`` and ``splitpriv.run``).

A session resolves the program (or checks the pid), picks the mechanism, compiles the policy and
the set of traced syscalls into the engine's action table, and starts the engine in its own
thread, which then runs the whole ptrace loop in C. The calling thread drains recorded events in
batches and decodes them; Python runs per syscall only for syscalls with a callback.

Cleanup is explicit, never left to ``__del__``: when the consumer stops early, raises, or gets
KeyboardInterrupt, the session is cancelled (launched tracees are killed, attached ones are
detached), the engine thread is joined, and only then does the error propagate.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence, Set
from functools import cache, lru_cache
from types import TracebackType
from typing import Any

from splitpriv import _binding, mechanisms
from splitpriv._values import field, value_class
from splitpriv.errors import (
    ArgumentTypeError,
    AttachError,
    EngineError,
    LaunchError,
    MechanismUnavailableError,
    NotExecutableError,
    PolicyError,
    ProgramNotFoundError,
)
from splitpriv.events import (
    Event,
    ExecEvent,
    ExitEvent,
    ExitStatus,
    SignalEvent,
    StopEvent,
    SyscallEvent,
)
from splitpriv.policy import Action, Fingerprint, Policy, syscall_keys
from splitpriv.syscalls import (
    ARCHES,
    AUDIT_ARCH_I386,
    AUDIT_ARCH_X86_64,
    CaptureSpec,
    capture_spec,
    render,
    table,
)

# Engine table index of each architecture (csrc: 0 = x86_64, 1 = i386).
ARCH_INDEX = {AUDIT_ARCH_X86_64: 0, AUDIT_ARCH_I386: 1}
CPU_CHOICES = tuple(_binding.CPU_POLICIES)
DEFAULT_CPU = "same"
WAIT_MS = 50

_ACTION_CODES = {
    "allow": _binding.ALLOW,
    "deny": _binding.DENY,
    "emulate": _binding.EMULATE,
    "rewrite": _binding.REWRITE,
}


@value_class(slots=False)
class RunResult:
    """What :func:`run` returns: how the program ended and what it called.

    ``counts``: calls per name, every call where the mechanism's capabilities say
    ``counts_every_call``. ``errors``: the calls that failed, as far as the mechanism sees
    results without stopping for them: every call under ``ptrace`` and the stub mechanisms;
    under ``sysemu``, only the calls it denies or emulates (it lets the others run without an
    exit stop, which is its whole saving); under the seccomp mechanisms, only the calls their
    filter sends them."""

    exit_status: ExitStatus
    counts: dict[str, int]
    errors: dict[str, int] = field(default_factory=dict)
    stops: int = 0

    @property
    def returncode(self) -> int:
        return self.exit_status.returncode


def _check_strings(what: str, values: Iterable[object]) -> None:
    """Each of ``values`` must reach execve whole: a string (or bytes, or a path) with no NUL."""
    for value in values:
        if not isinstance(value, str | bytes | os.PathLike):
            raise ArgumentTypeError(f"{what} must be strings, not {value!r}")
        if "\0" in os.fsdecode(value):
            raise ArgumentTypeError(f"{what} must not contain a NUL byte: {value!r}")


def check_policy_and_syscalls(policy: object, syscalls: object) -> None:
    """A policy that is one, and a list (not a string) of syscall names or numbers."""
    if isinstance(syscalls, str | bytes):
        raise ArgumentTypeError(
            f"syscalls must be a list of names or numbers, not a string: [{syscalls!r}]"
        )
    if isinstance(syscalls, Iterable):
        for spec in syscalls:
            if isinstance(spec, bool) or not isinstance(spec, str | int):
                raise ArgumentTypeError(f"syscalls must be names or numbers, not {spec!r}")
    if policy is not None and not isinstance(policy, Policy):
        raise ArgumentTypeError(f"policy must be a splitpriv.Policy, not {policy!r}")


def _check_arguments(
    argv: object, syscalls: object, policy: object, mechanism: object, string_limit: object
) -> None:
    """One clear line for the arguments a caller most often gets wrong, before they fail deep
    inside (a string argv iterated as letters, a policy that is not one)."""
    if isinstance(argv, str | bytes):
        raise ArgumentTypeError(f"argv must be a list of strings, not a string: [{argv!r}]")
    if isinstance(argv, Iterable):
        _check_strings("argv items", argv)
    check_policy_and_syscalls(policy, syscalls)
    if not isinstance(mechanism, str):
        raise ArgumentTypeError(
            f"mechanism must be a name such as 'ptrace' or 'auto', not {mechanism!r}"
        )
    if isinstance(string_limit, bool) or not isinstance(string_limit, int):
        raise ArgumentTypeError(f"string_limit must be an integer, not {string_limit!r}")
    if not 0 <= string_limit <= render.STRING_LIMIT_MAX:
        raise PolicyError(
            f"string_limit must be between 0 and {render.STRING_LIMIT_MAX}, not {string_limit}"
        )


def resolve_program(argv: Sequence[str], env: Mapping[str, str]) -> str:
    """The executable ``argv[0]`` names, found like execvp would; a clear error if there is none.
    A name with a slash is kept as given (``./t``, not its absolute path): the traced execve
    shows it, and strace shows what it was given too."""
    if not argv:
        raise LaunchError("no program given (empty argv)")
    name = argv[0]
    if "/" in name:
        path = name
    else:
        found = shutil.which(name, path=env.get("PATH", os.defpath))
        if found is None:
            raise ProgramNotFoundError(f"program not found: {name!r} (not on PATH)")
        path = found
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ProgramNotFoundError(f"program not found: {name!r}") from None
    except OSError as exc:
        raise LaunchError(f"cannot use {name!r}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise NotExecutableError(f"not an executable file: {name!r}")
    if not os.access(path, os.X_OK):
        raise NotExecutableError(f"not executable (permission denied): {name!r}")
    return path


def _check_protect(mechanism: mechanisms.Mechanism, protect: str) -> None:
    """Privileged-only memory is a property of the stub mechanisms; keys need the CPU's."""
    if protect == "none":
        return
    if not mechanism.capabilities.privileged_only_memory:
        raise MechanismUnavailableError(
            f"mechanism {mechanism.name!r} has no privileged-only memory (protect={protect!r})"
        )
    if protect == "pkey":
        from splitpriv.doctor import protection_keys

        keys = protection_keys()
        if not keys.ok:
            raise MechanismUnavailableError(f"protection keys: {keys.detail}")


def _check_pid(pid: int) -> None:
    if pid <= 0:
        raise AttachError(f"not a process id: {pid}")
    if pid == os.getpid():
        raise AttachError("cannot trace the supervisor's own process")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise AttachError(f"no such process: {pid}") from None
    except PermissionError:
        raise AttachError(f"not permitted to trace process {pid}") from None


def _traced_keys(syscalls: Iterable[str | int] | None) -> set[tuple[int, int]] | None:
    """The (arch, nr) pairs to record; None means all."""
    if syscalls is None:
        return None
    return {key for spec in syscalls for key in syscall_keys(spec)}


NO_CAPTURE = (0, 0, 0, 0, 0, 0)


@cache
def _captures(arch: int) -> tuple[CaptureSpec, ...]:
    """What to copy for each number of one arch (NR_MAX + 1 entries)."""
    names = table(arch)
    known = {names.number(name) for name in names.names()}
    # Numbers without a name have no prototype: nothing to copy (and nothing to look up).
    return tuple(
        capture_spec(names.name(nr)) if nr in known and nr < _binding.NR_MAX else NO_CAPTURE
        for nr in range(_binding.NR_MAX + 1)
    )


# A session's tables and filter depend only on the policy's content and the traced set; programs
# that trace many commands with one policy build them once (they cost milliseconds).
@lru_cache(maxsize=16)
def _engine_tables(
    fingerprint: Fingerprint, traced: frozenset[tuple[int, int]] | None
) -> dict[int, tuple[_binding.Rule, ...]]:
    policy = Policy.from_fingerprint(fingerprint)
    return {arch: tuple(_engine_rules(arch, policy, traced)) for arch in ARCH_INDEX}


@lru_cache(maxsize=16)
def _packed_tables(
    fingerprint: Fingerprint, traced: frozenset[tuple[int, int]] | None
) -> dict[int, bytes]:
    return {
        arch: _binding.pack_rules(rules)
        for arch, rules in _engine_tables(fingerprint, traced).items()
    }


@lru_cache(maxsize=16)
def _seccomp_filter(
    mechanism: str, fingerprint: Fingerprint, traced: frozenset[tuple[int, int]] | None
) -> bytes:
    return mechanisms.get(mechanism).seccomp_filter(_engine_tables(fingerprint, traced))


def _engine_rules(
    arch: int, policy: Policy, traced: Set[tuple[int, int]] | None
) -> list[_binding.Rule]:
    """The engine's table for one arch: NR_MAX rules, then the one for numbers out of range.
    This runs at every start of ``splitpriv trace``: the 1025 entries are mostly alike, so each
    distinct entry is built once."""
    captures = _captures(arch)
    explicit = policy.rules_of_arch(arch)
    default = policy.default_rule()
    out_of_range = policy.rule_for(arch, -1)
    made: dict[tuple[int, bool, CaptureSpec], _binding.Rule] = {}
    rules = []
    for nr in range(_binding.NR_MAX + 1):
        rule = explicit.get(nr, default) if nr < _binding.NR_MAX else out_of_range
        record = traced is None or (arch, nr) in traced
        capture = captures[nr] if record or rule.callback is not None else NO_CAPTURE
        key = (id(rule), record, capture)  # (hashing the rule itself costs more)
        entry = made.get(key)
        if entry is None:
            action = _binding.CALLBACK if rule.callback else _ACTION_CODES[rule.action.kind]
            args = rule.action.rewrite_args
            entry = made[key] = _binding.Rule(action, record, rule.action.value, capture, args)
        rules.append(entry)
    return rules


_NOTHING: frozenset[int] = frozenset()
_NO_RESULT = _binding.EVF_NORETURN | _binding.EVF_CONTINUED


def _verdict(flags: int) -> str:
    if flags & _binding.EVF_DENIED:
        return "denied"
    if flags & _binding.EVF_REWRITTEN:
        return "rewritten"
    if flags & _binding.EVF_EMULATED:
        return "emulated"
    return "allowed"


# Indices of the flat record (_binding.R_*), written out below: in the per-event function a
# global lookup per field would cost a third of its time.
assert (_binding.R_KIND, _binding.R_FLAGS, _binding.R_PID, _binding.R_TID) == (0, 1, 2, 3)
assert (_binding.R_ARCH, _binding.R_NR, _binding.R_ARGS) == (4, 5, slice(6, 12))
assert (_binding.R_RET, _binding.R_ENTRY, _binding.R_EXIT) == (12, 13, 14)
_EVF_CALLBACK = _binding.EVF_CALLBACK


def _syscall_event(
    h: tuple[int, ...],
    segments: tuple[_binding.Segment, ...],
    _make: Callable[[dict[str, Any]], SyscallEvent] = SyscallEvent._from_fields,
    _arches: Mapping[int, str] = ARCHES,
    _split: Callable[..., tuple[dict[int, bytes], frozenset[int], frozenset[int]]] = (
        _binding.split_segments
    ),
) -> SyscallEvent:
    """The public event of a flat syscall record. This runs once per recorded event: the common
    case (no copied memory, no flags) builds one dict and nothing else. (The defaults bind
    globals as locals: one lookup fewer each, per event.)"""
    memory: dict[int, bytes] = {}
    truncated = faults = _NOTHING
    if segments:
        memory, truncated, faults = _split(segments)
    flags = h[1]
    if flags:
        noreturn = flags & _NO_RESULT
        retval = None if noreturn else h[12]
        exit_ns = None if noreturn else h[14]
        verdict, by_callback = _verdict(flags), bool(flags & _EVF_CALLBACK)
    else:
        retval, exit_ns, verdict, by_callback = h[12], h[14], "allowed", False
    return _make(
        {
            "pid": h[2],
            "tid": h[3],
            "nr": h[5],
            "arch": _arches.get(h[4], "x86_64"),
            "args": h[6:12],
            "retval": retval,
            "entry_ns": h[13],
            "exit_ns": exit_ns,
            "verdict": verdict,
            "by_callback": by_callback,
            "memory": memory,
            "truncated": truncated,
            "faults": faults,
        }
    )


def _call_event(h: tuple[int, ...], segments: tuple[_binding.Segment, ...]) -> SyscallEvent:
    """The event a policy callback decides: a call at its entry, not yet made, so it has no
    result and no exit time. Once per callback, on the engine thread while the tracee waits."""
    event = _syscall_event(h, segments)
    fields = event.__dict__  # (not seen by anyone yet: the frozen event is still being made)
    fields["retval"] = fields["exit_ns"] = None
    return event


def decode_record(record: _binding.Record) -> Event:
    """A flat engine record as a public event."""
    h, segments = record
    kind = h[_binding.R_KIND]
    if kind == _binding.EV_SYSCALL:
        return _syscall_event(h, segments)
    pid, tid, when = h[_binding.R_PID], h[_binding.R_TID], h[_binding.R_ENTRY]
    if kind == _binding.EV_SIGNAL:
        f = _binding.signal_fields(h)
        return SignalEvent(
            f.pid, f.tid, f.sig, f.code, f.sender_pid, f.sender_uid, f.time_ns, f.status
        )
    if kind == _binding.EV_STOPPED:
        return StopEvent(pid, tid, h[_binding.R_SIG], when)
    if kind == _binding.EV_EXEC:
        return ExecEvent(pid, tid, h[_binding.R_STATUS], when)
    return ExitEvent(pid, tid, ExitStatus.from_wait_status(h[_binding.R_STATUS]), when)


def decode(raw: _binding.RawEvent) -> Event:
    """A raw engine record as a public event."""
    return decode_record(_binding.record_of(raw))


class Trace:
    """A running trace: a context manager and an iterator of events.

    ::

        with splitpriv.trace(["ls"], syscalls=["openat"]) as t:
            for event in t:
                print(event.format())
        print(t.exit_status)
    """

    def __init__(
        self,
        argv: Sequence[str] | None = None,
        *,
        pid: int | None = None,
        mechanism: str = "ptrace",
        follow_forks: bool = True,
        syscalls: Iterable[str | int] | None = None,
        policy: Policy | None = None,
        cpu: str = DEFAULT_CPU,
        env: Mapping[str, str] | None = None,
        string_limit: int = 4096,
        record: bool = True,
        signals: bool = True,
        ring_bytes: int = 4 << 20,
        protect: str = "none",
        entry_records: bool = False,
        require: Collection[str] = (),
    ) -> None:
        if (argv is None) == (pid is None):
            raise LaunchError("give either a command (argv) or a pid to attach to")
        if isinstance(argv, Iterable) and not isinstance(argv, str | bytes):
            argv = list(argv)  # read once: it may be an iterator
        if isinstance(syscalls, Iterable) and not isinstance(syscalls, str | bytes):
            syscalls = list(syscalls)
        _check_arguments(argv, syscalls, policy, mechanism, string_limit)
        if cpu not in CPU_CHOICES:
            raise PolicyError(f"cpu must be one of {', '.join(CPU_CHOICES)}, not {cpu!r}")
        if protect not in _binding.PROTECT:
            raise PolicyError(f"protect must be one of {', '.join(_binding.PROTECT)}")
        self.policy = policy or Policy()
        given = dict(os.environ if env is None else env)
        _check_strings("env names and values", [*given, *given.values()])
        self._env = {os.fsdecode(name): os.fsdecode(value) for name, value in given.items()}
        if any("=" in name for name in self._env):
            raise ArgumentTypeError("env names must not contain '='")
        self._argv = [os.fsdecode(a) for a in argv] if argv is not None else []
        self._path = resolve_program(self._argv, self._env) if argv is not None else None
        if pid is not None:
            _check_pid(pid)
        self.mechanism = mechanisms.choose(
            mechanism,
            deny=self.policy.uses("deny"),
            emulate=self.policy.uses("emulate"),
            rewrite=self.policy.uses("rewrite"),
            callbacks=self.policy.has_callbacks(),
            attach=pid is not None,
            untraced_children=not follow_forks,
            return_values=record,
            policy=self.policy,
            require=require,
        )
        _check_protect(self.mechanism, protect)
        # Whether record_batches() has entry records (they need the mechanism's support).
        self.entry_records = entry_records and record and self.mechanism.capabilities.entry_records
        self._callbacks = {key: r.callback for key, r in self.policy.rules() if r.callback}
        traced = _traced_keys(syscalls) if record else set()
        fingerprint = self.policy.fingerprint()
        traced_key = None if traced is None else frozenset(traced)
        rules = _packed_tables(fingerprint, traced_key)
        self._engine = _binding.EngineSession(
            mode=self.mechanism.engine_mode,
            follow_forks=follow_forks,
            cpu=cpu,
            attach_pid=pid or 0,
            string_limit=string_limit,
            ring_bytes=ring_bytes,
            record_signals=record and signals,
            decide=self._decide if self._callbacks else None,
            seccomp_filter=_seccomp_filter(self.mechanism.name, fingerprint, traced_key),
            protect=protect,
            entry_records=self.entry_records,
        )
        for arch, index in ARCH_INDEX.items():
            self._engine.set_rules(index, rules[arch])
        self._thread: threading.Thread | None = None
        self._run_rc = 0
        self._done = False
        self._late_error: Exception | None = None  # see _ready_counts
        self.exit_status: ExitStatus | None = None

    # -- the engine thread ------------------------------------------------------------------

    def _engine_main(self) -> None:
        self._run_rc = self._engine.run(self._path, self._argv, self._env)

    def _decide(self, record: _binding.Record) -> _binding.Verdict | None:
        """Called in the engine thread for syscalls whose rule is a Python callback."""
        h, segments = record
        callback = self._callbacks[h[4], h[5]]  # (arch, nr): the R_* indices asserted above
        action = callback(_call_event(h, segments))
        if action is None:
            return None  # allow
        if not isinstance(action, Action):
            raise PolicyError(f"a policy callback returned {action!r}, not an Action")
        if action.kind == "rewrite" and not self.mechanism.capabilities.rewrite_args:
            raise PolicyError(f"a policy callback asked {self.mechanism.name} to rewrite arguments")
        return _binding.Verdict(_ACTION_CODES[action.kind], action.value, action.rewrite_args)

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Trace:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._engine_main, name="splitpriv-engine", daemon=True
            )
            self._thread.start()
        return self

    @property
    def pid(self) -> int | None:
        """The traced process, once launched (or once attached, with ``pid=``)."""
        return self._engine.root_pid() or None

    def wait_started(self, timeout: float = 5.0) -> bool:
        """Start the session if needed and wait until its process is launched or attached:
        True then, False if the session ended first (a failed attach: the error comes when
        it is closed) or ``timeout`` seconds passed."""
        self.start()
        deadline = time.monotonic() + timeout
        while self.pid is None:
            assert self._thread is not None
            if not self._thread.is_alive() or time.monotonic() > deadline:
                return self.pid is not None
            time.sleep(0.001)
        return True

    def __enter__(self) -> Trace:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[Event]:
        return self.events()

    def record_batches(
        self, *, merge_repeats: bool | Callable[[], bool] = False
    ) -> Iterator[list[_binding.Record]]:
        """Flat engine records in the batches the engine hands over: the fastest form to read,
        for tools that count or format themselves. Each record is ``(fields, segments)``:
        ``fields`` holds kind, flags, pid, tid, arch (AUDIT_ARCH_*), nr, the six arguments,
        the result, entry and exit times (ns), signal, status, si_code, si_pid, si_uid,
        si_status, the number of segments and the bytes of copied data, in that order;
        ``segments`` the copied memory, one per argument (poll's array twice: the copy made
        at exit is labelled with the argument plus ``SEG_AFTER``).

        With ``entry_records=True`` (mechanisms whose capabilities say ``entry_records``), a
        record of one task is preceded by the entry of each other task's recorded call still
        in progress: a syscall record flagged ``EVF_ENTRY``, with the arguments and what was
        copied at entry but no result. That call's whole record follows later, flagged
        ``EVF_ENTRY_SHOWN``. So, at each record, every call that began before it has shown
        up: what a printer needs to write strace's ``<unfinished ...>`` lines as it goes.
        :meth:`events` and :meth:`batches` leave these entry records out.

        ``merge_repeats=True`` (or a function asked before each batch): a record that repeats
        the one before in everything but its times, with no copied memory (a loop's calls), is
        that very tuple, the first one's times included, found by the engine without reading
        each, as long as the batch holds one task's records: for a consumer that can write one
        line for a run (``batch[i] is batch[i - 1]``) and needs no per-call times."""
        take = self._engine.take_records
        for ready in self._ready_counts():
            merge = merge_repeats() if callable(merge_repeats) else merge_repeats
            yield take(ready, merge_repeats=merge)

    def _ready_counts(self) -> Iterator[int]:
        """How many events are ready, each time some are, until the session ends."""
        self.start()
        try:
            while True:
                ready = self._engine.wait_events(WAIT_MS)
                if ready < 0:
                    break
                if ready:
                    yield ready
        except GeneratorExit:
            # The consumer left early (break): a generator's clean-up can raise to nobody, so
            # an error of the session's is kept for close() (the end of the with block).
            try:
                self._finish()
            except Exception as error:
                self._late_error = error
            raise
        finally:
            self._finish()

    def batches(self) -> Iterator[list[_binding.RawEvent]]:
        """Raw engine records, with named fields, in the batches the engine hands over."""
        entry = _binding.EVF_ENTRY
        for batch in self.record_batches():
            yield [_binding.raw_event(record) for record in batch if not record[0][1] & entry]

    def events(self) -> Iterator[Event]:
        syscall, syscall_event, decode = _binding.EV_SYSCALL, _syscall_event, decode_record
        entry = _binding.EVF_ENTRY  # (entry_records: the whole call comes later)
        for ready in self._ready_counts():
            # One record at a time (see iter_records: no batch kept alive for the garbage
            # collector to walk), released before the session may end (_finish reads the ring).
            records = self._engine.iter_records(ready)
            try:
                for record in records:
                    h, segments = record
                    if h[0] != syscall:
                        yield decode(record)
                    elif not h[1] & entry:
                        yield syscall_event(h, segments)
            finally:
                records.close()

    def wait(self) -> ExitStatus:
        """Run to the end, discarding events; the exit status of the traced process."""
        for _ in self.record_batches():
            pass
        assert self.exit_status is not None
        return self.exit_status

    def stop(self) -> None:
        """Ask the session to end (launched tracees killed, attached ones detached) and go on
        reading: the records up to the end still come (a call an attached task was in shows
        as detached), then the iteration ends. Safe from a signal handler."""
        if self._thread is not None and not self._done:
            self._engine.cancel()

    def close(self) -> None:
        """Stop the session now if it still runs (kill launched tracees, detach attached), and
        raise its error if it had one. From a policy callback (the engine's own thread, which
        cannot wait for itself) it asks the session to end, as :meth:`stop` does."""
        if self._thread is threading.current_thread():
            self.stop()
            return
        if self._thread is not None and not self._done:
            self._finish()
        if self._late_error is not None:
            error, self._late_error = self._late_error, None
            raise error

    def _finish(self) -> None:
        if self._done or self._thread is None:
            return
        self._done = True
        thread = self._thread
        interrupted: KeyboardInterrupt | None = None
        while thread.is_alive():
            # A second Ctrl-C during clean-up must not cut it short: that would leave a
            # tracee unreaped. It is raised once the session is over.
            try:
                if self._engine.wait_events(0) != -1:
                    # The consumer left early (break, exception, Ctrl-C): end the session,
                    # and release events so an engine blocked on a full ring sees the cancel.
                    self._engine.cancel()
                    ready = self._engine.wait_events(WAIT_MS)
                    if ready > 0:
                        self._engine.release(ready)
                thread.join(0.001)
            except KeyboardInterrupt as exc:
                interrupted = exc
        thread.join()
        self._check_result()
        if interrupted is not None:
            raise interrupted

    def _check_result(self) -> None:
        result = self._engine.result()
        if self._engine.callback_error is not None:
            raise self._engine.callback_error
        if result.launch_errno and result.launch_stage == _binding.STAGE_SECCOMP:
            raise MechanismUnavailableError(
                f"{self.mechanism.name}: installing the seccomp filter failed: "
                f"{os.strerror(result.launch_errno)}"
            )
        if result.launch_stage == _binding.STAGE_ANSWERED:
            raise LaunchError(
                f"cannot execute {self._argv[0]!r}: the policy answered its execve "
                f"({result.launch_errno}) instead of letting it run"
            )
        if result.launch_errno:
            err = result.launch_errno
            message = f"cannot execute {self._argv[0]!r}: {os.strerror(err)}"
            if err == 2:
                raise ProgramNotFoundError(message)
            if err in (8, 13):  # ENOEXEC, EACCES
                raise NotExecutableError(message)
            raise LaunchError(message)
        if self._run_rc < 0 and not result.error_errno:
            err = -self._run_rc
            if self._path is None:
                raise AttachError(f"cannot attach to process: {os.strerror(err)}")
            raise LaunchError(f"cannot start {self._argv[0]!r}: {os.strerror(err)}")
        if result.error_errno:
            raise EngineError(
                f"the engine stopped: {result.error_where}: {os.strerror(result.error_errno)}"
            )
        if result.root_status is not None:
            self.exit_status = ExitStatus.from_wait_status(result.root_status)
        else:
            # Attached processes that we detached from (or that outlived us) have no status.
            self.exit_status = ExitStatus(code=None)

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Calls and failed calls per syscall name; i386 calls are named ``i386:NAME``."""
        calls: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for arch, index in ARCH_INDEX.items():
            names = table(arch)
            prefix = "" if arch == AUDIT_ARCH_X86_64 else f"{names.arch_name}:"
            arch_calls, arch_errors = self._engine.counts(index)
            for nr, n in enumerate(arch_calls):
                if n:
                    calls[prefix + names.name(nr)] += n
                if arch_errors[nr]:
                    errors[prefix + names.name(nr)] += arch_errors[nr]
        return dict(calls), dict(errors)

    def stops(self) -> int:
        """How many times the engine woke for this session (ptrace stops and exits)."""
        return self._engine.stops()


def trace(
    argv: Sequence[str] | None = None,
    *,
    pid: int | None = None,
    mechanism: str = "ptrace",
    follow_forks: bool = True,
    syscalls: Iterable[str | int] | None = None,
    policy: Policy | None = None,
    cpu: str = DEFAULT_CPU,
    env: Mapping[str, str] | None = None,
    string_limit: int = 4096,
    protect: str = "none",
    entry_records: bool = False,
    require: Collection[str] = (),
) -> Trace:
    """Trace a command (``argv``) or a running process (``pid``).

    Returns a :class:`Trace`, to use as a context manager and iterate for events.
    ``syscalls`` limits which syscalls are recorded (names or x86_64 numbers; None: all).
    ``policy`` may deny, emulate or ask a callback. ``cpu`` places the engine and tracees:
    "same" (one CPU for both: the cheapest wake-ups here), "spread" or "none".
    ``protect`` ("none", "mprotect", "pkey"): for the stub mechanisms (``sud``,
    ``seccomp-trap``), keep the stub's data out of the tracee's reach outside the handler.
    "pkey" guards per thread; "mprotect" per process, so while one thread of a process is in
    the handler its other threads could read the data too.
    ``entry_records``: also hand over, in :meth:`Trace.record_batches`, the entry of calls
    still in progress when another task's record comes (see there); for mechanisms whose
    capabilities say ``entry_records``, ignored by the others.
    ``require``: capabilities the mechanism must have, by their names in
    :class:`~splitpriv.mechanisms.Capabilities` (``"sees_signals"``,
    ``"holds_against_hostile_tracee"``, ...): "auto" picks the cheapest that has them, and a
    named mechanism that lacks one is refused (MechanismUnavailableError).
    """
    return Trace(
        argv,
        pid=pid,
        mechanism=mechanism,
        follow_forks=follow_forks,
        syscalls=syscalls,
        policy=policy,
        cpu=cpu,
        env=env,
        string_limit=string_limit,
        protect=protect,
        entry_records=entry_records,
        require=require,
    )


def run(
    argv: Sequence[str],
    *,
    policy: Policy | None = None,
    mechanism: str = "ptrace",
    follow_forks: bool = True,
    cpu: str = DEFAULT_CPU,
    env: Mapping[str, str] | None = None,
    protect: str = "none",
    require: Collection[str] = (),
) -> RunResult:
    """Run a command under a policy; its exit status and per-syscall counts. ``require``: as
    for :func:`trace`.

    Nothing is recorded: the engine counts in C, and Python runs only for callbacks.
    """
    session = Trace(
        argv,
        mechanism=mechanism,
        follow_forks=follow_forks,
        policy=policy,
        cpu=cpu,
        env=env,
        record=False,
        protect=protect,
        require=require,
    )
    with session:
        status = session.wait()
    calls, errors = session.counts()
    return RunResult(status, calls, errors, session.stops())
