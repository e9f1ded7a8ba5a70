"""Durations as admins write them: `5s`, `1.5s`, `500ms`, `2m`, or a bare number of seconds.

One parser for the loader and one regular expression for the JSON Schema, so an
editor and the router accept exactly the same spellings.
"""

from __future__ import annotations

from router.core.patterns import compiled

__all__ = ["DURATION_PATTERN", "MAX_DURATION_S", "parse_duration"]

DURATION_PATTERN = r"^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|min)?$"
"""The accepted spellings; a unit-less number counts as seconds."""

MAX_DURATION_S = 600.0
"""Longer than ten minutes is certainly a typo (`300m` meant `300s`); such values are refused."""

_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, None: 1.0}


def parse_duration(text: str) -> float | None:
    """Seconds for a written duration, or None if it is not spelled like one.

    Range checks (zero, more than ten minutes) are left to the caller, which
    knows where the value was written; a leading minus sign is simply not a duration.
    """
    match = compiled(DURATION_PATTERN).match(text.strip())
    if match is None:
        return None
    return float(match.group(1)) * _SCALE[match.group(2)]
