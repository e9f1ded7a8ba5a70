"""Per-call caps end the call, whatever the menu file says and whatever state the call is in.

Why: a menu file can legitimately keep callers around (`repeat` on limits, `say`
options, busy lines that offer the menu again), and a caller, a bot, or a stuck
phone can press keys for ever. `CallCaps` bounds each call in keys acted on,
transfer attempts and length, so one call can never hold a worker's slot, or dial
out, without end. Each cap is tested on a file built to never end by itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.core.events import (
    CallFinished,
    Disconnect,
    Effect,
    EndReason,
    Limit,
    LimitReached,
    Note,
    Play,
    PlaybackFinished,
    TimerFired,
    TimerKind,
    TransferFailed,
    TransferTo,
)
from router.core.keys import Key
from router.core.loader import load_menu_file, load_menu_text
from router.core.model import MenuFile
from router.core.navigator import DEFAULT_CAPS, CallCaps, CallState
from router.core.simulation import SimulatedCall

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

ENDLESS = """\
version: 1
defaults:
  limits: {invalid: 1000, no_input: 1000}
  on_limit: repeat
  on_transfer_failure:
    busy: repeat
    no_answer: repeat
    rejected: repeat
    error: repeat
destinations:
  desk: {to: "sip:desk@pbx.example.com", say: "Connecting you."}
directories:
  staff:
    "4xx": "sip:{ext}@pbx.example.com"
menus:
  main:
    greeting: "Press 1 for the desk, 2 to hear this, 3 for the loop, or dial 4 and two digits."
    directory: staff
    options:
      "1": {transfer: desk}
      "2": repeat
      "3": {menu: loop}
      "#": hangup
  loop:
    greeting: "Press star to go back."
    options:
      "*": back
      "9": {say: "Still here."}
"""
"""A file in which a caller can stay for ever: limits never reached, failures repeat."""


@pytest.fixture
def endless() -> MenuFile:
    loaded = load_menu_text(ENDLESS, filename="endless.yaml", base_dir=Path("."))
    return loaded.menu_file


class Driver(SimulatedCall):
    """The core's simulated call, a step at a time: plays end when asked."""

    def __init__(self, menu_file: MenuFile, caps: CallCaps) -> None:
        super().__init__(menu_file, caps=caps, instant=False)

    @property
    def effects(self) -> list[Effect]:
        return self.seen

    def start(self, dialled: str | None = None, at: datetime = AT) -> list[Effect]:
        return super().start(dialled, at)

    def key(self, key: Key, gap: float = 0.5) -> list[Effect]:
        return self.press(key, gap)

    def hear_out(self) -> list[Effect]:
        assert self.playing is not None
        return self.finish_prompt()

    def hung_up(self) -> EndReason | None:
        hangups = [e for e in self.seen if isinstance(e, Disconnect)]
        assert len(hangups) <= 1, hangups
        return hangups[0].reason if hangups else None


# --- keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keys",
    [
        [Key.D2],  # repeat: barge-in on the greeting, every time
        [Key.D7],  # invalid, for ever (limit 1000)
        [Key.D3, Key.D9, Key.STAR],  # in and out of a sub-menu
        [Key.D4, Key.D1, Key.POUND],  # extensions that match nothing
    ],
)
def test_the_key_cap_ends_the_call(endless: MenuFile, keys: list[Key]) -> None:
    caps = CallCaps(max_keys=25)
    call = Driver(endless, caps)
    call.start()
    pressed = 0
    while call.nav.state is not CallState.CLOSING:
        out = call.key(keys[pressed % len(keys)])
        pressed += 1
        assert pressed <= caps.max_keys + 1
    assert pressed == caps.max_keys + 1
    notes = [e for e in out if isinstance(e, Note)]
    assert [type(n) for n in notes] == [LimitReached]
    assert [n.limit for n in notes if isinstance(n, LimitReached)] == [Limit.KEYS]
    goodbye = out[-1]  # a goodbye, heard to the end, not silence
    assert isinstance(goodbye, Play) and not goodbye.interruptible
    assert goodbye.prompts == (endless.menus["main"].messages.key_limit,)
    assert call.key(Key.D1) and call.hung_up() is None  # ignored while it plays
    out = call.hear_out()
    assert call.hung_up() is EndReason.KEY_LIMIT
    assert [e.reason for e in out if isinstance(e, CallFinished)] == [EndReason.KEY_LIMIT]
    assert len([e for e in out if isinstance(e, Note)]) == 1
    assert call.nav.timers == {}  # every timer cancelled, CALL_LIMIT included
    assert call.key(Key.D1) == []  # nothing after the end


def test_keys_ignored_during_announcements_do_not_count(endless: MenuFile) -> None:
    """Keys the router does not act on (an announcement plays) cannot end a call early."""
    call = Driver(endless, CallCaps(max_keys=3))
    call.start()
    call.key(Key.D1)  # transfer to the desk: "Connecting you." must be heard to the end
    assert call.nav.state is CallState.ANNOUNCING
    for _ in range(10):
        call.key(Key.D5)
    assert call.nav.state is CallState.ANNOUNCING and call.hung_up() is None


