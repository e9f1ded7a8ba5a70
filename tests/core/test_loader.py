"""The loader: every construct of the format, inheritance, and hostile input.

Each test writes the smallest file that shows one thing. Whole-file rules (the
checker's) are in test_checker.py; the corpus of broken files is there too.
"""

from __future__ import annotations

import hashlib
import os
import textwrap
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.core import format as fmt
from router.core.errors import Location, MenuFileError, Problem, Severity
from router.core.keys import Key
from router.core.loader import (
    APOLOGY,
    BUILTIN_FAILURE_POLICY,
    MAX_BYTES,
    Loaded,
    load_menu_file,
    load_menu_text,
    read_menu_text,
)
from router.core.model import (
    NOWHERE,
    Back,
    GoTo,
    Hangup,
    Match,
    MenuFile,
    Prompt,
    Repeat,
    Say,
    Top,
    Transfer,
    Weekday,
)

BASE = """\
version: 1
destinations:
  operator: "tel:+15105550100"
menus:
  main:
    greeting: "Hello. Press 0 for the operator."
    options:
      "0": {transfer: operator}
"""


def load(text: str, base_dir: Path | None = None) -> MenuFile:
    return load_menu_text(
        textwrap.dedent(text), filename="menus.yaml", base_dir=base_dir or Path(".")
    ).menu_file


def refused(text: str | bytes, base_dir: Path | None = None) -> list[Problem]:
    """The problems of a file that must be refused."""
    data = textwrap.dedent(text) if isinstance(text, str) else text
    with pytest.raises(MenuFileError) as caught:
        load_menu_text(data, filename="menus.yaml", base_dir=base_dir or Path("."))
    return caught.value.problems


def errors(text: str | bytes) -> list[str]:
    """Each error as `LINE:COL: message`."""
    return [
        f"{p.location.line}:{p.location.column}: {p.message}"
        for p in refused(text)
        if p.severity is Severity.ERROR
    ]


def with_menus(menus: str, head: str = "") -> str:
    """BASE with more top-level sections before `menus`, and more menus after `main`."""
    more = textwrap.indent(textwrap.dedent(menus), "  ")
    return BASE.replace("menus:\n", textwrap.dedent(head) + "menus:\n") + more


# --- the whole file -----------------------------------------------------------------------


def test_minimal_file() -> None:
    mf = load(BASE)
    assert list(mf.menus) == ["main"]
    menu = mf.menus["main"]
    assert menu.greeting == Prompt("Hello. Press 0 for the operator.", loc=menu.greeting.loc)
    assert menu.prompt is menu.greeting  # no prompt: repeats replay the greeting
    assert menu.loc.line == 5 and menu.loc.column == 3
    assert mf.path == "menus.yaml"


def test_version_is_a_digest_of_the_bytes() -> None:
    mf = load(BASE)
    assert mf.version == hashlib.sha256(BASE.encode()).hexdigest()[:12]
    assert load(BASE + "# a comment changes the version\n").version != mf.version


def test_text_and_bytes_give_the_same_file() -> None:
    a = load_menu_text(BASE, filename="m.yaml", base_dir=Path("."))
    b = load_menu_text(BASE.encode(), filename="m.yaml", base_dir=Path("."))
    assert isinstance(a, Loaded) and a.menu_file == b.menu_file


def test_utf8_bom_is_accepted() -> None:
    load_menu_text(b"\xef\xbb\xbf" + BASE.encode(), filename="m.yaml", base_dir=Path("."))


def test_load_menu_file_resolves_audio_next_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "hello.wav").write_bytes(b"RIFF")
    path = tmp_path / "menus.yaml"
    path.write_text(
        BASE.replace('"Hello. Press 0 for the operator."', "{audio: prompts/hello.wav}")
    )
    mf = load_menu_file(path).menu_file
    assert mf.menus["main"].greeting.audio == str(tmp_path / "prompts" / "hello.wav")
    assert mf.path == str(path)


def test_without_numbers_calls_start_in_the_first_menu() -> None:
    mf = load(
        with_menus('  second:\n    greeting: "x"\n    options: {"0": {transfer: operator}}\n')
    )
    assert mf.entries["default"].menu == "main"
    assert mf.start_menu("+15105550199", datetime(2026, 1, 5, tzinfo=UTC)) == "main"


def test_warnings_come_back_with_the_file() -> None:
    loaded = load_menu_text(
        with_menus('  orphan:\n    greeting: "x"\n    options: {"0": {transfer: operator}}\n'),
        filename="m.yaml",
        base_dir=Path("."),
    )
    assert [p.code for p in loaded.warnings] == ["unreachable"]
    assert all(p.severity is Severity.WARNING for p in loaded.warnings)


def test_an_error_refuses_the_file_and_lists_warnings_too() -> None:
    problems = refused(
        with_menus(
            '  orphan:\n    greeting: "x"\n    options: {"0": {transfer: nowhere}}\n'
            '  other:\n    greeting: "x"\n    options: {"0": {transfer: operator}}\n'
        )
    )
    assert [(p.code, p.severity.value) for p in problems] == [
        ("unreachable", "warning"),
        ("unknown-destination", "error"),
        ("unreachable", "warning"),
    ]


def test_the_exception_names_the_first_error() -> None:
    text = "version: 1\nmenus: {m: {greeting: x, options: {'1': hangup}}}\nnumbers: {}\n"
    with pytest.raises(MenuFileError, match="1 error.s. in the menu file; first: f:3:1: error"):
        load_menu_text(text, filename="f", base_dir=Path("."))


def test_problems_print_as_file_line_column() -> None:
    problem = refused(BASE.replace("greeting", "greting"))[0]
    assert str(problem) == (
        "menus.yaml:6:5: error: unknown key 'greting' in menu 'main' (did you mean 'greeting'?)"
    )


