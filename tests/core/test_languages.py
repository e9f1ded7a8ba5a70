"""One tree in several languages: the format (`languages`, prompts by language, a
number's, a caller rule's and an option's `language`), the checks of
`router.core.languages`, and the navigator speaking the caller's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from router.core.errors import Problem, Severity
from router.core.events import Effect, LanguageChosen, Play
from router.core.keys import Key
from router.core.loader import read_menu_text
from router.core.model import MenuFile, Prompt
from router.core.simulation import SimulatedCall

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

FILE = """\
version: 1
languages:
  en: {voice: en-us}
  es: {voice: es}
defaults:
  messages:
    invalid: {en: "Not a choice.", es: "No es una opción."}
    no_input: {en: "Nothing heard.", es: "No escuché nada."}
    transfer_limit: {en: "Sorry.", es: "Lo siento."}
    key_limit: {en: "Too many keys.", es: "Demasiadas teclas."}
    call_limit: {en: "Too long.", es: "Demasiado larga."}
  on_limit: {hangup: {en: "Goodbye.", es: "Adiós."}}
  on_transfer_failure:
    busy: {repeat: true, say: {en: "Busy.", es: "Ocupado."}}
    no_answer: {hangup: {en: "No answer.", es: "Nadie contesta."}}
    rejected: {hangup: {en: "Refused.", es: "Rechazado."}}
    error: {hangup: {en: "Error.", es: "Error."}}
destinations:
  sales: {to: "tel:+15105550101", say: {en: "Sales.", es: "Ventas."}}
numbers:
  "+15105550151": {menu: main, language: es}
  default: main
callers:
  - {from: "+52*", language: es}
  - {from: "+34*", language: es, menu: other}
menus:
  main:
    greeting: {en: "Main. Para español, oprima 9.", es: {say: "Principal.", audio: hola.wav}}
    options:
      "1": {transfer: sales}
      "2": {menu: other}
      "9": {language: es}
      "7": {language: en, menu: other, say: {en: "English.", es: "Inglés."}}
  other:
    greeting:
      en: "Other."
      es: "Otro."
    options: {"1": {transfer: sales}, "*": back}
"""


def load(text: str = FILE) -> tuple[MenuFile | None, list[Problem]]:
    """The file and its problems, but a missing recording's."""
    mf, problems = read_menu_text(text, filename="menus.yaml", base_dir=Path("/menus"))
    return mf, [p for p in problems if p.code != "missing-audio"]


def menu_file(text: str = FILE) -> MenuFile:
    mf, problems = load(text)
    assert mf is not None and not any(p.severity is Severity.ERROR for p in problems), problems
    return mf


def line_of(text: str, words: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if words in line)


def heard(effects: list[Effect]) -> list[tuple[str | None, str | None]]:
    """(language, text) of every prompt played."""
    return [(p.language, p.text) for e in effects if isinstance(e, Play) for p in e.prompts]


def languages(effects: list[Effect]) -> list[str]:
    return [e.language for e in effects if isinstance(e, LanguageChosen)]


def test_the_file_reads_languages_and_prompts_by_language() -> None:
    mf, problems = load()
    assert problems == []
    assert mf is not None
    assert [(c, lang.voice) for c, lang in mf.languages.items()] == [("en", "en-us"), ("es", "es")]
    greeting = mf.menus["main"].greeting
    assert (greeting.text, greeting.language) == ("Main. Para español, oprima 9.", "en")
    spanish = greeting.in_language("es")
    assert (spanish.text, spanish.audio, spanish.language) == (
        "Principal.",
        "/menus/hola.wav",
        "es",
    )
    assert greeting.loc.line == line_of(FILE, "Main. Para")  # the prompt's line, for checks
    assert mf.entries["+15105550151"].language == "es"
    assert [r.language for r in mf.callers] == ["es", "es"]
    assert mf.callers[0].action is None  # only the language: on to the number's entry


def test_the_list_shorthand_speaks_each_language_in_its_own_voice() -> None:
    mf = menu_file(
        "version: 1\nlanguages: [en, es]\nmenus:\n  m: {greeting: Hi, options: {'#': hangup}}\n"
    )
    assert {c: lang.voice for c, lang in mf.languages.items()} == {"en": "en", "es": "es"}
    assert mf.menus["m"].greeting.language == "en"  # written once: the default language