# --- transfers ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [486, 408, 603, 503, None])
def test_the_transfer_cap_ends_the_call_with_an_apology(
    endless: MenuFile, status: int | None
) -> None:
    caps = CallCaps(max_transfers=3)
    call = Driver(endless, caps)
    call.start()
    attempts = 0
    for _ in range(20):
        call.key(Key.D1)
        if call.nav.state is CallState.CLOSING:
            break
        call.hear_out()  # "Connecting you."
        assert call.nav.state is CallState.TRANSFERRING
        attempts += 1
        call.feed(TransferFailed(status, "refused", call.now))  # policy: repeat the menu
    assert attempts == caps.max_transfers
    assert sum(isinstance(e, TransferTo) for e in call.effects) == caps.max_transfers
    apology = call.effects[-1]
    assert isinstance(apology, Play) and apology.prompts == (caps.apology,)
    assert not apology.interruptible
    call.key(Key.D1)  # ignored: the goodbye is heard to the end
    assert call.hung_up() is None
    call.hear_out()
    assert call.hung_up() is EndReason.TRANSFER_LIMIT


# --- call length -------------------------------------------------------------------------


def _prompting(call: Driver) -> None:
    call.key(Key.D2)  # repeat: the greeting plays again


def _waiting(call: Driver) -> None:
    call.hear_out()


def _collecting(call: Driver) -> None:
    call.key(Key.D4)


def _announcing(call: Driver) -> None:
    call.key(Key.D1)


def _transferring(call: Driver) -> None:
    call.key(Key.D1)
    call.hear_out()


def _closing(call: Driver) -> None:
    call.key(Key.POUND)
    call.feed(PlaybackFinished(-1, call.now))  # a stale report changes nothing


@pytest.mark.parametrize(
    ("get_there", "state"),
    [
        (_prompting, CallState.PROMPTING),
        (_waiting, CallState.WAITING),
        (_collecting, CallState.COLLECTING),
        (_announcing, CallState.ANNOUNCING),
        (_transferring, CallState.TRANSFERRING),
    ],
)
def test_the_call_length_cap_ends_the_call_in_any_state(
    endless: MenuFile, get_there: object, state: CallState
) -> None:
    caps = CallCaps(max_call_s=60.0)
    call = Driver(endless, caps)
    call.start()
    assert call.nav.timers[TimerKind.CALL_LIMIT] == 60.0
    assert callable(get_there)
    get_there(call)
    assert call.nav.state is state
    early = call.feed(TimerFired(TimerKind.CALL_LIMIT, 30.0))  # a stale or early timer
    assert early == [] and call.hung_up() is None
    out = call.fire(TimerKind.CALL_LIMIT)
    assert Limit.CALL_LENGTH in [e.limit for e in out if isinstance(e, LimitReached)]
    if state in (CallState.ANNOUNCING, CallState.TRANSFERRING):
        assert not any(isinstance(e, Play) for e in out)  # the caller is leaving: no goodbye
    else:
        goodbye = out[-2]  # a goodbye, then CALL_LIMIT armed again for it
        assert isinstance(goodbye, Play) and not goodbye.interruptible
        assert call.nav.timers[TimerKind.CALL_LIMIT] == call.now + caps.max_goodbye_s
        assert call.hung_up() is None
        call.hear_out()
    assert call.hung_up() is EndReason.CALL_LIMIT
    assert call.nav.timers == {}


def test_a_goodbye_at_the_call_length_cannot_keep_the_call_going(endless: MenuFile) -> None:
    caps = CallCaps(max_call_s=60.0)
    call = Driver(endless, caps)
    call.start()
    call.fire(TimerKind.CALL_LIMIT)
    assert call.nav.state is CallState.CLOSING
    call.fire(TimerKind.CALL_LIMIT)  # the goodbye never finishes
    assert call.hung_up() is EndReason.CALL_LIMIT


def test_a_caller_who_keeps_the_menu_busy_is_cut_off_at_the_call_length(endless: MenuFile) -> None:
    """Slow keys (never the key cap) and prompts heard out: CALL_LIMIT still ends it."""
    caps = CallCaps(max_keys=10_000, max_call_s=300.0)
    call = Driver(endless, caps)
    call.start()
    for _ in range(10_000):
        if call.nav.state is CallState.ENDED:
            break
        if call.playing is not None:
            call.hear_out()
            continue
        armed = call.nav.next_deadline()
        assert armed is not None
        if armed[0] is TimerKind.CALL_LIMIT and armed[1] <= call.now + 4.0:
            call.fire(TimerKind.CALL_LIMIT)
        else:
            call.key(Key.D9 if call.nav.menu == "loop" else Key.D3, gap=4.0)
    assert call.hung_up() is EndReason.CALL_LIMIT
    assert call.now == pytest.approx(300.0, abs=4.0)


def test_default_caps_on_the_bundled_menus() -> None:
    """The defaults the runtime uses: 100 keys, 3 transfers, 15 minutes."""
    assert (DEFAULT_CAPS.max_keys, DEFAULT_CAPS.max_transfers) == (100, 3)
    assert DEFAULT_CAPS.max_call_s == 900.0
    menu_file = load_menu_file(ROOT / "menus.yaml").menu_file
    call = Driver(menu_file, DEFAULT_CAPS)
    call.start()
    for _ in range(DEFAULT_CAPS.max_keys):
        call.key(Key.STAR)  # main: repeat
    assert call.hung_up() is None
    call.key(Key.STAR)
    assert call.hung_up() is None  # the goodbye plays
    call.hear_out()
    assert call.hung_up() is EndReason.KEY_LIMIT
