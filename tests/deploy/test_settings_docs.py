"""The defaults docs/runtime.md and docs/deploy.md show are the settings table's
(router/settings.py `SETTINGS`), not copies that drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.settings import COMMAND_SETTINGS, SETTINGS, Setting

DOCS = Path(__file__).resolve().parents[2] / "docs"
BY_ENV = {s.env: s for s in (*SETTINGS, *COMMAND_SETTINGS)}

WORDS: dict[str, object] = {"masked": True, "none": "", "off": 0, "a free port": 0}
"""What the docs write in words for a default."""


def _same(shown: str, default: object) -> bool:
    shown = shown.strip().strip("`").removeprefix("./")
    if shown in WORDS:
        return WORDS[shown] == default
    try:
        return float(shown) == float(default)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return shown == str(default)


def _table_rows() -> list[tuple[str, Setting, str]]:
    """(where, setting, default cell) of each row of runtime.md's table of options."""
    rows = []
    for n, line in enumerate((DOCS / "runtime.md").read_text().splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and (m := re.match(r"`(ROUTER_[A-Z_]+)", cells[1])):
            rows.append((f"runtime.md:{n}", BY_ENV[m.group(1)], cells[2]))
    return rows


def _mentions() -> list[tuple[str, Setting, str]]:
    """(where, setting, value) of each `ROUTER_X` (VALUE...) / `ROUTER_X`, default VALUE in
    deploy.md's prose and tables; values said to be the image's are the image's own."""
    found = []
    pattern = re.compile(r"`(ROUTER_[A-Z_]+)`(?:\s\(|,\sdefault\s)(`[^`]+`|[0-9.]+)(?!\S* in the)")
    for n, line in enumerate((DOCS / "deploy.md").read_text().splitlines(), 1):
        for m in pattern.finditer(line):
            found.append((f"deploy.md:{n}", BY_ENV[m.group(1)], m.group(2)))
    return found


ROWS = _table_rows()
MENTIONS = _mentions()


def test_the_docs_show_defaults() -> None:
    assert len(ROWS) >= 15 and len(MENTIONS) >= 6


@pytest.mark.parametrize(("where", "row", "cell"), ROWS, ids=[w for w, _, _ in ROWS])
def test_the_runtime_table_shows_the_defaults(where: str, row: Setting, cell: str) -> None:
    start = re.match(r"`[^`]+`|[0-9.]+|[a-z]+", cell)
    assert start is not None and _same(start.group(0), row.default), (where, row.default)
    if "`start`" in cell:  # "9464 for `start`, off for `dev`": the other commands' too
        other = cell.rsplit(", ", 1)[1].removesuffix(" for `dev`").removesuffix(" otherwise")
        assert _same(other, row.default_for("dev")), (where, row.default_for("dev"))


@pytest.mark.parametrize(("where", "row", "shown"), MENTIONS, ids=[w for w, _, _ in MENTIONS])
def test_deploy_shows_the_defaults(where: str, row: Setting, shown: str) -> None:
    assert _same(shown, row.default), (where, row.env, row.default)