def test_a_switch_key_plays_the_menu_again_in_spanish_and_everything_after() -> None:
    call = SimulatedCall(menu_file())
    start = call.start(None, AT)
    assert languages(start) == ["en"] and heard(start) == [("en", "Main. Para español, oprima 9.")]
    switched = call.press(Key.D9)
    assert languages(switched) == ["es"]
    assert heard(switched) == [("es", "Principal.")]
    assert heard(call.press(Key.D5)) == [("es", "No es una opción."), ("es", "Principal.")]
    assert heard(call.press(Key.D1)) == [("es", "Ventas.")]


def test_a_switch_with_a_menu_goes_there_in_the_new_language() -> None:
    call = SimulatedCall(menu_file())
    call.start("+15105550151", AT)
    effects = call.press(Key.D7)
    assert languages(effects) == ["en"]
    assert heard(effects) == [("en", "English."), ("en", "Other.")]


def test_the_number_and_the_caller_rule_choose_the_first_language() -> None:
    mf = menu_file()
    assert languages(SimulatedCall(mf).start("+15105550151", AT)) == ["es"]
    mexico = SimulatedCall(mf).start("+15105550150", AT, "+525555550123")
    assert languages(mexico) == ["es"] and heard(mexico) == [("es", "Principal.")]
    spain = SimulatedCall(mf).start(None, AT, "+34915550123")
    assert heard(spain) == [("es", "Otro.")]
    chosen = SimulatedCall(mf).start("+15105550151", AT, None, "en")  # simulate --language
    assert languages(chosen) == ["en"]


def test_a_prompt_missing_in_a_language_is_heard_in_the_default_one() -> None:
    text = FILE.replace('      en: "Other."\n      es: "Otro."\n', '      en: "Other."\n')
    mf, problems = load(text)
    assert mf is not None
    [missing] = [p for p in problems if p.code == "missing-language"]
    assert missing.location.line == line_of(text, 'en: "Other."')
    assert missing.severity is Severity.WARNING
    assert missing.message == "this prompt is not given in es: callers in es hear it in en"
    call = SimulatedCall(mf)
    call.start("+15105550151", AT)
    assert heard(call.press(Key.D2)) == [("en", "Other.")]  # in English, in English's voice
    assert mf.voice_for(Prompt("Other.", language="en"), "x") == "en-us"


def test_a_file_without_languages_is_unchanged() -> None:
    mf = menu_file("version: 1\nmenus:\n  m: {greeting: Hi, voice: fr, options: {'#': hangup}}\n")
    assert mf.languages == {} and mf.default_language is None
    call = SimulatedCall(mf)
    effects = call.start(None, AT)
    assert languages(effects) == [] and heard(effects) == [(None, "Hi")]
    assert mf.voice_for(mf.menus["m"].greeting, "fr") == "fr"


def test_language_mistakes_are_errors_at_their_line() -> None:
    text = """\
version: 1
languages: {en: {voice: en-us}, es: {voice: espanol}}
defaults: {voice: en-us}
numbers:
  "+15105550151": {menu: m, language: fr}
  default: m
menus:
  m:
    greeting: {en: Hi, de: Hallo}
    options:
      "9": {language: it}
      "8": {say: {en: Hi, es: Hola}, audio: x.wav}
"""
    _, problems = load(text)
    found = {(p.location.line, p.code, p.severity) for p in problems}
    assert {
        (2, "unknown-voice", Severity.ERROR),
        (3, "voice-with-languages", Severity.ERROR),
        (5, "unknown-language", Severity.ERROR),
        (9, "unknown-language", Severity.ERROR),
        (11, "unknown-language", Severity.ERROR),
        (12, "audio-with-languages", Severity.ERROR),
    } <= found


def test_language_without_languages_is_an_error() -> None:
    options = '{"9": {language: es}, "#": hangup}'
    text = f"version: 1\nmenus:\n  m:\n    greeting: Hi\n    options: {options}\n"
    _, problems = load(text)
    [problem] = problems
    assert str(problem) == (
        "menus.yaml:5:20: error: this option switches to language 'es', but the file declares"
        " no languages (declare them at the top: languages: {en: {voice: en-us}, es: ...})"
    )


