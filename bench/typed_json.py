"""JSON objects read into frozen dataclasses and written back unchanged (bench/schema.py).

A result file is a tree of JSON objects. Each kind of object is a `JsonObject` subclass
whose fields say what it holds, by type: `int`, `float`, `str`, `bool`, `X | None`,
`tuple[X, ...]` (a JSON list), `dict[str, X]` (an object keyed by names the file
chooses: process names, ramp levels), another `JsonObject`, or `Any` (a figure kept as
JSON). `from_json` checks every value against its field's type and names the file and the
field when one does not match (`ResultError`); `to_json` gives back the JSON read, key
for key and in the same order:

- keys a class does not declare stay in `extra` (a newer runner's figures survive an
  older reader);
- a field with a default is optional: absent in the file, it is absent again when written;
- numbers are not converted (a file's `2` stays `2` where the field is a float), so a
  report formats them as it did from the raw JSON.

Standard library only: `dataclasses.fields` and `typing.get_type_hints`, read once a class.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Self, Union, get_args, get_origin, get_type_hints

__all__ = ["JsonObject", "ResultError", "declared"]

_OWN = frozenset({"extra", "keys"})
"""`JsonObject`'s own fields, never read from the file by name."""


class ResultError(ValueError):
    """A results file that does not match the schema; says which file and which field."""


@dataclass(frozen=True)
class JsonObject:
    """One JSON object as typed fields; subclasses declare the fields."""

    extra: Mapping[str, Any] = field(default_factory=dict, kw_only=True, repr=False)
    """The object's keys that the class does not declare, as JSON."""
    keys: tuple[str, ...] = field(default=(), kw_only=True, repr=False)
    """The keys of the object read, in the file's order (empty for one built in code:
    every field is then written, in declaration order, and `extra` after them)."""

    @classmethod
    def from_json(cls, data: Any, where: str) -> Self:
        """`data` read through the class; `ResultError` names `where` and the field."""
        if not isinstance(data, Mapping):
            raise ResultError(f"{where}: not a JSON object")
        hints = declared(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in _OWN:
                continue
            if f.name in data:
                values[f.name] = _read(hints[f.name], data[f.name], f"{where}: {f.name}")
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ResultError(f"{where}: missing {f.name!r}")
        extra = {k: v for k, v in data.items() if k not in hints}
        return cls(**values, extra=extra, keys=tuple(data))

    def to_json(self) -> dict[str, Any]:
        """The JSON this object was read from (or, built in code, its fields then `extra`)."""
        hints = declared(type(self))
        order = self.keys or (*hints, *self.extra)
        return {
            key: _write(getattr(self, key)) if key in hints else self.extra[key] for key in order
        }


_DECLARED: dict[type[JsonObject], dict[str, Any]] = {}


def declared(cls: type[JsonObject]) -> dict[str, Any]:
    """The fields a class reads from its JSON object, by name: their types (read once)."""
    if cls not in _DECLARED:
        hints = get_type_hints(cls)
        _DECLARED[cls] = {f.name: hints[f.name] for f in fields(cls) if f.name not in _OWN}
    return _DECLARED[cls]


def _read(kind: Any, value: Any, where: str) -> Any:
    origin = get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        options = [k for k in get_args(kind) if k is not type(None)]
        if value is None and len(options) < len(get_args(kind)):
            return None
        (one,) = options  # the schema writes `X | None` only
        return _read(one, value, where)
    if isinstance(kind, type) and issubclass(kind, JsonObject):
        return kind.from_json(value, where)
    if origin is tuple:
        _expect(value, list, "a list", where)
        (item, _) = get_args(kind)
        return tuple(_read(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        _expect(value, dict, "an object", where)
        (_, item) = get_args(kind)
        return {k: _read(item, v, f"{where}: {k}") for k, v in value.items()}
    if kind is float:
        kind = (int, float)  # JSON does not tell 2 from 2.0 by type; kept as written
    _expect(value, kind, _name(kind), where)
    return value


def _expect(value: Any, kind: type | tuple[type, ...], name: str, where: str) -> None:
    wrong_bool = isinstance(value, bool) and kind is not bool
    if wrong_bool or not isinstance(value, kind):
        raise ResultError(f"{where} is {type(value).__name__}, not {name}")


def _name(kind: type | tuple[type, ...]) -> str:
    return "a number" if isinstance(kind, tuple) else kind.__name__


def _write(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return value.to_json()
    if isinstance(value, tuple):
        return [_write(v) for v in value]
    if isinstance(value, dict):
        return {k: _write(v) for k, v in value.items()}
    return value