def test_a_value_spanning_lines_is_shown_on_one_line() -> None:
    # found by tests/hardening/test_fuzz.py: a stray indented line after `version: 1`
    # continues the plain scalar, and the message quoted it with its line break
    text = "version: 1\n\n    For the operator, press 0.\nmenus: {}\n"
    problem = refused(text)[0]
    assert problem.code == "bad-version" and problem.location.line == 1
    assert problem.message == "version '1 For the operator, press 0.' is not supported"
    assert len(str(problem).splitlines()) == 1


@pytest.mark.parametrize("text", ["a\nb", "a\r\n b", "a\u2028b", "a\x85b", "ab\n"])
def test_problems_are_one_line_whatever_they_quote(text: str) -> None:
    problem = Problem(Location("f", 1, 1), f"'{text}' is odd", hint=f"not '{text}'")
    assert problem.message.splitlines() == [problem.message]
    assert problem.hint is not None and problem.hint.splitlines() == [problem.hint]
    assert problem.message.split() == f"'{text}' is odd".split()  # nothing lost but breaks


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = errors(
        """\
        version: 1
        defaults:
          timeouts: {first_digit: soon}
        menus:
          main:
            greting: "x"
            options:
              "1": {menu: nowhere}
              "2": {transfer: "tel:555"}
              "Z": repeat
        """
    )
    assert found == [
        "3:27: 'soon' is not a duration",
        "6:5: unknown key 'greting' in menu 'main'",
        "8:19: there is no menu named 'nowhere'",
        "9:23: 'tel:555' is not an E.164 number: it needs a + and the country code",
        "10:7: 'Z' is not a key in menu 'main'",
    ]


# --- keys ---------------------------------------------------------------------------------


def test_keys_quoted_unquoted_and_lowercase() -> None:
    mf = load(
        with_menus(
            """\
              keys:
                greeting: "x"
                options:
                  1: repeat
                  "2": back
                  "*": top
                  "#": hangup
                  a: {say: "the A key"}
                  "D": {transfer: operator}
            """
        )
    )
    options = mf.menus["keys"].options
    assert list(options) == [Key.D1, Key.D2, Key.STAR, Key.POUND, Key.A, Key.D]
    assert isinstance(options[Key.D1], Repeat) and isinstance(options[Key.STAR], Top)


def test_where_points_at_option_keys_and_fields() -> None:
    menu = load(BASE).menus["main"]
    assert menu.where["options.0"].line == 8 and menu.where["options.0"].column == 7
    assert menu.where["greeting"].line == 6
    assert set(menu.where) == {"greeting", "options.0"}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ('"10"', "'10' is not a key in menu 'main'"),
        ('"E"', "'E' is not a key in menu 'main'"),
        ('"1": repeat\n      1', "'1' appears twice in the options of menu 'main'"),
        ('"a": repeat\n      "A"', "key A appears twice in menu 'main'"),
    ],
)
def test_bad_keys(key: str, message: str) -> None:
    text = BASE.replace(
        '      "0": {transfer: operator}', f'      "0": {{transfer: operator}}\n      {key}: back'
    )
    assert any(message in e for e in errors(text))


# --- actions -------------------------------------------------------------------------------

ACTIONS = [
    ("repeat", Repeat(None)),
    ("back", Back(None)),
    ("top", Top(None)),
    ("hangup", Hangup(None)),
    ('{hangup: "Goodbye."}', Hangup(Prompt("Goodbye."))),
    ('{hangup: true, say: "Goodbye."}', Hangup(Prompt("Goodbye."))),
    ("{hangup: }", Hangup(None)),
    ('{back: "Going back."}', Back(Prompt("Going back."))),
    ('{top: true, say: "From the top."}', Top(Prompt("From the top."))),
    ('{repeat: yes, say: "Again."}', Repeat(Prompt("Again."))),
    ('{say: "We are at 1 Main Street."}', Say(Prompt("We are at 1 Main Street."))),
    ("{say: Hi, audio: x.wav}", Say(Prompt("Hi", "x.wav"))),
    ("{audio: x.wav}", Say(Prompt(None, "x.wav"))),
    ("{menu: main}", GoTo("main")),
    ('{menu: main, say: "Back to the start."}', GoTo("main", Prompt("Back to the start."))),
    ("{hangup: {say: Bye, audio: bye.wav}}", Hangup(Prompt("Bye", "bye.wav"))),
]


def _strip(action: object) -> object:
    """The action without locations (and audio without its folder), to compare with a table."""
    if not is_dataclass(action) or isinstance(action, type):
        return action
    changes: dict[str, object] = {}
    for f in fields(action):
        value = getattr(action, f.name)
        if f.name == "loc":
            changes["loc"] = NOWHERE
        elif f.name == "audio" and value:
            changes["audio"] = os.path.basename(value)
        elif is_dataclass(value):
            changes[f.name] = _strip(value)
    return replace(action, **changes)


@pytest.mark.parametrize(("written", "expected"), ACTIONS, ids=[a for a, _ in ACTIONS])
def test_action_forms(written: str, expected: object, tmp_path: Path) -> None:
    for name in ("x.wav", "bye.wav"):
        (tmp_path / name).write_bytes(b"RIFF")
    text = BASE.replace(
        '      "0": {transfer: operator}',
        f'      "0": {{transfer: operator}}\n      "5": {written}',
    )
    action = load(text, base_dir=tmp_path).menus["main"].options[Key.D5]
    assert _strip(action) == expected


