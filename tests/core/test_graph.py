"""`router graph`: what the picture says (as edges between labels), and each format."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from router.admin.graph import Edge, Graph, build, dot, mermaid
from router.cli import main
from router.core.errors import Location, Problem
from router.core.model import MenuFile

pytestmark = pytest.mark.core

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
    assert '[label="on limit", style=dashed]' in out
    assert '[label="office\\nEurope/Paris", shape=diamond]' in out
    if HAS_DOT:
        done = subprocess.run(["dot", "-Tsvg"], input=out, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


def test_quoting() -> None:
    graph = Graph()
    a = graph.node("a", ('say "hi"', "back\\slash"), "menu")
    b = graph.node("b", ("<b>#1</b>",), "target")
    graph.edge(Edge(a, b, '"x"', dashed=True))
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
    assert '[label="4xxx"]' in out


def test_bad_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["graph", "--format", "png"])
    assert "invalid choice: 'png'" in capsys.readouterr().err
