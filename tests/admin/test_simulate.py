"""`router simulate`, run through the CLI entry point with the sample menu file.

The menu file comes from a stand-in loader (conftest's `loader` fixture hands out the
sample built there), so these tests pin the simulator and its output, not the YAML
format.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from router.cli import main
from router.core.errors import Location, Problem, Severity
from router.core.values import number_key_problem

NOON = "2025-01-06T12:00:00+01:00"


def simulate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["simulate", "menus.yaml", "--at", NOON, *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


@pytest.mark.parametrize(
    ("args", "last"),
    [
        (["--keys", "1"], "transfer: sip:sales@pbx.example.com"),
        (["--keys", "0"], "transfer: tel:+15550000000"),
        (["--keys", "8"], "hangup"),
        (["--keys", "9"], "hangup"),
        (["--keys", "2*9"], "hangup"),
        (["--keys", "221"], "hangup"),  # a Say, then silence to the limit: back, and so on
        (["--keys", "4123"], "transfer: sip:4123@pbx.example.com"),
        (["--keys", "50#"], "transfer: tel:+15550000050"),
        (["--keys", "50."], "transfer: tel:+15550000050"),
        (["--keys", "507"], "transfer: sip:507@pbx.example.com"),
        (["--keys", "22 3 1 2"], "transfer: sip:lab312@pbx.example.com"),
        (["--keys", ""], "transfer: tel:+15550000000"),  # silence to the limit: the operator
        (["--keys", "666"], "transfer: tel:+15550000000"),  # invalid to the limit
        (["--keys", "0", "--transfer-result", "486"], "hangup"),  # busy until the cap
        (["--keys", "0", "--transfer-result", "486,ok"], "transfer: tel:+15550000000"),
        (["--keys", "0", "--transfer-result", "603", "--number", "+15551110000"], "hangup"),
        (["--keys", "1", "--number", "+15552220000"], "transfer: sip:sales@pbx.example.com"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_last_line(
    loader: Any, capsys: pytest.CaptureFixture[str], args: list[str], last: str
) -> None:
    code, lines, _ = simulate(capsys, *args)
    assert code == 0
    assert lines[-1] == last


def test_whole_printout(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = simulate(capsys, "-v", "--keys", "7.1", "--number", "+15552220000")
    assert code == 0 and err == ""
    assert lines == [
        "menus.yaml (version test): a call to +15552220000 at 2025-01-06T12:00:00+01:00",
        "     0.0s  timer call_limit armed, fires at 900.0s",
        "     0.0s  menu main (start +15552220000)",
        '     0.0s  plays: "Welcome. 1 sales, 2 support, 0 operator, or an extension."',
        "     0.0s  timer first_digit armed, fires at 5.0s",
        "     1.0s  key 7",
        "     1.0s  timer first_digit cancelled",
        '     1.0s  plays: "We are open nine to five." + "1 sales, 2 support, 0 operator."',
        "     1.0s  timer first_digit armed, fires at 6.0s",
        "     6.0s  time-out: first_digit",
        "     6.0s  no input",
        '     6.0s  plays: "Sorry, I did not hear a choice." + "1 sales, 2 support, 0 operator."',
        "     6.0s  timer first_digit armed, fires at 11.0s",
        "     7.0s  key 1",
        "     7.0s  timer first_digit cancelled",
        "     7.0s  transfer to sip:sales@pbx.example.com chosen (any announcement plays first)",
        '     7.0s  plays to the end: "Connecting you to sales."',
        "     7.0s  transfer to sip:sales@pbx.example.com (sales) requested: rings 30s",
        "     7.0s  transfer succeeded",
        "     7.0s  timer call_limit cancelled",
        "     7.0s  call ends: transferred",
        "transfer: sip:sales@pbx.example.com",
    ]


@pytest.mark.parametrize(
    ("at", "greeting"),
    [
        ("2025-01-06T12:00:00+01:00", "Welcome."),
        ("2025-01-06T23:00:00+01:00", "We are closed."),
        ("2025-01-06T22:30:00Z", "We are closed."),
        ("2025-12-25T12:00:00+01:00", "We are closed."),
    ],
    ids=["open", "night", "night-utc", "holiday"],
)
def test_number_and_time(
    loader: Any, capsys: pytest.CaptureFixture[str], at: str, greeting: str
) -> None:
    assert main(["simulate", "--number", "+15552220000", "--at", at, "--keys", "8"]) == 0
    out = capsys.readouterr().out
    assert f'hears: "{greeting}' in out


def test_keys_beyond_the_end_are_not_used(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = simulate(capsys, "--keys", "8123")
    assert code == 0 and lines[-1] == "hangup"
    assert not [line for line in lines if "key 1" in line]


def test_interactive(
    loader: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter(["2", "", "1z", "1"])
    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt="": next(typed))
    code, lines, _ = simulate(capsys)
    assert code == 0
    assert lines[-1] == "transfer: sip:desk@pbx.example.com"
    assert any("silence: no key in time" in line for line in lines)
    assert any("not keypad keys: z" in line for line in lines)


def test_interactive_end_of_input_lets_the_call_run(
    loader: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(sys, "stdin", _Terminal())
    monkeypatch.setattr("builtins.input", eof)
    code, lines, _ = simulate(capsys, "--keys", "2")
    assert code == 0 and lines[-1] == "hangup"  # support: silence to the limit, goodbye


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_default_path(
    loader: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["simulate", "--at", NOON, "--keys", "8"]) == 0
    monkeypatch.setenv("ROUTER_MENUS", "/etc/router/menus.yaml")
    assert main(["simulate", "--at", NOON, "--keys", "8"]) == 0
    assert loader.paths == ["menus.yaml", "/etc/router/menus.yaml"]


def test_file_errors(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    loader.problems = [
        Problem(Location("menus.yaml", 3, 5), "unknown menu 'sals'", hint="did you mean 'sales'?"),
        Problem(Location("menus.yaml", 9, 7), "key 1 twice"),
        Problem(Location("menus.yaml", 12, 1), "nothing reaches 'old'", Severity.WARNING),
    ]
    code, lines, err = simulate(capsys, "--keys", "1")
    assert code == 1 and lines == []
    assert err.splitlines() == [
        "menus.yaml:3:5: error: unknown menu 'sals' (did you mean 'sales'?)",
        "menus.yaml:9:7: error: key 1 twice",
        "menus.yaml:12:1: warning: nothing reaches 'old'",
        "router simulate: 2 error(s) in menus.yaml",
    ]


@pytest.mark.parametrize(
    ("keys", "last"),
    [
        ("1", "transfer: sip:sales@pbx.example.com"),
        ("2*0", "transfer: tel:+15550000000"),
        ("2#", "hangup"),
        ("41234", "transfer: sip:4123@pbx.example.com"),
        ("", "transfer: tel:+15550000000"),
    ],
)
def test_with_the_real_loader(
    menus_yaml: Path, capsys: pytest.CaptureFixture[str], keys: str, last: str
) -> None:
    assert main(["simulate", str(menus_yaml), "--at", NOON, "--keys", keys]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == last


def test_real_file_errors(menus_yaml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    menus_yaml.write_text(menus_yaml.read_text().replace("menu: support}", "menu: suport}"))
    assert main(["simulate", str(menus_yaml), "--at", NOON]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{menus_yaml}:18:" in captured.err and "did you mean 'support'" in captured.err
    assert captured.err.splitlines()[-1] == f"router simulate: 1 error(s) in {menus_yaml}"


def test_missing_file(menus_yaml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", str(menus_yaml.parent / "nope.yaml"), "--at", NOON])
    assert code == 1
    assert "nope.yaml" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--at", "2025-01-06T12:00"], "has no time zone"),
        (["--at", "noon"], "not an ISO-8601 time"),
        (["--keys", "12x"], "not keypad keys: x"),
        (["--transfer-result", "maybe"], "not a transfer result"),
        (["--transfer-result", "200,99"], "not a transfer result"),
    ],
)
def test_bad_arguments(
    loader: Any, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_plain_printout_is_what_the_caller_lives(
    loader: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, err = simulate(capsys, "--keys", "7.1", "--number", "+15552220000")
    assert code == 0 and err == ""
    assert lines[1:] == [
        "     0.0s  menu main",
        '     0.0s  hears: "Welcome. 1 sales, 2 support, 0 operator, or an extension."',
        "     1.0s  presses 7",
        '     1.0s  hears: "We are open nine to five." + "1 sales, 2 support, 0 operator."',
        "     6.0s  silence: no key in time",
        '     6.0s  hears: "Sorry, I did not hear a choice." + "1 sales, 2 support, 0 operator."',
        "     7.0s  presses 1",
        '     7.0s  hears (to the end): "Connecting you to sales."',
        "     7.0s  transfer to sales <sip:sales@pbx.example.com>",
        "     7.0s  transfer succeeded",
        "     7.0s  call ends: transferred",
        "transfer: sip:sales@pbx.example.com",
    ]


@pytest.mark.parametrize(
    "number",
    ["510-555-0151", "(510) 555-0151", "+1 510 555 0151", "5", "+05105550150", "+1510555015012345"],
)
def test_number_must_be_e164_as_in_menu_files(
    loader: Any, capsys: pytest.CaptureFixture[str], number: str
) -> None:
    """One E.164 rule: what `router check` refuses as a key of `numbers` (a country code
    starting with 0, more than 15 digits, punctuation), `--number` refuses in the same words."""
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "menus.yaml", "--at", NOON, "--number", number])
    assert exc.value.code == 2
    finding = number_key_problem(number)
    assert finding is not None and finding.message.endswith("is not a dialled number or 'default'")
    assert f"{finding.message}: {finding.hint}" in capsys.readouterr().err


def test_a_country_code_starting_with_0_is_named() -> None:
    finding = number_key_problem("+05105550150")
    assert finding is not None and finding.hint == (
        "a country code never starts with 0, e.g. +15105550100"
    )


@pytest.mark.parametrize("caller", ["+05105550123", "+1510*", "5105550123"])
def test_caller_rule_is_the_menu_files(
    loader: Any, capsys: pytest.CaptureFixture[str], caller: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "menus.yaml", "--at", NOON, "--caller", caller])
    assert exc.value.code == 2
    assert f"'{caller}' is " in capsys.readouterr().err


def test_a_number_that_falls_back_to_default_says_so(
    loader: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines, _ = simulate(capsys, "--keys", "1", "--number", "+15559999999")
    assert code == 0
    assert "+15559999999 is not one of the numbers in the file" in lines[1]
    code, lines, _ = simulate(capsys, "--keys", "1", "--number", "+15552220000")
    assert "not one of the numbers" not in "\n".join(lines)


def test_voice_is_shown_with_the_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        'version: 1\nmenus:\n  main:\n    voice: es\n    greeting: "Hola"\n'
        "    messages: {invalid: No, no_input: Nada, transfer_limit: Adiós}\n"
        "    on_limit: {hangup: Adiós}\n    options: {'0': hangup}\n"
    )
    assert main(["simulate", str(path), "--at", NOON, "--keys", "0"]) == 0
    assert "menu main (voice es)" in capsys.readouterr().out


def test_the_commands_details_and_the_debug_log_are_apart() -> None:
    """`simulate -v` shows the router's bookkeeping without debug log lines; `router -v`
    turns on the debug log (both were one `verbose` before: the trial admins saw log lines
    in their transcripts)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    base = ["menus.yaml", "--number", "+15105550150", "--at", "2026-12-01T10:00-05:00"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "router", *args],
            capture_output=True,
            text=True,
            cwd=root,
            timeout=60,
        )

    details = run("simulate", *base, "--keys", "1", "-v")
    assert "timer" in details.stdout and "rings 20s" in details.stdout
    assert "DEBUG" not in details.stderr
    debug = run("-v", "simulate", *base, "--keys", "1")
    assert "DEBUG router.navigator" in debug.stderr
    assert "timer" not in debug.stdout