def test_action_locations_point_at_what_they_name() -> None:
    text = BASE.replace(
        '      "0": {transfer: operator}',
        '      "0": {transfer: operator}\n      "5": {menu: main}\n      "6": back',
    )
    options = load(text).menus["main"].options
    assert (options[Key.D0].loc.line, options[Key.D0].loc.column) == (8, 23)  # the name
    assert (options[Key.D5].loc.line, options[Key.D5].loc.column) == (9, 19)
    assert (options[Key.D6].loc.line, options[Key.D6].loc.column) == (10, 12)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("{menu: main, transfer: operator}", "has 2 verbs (menu, transfer)"),
        ("{goto: main}", "has no verb"),
        ("{menu: main, ringing_timeout: 5s}", "'ringing_timeout' only goes with a transfer"),
        ("{back: false}", "'back: false' does nothing"),
        ('{hangup: "Bye.", say: "Bye!"}', "has two messages"),
        ("repeet", "'repeet' is not an action"),
        ("[repeat]", "should be an action like {menu: support}, not a list"),
        ('{say: ""}', "is empty"),
        ("{menu: 'two words'}", "'two words' is not a usable name"),
        ("", "is empty"),
    ],
)
def test_bad_actions(written: str, message: str) -> None:
    text = BASE.replace(
        '      "0": {transfer: operator}',
        f'      "0": {{transfer: operator}}\n      "5": {written}',
    )
    assert any(message in e for e in errors(text)), errors(text)


def test_bad_action_word_hints() -> None:
    def hint(word: str) -> str | None:
        text = BASE.replace(
            '      "0": {transfer: operator}',
            f'      "0": {{transfer: operator}}\n      "5": {word}',
        )
        return refused(text)[0].hint

    assert hint("bak") == "did you mean 'back'?"
    assert (
        hint("support") == "to go to a menu write {menu: support}; to transfer, {transfer: support}"
    )
    assert hint('"sip:a@b.example.com"') == 'to transfer, write {transfer: "sip:a@b.example.com"}'


# --- transfers, destinations and inheritance ---------------------------------------------

TRANSFERS = """\
version: 1
defaults:
  transfer: {play_dialtone: true, ringing_timeout: 25s, headers: {X-Routed-By: menu-router}}
destinations:
  operator: "tel:+15105550100"
  sales:
    to: "sip:sales@pbx.example.com"
    say: "Connecting you to sales."
    ringing_timeout: 20s
    headers: {X-Department: sales}
menus:
  main:
    greeting: "x"
    options:
      "0": {transfer: operator}
      "1": {transfer: sales}
      "2":
        transfer: sales
        say: "Sales, one moment."
        play_dialtone: false
        headers: {X-Department: vip}
      "3": {transfer: "tel:+15105550103", ringing_timeout: 1.5m}
      "4": {transfer: "sip:alice@pbx.example.com", say: "Calling Alice."}
"""


def test_named_destinations_keep_their_name() -> None:
    mf = load(TRANSFERS)
    op = mf.menus["main"].options[Key.D0]
    assert isinstance(op, Transfer)
    assert op.target == "tel:+15105550100" and op.destination == "operator"
    assert mf.destinations["sales"].target == "sip:sales@pbx.example.com"
    assert mf.destinations["sales"].destination == "sales"


def test_transfer_settings_defaults_then_destination_then_option() -> None:
    options = load(TRANSFERS).menus["main"].options
    operator, sales, vip, billing, alice = (
        options[k] for k in (Key.D0, Key.D1, Key.D2, Key.D3, Key.D4)
    )
    assert isinstance(operator, Transfer) and operator.settings.play_dialtone
    assert operator.settings.ringing_timeout_s == 25.0
    assert dict(operator.settings.headers) == {"X-Routed-By": "menu-router"}
    assert operator.settings.announce is None
    assert isinstance(sales, Transfer) and sales.settings.ringing_timeout_s == 20.0
    assert dict(sales.settings.headers) == {"X-Routed-By": "menu-router", "X-Department": "sales"}
    assert sales.settings.announce is not None
    assert sales.settings.announce.text == "Connecting you to sales."
    assert isinstance(vip, Transfer) and not vip.settings.play_dialtone
    assert vip.settings.ringing_timeout_s == 20.0
    assert vip.settings.headers["X-Department"] == "vip"
    assert vip.settings.announce is not None and vip.settings.announce.text == "Sales, one moment."
    assert isinstance(billing, Transfer) and billing.settings.ringing_timeout_s == 90.0
    assert billing.destination is None
    assert isinstance(alice, Transfer) and alice.message is None
    assert alice.settings.announce is not None and alice.settings.announce.text == "Calling Alice."


def test_a_destination_may_not_name_another_destination() -> None:
    assert errors(
        BASE.replace(
            '  operator: "tel:+15105550100"', '  operator: "tel:+15105550100"\n  front: operator'
        )
    ) == [
        "4:10: the target of destination 'front' must be a tel: or sip: URI, "
        "not a destination's name"
    ]


@pytest.mark.parametrize(
    ("target", "hint"),
    [
        ('"+1 (510) 555-0100"', "write a phone number as tel:+15105550100"),
        ('"SIP:alice@pbx.example.com"', "write the scheme in lowercase: sip:"),
        ('"alice@pbx.example.com"', "a SIP address starts with sip:"),
    ],
)
def test_targets_that_are_neither_names_nor_uris(target: str, hint: str) -> None:
    problem = refused(BASE.replace("{transfer: operator}", f"{{transfer: {target}}}"))[0]
    assert "is neither a destination name nor a tel:/sip: URI" in problem.message
    assert problem.hint is not None and hint in problem.hint


# --- failure policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [" sip:alice@pbx.example.com", "sip:alice@pbx.example.com ", "\tsip:alice@pbx.example.com "],
)
def test_spaces_around_a_target_are_trimmed_alike_and_said(written: str) -> None:
    for place in ("destination", "option", "directory"):
        text = BASE.replace(
            '"0": {transfer: operator}', '"0": {transfer: operator}\n      "1": {transfer: TARGET}'
        )
        if place == "destination":
            text = text.replace('operator: "tel:+15105550100"', "operator: TARGET").replace(
                "{transfer: TARGET}", "{transfer: operator}"
            )
        elif place == "directory":
            text = (
                text.replace("menus:\n", 'directories:\n  staff: {"5001": TARGET}\nmenus:\n')
                .replace('      "1": {transfer: TARGET}\n', "")
                .replace("    options:", "    directory: staff\n    options:")
            )
        text = text.replace("TARGET", '"' + written.replace("\t", "\\t") + '"')
        mf, problems = read_menu_text(text, filename="menus.yaml", base_dir=Path("."))
        assert mf is not None and [p.severity for p in problems] == [Severity.WARNING], problems
        assert problems[0].code == "target-space"
        assert problems[0].hint == 'write "sip:alice@pbx.example.com"'
        targets = (
            [t.target for t in mf.destinations.values()]
            + [
                a.target
                for m in mf.menus.values()
                for a in m.options.values()
                if isinstance(a, Transfer)
            ]
            + [e.action.target for d in mf.directories.values() for e in d.entries]
        )
        assert "sip:alice@pbx.example.com" in targets and written not in targets


