"""One "did you mean": `router.core.suggest` is the only place that guesses a name."""

from __future__ import annotations

from pathlib import Path

import router
from router.core.suggest import did_you_mean, suggest, suggestions

ROUTER = Path(router.__file__).resolve().parent


def test_the_nearest_name_past_the_cutoff() -> None:
    assert suggest("mian", ["main", "sales"]) == "main"
    assert suggest("go", ["say", "menu"]) is None
    assert did_you_mean("transfr", ("say", "transfer")) == "did you mean 'transfer'?"
    assert did_you_mean("zzz", ("say",)) is None
    assert suggestions("en-uk", ["en-us", "en-gb", "fr"], 2) == ["en-us", "en-gb"]


def test_numbers_of_one_area_are_not_guessed() -> None:
    """`router graph --number` asked with a cut-off of its own (0.75); this one keeps apart
    two numbers that share only the country and area code."""
    assert suggest("+15551110001", ["+15105550151", "+15105550150"]) is None
    assert suggest("+15105550152", ["+15105550151", "default"]) == "+15105550151"


def test_no_other_module_guesses() -> None:
    guessing = sorted(
        str(path.relative_to(ROUTER))
        for path in ROUTER.rglob("*.py")
        if "get_close_matches" in path.read_text(encoding="utf-8")
    )
    assert guessing == ["core/suggest.py"]
