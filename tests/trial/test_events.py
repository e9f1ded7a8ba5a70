"""The trial page's events from the navigator's effects, and its transfer answers.

The real navigator walks the repository's menus.yaml; the events are what the page and any
other listener of the `router.events` topic receive (docs/trying-menus.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import fields
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, get_args

import pytest

from router.core import events as core
from router.core.events import (
    AnyNote,
    CallStarted,
    DigitPressed,
    Event,
    Play,
    PlaybackFinished,
    TimerFired,
    TimerKind,
    TransferFailed,
    TransferSucceeded,
)
from router.core.keys import Key
from router.core.loader import load_menu_file
from router.core.model import FailureKind, TransferReason
from router.core.navigator import Navigator
from router.trial.caller import call_time, is_trial_caller
from router.trial.events import NOT_SHOWN, NOTE_EVENTS, EventBuilder, NoteEvent, as_json
from router.trial.transfer import read_answer

ROOT = Path(__file__).resolve().parents[2]
MENUS = ROOT / "menus.yaml"
APP_JS = ROOT / "router" / "trial" / "web" / "app.js"

APP_READS: dict[str, tuple[str, ...]] = {
    "menu_entered": ("menu", "how"),
    "key": ("menu", "key"),
    "key_ignored": ("menu", "key"),
    "invalid_key": ("menu", "entry", "count", "limit"),
    "no_input": ("menu", "count", "limit"),
    "limit_reached": ("menu", "limit"),
    "extension_dialled": ("menu", "digits", "entry"),
    "transfer_result": ("menu", "result", "kind", "sip_status"),
    "call_ended": ("reason",),
}
"""What router/trial/web/app.js and graph.js read of each event that is a core note (the
last test below checks this table against app.js's own text)."""


def read(event: dict[str, Any]) -> dict[str, Any]:
    """An event as the page reads it: its type, its time and the fields app.js uses."""
    return {
        "type": event["type"],
        "t": event["t"],
        **{k: event[k] for k in APP_READS[event["type"]]},
    }


OPEN = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York


class Call:
    """The navigator with the page's event builder watching its effects."""

    def __init__(self, dialled: str | None = "+15105550150", at: datetime = OPEN) -> None:
        self.file = load_menu_file(MENUS).menu_file
        self.navigator = Navigator(self.file)
        self.builder = EventBuilder(self.file, 100.0)
        self.now = 100.0
        self.events: list[dict[str, Any]] = []
        self.play_id: int | None = None
        self.feed(CallStarted(dialled, at, self.now))

    def feed(self, event: Event) -> None:
        for effect in self.navigator.handle(event):
            if isinstance(effect, Play):
                self.play_id = effect.play_id
            for page_event in self.builder.on_effect(effect, self.now, self.navigator.menu):
                self.events.append(json.loads(as_json(page_event)))

    def keys(self, keys: str) -> None:
        for key in keys:
            self.now += 0.5
            parsed = Key.parse(key)
            assert parsed is not None
            self.feed(DigitPressed(parsed, self.now))

    def prompt_done(self) -> None:
        assert self.play_id is not None
        self.now += 3
        self.feed(PlaybackFinished(self.play_id, self.now))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == kind]


def test_support_then_a_busy_desk_in_the_pages_words() -> None:
    call = Call()
    call.keys("21")
    call.prompt_done()  # "Connecting you to the support desk." heard to its end
    call.now += 1
    call.feed(TransferFailed(486, "busy", call.now))
    types = [e["type"] for e in call.events]
    assert types == [
        "menu_entered",
        "prompt",
        "key",
        "menu_entered",
        "prompt",
        "key",
        "prompt",
        "transfer_requested",
        "transfer_result",
        "prompt",
    ]
    assert read(call.events[0]) == {
        "type": "menu_entered",
        "t": 0.0,
        "menu": "main",
        "how": "start",
    }
    assert read(call.of("menu_entered")[1]) == {
        "type": "menu_entered",
        "t": 0.5,
        "menu": "support",
        "how": "goto",
    }
    requested = call.of("transfer_requested")[0]
    assert requested["destination"] == "support_desk"
    assert requested["target"] == "sip:support@pbx.example.com;transport=tcp"
    assert requested["headers"] == {
        "X-Routed-By": "menu-router",
        "X-Department": "support",
        "X-Topic": "orders",
    }
    assert (requested["ringing_timeout"], requested["play_dialtone"]) == (25.0, True)
    result = call.of("transfer_result")[0]
    assert (result["result"], result["kind"], result["sip_status"]) == ("failed", "busy", 486)
    assert call.events[-1]["texts"][0] == "That line is busy."


def test_invalid_keys_and_silences_count_to_the_menus_limit() -> None:
    call = Call()
    call.keys("4")
    call.prompt_done()
    call.now += 7
    call.feed(TimerFired(TimerKind.FIRST_DIGIT, call.now))
    call.keys("4")
    invalid = call.of("invalid_key")
    assert [(e["entry"], e["count"], e["limit"]) for e in invalid] == [("4", 1, 3), ("4", 2, 3)]
    assert [(e["count"], e["limit"]) for e in call.of("no_input")] == [(1, 3)]


