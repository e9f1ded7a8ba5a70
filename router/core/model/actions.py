"""Actions: what a key (or a limit, or a failed transfer) makes happen, one frozen
dataclass each, the `Action` union, and the `FailurePolicy` that picks one per failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from router.core.errors import Location
from router.core.model.locations import NOWHERE
from router.core.model.prompts import Prompt
from router.core.model.transfers import FailureKind, TransferSettings

__all__ = [
    "Action",
    "Back",
    "FailurePolicy",
    "GoTo",
    "Hangup",
    "LanguageTurn",
    "Repeat",
    "Say",
    "Top",
    "Transfer",
    "language_after",
    "language_label",
]


@dataclass(frozen=True, slots=True)
class Transfer:
    """Cold-transfer the caller to `target` (a `tel:+E164` or `sip:` URI)."""

    target: str
    destination: str | None = None
    """The named destination it came from, if any (for records and metrics)."""
    settings: TransferSettings = field(default_factory=TransferSettings)
    on_failure: FailurePolicy | None = None
    """Overrides the menu's policy for this transfer."""
    message: Prompt | None = None
    loc: Location = NOWHERE
    via: str | None = None
    """For an extension dialled: its directory and entry (`staff:6xxx`), a name for
    metrics that never holds the digits dialled (set by `DirectoryEntry.resolve`)."""


@dataclass(frozen=True, slots=True)
class LanguageTurn:
    """One pair of an option's `language: {en: fr, fr: en}`: a caller in `when` is switched
    to `to` (both codes the file must declare; `router.core.languages` checks them)."""

    when: str
    to: str
    when_loc: Location = NOWHERE
    to_loc: Location = NOWHERE


def language_after(
    fixed: str | None, turns: tuple[LanguageTurn, ...], current: str | None
) -> str | None:
    """The language an option switches a caller in `current` to: `fixed` (`language: fr`),
    else the turn for `current` (`language: {en: fr, fr: en}`); None: no change (no
    `language`, or a caller in a language the mapping does not list)."""
    if fixed is not None:
        return fixed
    return next((turn.to for turn in turns if turn.when == current), None)


def language_label(fixed: str | None, turns: tuple[LanguageTurn, ...]) -> str | None:
    """How transcripts and graphs name an option's switch: `fr`, or `en→fr, fr→en`."""
    if fixed is not None:
        return fixed
    return ", ".join(f"{t.when}→{t.to}" for t in turns) or None


@dataclass(frozen=True, slots=True)
class GoTo:
    """Enter another menu (it is pushed, so `back` returns here)."""

    menu: str
    message: Prompt | None = None
    loc: Location = NOWHERE
    language: str | None = None
    """`{menu: X, language: es}`: the caller's language changes first."""
    turns: tuple[LanguageTurn, ...] = ()
    """`{menu: X, language: {en: fr, fr: en}}`: the change by the caller's language."""


@dataclass(frozen=True, slots=True)
class Back:
    """Return to the menu that led here (the entry menu stays where it is)."""

    message: Prompt | None = None
    loc: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Top:
    """Return to the call's entry menu."""

    message: Prompt | None = None
    loc: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Repeat:
    """Play the current menu's greeting again."""

    message: Prompt | None = None
    loc: Location = NOWHERE
    language: str | None = None
    """`{language: es}`: the caller's language changes, then the greeting plays in it."""
    turns: tuple[LanguageTurn, ...] = ()
    """`{language: {en: fr, fr: en}}`: the change by the caller's language (a toggle)."""


@dataclass(frozen=True, slots=True)
class Say:
    """Play `message`, then the menu's prompt, and go on waiting for a key in the same menu."""

    message: Prompt
    loc: Location = NOWHERE
    then_prompt: bool = True
    """False (`then: wait`): after the message, wait for a key without the prompt."""


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call, after `message` (the goodbye) if there is one."""

    message: Prompt | None = None
    loc: Location = NOWHERE


Action = Transfer | GoTo | Back | Top | Repeat | Say | Hangup


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """What to do when a transfer fails, per kind of failure."""

    busy: Action
    no_answer: Action
    rejected: Action
    error: Action

    def for_kind(self, kind: FailureKind) -> Action:
        return {
            FailureKind.BUSY: self.busy,
            FailureKind.NO_ANSWER: self.no_answer,
            FailureKind.REJECTED: self.rejected,
            FailureKind.ERROR: self.error,
        }[kind]
