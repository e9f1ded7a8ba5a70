"""A JSON object's fields read as a record needs them: the wrong type named in a few words.

Used by `CallRecord.from_json`, through which `router report` reads a million lines:
plain functions, no error class of their own (ValueError, as `from_json` documents).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

__all__ = [
    "counts_field",
    "entry_time",
    "int_or_none",
    "list_field",
    "need",
    "number_or_none",
    "text_or_none",
    "wrong",
]

_NO_COUNTS: Mapping[str, int] = MappingProxyType({})
_KIND_NAMES: dict[object, str] = {
    str: "a string",
    list: "a list",
    dict: "an object",
    int: "a number",
    (int, float): "a number",
}


def need(value: object, kind: type | tuple[type, ...], name: str) -> Any:
    """`value` if it is of `kind` (a bool is not a number); else ValueError naming it."""
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        wrong(kind, name)
    return value


def wrong(kind: type | tuple[type, ...], name: str) -> NoReturn:
    """The ValueError of a field `name` that is not of `kind`."""
    raise ValueError(f"`{name}` is not {_KIND_NAMES.get(kind, 'valid')}")


def text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number_or_none(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def entry_time(t: object) -> float:
    """An entry's `t` (a float as written; an int from a hand-made line; else 0)."""
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) else 0.0


def list_field(value: object, name: str) -> list[Any]:
    if isinstance(value, list):
        return value
    return need(value, list, name)  # type: ignore[no-any-return]


def counts_field(value: object, name: str) -> Mapping[str, int] | None:
    if value is None:
        return None
    if not value and isinstance(value, dict):
        return _NO_COUNTS
    counts: dict[str, int] = {}
    for menu, n in need(value, dict, name).items():
        counts[str(menu)] = need(n, int, f"{name}{{}}")
    return counts
