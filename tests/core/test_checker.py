"""The checker: every rule, on hand-built models and on files, and the corpus of broken files.

`tests/core/broken/NN-name.yaml` each come with `NN-name.expect`: one line per
problem the file must produce, `LINE:COL: severity: message (hint)`, in order and
nothing else, so a wrong line or column, a lost hint or an extra finding all fail.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.core.checker import check
from router.core.errors import Location, Problem, Severity
from router.core.extensions import _range_products
from router.core.keys import Key
from router.core.loader import load_menu_file, read_menu_text
from router.core.loops import _strongly_connected
from router.core.model import (
    Action,
    Back,
    Directory,
    DirectoryEntry,
    Entry,
    FailurePolicy,
    GoTo,
    Hangup,
    Menu,
    MenuFile,
    Prompt,
    Repeat,
    Say,
    Schedule,
    Top,
    Transfer,
)
from router.core.timezones import regions_for, timezone_problem, timezone_warning
from router.core.values import header_problem, sample_extension, target_problem

ROOT = Path(__file__).resolve().parents[2]
BROKEN = Path(__file__).resolve().parent / "broken"
CORPUS = sorted(BROKEN.glob("*.yaml"))


# --- the corpus -----------------------------------------------------------------------------


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 30
    for path in CORPUS:
        assert path.with_suffix(".expect").exists(), f"{path.name} has no .expect"


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_broken_file(path: Path) -> None:
    expected = [
        line
        for line in path.with_suffix(".expect").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    _, problems = read_menu_text(path.read_bytes(), filename=path.name, base_dir=BROKEN)
    found = [str(p).removeprefix(f"{path.name}:") for p in problems]
    assert found == expected
    assert any(p.severity is Severity.ERROR for p in problems) or all(
        line.split(": ", 2)[1] == "warning" for line in expected
    )


def test_the_shipped_example_is_clean() -> None:
    loaded = load_menu_file(ROOT / "menus.yaml")
    assert loaded.warnings == ()
    mf = loaded.menu_file
    assert {"main", "support", "after_hours"} <= set(mf.menus)
    assert list(mf.languages) == ["en", "es"]  # one tree in two languages, no copies
    assert mf.directories["staff"].entries and mf.schedules["office"].holidays
    assert set(mf.entries) >= {"default", "+15105550151"}


# --- value rules ------------------------------------------------------------------------------

GOOD_TARGETS = [
    "tel:+15105550100",
    "tel:+442071838750",
    "tel:+12345678",
    "tel:+123456789012345",
    "sip:alice@pbx.example.com",
    "sips:alice@pbx.example.com",
    "sip:+15105550100@trunk.example.com",
    "sip:alice@pbx.example.com:5061",
    "sip:alice@pbx.example.com;transport=tcp",
    "sip:alice@pbx.example.com:5060;transport=udp;lr",
    "sip:alice@192.0.2.10",
    "sip:alice@[2001:db8::1]:5060",
    "sip:first.last%20x@example.com",
]

BAD_TARGETS = [
    ("tel:15105550100", "needs a + and the country code"),
    ("tel:+1510555", "has 7 digits; an E.164 number has 8 to 15"),
    ("tel:+1234567890123456", "has 16 digits"),
    ("tel:+05105550100", "a country code never starts with 0"),
    ("tel:+1 510 555 0100", "has spaces or punctuation"),
    ("tel:+1510555010x", "only digits may follow tel:+"),
    ("tel:", "needs a + and the country code"),
    ("sip:pbx.example.com", "has no user part: the name or number before the @ is missing"),
    ("sip:@pbx.example.com", "has no user part"),
    ("sip:+15105550100", "has no host: the @ and the address of the PBX are missing"),
    ("sip:alice", "has no host"),
    ("sip:alice@", "has no host: the address of the PBX after the @ is missing"),
    ("sip:alice@;transport=tcp", "has no host"),
    ("sip://alice@pbx.example.com", "has // after sip:"),
    ("sip:alice@pbx.example.com;transport=udp;transport=tcp", "gives the parameter 'transport'"),
    ("sip:alice@pbx.example.com;lr;LR", "gives the parameter 'lr' twice"),
    ("sip:al ice@pbx.example.com", "contains spaces"),
    ("sip:alice@pbx.example.com?subject=hi", "carries URI headers"),
    ("sip:alice@pbx.example.com:0", "has port 0"),
    ("sip:alice@pbx.example.com:99999", "has port 99999"),
    ("sip:alice@-bad-.example.com", "is not a valid SIP URI"),
    ("http://example.com", "is not a tel: or sip: URI"),
]


@pytest.mark.parametrize(
    ("uri", "hint"),
    [
        # the hint shows the fixed value, never repeats the scheme or drops a part
        (
            "sip:+15105550100",
            "e.g. sip:+15105550100@pbx.example.com; or, to call the number "
            "itself, tel:+15105550100",
        ),
        (
            "sip:+15105550100;user=phone",
            "e.g. sip:+15105550100@pbx.example.com;user=phone; or, "
            "to call the number itself, tel:+15105550100",
        ),
        ("sip:pbx.example.com", "e.g. sip:sales@pbx.example.com"),
        ("sips:pbx.example.com:5061", "e.g. sips:sales@pbx.example.com:5061"),
        ("sip:alice@:5060", "e.g. sip:alice@pbx.example.com:5060"),
        ("sip:al ice@pbx.example.com", "write sip:alice@pbx.example.com"),
        (
            "sip:alice@pbx.example.com;transport=udp;transport=tcp",
            "keep one, e.g. sip:alice@pbx.example.com;transport=udp",
        ),
        (
            "sip:alice@pbx.example.com:5060;transport=udp;lr;Transport=tcp",
            "keep one, e.g. sip:alice@pbx.example.com:5060;transport=udp;lr",
        ),
    ],
)
def test_sip_hints_show_the_fixed_value(uri: str, hint: str) -> None:
    found = target_problem(uri)
    assert found is not None and found[1] == hint
    fixed = hint.split("e.g. ", 1)[-1].split(";  ")[0].split("; or")[0].removeprefix("write ")
    assert target_problem(fixed) is None, fixed


@pytest.mark.parametrize("uri", GOOD_TARGETS)
def test_good_targets(uri: str) -> None:
    assert target_problem(uri) is None


@pytest.mark.parametrize(("uri", "fragment"), BAD_TARGETS)
def test_bad_targets(uri: str, fragment: str) -> None:
    problem = target_problem(uri)
    assert problem is not None and fragment in problem[0]


def test_e164_hint_suggests_the_fix() -> None:
    assert target_problem("tel:15105550100") == (
        "'tel:15105550100' is not an E.164 number: it needs a + and the country code",
        "e.g. tel:+15105550100",
    )
    assert target_problem("tel:+1 (510) 555-0100") == (
        "'tel:+1 (510) 555-0100' has spaces or punctuation",
        "write only digits: tel:+15105550100",
    )


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("X-Department", "sales", None),
        ("x-lower-case", "ok", None),
        ("Department", "sales", "header name 'Department' is not allowed"),
        ("Contact", "<sip:evil@example.com>", "header name 'Contact' is not allowed"),
        ("X-", "v", "header name 'X-' is not allowed"),
        ("X-Two Words", "v", "header name 'X-Two Words' is not allowed"),
        ("X-Note", "one\r\nInjected: two", "contains a line break"),
        ("X-Note", "one\ntwo", "contains a line break"),
    ],
)
def test_headers(name: str, value: str, fragment: str | None) -> None:
    problem = header_problem(name, value)
    assert (
        (problem is None) if fragment is None else (problem is not None and fragment in problem[0])
    )


def test_time_zones() -> None:
    assert timezone_problem("America/New_York") is None
    assert timezone_problem("UTC") is None
    assert timezone_problem("Europe/Pariss") == (
        "unknown time zone 'Europe/Pariss'",
        "did you mean 'Europe/Paris'?",
    )
    problem = timezone_problem("../../etc/passwd")
    assert problem is not None and problem[0].startswith("unknown time zone")
    problem = timezone_problem("Nowhere")
    assert problem is not None and "IANA" in (problem[1] or "")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("PST", "did you mean America/Los_Angeles?"),
        ("pdt", "did you mean America/Los_Angeles?"),
        ("CEST", "did you mean Europe/Berlin or Europe/Paris?"),
        (
            "GMT+2",
            "did you mean Europe/Athens (UTC+2 in winter), Africa/Johannesburg (UTC+2 all year) "
            "or Europe/Berlin (UTC+2 in summer)?",
        ),
        (
            "UTC-5",
            "did you mean America/New_York (UTC-5 in winter), America/Bogota (UTC-5 all year) "
            "or America/Chicago (UTC-5 in summer)?",
        ),
        ("UTC+05:30", "did you mean Asia/Kolkata?"),
        ("-08:00", "did you mean America/Los_Angeles (UTC-8 in winter)"),
    ],
)
def test_abbreviations_and_offsets_are_refused_with_the_region(name: str, hint: str) -> None:
    problem = timezone_problem(name)
    assert problem is not None and problem[1] is not None
    assert "not a time zone name" in problem[0]
    assert problem[1].startswith(hint), problem[1]


@pytest.mark.parametrize(
    ("name", "offset", "hint"),
    [
        ("EST", "UTC-5", "did you mean America/New_York?"),
        ("MST", "UTC-7", "did you mean America/Denver (UTC-7 in winter) or America/Phoenix"),
        ("HST", "UTC-10", "did you mean Pacific/Honolulu?"),
        ("GMT", "UTC all year", "did you mean Europe/London or Europe/Dublin?"),
        # POSIX: Etc/GMT+5 is five hours *behind* UTC; the suggestion keeps UTC-5
        ("Etc/GMT+5", "UTC-5", "did you mean America/New_York (UTC-5 in winter)"),
        ("Etc/GMT-1", "UTC+1", "did you mean Europe/Berlin (UTC+1 in winter)"),
    ],
)
def test_fixed_zones_the_router_knows_are_a_warning(name: str, offset: str, hint: str) -> None:
    assert timezone_problem(name) is None  # they load: a warning, not an error
    warning = timezone_warning(name)
    assert warning is not None and warning[1] is not None
    assert offset in warning[0] and warning[1].startswith(hint), warning


@pytest.mark.parametrize("name", ["UTC", "Etc/UTC", "America/New_York", "CET", "EST5EDT"])
def test_zones_that_follow_the_clock_or_mean_utc_are_quiet(name: str) -> None:
    assert timezone_problem(name) is None and timezone_warning(name) is None


@given(st.integers(-12 * 4, 14 * 4), st.sampled_from(["UTC", "GMT", "", "Etc/GMT"]))
def test_a_suggestion_never_changes_the_offset_meant(quarters: int, spelling: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    minutes = quarters * 15
    meant = -minutes if spelling == "Etc/GMT" else minutes  # Etc/GMT+2 is UTC-2
    h, m = divmod(abs(minutes), 60)
    name = f"{spelling}{'+' if minutes >= 0 else '-'}{h}" + (f":{m:02d}" if m else "")
    if spelling == "Etc/GMT" and m:
        return  # Etc/ names are whole hours
    found = timezone_warning(name) or timezone_problem(name)
    assert found is not None and found[1] is not None
    for zone, _ in regions_for(meant):
        offsets = {
            datetime(2026, month, 15, 12, tzinfo=ZoneInfo(zone)).utcoffset() for month in (1, 7)
        }
        assert any(o is not None and o.total_seconds() == meant * 60 for o in offsets), zone
        assert zone in found[1]


def test_sample_extension() -> None:
    assert sample_extension("1xx") == "100"
    assert sample_extension("200-249") == "200"
    assert sample_extension("5001") == "5001"


# --- building models by hand --------------------------------------------------------------


def at(line: int, column: int = 3) -> Location:
    return Location("hand.yaml", line, column)


def menu(name: str, line: int, options: dict[str, Action], **kw: object) -> Menu:
    return Menu(
        name=name,
        greeting=Prompt("hello", loc=at(line + 1, 5)),
        prompt=Prompt("hello", loc=at(line + 1, 5)),
        options={Key(k): v for k, v in options.items()},
        loc=at(line),
        where={f"options.{k}": at(line + 2 + i, 7) for i, k in enumerate(options)},
        **kw,  # type: ignore[arg-type]
    )


OPERATOR = Transfer("tel:+15105550100", destination="operator", loc=at(2, 13))


def model(*menus: Menu, **kw: object) -> MenuFile:
    entries = kw.pop("entries", {"default": Entry("default", menus[0].name, loc=at(1))})
    return MenuFile(
        path="hand.yaml",
        version="0",
        menus={m.name: m for m in menus},
        entries=entries,  # type: ignore[arg-type]
        destinations=kw.pop("destinations", {"operator": OPERATOR}),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def findings(mf: MenuFile) -> list[tuple[str, int, str]]:
    return sorted((p.code, p.location.line, p.severity.value) for p in check(mf))


def test_a_good_model_has_no_findings() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("sub", loc=at(12, 19)), "0": OPERATOR}),
        menu("sub", 20, {"*": Back(loc=at(22, 12)), "#": Hangup(loc=at(23, 12))}),
    )
    assert check(mf) == []


def test_references_that_do_not_exist() -> None:
    mf = model(
        menu(
            "main",
            10,
            {
                "1": GoTo("suport", loc=at(12, 19)),
                "2": Transfer("", destination="slaes", loc=at(13, 23)),
                "0": OPERATOR,
            },
            directory="stuff",
            on_limit=GoTo("gone", loc=at(5, 13)),
        ),
        menu("support", 20, {"0": OPERATOR}),
        entries={
            "default": Entry(
                "default",
                "mian",
                "ofice",
                "closed",
                loc=at(1),
                where={"menu": at(1, 20), "schedule": at(1, 30)},
            )
        },
        destinations={"operator": OPERATOR, "sales": OPERATOR},
        schedules={"office": Schedule("office", "UTC", {})},
    )
    problems = {p.code: p for p in check(mf)}
    assert problems["unknown-menu"].severity is Severity.ERROR
    messages = sorted(p.message for p in check(mf))
    assert messages == [
        "menu 'main' uses directory 'stuff', which does not exist",
        "number 'default' names menu 'closed', which does not exist",
        "number 'default' names menu 'mian', which does not exist",
        "number 'default' names schedule 'ofice', which does not exist",
        "there is no destination named 'slaes'",
        "there is no menu named 'gone'",
        "there is no menu named 'suport'",
    ]
    hints = {p.message: p.hint for p in check(mf)}
    assert hints["there is no menu named 'suport'"] == "did you mean 'support'?"
    assert hints["there is no destination named 'slaes'"] == "did you mean 'sales'?"
    assert hints["number 'default' names schedule 'ofice', which does not exist"] == (
        "did you mean 'office'?"
    )


def test_inherited_actions_are_reported_once() -> None:
    shared = GoTo("gone", loc=at(3, 13))  # as from defaults: on_limit
    mf = model(
        menu("main", 10, {"1": GoTo("b", loc=at(12)), "0": OPERATOR}, on_limit=shared),
        menu("b", 20, {"0": OPERATOR}, on_limit=shared),
    )
    assert [p.message for p in check(mf)] == ["there is no menu named 'gone'"]


def test_unreachable_menus_are_warnings() -> None:
    mf = model(
        menu("main", 10, {"0": OPERATOR}),
        menu("island", 20, {"0": OPERATOR, "1": GoTo("island2", loc=at(22))}),
        menu("island2", 30, {"0": OPERATOR}),
    )
    assert findings(mf) == [("unreachable", 20, "warning"), ("unreachable", 30, "warning")]


def test_reachability_follows_limits_failures_closed_menus_and_directories() -> None:
    closed = menu("closed", 40, {"#": Hangup()})
    via_limit = menu("via_limit", 50, {"0": OPERATOR})
    via_failure = menu("via_failure", 60, {"0": OPERATOR})
    via_directory = menu("via_directory", 70, {"0": OPERATOR})
    from router.core.loader import BUILTIN_FAILURE_POLICY

    policy = BUILTIN_FAILURE_POLICY
    from dataclasses import replace

    failing = replace(OPERATOR, on_failure=replace(policy, busy=GoTo("via_failure")))
    staff = Directory(
        "staff",
        (
            DirectoryEntry(
                "5xx",
                Transfer(
                    "sip:{ext}@pbx.example.com",
                    on_failure=replace(policy, error=GoTo("via_directory")),
                ),
            ),
        ),
    )
    mf = model(
        menu("main", 10, {"0": failing}, on_limit=GoTo("via_limit"), directory="staff"),
        closed,
        via_limit,
        via_failure,
        via_directory,
        entries={"default": Entry("default", "main", "office", "closed")},
        schedules={"office": Schedule("office", "UTC", {})},
        directories={"staff": staff},
    )
    assert findings(mf) == []


def test_no_reachability_warnings_while_references_are_broken() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("suport"), "0": OPERATOR}), menu("support", 20, {"0": OPERATOR})
    )
    assert [p.code for p in check(mf)] == ["unknown-menu"]
    assert (
        check(
            model(menu("main", 10, {"0": OPERATOR}), menu("x", 20, {"0": OPERATOR})),
            incomplete=frozenset({"main"}),
        )
        == []
    )


# --- loops and dead ends --------------------------------------------------------------------


def test_loop_with_no_way_out() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("a"), "0": OPERATOR}),
        menu("a", 20, {"1": GoTo("b"), "9": Repeat()}),
        menu("b", 30, {"1": GoTo("a"), "8": Say(Prompt("hi"))}),
    )
    problems = check(mf)
    assert [(p.code, p.location.line) for p in problems] == [("no-way-out", 20)]
    assert problems[0].message == (
        "menus 'a', 'b' lead only to each other: no option transfers, hangs up or leads elsewhere"
    )


@pytest.mark.parametrize(
    ("exit_option", "stuck"),
    [
        (OPERATOR, False),
        (Hangup(), False),
        (GoTo("main"), False),
        (Back(), True),  # back from b returns to a, which entered it: still in the loop
        (Top(), False),  # top returns to main, which has the operator
        (Repeat(), True),
        (Say(Prompt("x")), True),
    ],
)
def test_what_counts_as_a_way_out(exit_option: Action, stuck: bool) -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("a"), "0": OPERATOR}),
        menu("a", 20, {"1": GoTo("b")}),
        menu("b", 30, {"1": GoTo("a"), "2": exit_option}),
    )
    assert [p.code for p in check(mf)] == (["no-way-out"] if stuck else [])


def test_back_is_no_way_out_of_the_entry_menus_loop() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("a"), "*": Back()}),
        menu("a", 20, {"1": GoTo("main"), "*": Back()}),
    )
    assert [(p.code, p.location.line) for p in check(mf)] == [("no-way-out", 10)]


def test_a_loop_closed_with_back_is_a_loop() -> None:
    # main -> info by `menu:`, info -> main by `back`: the same trap as {menu: main}
    mf = model(
        menu("main", 10, {"1": GoTo("info")}),
        menu("info", 20, {"*": Back()}),
    )
    problems = check(mf)
    assert [(p.code, p.location.line) for p in problems] == [("no-way-out", 10)]
    assert problems[0].message.startswith("menus 'main', 'info' lead only to each other")


@pytest.mark.parametrize(
    "closing",
    [
        {"*": Back()},
        {"*": Top()},
        {"*": GoTo("main")},
        {"*": Back(), "9": Repeat(), "8": Say(Prompt("x"))},
    ],
    ids=["back", "top", "menu", "back-repeat-say"],
)
def test_every_spelling_of_the_way_back_closes_the_loop(closing: dict[str, Action]) -> None:
    mf = model(menu("main", 10, {"1": GoTo("info")}), menu("info", 20, closing))
    assert [p.code for p in check(mf)] == ["no-way-out"]


def test_back_to_a_menu_with_a_way_out_is_fine() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("info"), "0": OPERATOR}), menu("info", 20, {"*": Back()})
    )
    assert check(mf) == []


def test_back_leads_out_when_some_menu_entering_it_is_outside_the_loop() -> None:
    # main -> a <-> b; b's back returns to a, a's back may return to main (outside)
    mf = model(
        menu("main", 10, {"1": GoTo("a"), "0": OPERATOR}),
        menu("a", 20, {"1": GoTo("b"), "*": Back()}),
        menu("b", 30, {"1": GoTo("a"), "*": Back()}),
    )
    assert check(mf) == []


def test_on_limit_and_failure_policy_edges_join_menus_but_are_no_way_out() -> None:
    # info's only option is repeat; its limit sends callers to main, which has the operator:
    # the limit joins info to main's loop, which the operator option leaves
    joined = model(
        menu("main", 10, {"1": GoTo("info"), "0": OPERATOR}),
        menu("info", 20, {"9": Repeat()}, on_limit=GoTo("main")),
    )
    assert check(joined) == []
    # a limit that transfers is what happens to a caller, not a choice: still a trap
    trapped = model(
        menu("main", 10, {"1": GoTo("info")}),
        menu("info", 20, {"*": Back()}, on_limit=OPERATOR),
    )
    assert [p.code for p in check(trapped)] == ["no-way-out"]
    # a failed transfer in on_limit that goes back to main: an edge, still no way out
    policy = FailurePolicy(*(GoTo("main"),) * 4)
    failing = Transfer("tel:+15105550100", on_failure=policy)
    loop = model(
        menu("main", 10, {"1": GoTo("info")}, on_limit=failing),
        menu("info", 20, {"*": Back()}),
    )
    assert [p.code for p in check(loop)] == ["no-way-out"]


def test_a_directory_is_a_way_out() -> None:
    staff = Directory("staff", (DirectoryEntry("5xx", Transfer("sip:{ext}@pbx.example.com")),))
    mf = model(menu("main", 10, {"9": Repeat()}, directory="staff"), directories={"staff": staff})
    assert check(mf) == []


def test_dead_end_menu() -> None:
    mf = model(
        menu("main", 10, {"1": GoTo("info"), "0": OPERATOR}), menu("info", 20, {"9": Repeat()})
    )
    problems = check(mf)
    assert [(p.code, p.location.line) for p in problems] == [("no-way-out", 20)]
    assert problems[0].message.startswith("menu 'info' has no way out")


def test_on_limit_that_stays_is_a_warning() -> None:
    mf = model(menu("main", 10, {"0": OPERATOR}, on_limit=Repeat(loc=at(4, 13))))
    assert findings(mf) == [("on-limit-stays", 4, "warning")]


def test_long_chains_do_not_overflow_the_stack() -> None:
    n = 20_000
    menus = [menu(f"m{i}", i * 10, {"1": GoTo(f"m{i + 1}"), "0": OPERATOR}) for i in range(n - 1)]
    menus.append(menu(f"m{n - 1}", n * 10, {"1": GoTo("m0")}))
    assert check(model(*menus)) == []


# --- directories ---------------------------------------------------------------------------


def directory(*patterns: str) -> Directory:
    return Directory(
        "staff",
        tuple(
            DirectoryEntry(p, Transfer("sip:{ext}@pbx.example.com"), at(100 + i, 5))
            for i, p in enumerate(patterns)
        ),
    )


def directory_findings(*patterns: str, options: str = "0#") -> list[tuple[str, int, str]]:
    mf = model(
        menu("main", 10, {k: OPERATOR for k in options}, directory="staff"),
        directories={"staff": directory(*patterns)},
    )
    return findings(mf)


def test_distinct_extensions_are_fine() -> None:
    assert (
        directory_findings("5001", "5002", "51xx", "520-529".replace("520-529", "5200-5299")) == []
    )


def test_option_key_shadowing_extensions() -> None:
    # a key that starts longer extensions works as in any PBX: it waits inter_digit
    wait = ("option-starts-extension", 12, "warning")
    assert directory_findings("1xx", options="10") == [wait]
    assert directory_findings("200-249", options="2*#") == [wait]
    assert directory_findings("300-349", options="2*#") == []
    assert directory_findings("x00", options="7*") == [wait]
    # a one-digit extension that is also an option can never be dialled
    assert directory_findings("5", options="5") == [("shadowed-extension", 12, "error")]


def test_shadowing_message() -> None:
    mf = model(
        menu("main", 10, {"1": OPERATOR}, directory="staff"),
        directories={"staff": directory("1xx")},
    )
    (problem,) = check(mf)
    assert str(problem) == (
        "hand.yaml:12:7: warning: key 1 in menu 'main' also starts extension '1xx' of "
        "directory 'staff' (line 100), so after 1 the router waits 3 s (inter_digit) for "
        "more digits before acting on it (1 then # acts at once; for a key that never "
        "waits, use a free key (2, 3, 4, 5, 6, 7, 8, 9, 0, *, #) or change the extensions)"
    )


def test_a_real_conflict_offers_the_free_keys() -> None:
    mf = model(
        menu("main", 10, {"2": OPERATOR, "0": OPERATOR, "*": OPERATOR}, directory="staff"),
        directories={"staff": directory("2", "3xx")},
    )
    (problem,) = check(mf)
    assert problem.severity is Severity.ERROR
    assert "the option always wins" in problem.message
    assert problem.hint == "use a free key (1, 4, 5, 6, 7, 8, 9, #), or change the extensions"


def test_extensions_that_start_longer_ones() -> None:
    assert directory_findings("20", "2xx") == [("extension-prefix", 100, "warning")]
    assert directory_findings("2xx", "20") == [("extension-prefix", 101, "warning")]
    assert directory_findings("5", "5000-5999") == [("extension-prefix", 100, "warning")]
    assert directory_findings("5", "6000-6999") == []
    assert directory_findings("1x", "200-299", "1999") == [("extension-prefix", 100, "warning")]


def test_covered_extensions() -> None:
    assert directory_findings("2xx", "201") == [("covered-extension", 101, "error")]
    assert directory_findings("201", "2xx") == []  # an exception above a pattern: fine
    assert directory_findings("200-299", "25x") == [("covered-extension", 101, "error")]
    assert directory_findings("200-249", "25x") == []
    assert directory_findings("x0x", "505", options="*#") == [("covered-extension", 101, "error")]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 999), st.integers(0, 999))
def test_range_products_are_exact(a: int, b: int) -> None:
    low, high = sorted((a, b))
    products = _range_products(f"{low:03d}", f"{high:03d}")
    covered = {
        int("".join(digits))
        for product in products
        for digits in itertools.product(
            *[[str(d) for d in range(10) if mask >> d & 1] for mask in product]
        )
    }
    assert covered == set(range(low, high + 1))
    assert len(products) <= 10 * 3


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(0, 7), st.lists(st.integers(0, 7), max_size=3), max_size=8))
def test_strongly_connected_components(edges: dict[int, list[int]]) -> None:
    nodes = {str(n) for n in edges} | {str(m) for ms in edges.values() for m in ms}
    graph = {n: [str(m) for m in edges.get(int(n), [])] for n in nodes}

    def reach(start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    expected = {frozenset(m for m in nodes if n in reach(m) and m in reach(n)) for n in nodes}
    found = [frozenset(c) for c in _strongly_connected(graph)]
    assert set(found) == expected and len(found) == len(expected)


# --- audio -----------------------------------------------------------------------------------


def test_missing_audio_files(tmp_path: Path) -> None:
    (tmp_path / "hello.wav").write_bytes(b"RIFF")
    text = textwrap.dedent(
        """\
        version: 1
        destinations:
          operator: {to: "tel:+15105550100", audio: hold.wav}
        defaults:
          messages: {invalid: {audio: sorry.wav}}
        menus:
          main:
            greeting: {audio: hello.wav}
            prompt: {say: "Press 0", audio: prompts/press0.wav}
            options:
              "0": {transfer: operator}
              "#": {hangup: {audio: bye.wav}}
          other:
            greeting: "x"
            options: {"0": {transfer: operator}, "*": back}
        numbers: {default: main, "+15105550150": other}
        """
    )
    menu_file, problems = read_menu_text(
        text, filename=str(tmp_path / "menus.yaml"), base_dir=tmp_path
    )
    assert [(p.location.line, p.message) for p in problems] == [
        (3, "audio file 'hold.wav' does not exist"),
        (5, "audio file 'sorry.wav' does not exist"),
        (9, "audio file 'prompts/press0.wav' does not exist"),
        (12, "audio file 'bye.wav' does not exist"),
    ]


# --- what the rules are for: a few whole files ----------------------------------------------


def test_checker_problems_carry_codes_and_severities() -> None:
    for path in CORPUS:
        _, problems = read_menu_text(path.read_bytes(), filename=path.name, base_dir=BROKEN)
        for problem in problems:
            assert isinstance(problem, Problem) and problem.code, (path.name, problem)
