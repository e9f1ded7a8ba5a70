"""The navigator, one construct per row: a script of events in, the effects out.

Scripts use the driver's tokens (see `Call.step` in conftest): a keypad symbol is a
key press half a second later, `~` finishes the latest prompt, `.` fires the earliest
armed timer at its deadline, `ok`/`busy`/`noanswer`/`rejected`/`error` answer a
transfer, `end` is the caller hanging up. Time is passed in; nothing sleeps.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from router.core.events import (
    CallEnded,
    CallFinished,
    CallStarted,
    DigitPressed,
    DuplicateKey,
    EndReason,
    Event,
    InvalidEntry,
    KeyPressed,
    LimitReached,
    PlaybackFinished,
    TimerFired,
    TimerKind,
    TransferFailed,
    TransferFailure,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import FailureKind, MenuFile
from router.core.navigator import CallCaps, CallState, Navigator
from router.core.navigator.machine import HANDLERS
from router.core.navigator.states import NEXT

WELCOME = "play:Welcome. 1 sales, 2 support, 0 operator, or an extension."
MAIN_AGAIN = "1 sales, 2 support, 0 operator."
SUPPORT = "play:Support. 1 the desk, 2 questions, star back, pound top."
INVALID = "play:Sorry, that is not a valid choice.|" + MAIN_AGAIN
NO_INPUT = "play:Sorry, I did not hear a choice.|" + MAIN_AGAIN
OPERATOR = "transfer:tel:+15550000000"
FAQ = "Questions. 1 hours, 3 the lab or a lab extension, 0 top."

S = CallState

# (id, script, effects of the last step without notes, state after, menu after)
CASES: list[tuple[str, str, list[str], CallState, str]] = [
    # prompts, barge-in, waiting
    ("greeting-finishes", "~", ["arm:first_digit@5"], S.WAITING, "main"),
    ("barge-in-acts-at-once", "2", ["stop", SUPPORT], S.PROMPTING, "support"),
    ("key-after-prompt", "~ 2", ["cancel:first_digit", SUPPORT], S.PROMPTING, "support"),
    ("sub-menu-prompt-ends", "2 ~", ["arm:first_digit@4.5"], S.WAITING, "support"),
    # actions
    ("back", "2 *", ["stop", WELCOME], S.PROMPTING, "main"),
    ("pound-is-top-here", "2 #", ["stop", WELCOME], S.PROMPTING, "main"),
    ("goto-with-message", "2 2", ["stop", "play:Questions.|" + FAQ], S.PROMPTING, "faq"),
    (
        "top-with-message",
        "2 2 0",
        ["stop", "play:Back to the start.|" + WELCOME[5:]],
        S.PROMPTING,
        "main",
    ),
    ("back-twice", "2 2 * *", ["stop", WELCOME], S.PROMPTING, "main"),
    ("goto-up-the-tree-unwinds", "2 2 3 # 2 *", ["stop", WELCOME], S.PROMPTING, "main"),
    ("repeat", "~ *", ["cancel:first_digit", WELCOME], S.PROMPTING, "main"),
    (
        "say-then-the-prompt",
        "~ 7",
        ["cancel:first_digit", "play:We are open nine to five.|" + MAIN_AGAIN],
        S.PROMPTING,
        "main",
    ),
    ("say-then-waits", "~ 7 ~", ["arm:first_digit@5.5"], S.WAITING, "main"),
    ("hangup-no-goodbye", "8", ["stop", "cancel:call_limit", "hangup:hangup"], S.ENDED, "main"),
    ("hangup-goodbye", "9", ["stop", "announce:Goodbye."], S.CLOSING, "main"),
    ("hangup-after-goodbye", "9 ~", ["cancel:call_limit", "hangup:hangup"], S.ENDED, "main"),
    ("goodbye-ignores-keys", "9 1", [], S.CLOSING, "main"),
    # transfers
    ("announcement", "1", ["stop", "announce:Connecting you to sales."], S.ANNOUNCING, "main"),
    ("announcement-ignores-keys", "1 5 0", [], S.ANNOUNCING, "main"),
    (
        "transfer-after-announcement",
        "1 ~",
        ["transfer:sip:sales@pbx.example.com"],
        S.TRANSFERRING,
        "main",
    ),
    ("transfer-ignores-keys", "1 ~ 5 0", [], S.TRANSFERRING, "main"),
    ("transfer-without-announcement", "0", ["stop", OPERATOR], S.TRANSFERRING, "main"),
    ("transfer-succeeds", "0 ok", ["cancel:call_limit", "hangup:transferred"], S.ENDED, "main"),
    ("failed-busy", "0 busy", ["play:That line is busy.|" + MAIN_AGAIN], S.PROMPTING, "main"),
    ("failed-busy-waits", "0 busy ~", ["arm:first_digit@5.5"], S.WAITING, "main"),
    ("failed-no-answer", "0 noanswer", ["announce:No answer; the operator."], S.ANNOUNCING, "main"),
    ("failed-no-answer-retries", "0 noanswer ~", [OPERATOR], S.TRANSFERRING, "main"),
    (
        "failed-rejected",
        "0 rejected",
        ["play:That line refused the call.|" + SUPPORT[5:]],
        S.PROMPTING,
        "support",
    ),
    ("failed-error", "0 error", ["announce:Something went wrong. Goodbye."], S.CLOSING, "main"),
    ("failed-error-ends", "0 error ~", ["cancel:call_limit", "hangup:hangup"], S.ENDED, "main"),
    (
        "own-policy-beats-menu",
        "1 ~ busy",
        ["play:Sales is busy.|" + WELCOME[5:]],
        S.PROMPTING,
        "main",
    ),
    # dial by extension
    (
        "extension-starts",
        "~ 4",
        ["cancel:first_digit", "arm:inter_digit@3.5"],
        S.COLLECTING,
        "main",
    ),
    ("extension-barge-in", "4", ["stop", "arm:inter_digit@3.5"], S.COLLECTING, "main"),
    ("extension-grows", "~ 4 1", ["arm:inter_digit@4"], S.COLLECTING, "main"),
    (
        "extension-complete",
        "~ 4 1 2 3",
        ["cancel:inter_digit", "transfer:sip:4123@pbx.example.com"],
        S.TRANSFERRING,
        "main",
    ),
    ("extension-short-pound", "~ 4 1 #", ["cancel:inter_digit", INVALID], S.PROMPTING, "main"),
    ("extension-short-timeout", "~ 4 1 .", [INVALID], S.PROMPTING, "main"),
    # a mistyped extension is one wrong entry: the digits after a dead prefix join it
    ("extension-dead-prefix-waits", "~ 5 5", ["arm:inter_digit@4"], S.COLLECTING, "main"),
    ("extension-dead-keeps-digits", "~ 5 5 0 7", ["arm:inter_digit@5"], S.COLLECTING, "main"),
    ("extension-dead-timeout", "~ 5 5 0 .", [INVALID], S.PROMPTING, "main"),
    ("extension-dead-pound", "~ 5 5 #", ["cancel:inter_digit", INVALID], S.PROMPTING, "main"),
    ("ambiguous-waits", "~ 5 0", ["arm:inter_digit@4"], S.COLLECTING, "main"),
    (
        "ambiguous-pound",
        "~ 5 0 #",
        ["cancel:inter_digit", "transfer:tel:+15550000050"],
        S.TRANSFERRING,
        "main",
    ),
    ("ambiguous-timeout", "~ 5 0 .", ["transfer:tel:+15550000050"], S.TRANSFERRING, "main"),
    (
        "ambiguous-longer",
        "~ 5 0 7",
        ["cancel:inter_digit", "transfer:sip:507@pbx.example.com"],
        S.TRANSFERRING,
        "main",
    ),
    ("not-an-option-nor-extension", "~ 3", ["cancel:first_digit", INVALID], S.PROMPTING, "main"),
    ("lone-pound-is-invalid", "~ #", ["cancel:first_digit", INVALID], S.PROMPTING, "main"),
    (
        "option-shadowing-waits",
        "2 2 ~ 3",
        ["cancel:first_digit", "arm:inter_digit@4.5"],
        S.COLLECTING,
        "faq",
    ),
    (
        "option-shadowing-pound",
        "2 2 ~ 3 #",
        ["cancel:inter_digit", "play:The lab."],
        S.PROMPTING,
        "lab",
    ),
    ("option-shadowing-timeout", "2 2 ~ 3 .", ["play:The lab."], S.PROMPTING, "lab"),
    (
        "option-shadowing-extension",
        "2 2 ~ 3 1 2",
        ["cancel:inter_digit", "transfer:sip:lab312@pbx.example.com"],
        S.TRANSFERRING,
        "faq",
    ),
    ("star-abandons-entry", "2 2 ~ 3 *", ["cancel:inter_digit", SUPPORT], S.PROMPTING, "support"),
    # invalid and silence, to the limit
    ("invalid", "~ 6", ["cancel:first_digit", INVALID], S.PROMPTING, "main"),
    ("invalid-limit", "~ 6 ~ 6 ~ 6", ["cancel:first_digit", OPERATOR], S.TRANSFERRING, "main"),
    ("invalid-barge-in-limit", "6 6 6", ["stop", OPERATOR], S.TRANSFERRING, "main"),
    ("no-input", "~ .", [NO_INPUT], S.PROMPTING, "main"),
    ("no-input-limit", "~ . ~ . ~ .", [OPERATOR], S.TRANSFERRING, "main"),
    ("sub-menu-limit", "2 ~ . ~ .", ["announce:Goodbye from support."], S.CLOSING, "support"),
    (
        "counts-apart",
        "2 ~ 9 ~ .",
        ["play:Nothing heard.|1 desk, 2 questions."],
        S.PROMPTING,
        "support",
    ),
    (
        "counts-per-visit",
        "2 ~ 9 ~ * 2 ~ 9",
        ["cancel:first_digit", "play:Not valid.|1 desk, 2 questions."],
        S.PROMPTING,
        "support",
    ),
    ("limit-runs-back", "2 2 ~ . ~ . ~ .", [SUPPORT], S.PROMPTING, "support"),
    # the caller hangs up
    ("caller-hangs-up", "~ end", ["cancel:call_limit", "cancel:first_digit"], S.ENDED, "main"),
    (
        "caller-hangs-up-collecting",
        "4 end",
        ["cancel:call_limit", "cancel:inter_digit"],
        S.ENDED,
        "main",
    ),
    ("caller-hangs-up-in-transfer", "0 end", ["cancel:call_limit"], S.ENDED, "main"),
]


@pytest.mark.parametrize(
    ("script", "expected", "state", "menu"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_script(
    make_call: Any,
    render: Any,
    caplog: pytest.LogCaptureFixture,
    script: str,
    expected: list[str],
    state: CallState,
    menu: str,
) -> None:
    call = make_call()
    call.start()
    assert render(call.run(script)) == expected
    assert call.nav.state is state
    assert call.nav.menu == menu
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_mistyped_extension_is_one_strike(make_call: Any) -> None:
    call = make_call()
    call.start()
    call.run("~ 5 5 0 7 .")
    invalid = [n.entry for n in call.notes() if isinstance(n, InvalidEntry)]
    assert invalid == ["5507"]


def test_info_then_prompt_and_silence_counts_in_a_row(make_call: Any, render: Any) -> None:
    """Information is followed by the prompt; a key resets the count of silences."""
    call = make_call()
    call.start()
    # two silences, a key for information, two silences: still no limit (3 in a row)
    call.run("~ . ~ . ~ 7 ~ . ~ .")
    assert call.nav.state is S.PROMPTING and call.nav.menu == "main"
    assert [n for n in call.notes() if isinstance(n, LimitReached)] == []
    assert render(call.run("~ .")) == [OPERATOR]


def test_counts_start_afresh_after_a_limit(make_call: Any) -> None:
    """The limit's fallback transfer fails back into the menu: the caller gets every chance."""
    call = make_call()
    call.start()
    call.run("~ . ~ . ~ . busy ~ .")  # limit, the operator is busy, back in main, one silence
    limits = [n.limit for n in call.notes() if isinstance(n, LimitReached)]
    assert limits == ["no_input"]
    assert call.nav.state is S.PROMPTING and call.nav.menu == "main"


