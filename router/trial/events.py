"""What the router tells the trial page (and any other listener) about a call, through LiveKit.

Two channels, both documented in docs/trying-menus.md:

- the router's **participant attributes** (`router.menu`, `router.state`,
  `router.menuVersion`): where the call is now, for a page that joins late or missed
  a packet;
- the data **topic** `router.events`: one JSON object per event, reliable and in order,
  each one of the frozen dataclasses below, serialized by `as_json()` as
  `{"type": ..., "t": seconds since the call started, ...fields}`.

Where a page event is a core note (`NOTE_EVENTS`: `menu_entered`, `key`, `invalid_key`,
`transfer_result`, `call_ended`, ...), it is the note itself, its fields as JSON
(`note_fields`) plus the page's few extras: one schema, the core's (router/core/events.py),
so a field added to a note reaches the page with no second edit. `call_started`, `prompt`
and `transfer_requested` come from what is no note (the call's start, `Play`,
`TransferTo`) and are this module's own dataclasses. Sans-I/O: `EventBuilder` is fed
effects with the time and returns events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import ClassVar

from router.core import events as core
from router.core.events import AnyNote, Effect, Note, Play, TransferTo
from router.core.model import MenuFile

__all__ = [
    "ATTR_MENU",
    "ATTR_MENU_VERSION",
    "ATTR_STATE",
    "NOTE_EVENTS",
    "NOT_SHOWN",
    "TOPIC",
    "CallStarted",
    "EventBuilder",
    "NoteEvent",
    "PageEvent",
    "PromptPlayed",
    "TransferRequested",
    "as_json",
    "note_fields",
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
class PromptPlayed(_InMenu):
    type = "prompt"
    texts: tuple[str, ...]
    """What is being played, in order: a prompt's text, or its audio file's name."""


@dataclass(frozen=True, slots=True)
class TransferRequested(_InMenu):
    """The REFER (or the page's RPC) goes out: built from the effect `TransferTo`, which is
    no note, with its settings flattened as the page reads them."""

    type = "transfer_requested"
    target: str
    """The SIP URI or tel: URI of the REFER."""
    destination: str | None
    """The destination's name in the file, if it has one."""
    headers: dict[str, str] = field(default_factory=dict)
    ringing_timeout: float = 30.0
    """Seconds (the page's schema keeps the file's key)."""
    play_dialtone: bool = False


NOTE_EVENTS: dict[type[Note], str] = {
    core.MenuEntered: "menu_entered",
    core.KeyPressed: "key",
    core.KeyIgnored: "key_ignored",
    core.InvalidEntry: "invalid_key",
    core.NoInput: "no_input",
    core.LimitReached: "limit_reached",
    core.ExtensionDialled: "extension_dialled",
    core.TransferConnected: "transfer_result",
    core.TransferFailure: "transfer_result",
    core.CallFinished: "call_ended",
}
"""The core notes the page shows, and the `type` each has on the topic. The event's fields
are the note's own (`note_fields`), so a field added to a note reaches the page with no
edit here; `EventBuilder` adds the page's few extras (counts, limits, `result`, `entry`)."""

NOT_SHOWN: frozenset[type[Note]] = frozenset(
    {
        core.CallerMatched,  # its menu or transfer follows, which the page shows
        core.LanguageChosen,  # the prompts played say it
        core.OptionChosen,  # the `key` event before it says it
        core.DuplicateKey,  # a bridge's copy of a key: nothing the caller did
        core.TransferStarted,  # `transfer_requested` follows, with the REFER's settings
    }
)
"""The core notes the page does not show, each for a reason; with `NOTE_EVENTS` they are
the whole `AnyNote` union (tests/trial/test_events.py walks it)."""


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """A page event that is a core note: `{"type", "t", ...the note's fields, ...extra}`."""

    type: str
    """`NOTE_EVENTS[type(note)]`."""
    t: float
    """Seconds since the call started."""
    note: AnyNote
    extra: Mapping[str, object] = field(default_factory=dict)
    """What the page adds to the note (for `invalid_key`: `count` and `limit`)."""

    def body(self) -> dict[str, object]:
        return {**note_fields(self.note), **self.extra}


PageEvent = CallStarted | PromptPlayed | TransferRequested | NoteEvent


def note_fields(note: AnyNote) -> dict[str, object]:
    """A note's fields as JSON values (enums by value), less `now`: the page has `t`."""
    return {f.name: _plain(getattr(note, f.name)) for f in fields(note) if f.name != "now"}


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def as_json(event: PageEvent) -> str:
    """`{"type": ..., "t": ..., ...}`: one event as the topic carries it."""
    body = event.body() if isinstance(event, NoteEvent) else asdict(event)
    body["t"] = round(event.t, 3)
    return json.dumps(
        {"type": event.type, **body},
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,  # a note's field JSON has no type for (a time, a path) goes as its text
    )


class EventBuilder:
    """Turns one call's effects into page events; `started` is the call's start on the
    navigator's clock (`t` counts from there)."""

    def __init__(self, menu_file: MenuFile, started: float) -> None:
        self._file = menu_file
        self._started = started
        self._invalid = 0
        self._no_input = 0

    def call_started(self, dialled: str | None, at: str, now: float) -> CallStarted:
        return CallStarted(self._t(now), dialled, at, self._file.version)

    def on_effect(self, effect: Effect, now: float, menu: str | None) -> list[PageEvent]:
        """The events one effect makes; `menu` is the navigator's menu after it."""
        t = self._t(now)
        match effect:
            case Note():
                kind = NOTE_EVENTS.get(type(effect))
                if kind is None:
                    return []
                return [NoteEvent(kind, t, effect, self._extra(effect))]
            case Play(prompts=prompts):
                texts = tuple(p.text or _file_name(p.audio) for p in prompts if p)
                return [PromptPlayed(t, menu, texts)] if texts else []
            case TransferTo(target=target, settings=settings, destination=name):
                return [
                    TransferRequested(
                        t,
                        menu,
                        target,
                        name,
                        dict(settings.headers),
                        settings.ringing_timeout_s,
                        settings.play_dialtone,
                    )
                ]
            case _:
                return []

    def _extra(self, note: AnyNote) -> dict[str, object]:
        """The page's fields beyond the note's: what the page would otherwise count itself."""
        match note:
            case core.MenuEntered():
                self._invalid = self._no_input = 0
            case core.InvalidEntry(menu=menu):
                self._invalid += 1
                return {"count": self._invalid, "limit": self._limit(menu, True)}
            case core.NoInput(menu=menu):
                self._no_input += 1
                return {"count": self._no_input, "limit": self._limit(menu, False)}
            case core.ExtensionDialled(directory=directory, pattern=pattern):
                # as `TransferTo.via` names it (router/core/model/directories.py `resolve`)
                return {"entry": f"{directory}:{pattern}" if directory else pattern}
            case core.TransferConnected():
                return {"result": "succeeded", "kind": None, "sip_status": None}
            case core.TransferFailure():
                return {"result": "failed"}
        return {}

    def _limit(self, menu: str | None, invalid: bool) -> int:
        found = self._file.menus.get(menu or "")
        if found is None:
            return 0
        return found.limits.invalid if invalid else found.limits.no_input

    def _t(self, now: float) -> float:
        return max(0.0, now - self._started)


def _file_name(path: str | None) -> str:
    return (path or "").rsplit("/", 1)[-1]
