"""Languages in the admin commands: `router simulate --language` and its transcript,
a test case's `language` and `expect: {language}`, the graph's switch options."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.admin.graph import build, dot
from router.admin.menutest import CaseResult, read_test_file, run_case
from router.cli import main
from router.core.loader import load_menu_text
from tests.core.test_languages import FILE, TOGGLE

AT = "2026-12-01T10:00Z"


def write(folder: Path, text: str = FILE) -> Path:
    (folder / "hola.wav").write_bytes(b"")  # never played: only named
    (folder / "menus.yaml").write_text(text)
    return folder / "menus.yaml"


def simulate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str, text: str = FILE
) -> list[str]:
    write(tmp_path, text)
    code = main(["simulate", str(tmp_path / "menus.yaml"), "--at", AT, *args])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, out
    return [line.split("s  ", 1)[-1] for line in out[1:]]


def test_the_transcript_says_the_language_and_its_voice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = simulate(capsys, tmp_path, "--keys", "92")
    assert lines[:4] == [
        "language en (voice en-us)",
        "menu main",
        'hears: "Main. Para español, oprima 9."',
        "presses 9",
    ]
    assert lines[4] == "language es (voice es)"
    assert lines[5] == f'hears: {tmp_path / "hola.wav"} + "Principal."'
    assert lines[7:9] == ["menu other", 'hears: "Otro."']


def test_a_prompt_in_another_language_is_marked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = simulate(capsys, tmp_path, "--language", "es", "--keys", "7")
    assert lines[0] == "language es (voice es)"
    assert "language en (voice en-us)" in lines and 'hears: "English." + "Other."' in lines


def test_an_undeclared_language_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["simulate", str(write(tmp_path)), "--language", "fr", "--at", AT])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1] == ("router simulate: --language fr is not one of the file's languages (en, es)")


def run_cases(tmp_path: Path, text: str, cases: str) -> list[CaseResult]:
    """`router test`'s results for `cases` (the lines under `cases:`) on the file `text`."""
    write(tmp_path, text)
    (tmp_path / "t.yaml").write_text(
        "menu_file: menus.yaml\ndefaults: {at: 2026-12-01T10:00:00-05:00}\ncases:\n" + cases
    )
    test_file, problems = read_test_file(str(tmp_path / "t.yaml"))
    assert test_file is not None and not problems
    menu_file = load_menu_text(text, filename="menus.yaml", base_dir=tmp_path).menu_file
    return [run_case(menu_file, case) for case in test_file.cases]


def test_router_test_starts_a_case_in_a_language_and_checks_the_call_s(tmp_path: Path) -> None:
    results = run_cases(
        tmp_path,
        FILE,
        "  - name: switch\n"
        "    keys: '91'\n"
        "    expect: {transfer: sales, hears: Ventas, language: es}\n"
        "  - {name: started, language: es, keys: '1', expect: {transfer: sales, voice: es}}\n"
        "  - {name: wrong, keys: '1', expect: {transfer: sales, language: es}}\n"
        "  - {name: unknown, language: fr, keys: '1', expect: {transfer: sales}}\n",
    )
    assert [r.passed for r in results] == [True, True, False, False]
    assert results[2].mismatches == ("expected the call in es, got en",)
    assert results[3].mismatches == (
        "language fr is not one of the menu file's languages (en, es)",
    )


def test_the_graph_labels_switch_options_and_a_number_s_language(tmp_path: Path) -> None:
    write(tmp_path)
    menu_file = load_menu_text(FILE, filename="menus.yaml", base_dir=tmp_path).menu_file
    graph = build(menu_file)
    labels = {edge.label for edge in graph.edges}
    assert {"9: es", "7: en"} <= labels
    assert any(node.label == ("+15105550151", "in es") for node in graph.nodes.values())


def test_a_toggle_in_the_transcript_the_test_and_the_graph(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = simulate(capsys, tmp_path, "--keys", "99", text=TOGGLE)
    chosen = [line for line in lines if line.startswith("language ")]
    assert chosen == [
        "language en (voice en-us)",
        "language es (voice es)",
        "language en (voice en-us)",
    ]
    results = run_cases(
        tmp_path,
        TOGGLE,
        "  - {name: there, keys: '91', expect: {transfer: sales, hears: Ventas, language: es}}\n"
        "  - {name: and back, language: es, keys: '91', expect: {transfer: sales, language: en}}\n",
    )
    assert [r.passed for r in results] == [True, True]
    menu_file = load_menu_text(TOGGLE, filename="menus.yaml", base_dir=tmp_path).menu_file
    labels = {edge.label for edge in build(menu_file).edges}
    assert {"9: en→es, es→en", "2: es→en"} <= labels


def test_a_line_s_box_names_its_language_and_voice_and_meeting_labels_point_at_their_arrow(
    tmp_path: Path,
) -> None:
    lines = FILE.replace(
        "default: main", 'default: main\n  "+15105550152": {menu: solo, language: es}'
    ).replace(
        "menus:\n", "menus:\n  solo: {greeting: {en: Solo., es: Solo.}, options: {'#': hangup}}\n"
    )
    write(tmp_path)
    menu_file = load_menu_text(lines, filename="menus.yaml", base_dir=tmp_path).menu_file
    drawn = dot(build(menu_file, lines=True))
    assert "(es, voice es)" in drawn and "voice en-us)" in drawn
    meeting = [line for line in drawn.splitlines() if 'label="on limit' in line]
    assert meeting and all("decorate=true" in line for line in meeting)
