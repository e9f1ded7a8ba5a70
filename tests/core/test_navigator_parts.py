"""The navigator's parts on their own: its timers, a key's copies, the failure fallback.

The whole machine is tests/core/test_navigator.py; these pin what each part promises
(router/core/navigator/timers.py, copies.py, transfers.py), time passed in."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from router.core.events import CancelTimer, StartTimer, TimerKind
from router.core.keys import Key
from router.core.model import FailureKind, Menu, Prompt, Repeat
from router.core.navigator.copies import KEY_REPEAT_WINDOW_S, KeyCopies
from router.core.navigator.timers import EARLY_FIRE_SLACK_S, Timers
from router.core.navigator.transfers import FALLBACK_POLICY, after_failure


def test_a_timer_armed_is_started_and_the_first_deadline_is_the_earliest() -> None:
    timers = Timers()
    assert timers.first() is None
    assert timers.arm(TimerKind.CALL_LIMIT, 900.0) == StartTimer(TimerKind.CALL_LIMIT, 900.0)
    timers.arm(TimerKind.FIRST_DIGIT, 5.0)
    assert timers.first() == (TimerKind.FIRST_DIGIT, 5.0)
    assert dict(timers.deadlines) == {TimerKind.CALL_LIMIT: 900.0, TimerKind.FIRST_DIGIT: 5.0}


def test_disarming_cancels_once() -> None:
    timers = Timers()
    timers.arm(TimerKind.INTER_DIGIT, 3.0)
    assert timers.disarm(TimerKind.INTER_DIGIT) == CancelTimer(TimerKind.INTER_DIGIT)
    assert timers.disarm(TimerKind.INTER_DIGIT) is None


def test_a_timer_fires_only_when_armed_and_due_within_the_slack() -> None:
    timers = Timers()
    assert not timers.fired(TimerKind.FIRST_DIGIT, 10.0)  # never armed
    timers.arm(TimerKind.FIRST_DIGIT, 5.0)
    assert not timers.fired(TimerKind.FIRST_DIGIT, 5.0 - 2 * EARLY_FIRE_SLACK_S)  # early
    assert timers.fired(TimerKind.FIRST_DIGIT, 5.0 - EARLY_FIRE_SLACK_S / 2)
    assert not timers.fired(TimerKind.FIRST_DIGIT, 6.0)  # fired once, no longer armed


def test_the_call_over_cancels_every_armed_timer() -> None:
    timers = Timers()
    timers.arm(TimerKind.CALL_LIMIT, 900.0)
    timers.arm(TimerKind.FIRST_DIGIT, 5.0)
    assert set(timers.disarm_all()) == {
        CancelTimer(TimerKind.CALL_LIMIT),
        CancelTimer(TimerKind.FIRST_DIGIT),
    }
    assert timers.first() is None and timers.disarm_all() == []


@pytest.mark.parametrize(
    ("presses", "copies"),
    [
        ([(Key.D1, 0.0), (Key.D1, 0.04)], [False, True]),  # a bridge's copy
        ([(Key.D1, 0.0), (Key.D1, KEY_REPEAT_WINDOW_S)], [False, False]),  # a real press
        ([(Key.D1, 0.0), (Key.D2, 0.01)], [False, False]),  # another key
        ([(Key.D1, 0.0), (Key.D1, 0.04), (Key.D1, 0.1)], [False, True, True]),  # slides
    ],
)
def test_a_key_again_within_the_window_is_a_copy(
    presses: list[tuple[Key, float]], copies: list[bool]
) -> None:
    seen = KeyCopies()
    assert [seen.is_copy(key, now) for key, now in presses] == copies


def test_a_failed_transfer_without_a_policy_falls_back_to_the_menu_never_silence() -> None:
    menu = Menu(name="main", greeting=Prompt("hi"), prompt=Prompt(), options=MappingProxyType({}))
    for kind in FailureKind:
        action = after_failure(None, menu, kind)
        assert action is FALLBACK_POLICY.for_kind(kind) and isinstance(action, Repeat)
