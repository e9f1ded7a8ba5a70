"""`router local`'s welcome says where a phone call starts now (calls follow the clock)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from router.core.loader import load_menu_file
from router.stack.local_cli import entry_menus_now

ROOT = Path(__file__).resolve().parents[2]


def test_the_welcome_says_which_menu_a_call_reaches_now() -> None:
    menu_file = load_menu_file(ROOT / "menus.yaml").menu_file
    numbers = ["+15105550150", "+15105550151"]
    open_at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
    closed_at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday 04:00
    opened = entry_menus_now(menu_file, numbers, open_at)
    closed = entry_menus_now(menu_file, numbers, closed_at)
    assert opened[0] == (
        "  +15105550150: it is Tue 10:00 in America/New_York, so 'office' is open: "
        "calls start in 'main'"
    )
    assert "closed: calls start in 'after_hours'" in closed[0]
    assert "closed: calls start in 'after_hours'" in closed[1]  # in Spanish (its language)
    assert "set it on the page" in closed[2]
