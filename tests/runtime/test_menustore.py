"""The menu file watcher: a file that goes away and comes back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from router.runtime.menustore import MenuStore
from router.runtime.prompts import EspeakSynthesizer, PromptCache

MENUS = """\
version: 1
menus:
  main:
    greeting: "Press 1."
    options:
      "1": {transfer: "tel:+15105550100"}
"""


def test_a_deleted_menu_file_is_said_once_and_read_again_when_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(MENUS)
    store = MenuStore(path, PromptCache(EspeakSynthesizer()))
    served = store.load().version
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="router.runtime.menustore"):
        assert store.poll() is False
        assert store.poll() is False
    gone = [r.getMessage() for r in caplog.records if "is gone" in r.getMessage()]
    assert gone == [f"menu file {path} is gone; still serving version {served}"]
    assert store.current.version == served
    path.write_text(MENUS.replace("Press 1.", "Press one."))
    assert store.poll() is True and store.current.version != served