def test_builtin_failure_policy_apologises_and_repeats() -> None:
    menu = load(BASE).menus["main"]
    assert menu.on_transfer_failure == BUILTIN_FAILURE_POLICY
    assert isinstance(BUILTIN_FAILURE_POLICY.busy, Repeat)
    assert BUILTIN_FAILURE_POLICY.busy.message == Prompt(APOLOGY)


FAILURES = """\
version: 1
defaults:
  on_transfer_failure:
    busy: {menu: main, say: "That line is busy."}
    no_answer: {transfer: voicemail}
destinations:
  operator: "tel:+15105550100"
  voicemail: "sip:voicemail@pbx.example.com"
  sales:
    to: "sip:sales@pbx.example.com"
    on_failure:
      rejected: {hangup: "Sales cannot take calls."}
menus:
  main:
    greeting: "x"
    options:
      "0": {transfer: operator}
      "1": {transfer: sales}
      "2": {transfer: sales, on_failure: {busy: {menu: other}}}
      "3": {menu: other}
  other:
    greeting: "y"
    on_transfer_failure:
      error: hangup
    options:
      "1": {transfer: sales}
      "*": back
"""


def test_failure_policies_merge_per_kind() -> None:
    mf = load(FAILURES)
    main, other = mf.menus["main"], mf.menus["other"]
    policy = main.on_transfer_failure
    assert policy is not None
    assert isinstance(policy.busy, GoTo) and policy.busy.menu == "main"
    assert isinstance(policy.no_answer, Transfer) and policy.no_answer.destination == "voicemail"
    assert policy.rejected == BUILTIN_FAILURE_POLICY.rejected  # not named anywhere: built in
    assert other.on_transfer_failure is not None
    assert isinstance(other.on_transfer_failure.error, Hangup)
    assert other.on_transfer_failure.busy is policy.busy  # inherited from defaults

    plain = main.options[Key.D0]
    assert isinstance(plain, Transfer) and plain.on_failure is None  # the menu's policy applies

    sales = main.options[Key.D1]
    assert isinstance(sales, Transfer) and sales.on_failure is not None
    assert isinstance(sales.on_failure.rejected, Hangup)  # from the destination
    assert sales.on_failure.busy is policy.busy  # the rest from the menu

    special = main.options[Key.D2]
    assert isinstance(special, Transfer) and special.on_failure is not None
    assert isinstance(special.on_failure.busy, GoTo) and special.on_failure.busy.menu == "other"
    assert isinstance(special.on_failure.rejected, Hangup)

    in_other = other.options[Key.D1]
    assert isinstance(in_other, Transfer) and in_other.on_failure is not None
    assert isinstance(in_other.on_failure.error, Hangup)  # that menu's own policy underneath

    stored = mf.destinations["sales"]
    assert stored.on_failure is not None and isinstance(stored.on_failure.rejected, Hangup)
    assert mf.destinations["operator"].on_failure is None


def test_destinations_failing_over_to_each_other_terminate() -> None:
    text = BASE.replace(
        '  operator: "tel:+15105550100"',
        '  operator: "tel:+15105550100"\n'
        '  a: {to: "sip:a@pbx.example.com", on_failure: {busy: {transfer: b}}}\n'
        '  b: {to: "sip:b@pbx.example.com", on_failure: {busy: {transfer: a}}}',
    ).replace('"0": {transfer: operator}', '"0": {transfer: operator}\n      "1": {transfer: a}')
    option = load(text).menus["main"].options[Key.D1]
    assert isinstance(option, Transfer) and option.on_failure is not None
    assert (
        isinstance(option.on_failure.busy, Transfer) and option.on_failure.busy.destination == "b"
    )


# --- timeouts, limits, messages, on_limit -----------------------------------------------


def test_inherited_settings_merge_field_by_field() -> None:
    mf = load(
        """\
        version: 1
        defaults:
          timeouts: {first_digit: 6s, inter_digit: 2s}
          limits: {invalid: 4}
          messages: {invalid: "Nope."}
          on_limit: {hangup: "Goodbye."}
        destinations:
          operator: "tel:+15105550100"
        menus:
          main:
            greeting: "x"
            timeouts: {inter_digit: 500ms}
            limits: {no_input: 1}
            messages: {no_input: {say: "Hello?"}}
            on_limit: {transfer: operator}
            options: {"0": {transfer: operator}, "1": {menu: plain}}
          plain:
            greeting: "y"
            options: {"0": {transfer: operator}}
        """
    )
    main, plain = mf.menus["main"], mf.menus["plain"]
    assert (main.timeouts.first_digit_s, main.timeouts.inter_digit_s) == (6.0, 0.5)
    assert (plain.timeouts.first_digit_s, plain.timeouts.inter_digit_s) == (6.0, 2.0)
    assert (main.limits.invalid, main.limits.no_input) == (4, 1)
    assert (plain.limits.invalid, plain.limits.no_input) == (4, 3)
    assert main.messages.invalid.text == "Nope." and main.messages.no_input.text == "Hello?"
    assert plain.messages.no_input.text == "Sorry, I did not hear a choice."
    assert isinstance(main.on_limit, Transfer)
    assert isinstance(plain.on_limit, Hangup) and plain.on_limit.message == Prompt(
        "Goodbye.", loc=plain.on_limit.message.loc if plain.on_limit.message else Prompt().loc
    )