def test_start(make_call: Any, render: Any) -> None:
    call = make_call()
    before = (call.nav.state, call.nav.menu)
    effects = call.start()
    assert before == (S.IDLE, None)
    assert render(effects, notes=True) == [
        "arm:call_limit@900",
        "note:menu main (start default)",
        WELCOME,
    ]
    assert call.nav.state is S.PROMPTING


MONDAY_NOON = datetime(2025, 1, 6, 11, 0, tzinfo=UTC)
MONDAY_NIGHT = datetime(2025, 1, 6, 22, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2025, 1, 11, 11, 0, tzinfo=UTC)
CHRISTMAS_NOON = datetime(2025, 12, 25, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dialled", "at", "menu"),
    [
        (None, MONDAY_NOON, "main"),
        ("+19999999999", MONDAY_NOON, "main"),
        ("+15551110000", MONDAY_NIGHT, "support"),
        ("15551110000", MONDAY_NOON, "support"),
        ("+15552220000", MONDAY_NOON, "main"),
        ("+15552220000", MONDAY_NIGHT, "closed"),
        ("+15552220000", SATURDAY_NOON, "closed"),
        ("+15552220000", CHRISTMAS_NOON, "closed"),
    ],
    ids=[
        "default",
        "unknown-number",
        "by-number",
        "number-without-plus",
        "open",
        "closed-at-night",
        "closed-on-a-day-off",
        "closed-on-a-holiday",
    ],
)
def test_entry(make_call: Any, dialled: str | None, at: datetime, menu: str) -> None:
    call = make_call()
    call.start(dialled, at)
    assert call.nav.menu == menu
    assert call.last_play().prompts == (call.nav.menu_file.menus[menu].greeting,)


