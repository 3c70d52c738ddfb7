"""Policies: what happens to each syscall of a tracee.

A :class:`Policy` maps syscalls (by name or x86_64 number) to an :class:`Action` (allow, deny
with an errno, emulate a return value, rewrite arguments) or to a Python callback that sees the
decoded call and returns an Action. Names apply to every architecture a 64-bit process can
reach (x86_64 and the i386 table behind ``int $0x80``), so denying "open" also denies the i386
open. Everything else gets the default action.

A policy is data: it never runs anything itself. The session compiles it into the engine's C
action table (``splitpriv.session``); only syscalls with a callback ever run Python.
"""

from __future__ import annotations

import errno as errno_module
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from splitpriv._values import value_class
from splitpriv.errors import PolicyError
from splitpriv.syscalls import AUDIT_ARCH_X86_64, numbers_for_all_arches, resolve

if TYPE_CHECKING:
    from splitpriv.events import SyscallEvent

ActionKind = Literal["allow", "deny", "emulate", "rewrite"]


@value_class
class Action:
    """A verdict for one call. Build it with :meth:`allow`, :meth:`deny` or :meth:`emulate`."""

    kind: ActionKind
    value: int = 0
    rewrite_args: tuple[tuple[int, int], ...] = ()

    @classmethod
    def allow(cls) -> Action:
        return cls("allow")

    @classmethod
    def deny(cls, errno: int | str = errno_module.EPERM) -> Action:
        """The call is not run; the tracee sees -1 with ``errno`` (a number or a name)."""
        return cls("deny", parse_errno(errno))

    @classmethod
    def emulate(cls, retval: int) -> Action:
        """The call is not run; the tracee sees ``retval`` as its result."""
        if not isinstance(retval, int) or isinstance(retval, bool):
            raise PolicyError(f"emulate needs an integer return value, not {retval!r}")
        if not -(2**63) <= retval < 2**63:
            raise PolicyError(f"emulated return value {retval} does not fit in 64 bits")
        return cls("emulate", retval)

    @classmethod
    def rewrite(cls, args: Mapping[int, int]) -> Action:
        """The call runs with these arguments (index 0-5 -> new value) replaced."""
        if not isinstance(args, Mapping):
            raise PolicyError(f"rewrite args must map index to value, as {{2: 0}}, not {args!r}")
        pairs = []
        for index, value in sorted(args.items()):
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 6:
                raise PolicyError(f"argument index must be 0 to 5, not {index!r}")
            if isinstance(value, bool) or not isinstance(value, int):
                raise PolicyError(f"a rewritten argument must be an integer, not {value!r}")
            if not -(2**63) <= value < 2**64:
                raise PolicyError(f"rewritten argument {value} does not fit in 64 bits")
            pairs.append((index, value))
        if not pairs:
            raise PolicyError("rewrite needs at least one argument")
        return cls("rewrite", 0, tuple(pairs))


ALLOW = Action.allow()

Callback = Callable[["SyscallEvent"], "Action | None"]


def parse_errno(errno: int | str) -> int:
    """An errno number from a number or a name such as ``"EACCES"``."""
    if isinstance(errno, str) and errno.strip().isdigit():
        errno = int(errno)  # "13", as a command line or a config file gives it
    if isinstance(errno, str):
        code = getattr(errno_module, errno.upper(), None)
        if not isinstance(code, int):
            raise PolicyError(f"unknown errno name {errno!r}")
        return code
    if isinstance(errno, bool) or not isinstance(errno, int) or not 1 <= errno <= 4095:
        raise PolicyError(f"errno must be between 1 and 4095, not {errno!r}")
    return errno


@value_class
class Rule:
    """What a policy says about one syscall: a fixed action, or a callback."""

    action: Action
    callback: Callback | None = None


# (audit arch, number): the key of every rule.
SyscallKey = tuple[int, int]
# A policy's content, hashable: its default and its rules.
Fingerprint = tuple[Action, frozenset[tuple[SyscallKey, Rule]]]


class Policy:
    """Per-syscall actions plus a default. Methods return the policy, so calls chain::

    Policy().deny("unlinkat", "unlink", errno="EACCES").emulate("getuid", retval=0)
    """

    def __init__(self, default: Action = ALLOW) -> None:
        if not isinstance(default, Action):
            raise PolicyError(
                f"the default must be an Action (Action.allow(), Action.deny(...)), not {default!r}"
            )
        self.default = default
        self._rules: dict[SyscallKey, Rule] = {}
        self._names: dict[SyscallKey, str] = {}

    def allow(self, *syscalls: str | int) -> Policy:
        return self._set(syscalls, Rule(ALLOW))

    def deny(self, *syscalls: str | int, errno: int | str = errno_module.EPERM) -> Policy:
        return self._set(syscalls, Rule(Action.deny(errno)))

    def emulate(self, *syscalls: str | int, retval: int) -> Policy:
        return self._set(syscalls, Rule(Action.emulate(retval)))

    def rewrite(self, *syscalls: str | int, args: Mapping[int, int]) -> Policy:
        """These calls run with some arguments replaced (index 0-5 -> new value)."""
        return self._set(syscalls, Rule(Action.rewrite(args)))

    def callback(self, *syscalls: str | int, fn: Callback) -> Policy:
        """``fn(call)`` decides each of these calls before they are made (``call.retval`` is
        None); it returns an Action (None: allow)."""
        if not callable(fn):
            raise PolicyError(f"callback must be callable, not {fn!r}")
        return self._set(syscalls, Rule(ALLOW, fn))

    def fingerprint(self) -> Fingerprint:
        """The policy's content as a hashable value (equal policies, equal fingerprints)."""
        return self.default, frozenset(self._rules.items())

    @classmethod
    def from_fingerprint(cls, fingerprint: Fingerprint) -> Policy:
        default, rules = fingerprint
        policy = cls(default)
        policy._rules.update(rules)
        return policy

    def rules(self) -> Iterator[tuple[SyscallKey, Rule]]:
        yield from self._rules.items()

    def rule_for(self, arch: int, nr: int) -> Rule:
        return self._rules.get((arch, nr)) or self.default_rule()

    def default_rule(self) -> Rule:
        """The rule of every number no rule names."""
        return Rule(self.default)

    def rules_of_arch(self, arch: int) -> dict[int, Rule]:
        """The explicit rules of one arch by number (every other number has the default)."""
        return {nr: rule for (a, nr), rule in self._rules.items() if a == arch}

    def uses(self, kind: ActionKind) -> bool:
        """Whether any rule (or the default) can give this kind of verdict."""
        if self.default.kind == kind:
            return True
        return any(r.action.kind == kind for r in self._rules.values())

    def has_callbacks(self) -> bool:
        return any(r.callback is not None for r in self._rules.values())

    def _set(self, syscalls: Iterable[str | int], rule: Rule) -> Policy:
        if not syscalls:
            raise PolicyError("name at least one syscall")
        for spec in syscalls:
            if isinstance(spec, bool) or not isinstance(spec, str | int):
                raise PolicyError(f"a syscall is a name or a number, not {spec!r}")
            for key in syscall_keys(spec):
                self._rules[key] = rule
        return self

    def __repr__(self) -> str:
        return f"Policy(default={self.default!r}, rules={len(self._rules)})"


def syscall_keys(spec: str | int) -> list[SyscallKey]:
    """A name covers every arch that has it; a number is an x86_64 number."""
    if isinstance(spec, str) and not spec.strip().isdigit():
        return [(arch, nr) for arch, nr in numbers_for_all_arches(spec.strip()).items()]
    return [(AUDIT_ARCH_X86_64, resolve(spec))]
