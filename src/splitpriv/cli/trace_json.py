"""``--json``: the trace as JSON lines, one object per syscall, signal, stop and exit.

Every object has ``"v"`` (the schema version, :data:`SCHEMA_VERSION`) and ``"type"``.
:data:`SCHEMA` is the JSON Schema (draft 2020-12) of one line; docs/trace.md explains each
field. Objects come in the order the engine recorded them: a syscall when it returned (its
``entry_ns`` says when it began), so no ``<unfinished ...>`` pairs exist here. Times are
nanoseconds of CLOCK_REALTIME. The argument texts and ``result`` are strace's, exactly as the
text output prints them (with ``-s``, ``-y`` applied).

Compatibility: a new optional field keeps the version; renaming, removing or changing the
meaning of a field raises it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any, Final, TextIO

from splitpriv.cli.trace_records import Call, Exec, Exit, Other, Signal, Stop
from splitpriv.cli.trace_render import LineFormat
from splitpriv.syscalls import render
from splitpriv.syscalls.siginfo import code_name, format_siginfo, signal_name

SCHEMA_VERSION: Final = 1

_INT = {"type": "integer"}
_STR = {"type": "string"}
_NULL_INT = {"type": ["integer", "null"]}
_NULL_STR = {"type": ["string", "null"]}
_TASK = {"pid": _INT, "tid": _INT}


def _object(kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    props = {"v": {"const": SCHEMA_VERSION}, "type": {"const": kind}, **properties}
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://splitpriv.invalid/schemas/trace-v1.json",
    "title": "splitpriv trace --json line, version 1",
    "oneOf": [
        _object(
            "syscall",
            {
                **_TASK,
                "name": _STR,
                "nr": _INT,
                "arch": {"enum": ["x86_64", "i386"]},
                "args": {"type": "array", "items": _STR},
                "raw_args": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "result": _STR,
                "retval": _NULL_INT,
                "errno": _NULL_STR,
                "status": {
                    "enum": ["successful", "failed", "unfinished", "unavailable", "detached"]
                },
                "verdict": {"enum": ["allowed", "denied", "emulated", "rewritten"]},
                "entry_ns": _INT,
                "exit_ns": _NULL_INT,
                "duration_ns": _NULL_INT,
            },
        ),
        _object(
            "signal",
            {
                **_TASK,
                "time_ns": _INT,
                "signal": _STR,
                "signo": _INT,
                "code": _STR,
                "si_code": _INT,
                "si_pid": _INT,
                "si_uid": _INT,
                "si_status": _INT,
                "siginfo": _STR,
            },
        ),
        _object("stop", {**_TASK, "time_ns": _INT, "signal": _STR, "signo": _INT}),
        _object(
            "exit",
            {
                **_TASK,
                "time_ns": _INT,
                "exit_code": _NULL_INT,
                "signal": _NULL_STR,
                "signo": _NULL_INT,
                "core_dumped": {"type": "boolean"},
            },
        ),
        _object(
            "summary",
            {
                "arch": {"enum": ["x86_64", "i386"]},
                "syscalls": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": _STR,
                            "calls": _INT,
                            "errors": _INT,
                            "total_ns": _INT,
                            "min_ns": _INT,
                            "max_ns": _INT,
                            "avg_ns": _INT,
                            "percent": {"type": "number"},
                        },
                        "required": [
                            "name",
                            "calls",
                            "errors",
                            "total_ns",
                            "min_ns",
                            "max_ns",
                            "avg_ns",
                            "percent",
                        ],
                        "additionalProperties": False,
                    },
                },
                "total": {
                    "type": "object",
                    "properties": {"calls": _INT, "errors": _INT, "total_ns": _INT},
                    "required": ["calls", "errors", "total_ns"],
                    "additionalProperties": False,
                },
            },
        ),
    ],
}

_MASK64 = (1 << 64) - 1


def syscall_object(call: Call, fmt: LineFormat) -> dict[str, Any]:
    args = fmt.arguments(call)
    ret = call.retval
    errno = None
    if ret is not None and -render.ERRNO_MAX <= ret < 0:
        errno = render.errno_name(-ret)
    return {
        "v": SCHEMA_VERSION,
        "type": "syscall",
        "pid": call.pid,
        "tid": call.tid,
        "name": call.name,
        "nr": call.nr,
        "arch": call.arch,
        "args": [str(a) for a in args],
        "raw_args": [a & _MASK64 for a in call.args],
        "result": fmt.result(call),
        "retval": ret,
        "errno": errno,
        "status": call.status,
        "verdict": call.verdict,
        "entry_ns": call.entry_ns,
        "exit_ns": call.exit_ns,
        "duration_ns": None if call.exit_ns is None else call.exit_ns - call.entry_ns,
    }


def other_object(record: Other) -> dict[str, Any] | None:
    """The object of a signal, stop or exit record (an exec has none)."""
    head: dict[str, Any] = {"v": SCHEMA_VERSION, "type": ""}
    head.update(pid=record.pid, tid=record.tid, time_ns=record.time_ns)
    if isinstance(record, Signal):
        head["type"] = "signal"
        head.update(
            signal=signal_name(record.signo),
            signo=record.signo,
            code=code_name(record.signo, record.code),
            si_code=record.code,
            si_pid=record.sender_pid,
            si_uid=record.sender_uid,
            si_status=record.status,
            siginfo=format_siginfo(
                record.signo, record.code, record.sender_pid, record.sender_uid, record.status
            ),
        )
        return head
    if isinstance(record, Stop):
        head["type"] = "stop"
        head.update(signal=signal_name(record.signo), signo=record.signo)
        return head
    if isinstance(record, Exit):
        status = record.status
        head["type"] = "exit"
        head.update(
            exit_code=status.code,
            signal=None if status.signal is None else signal_name(status.signal),
            signo=status.signal,
            core_dumped=status.core_dumped,
        )
        return head
    return None


class JsonTrace:
    """Writes one JSON object per line to ``out`` as records arrive (no reordering needed)."""

    def __init__(
        self,
        out: TextIO,
        fmt: LineFormat,
        *,
        quiet_exit: bool = False,
        stderr: TextIO | None = None,
    ) -> None:
        self.out = out
        self.fmt = fmt
        self.quiet_exit = quiet_exit
        self.stderr = stderr if stderr is not None else sys.stderr
        self.lock = threading.RLock()
        self.root: int | None = None
        import json  # here, not at the top: a text trace does not pay for it at launch

        self._dumps = json.JSONEncoder(separators=(",", ":")).encode

    def begin(self, root: int, threads: Sequence[int] = ()) -> None:
        self.root = root

    def call(self, call: Call) -> None:
        with self.lock:
            self.out.write(self._dumps(syscall_object(call, self.fmt)) + "\n")

    def observe(self, call: Call) -> None:
        with self.lock:
            self.fmt.observe(call)

    def other(self, record: Other) -> None:
        if isinstance(record, Exec) or (isinstance(record, Exit) and self.quiet_exit):
            return
        obj = other_object(record)
        if obj is not None:
            with self.lock:
                self.out.write(self._dumps(obj) + "\n")

    def summary(self, objects: list[dict[str, Any]]) -> None:
        with self.lock:
            for obj in objects:
                self.out.write(self._dumps(obj) + "\n")

    def message(self, text: str) -> None:
        self.stderr.write(f"splitpriv: {text}\n")
        self.stderr.flush()

    def end_batch(self) -> None:
        pass

    def tick(self) -> None:
        pass

    def finish(self) -> None:
        with self.lock:
            self.out.flush()


__all__ = ["SCHEMA", "SCHEMA_VERSION", "JsonTrace", "other_object", "syscall_object"]
