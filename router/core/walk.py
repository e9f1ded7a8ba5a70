"""One walk over a tree of typed values: every object in it, each once, in file order.

The checker's rules ask the model for every value of a kind (`MenuFile.values_of`:
the transfers, the prompts, the options that switch language) without naming where
each kind can sit, so a new action or setting that holds one is found with no change.
A file of 10,000 menus holds about 150,000 objects; walked once per rule they were
most of a load's time, walked once per file and kept (`MenuFile` does) a tenth of it
(docs/benchmarks.md §6, bench/findings.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from operator import attrgetter
from types import UnionType
from typing import Union, get_args, get_origin, get_type_hints

__all__ = ["objects_in"]

_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
"""Types that hold no values of their own: never kept, never looked inside."""


def objects_in(
    root: object,
    *,
    opaque: tuple[type, ...] = (),
    ignored: tuple[type, ...] = (),
    unfollowed: frozenset[str] = frozenset(),
) -> list[object]:
    """Every object reachable from `root` through mappings' values, tuples, lists and
    public `__slots__` attributes, `root` first, each object once (by identity), depth
    first in the order fields are declared and items are stored.

    Instances of `opaque` are listed but not looked inside (a prompt's versions are parts
    of the prompt, not prompts of their own); instances of `ignored` (a `Location`),
    strings, numbers and None are not listed; slots named in `unfollowed` are not
    followed (`where`: where each field was written, locations made when asked for),
    nor are slots whose declared type (the class's annotation) admits only strings,
    numbers, None or `ignored` values (a name, a `loc`): a third of the values a walk
    would push. Iterative: a deep tree cannot overflow the stack."""
    seen: set[int] = set()
    out: list[object] = []
    todo: list[object] = [root]
    how_of: dict[type, _How] = {}  # decided once per type: an isinstance on an ABC is slow
    pop, extend = todo.pop, todo.extend
    while todo:
        value = pop()
        kind = type(value)
        how = how_of.get(kind)
        if how is None:
            how = how_of[kind] = _how(kind, opaque, ignored, unfollowed)  # type: ignore[arg-type]
        if how is _SKIP:
            continue
        key = id(value)
        if key in seen:
            continue
        seen.add(key)
        out.append(value)
        if how is _MAPPING:
            extend(reversed(list(value.values())))  # type: ignore[attr-defined]
        elif how is _SEQUENCE:
            extend(reversed(value))  # type: ignore[call-overload]
        elif how is not _LEAF:  # the public slots, last first: popped in declared order
            try:
                extend(how.read(value))  # type: ignore[union-attr]
            except AttributeError:  # a slot left unset: read one by one
                extend([getattr(value, name, None) for name in how.names])  # type: ignore[union-attr]
    return out


class _Slots:
    """Reads an object's followed slots, last first, in one C call (`attrgetter`)."""

    __slots__ = ("names", "read")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        getter = attrgetter(*names)
        self.read = (lambda value: (getter(value),)) if len(names) == 1 else getter


_How = _Slots | str
_SKIP: _How = "<skip>"
_LEAF: _How = "<leaf>"
_MAPPING: _How = "<mapping>"
_SEQUENCE: _How = "<sequence>"


@cache  # per type and walk arguments, for the process: types' declarations do not change
def _how(
    kind: type, opaque: tuple[type, ...], ignored: tuple[type, ...], unfollowed: frozenset[str]
) -> _How:
    """How the walk treats values of `kind`: skip them, list them only, look inside a
    mapping or a sequence, or read these slots (last first)."""
    if _inert(kind, ignored):
        return _SKIP  # an enum member (a key, a failure kind) is a value, not a holder
    if issubclass(kind, opaque):
        return _LEAF
    if issubclass(kind, Mapping) or hasattr(kind, "items"):
        return _MAPPING
    if issubclass(kind, tuple | list):
        return _SEQUENCE
    # a private slot is a cache of the object's own values (MenuFile's), not a value; a
    # slot declared to hold only strings, numbers, None or `ignored` values is not read
    # (a menu's name, a transfer's target, any `loc`): a third of the values pushed
    try:
        declared = get_type_hints(kind)
    except Exception:  # noqa: BLE001 - a hint that cannot be resolved: read the slot
        declared = {}
    slots = reversed(getattr(kind, "__slots__", ()))
    names = tuple(
        name
        for name in slots
        if name[0] != "_"
        and name not in unfollowed
        and not (name in declared and _inert_hint(declared[name], ignored))
    )
    return _Slots(names) if names else _LEAF


def _inert(kind: type, ignored: tuple[type, ...]) -> bool:
    """Values of `kind` hold no values of their own (or are `ignored`)."""
    return kind in _PLAIN or issubclass(kind, str | int | float) or issubclass(kind, ignored)


def _inert_hint(hint: object, ignored: tuple[type, ...]) -> bool:
    """A declared type whose every value is inert: `str | None`, `float`, `Location`."""
    if get_origin(hint) in (Union, UnionType):
        return all(_inert_hint(arg, ignored) for arg in get_args(hint))
    return isinstance(hint, type) and _inert(hint, ignored)