def test_on_limit_defaults_to_a_hangup_with_a_goodbye() -> None:
    on_limit = load(BASE).menus["main"].on_limit
    assert isinstance(on_limit, Hangup)
    assert on_limit.message is not None and "Goodbye" in (on_limit.message.text or "")


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("5s", 5.0),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("2m", 120.0),
        ("7", 7.0),
        ("0.25", 0.25),
        ("10min", 600.0),
        ("3 s", 3.0),
    ],
)
def test_durations(written: str, seconds: float) -> None:
    text = BASE.replace("menus:", f"defaults:\n  timeouts: {{first_digit: {written}}}\nmenus:")
    assert load(text).menus["main"].timeouts.first_digit_s == seconds


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0", "must be more than 0"),
        ("0s", "must be more than 0"),
        ("-1s", "must be more than 0, not -1s"),
        ("11m", "of 11m is more than 10 minutes"),
        ("5h", "'5h' is not a duration"),
        ("fast", "'fast' is not a duration"),
        ("[5s]", "should be a duration like 5s"),
    ],
)
def test_bad_durations(written: str, message: str) -> None:
    text = BASE.replace("menus:", f"defaults:\n  timeouts: {{first_digit: {written}}}\nmenus:")
    assert any(message in e for e in errors(text)), errors(text)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("0", "must be at least 1, not 0"),
        ("-3", "must be at least 1"),
        ("many", "should be a whole number"),
        ("2.5", "should be a whole number"),
    ],
)
def test_bad_limits(written: str, message: str) -> None:
    text = BASE.replace("menus:", f"defaults:\n  limits: {{invalid: {written}}}\nmenus:")
    assert any(message in e for e in errors(text))


