"""The code in the documents is true: every Python block parses and is ruff-formatted, every
call record shown is one the router writes."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from router.runtime.records import CallRecord

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(?:python|py)\n(.*?)^```", re.M | re.S)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in DOCUMENTS:
        text = path.read_text()
        for m in BLOCK.finditer(text):
            found.append((f"{path.name}:{text[: m.start()].count(chr(10)) + 1}", m.group(1)))
    return found


BLOCKS = _blocks()


def test_the_documents_have_python_to_check() -> None:
    assert len(BLOCKS) >= 2  # docs/deploy.md's provisioning, docs/trying-menus.md's listener


@pytest.mark.parametrize(("where", "code"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_a_python_block_parses_and_is_formatted(where: str, code: str) -> None:
    ast.parse(code, filename=where)
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "-", "--stdin-filename", "block.py"],
        input=code,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert formatted == code, f"{where}: run ruff format on it"


RECORD = re.compile(r'^```json\n(\{"call_id".*?)^```', re.M | re.S)
RECORDS = [
    (f"{path.name}:{path.read_text()[: m.start()].count(chr(10)) + 1}", m.group(1))
    for path in DOCUMENTS
    for m in RECORD.finditer(path.read_text())
]


def test_the_documents_show_call_records() -> None:
    assert [where.split(":")[0] for where, _ in RECORDS] == ["deploy.md", "runtime.md"]


@pytest.mark.parametrize(("where", "text"), RECORDS, ids=[w for w, _ in RECORDS])
def test_a_call_record_shown_is_one_the_router_writes(where: str, text: str) -> None:
    """Every field in the shape the schema writes it (router/runtime/records/schema.py),
    none missing, none left over: read back and written again, the same object."""
    shown = json.loads(text)
    assert CallRecord.from_json(shown).as_dict() == shown, where
