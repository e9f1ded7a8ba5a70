"""What the router tells the trial page (and any other listener) about a call, through LiveKit.

Two channels, both documented in docs/trying-menus.md:

- the router's **participant attributes** (`router.menu`, `router.state`,
  `router.menuVersion`): where the call is now, for a page that joins late or missed
  a packet;
- the data **topic** `router.events`: one JSON object per event, reliable and in order,
  each one of the frozen dataclasses below, serialized by `as_json()` as
  `{"type": ..., "t": seconds since the call started, ...fields}`.

The events are this page's own schema, built here from the navigator's effects (its
`Note`s, `Play`s and `TransferTo`s), so the schema stays put when the notes change.
Sans-I/O: `EventBuilder` is fed effects with the time and returns events.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import ClassVar

from router.core import events as core
from router.core.events import AnyNote, Effect, Note, Play, TransferTo
from router.core.model import MenuFile

__all__ = [
    "ATTR_MENU",
    "ATTR_MENU_VERSION",
    "ATTR_STATE",
    "TOPIC",
    "CallEnded",
    "CallStarted",
    "EventBuilder",
    "ExtensionDialled",
    "InvalidKey",
    "KeyIgnored",
    "KeyPressed",
    "LimitReached",
    "MenuEntered",
    "NoInput",
    "PageEvent",
    "PromptPlayed",
    "TransferRequested",
    "PageTransferResult",
    "as_json",
]

TOPIC = "router.events"
"""The data topic the router publishes its events on."""
ATTR_MENU = "router.menu"
"""The router participant's attribute naming the menu the caller is in."""
ATTR_STATE = "router.state"
"""The navigator's state: prompting, waiting, collecting, announcing, transferring,
closing, ended."""
ATTR_MENU_VERSION = "router.menuVersion"
"""The version of the menu file this call uses (the call record's `menu_version`)."""


@dataclass(frozen=True, slots=True)
class _Event:
    """What every event carries: its `type` on the topic (a class constant) and its time."""

    type: ClassVar[str]
    t: float
    """Seconds since the call started."""


@dataclass(frozen=True, slots=True)
class _InMenu(_Event):
    """An event in a menu."""

    menu: str | None
    """The menu the caller is in (None before the first)."""


@dataclass(frozen=True, slots=True)
class CallStarted(_Event):
    type = "call_started"
    dialled: str | None
    """The number dialled, or None for the file's `default` entry."""
    at: str
    """The time of day the call is routed at (ISO 8601): opening hours are read there."""
    menu_version: str


@dataclass(frozen=True, slots=True)
class MenuEntered(_InMenu):
    type = "menu_entered"
    how: str
    """start, goto, back or top."""


@dataclass(frozen=True, slots=True)
class PromptPlayed(_InMenu):
    type = "prompt"
    texts: tuple[str, ...]
    """What is being played, in order: a prompt's text, or its audio file's name."""


@dataclass(frozen=True, slots=True)
class KeyPressed(_InMenu):
    type = "key"
    key: str


@dataclass(frozen=True, slots=True)
class KeyIgnored(_InMenu):
    """A key during an announcement that must be heard to the end, or a transfer."""

    type = "key_ignored"
    key: str


@dataclass(frozen=True, slots=True)
class InvalidKey(_InMenu):
    type = "invalid_key"
    entry: str
    """The key, or the digits of an extension that matched nothing."""
    count: int
    """Invalid entries in this visit of the menu, this one included."""
    limit: int
    """The menu's `limits.invalid`: at `count == limit` its `on_limit` runs."""


@dataclass(frozen=True, slots=True)
class NoInput(_InMenu):
    type = "no_input"
    count: int
    limit: int


@dataclass(frozen=True, slots=True)
class LimitReached(_InMenu):
    type = "limit_reached"
    limit: str
    """invalid, no_input, keys, transfers or call_length."""


@dataclass(frozen=True, slots=True)
class ExtensionDialled(_InMenu):
    type = "extension_dialled"
    digits: str
    entry: str
    """The directory entry it matched (`staff:6xxx`)."""


@dataclass(frozen=True, slots=True)
class TransferRequested(_InMenu):
    type = "transfer_requested"
    target: str
    """The SIP URI or tel: URI of the REFER."""
    destination: str | None
    """The destination's name in the file, if it has one."""
    headers: dict[str, str] = field(default_factory=dict)
    ringing_timeout: float = 30.0
    """Seconds (the page's schema keeps the file's key)."""
    play_dialtone: bool = False


