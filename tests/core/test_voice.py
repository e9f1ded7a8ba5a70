"""`voice:` in defaults and menus: inherited like any other menu setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.core.errors import MenuFileError
from router.core.loader import load_menu_text


def load(text: str) -> dict[str, str | None]:
    loaded = load_menu_text(text, filename="t.yaml", base_dir=Path("."))
    return {name: menu.voice for name, menu in loaded.menu_file.menus.items()}


MENUS = """
menus:
  main: {greeting: hi, options: {"1": {menu: es}, "2": {menu: fr}, "#": hangup}}
  es: {greeting: hola, voice: es, options: {"*": back}}
  fr: {greeting: bonjour, options: {"*": back}}
"""


def test_without_a_voice_the_router_chooses() -> None:
    assert load("version: 1\n" + MENUS) == {"main": None, "es": "es", "fr": None}


def test_defaults_give_every_menu_a_voice_and_menus_override_it() -> None:
    voices = load("version: 1\ndefaults: {voice: en}\n" + MENUS)
    assert voices == {"main": "en", "es": "es", "fr": "en"}


def test_a_voice_must_be_text() -> None:
    with pytest.raises(MenuFileError) as info:
        load("version: 1\ndefaults: {voice: [es]}\n" + MENUS)
    (problem,) = info.value.errors
    assert (problem.location.line, problem.location.column) == (2, 19)
    assert "voice" in problem.message
