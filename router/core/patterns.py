"""Regular expressions compiled on first use, once per process.

The core writes its patterns as strings (router/core/values.py shares several with the
JSON Schema) and matches through `compiled(pattern)`. Compiling them at import cost
every command that imports the loader milliseconds before it read a byte, though
`router schema` matches nothing and `router check` only what the file holds
(docs/benchmarks.md, admin commands).
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["compiled"]


@cache
def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, made once on the first call and kept.

    Raises `re.error` for a pattern that is not a regular expression (a bug here)."""
    return re.compile(pattern, flags)
