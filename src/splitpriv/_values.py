"""Value classes for the modules every ``splitpriv trace`` imports, made without dataclasses.

Each launch of ``splitpriv trace`` pays for every import, and strace runs a small program
whole in about 2.5 ms. The dataclasses module imports inspect, which brings ast, dis and
tokenize (about 5 ms here), and it makes each class by compiling six methods (about 0.4 ms a
class): about 10 ms of each launch went to the value classes of the events, the policy and
the seccomp filter builder. :func:`value_class` gives those classes what they used of dataclasses,
for less than a tenth of that: an ``__init__`` from the annotations and defaults (with
:func:`field` for a fresh mutable default), ``__post_init__``, ``__repr__``, ``__eq__`` and
``__hash__``, immutability and ``__slots__``.

It must stay that small. A class that needs more (``order``, ``kw_only``, ``InitVar``,
inheritance between value classes) belongs in dataclasses, in a module off the launch path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

_C = TypeVar("_C", bound=type)
_T = TypeVar("_T")


class FrozenInstanceError(AttributeError):
    """An attempt to change a field of a frozen value."""


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], _T]) -> _T:
    """A field default made afresh for each instance, as with ``dataclasses.field``."""
    return _Factory(default_factory)  # type: ignore[return-value]


def value_fields(cls: type) -> tuple[str, ...]:
    """The field names of a :func:`value_class` class, in order."""
    fields: tuple[str, ...] = cls.__value_fields__  # type: ignore[attr-defined]
    return fields


def _frozen_setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen value")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen value")


class _Missing:
    pass


_MISSING = _Missing()
_NOT_GIVEN = _Missing()  # a factory field's "not given" (None may be a value)


def _methods(cls: type, fields: tuple[str, ...], frozen: bool) -> dict[str, Any]:
    """``__init__``, ``__repr__``, ``__eq__`` and ``__hash__`` for ``cls``, compiled once per
    class: per instance they must cost what hand-written ones do, since events, filter
    instructions and number ranges are made and compared by the thousand."""
    namespace: dict[str, Any] = {"__setattr": object.__setattr__, "__not_given": _NOT_GIVEN}
    params, body = [], []
    for name in fields:
        default = cls.__dict__.get(name, _MISSING)
        value = name
        if isinstance(default, _Factory):
            namespace[f"__make_{name}"] = default.make
            params.append(f"{name}=__not_given")
            value = f"__make_{name}() if {name} is __not_given else {name}"
        elif default is not _MISSING:
            namespace[f"__default_{name}"] = default
            params.append(f"{name}=__default_{name}")
        elif any("=" in p for p in params):
            raise TypeError(f"{cls.__name__}: field {name!r} without a default follows one with")
        else:
            params.append(name)
        body.append(f"__setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    if "__post_init__" in cls.__dict__:
        body.append("self.__post_init__()")
    mine = "(" + "".join(f"self.{name}, " for name in fields) + ")"
    theirs = "(" + "".join(f"other.{name}, " for name in fields) + ")"
    shown = ", ".join(f"{name}={{self.{name}!r}}" for name in fields)
    source = f"""
def __init__(self, {", ".join(params)}):
    {"; ".join(body) or "pass"}
def __repr__(self):
    return f"{{type(self).__qualname__}}({shown})"
def __eq__(self, other):
    if type(other) is not type(self):
        return NotImplemented
    return {mine} == {theirs}
def __hash__(self):
    return hash({mine})
"""
    exec(source, namespace)
    methods = {name: namespace[name] for name in ("__init__", "__repr__", "__eq__", "__hash__")}
    for name, method in methods.items():
        method.__qualname__ = f"{cls.__qualname__}.{name}"
    return methods


@overload
def value_class(cls: _C, /) -> _C: ...
@overload
def value_class(
    *, frozen: bool = True, slots: bool = True, eq: bool = True, repr: bool = True
) -> Callable[[_C], _C]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def value_class(
    cls: _C | None = None,
    /,
    *,
    frozen: bool = True,
    slots: bool = True,
    eq: bool = True,
    repr: bool = True,
) -> _C | Callable[[_C], _C]:
    """Make ``cls`` a value class from its annotated fields (see the module docstring).

    ``frozen``: fields cannot change (:class:`FrozenInstanceError`) and equal values hash
    alike. ``slots``: the class is remade with ``__slots__`` (no ``__dict__``; a class with a
    ``cached_property`` needs ``slots=False``). ``eq=False`` keeps identity comparison.
    ``repr=False`` keeps the class's own ``__repr__``; a ``__hash__`` of the class's own is
    kept too (for a value with a field that cannot hash, a dict, hashed on the others)."""

    def make(cls: _C) -> _C:
        # The class's own annotations (inspect.get_annotations would import inspect).
        fields = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
        methods = _methods(cls, fields, frozen)
        namespace = {k: v for k, v in cls.__dict__.items() if k not in fields}
        namespace["__init__"] = methods["__init__"]
        if repr:
            namespace["__repr__"] = methods["__repr__"]
        if eq:
            namespace["__eq__"] = methods["__eq__"]
            if "__hash__" not in cls.__dict__:  # (a class's own, on fields that all hash)
                namespace["__hash__"] = methods["__hash__"] if frozen else None
        if frozen:
            namespace["__setattr__"] = _frozen_setattr
            namespace["__delattr__"] = _frozen_delattr
        namespace.pop("__dict__", None)  # (the old class's descriptors: the new class makes
        namespace.pop("__weakref__", None)  # its own, unless it has slots)
        if slots:
            namespace["__slots__"] = fields
        namespace["__value_fields__"] = fields
        namespace["__match_args__"] = fields
        # A new class, as dataclasses makes for slots: the defaults leave the class body (they
        # live in __init__), where they would clash with the slots or shadow a factory's value.
        made: _C = type(cls)(cls.__name__, cls.__bases__, namespace)
        made.__qualname__ = cls.__qualname__
        return made

    return make if cls is None else make(cls)


__all__ = ["FrozenInstanceError", "field", "value_class", "value_fields"]