def test_an_extension_names_its_digits_and_directory_entry() -> None:
    call = Call()
    call.keys("5001")
    call.prompt_done()  # "Calling Alice."
    dialled = call.of("extension_dialled")
    assert [(e["digits"], e["entry"]) for e in dialled] == [("5001", "staff:5001")]
    assert call.of("transfer_requested")[0]["target"] == "sip:alice@pbx.example.com"
    call.feed(TransferSucceeded(call.now))
    assert call.of("transfer_result")[0]["result"] == "succeeded"
    assert read(call.events[-1]) == {
        "type": "call_ended",
        "t": call.events[-1]["t"],
        "reason": "transferred",
    }


def test_after_hours_at_the_time_asked_for() -> None:
    sunday = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)
    assert Call(at=sunday).events[0]["menu"] == "after_hours"
    assert Call(dialled=None).events[0]["menu"] == "main"


@pytest.mark.parametrize(
    ("answer", "status", "kind"),
    [
        ({"outcome": "busy"}, 486, FailureKind.BUSY),
        ({"outcome": "no_answer"}, 408, FailureKind.NO_ANSWER),
        ({"outcome": "rejected", "sip_status": 403}, 403, FailureKind.REJECTED),
        ({"outcome": "rejected", "sip_status": 603}, 603, FailureKind.REJECTED),
        ({"outcome": "rejected"}, 603, FailureKind.REJECTED),
        ({"outcome": "error"}, None, FailureKind.ERROR),
        ({"outcome": "error", "sip_status": 486}, None, FailureKind.ERROR),
        ({"outcome": "sideways"}, None, FailureKind.ERROR),
        ({"no": "outcome"}, None, FailureKind.ERROR),
    ],
)
def test_the_pages_answer_becomes_the_transfers_result(
    answer: dict[str, object], status: int | None, kind: FailureKind
) -> None:
    result = read_answer(json.dumps(answer), 5.0)
    assert isinstance(result, TransferFailed)
    assert (result.sip_status, result.kind, result.now) == (status, kind, 5.0)


def test_answered_is_success_and_garbage_is_an_error() -> None:
    assert read_answer('{"outcome": "answered"}', 1.0) == TransferSucceeded(1.0)
    broken = read_answer("not json", 1.0)
    assert isinstance(broken, TransferFailed) and broken.kind is FailureKind.ERROR
    no_answer = read_answer('{"outcome": "no_answer"}', 1.0)
    assert isinstance(no_answer, TransferFailed)
    assert no_answer.transfer_reason is TransferReason.RINGING_TIMEOUT


def test_a_browser_caller_is_a_standard_participant_that_says_so() -> None:
    assert is_trial_caller(0, {"trial.caller": "browser"})
    assert not is_trial_caller(3, {"trial.caller": "browser"}), "a SIP participant is not"
    assert not is_trial_caller(0, {}), "any other browser or app is not"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    asked = call_time({"trial.at": "2026-12-06T10:00:00-05:00"}, now)
    assert asked.isoformat() == "2026-12-06T10:00:00-05:00"
    assert call_time({"trial.at": "2026-12-06T10:00"}, now) == now, "no offset: not used"
    assert call_time({"trial.at": "soon"}, now) == now


def test_every_note_the_page_shows_has_its_event_and_every_other_is_left_out_by_name() -> None:
    notes = set(get_args(AnyNote))
    assert set(NOTE_EVENTS) | NOT_SHOWN == notes, "a new note kind: show it or say why not"
    assert not set(NOTE_EVENTS) & NOT_SHOWN
    assert set(NOTE_EVENTS.values()) == set(APP_READS)
    assert {type(note) for note in SAMPLES} == set(NOTE_EVENTS), "a sample of each shown note"


SAMPLES: list[AnyNote] = [
    core.MenuEntered(1.0, "main", core.EnteredBy.GOTO),
    core.KeyPressed(1.0, "main", Key("2")),
    core.KeyIgnored(1.0, "main", Key("#")),
    core.InvalidEntry(1.0, "main", "4"),
    core.NoInput(1.0, "main"),
    core.LimitReached(1.0, "main", core.Limit.NO_INPUT),
    core.ExtensionDialled(1.0, "main", "5001", "staff", "5001"),
    core.TransferConnected(1.0, "main", "sip:alice@pbx.example.com"),
    core.TransferFailure(1.0, "main", FailureKind.NO_ANSWER, 408, "no answer"),
    core.CallFinished(1.0, "main", core.EndReason.CALLER_HANGUP),
]


@pytest.mark.parametrize("note", SAMPLES, ids=lambda n: type(n).__name__)
def test_a_notes_event_carries_every_field_of_the_note_and_what_app_js_reads(
    note: AnyNote,
) -> None:
    (event,) = Call().builder.on_effect(note, 101.0, note.menu)
    assert isinstance(event, NoteEvent)
    body = json.loads(as_json(event))
    assert (body["type"], body["t"]) == (NOTE_EVENTS[type(note)], 1.0)
    for f in fields(note):
        if f.name != "now":
            value = getattr(note, f.name)
            assert body[f.name] == (value.value if isinstance(value, Enum) else value), f.name
    assert set(APP_READS[body["type"]]) <= set(body)


def test_app_js_reads_no_other_field_of_these_events() -> None:
    text = APP_JS.read_text()
    for kind, names in APP_READS.items():
        case = re.search(rf'case "{kind}":\s*(.*?)(?=\n\s*case "|\n\s*}}\n)', text, re.S)
        assert case is not None, f"app.js shows no {kind}"
        used = set(re.findall(r"\be\.([a-z_]+)", case.group(1))) - {"type", "t"}
        assert used <= set(names), (kind, used - set(names))
