"""The spec language: the kinds of value a menu file holds, each knowing its JSON Schema.

`Obj` is a mapping with fixed keys (`Field`s), `MapOf` one whose keys the admin chooses;
`OneOf` is a choice of forms, `Ref` a kind defined once under `$defs`. The loader reads
`Obj.names` and `Obj.required`; `router schema` calls `schema()` (JSON Schema draft
2020-12, https://json-schema.org/draft/2020-12/json-schema-validation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.core.values import DURATION_PATTERN, NAME_PATTERN

__all__ = [
    "NAME",
    "TEXT",
    "Boolean",
    "Const",
    "Duration",
    "Field",
    "Integer",
    "ListOf",
    "MapOf",
    "Null",
    "Obj",
    "OneOf",
    "Ref",
    "Spec",
    "Text",
    "Words",
]


class Spec:
    """A kind of value. Subclasses say how it reads and how it appears in JSON Schema."""

    doc: str = ""

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Spec):
    doc: str = ""
    pattern: str | None = None
    examples: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = self.pattern
        if self.examples:
            out["examples"] = list(self.examples)
        return _doc(out, self.doc)


@dataclass(frozen=True)
class Boolean(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "boolean"}, self.doc)


@dataclass(frozen=True)
class Integer(Spec):
    doc: str = ""
    minimum: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return _doc(out, self.doc)


@dataclass(frozen=True)
class Duration(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc(
            {
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                    {"type": "string", "pattern": DURATION_PATTERN},
                ],
                "examples": ["5s", "1.5s", "500ms", "2m"],
            },
            self.doc,
        )


@dataclass(frozen=True)
class Const(Spec):
    value: bool | int | str
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"const": self.value}, self.doc)


@dataclass(frozen=True)
class Null(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "null"}, self.doc)


@dataclass(frozen=True)
class Words(Spec):
    values: tuple[str, ...]
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "string", "enum": list(self.values)}, self.doc)


@dataclass(frozen=True)
class Ref(Spec):
    """A named kind, defined once under `$defs` (and allowed to be recursive)."""

    name: str
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"$ref": f"#/$defs/{self.name}"}, self.doc)


@dataclass(frozen=True)
class Field:
    """One key of a mapping."""

    name: str
    spec: Spec
    doc: str = ""
    required: bool = False


@dataclass(frozen=True)
class Obj(Spec):
    """A mapping with a fixed set of keys."""

    fields: tuple[Field, ...]
    doc: str = ""
    min_fields: int = 0
    names: frozenset[str] = field(init=False)
    required: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(f.name for f in self.fields))
        object.__setattr__(self, "required", tuple(f.name for f in self.fields if f.required))

    def schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in self.fields:
            sub = f.spec.schema()
            if f.doc:
                sub = (
                    {**sub, "description": f.doc}
                    if "$ref" not in sub
                    else {"$ref": sub["$ref"], "description": f.doc}
                )
            props[f.name] = sub
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        if self.min_fields:
            out["minProperties"] = self.min_fields
        return _doc(out, self.doc)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping whose keys the admin chooses (names, keys, numbers, extensions)."""

    key_pattern: str
    value: Spec
    doc: str = ""
    key_doc: str = ""
    required_keys: tuple[str, ...] = ()
    min_entries: int = 0

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "propertyNames": _doc({"pattern": self.key_pattern}, self.key_doc),
            "additionalProperties": self.value.schema(),
        }
        if self.required_keys:
            out["required"] = list(self.required_keys)
        if self.min_entries:
            out["minProperties"] = self.min_entries
        return _doc(out, self.doc)


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "array", "items": self.item.schema()}, self.doc)


@dataclass(frozen=True)
class OneOf(Spec):
    options: tuple[Spec, ...]
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"oneOf": [o.schema() for o in self.options]}, self.doc)


def _doc(out: dict[str, Any], doc: str) -> dict[str, Any]:
    if doc:
        out["description"] = doc
    return out


NAME = Text(pattern=NAME_PATTERN)
"""A name the file gives (a menu, a destination, a directory, a schedule)."""
TEXT = Text()
"""Any text."""