def test_booleans() -> None:
    for word, value in (
        ("true", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("No", False),
    ):
        text = BASE.replace("menus:", f"defaults:\n  transfer: {{play_dialtone: {word}}}\nmenus:")
        op = load(text).menus["main"].options[Key.D0]
        assert isinstance(op, Transfer) and op.settings.play_dialtone is value
    text = BASE.replace("menus:", 'defaults:\n  transfer: {play_dialtone: "maybe"}\nmenus:')
    assert any("should be true or false" in e for e in errors(text))


# --- prompts ------------------------------------------------------------------------------


def test_prompt_forms(tmp_path: Path) -> None:
    (tmp_path / "hi.wav").write_bytes(b"RIFF")
    mf = load(
        """\
        version: 1
        destinations: {operator: "tel:+15105550100"}
        menus:
          main:
            greeting: {say: "Hello.", audio: hi.wav}
            prompt: "Press 0."
            options: {"0": {transfer: operator}}
        """,
        base_dir=tmp_path,
    )
    menu = mf.menus["main"]
    assert menu.greeting.text == "Hello." and menu.greeting.audio == str(tmp_path / "hi.wav")
    assert menu.prompt.text == "Press 0." and menu.prompt.audio is None


def test_empty_greeting_is_an_error() -> None:
    assert errors(BASE.replace('"Hello. Press 0 for the operator."', '""')) == [
        "6:15: the greeting of menu 'main' is empty"
    ]


EMPTY_PROMPTS = ['""', "null", "{}", '{say: ""}', '" "', "{say: null}", "''"]
PROMPT_PLACES = [
    ("menus:\n  main:\n    greeting: EMPTY\n", "the greeting of menu 'main'"),
    ("menus:\n  main:\n    greeting: hi\n    prompt: EMPTY\n", "the prompt of menu 'main'"),
    ("defaults:\n  messages: {invalid: EMPTY}\nmenus:\n  main:\n    greeting: hi\n", "invalid"),
    ("menus:\n  main:\n    greeting: hi\n    messages: {no_input: EMPTY}\n", "no_input"),
    (
        "destinations:\n  x: {to: 'tel:+15105550100', say: EMPTY}\n"
        "menus:\n  main:\n    greeting: hi\n",
        "destination 'x'",
    ),
]


@pytest.mark.parametrize("empty", EMPTY_PROMPTS)
@pytest.mark.parametrize(("where", "what"), PROMPT_PLACES, ids=lambda v: v[-12:])
def test_every_empty_prompt_is_one_error(empty: str, where: str, what: str) -> None:
    if "say: EMPTY" in where and empty.startswith("{"):
        return  # `say` takes text, not a mapping (a different error)
    tail = '    options: {"0": {transfer: "tel:+15105550100"}}\n'
    text = "version: 1\n" + where.replace("EMPTY", empty) + tail
    found = [p for p in refused(text) if p.severity is Severity.ERROR]
    assert len(found) == 1, found
    assert found[0].message.endswith("is empty") and what in found[0].message
    assert found[0].hint == 'write the text to say ("...") or {audio: file.wav}'


@pytest.mark.parametrize("empty", EMPTY_PROMPTS)
def test_an_empty_message_of_an_action_is_refused(empty: str) -> None:
    for option in (f"{{hangup: {empty}}}", f"{{repeat: true, say: {empty}}}"):
        if option.startswith("{repeat") and empty.startswith("{"):
            continue  # say takes text
        if option == "{hangup: null}":
            continue  # a verb with nothing after it: no message, which is fine
        text = BASE.replace('"0": {transfer: operator}', f'"0": {option}')
        assert [p.code for p in refused(text) if p.severity is Severity.ERROR] == ["empty-value"], (
            option
        )


@pytest.mark.parametrize(
    ("line", "severity"),
    [
        ("#: hangup", Severity.ERROR),
        ("# : hangup", Severity.ERROR),
        ('#: {hangup: "Goodbye."}', Severity.ERROR),
        ("#: back", Severity.ERROR),
        ("#:\n        transfer: operator", Severity.ERROR),  # the action on the lines below
        ("#: see the wiki for the pound key", Severity.WARNING),  # reads like a comment
        ("#:", None),  # nothing lost
        ("# hangup", None),  # an ordinary comment
    ],
)
def test_an_unquoted_pound_key_is_refused(line: str, severity: Severity | None) -> None:
    text = BASE.replace('"0": {transfer: operator}', '"0": {transfer: operator}\n      ' + line)
    _, problems = read_menu_text(text, filename="menus.yaml", base_dir=Path("."))
    found = [p for p in problems if p.code == "pound-comment"]
    assert [p.severity for p in found] == ([] if severity is None else [severity]), problems
    if found:
        assert str(found[0].location) == "menus.yaml:9:7"
        assert found[0].hint == 'to use the # key, quote it: "#":'


@pytest.mark.parametrize("word", fmt.SHORT_ACTIONS)
def test_every_short_action_after_an_unquoted_pound_is_an_action(word: str) -> None:
    """The words `#: WORD` is refused for are the format's short actions, not a copy."""
    text = BASE.replace('"0": {transfer: operator}', '"0": {transfer: operator}\n      #: ' + word)
    _, problems = read_menu_text(text, filename="menus.yaml", base_dir=Path("."))
    found = [p.severity for p in problems if p.code == "pound-comment"]
    assert found == [Severity.ERROR]


def test_a_caller_rules_settings_are_its_fields_less_the_action() -> None:
    assert fmt.CALLER_SETTINGS == ("from", "name", "language", "schedule", "closed")
    assert not set(fmt.CALLER_SETTINGS) & set(fmt.CALLER_VERBS)


@pytest.mark.parametrize(
    "place",
    [
        "    greeting: TEXT\n",
        "    greeting: {say: TEXT}\n",
        "    greeting: hi\n    prompt: TEXT\n",
        "    greeting: hi\n    messages: {invalid: TEXT}\n",
        '    greeting: hi\n    options: {"0": hangup, "1": {say: TEXT}}\n',
        '    greeting: hi\n    options: {"0": hangup, "1": {hangup: TEXT}}\n',
        '    greeting: hi\n    options: {"0": hangup, "1": {repeat: true, say: TEXT}}\n',
    ],
)
def test_a_message_longer_than_the_limit_is_refused_with_the_figure(place: str) -> None:
    from router.core.loader import MAX_PROMPT_CHARS

    def file(length: int) -> str:
        text = ("x" * length).join('""')
        body = place.replace("TEXT", text)
        return (
            "version: 1\nmenus:\n  main:\n"
            + body
            + ('    options: {"0": hangup}\n' if "options" not in body else "")
        )

    load_menu_text(file(MAX_PROMPT_CHARS), filename="menus.yaml", base_dir=Path("."))
    found = [p for p in refused(file(MAX_PROMPT_CHARS + 1)) if p.severity is Severity.ERROR]
    assert [p.code for p in found] == ["prompt-too-long"], found
    assert "is 5,001 characters long" in found[0].message
    assert found[0].message.endswith("a message may have at most 5,000")


def test_missing_greeting() -> None:
    assert errors(BASE.replace('    greeting: "Hello. Press 0 for the operator."\n', "")) == [
        "6:5: menu 'main' has no 'greeting'"
    ]


# --- directories -----------------------------------------------------------------------------

DIRECTORY = """\
version: 1
destinations:
  operator: "tel:+15105550100"
directories:
  staff:
    "5001": {to: "sip:alice@pbx.example.com", say: "Calling Alice."}
    "5100-5199": "sip:{ext}@pbx.example.com"
    "6XXX": {to: "tel:+1510555{ext}", ringing_timeout: 30s}
    "7000": operator
menus:
  main:
    greeting: "Dial an extension, or 0."
    directory: staff
    options:
      "0": {transfer: operator}
"""


def test_directory_entries() -> None:
    mf = load(DIRECTORY)
    staff = mf.directories["staff"]
    assert [e.pattern for e in staff.entries] == ["5001", "5100-5199", "6xxx", "7000"]
    assert mf.menus["main"].directory == "staff"
    assert staff.lookup("5001")[0] is Match.COMPLETE
    match, transfer = staff.lookup("5150")
    assert match is Match.COMPLETE and transfer is not None
    assert transfer.target == "sip:5150@pbx.example.com"
    match, transfer = staff.lookup("6123")
    assert transfer is not None and transfer.target == "tel:+15105556123"
    assert transfer.settings.ringing_timeout_s == 30.0
    assert staff.lookup("5")[0] is Match.PARTIAL and staff.lookup("9")[0] is Match.NONE
    operator = staff.entries[3].action
    assert operator.destination == "operator" and operator.target == "tel:+15105550100"
    alice = staff.entries[0].action
    assert alice.settings.announce is not None and alice.settings.announce.text == "Calling Alice."


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('"12a"', "'12a' is not an extension in directory 'staff'"),
        ('"20-300"', "both ends of the range '20-300' need the same number of digits"),
        ('"300-200"', "the range '300-200' runs backwards"),
    ],
)
def test_bad_extension_patterns(pattern: str, message: str) -> None:
    text = DIRECTORY.replace(
        '    "7000": operator', f'    "7000": operator\n    {pattern}: operator'
    )
    assert any(message in e for e in errors(text)), errors(text)


def test_ext_template_only_in_directories_and_only_ext() -> None:
    text = BASE.replace("{transfer: operator}", '{transfer: "sip:{ext}@pbx.example.com"}')
    assert any("only works in a directory entry" in e for e in errors(text))
    text = DIRECTORY.replace('"sip:{ext}@pbx.example.com"', '"sip:{extension}@pbx.example.com"')
    assert any("may only fill in {ext}" in e for e in errors(text))


# --- schedules and numbers ----------------------------------------------------------------

