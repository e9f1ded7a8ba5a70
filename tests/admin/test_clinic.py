"""A real business's wishes, met without tricks (issue 19): the dental clinic of
docs/menus.md's recipes, loaded from tests/core/clinic/menus.yaml and called through
the simulator."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from router.admin.simulate import ScriptedTransfer, simulate
from router.core.errors import MenuFileError, Severity
from router.core.loader import load_menu_file, load_menu_text, read_menu_text
from router.core.model import Hangup, MenuFile, Say, Transfer
from router.core.voices import SpeechEngine

CLINIC = Path(__file__).resolve().parents[1] / "core" / "clinic" / "menus.yaml"
OPEN = datetime.fromisoformat("2026-12-01T10:00:00-08:00")
NIGHT = datetime.fromisoformat("2026-12-01T22:00:00-08:00")
SPANISH = "+15105550151"


@pytest.fixture(scope="module")
def clinic() -> MenuFile:
    return load_menu_file(CLINIC).menu_file


def call(
    mf: MenuFile, keys: str, *, number: str | None = None, at: datetime = OPEN, results: str = "ok"
) -> tuple[str, str]:
    out = io.StringIO()
    last = simulate(
        mf,
        number=number,
        at=at,
        keys=keys,
        results=[ScriptedTransfer.parse(r) for r in results.split(",")],
        out=out,
    )
    return last, out.getvalue()


def test_the_clinic_loads_with_warnings_only_about_waiting_keys() -> None:
    warnings = load_menu_file(CLINIC).warnings
    assert {w.code for w in warnings} == {"option-starts-extension"}
    assert all("waits 3 s" in w.message for w in warnings)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("2.*", "hangup"),  # 2 alone: billing after the inter-digit wait, then back
        ("2.2", "transfer: tel:+15105550112"),  # billing, payments
        ("2#2", "transfer: tel:+15105550112"),  # 2 then # acts at once
        ("205", "transfer: sip:205@pbx.clinic.example.com"),  # the extension
        ("249", "transfer: sip:249@pbx.clinic.example.com"),
    ],
)
def test_a_menu_key_beside_extensions(clinic: MenuFile, keys: str, expected: str) -> None:
    last, text = call(clinic, keys)
    if expected == "hangup":
        assert "menu billing" in text
    else:
        assert last == expected


def test_a_mistyped_extension_is_one_strike(clinic: MenuFile) -> None:
    _, text = call(clinic, "250.0")
    assert text.count("invalid entry") == 1
    assert "invalid entry 250" in text
    assert text.count("Sorry, that is not a valid choice.") == 1


def test_information_then_the_menu(clinic: MenuFile) -> None:
    _, text = call(clinic, "3")
    line = next(x for x in text.splitlines() if "12 Oak Street" in x)
    assert "Press 1 for appointments" in line  # the prompt follows the information


def test_wrong_keys_and_silence_apart(clinic: MenuFile) -> None:
    assert call(clinic, "777")[0] == "transfer: tel:+15105550110"  # front desk
    last, text = call(clinic, "...")
    assert last == "hangup" and "Thank you for calling. Goodbye." in text


def test_after_hours_message_nine_or_goodbye(clinic: MenuFile) -> None:
    assert call(clinic, "9", at=NIGHT)[0] == "transfer: tel:+15105550199"
    last, text = call(clinic, "", at=NIGHT)
    assert last == "hangup" and "Goodbye." in text


def test_busy_appointments_offers_the_menu_again(clinic: MenuFile) -> None:
    last, text = call(clinic, "1.0", results="486,ok")
    assert "Our appointments line is busy." in text
    assert last == "transfer: tel:+15105550110"


def test_the_spanish_line_says_nothing_in_english(clinic: MenuFile) -> None:
    english = ("Sorry", "Goodbye", "Let me", "Thank you", "Press")
    for keys, results in [("7.7.7", "ok"), ("...", "ok"), ("1111", "486"), ("0000", "503")]:
        _, text = call(clinic, keys, number=SPANISH, results=results)
        heard = [x for x in text.splitlines() if "plays" in x]
        assert heard and not [x for x in heard if any(w in x for w in english)], (keys, heard)


def test_number_defaults_reach_the_menus_of_the_number(clinic: MenuFile) -> None:
    # the same texts are read into every Spanish menu, the English ones keep the file's
    spanish = clinic.menus["facturacion"].messages.invalid.text
    assert spanish == "Lo siento, esa opción no es válida."
    assert clinic.menus["billing"].messages.invalid.text == "Sorry, that is not a valid choice."
    limit = clinic.menus["cerrado"].on_no_input_limit
    assert isinstance(limit, Hangup) and limit.message and "Adiós" in (limit.message.text or "")
    assert isinstance(clinic.menus["main"].on_limit, Transfer)


SHARED = """\
version: 1
numbers:
  "+15105550151": {menu: a, defaults: {messages: {invalid: "No."}}}
  default: b
