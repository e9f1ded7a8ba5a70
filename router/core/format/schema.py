"""The format as a JSON Schema (draft 2020-12), for editors: `router schema`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.core.format.actions import ACTION
from router.core.format.file import FILE
from router.core.format.prompts import PROMPT
from router.core.format.spec import Spec

__all__ = ["DEFS", "json_schema", "schema_text"]

DEFS: Mapping[str, Spec] = {"action": ACTION, "prompt": PROMPT}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the format, for editors and other tools."""
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "livekit-menu-router menu file",
    }
    out.update(FILE.schema())
    out["$defs"] = {name: spec.schema() for name, spec in DEFS.items()}
    return out


def schema_text() -> str:
    """The schema as committed in `menus.schema.json` (stable order, trailing newline)."""
    import json  # here: the commands that read menus never write JSON (docs/benchmarks.md §7)

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