SCHEDULE = """\
version: 1
destinations:
  operator: "tel:+15105550100"
schedules:
  office:
    timezone: America/New_York
    hours:
      mon-fri: "08:30-17:30"
      sat: ["10:00-12:00", "13:00-14:00"]
      sun: closed
    holidays: [2026-12-25, "2026-01-01"]
  always:
    timezone: UTC
    hours: {daily: 00:00-24:00}
  split:
    timezone: Europe/Paris
    hours: {"sat, sun": "10:00-11:00", weekdays: "09:00-10:00", fri-mon: "20:00-21:00"}
numbers:
  "+15105550150": {menu: main, schedule: office, closed: closed}
  "+15105550151": closed
  default: {menu: main}
menus:
  main:
    greeting: "Open."
    options: {"0": {transfer: operator}, "1": {menu: closed}}
  closed:
    greeting: "Closed."
    options: {"#": hangup}
"""


def test_schedules() -> None:
    mf = load(SCHEDULE)
    office = mf.schedules["office"]
    assert office.timezone == "America/New_York"
    assert office.hours[Weekday.MON] == ((clock(8, 30), clock(17, 30)),)
    assert office.hours[Weekday.SAT] == ((clock(10), clock(12)), (clock(13), clock(14)))
    assert Weekday.SUN not in office.hours or office.hours[Weekday.SUN] == ()
    assert office.holidays == (date(2026, 1, 1), date(2026, 12, 25))
    assert office.where["timezone"].line == 6
    always = mf.schedules["always"]
    assert set(always.hours) == set(Weekday)
    assert always.is_open(datetime(2026, 3, 3, 23, 59, 59, tzinfo=UTC))
    split = mf.schedules["split"]
    assert split.hours[Weekday.SAT] == ((clock(10), clock(11)), (clock(20), clock(21)))
    assert split.hours[Weekday.MON] == ((clock(9), clock(10)), (clock(20), clock(21)))
    assert split.hours[Weekday.WED] == ((clock(9), clock(10)),)


def test_numbers_and_opening_hours() -> None:
    mf = load(SCHEDULE)
    assert mf.entries["+15105550151"].menu == "closed"
    assert mf.entries["+15105550150"].where["schedule"].line == 19
    monday_noon_ny = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    monday_night_ny = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    christmas_noon = datetime(2026, 12, 25, 17, 0, tzinfo=UTC)
    assert mf.start_menu("+15105550150", monday_noon_ny) == "main"
    assert mf.start_menu("15105550150", monday_night_ny) == "closed"
    assert mf.start_menu("+15105550150", christmas_noon) == "closed"
    assert mf.start_menu("+19995550000", monday_night_ny) == "main"  # default has no schedule


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ('"17:00-09:00"', "'17:00-09:00' ends before it starts"),
        ('"09:00-09:00"', "'09:00-09:00' ends before it starts"),
        ('"25:00-26:00"', "25:00 in '25:00-26:00' is not a time of day"),
        ('"09:60-10:00"', "09:60 in '09:60-10:00' is not a time of day"),
        ('"24:00-24:00"', "starts at 24:00"),
        ('"9 to 5"', "'9 to 5' is not a time interval"),
        ('["09:00-12:00", "11:00-13:00"]', "on mon, 11:00-13:00 overlaps 09:00-12:00"),
    ],
)
def test_bad_hours(hours: str, message: str) -> None:
    text = SCHEDULE.replace('      mon-fri: "08:30-17:30"', f"      mon: {hours}")
    assert any(message in e for e in errors(text)), errors(text)


@pytest.mark.parametrize(
    ("hours", "hint"),
    [
        # both ends before 13:00: a 12-hour clock, the end is in the afternoon
        ('"8:30-5:30"', "times are on the 24-hour clock: did you mean 08:30-17:30?"),
        ("9:00-5:00", "times are on the 24-hour clock: did you mean 09:00-17:00?"),
        ('"12:00-1:30"', "times are on the 24-hour clock: did you mean 12:00-13:30?"),
        # overnight hours keep their hint: the admin meant past midnight
        ('"22:00-06:00"', "for hours past midnight, split them"),
        ('"17:00-09:00"', "for hours past midnight, split them"),
        ('"13:00-12:00"', "for hours past midnight, split them"),
        # midnight as an end
        ('"10:00-00:00"', "midnight at the end of a day is 24:00: did you mean 10:00-24:00?"),
        ('"09:00-09:00"', "an interval needs a length"),
    ],
)
def test_backwards_hours_get_the_hint_of_what_they_meant(hours: str, hint: str) -> None:
    text = SCHEDULE.replace('      mon-fri: "08:30-17:30"', f"      mon: {hours}")
    found = [p for p in refused(text) if p.code == "bad-hours"]
    assert len(found) == 1 and "ends before it starts" in found[0].message
    assert found[0].hint is not None and found[0].hint.startswith(hint), found[0].hint


def test_bad_days_and_holidays_and_time_zones() -> None:
    text = (
        SCHEDULE.replace("      sun: closed", "      sunday: closed")
        .replace('"2026-01-01"', "2026-13-01")
        .replace("America/New_York", "Mars/Olympus")
    )
    found = errors(text)
    assert any("'sunday' is not a day or range of days" in e for e in found)
    assert any("2026-13-01 is not a real date" in e for e in found)
    assert any("unknown time zone 'Mars/Olympus'" in e for e in found)


def test_numbers_rules() -> None:
    found = errors(SCHEDULE.replace("  default: {menu: main}\n", "  5105550152: main\n"))
    assert "21:3: '5105550152' is not a dialled number or 'default'" in found
    assert "18:1: numbers has no 'default' entry" in found
    found = errors(
        SCHEDULE.replace(
            "{menu: main, schedule: office, closed: closed}", "{menu: main, schedule: office}"
        )
    )
    assert found == ["19:32: the entry for +15105550150 has a schedule but no closed"]


# --- YAML features and traps ------------------------------------------------------------


