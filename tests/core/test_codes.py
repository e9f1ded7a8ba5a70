"""Every problem code the router writes is in the one table (`router.core.codes.CODES`)."""

from __future__ import annotations

import re
from pathlib import Path

import router
from router.core.codes import CODES

ROUTER = Path(router.__file__).resolve().parent
_WRITTEN = re.compile(r"""\bcode(?:=|: str = )f?"([a-z0-9{}-]+)\"""")


def _written() -> dict[str, list[str]]:
    """Each code written in the package's source, and where: `unknown-{kind}` stands for
    the codes of its kinds."""
    found: dict[str, list[str]] = {}
    for path in sorted(ROUTER.rglob("*.py")):
        for code in _WRITTEN.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, []).append(str(path.relative_to(ROUTER)))
    return found


def test_every_code_written_is_in_the_table() -> None:
    written = _written()
    assert "unknown-{kind}" in written  # the checker's one f-string, read as a pattern
    patterns = [re.compile("^" + re.sub(r"\{\w+\}", "[a-z]+", code) + "$") for code in written]
    unknown = {code: where for code, where in written.items() if "{" not in code}
    assert {c: w for c, w in unknown.items() if c not in CODES} == {}
    unused = [code for code in CODES if not any(p.match(code) for p in patterns)]
    assert unused == []


def test_the_table_says_what_each_code_is() -> None:
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code) for code in CODES)
    assert all(meaning and not meaning.endswith(".") for meaning in CODES.values())
