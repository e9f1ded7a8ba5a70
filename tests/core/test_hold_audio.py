"""Hold audio while a transfer rings: the format, inheritance, the checker, and the
navigator's effects (looped after the REFER, stopped at the outcome)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.core.errors import MenuFileError
from router.core.events import Play, StopPlayback, TransferFailure, TransferTo
from router.core.keys import Key
from router.core.loader import load_menu_text
from router.core.model import MenuFile, Transfer
from router.core.simulation import ScriptedTransfer, SimulatedCall

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

FILE = """\
version: 1
defaults:
  transfer: {play_dialtone: false, hold: "Please hold."}
destinations:
  sales: {to: "tel:+15105550101", hold: "Sales will be with you shortly."}
  quiet: {to: "tel:+15105550102"}
menus:
  main:
    greeting: "Main."
    options:
      "1": {transfer: sales}
      "2": {transfer: quiet}
      "3": {transfer: sales, hold: "One moment."}
      "4": {transfer: "tel:+15105550104"}
"""


def load(text: str = FILE, base_dir: Path = Path(".")) -> MenuFile:
    return load_menu_text(text, filename="menus.yaml", base_dir=base_dir).menu_file


def hold_of(menu_file: MenuFile, key: str) -> str | None:
    action = menu_file.menus["main"].options[Key(key)]
    assert isinstance(action, Transfer)
    hold = action.settings.hold
    return hold.text if hold else None


def test_hold_is_inherited_defaults_destination_option() -> None:
    menu_file = load()
    assert hold_of(menu_file, "1") == "Sales will be with you shortly."
    assert hold_of(menu_file, "2") == "Please hold."
    assert hold_of(menu_file, "3") == "One moment."
    assert hold_of(menu_file, "4") == "Please hold."


def run(key: str, result: str) -> list[object]:
    call = SimulatedCall(load(), results=[ScriptedTransfer.parse(result)])
    call.start(None, AT)
    return call.press(Key(key))


def test_the_hold_audio_plays_looped_after_the_request_and_stops_on_success() -> None:
    effects = [e for e in run("1", "ok") if isinstance(e, Play | TransferTo | StopPlayback)]
    transfer, hold, stop = effects[:3]
    assert isinstance(transfer, TransferTo)
    assert isinstance(hold, Play) and hold.loop and not hold.interruptible
    assert [p.text for p in hold.prompts] == ["Sales will be with you shortly."]
    assert isinstance(stop, StopPlayback)


def test_the_hold_audio_stops_before_the_failure_policy_speaks() -> None:
    effects = run("1", "486")
    failure = next(i for i, e in enumerate(effects) if isinstance(e, TransferFailure))
    assert isinstance(effects[failure - 1], StopPlayback)
    after = [e for e in effects[failure:] if isinstance(e, Play)]
    assert after and not after[0].loop, "the policy's message follows"


def test_no_hold_audio_no_play() -> None:
    text = FILE.replace(', hold: "Please hold."', "")
    call = SimulatedCall(load(text))
    call.start(None, AT)
    effects = call.press(Key("2"))
    assert not [e for e in effects if isinstance(e, Play) and e.loop]
    assert not [e for e in effects if isinstance(e, StopPlayback)]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (FILE.replace("play_dialtone: false", "play_dialtone: true"), 3),
        (
            FILE.replace('"3": {transfer: sales, ', '"3": {transfer: sales, play_dialtone: true, '),
            13,
        ),
    ],
)
def test_hold_audio_with_the_dialtone_is_refused(text: str, line: int) -> None:
    with pytest.raises(MenuFileError) as caught:
        load(text)
    found = [p for p in caught.value.problems if p.code == "hold-with-dialtone"]
    assert found, caught.value.problems
    assert line in {p.location.line for p in found}
    assert "LiveKit's dial tone mutes" in found[0].message


def test_a_hold_recording_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    text = FILE.replace('hold: "Please hold."', "hold: {audio: music/hold.wav}")
    with pytest.raises(MenuFileError) as caught:
        load(text, tmp_path)
    assert any("hold.wav" in p.message for p in caught.value.problems)


def test_hold_false_switches_off_the_inherited_hold_audio() -> None:
    text = """\
version: 1
defaults:
  transfer: {play_dialtone: false, hold: "Please hold."}
destinations:
  quiet: {to: "tel:+15105550101", hold: false}
  loud: "tel:+15105550102"
menus:
  main:
    greeting: Hi
    options: {"1": {transfer: quiet}, "2": {transfer: loud}, "3": {transfer: loud, hold: no}}
"""
    menu_file = load(text)
    looped = {}
    for key in "123":
        call = SimulatedCall(menu_file, results=[ScriptedTransfer.parse("ok")])
        call.start(None, AT)
        effects = call.press(Key(key))
        looped[key] = [p.text for e in effects if isinstance(e, Play) and e.loop for p in e.prompts]
    assert looped == {"1": [], "2": ["Please hold."], "3": []}
