"""One walk over a tree of typed values: every object in it, each once, in file order.

The checker's rules ask the model for every value of a kind (`MenuFile.values_of`:
the transfers, the prompts, the options that switch language) without naming where
each kind can sit, so a new action or setting that holds one is found with no change.
Walking 10,000 menus visits about half a million objects; walking once and keeping
the list (`MenuFile` does) instead of once per rule is what keeps `router check` and
a reload of such a file under a second (docs/benchmarks.md §6, bench/findings.md).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["objects_in"]

_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
"""Types that hold no values of their own: never kept, never looked inside."""


def objects_in(root: object, *, opaque: tuple[type, ...] = ()) -> list[object]:
    """Every object reachable from `root` through mappings' values, tuples, lists and
    public `__slots__` attributes, `root` first, each object once (by identity), depth first in
    the order fields are declared and items are stored. Instances of `opaque` are listed
    but not looked inside (a prompt's versions are parts of the prompt, not prompts of
    their own); strings, numbers and None are not listed. Iterative: a deep tree cannot
    overflow the stack."""
    seen: set[int] = set()
    out: list[object] = []
    todo: list[object] = [root]
    slots_of: dict[type, tuple[str, ...]] = {}
    while todo:
        value = todo.pop()
        kind = type(value)
        if kind in _PLAIN or id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, str | int | float):
            continue  # an enum member (a key, a failure kind): a value, not a holder
        out.append(value)
        if isinstance(value, opaque):
            continue
        if isinstance(value, Mapping) or hasattr(value, "items"):
            todo.extend(reversed(list(value.values())))  # type: ignore[attr-defined]
        elif isinstance(value, tuple | list):
            todo.extend(reversed(value))
        else:
            slots = slots_of.get(kind)
            if slots is None:
                names = getattr(kind, "__slots__", ())
                # a private slot is a cache of the object's own values, not a value
                slots = slots_of[kind] = tuple(n for n in reversed(names) if n[0] != "_")
            todo.extend([getattr(value, name, None) for name in slots])
    return out