def test_back_at_root_replays_root(make_call: Any, render: Any) -> None:
    call = make_call()
    call.start("+15551110000")
    assert render(call.run("*")) == ["stop", SUPPORT]
    assert call.nav.menu == "support"


def test_call_record(make_call: Any, render: Any) -> None:
    call = make_call()
    call.start()
    call.run("~ 6 ~ . 2 1 busy ~ 1 ~ ok")
    notes = [n for n in render(call.seen, notes=True) if n.startswith("note:")]
    assert notes == [
        "note:menu main (start default)",
        "note:key 6",
        "note:invalid entry 6",
        "note:no input",
        "note:key 2",
        "note:option 2 chosen",
        "note:menu support (goto)",
        "note:key 1",
        "note:option 1 chosen",
        "note:transfer to sip:desk@pbx.example.com chosen (any announcement plays first)",
        "note:transfer failed: busy 486: busy",
        "note:key 1",
        "note:option 1 chosen",
        "note:transfer to sip:desk@pbx.example.com chosen (any announcement plays first)",
        "note:transfer succeeded",
        "note:call ends: transferred",
    ]
    failed = next(n for n in call.notes() if isinstance(n, TransferFailure))
    assert failed.sip_status == 486 and failed.menu == "support"
    assert failed.kind is FailureKind.BUSY and failed.reason == "busy"
    keys = [n for n in call.notes() if isinstance(n, KeyPressed)]
    assert [k.now for k in keys] == [0.5, 6.0, 6.5, 7.0]
    assert call.nav.end_reason is EndReason.TRANSFERRED


