"""The pydantic base every benchmark result object shares (bench/schema.py, bench/sections.py).

A result file is a tree of JSON objects; each kind of object is a `ResultModel`, a frozen
pydantic v2 model. What the configuration keeps of a file, and why:

- strict types (pydantic's strict mode, docs "Strict Mode" and its conversion table): a
  string where a number belongs, a bool where an int belongs, `1.5` for an int are
  refused, never coerced;
- a float field is a `Number`: a JSON integer stays an `int` (strict `float` would turn
  `2` into `2.0`, and a report formats the figure as it did from the raw JSON);
- a JSON list is read into a tuple (`Items[X]`: strict mode takes only a tuple from Python
  data, so the list-to-tuple step alone is lax; the items stay strict);
- keys a class does not declare are kept (`extra="allow"`, `model_extra`): a newer
  runner's figures survive an older reader;
- an object read from a file is written back with the file's keys, in the file's order
  (a field with a default absent from the file stays absent); one built in code is written
  with every field, in declaration order, and its extra keys after them.

`from_json` turns pydantic's `ValidationError` into `ResultError`, one sentence naming the
file and the field (`run-y.json: capacity: thread_sip: levels[2]: memory: router: rss_mb:
Input should be a number, not str`) without the value itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetPydanticSchema,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic_core import core_schema

__all__ = ["Items", "Number", "ResultError", "ResultModel"]

T = TypeVar("T")

Items = Annotated[tuple[T, ...], Strict(False)]
"""A JSON list, read into a tuple; its items are checked as strictly as any field."""

Number = Annotated[
    float,
    GetPydanticSchema(
        lambda _type, _handler: core_schema.union_schema(
            [core_schema.int_schema(strict=True), core_schema.float_schema(strict=True)],
            custom_error_type="number_type",
            custom_error_message="Input should be a number",
        )
    ),
]
"""A JSON number kept as written: `2` stays an int, `2.5` a float; a bool is refused."""

_READING = {"reading": True}
"""The validation context of `from_json`: objects read from a file keep its keys."""


class ResultError(ValueError):
    """A results file that does not match the schema; one sentence naming the file and the
    field. pydantic's `ValidationError`, when there is one, is the `__cause__`."""


class ResultModel(BaseModel):
    """One JSON object of a result file as typed fields; subclasses declare the fields."""

    model_config = ConfigDict(
        frozen=True,
        extra="allow",
        strict=True,
        ser_json_inf_nan="constants",  # NaN written back as json.dumps wrote it
    )

    _keys: tuple[str, ...] | None = PrivateAttr(default=None)
    """The keys of the object read, in the file's order; None for one built in code."""

    @classmethod
    def from_json(cls, data: Any, where: str | None = None) -> Self:
        """`data` (JSON as `json.loads` gives it) read through the class.

        Raises `ResultError`: `where` (the file; the class's name by default), the
        field's path and what is wrong with it (the first error; how many more there
        were)."""
        try:
            return cls.model_validate(data, context=_READING)
        except ValidationError as exc:
            raise ResultError(f"{where or cls.__name__}: {_sentence(exc)}") from exc

    def to_json(self) -> dict[str, Any]:
        """The JSON this object was read from (or, built in code, every field then the
        extra keys)."""
        return self.model_dump(mode="json", by_alias=True)

    @model_validator(mode="wrap")
    @classmethod
    def _note_the_keys(
        cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        read = handler(data)
        if isinstance(data, dict) and (info.context or {}).get("reading"):
            read._keys = tuple(data)
        return read

    @model_serializer(mode="wrap")
    def _as_read(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written: dict[str, Any] = handler(self)
        if self._keys is None:
            return written
        return {key: written[key] for key in self._keys if key in written}


def _sentence(exc: ValidationError) -> str:
    """The first error as `field: subfield[2]: message, not TYPE` (never the value: a
    result file may hold what logs must not)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    path = ""
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f"{': ' if path else ''}{part}"
    said = first["msg"]
    if first["type"] != "missing":
        said += f", not {type(first['input']).__name__}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path}: {said}{more}" if path else f"{said}{more}"
