"""`router graph`: what the picture says (as edges between labels), and each format."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from router.admin.graph import (
    Dialled,
    Edge,
    Extension,
    Extensions,
    Failed,
    Graph,
    Hours,
    NodeKind,
    OnLimit,
    Pressed,
    build,
    dot,
    mermaid,
)
from router.admin.graph import command as graphs
from router.cli import main
from router.core.errors import Location, Problem
from router.core.events import Limit
from router.core.keys import Key
from router.core.loader import load_menu_file
from router.core.model import Entry, FailureKind, MenuFile
from router.core.values import number_key_problem

HAS_DOT = shutil.which("dot") is not None


def edges(graph: Graph) -> set[tuple[str, str, str, bool]]:
    """(from, label, to, dashed), nodes named by their label's lines joined."""
    names = {node.id: " ".join(node.label) for node in graph.nodes.values()}
    return {(names[e.source], e.label, names[e.target], e.dashed) for e in graph.edges}


OPERATOR = "operator tel:+15550000000"
SALES = "sales sip:sales@pbx.example.com"


@pytest.mark.parametrize(
    "edge",
    [
        # roots: numbers, then opening hours
        ("default", "", "main", False),
        ("+15551110000", "", "support", False),
        ("+15552220000", "", "office Europe/Paris", False),
        ("office Europe/Paris", "open", "main", False),
        ("office Europe/Paris", "closed", "closed", False),
        # keys
        ("main", "1", SALES, False),
        ("main", "2", "support", False),
        ("main", "0", OPERATOR, False),
        ("main", "7: say", "main", False),
        ("main", "*: repeat", "main", False),
        ("main", "8", "hang up", False),
        ("main", "9", "hang up", False),
        ("support", "*: back", "main", False),
        ("support", "#: top", "main", False),
        ("support", "#: top", "closed", False),
        ("faq", "3", "lab", False),
        ("lab", "*: back", "faq", False),
        # dial by extension
        ("main", "extension", "extensions staff", False),
        ("extensions staff", "4xxx", "sip:{ext}@pbx.example.com", False),
        ("extensions staff", "500-549", "sip:{ext}@pbx.example.com", False),
        ("extensions staff", "50", "front tel:+15550000050", False),
        ("faq", "extension", "extensions lab", False),
        # fallbacks, dashed
        ("main", "on limit", OPERATOR, True),
        ("support", "on limit", "hang up", True),
        ("faq", "on limit: back", "support", True),
        ("lab", "on limit: top", "main", True),
        (SALES, "failed: repeat", "main", True),
        (OPERATOR, "busy: say", "main", True),
        (OPERATOR, "no answer", OPERATOR, True),
        (OPERATOR, "rejected", "support", True),
        (OPERATOR, "error", "hang up", True),
    ],
    ids=lambda e: f"{e[0]} -{e[1]}-> {e[2]}",
)
def test_edge(menu_file: MenuFile, edge: tuple[str, str, str, bool]) -> None:
    assert edge in edges(build(menu_file))


def test_each_edge_says_why_a_caller_goes_along_it(menu_file: MenuFile) -> None:
    """The cause, typed, beside the words drawn: what `router report` counts on."""
    graph = build(menu_file)
    names = {node.id: " ".join(node.label) for node in graph.nodes.values()}
    causes = {(names[e.source], e.label, names[e.target]): e.cause for e in graph.edges}
    assert causes["default", "", "main"] == Dialled("default")
    office = Dialled("+15552220000")
    assert causes["+15552220000", "", "office Europe/Paris"] == office
    assert causes["office Europe/Paris", "open", "main"] == Hours(True, office)
    assert causes["office Europe/Paris", "closed", "closed"] == Hours(False, office)
    assert causes["main", "1", SALES] == Pressed(Key.D1)
    assert causes["support", "*: back", "main"] == Pressed(Key.STAR)
    assert causes["lab", "on limit: top", "main"] == OnLimit((Limit.INVALID, Limit.NO_INPUT))
    assert causes["main", "extension", "extensions staff"] == Extensions()
    assert causes["extensions staff", "500-549", "sip:{ext}@pbx.example.com"] == Extension(
        "500-549"
    )
    assert causes[OPERATOR, "busy: say", "main"] == Failed((FailureKind.BUSY,))
    assert causes[SALES, "failed: repeat", "main"] == Failed(tuple(FailureKind))
    clinic = build(load_menu_file(CLINIC).menu_file, failures=False)
    limits = {e.cause for e in clinic.edges if e.label.startswith("on limit (")}
    assert limits == {OnLimit((Limit.INVALID,)), OnLimit((Limit.NO_INPUT,))}