@pytest.mark.parametrize(
    ("caps", "script", "expected", "reason"),
    [
        (
            CallCaps(max_keys=3),
            "* * * *",
            [
                "stop",
                "announce:Sorry, we cannot take any more keys on this call. "
                "Please call again. Goodbye.",
            ],
            None,
        ),
        (
            CallCaps(max_keys=3),
            "* * * * 1 ~",
            ["cancel:call_limit", "hangup:key_limit"],
            "key_limit",
        ),
        (
            CallCaps(max_transfers=1),
            "0 busy ~ 0",
            [
                "cancel:first_digit",
                "announce:Sorry, we could not connect your call. Please call again later.",
            ],
            None,
        ),
        (
            CallCaps(max_transfers=1),
            "0 busy ~ 0 ~",
            ["cancel:call_limit", "hangup:transfer_limit"],
            "transfer_limit",
        ),
        (
            CallCaps(max_call_s=10),
            "~ . .",
            [
                "stop",
                "announce:Sorry, this call has reached its time limit. Please call again. Goodbye.",
                "arm:call_limit@70",
            ],
            None,
        ),
        (
            CallCaps(max_call_s=10),
            "~ . . ~",
            ["cancel:call_limit", "hangup:call_limit"],
            "call_limit",
        ),
        (CallCaps(max_call_s=10), "~ . . .", ["hangup:call_limit"], "call_limit"),
        (CallCaps(max_call_s=3), "1 ~ .", ["hangup:call_limit"], "call_limit"),
    ],
    ids=[
        "keys-goodbye",
        "keys-hangup",
        "transfers-apology",
        "transfers-hangup",
        "call-length-goodbye",
        "call-length-hangup",
        "call-length-goodbye-too-long",
        "call-length-in-transfer",
    ],
)
def test_caps(
    make_call: Any,
    render: Any,
    caps: CallCaps,
    script: str,
    expected: list[str],
    reason: str | None,
) -> None:
    call = make_call(caps=caps)
    call.start()
    assert render(call.run(script)) == expected
    assert (call.nav.end_reason and call.nav.end_reason.value) == reason


