"""`router test`: expected call paths run through the navigator, via the CLI entry point.

The bundled `menus.test.yaml` must pass against the bundled `menus.yaml` and reach
every menu, option, extension and destination of it; the rest pins the report
(PASS/FAIL, the path, coverage), the exit status, and FILE:LINE:COL errors for
mistakes in the test file itself.
"""

from __future__ import annotations

import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.hostile_files import HOSTILE_TEST_FILES, count_calls
from router.admin.menutest import (
    Case,
    Coverage,
    Expectation,
    WantedTransfer,
    read_test_file,
    run_case,
)
from router.admin.simulate import ScriptedTransfer
from router.cli import main
from router.core.errors import Location, MenuFileError
from router.core.events import EndReason
from router.core.loader import MAX_BYTES, load_menu_file, source

ROOT = Path(__file__).resolve().parents[2]
NOON = "2026-12-01T12:00:00-05:00"


def run_test(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    code = main(["test", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def write(tmp_path: Path, text: str, name: str = "menus.test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def menus(tmp_path: Path) -> Path:
    """The bundled menu file, copied beside the test files the tests write."""
    target = tmp_path / "menus.yaml"
    target.write_bytes((ROOT / "menus.yaml").read_bytes())
    return target


# --- the bundled test file ---------------------------------------------------------------


def test_bundled_test_file_passes_and_covers_everything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_test(capsys, str(ROOT / "menus.test.yaml"))
    assert code == 0, "\n".join(out + err)
    assert err == []
    summary = [line for line in out if re.fullmatch(r"\d+ passed, \d+ failed", line)]
    assert summary and summary[0].endswith(" 0 failed")
    assert not any(line.startswith("FAIL") for line in out)
    coverage = out[out.index(next(line for line in out if line.startswith("coverage:"))) :]
    assert coverage == ["coverage: menus 5/5, options 23/23, extensions 4/4, destinations 5/5"], (
        coverage
    )


def test_every_case_reports_its_path(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_test(capsys, str(ROOT / "menus.test.yaml"))
    i = out.index("PASS  support, back to the main menu, then billing")
    assert out[i + 1] == (
        "      path: main 2 > support * > main 3 > transfer billing <tel:+15105550103> (ok)"
    )
    i = out.index("PASS  a fourth transfer in one call is refused by the router's cap")
    assert out[i + 1].endswith("0 (limit: transfers) > hangup (transfer_limit)")


def test_default_test_file_is_menus_test_yaml_here(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, menus: Path
) -> None:
    write(
        tmp_path,
        f"""\
        cases:
          - name: sales
            at: {NOON}
            keys: "1"
            expect: {{transfer: sales}}
        """,
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_test(capsys)
    assert code == 0
    assert out[0].startswith("menus.test.yaml: 1 cases for ")
    assert out[1:3] == [
        "PASS  sales",
        "      path: main 1 > transfer sales <sip:sales@pbx.example.com> (ok)",
    ]


# --- failures ------------------------------------------------------------------------------


def test_a_failing_case_says_where_what_and_the_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    path = write(
        tmp_path,
        f"""\
        defaults: {{at: {NOON}}}
        cases:
          - name: passes
            keys: "0"
            expect: {{transfer: "tel:+15105550100"}}
          - name: wrong place
            keys: "21"
            expect: {{transfer: billing, menus: [main]}}
          - name: wrong ending
            keys: "0"
            transfer_results: "486,486,486"
            expect: {{hangup: key_limit}}
        """,
    )
    code, out, _ = run_test(capsys, str(path))
    assert code == 1
    assert out[1:3] == [
        "PASS  passes",
        "      path: main 0 > transfer operator <tel:+15105550100> (ok)",
    ]
    assert out[3:7] == [
        f"FAIL  {path}:6:5: wrong place",
        "      expected transfer billing <tel:+15105550103>, "
        "got transfer support_desk <sip:support@pbx.example.com;transport=tcp>",
        "      expected menus main, got main > support",
        "      path: main 2 > support 1 > transfer support_desk "
        "<sip:support@pbx.example.com;transport=tcp> (ok)",
    ]
    assert out[7:9] == [
        f"FAIL  {path}:9:5: wrong ending",
        "      expected hangup (key_limit), got hangup (transfer_limit)",
    ]
    assert "1 passed, 2 failed" in out


def test_transcript_shows_the_simulated_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    path = write(
        tmp_path,
        f"""\
        cases:
          - {{name: goodbye, at: {NOON}, keys: "#", expect: hangup}}
        """,
    )
    code, out, _ = run_test(capsys, str(path), "--transcript")
    assert code == 0
    transcript = [line for line in out if line.startswith("      | ")]
    # the plain form `router simulate` prints: what the caller hears and presses
    assert any(
        'hears (to the end): "Thank you for calling Acme. Goodbye."' in t for t in transcript
    )
    assert not any("timer" in t for t in transcript)
    assert transcript[-1] == "      | hangup"
    code, out, _ = run_test(capsys, str(path), "--transcript", "-v")  # -v: the bookkeeping too
    transcript = [line for line in out if line.startswith("      | ")]
    assert any('plays to the end: "Thank you for calling Acme. Goodbye."' in t for t in transcript)
    assert any("timer call_limit armed" in t for t in transcript)
    code, out, _ = run_test(capsys, str(path), "-q")
    assert code == 0
    assert not any(line.startswith(("PASS", "      ")) for line in out)  # -q: failures only


def test_menus_option_tests_another_menu_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(
        menus.read_text().replace('"1": {transfer: sales}', '"1": {transfer: billing}')
    )
    path = write(
        tmp_path,
        f"""\
        cases:
          - {{name: sales, at: {NOON}, keys: "1", expect: {{transfer: sales}}}}
        """,
    )
    assert run_test(capsys, str(path))[0] == 0
    code, out, _ = run_test(capsys, str(path), "--menus", str(other))
    assert code == 1
    assert (
        "      expected transfer sales <sip:sales@pbx.example.com>, "
        "got transfer billing <tel:+15105550103>" in out
    )


# --- coverage ------------------------------------------------------------------------------


def test_coverage_names_what_no_case_reaches(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    path = write(
        tmp_path,
        f"""\
        defaults: {{at: {NOON}}}
        cases:
          - {{name: support, keys: "2*", expect: {{transfer: operator}}}}
          - {{name: alice, keys: "5001", expect: {{transfer: "sip:alice@pbx.example.com"}}}}
        """,
    )
    code, out, _ = run_test(capsys, str(path))
    assert code == 0
    start = out.index(next(line for line in out if line.startswith("coverage:")))
    assert out[start] == "coverage: menus 2/5, options 2/23, extensions 1/4, destinations 1/5"
    gaps = [line.strip() for line in out[start + 1 :]]
    assert "menus.yaml:153:3: menu 'technical' is never entered" in [g.split("/")[-1] for g in gaps]
    assert any(g.endswith("option '3' of menu 'main' is never pressed") for g in gaps)
    assert any(g.endswith("option '1' of menu 'support' is never pressed") for g in gaps)
    # options of menus never entered are not listed one by one: the menu line says it
    assert not any("of menu 'technical'" in g for g in gaps)
    assert any(g.endswith("extension '6xxx' of directory 'staff' is never dialled") for g in gaps)
    assert not any("'5001'" in g for g in gaps)
    assert any(g.endswith("destination 'voicemail' is never transferred to") for g in gaps)
    for gap in gaps:
        assert re.match(r".*menus\.yaml:\d+:\d+: ", gap), gap


AMBIGUOUS = """\
version: 1
destinations: {operator: "tel:+15105550100"}
directories:
  staff:
    "20": "sip:front@pbx.example.com"
    "2xx": "sip:{ext}@pbx.example.com"
    "3": "sip:three@pbx.example.com"
menus:
  main:
    greeting: "Dial an extension, or 0."
    directory: staff
    options:
      "0": {transfer: operator}
      "*": repeat
"""


@pytest.mark.parametrize(
    ("keys", "target", "option", "extension"),
    [
        ("20#", "sip:front@pbx.example.com", None, "20"),
        ("20.", "sip:front@pbx.example.com", None, "20"),
        ("205", "sip:205@pbx.example.com", None, "2xx"),
        ("3", "sip:three@pbx.example.com", None, "3"),
        ("2*0", "tel:+15105550100", "0", None),  # `*` gives up the entry and acts itself
        ("0", "tel:+15105550100", "0", None),
        ("29.0", "tel:+15105550100", "0", None),  # an unfinished entry is invalid
    ],
)
def test_coverage_tells_options_from_extensions(
    tmp_path: Path, keys: str, target: str, option: str | None, extension: str | None
) -> None:
    (tmp_path / "menus.yaml").write_text(AMBIGUOUS)
    menu_file = load_menu_file(tmp_path / "menus.yaml").menu_file
    coverage = Coverage()
    case = Case(
        "c",
        None,
        datetime(2026, 1, 1, tzinfo=UTC),
        keys,
        (ScriptedTransfer(True),),
        Expectation(transfer=WantedTransfer.of(target)),
        Location("t.yaml"),
    )
    result = run_case(menu_file, case, coverage)
    assert result.passed, result.mismatches
    from router.core.keys import Key

    assert coverage.options - {("main", Key.STAR)} == ({("main", Key(option))} if option else set())
    assert coverage.extensions == ({("staff", extension)} if extension else set())


def test_the_reader_tells_a_destination_from_a_uri_once(tmp_path: Path, menus: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        defaults: {{at: {NOON}}}
        cases:
          - {{name: a, keys: "2*", expect: {{transfer: operator}}}}
          - {{name: b, keys: "5001", expect: {{transfer: "sip:alice@pbx.example.com"}}}}
          - {{name: c, keys: "0", expect: {{transfer: "tel:+15105550100"}}}}
        """,
    )
    test_file, problems = read_test_file(str(path))
    assert test_file is not None, problems
    assert [case.expect.transfer for case in test_file.cases] == [
        WantedTransfer("operator", is_uri=False),
        WantedTransfer("sip:alice@pbx.example.com", is_uri=True),
        WantedTransfer("tel:+15105550100", is_uri=True),
    ]


# --- mistakes in the test file -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cases: []\n", ["1:8: 'cases' should be a list of calls"]),
        ("menu_file: menus.yaml\n", ["1:1: the test file has no 'cases'"]),
        (
            "casse: []\n",
            ["1:1: unknown key 'casse' in the test file (did you mean 'cases'?)", "1:1: the test"],
        ),
        (
            f"cases:\n  - name: a\n    time: {NOON}\n    expect: hangup\n",
            ["2:5: case 'a' has no 'at'", "3:5: unknown key 'time' in a case (did you mean 'at'?)"],
        ),
        (
            "defaults: {at: 2026-12-01T12:00}\ncases:\n  - {name: a, expect: hangup}\n"
            "  - {name: b, expect: hangup}\n",
            ["1:16: '2026-12-01T12:00' has no time zone"],  # once, not once per case
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, keys: 1x2, expect: hangup}}\n",
            ["2:52: not keypad keys: x"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, number: 555-0150, expect: hangup}}\n",
            ["2:54: '555-0150' is not a dialled number"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, transfer_results: [486, busy], expect: hangup}}\n",
            ["2:70: not a transfer result: 'busy'"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, expect: {{hangup: never}}}}\n",
            ["2:63: 'never' is not a way a call ends"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, expect: {{transfer: sales, hangup: true}}}}\n",
            ["2:54: case 'a' expects both a transfer and a hangup"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, expect: bye}}\n",
            ["2:54: the expectation of case 'a' should be 'hangup' or a mapping"],
        ),
        (
            f"cases:\n  - {{name: a, at: {NOON}, expect: hangup}}\n"
            f"  - {{name: a, at: {NOON}, expect: hangup}}\n",
            ["3:5: two cases are named 'a' (first at line 2)"],
        ),
        (f"cases:\n  - {{at: {NOON}, expect: hangup}}\n", ["2:5: this case has no 'name'"]),
        ('cases:\n  - name: "a\n', ["3:1: YAML syntax: found unexpected end of stream"]),
        ("cases:\n  - keys: *1\n", ["2:11: the alias *1 has no anchor &1 before it"]),
    ],
)
def test_mistakes_are_reported_at_file_line_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path, text: str, expected: list[str]
) -> None:
    path = write(tmp_path, text)
    code, out, err = run_test(capsys, str(path))
    assert code == 1 and out == []
    errors = [line.removeprefix(f"{path}:") for line in err[:-1]]
    assert len(errors) == len(expected), err
    for got, want in zip(errors, expected, strict=True):
        assert got.replace("error: ", "").startswith(want), (got, want)
    assert err[-1] == f"router test: {path} cannot be used"


FIELD = Path(__file__).resolve().parents[1] / "core" / "field"


def test_pound_as_a_comment_in_a_test_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # the field report: `keys: #` pressed nothing, and the case passed through silence
    path = FIELD / "22.test.yaml"
    code, out, err = run_test(capsys, str(path))
    assert code == 1 and out == []
    assert err[0] == (
        f"{path}:6:10: error: the keys of case 'after hours, pound hangs up' are empty: "
        'an unquoted # starts a YAML comment (quote the keys, e.g. keys: "#"; for a call '
        'without keys, write keys: "")'
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("keys: #", "are empty: an unquoted # starts a YAML comment"),
        ("keys:", "are empty"),
        ("keys: null", "are empty"),
        ("keys: ~", "are empty"),
        ("keys: 1 #", "stop before '#'"),
        ("keys: 5001 #", "stop before '#'"),
        ("keys: 1 ## ", "stop before '##'"),
    ],
)
def test_empty_or_cut_keys_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path, keys: str, expected: str
) -> None:
    path = write(tmp_path, f"cases:\n  - name: a\n    at: {NOON}\n    {keys}\n    expect: hangup\n")
    code, _, err = run_test(capsys, str(path))
    assert code == 1 and expected in err[0] and err[0].startswith(f"{path}:4:"), err


@pytest.mark.parametrize(
    "keys", ['keys: ""', "", 'keys: "#"', "keys: 1  # the sales line", 'keys: "1" #']
)
def test_explicit_silence_and_real_comments_are_fine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path, keys: str
) -> None:
    path = write(
        tmp_path,
        f"cases:\n  - name: a\n    at: 2026-12-01T23:00:00-05:00\n    {keys}\n    expect: hangup\n",
    )
    code, out, err = run_test(capsys, str(path))
    assert err == [] and out[1].startswith(("PASS", "FAIL")), (out, err)  # the file is usable


# --- whole test files refused, with every mistake at its line ---------------------------


@pytest.mark.parametrize(
    ("menu_file", "text", "expected"),
    [
        pytest.param(
            "menus.yaml",
            f"""\
            cases:
              - name: a
                at: {NOON}
                expect: {{transfer: sale, menus: [main, suport]}}
            """,
            [
                "<path>:4:24: error: there is no destination named 'sale' in <menus> "
                "(did you mean 'sales'?)",
                "<path>:4:44: error: there is no menu named 'suport' in <menus> "
                "(did you mean 'support'?)",
                "router test: 2 error(s) in <path>",
            ],
            id="names are checked against the menu file",
        ),
        pytest.param(
            "menus.yaml",
            f"""\
            defaults: {{at: {NOON}}}
            cases:
              - name: a
                expect: {{hangup: true, ringing_timeout: 25s}}
              - name: b
                expect: {{hangup: true, hear: Goodbye}}
              - name: c
                keys: "1"
                expect: {{transfer: sales, ringing_timeout: soon}}
            """,
            [
                "<path>:4:45: error: ringing_timeout in the expectation of case 'a' checks the "
                "transfer's settings, but the case expects no transfer "
                "(expect: {transfer: NAME, ringing_timeout: ...})",
                "<path>:6:28: error: unknown key 'hear' in the expectation of case 'b' "
                "(did you mean 'hears'?)",
                "<path>:9:48: error: ringing_timeout of case 'c' is not a duration (e.g. 25s)",
            ],
            id="settings expectations need a transfer and keep their suggestions",
        ),
        pytest.param(
            "tests/core/clinic/menus.yaml",
            """\
            cases:
              - {name: winter, at: 2026-12-01T10:00:00, expect: hangup}
              - {name: summer, number: "+15105550151", at: 2026-07-01T10:00:00, expect: hangup}
            """,
            [
                "<path>:2:24: error: '2026-12-01T10:00:00' has no time zone (add the offset of "
                "the call's place: 2026-12-01T10:00:00-08:00 is that time in "
                "America/Los_Angeles, the time zone of the menu file's schedule; or Z for UTC)",
                "<path>:3:48: error: '2026-07-01T10:00:00' has no time zone (add the offset of "
                "the call's place: 2026-07-01T10:00:00-07:00 is that time in "
                "America/Los_Angeles, the time zone of the menu file's schedule; or Z for UTC)",
            ],
            id="a time without offset is given the schedule's offset on that date",
        ),
    ],
)
def test_a_refused_test_file_says_each_mistake(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    menu_file: str,
    text: str,
    expected: list[str],
) -> None:
    """The first lines on stderr, `<path>` and `<menus>` standing for the two files."""
    menus = tmp_path / "menus.yaml"
    menus.write_bytes((ROOT / menu_file).read_bytes())
    path = write(tmp_path, text)
    code, out, err = run_test(capsys, str(path))
    assert code == 1 and out == []
    wanted = [line.replace("<path>", str(path)).replace("<menus>", str(menus)) for line in expected]
    assert err[: len(wanted)] == wanted


def test_errors_in_the_menu_file_are_reported_as_router_check_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "broken.yaml").write_text("version: 1\nmenus:\n  main:\n    greting: hi\n")
    path = write(
        tmp_path, f"menu_file: broken.yaml\ncases: [{{name: a, at: {NOON}, expect: hangup}}]\n"
    )
    code, _, err = run_test(capsys, str(path))
    assert code == 1
    assert err[0].endswith(
        "broken.yaml:4:5: error: unknown key 'greting' in menu 'main' (did you mean 'greeting'?)"
    )


@pytest.mark.parametrize("kind", list(HOSTILE_TEST_FILES))
def test_hostile_test_files_are_refused_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Refused with one sentence, after little work: counted, not timed (the times are
    in bench/hostile_files.py). The reader stops where the file goes wrong (no
    walk of 100,000 nested lists, no expansion of aliases) and reads at most one byte
    past the size limit (a file over it, not at all)."""
    make, message = HOSTILE_TEST_FILES[kind]
    path = tmp_path / "evil.test.yaml"
    path.write_bytes(make())
    opened: list[str] = []
    read: list[int] = []

    class Counted:
        """The file the reader opens, its reads counted."""

        def __init__(self, file: str, mode: str = "r") -> None:
            opened.append(file)
            self.file = open(file, mode)  # noqa: SIM115 - closed in __exit__

        def __enter__(self) -> Counted:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def fileno(self) -> int:
            return self.file.fileno()

        def read(self, size: int = -1) -> bytes | str:
            data: bytes | str = self.file.read(size)
            read.append(len(data))
            return data

    # the test file is opened by the menu file's reading layer, shared by both files
    monkeypatch.setattr(source, "open", Counted, raising=False)
    calls, (test_file, problems) = count_calls(lambda: read_test_file(str(path)))
    assert test_file is None and len(problems) == 1
    assert message in problems[0].message
    assert opened == [str(path)] and sum(read) <= MAX_BYTES + 1
    # a valid file of 1,000 cases takes about 62,000 calls; each of these under 500
    assert calls < 1_000, f"{kind}: {calls} Python calls"


def test_an_oversized_test_file_is_refused_as_an_oversized_menu_file_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One size limit and one sentence for both files (router.core.loader.source), each
    naming its kind; an endless file (a device) is read only as far as the limit."""
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(MenuFileError) as refused:
        load_menu_file(big)
    menu_problem = refused.value.problems[0].message
    code, _, err = run_test(capsys, str(big))
    assert code == 1
    assert err[0] == (
        f"{big}:1:1: error: the file is 1,000,001 bytes; test files are limited to "
        "1,000,000 bytes (is this the right file?)"
    )
    assert menu_problem == "the file is 1,000,001 bytes; menu files are limited to 1,000,000 bytes"
    calls, (test_file, problems) = count_calls(lambda: read_test_file("/dev/zero"))
    assert test_file is None
    assert [p.message for p in problems] == [
        "the file is over 1,000,000 bytes; test files are limited to 1,000,000 bytes"
    ]
    assert calls < 1_000, f"{calls} Python calls"


def test_unreadable_test_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_test(capsys, str(tmp_path / "missing.yaml"))
    assert code == 1
    assert (
        err[0]
        == f"{tmp_path}/missing.yaml:1:1: error: cannot read the file: No such file or directory"
    )


def test_run_case_compares_hangup_reasons(menus: Path) -> None:
    menu_file = load_menu_file(menus).menu_file
    at = datetime.fromisoformat(NOON)
    case = Case(
        "busy",
        None,
        at,
        "0000",
        (ScriptedTransfer(False, 486),),
        Expectation(hangup=True, reason=EndReason.TRANSFER_LIMIT, menus=("main",)),
        Location("t.yaml", 1, 1),
    )
    result = run_case(menu_file, case)
    assert result.passed and result.got == "hangup (transfer_limit)" and result.menus == ("main",)
    other = Case(case.name, None, at, "#", case.results, Expectation(hangup=True), case.loc)
    assert run_case(menu_file, other).got == "hangup"


def test_every_problem_of_a_test_file_at_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    """A missing time zone does not hide the name typos behind it (issue 19)."""
    path = write(
        tmp_path,
        """\
        cases:
          - name: sales
            at: 2026-12-01T10:00:00
            keys: "1"
            expect: {transfer: salse, menus: [mian]}
        """,
    )
    code, _, err = run_test(capsys, str(path))
    assert code == 1
    assert "has no time zone" in err[0]
    assert "there is no destination named 'salse'" in err[1] and "'sales'?" in err[1]
    assert "there is no menu named 'mian'" in err[2] and "'main'?" in err[2]


def test_failures_name_destinations_beside_uris(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    path = write(
        tmp_path,
        f"""\
        defaults: {{at: {NOON}}}
        cases:
          - {{name: wrong, keys: "3", expect: {{transfer: "tel:+15105550100"}}}}
        """,
    )
    code, out, _ = run_test(capsys, str(path))
    assert code == 1
    assert (
        "      expected transfer operator <tel:+15105550100>, "
        "got transfer billing <tel:+15105550103>"
    ) in out


# --- what the path cannot show: the transfer's settings, what is heard (issue 19) ---------


def test_expectations_about_settings_and_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, menus: Path
) -> None:
    path = write(
        tmp_path,
        f"""\
        defaults: {{at: {NOON}}}
        cases:
          - name: sales, as sent
            keys: "1"
            expect:
              transfer: sales
              ringing_timeout: 20s
              play_dialtone: true
              headers: {{X-Department: sales, x-routed-by: menu-router}}
              hears: "Connecting you to sales"
              voice: en-us
          - name: spanish sales
            number: "+15105550151"
            keys: "1"
            expect: {{transfer: sales, hears: [Gracias, "le comunicamos"], voice: es}}
          - name: sales, wrongly expected
            keys: "1"
            expect:
              transfer: sales
              ringing_timeout: 25s
              headers: {{X-Department: support, X-Source: ivr}}
              hears: "Conectando"
              voice: fr
        """,
    )
    code, out, err = run_test(capsys, str(path))
    assert code == 1 and err == []
    assert out[1] == "PASS  sales, as sent" and out[3] == "PASS  spanish sales"
    assert out[5:12] == [
        f"FAIL  {path}:16:5: sales, wrongly expected",
        "      expected ringing_timeout 25s, got 20s",
        "      expected header X-Department: support, got X-Department: sales",
        "      expected header X-Source: ivr, got no X-Source "
        "(sent: X-Routed-By: menu-router, X-Department: sales)",
        '      expected to hear "Conectando", but the caller heard: '
        '"Thank you for calling Acme. For sales, press 1...."; "Connecting you to sales."',
        '      expected every prompt in voice fr, but "Thank you for calling Acme. For sales, '
        'press 1...." was spoken in voice en-us (menu main)',
        "      path: main 1 > transfer sales <sip:sales@pbx.example.com> (ok)",
    ]


def test_a_comment_that_cuts_a_value_short_is_warned(tmp_path: Path, menus: Path) -> None:
    path = write(
        tmp_path,
        """\
        defaults:
          at: 2026-12-01T12:00:00-05:00      # a Tuesday: an ordinary comment
        cases:
          - name: billing then support (3 then # so it does not wait)
            keys: "3#"
            expect: {transfer: billing}
          - name: sales # the usual way
            keys: "1"
            expect: {transfer: sales}
        """,
    )
    test_file, problems = read_test_file(str(path))
    assert test_file is not None  # a warning: the file is used
    assert [str(p) for p in problems] == [
        f"{path}:4:40: warning: a comment cuts the name short: an unquoted # after a space "
        "starts a YAML comment, so it reads 'billing then support (3 then' (quote the whole "
        'value: name: "billing then support (3 then # so it does not wait)")'
    ]


@pytest.mark.parametrize("name", ["menus.test.yaml", "tests/core/clinic/menus.yaml"])
def test_ordinary_files_have_no_cut_values(name: str) -> None:
    from router.admin.menutest.comments import values_cut_by_comments
    from router.core.yamlsafe import compose

    text = (ROOT / name).read_text()
    root = compose(text, name).root
    assert root is not None
    assert list(values_cut_by_comments(root, text.splitlines(), name)) == []
