"""The Python in the documents runs as written: every block parses and is ruff-formatted."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