def test_the_router_s_english_words_are_named_once_at_the_languages() -> None:
    text = "version: 1\nlanguages: [en, es]\nmenus:\n  m: {greeting: {en: Hi, es: Hola}}\n"
    _, problems = load(text)
    [words] = [p for p in problems if p.code == "english-words"]
    assert words.location.line == 2 and words.severity is Severity.WARNING
    assert 'messages.no_input "Sorry, I did not hear a choice."' in words.message
    english_only = (
        "version: 1\nlanguages: [en, en-gb]\nmenus:\n  m: {greeting: {en: Hi, en-gb: Hi}}\n"
    )
    assert [p for p in load(english_only)[1] if p.code == "english-words"] == []


def test_a_recording_alone_has_no_language() -> None:
    text = "version: 1\nlanguages: [en, es]\nmenus:\n  m: {greeting: {audio: chime.wav}}\n"
    _, problems = load(text)
    assert [p for p in problems if p.code == "missing-language"] == []


def test_every_version_is_a_prompt_to_render() -> None:
    texts = {p.text for p in menu_file().prompts() if p.text}
    assert {"Main. Para español, oprima 9.", "Principal.", "Inglés.", "Adiós."} <= texts


def test_a_prompt_by_language_without_languages_says_what_to_declare() -> None:
    text = (
        'version: 1\nmenus:\n  m:\n    greeting: {en: Hi, es: Hola}\n    options: {"#": hangup}\n'
    )
    _, problems = load(text)
    assert [str(p) for p in problems] == [
        "menus.yaml:4:15: error: the greeting of menu 'm' is given by language (en, es), but the"
        " file declares no languages (declare them at the top: languages: [en, es])"
    ]
    mistyped = load(text.replace("{en: Hi, es: Hola}", "{sey: Hi}"))[1]
    assert [p.hint for p in mistyped] == ["did you mean 'say'?"]  # a typo, not a language


TOGGLE = FILE.replace('"9": {language: es}', '"9": {language: {en: es, es: en}}').replace(
    '"2": {menu: other}', '"2": {menu: other, language: {es: en}}'
)


def test_a_toggle_switches_to_the_other_language_each_time() -> None:
    call = SimulatedCall(menu_file(TOGGLE))
    call.start(None, AT)
    first = call.press(Key.D9)
    assert languages(first) == ["es"] and heard(first) == [("es", "Principal.")]
    second = call.press(Key.D9)
    assert languages(second) == ["en"] and heard(second) == [
        ("en", "Main. Para español, oprima 9.")
    ]
    assert languages(call.press(Key.D9)) == ["es"]


def test_a_language_a_toggle_does_not_list_keeps_the_caller_s() -> None:
    call = SimulatedCall(menu_file(TOGGLE))
    call.start(None, AT)  # in en; option 2 lists only es
    effects = call.press(Key.D2)
    assert languages(effects) == [] and heard(effects) == [("en", "Other.")]
    _, problems = load(TOGGLE)
    [kept] = problems
    line = line_of(TOGGLE, '"2": {menu')
    column = TOGGLE.splitlines()[line - 1].index("es: en}") + 1  # the first key
    assert (kept.location.line, kept.location.column) == (line, column)
    assert kept.severity is Severity.WARNING and kept.code == "language-not-switched"
    assert kept.message == "this option switches no caller in en: they keep their language"


def test_a_toggle_s_languages_must_be_declared_each_at_its_column() -> None:
    text = TOGGLE.replace("{en: es, es: en}", "{en: fr, de: es, es: en}")
    _, problems = load(text)
    line = line_of(text, '"9": {language')
    written = text.splitlines()[line - 1]
    found = {(p.location.line, p.location.column) for p in problems if p.code == "unknown-language"}
    assert found == {(line, written.index("fr,") + 1), (line, written.index("de:") + 1)}
    empty = load(TOGGLE.replace("{en: es, es: en}", "{}"))[1]
    assert [(p.code, p.severity) for p in empty if p.severity is Severity.ERROR] == [
        ("empty-value", Severity.ERROR)
    ]


def test_a_mistyped_language_names_the_file_s_languages() -> None:
    _, problems = load(FILE.replace('"9": {language: es}', '"9": {language: "es!"}'))
    [bad] = [p for p in problems if p.code == "bad-language"]
    assert bad.hint == "write one of this file's languages: en, es"
