"""Rules on the caller's number: the number as rules compare it (`caller_number`), a
rule's patterns (`CallerPattern`) and the rule (`CallerRule`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from router.core.errors import Location
from router.core.model.actions import Action
from router.core.model.locations import NO_PLACES, NOWHERE

__all__ = ["CallerPattern", "CallerRule", "caller_number"]


_WITHHELD = frozenset(
    {"", "anonymous", "withheld", "restricted", "private", "unknown", "unavailable"}
)
"""What SIP bridges and carriers put where a withheld caller's number would be."""


def caller_number(raw: str | None) -> str | None:
    """The caller's number as rules compare it: `+` and digits for anything that is a
    phone number (`15105550150`, `+1 510 555 0150`), None for a withheld caller (no
    number, `anonymous`, `restricted` ...), anything else as it is (a SIP user name)."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _WITHHELD:
        return None
    digits = "".join(c for c in text if c not in " ().-")
    if digits.lstrip("+").isdigit():
        return "+" + digits.lstrip("+")
    return text


@dataclass(frozen=True, slots=True)
class CallerPattern:
    """One item of a caller rule's `from`: a number, a prefix (`+1510*`) or `anonymous`."""

    text: str
    loc: Location = NOWHERE

    @property
    def withheld(self) -> bool:
        return self.text == "anonymous"

    @property
    def prefix(self) -> str | None:
        """The digits a prefix stands for (`+1510`), None for a number or `anonymous`."""
        return self.text[:-1] if self.text.endswith("*") else None

    def matches(self, caller: str | None) -> bool:
        """Whether a caller's number (`caller_number`'s answer) is one this item stands for."""
        if self.withheld:
            return caller is None
        if caller is None:
            return False
        prefix = self.prefix
        return caller.startswith(prefix) if prefix is not None else caller == self.text

    def covers(self, other: CallerPattern) -> bool:
        """Whether every caller `other` stands for is one this item stands for too."""
        if self.withheld or other.withheld:
            return self.withheld and other.withheld
        prefix = self.prefix
        if prefix is None:
            return other.text == self.text
        return (other.prefix or other.text).startswith(prefix)


@dataclass(frozen=True, slots=True)
class CallerRule:
    """A rule on the caller's number, tried before the dialled number's entry menu."""

    name: str
    """The rule's `name`, or `callers[N]` (N from 1): how notes and records name it,
    never with the caller's digits."""
    patterns: tuple[CallerPattern, ...]
    action: Action | None
    """A `GoTo` (the call starts in that menu), a `Transfer` (at once) or a `Hangup`; None
    for a rule that only sets the language (the call goes on to the number's entry)."""
    loc: Location = NOWHERE
    language: str | None = None
    """The language the call starts in (before the number's own)."""
    schedule: str | None = None
    closed: str | None = None
    """The menu the rule's calls start in while `schedule` is closed (read as a number's
    entry reads them); a rule without them applies at every hour."""
    where: Mapping[str, Location] = field(default_factory=lambda: NO_PLACES)
    """Where `schedule` and `closed` were written."""

    def matches(self, caller: str | None) -> bool:
        return any(p.matches(caller) for p in self.patterns)
