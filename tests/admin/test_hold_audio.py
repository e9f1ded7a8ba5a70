"""Hold audio in `router simulate`'s transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.cli import main
from tests.core.test_hold_audio import FILE


def test_simulate_says_the_hold_audio_plays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "menus.yaml").write_text(FILE)
    main(["simulate", str(tmp_path / "menus.yaml"), "--keys", "1", "--at", "2026-12-01T10:00Z"])
    out = capsys.readouterr().out
    assert 'hears while the transfer rings (looped): "Sales will be with you shortly."' in out