def test_stale_playback_is_ignored(make_call: Any) -> None:
    call = make_call()
    call.start()
    first = call.last_play().play_id
    call.run("2")  # barge-in: the greeting was cut, the support greeting plays
    assert call.send(PlaybackFinished(first, call.now)) == []
    assert call.nav.state is S.PROMPTING


def test_timer_not_armed_is_ignored(make_call: Any) -> None:
    call = make_call()
    call.start()
    assert call.send(TimerFired(TimerKind.FIRST_DIGIT, 100.0)) == []
    assert call.send(TimerFired(TimerKind.INTER_DIGIT, 100.0)) == []
    assert call.nav.state is S.PROMPTING


def test_timer_before_its_deadline_is_ignored(make_call: Any) -> None:
    """A time-out that was re-armed while its old firing was queued must not count."""
    call = make_call()
    call.start()
    call.run("~")
    assert call.send(TimerFired(TimerKind.FIRST_DIGIT, 1.0)) == []
    assert call.nav.state is S.WAITING
    assert call.send(TimerFired(TimerKind.FIRST_DIGIT, 5.0)) != []


def test_caller_hangup_record(make_call: Any) -> None:
    call = make_call()
    call.start()
    call.run("~ end")
    assert call.nav.end_reason is EndReason.CALLER_HANGUP
    ended = [n.reason for n in call.notes() if isinstance(n, CallFinished)]
    assert ended == [EndReason.CALLER_HANGUP]
    assert call.nav.timers == {}


def _every_event(now: float) -> list[Event]:
    return [
        CallStarted(None, MONDAY_NOON, now),
        DigitPressed(Key.D1, now),
        DigitPressed(Key.POUND, now),
        TimerFired(TimerKind.FIRST_DIGIT, now),
        TimerFired(TimerKind.INTER_DIGIT, now),
        TimerFired(TimerKind.CALL_LIMIT, now),
        PlaybackFinished(1, now),
        PlaybackFinished(99, now),
        TransferSucceeded(now),
        TransferFailed(486, "busy", now),
        TransferFailed(None, "api error", now),
        CallEnded(now),
    ]


@pytest.mark.parametrize("script", ["8", "0 ok", "~ end", "9 ~"])
def test_nothing_after_the_end(make_call: Any, script: str) -> None:
    call = make_call()
    call.start()
    call.run(script)
    assert call.nav.state is S.ENDED
    for event in _every_event(2000.0):
        assert call.nav.handle(event) == []
    assert call.nav.state is S.ENDED


