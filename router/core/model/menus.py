"""One menu (`Menu`), with its timing, limits and the router's own words, every
inherited setting already filled in by the loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from router.core.errors import Location
from router.core.keys import Key
from router.core.model.actions import Action, FailurePolicy, Hangup
from router.core.model.locations import NO_PLACES, NOWHERE
from router.core.model.prompts import Prompt

__all__ = ["Limits", "Menu", "Messages", "Timeouts"]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long callers have to press keys; the file's `timeouts` (`first_digit`,
    `inter_digit`), the seconds in each field's name (`_s`)."""

    first_digit_s: float = 5.0
    """Seconds of silence after a prompt ends before it counts as no input."""
    inter_digit_s: float = 3.0
    """Seconds between keys of a multi-digit entry before it is taken as finished."""


@dataclass(frozen=True, slots=True)
class Limits:
    invalid: int = 3
    """Invalid entries in one menu before `on_limit`."""
    no_input: int = 3
    """No-input time-outs in one menu before `on_limit`."""


@dataclass(frozen=True, slots=True)
class Messages:
    """The router's own words; each is settable (defaults < number's defaults < menu)."""

    invalid: Prompt = field(default_factory=lambda: Prompt("Sorry, that is not a valid choice."))
    no_input: Prompt = field(default_factory=lambda: Prompt("Sorry, I did not hear a choice."))
    transfer_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, we could not connect your call. Please call again later."
        )
    )
    """The goodbye when a call reaches the router's cap on transfers."""
    key_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, we cannot take any more keys on this call. Please call again. Goodbye."
        )
    )
    """The goodbye when a call reaches the router's cap on keys (100)."""
    call_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, this call has reached its time limit. Please call again. Goodbye."
        )
    )
    """The goodbye when a call reaches the router's cap on its length (15 minutes)."""


@dataclass(frozen=True, slots=True)
class Menu:
    """One menu, with every inherited setting already filled in from `defaults`."""

    name: str
    greeting: Prompt
    """Played on entering the menu."""
    prompt: Prompt
    """The shorter version played on repeats (after no input or an invalid key)."""
    options: Mapping[Key, Action]
    directory: str | None = None
    """Name of a directory whose extensions may be dialled in this menu."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = field(default_factory=Limits)
    messages: Messages = field(default_factory=Messages)
    on_limit: Action = field(default_factory=Hangup)
    """What happens when the invalid limit is reached (typically the operator), and the
    no-input limit too unless `on_no_input_limit` says otherwise."""
    on_no_input_limit: Action | None = None
    """What happens when the no-input limit is reached (None: `on_limit`)."""
    on_transfer_failure: FailurePolicy | None = None
    voice: str | None = None
    """The voice for this menu's text (None: the router's configured voice)."""
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: NO_PLACES)
    """Where parts of the menu were written, for findings that point inside it: field
    names (`greeting`, `prompt`, `directory`) and `options.<key>` (the key itself)."""

    @property
    def limit_actions(self) -> tuple[Action, ...]:
        """What a limit reached can do here: `on_limit`, and the no-input limit's own
        action when the file gives one (`on_limit: {invalid: ..., no_input: ...}`)."""
        if self.on_no_input_limit is None:
            return (self.on_limit,)
        return (self.on_limit, self.on_no_input_limit)

    def limit_action(self, kind: str) -> Action:
        """The action for a limit reached: `invalid` or `no_input`."""
        if kind == "no_input" and self.on_no_input_limit is not None:
            return self.on_no_input_limit
        return self.on_limit