menus:
  a:
    greeting: "A"
    options: {"1": {menu: shared}, "0": hangup}
  b:
    greeting: "B"
    options: {"1": {menu: shared}, "0": hangup, "9": {menu: a}}
  shared:
    greeting: "S"
    options: {"0": hangup}
"""


def test_a_menu_two_lines_share_keeps_the_file_defaults() -> None:
    mf, problems = read_menu_text(SHARED.encode(), filename="m.yaml", base_dir=Path("."))
    assert mf is not None
    assert [(p.code, p.location.line) for p in problems] == [("mixed-defaults", 12)]
    assert mf.menus["a"].messages.invalid.text == "No."  # b leads to a, but a is +1...'s start
    assert mf.menus["shared"].messages.invalid.text == "Sorry, that is not a valid choice."


def test_say_then_wait_and_per_kind_limits_are_read() -> None:
    text = """\
version: 1
defaults:
  on_limit: {no_input: {hangup: "Bye."}}
menus:
  main:
    greeting: "Hi"
    options:
      "1": {say: "Info.", then: wait}
      "2": {say: "Info."}
      "0": hangup
"""
    mf = load_menu_text(text.encode(), filename="m.yaml", base_dir=Path(".")).menu_file
    one, two = list(mf.menus["main"].options.values())[:2]
    assert isinstance(one, Say) and not one.then_prompt
    assert isinstance(two, Say) and two.then_prompt
    main = mf.menus["main"]
    assert isinstance(main.on_no_input_limit, Hangup)
    assert main.on_limit is not main.on_no_input_limit  # invalid keeps the built-in goodbye


def test_a_misspelt_then_is_an_error() -> None:
    text = 'version: 1\nmenus:\n  main:\n    greeting: "Hi"\n    options:\n'
    text += '      "1": {say: "Info.", then: wiat}\n      "0": hangup\n'
    with pytest.raises(MenuFileError) as exc:
        load_menu_text(text.encode(), filename="m.yaml", base_dir=Path("."))
    (problem,) = [p for p in exc.value.problems if p.severity is Severity.ERROR]
    assert problem.hint == "did you mean 'wait'?"


def _problems(
    text: str, engine: SpeechEngine = SpeechEngine.ESPEAK
) -> list[tuple[str, str, str | None]]:
    _, problems = read_menu_text(
        text.encode(), filename="m.yaml", base_dir=Path("."), engine=engine
    )
    return [(p.code, p.message, p.hint) for p in problems]


@pytest.mark.parametrize(
    ("voice", "meant"),
    [("spanish", "'es' or 'es-419'"), ("es-mx", "'es-419' or 'es'"), ("fr-fr", "'fr'")],
)
def test_check_knows_the_voices(voice: str, meant: str) -> None:
    text = f'version: 1\nmenus:\n  main:\n    voice: {voice}\n    greeting: "Hola"\n'
    text += "    options: {'0': hangup}\n"
    codes = _problems(text)
    assert ("unknown-voice", f"espeak-ng has no voice '{voice}'", f"did you mean {meant}?") in codes


def test_a_plugin_voice_is_not_checked_against_espeak() -> None:
    text = 'version: 1\nmenus:\n  main:\n    voice: spanish\n    greeting: "Hola"\n'
    text += "    options: {'0': hangup}\n"
    assert [c for c, _, _ in _problems(text, SpeechEngine.PLUGIN) if c == "unknown-voice"] == []


def test_router_check_judges_voices_for_the_engine_router_voice_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The engine is chosen at the edge, from the `voice` setting: `router check` with a TTS
    plugin configured leaves its voice names alone, with espeak-ng refuses one it lacks."""
    from router.cli import main

    path = tmp_path / "menus.yaml"
    text = 'version: 1\nmenus:\n  main:\n    voice: spanish\n    greeting: "Hola"\n'
    path.write_text(text + "    options: {'0': hangup}\n")
    monkeypatch.setenv("ROUTER_VOICE", "livekit.plugins.cartesia:TTS")
    assert main(["check", "-q", str(path)]) == 0
    monkeypatch.setenv("ROUTER_VOICE", "espeak")
    assert main(["check", "-q", str(path)]) == 1
    assert "espeak-ng has no voice 'spanish'" in capsys.readouterr().err


