"""The report's cells and Markdown tables: how a figure is printed (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

from bench.sections import Distribution, Level, LoadSample, ProcessLevel

__all__ = ["NA", "dist", "greet", "loadavg", "num", "ok", "or_na", "table"]

NA = "–"
"""A figure the run does not have."""


def num(x: Any, digits: int = 1, unit: str = "") -> str:
    """A float to `digits` places, an int as it is, None (or NaN) as `NA`."""
    if x is None or (isinstance(x, float) and x != x):
        return NA
    if isinstance(x, float):
        return f"{x:.{digits}f}{unit}"
    return f"{x}{unit}"


def or_na(x: Any) -> Any:
    return NA if x is None else x


def ok(flag: Any) -> str:
    if flag is None:
        return NA
    return "met" if flag else "**missed**"


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(head: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)]


def dist(name: str, s: Distribution | None, digits: int = 2) -> list[Any]:
    """A row: `name`, n, p50, p95, p99, max, mean."""
    if s is None or not s.n:
        return [name, 0, NA, NA, NA, NA, NA]
    return [
        name,
        s.n,
        num(s.p50, digits),
        num(s.p95, digits),
        num(s.p99, digits),
        num(s.max, digits),
        num(s.mean, digits),
    ]


def greet(level: Level | ProcessLevel | None) -> str:
    """A level's new calls' wait for their greeting, ms: `p50 / p95`."""
    g = level.new_calls_greeting_ms if level is not None else None
    if g is None or not g.n:
        return NA
    return f"{g.p50:.0f} / {g.p95:.0f}"


def loadavg(sample: LoadSample | None) -> list[float] | None:
    """Load averages as the JSON wrote them (`[1.2, 0.8, 0.5]`)."""
    return None if sample is None else list(sample.loadavg)
