"""Where a problem points, in a file far larger than the examples: the line and column an
editor shows, for a finding of the readers (made from a YAML node when it is found) and for
one of the checker (made from the location the model keeps), thousands of lines down."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.core.errors import Location
from router.core.loader import read_menu_text

MENUS = 2_000


def _big_file(broken: int) -> tuple[str, dict[str, str]]:
    """A file of `MENUS` menus, menu `broken` with a misspelt key and an option naming a
    menu that does not exist; returns the text and where each mistake was written."""
    lines = ["version: 1", "menus:"]
    spots: dict[str, str] = {}
    for i in range(MENUS):
        lines += [f"  m{i}:", f'    greeting: "Menu {i}."', "    options:"]
        if i == broken:
            spots["typo"] = f"big.yaml:{len(lines) + 1}:12"
            lines.append('      "1": {mneu: m0}')
            spots["nowhere"] = f"big.yaml:{len(lines) + 1}:19"
            lines.append('      "2": {menu: nowhere}')
        lines += [f'      "0": {{menu: m{(i + 1) % MENUS}}}', '      "#": hangup']
    return "\n".join(lines) + "\n", spots


@pytest.mark.parametrize("broken", [0, MENUS - 1])
def test_problems_deep_in_a_big_file_name_their_line_and_column(broken: int) -> None:
    text, spots = _big_file(broken)
    _, problems = read_menu_text(text, filename="big.yaml", base_dir=Path("."))
    where = {p.code: str(p.location) for p in problems}
    assert where["no-verb"] == spots["typo"], problems
    assert where["unknown-menu"] == spots["nowhere"], problems


def test_a_location_is_an_immutable_ordered_value() -> None:
    here = Location("menus.yaml", 12, 7)
    assert str(here) == "menus.yaml:12:7"
    assert here == Location("menus.yaml", 12, 7) and len({here, Location("menus.yaml", 12, 7)}) == 1
    assert sorted([Location("a", 2, 1), Location("a", 1, 9), here])[0] == Location("a", 1, 9)
    assert Location("menus.yaml") == Location("menus.yaml", 1, 1)
    with pytest.raises(AttributeError):
        here.line = 3  # type: ignore[misc]