def test_a_spanish_menu_with_english_builtin_words_is_warned() -> None:
    text = 'version: 1\nmenus:\n  main:\n    voice: es-419\n    greeting: "Hola"\n'
    text += "    messages: {invalid: 'No es válida.'}\n    options: {'0': hangup}\n"
    (found,) = [(m, h) for c, m, h in _problems(text) if c == "english-words"]
    assert "messages.no_input" in found[0] and "messages.invalid" not in found[0]
    assert "on_limit" in found[0] and found[1] and "defaults" in found[1]


# --- one piece says what each menu can make its caller hear (issue 19, trial findings) --


def test_what_a_menu_can_say_is_exact_about_limits_and_transfers() -> None:
    from router.core.spoken import spoken

    text = """\
version: 1
menus:
  main:
    greeting: "Hello."
    limits: {invalid: 1}
    options:
      "1": {menu: other, say: "On our way."}
      "0": hangup
  other:
    voice: es
    greeting: "Hola."
    options:
      "0": {transfer: "tel:+15105550110", on_failure: {busy: {hangup: "Ocupado."}}}
"""
    mf, _ = read_menu_text(text.encode(), filename="m.yaml", base_dir=Path("."))
    assert mf is not None
    heard = spoken(mf)
    main = {what for what, _ in heard["main"]}
    assert "messages.invalid" not in main  # the first wrong key ends the call
    assert "messages.no_input" in main and "messages.transfer_limit" not in main
    assert "messages.key_limit" in main and "messages.call_limit" in main
    other = dict(heard["other"])
    assert other["option 1"].text == "On our way."  # said on arrival, in other's voice
    assert other["the on_failure of option 0: busy"].text == "Ocupado."
    assert "messages.transfer_limit" in other


def test_a_line_s_failure_policy_transfer_fails_over_in_the_line_s_words() -> None:
    text = """\
version: 1
defaults:
  on_transfer_failure:
    busy: {repeat: true, say: "That line is busy."}
destinations:
  voicemail: {to: "sip:vm@pbx.example.com", on_failure: {error: hangup}}
numbers:
  "+15105550151":
    menu: principal
    defaults:
      on_transfer_failure:
        busy: {repeat: true, say: "Ocupado."}
        no_answer: {transfer: voicemail}
  default: main
menus:
  principal:
    greeting: "Hola."
    options: {"0": {transfer: "tel:+15105550110"}}
  main:
    greeting: "Hello."
    options: {"0": {transfer: "tel:+15105550110"}}
"""
    mf, _ = read_menu_text(text.encode(), filename="m.yaml", base_dir=Path("."))
    assert mf is not None
    out = io.StringIO()
    simulate(
        mf,
        number=SPANISH,
        at=OPEN,
        keys="0",
        results=[ScriptedTransfer.parse(r) for r in ("408", "486", "ok")],
        out=out,
        verbose=False,
    )
    assert "That line is busy." not in out.getvalue() and "Ocupado." in out.getvalue()
