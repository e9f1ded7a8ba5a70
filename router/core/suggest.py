""" "Did you mean ...?": the nearest known name to a misspelt one, by one rule.

Every message that names an unknown menu, key, verb, word, time zone, voice or number
asks here, so all of them guess alike. The measure is `difflib.SequenceMatcher.ratio`
(twice the matching characters over the length of both strings, 0 to 1), through
`difflib.get_close_matches`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["CUTOFF", "did_you_mean", "suggest", "suggestions"]

CUTOFF = 0.6
"""The least ratio a guess needs: difflib's own default, which eight of the nine places
that guessed used (the broken-file corpus, tests/core/broken/, was written against it).
One typo in a word of four letters or more passes (`sey` -> `say` 0.67, `mian` -> `main`
0.75, `transfr` -> `transfer` 0.93); unrelated words do not (`go` -> `say` 0), nor two
numbers that share only a country and area code (`+15551110001` -> `+15105550151` 0.58),
which is why `router graph`'s 0.75 for numbers is not needed."""


def suggestions(name: str, names: Iterable[str], count: int) -> list[str]:
    """Up to `count` of `names` nearest to `name`, best first, each at least `CUTOFF` alike."""
    return difflib.get_close_matches(name, list(names), n=count, cutoff=CUTOFF)


def suggest(name: str, names: Iterable[str]) -> str | None:
    """The one of `names` nearest to `name`, if any is at least `CUTOFF` alike."""
    close = suggestions(name, names, 1)
    return close[0] if close else None


def did_you_mean(name: str, names: Iterable[str]) -> str | None:
    """`did you mean 'NAME'?` for `suggest`'s guess, the hint the messages give; else None."""
    guess = suggest(name, names)
    return f"did you mean '{guess}'?" if guess is not None else None
