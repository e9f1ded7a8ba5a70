"""Caller rules: the format, the loader, the checker, the navigator's start, and the
simulated call that `router simulate` and `router test` drive."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.core.errors import MenuFileError, Problem, Severity
from router.core.events import CallerMatched, EndReason, EnteredBy, MenuEntered, TransferTo
from router.core.loader import load_menu_text, read_menu_text
from router.core.model import CallerPattern, caller_number
from router.core.navigator import CallState
from router.core.simulation import ScriptedTransfer, SimulatedCall

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

FILE = """\
version: 1
destinations:
  operator: "tel:+15105550100"
callers:
  - name: blocked
    from: ["+1900*", "+15105550199"]
    hangup: "Sorry. Goodbye."
  - from: "+15105550111"
    transfer: operator
    on_failure: {busy: {menu: other}, no_answer: repeat, rejected: hangup, error: hangup}
  - from: ["+44*"]
    menu: other
    say: "Hello from afar."
  - from: anonymous
    menu: other
numbers:
  "+15105550150": main
  default: main
menus:
  main:
    greeting: "Main."
    options: {"1": {transfer: operator}}
  other:
    greeting: "Other."
    options: {"1": {transfer: operator}, "*": top}
"""


def load(text: str = FILE) -> tuple[object, list[Problem]]:
    return read_menu_text(text, filename="menus.yaml", base_dir=Path("."))


def call(caller: str | None, *results: str) -> SimulatedCall:
    menu_file = load_menu_text(FILE, filename="menus.yaml", base_dir=Path(".")).menu_file
    sim = SimulatedCall(menu_file, results=[ScriptedTransfer.parse(r) for r in results or ("ok",)])
    sim.start("+15105550150", AT, caller)
    return sim


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("+15105550111", "+15105550111"),
        ("15105550111", "+15105550111"),
        (" +1 (510) 555-0111 ", "+15105550111"),
        ("", None),
        ("anonymous", None),
        ("Anonymous", None),
        ("restricted", None),
        ("alice", "alice"),
    ],
)
def test_the_callers_number_as_rules_see_it(raw: str | None, number: str | None) -> None:
    assert caller_number(raw) == number


@pytest.mark.parametrize(
    ("pattern", "caller", "matches"),
    [
        ("+1510*", "+15105550111", True),
        ("+1510*", "+14155550111", False),
        ("+15105550111", "+15105550111", True),
        ("+15105550111", "+151055501112", False),
        ("anonymous", None, True),
        ("anonymous", "+15105550111", False),
        ("+1*", None, False),
        ("+1*", "alice", False),
    ],
)
def test_patterns(pattern: str, caller: str | None, matches: bool) -> None:
    assert CallerPattern(pattern).matches(caller) is matches


def test_the_loader_reads_rules_in_order() -> None:
    menu_file, problems = load()
    assert not problems
    assert menu_file is not None
    rules = menu_file.callers  # type: ignore[attr-defined]
    assert [r.name for r in rules] == ["blocked", "callers[2]", "callers[3]", "callers[4]"]
    assert [p.text for p in rules[0].patterns] == ["+1900*", "+15105550199"]
    assert rules[0].loc.line == 5


@pytest.mark.parametrize(
    ("rule", "message", "where"),
    [
        ('  - {from: "5105550111", menu: main}', "'5105550111' is not a caller's number", "3:12"),
        ('  - {from: "+1 510*", menu: main}', "'+1 510*' is not a caller's prefix", "3:12"),
        ('  - {from: "+1510*", menu: main, hangup: true}', "does 2 things", "3:5"),
        ('  - {from: "+1510*"}', "says nothing to do", "3:5"),
        ('  - {from: "+1510*", menu: nowhere}', "no menu named 'nowhere'", "3:"),
        ('  - {from: "+1510*", repeat: true}', "unknown key 'repeat'", "3:"),
        ("  - {menu: main}", "no 'from'", "3:"),
    ],
)
def test_malformed_rules_point_at_the_line(rule: str, message: str, where: str) -> None:
    menus = "menus:\n  main: {greeting: hi, options: {'1': hangup}}\n"
    text = f"version: 1\ncallers:\n{rule}\n{menus}"
    _, problems = load(text)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    assert errors, problems
    found = [p for p in errors if message in p.message]
    assert found, [p.message for p in errors]
    assert f"{found[0].location.line}:{found[0].location.column}".startswith(where)


def test_a_rule_an_earlier_one_catches_entirely_is_an_error() -> None:
    text = FILE.replace(
        "  - from: anonymous\n",
        '  - from: ["+4420*", "+447*"]\n    hangup: true\n  - from: anonymous\n',
    )
    with pytest.raises(MenuFileError) as caught:
        load_menu_text(text, filename="menus.yaml", base_dir=Path("."))
    (problem,) = [p for p in caught.value.problems if p.code == "shadowed-caller-rule"]
    assert problem.location.line == 14
    assert "'+44*' of rule 'callers[3]' (line 11) comes first" in problem.message


def test_an_item_an_earlier_rule_catches_is_a_warning() -> None:
    text = FILE.replace('from: ["+44*"]', 'from: ["+44*", "+19005550000"]')
    loaded = load_menu_text(text, filename="menus.yaml", base_dir=Path("."))
    (warning,) = [w for w in loaded.warnings if w.code == "shadowed-caller"]
    assert "'+19005550000' in caller rule 'callers[3]' never matches" in warning.message
    assert "'+1900*' of rule 'blocked'" in warning.message


def test_a_menu_only_a_rule_leads_to_is_reached() -> None:
    text = FILE.replace('"*": top}', '"*": top}\n  far: {greeting: far, options: {"1": hangup}}')
    text = text.replace("    menu: other\n    say", "    menu: far\n    say")
    _, problems = load(text)
    assert not [p for p in problems if p.code == "unreachable"]


def test_a_blocked_caller_hears_the_goodbye_and_no_menu() -> None:
    sim = call("+19005550123")
    notes = list(sim.notes())
    assert isinstance(notes[0], CallerMatched) and notes[0].rule == "blocked"
    assert not [n for n in notes if isinstance(n, MenuEntered)]
    assert sim.hangup is EndReason.HANGUP
    assert sim.last_play().prompts[0].text == "Sorry. Goodbye."


def test_a_rule_transfers_at_once() -> None:
    sim = call("15105550111")
    assert [e.target for e in sim.seen if isinstance(e, TransferTo)] == ["tel:+15105550100"]
    assert sim.hangup is EndReason.TRANSFERRED
    assert sim.nav.menu is None


def test_a_rule_transfer_failing_goes_to_its_policy() -> None:
    busy = call("+15105550111", "486")
    entered = [n for n in busy.notes() if isinstance(n, MenuEntered)]
    assert [(n.menu, n.how) for n in entered] == [("other", EnteredBy.GOTO)]
    repeat = call("+15105550111", "408")  # repeat: the dialled number's entry menu starts
    entered = [n for n in repeat.notes() if isinstance(n, MenuEntered)]
    assert [(n.menu, n.how) for n in entered] == [("main", EnteredBy.START)]
    assert repeat.nav.state is CallState.WAITING


def test_a_rule_starts_the_call_in_its_menu_after_its_message() -> None:
    sim = call("+442071234567")
    entered = [n for n in sim.notes() if isinstance(n, MenuEntered)]
    assert [(n.menu, n.how, n.dialled) for n in entered] == [
        ("other", EnteredBy.CALLER, "+15105550150")
    ]
    first = [e for e in sim.seen if hasattr(e, "prompts")][0]
    assert [p.text for p in first.prompts] == ["Hello from afar.", "Other."]  # type: ignore[attr-defined]


@pytest.mark.parametrize("caller", ["anonymous", "", "restricted"])
def test_a_withheld_caller(caller: str) -> None:
    entered = [n for n in call(caller).notes() if isinstance(n, MenuEntered)]
    assert entered[0].menu == "other"


def test_no_caller_to_judge_matches_no_rule() -> None:
    entered = [n for n in call(None).notes() if isinstance(n, MenuEntered)]
    assert entered[0].menu == "main"


def test_other_callers_start_at_the_dialled_numbers_entry() -> None:
    sim = call("+15105550123")
    assert not [n for n in sim.notes() if isinstance(n, CallerMatched)]
    assert sim.nav.menu == "main"


HOURS = """\
version: 1
destinations:
  operator: "tel:+15105550100"