def test_each_node_has_its_kind_and_name(menu_file: MenuFile) -> None:
    drawn = {(node.kind, node.name) for node in build(menu_file).nodes.values()}
    assert {
        (NodeKind.ENTRY, "default"),
        (NodeKind.SCHEDULE, "office"),
        (NodeKind.MENU, "main"),
        (NodeKind.DIRECTORY, "staff"),
        (NodeKind.TARGET, "operator"),  # a destination: by its name
        (NodeKind.TARGET, "sip:{ext}@pbx.example.com"),  # inline: by its URI
        (NodeKind.HANGUP, ""),
    } <= drawn
    # written out as before: the trial page's graph JSON and the keys (`menu:main`)
    assert [str(kind) for kind in NodeKind] == [
        "entry",
        "schedule",
        "menu",
        "directory",
        "target",
        "hangup",
    ]


def test_every_kind_of_node_has_a_shape() -> None:
    graph = Graph()
    for kind in NodeKind:
        graph.node(str(kind), (kind.value,), kind, kind.value)
    assert dot(graph).count("shape=") == len(NodeKind)
    assert mermaid(graph).count("\n    n") == len(NodeKind)


def test_no_edge_to_nowhere(menu_file: MenuFile) -> None:
    graph = build(menu_file)
    ids = {node.id for node in graph.nodes.values()}
    assert all(e.source in ids and e.target in ids for e in graph.edges)
    assert len(graph.edges) == len(set(graph.edges))
    # `back` from support leads only to menus that lead to it on purpose
    backs = {to for frm, label, to, _ in edges(graph) if frm == "support" and "back" in label}
    assert backs == {"main", "lab"}


