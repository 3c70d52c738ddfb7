"""``splitpriv.unprivileged()``: the seed's ``unprivilege()`` as a library call.

Inside the ``with`` block the calling Python thread runs in unprivileged mode: every syscall it
makes (the interpreter's own, and those of any C code it calls) traps to splitpriv's SIGSYS
handler in this process, the controlled entry point, which applies the policy in C and records
what happened. No tracer, no ptrace, no Python per syscall. The events can be read afterwards.

What it is for: measuring and emulating, and a working demonstration of the 2002 proposal with
today's kernel (Syscall User Dispatch). What it is not: confinement. The thread can leave the
mode by writing one byte (the SUD selector), and threads and processes it starts run
privileged. ``protect="mprotect"`` or ``"pkey"`` keeps the action table out of reach outside the
handler. See csrc/unpriv.c for the mechanics.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from types import TracebackType

from splitpriv import _binding
from splitpriv.errors import MechanismUnavailableError, PolicyError, SplitprivError
from splitpriv.events import Event
from splitpriv.mechanisms._probes import sud_problem
from splitpriv.policy import Policy
from splitpriv.session import (
    ARCH_INDEX,
    _engine_rules,
    _traced_keys,
    check_policy_and_syscalls,
    decode_record,
)

PROTECT_CHOICES = tuple(_binding.PROTECT)


class Unprivileged:
    """A context manager: the calling thread is unprivileged inside ``with``; read
    :attr:`events` and :meth:`counts` afterwards."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        syscalls: Iterable[str | int] | None = None,
        protect: str = "none",
        string_limit: int = 256,
    ) -> None:
        if isinstance(syscalls, Iterable) and not isinstance(syscalls, str | bytes):
            syscalls = list(syscalls)  # read once: it may be an iterator
        check_policy_and_syscalls(policy, syscalls)
        if protect not in PROTECT_CHOICES:
            raise PolicyError(f"protect must be one of {', '.join(PROTECT_CHOICES)}")
        self.policy = policy or Policy()
        if self.policy.has_callbacks():
            raise PolicyError(
                "unprivileged mode cannot ask Python callbacks: the interpreter is the tracee"
            )
        problem = sud_problem()
        if problem:
            raise MechanismUnavailableError(f"unprivileged mode needs {problem}")
        self.protect = protect
        traced = _traced_keys(syscalls)
        self._engine = _binding.EngineSession(
            mode=_binding.MODE_INPROCESS,
            follow_forks=False,
            cpu="none",
            string_limit=string_limit,
            record_signals=False,
        )
        for arch, index in ARCH_INDEX.items():
            self._engine.set_rules(index, _engine_rules(arch, self.policy, traced))
        self.events: list[Event] = []
        self._entered = False

    @property
    def table_address(self) -> int:
        """The action table's address: with protection on, touching it here faults."""
        return self._engine.rules_address()

    def __enter__(self) -> Unprivileged:
        if self._entered:
            raise SplitprivError("an Unprivileged block can be entered once")
        rc = self._engine.unpriv_enter(self.protect)
        if rc == -errno.EBUSY:
            raise SplitprivError("a thread of this process is already in unprivileged mode")
        if rc < 0 and self.protect == "pkey":
            raise MechanismUnavailableError(
                f"protection keys: pkey_alloc {errno.errorcode.get(-rc, rc)}: this CPU or "
                "kernel gives no protection keys"
            )
        if rc < 0:
            raise MechanismUnavailableError(f"unprivileged mode: {os.strerror(-rc)}")
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._engine.unpriv_exit()
        self.events = [decode_record(record) for record in self._engine.unpriv_events()]

    def counts(self) -> dict[str, int]:
        """Calls per syscall name made while unprivileged."""
        from splitpriv.syscalls import AUDIT_ARCH_X86_64, table

        calls, _ = self._engine.counts(ARCH_INDEX[AUDIT_ARCH_X86_64])
        names = table(AUDIT_ARCH_X86_64)
        return {names.name(nr): n for nr, n in enumerate(calls) if n}


def unprivileged(
    policy: Policy | None = None,
    *,
    syscalls: Iterable[str | int] | None = None,
    protect: str = "none",
) -> Unprivileged:
    """Run the ``with`` block's thread in unprivileged mode under ``policy``.

    ::

        with splitpriv.unprivileged(Policy().emulate("getppid", retval=1)) as u:
            os.getppid()          # 1, answered by the SIGSYS handler
        print(u.events[-1])
    """
    return Unprivileged(policy, syscalls=syscalls, protect=protect)
