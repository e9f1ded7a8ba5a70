"""Dial by extension: a `Directory` of entries (exact extensions, patterns, ranges),
what a run of digits is to it (`Match`), and its `ExtensionIndex` asked on every key."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum

from router.core.errors import Location
from router.core.model.actions import Transfer
from router.core.model.locations import NOWHERE

__all__ = ["Directory", "DirectoryEntry", "ExtensionIndex", "Match"]


class Match(IntEnum):
    """How a run of digits relates to a directory."""

    NONE = 0
    """No entry starts with these digits: an invalid entry."""
    PARTIAL = 1
    """Some entry could still match if more digits come."""
    AMBIGUOUS = 2
    """An entry matches, but a longer one could too: wait for `#` or the inter-digit timeout."""
    COMPLETE = 3
    """An entry matches and nothing longer could: act at once."""


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One line of a directory: an exact extension, a pattern (`1xx`) or a range (`200-249`).

    `action.target` may contain `{ext}`, replaced by the digits dialled; since the
    pattern admits digits only, the result can never leave the shape the file wrote.
    """

    pattern: str
    action: Transfer
    loc: Location = NOWHERE

    @property
    def length(self) -> int:
        return len(self.pattern.split("-")[0])

    def matches(self, digits: str) -> bool:
        """True if `digits` is exactly one of the extensions this entry stands for."""
        if len(digits) != self.length or not digits.isdigit():
            return False
        if "-" in self.pattern:
            low, high = self.pattern.split("-")
            return int(low) <= int(digits) <= int(high)
        return all(p == "x" or p == d for p, d in zip(self.pattern, digits, strict=True))

    def could_start(self, digits: str) -> bool:
        """True if `digits` is a proper prefix of some extension of this entry."""
        if len(digits) >= self.length or not digits.isdigit():
            return False
        if "-" in self.pattern:
            low, high = self.pattern.split("-")
            n = len(digits)
            # some number in [low, high] with this prefix: compare against padded bounds
            return int(digits + "0" * (self.length - n)) <= int(high) and int(
                digits + "9" * (self.length - n)
            ) >= int(low)
        return all(p == "x" or p == d for p, d in zip(self.pattern, digits, strict=False))

    def resolve(self, digits: str, directory: str = "") -> Transfer:
        """The transfer for an extension this entry matches, `{ext}` filled in, `via`
        naming the entry (`directory:pattern`)."""
        return replace(
            self.action,
            target=self.action.target.replace("{ext}", digits),
            via=f"{directory}:{self.pattern}" if directory else self.pattern,
        )


class ExtensionIndex:
    """`Directory.lookup`, answered from an index built once, when the directory is made.

    Large directories are mostly lists of exact extensions; scanning all of them on
    every key (twice: for a match and for a longer one) would cost a 200-entry
    directory about 200 microseconds per key. Exact extensions go in a dict and a
    set of their prefixes; only the patterns (`1xx`) and ranges that can start with
    the first digit dialled are still scanned, with the entries' own `matches` and
    `could_start`, so the answers are `Directory.lookup`'s (a property test holds
    them equal).
    """

    __slots__ = ("entries", "exact", "name", "patterns", "prefixes")

    def __init__(self, name: str, entries: tuple[DirectoryEntry, ...]) -> None:
        self.name = name
        self.entries = entries
        self.exact: dict[str, int] = {}
        self.prefixes: set[str] = set()
        self.patterns: dict[str, list[tuple[int, DirectoryEntry]]] = {}
        """Patterns and ranges, by the first digits of the extensions they stand for."""
        for i, entry in enumerate(entries):
            pattern = entry.pattern
            if pattern.isdigit():
                self.exact.setdefault(pattern, i)
                self.prefixes.update(pattern[:n] for n in range(1, len(pattern)))
                continue
            for first in "0123456789":
                if entry.matches(first) or entry.could_start(first):
                    self.patterns.setdefault(first, []).append((i, entry))

    def lookup(self, digits: str) -> tuple[Match, Transfer | None]:
        match, entry = self.entry(digits)
        return match, (entry.resolve(digits, self.name) if entry is not None else None)

    def entry(self, digits: str) -> tuple[Match, DirectoryEntry | None]:
        """As `lookup`, giving the entry that matches rather than its transfer (built only
        when the extension is chosen)."""
        first = self.exact.get(digits)  # the file's first entry that matches wins
        candidates = self.patterns.get(digits[:1], ())
        for i, entry in candidates:
            if first is not None and i > first:
                break
            if entry.matches(digits):
                first = i
                break
        longer = digits in self.prefixes or any(e.could_start(digits) for _, e in candidates)
        if first is not None:
            return (Match.AMBIGUOUS if longer else Match.COMPLETE), self.entries[first]
        return (Match.PARTIAL if longer else Match.NONE), None


@dataclass(frozen=True, slots=True)
class Directory:
    """A named list of extensions that callers may dial; nothing outside it is reachable."""

    name: str
    entries: tuple[DirectoryEntry, ...]
    loc: Location = NOWHERE
    index: ExtensionIndex = field(init=False, repr=False, compare=False)
    """The entries indexed for `ExtensionIndex.lookup`, built with the directory: what a
    call asks on every key it presses."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", ExtensionIndex(self.name, self.entries))

    def lookup(self, digits: str) -> tuple[Match, Transfer | None]:
        """Classify `digits`; the transfer is given for AMBIGUOUS and COMPLETE.

        The reference answer, by scanning every entry; calls ask `index.lookup`, which
        answers the same from an index.
        """
        found: Transfer | None = None
        for entry in self.entries:
            if entry.matches(digits):
                found = entry.resolve(digits, self.name)
                break
        longer = any(entry.could_start(digits) for entry in self.entries)
        if found is not None:
            return (Match.AMBIGUOUS if longer else Match.COMPLETE), found
        return (Match.PARTIAL if longer else Match.NONE), None