def test_anchors_and_merge_keys_are_understood() -> None:
    mf = load(
        """\
        version: 1
        destinations: {operator: "tel:+15105550100"}
        menus:
          main:
            greeting: "x"
            options: &common
              "0": {transfer: operator}
              "#": hangup
          other:
            greeting: "y"
            options:
              <<: *common
              "#": {hangup: "Bye."}
              "1": {menu: main}
        numbers:
          default: main
          "+15105550150": other
        """
    )
    other = mf.menus["other"].options
    assert set(other) == {Key.D0, Key.POUND, Key.D1}
    assert isinstance(other[Key.POUND], Hangup) and other[Key.POUND].message is not None


def test_yaml_1_1_surprises_are_avoided() -> None:
    text = SCHEDULE.replace('mon-fri: "08:30-17:30"', "mon-fri: 08:30-17:30").replace(
        '"+15105550151": closed', "+15105550151: closed"
    )
    mf = load(text)
    assert mf.schedules["office"].hours[Weekday.TUE] == ((clock(8, 30), clock(17, 30)),)
    assert "+15105550151" in mf.entries
    mf = load(BASE.replace("Hello. Press 0 for the operator.", "yes").replace('"yes"', "yes"))
    assert mf.menus["main"].greeting.text == "yes"  # text, not the boolean True


def test_a_second_document_is_refused() -> None:
    problems = refused(BASE + "---\nversion: 1\n")
    assert [(p.code, p.location.line) for p in problems] == [("yaml-documents", 9)]


# --- hostile input -------------------------------------------------------------------------

# No clock here: how fast each is refused is measured in bench/hostile_files.py, and the
# work each takes is held to counts in tests/hardening/test_hostile.py.


def hostile_refused(data: str | bytes) -> Problem:
    """The one problem hostile input is refused with, nothing read past it."""
    menu_file, problems = read_menu_text(data, filename="evil.yaml", base_dir=Path("."))
    assert menu_file is None and len(problems) == 1, problems
    return problems[0]


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:
        f.truncate(50_000_000)  # sparse: no disk used
    with pytest.raises(MenuFileError) as caught:
        load_menu_file(path)
    assert len(caught.value.problems) == 1
    assert "the file is 50,000,000 bytes; menu files are limited to 1,000,000 bytes" in str(
        caught.value.problems[0]
    )


def test_huge_text_is_refused() -> None:
    problem = hostile_refused(BASE + "#" * MAX_BYTES)
    assert problem.code == "too-big"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_endless_device_is_refused() -> None:
    with pytest.raises(MenuFileError) as caught:
        load_menu_file("/dev/zero")  # an endless read would never return
    assert caught.value.problems[0].code == "too-big"


def test_deep_nesting_is_refused() -> None:
    problem = hostile_refused("x: " + "[" * 200_000 + "]" * 200_000)
    assert "nested more than 64 levels deep" in problem.message
    problem = hostile_refused("".join(f"{' ' * i}k{i}:\n" for i in range(200)))
    assert problem.code == "hostile"


def test_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    problem = hostile_refused("\n".join(lines) + "\n")
    assert "aliases expand this file beyond 100,000 extra values" in problem.message
    assert problem.location.line == 5  # the alias that crossed the budget


def test_recursive_alias_is_refused() -> None:
    problem = hostile_refused("menus: &m\n  main: *m\n")
    assert "refers to a node that contains it" in problem.message


def test_binary_junk_is_refused() -> None:
    problem = hostile_refused(bytes(range(256)) * 100)
    assert problem.message == "this is not a text file (it contains binary data)"
    assert (problem.location.line, problem.location.column) == (1, 1)


def test_non_utf8_is_refused() -> None:
    problem = hostile_refused("version: 1\nmenus:\n  caf\xe9: {}\n".encode("latin-1"))
    assert problem.message == "the file is not UTF-8 text (byte 0xE9 here)"
    assert (problem.location.line, problem.location.column) == (3, 6)
    assert problem.hint == "save it as UTF-8"


def test_utf16_is_refused() -> None:
    problem = hostile_refused(BASE.encode("utf-16"))
    assert problem.message == "the file is UTF-16, not UTF-8"


def test_control_characters_are_refused() -> None:
    problem = hostile_refused("version: 1\x07\n")
    assert problem.message == "this is not a text file (control character U+0007)"
    assert (problem.location.line, problem.location.column) == (1, 11)


def test_python_tags_are_never_constructed() -> None:
    problems = refused('version: 1\nmenus: !!python/object/apply:os.system ["touch /tmp/pwned"]\n')
    assert problems[0].message.startswith(
        "custom YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'"
    )


def test_empty_file() -> None:
    assert hostile_refused("").message == "the file is empty"
    assert hostile_refused("# only a comment\n").message == "the file is empty"


def test_not_a_mapping() -> None:
    assert errors("- a\n- b\n") == [
        "1:1: the menu file should be a mapping of keys (like `version: ...`)"
    ]


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(MenuFileError, match="cannot read the file"):
        load_menu_file(tmp_path / "missing.yaml")
    with pytest.raises(MenuFileError, match="this is a folder, not a menu file"):
        load_menu_file(tmp_path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    menu_file, problems = read_menu_text(data, filename="fuzz.yaml", base_dir=Path("."))
    assert menu_file is None or problems is not None
    for problem in problems:
        assert problem.location.line >= 1 and problem.location.column >= 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, len(BASE) - 1),
    st.sampled_from([":", "{", "[", '"', "*", "&", "!", "-", "\n", " ", "#", "\t"]),
)
def test_one_character_edits_never_crash(position: int, char: str) -> None:
    text = BASE[:position] + char + BASE[position:]
    menu_file, problems = read_menu_text(text, filename="edit.yaml", base_dir=Path("."))
    if menu_file is None:
        assert problems


def test_empty_optional_sections_are_allowed() -> None:
    mf = load(
        """\
        version: 1
        defaults:
          timeouts:
          limits: ~
        destinations:
        menus:
          main:
            greeting: hi
            messages:
            options:
              "#": hangup
        """
    )
    assert mf.menus["main"].timeouts.first_digit_s == 5.0
    assert mf.destinations == {}
