"""Caller rules in the admin commands: `router simulate --caller` and test files' `caller`."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.admin.menutest import read_test_file, run_case
from router.cli import main
from router.core.loader import load_menu_text
from tests.core.test_caller_rules import FILE


def test_router_test_takes_the_caller(tmp_path: Path) -> None:
    (tmp_path / "menus.yaml").write_text(FILE)
    (tmp_path / "t.yaml").write_text(
        "menu_file: menus.yaml\n"
        "defaults: {at: 2026-12-01T10:00:00-05:00, caller: anonymous}\n"
        "cases:\n"
        "  - {name: withheld, keys: '1', expect: {transfer: operator, menus: [other]}}\n"
        "  - {name: blocked, caller: '+19005550000', expect: {hangup: hangup, menus: []}}\n"
        "  - {name: nobody, caller: null, keys: '1', expect: {transfer: operator, menus: [main]}}\n"
        "  - {name: bad, caller: '5105550000', expect: hangup}\n"
    )
    test_file, problems = read_test_file(str(tmp_path / "t.yaml"))
    assert [p.message for p in problems] == [
        "'5105550000' is not a caller's number in E.164 form or 'anonymous'"
    ]
    (tmp_path / "t.yaml").write_text(
        (tmp_path / "t.yaml")
        .read_text()
        .replace("  - {name: bad, caller: '5105550000', expect: hangup}\n", "")
    )
    test_file, problems = read_test_file(str(tmp_path / "t.yaml"))
    assert test_file is not None and not problems
    menu_file = load_menu_text(FILE, filename="menus.yaml", base_dir=tmp_path).menu_file
    results = [run_case(menu_file, case) for case in test_file.cases]
    assert [r.passed for r in results] == [True, True, True], [r.mismatches for r in results]


def test_simulate_takes_the_caller(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "menus.yaml").write_text(FILE)
    code = main(
        [
            "simulate",
            str(tmp_path / "menus.yaml"),
            "--caller",
            "+19005550000",
            "--at",
            "2026-12-01T10:00Z",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "caller rule blocked" in out and out.rstrip().endswith("hangup")
    with pytest.raises(SystemExit):
        main(["simulate", str(tmp_path / "menus.yaml"), "--caller", "5105550000"])


def test_the_graph_draws_caller_rules_when_it_draws_every_number() -> None:
    from router.admin.graph import build

    example = Path(__file__).resolve().parents[2] / "menus.yaml"
    menu_file = load_menu_text(
        example.read_text(), filename="menus.yaml", base_dir=example.parent
    ).menu_file
    graph = build(menu_file)
    labels = {node.id: node.label for node in graph.nodes.values()}
    drawn = {
        (labels[edge.source][1], edge.label, labels[edge.target][0])
        for edge in graph.edges
        if labels[edge.source][0] == "caller rule"
    }
    assert drawn == {
        ("blocked", "+1900*, +1976*", "hang up"),
        ("key_account", "+15105550111", "billing"),
        ("spanish_speaking", "+52*, +34*: as dialled", "default"),
        ("withheld", "anonymous", "office"),  # the rule's opening hours, then its transfer
    }
    hours = graph.nodes["schedule:caller:withheld"].id
    assert {(e.label, labels[e.target][0]) for e in graph.edges if e.source == hours} == {
        ("open", "operator"),
        ("closed", "after_hours"),
    }
    assert ("caller rule", "spanish_speaking", "in es") in labels.values()
    one_number = build(menu_file, numbers=["+15105550151"])
    assert not any(n.label[0] == "caller rule" for n in one_number.nodes.values())