@pytest.mark.parametrize(
    "script", ["", "~", "4", "1", "1 ~", "9", "2 2 ~ 3"], ids=lambda s: s or "start"
)
def test_any_event_in_any_state_never_raises(make_call: Any, script: str) -> None:
    for event in _every_event(1.0):
        call = make_call()
        call.start()
        call.run(script)
        result = call.nav.handle(event)
        assert isinstance(result, list)
        # a second call start is never taken
        assert call.nav.handle(CallStarted("+15551110000", MONDAY_NOON, 1.0)) == []


def test_events_before_the_start_are_ignored(make_call: Any) -> None:
    call = make_call()
    for event in _every_event(0.0)[1:-1]:
        assert call.nav.handle(event) == []
    assert call.nav.state is S.IDLE


def test_call_keeps_its_version(menu_file: MenuFile) -> None:
    nav = Navigator(menu_file)
    nav.handle(CallStarted(None, MONDAY_NOON, 0.0))
    assert nav.menu_file is menu_file


def test_tables_cover_every_state() -> None:
    assert set(HANDLERS) == set(CallState) == set(NEXT)
    assert HANDLERS[S.ENDED] == {} and NEXT[S.ENDED] == frozenset()


def test_state_changes_are_logged(make_call: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="router.navigator")
    call = make_call()
    call.start()
    call.run("~")
    assert "idle -> prompting" in caplog.text
    assert "prompting -> waiting" in caplog.text


# --- a key the bridge delivered twice ---------------------------------------------------------


def _dup_call() -> tuple[Navigator, list[Any]]:
    from pathlib import Path

    from router.core.loader import load_menu_file

    mf = load_menu_file(Path(__file__).parent / "field" / "19-dup.yaml").menu_file
    nav = Navigator(mf)
    effects = nav.handle(CallStarted(None, datetime(2026, 12, 1, 15, tzinfo=UTC), 0.0))
    return nav, effects


def _press(nav: Navigator, keys: str, times: list[float]) -> list[Any]:
    out: list[Any] = []
    for key, now in zip(keys, times, strict=True):
        out += nav.handle(DigitPressed(Key(key), now))
    return out


def _notes(effects: list[Any], kind: type[KeyPressed | DuplicateKey]) -> list[str]:
    return [e.key.value for e in effects if isinstance(e, kind)]


def test_the_same_key_twice_within_milliseconds_moves_one_menu() -> None:
    nav, _ = _dup_call()
    effects = _press(nav, "22", [1.0, 1.010])  # the field report: 10 ms apart
    assert nav.menu == "support"
    assert _notes(effects, KeyPressed) == ["2"]
    assert _notes(effects, DuplicateKey) == ["2"]


def test_a_train_of_copies_is_one_key_and_a_real_second_press_is_kept() -> None:
    from router.core.navigator import KEY_REPEAT_WINDOW_S

    nav, _ = _dup_call()
    # RFC 4733 end packets three times, 40 ms apart: the window slides over the train
    effects = _press(nav, "222", [1.0, 1.04, 1.08])
    assert nav.menu == "support" and _notes(effects, DuplicateKey) == ["2", "2"]
    # the fastest press-and-pause a keypad sends (80 ms) is a real press
    effects = _press(nav, "2", [1.08 + KEY_REPEAT_WINDOW_S])
    assert nav.menu == "technical" and _notes(effects, DuplicateKey) == []


def test_different_keys_at_once_are_each_acted_on() -> None:
    nav, _ = _dup_call()
    _press(nav, "2*", [1.0, 1.001])
    assert nav.menu == "main"
    _press(nav, "2", [1.002])  # not a copy: "*" came between
    assert nav.menu == "support"


def test_a_copy_while_transferring_is_counted_as_a_copy_not_an_ignored_key() -> None:
    nav, _ = _dup_call()
    _press(nav, "2", [1.0])
    effects = _press(nav, "11", [2.0, 2.01])  # 1 transfers to orders; its copy comes after
    assert _notes(effects, DuplicateKey) == ["1"]
    assert [e.target for e in effects if isinstance(e, TransferTo)] == [
        "sip:orders@pbx.example.com"
    ]