def test_mermaid(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "menus.yaml", "--format", "mermaid"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert '[/"default"/]' in out and '{"office<br/>Europe/Paris"}' in out
    assert '(("hang up"))' in out
    assert any(line.endswith('-.->|"on limit"| ' + line.split()[-1]) for line in lines)
    assert '|"#35;: top"|' in out  # `#` starts an entity in Mermaid: written as one


def test_mermaid_is_the_default(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph"]) == 0
    assert capsys.readouterr().out.startswith("flowchart LR\n")
    assert loader.paths == ["menus.yaml"]


def test_dot(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "menus.yaml", "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph menus {\n") and out.endswith("}\n")
    assert 'label="on limit", decorate=true, style=dashed]' in out  # several meet at hang-up
    assert '[label="office\\nEurope/Paris", shape=diamond]' in out
    if HAS_DOT:
        done = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_quoting() -> None:
    graph = Graph()
    a = graph.node("a", ('say "hi"', "back\\slash"), NodeKind.MENU, "a")
    b = graph.node("b", ("<b>#1</b>",), NodeKind.TARGET, "b")
    graph.edge(Edge(a, b, '"x"', dashed=True, cause=Pressed(Key.D1)))
    assert 'n0 [label="say \\"hi\\"\\nback\\\\slash"' in dot(graph)
    text = mermaid(graph)
    assert 'n0["say #quot;hi#quot;<br/>back\\slash"]' in text
    assert 'n1(["#lt;b#gt;#35;1#lt;/b#gt;"])' in text
    assert 'n0 -.->|"#quot;x#quot;"| n1' in text
    if HAS_DOT:
        assert (
            subprocess.run(
                ["dot", "-Tsvg"], input=dot(graph), capture_output=True, text=True
            ).returncode
            == 0
        )


def test_svg(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert HAS_DOT, "Graphviz is not installed: run `python -m router.stack.install`"
    assert main(["graph", "menus.yaml", "--format", "svg"]) == 0
    out = capsys.readouterr().out
    assert "<svg" in out and "operator" in out


def test_svg_without_graphviz(
    loader: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["graph", "menus.yaml", "--format", "svg"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "router graph: svg needs Graphviz's `dot`, which is not installed "
        "(apt-get install graphviz, or use --format dot or mermaid)."
    )


def test_file_errors(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    loader.problems = [Problem(Location("menus.yaml", 4, 9), "unknown menu 'sals'")]
    assert main(["graph", "menus.yaml"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "menus.yaml:4:9: error: unknown menu 'sals'" in captured.err


def test_with_the_real_loader(menus_yaml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", str(menus_yaml), "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert '[label="extensions\\nstaff", shape=folder]' in out
    assert 'label="4xxx"]' in out


def test_bad_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["graph", "--format", "pdf"])
    assert "invalid choice: 'pdf'" in capsys.readouterr().err


# --- one number, one voice, failures on request, -o --------------------------------------

OFFICE = "+15552220000"
SUPPORT_LINE = "+15551110000"
CLINIC = Path(__file__).resolve().parents[1] / "core" / "clinic" / "menus.yaml"


def names(graph: Graph) -> set[str]:
    return {" ".join(node.label) for node in graph.nodes.values()}


def menus(graph: Graph) -> set[str]:
    return {key.removeprefix("menu:") for key in graph.nodes if key.startswith("menu:")}


def test_one_number_draws_what_its_callers_reach(menu_file: MenuFile) -> None:
    graph = build(menu_file, numbers=[SUPPORT_LINE])
    assert menus(graph) == {"support", "faq", "lab"}
    assert {k for k in graph.nodes if k.startswith("entry:")} == {f"entry:{SUPPORT_LINE}"}
    drawn = edges(graph)
    # `back` and `top` lead only to menus of this line: not to main, which it never enters
    assert {to for frm, label, to, _ in drawn if frm == "support" and "back" in label} == {"lab"}
    assert {to for frm, label, to, _ in drawn if "top" in label} == {"support"}
    assert OPERATOR in names(graph)  # after a failed transfer to the desk (no answer) ...
    assert OPERATOR not in names(build(menu_file, numbers=[SUPPORT_LINE], failures=False))
    office = build(menu_file, numbers=[OFFICE])
    assert menus(office) == {"main", "closed", "support", "faq", "lab"}
    assert "default" not in names(office)


def test_every_number_top_leads_to_its_own_first_menus(menu_file: MenuFile) -> None:
    drawn = edges(build(menu_file))
    # lab is reached from every number: `top` may lead to each first menu
    assert {to for frm, label, to, _ in drawn if frm == "lab" and "top" in label} == {
        "main",
        "closed",
        "support",
    }


def test_failures_only_on_request(menu_file: MenuFile) -> None:
    kinds = ("busy", "no answer", "rejected", "error", "failed")
    without = edges(build(menu_file, failures=False))
    assert not any(any(k in label for k in kinds) for _, label, _, _ in without)
    assert not any(frm in (SALES, OPERATOR) for frm, _, _, _ in without)
    assert ("main", "on limit", OPERATOR, True) in without  # limits stay
    with_them = edges(build(menu_file, failures=True))
    assert (OPERATOR, "busy: say", "main", True) in with_them
    assert (SALES, "failed: repeat", "main", True) in with_them


def test_a_menu_reached_only_after_a_failed_transfer(menu_file: MenuFile) -> None:
    """A number whose only menu is `closed`: its voicemail refused leads to support."""
    only = replace(menu_file, entries={"default": Entry("default", "closed")})
    assert menus(build(only, numbers=["default"], failures=False)) == {"closed"}
    assert menus(build(only, numbers=["default"], failures=True)) == {
        "closed",
        "support",
        "faq",
        "lab",
    }


def test_wrong_keys_and_silence_drawn_apart() -> None:
    graph = build(load_menu_file(CLINIC).menu_file, failures=False)
    drawn = edges(graph)
    assert ("closed", "on limit (wrong keys)", "front_desk tel:+15105550110", True) in drawn
    assert ("closed", "on limit (silence)", "hang up", True) in drawn


def test_a_box_per_line(menu_file: MenuFile) -> None:
    graph = build(menu_file, failures=False, lines=True)
    ids = {node.id: key for key, node in graph.nodes.items()}
    boxes = {label: {ids[i] for i in members} for label, members in graph.clusters}
    assert boxes == {
        f"{SUPPORT_LINE}, {OFFICE}, default": {
            f"entry:{SUPPORT_LINE}",
            "menu:support",
            "menu:faq",
            "menu:lab",
        },
        f"{OFFICE}, default": {
            "entry:default",
            f"entry:{OFFICE}",
            f"schedule:{OFFICE}",
            "menu:main",
        },
        OFFICE: {"menu:closed"},
    }
    text = dot(graph)
    assert text.count("subgraph cluster_") == 3
    assert mermaid(graph).count("    subgraph line") == 3
    assert build(menu_file, numbers=[OFFICE], lines=True).clusters == []  # one line: no box
    assert build(menu_file).clusters == []  # only when asked


def test_the_two_language_clinic() -> None:
    clinic = load_menu_file(CLINIC).menu_file
    spanish = build(clinic, numbers=["+15105550151"], failures=False)
    assert menus(spanish) == {"principal", "facturacion", "cerrado"}
    english = build(clinic, numbers=["default"], failures=False)
    assert menus(english) == {"main", "billing", "closed"}
    both = build(clinic, failures=False, lines=True)
    assert {label for label, _ in both.clusters} == {"+15105550151 (voice es-419)", "default"}
    assert not any("busy" in e.label or "failed" in e.label for e in both.edges)
    if HAS_DOT:  # readable: no wider than a screen or two (5,300 px with failures, before)
        svg = subprocess.run(["dot", "-Tsvg"], input=dot(spanish), capture_output=True, text=True)
        width = float(svg.stdout.split('width="', 1)[1].split("pt", 1)[0])
        assert width < 1600


def test_cli_number(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--number", SUPPORT_LINE, "--format", "dot"]) == 0
    captured = capsys.readouterr()
    assert "support" in captured.out and '"main"' not in captured.out
    assert "busy" not in captured.out and captured.err == ""
    assert main(["graph", "--number", "default", "--failures", "--format", "dot"]) == 0
    assert "busy" in capsys.readouterr().out


@pytest.mark.parametrize(
    "number", ["510-555-0151", "(510) 555-0151", "tel:+15105550151", "+05105550151"]
)
def test_cli_number_not_e164(loader: Any, capsys: pytest.CaptureFixture[str], number: str) -> None:
    with pytest.raises(SystemExit):
        main(["graph", "--number", number])
    err = capsys.readouterr().err
    finding = number_key_problem(number)  # as `router check` says it
    assert finding is not None and f"{finding.message}: {finding.hint}" in err


def test_cli_number_not_in_the_file(loader: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--number", "+15551110001", "--format", "dot"]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "router graph: +15551110001 is not one of the numbers in the file: calls to it start "
        f"as the 'default' entry says, which is drawn (did you mean {SUPPORT_LINE}?)"
    )
    assert '[label="default", shape=cds]' in captured.out


def test_cli_voice(loader: Any, capsys: pytest.CaptureFixture[str], menu_file: MenuFile) -> None:
    support = replace(menu_file.menus["support"], voice="es-419")
    loader.menu_file = replace(menu_file, menus={**menu_file.menus, "support": support})
    assert main(["graph", "--voice", "es", "--format", "dot"]) == 0
    out = capsys.readouterr().out
    assert f'"{SUPPORT_LINE}"' in out and '"default"' not in out
    assert main(["graph", "--language", "en", "--format", "dot"]) == 0  # the router's voice
    out = capsys.readouterr().out
    assert f'"{SUPPORT_LINE}"' not in out and '"default"' in out and f'"{OFFICE}"' in out
    assert main(["graph", "--voice", "fr"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "router graph: no number's first menu speaks 'fr' (the numbers speak the router's "
        f"voice: default, {OFFICE}; es-419: {SUPPORT_LINE})"
    )


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """What `-o` writes, by path, without touching the disk."""
    files: dict[str, bytes] = {}
    monkeypatch.setattr(graphs, "_write", files.__setitem__)
    return files


@pytest.mark.parametrize(
    ("name", "starts"),
    [
        ("menus.dot", b"digraph menus {"),
        ("menus.gv", b"digraph menus {"),
        ("menus.mmd", b"flowchart LR"),
        ("Menus.MERMAID", b"flowchart LR"),
        ("menus.svg", b"<?xml"),
        ("menus.png", b"\x89PNG"),
    ],
)
def test_output_format_from_the_extension(
    loader: Any,
    capsys: pytest.CaptureFixture[str],
    written: dict[str, bytes],
    name: str,
    starts: bytes,
) -> None:
    if name.endswith((".svg", ".png")):
        assert HAS_DOT, "Graphviz is not installed: run `python -m router.stack.install`"
    assert main(["graph", "-o", name]) == 0
    assert written[name].startswith(starts)
    assert capsys.readouterr().out == ""


def test_format_wins_over_the_extension(loader: Any, written: dict[str, bytes]) -> None:
    assert main(["graph", "-o", "menus.svg", "--format", "mermaid"]) == 0
    assert written["menus.svg"].startswith(b"flowchart LR")


def test_unknown_extension(
    loader: Any, capsys: pytest.CaptureFixture[str], written: dict[str, bytes]
) -> None:
    assert main(["graph", "-o", "menus.pdf"]) == 2
    assert capsys.readouterr().err == (
        "router graph: cannot tell the format from 'menus.pdf': end its name in .svg, .png, "
        ".dot, .gv, .mmd or .mermaid, or give --format.\n"
    )
    assert written == {}


def test_a_file_that_cannot_be_written(
    loader: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: str, data: bytes) -> None:
        raise FileNotFoundError(2, "No such file or directory", path)

    monkeypatch.setattr(graphs, "_write", refuse)
    assert main(["graph", "-o", "nowhere/menus.dot"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "router graph: No such file or directory: nowhere/menus.dot\n"


def test_two_destinations_with_the_same_number_are_drawn_apart(tmp_path: Path) -> None:
    """One destination per language, both dialling the on-call phone: each is its box
    (the plumbing trial: the French line's key 1 was drawn going to the English one)."""
    text = """\
version: 1
destinations:
  oncall: {to: "tel:+15145550190", say: "Connecting you to our technician."}
  garde: {to: "tel:+15145550190", say: "Nous vous transférons au technicien."}
numbers:
  "+15145550100": {menu: main}
  default: {menu: principal}
menus:
  main:
    greeting: "Press 1 for the technician."
    options: {"1": {transfer: oncall}}
  principal:
    voice: fr
    greeting: "Faites le 1 pour le technicien."
    options: {"1": {transfer: garde}}
"""
    menus = tmp_path / "menus.yaml"
    menus.write_text(text)
    drawn = dot(build(load_menu_file(menus).menu_file))
    assert "oncall" in drawn and "garde" in drawn
    assert drawn.count("tel:+15145550190") == 2