schedules:
  office: {timezone: America/Los_Angeles, hours: {mon-fri: "09:00-17:00"}}
numbers:
  default: {menu: main, schedule: office, closed: closed}
callers:
  - {name: withheld, from: anonymous, transfer: operator, schedule: office, closed: late}
  - {name: spanish, from: "+52*", menu: main}
menus:
  main: {greeting: "Main.", options: {"1": {transfer: operator}}}
  closed: {greeting: "Closed.", options: {"#": hangup}}
  late: {greeting: "Late.", options: {"1": {menu: message}, "#": hangup}}
  message: {greeting: "Leave a message.", options: {"#": hangup}}
"""
OPEN = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles, a Tuesday
NIGHT = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 23:00


def started(caller: str, at: datetime) -> tuple[str | None, bool]:
    """The first menu entered and whether the call was transferred at once."""
    menu_file = load_menu_text(HOURS, filename="menus.yaml", base_dir=Path(".")).menu_file
    effects = SimulatedCall(menu_file).start("+15105550150", at, caller)
    entered = [e.menu for e in effects if isinstance(e, MenuEntered)]
    return (entered[0] if entered else None), any(isinstance(e, TransferTo) for e in effects)


def test_a_rule_with_opening_hours_follows_them() -> None:
    assert started("anonymous", OPEN) == (None, True)
    assert started("anonymous", NIGHT) == ("late", False)  # not put through when closed
    # `late`, reached only through the rule, is reached, and so is what it leads to
    assert load(HOURS)[1] == []


def test_a_rule_without_opening_hours_applies_at_every_hour() -> None:
    assert started("+525555550123", NIGHT) == ("main", False)


@pytest.mark.parametrize(
    ("hours", "message", "at"),
    [
        ("schedule: office, closed: lat}", "names menu 'lat', which does not exist", "lat}"),
        ("schedule: ofice, closed: late}", "names schedule 'ofice', which does not", "ofice"),
        ("closed: late}", "has a closed but no schedule", "closed"),
    ],
)
def test_a_rule_s_opening_hours_are_checked_at_their_column(
    hours: str, message: str, at: str
) -> None:
    broken = HOURS.replace("schedule: office, closed: late}", hours)
    _, problems = load(broken)
    [error] = [p for p in problems if p.severity is Severity.ERROR]
    assert message in error.message
    line = broken.splitlines()[error.location.line - 1]
    assert line.startswith("  - {name: withheld") and error.location.column == line.index(at) + 1
