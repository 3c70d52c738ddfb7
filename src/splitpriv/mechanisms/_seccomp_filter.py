"""The seccomp filter the seccomp mechanisms install: the policy compiled into BPF.

A call goes to the supervisor (``route``: RET_TRACE or RET_USER_NOTIF) only when someone must
see it: it is recorded, emulated, rewritten, or has a Python callback. A call that is only denied is
answered by the filter itself (RET_ERRNO), without any stop; everything else is allowed in the
kernel at native speed. Architectures other than x86_64 and i386 are killed by the builder.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from splitpriv import _binding
from splitpriv.seccomp import ALLOW, ERRNO, Action, build_filter
from splitpriv.syscalls import table as syscall_table


def _action(rule: _binding.Rule, route: Action) -> Action:
    if rule.record or rule.action in (_binding.CALLBACK, _binding.EMULATE, _binding.REWRITE):
        return route
    if rule.action == _binding.DENY:
        return ERRNO(rule.value)
    return ALLOW


def policy_filter(
    engine_rules: Mapping[int, Sequence[_binding.Rule]],
    route: Action,
    *,
    allow_ip_range: tuple[int, int] | None = None,
    ip_range_refused: Collection[tuple[int, int]] = (),
    ip_range_guards: Collection[tuple[int, int, int, int]] = (),
    always_allowed: Sequence[str] = (),
    always_routed: Sequence[str] = (),
    route_everything: bool = False,
) -> bytes:
    """BPF for the engine's rule tables ({audit arch: NR_MAX + 1 rules}) as bytes.

    ``always_allowed`` names calls that must never be routed (they are still denied in BPF
    when the policy only denies them), ``always_routed`` calls the supervisor must always see;
    ``allow_ip_range`` lets every call from that code pass, but for ``ip_range_refused`` and
    ``ip_range_guards`` (see :func:`splitpriv.seccomp.build_filter`).
    """
    rules: dict[tuple[int, int], Action] = {}
    defaults = set()
    for arch, table in engine_rules.items():
        names = syscall_table(arch)
        for nr, rule in enumerate(table[: _binding.NR_MAX]):
            action = _action(rule, route)
            name = names.name(nr)
            if action == ALLOW and (route_everything or name in always_routed):
                action = route
            if action == route and name in always_allowed:
                # Never routed: a deny is still kept, in BPF (recorded or not); what else
                # the policy says of these, the mechanism refuses (policy_problem).
                action = ERRNO(rule.value) if rule.action == _binding.DENY else ALLOW
            rules[(arch, nr)] = action
        defaults.add(route if route_everything else _action(table[_binding.NR_MAX], route))
    # Numbers beyond the tables get the out-of-range rule; it is the same for every arch
    # unless a policy sets it per arch, in which case the stricter (routed) one wins.
    default = route if route in defaults or len(defaults) != 1 else defaults.pop()
    return build_filter(
        rules,
        default,
        allow_ip_range=allow_ip_range,
        ip_range_refused=ip_range_refused,
        ip_range_guards=ip_range_guards,
    ).to_bytes()
