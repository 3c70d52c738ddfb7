"""The registry of mechanisms: each registers under its name; ``get("auto")`` picks one.

Adding a mechanism means writing one module with a :class:`Mechanism` subclass and listing it in
``_BUILTIN`` below. This module must never start a process itself; ``available()`` probes do.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from splitpriv.errors import (
    ArgumentTypeError,
    MechanismUnavailableError,
    PolicyError,
    UnknownMechanismError,
)
from splitpriv.mechanisms.base import CAPABILITY_WORDS, Availability, Capabilities, Mechanism
from splitpriv.mechanisms.ptrace import PtraceMechanism
from splitpriv.mechanisms.seccomp_notify import SeccompNotifyMechanism
from splitpriv.mechanisms.seccomp_trace import SeccompTraceMechanism
from splitpriv.mechanisms.seccomp_trap import SeccompTrapMechanism
from splitpriv.mechanisms.sud import SudMechanism
from splitpriv.mechanisms.sysemu import SysemuMechanism
from splitpriv.nearest import did_you_mean

if TYPE_CHECKING:
    from splitpriv.policy import Policy

_REGISTRY: dict[str, Mechanism] = {}


def register(mechanism: Mechanism) -> Mechanism:
    _REGISTRY[mechanism.name] = mechanism
    return mechanism


for _cls in (
    PtraceMechanism,
    SysemuMechanism,
    SeccompTraceMechanism,
    SeccompNotifyMechanism,
    SudMechanism,
    SeccompTrapMechanism,
):
    register(_cls())


def names() -> list[str]:
    return sorted(_REGISTRY)


def all_mechanisms() -> list[Mechanism]:
    return [_REGISTRY[n] for n in names()]


def get(name: str) -> Mechanism:
    """The mechanism registered as ``name`` (not checked for availability)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        hint = did_you_mean(name, [*names(), "auto"])
        raise UnknownMechanismError(
            f"unknown mechanism {name!r}{hint}; known: {', '.join(names())}, auto"
        ) from None


def check_capability_names(names: Collection[str]) -> tuple[str, ...]:
    """``names`` as a tuple, each a yes/no capability; PolicyError (with the nearest) if not."""
    if isinstance(names, str | bytes) or not isinstance(names, Collection):
        raise ArgumentTypeError(f"require must be a collection of capability names, not {names!r}")
    for name in names:
        if not isinstance(name, str):
            raise ArgumentTypeError(f"a capability name must be a string, not {name!r}")
        if name not in CAPABILITY_WORDS:
            hint = did_you_mean(str(name), CAPABILITY_WORDS)
            raise PolicyError(
                f"unknown capability {name!r}{hint}; known: {', '.join(CAPABILITY_WORDS)}"
            )
    return tuple(names)


def choose(
    name: str,
    *,
    deny: bool = False,
    emulate: bool = False,
    rewrite: bool = False,
    callbacks: bool = False,
    attach: bool = False,
    untraced_children: bool = False,
    return_values: bool = False,
    policy: Policy | None = None,
    require: Collection[str] = (),
) -> Mechanism:
    """The named mechanism, checked to be available and able to do what is asked (and to keep
    every verdict of ``policy``); for "auto", the cheapest available one that can.
    ``require``: capabilities (names of :class:`Capabilities` fields that are yes or no, such
    as ``"sees_signals"`` or ``"holds_against_hostile_tracee"``) the mechanism must have."""
    require = check_capability_names(require)
    wanted = dict(
        deny=deny,
        emulate=emulate,
        rewrite=rewrite,
        callbacks=callbacks,
        attach=attach,
        untraced_children=untraced_children,
        return_values=return_values,
    )
    if name != "auto":
        mechanism = get(name)
        availability = mechanism.available()
        if not availability:
            raise MechanismUnavailableError(
                f"mechanism {name!r} is not available here: {availability.reason}"
            )
        # Asked for by name, a mechanism that cannot see results still traces (`= ?`).
        missing = mechanism.missing_capability(
            **{**wanted, "return_values": False}, require=require
        )
        if not missing and policy is not None:
            missing = mechanism.policy_problem(policy)
        if missing:
            raise MechanismUnavailableError(f"mechanism {name!r} cannot {missing}")
        return mechanism
    reasons = []
    for mechanism in sorted(_REGISTRY.values(), key=lambda m: m.cost_rank):
        missing = mechanism.missing_capability(**wanted, require=require)
        if not missing and policy is not None:
            missing = mechanism.policy_problem(policy)
        availability = mechanism.available()
        if missing:
            reasons.append(f"{mechanism.name}: cannot {missing}")
        elif not availability:
            reasons.append(f"{mechanism.name}: {availability.reason}")
        else:
            return mechanism
    raise MechanismUnavailableError("no mechanism can run this here: " + "; ".join(reasons))


__all__ = [
    "Availability",
    "Capabilities",
    "Mechanism",
    "all_mechanisms",
    "choose",
    "get",
    "names",
    "register",
]