@dataclass(frozen=True, slots=True)
class PageTransferResult(_InMenu):
    type = "transfer_result"
    result: str
    """succeeded or failed."""
    kind: str | None = None
    """For a failure: busy, no_answer, rejected or error (which policy of the file runs)."""
    sip_status: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CallEnded(_Event):
    type = "call_ended"
    reason: str
    """The call record's `end`: transferred, hangup, caller_hangup, ..."""


PageEvent = (
    CallStarted
    | MenuEntered
    | PromptPlayed
    | KeyPressed
    | KeyIgnored
    | InvalidKey
    | NoInput
    | LimitReached
    | ExtensionDialled
    | TransferRequested
    | PageTransferResult
    | CallEnded
)


def as_json(event: PageEvent) -> str:
    """`{"type": ..., "t": ..., ...}`: one event as the topic carries it."""
    body = asdict(event)
    body["t"] = round(event.t, 3)
    return json.dumps({"type": event.type, **body}, separators=(",", ":"), ensure_ascii=False)


class EventBuilder:
    """Turns one call's effects into page events; `started` is the call's start on the
    navigator's clock (`t` counts from there)."""

    def __init__(self, menu_file: MenuFile, started: float) -> None:
        self._file = menu_file
        self._started = started
        self._invalid = 0
        self._no_input = 0
        self._digits = ""

    def call_started(self, dialled: str | None, at: str, now: float) -> CallStarted:
        return CallStarted(self._t(now), dialled, at, self._file.version)

    def on_effect(self, effect: Effect, now: float, menu: str | None) -> list[PageEvent]:
        """The events one effect makes; `menu` is the navigator's menu after it."""
        t = self._t(now)
        match effect:
            case Note():
                return self._note(effect, t)
            case Play(prompts=prompts):
                texts = tuple(p.text or _file_name(p.audio) for p in prompts if p)
                return [PromptPlayed(t, menu, texts)] if texts else []
            case TransferTo(target=target, settings=settings, destination=name, via=via):
                events: list[PageEvent] = []
                if via is not None:
                    events.append(ExtensionDialled(t, menu, self._digits, via))
                events.append(
                    TransferRequested(
                        t,
                        menu,
                        target,
                        name,
                        dict(settings.headers),
                        settings.ringing_timeout_s,
                        settings.play_dialtone,
                    )
                )
                self._digits = ""
                return events
            case _:
                return []

    def _note(self, note: AnyNote, t: float) -> list[PageEvent]:
        menu = note.menu
        match note:
            case core.MenuEntered(how=how):
                self._invalid = self._no_input = 0
                self._digits = ""
                return [MenuEntered(t, menu or "", how.value)]
            case core.KeyPressed(key=key):
                return [KeyPressed(t, menu, key.value)]
            case core.KeyIgnored(key=key):
                return [KeyIgnored(t, menu, key.value)]
            case core.ExtensionDialled(digits=digits):
                self._digits = digits  # told with the transfer request it makes
                return []
            case core.InvalidEntry(entry=entry):
                self._invalid += 1
                self._digits = ""
                return [InvalidKey(t, menu, entry, self._invalid, self._limit(menu, True))]
            case core.NoInput():
                self._no_input += 1
                self._digits = ""
                return [NoInput(t, menu, self._no_input, self._limit(menu, False))]
            case core.LimitReached(limit=limit):
                return [LimitReached(t, menu, limit.value)]
            case core.TransferConnected():
                return [PageTransferResult(t, menu, "succeeded")]
            case core.TransferFailure(kind=kind, sip_status=status, reason=reason):
                return [PageTransferResult(t, menu, "failed", kind.value, status, reason)]
            case core.CallFinished(reason=reason):
                return [CallEnded(t, reason.value)]
            case _:
                return []

    def _limit(self, menu: str | None, invalid: bool) -> int:
        found = self._file.menus.get(menu or "")
        if found is None:
            return 0
        return found.limits.invalid if invalid else found.limits.no_input

    def _t(self, now: float) -> float:
        return max(0.0, now - self._started)


def _file_name(path: str | None) -> str:
    return (path or "").rsplit("/", 1)[-1]
