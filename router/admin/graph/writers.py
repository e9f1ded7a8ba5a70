"""The graph written as Mermaid (for Markdown) or Graphviz dot (for svg and png)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from router.admin.graph.nodes import Graph, NodeKind

__all__ = ["dot", "mermaid"]

_MERMAID_SHAPES: dict[NodeKind, tuple[str, str]] = {
    NodeKind.ENTRY: ('[/"', '"/]'),
    NodeKind.SCHEDULE: ('{"', '"}'),
    NodeKind.MENU: ('["', '"]'),
    NodeKind.DIRECTORY: ('[["', '"]]'),
    NodeKind.TARGET: ('(["', '"])'),
    NodeKind.HANGUP: ('(("', '"))'),
}


def _mermaid_text(text: str) -> str:
    return (
        text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for node in graph.nodes.values():
        opening, closing = _MERMAID_SHAPES[node.kind]
        label = "<br/>".join(_mermaid_text(part) for part in node.label)
        lines.append(f"    {node.id}{opening}{label}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    for i, (title, ids) in enumerate(graph.clusters):
        lines.append(f'    subgraph line{i} ["{_mermaid_text(title)}"]')
        lines += [f"        {node}" for node in ids]
        lines.append("    end")
    return "\n".join(lines) + "\n"


_DOT_SHAPES: dict[NodeKind, str] = {
    NodeKind.ENTRY: "shape=cds",
    NodeKind.SCHEDULE: "shape=diamond",
    NodeKind.MENU: 'shape=box, style="rounded,bold"',
    NodeKind.DIRECTORY: "shape=folder",
    NodeKind.TARGET: "shape=ellipse",
    NodeKind.HANGUP: "shape=doublecircle",
}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: Graph, annotations: Mapping[str, str] | None = None) -> str:
    """The graph in Graphviz syntax; `annotations` adds attributes (`penwidth=3, label="..."`,
    written last, so they win) to nodes by id (`n3`) and edges by index (`e4`: the
    `id` each edge gets, its place in `graph.edges`): how `router report` draws calls."""
    more = annotations or {}
    lines = [
        "digraph menus {",
        "    rankdir=LR;",
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica"];',
    ]
    for node in graph.nodes.values():
        label = _dot_text("\n".join(node.label)).replace("\n", "\\n")
        extra = f", {more[node.id]}" if node.id in more else ""
        lines.append(f"    {node.id} [label={label}, {_DOT_SHAPES[node.kind]}{extra}];")
    for i, (label, ids) in enumerate(graph.clusters):
        lines.append(f"    subgraph cluster_{i} {{")
        lines.append(
            f'        label={_dot_text(label)}; fontname="Helvetica"; style="rounded,dashed"; '
            "color=gray50;"
        )
        lines.append(f"        {'; '.join(ids)};")
        lines.append("    }")
    # where labelled arrows meet (every menu's "on limit" into one hang-up), dot sets each
    # label by the middle of its arrow, which can sit nearer a neighbour's: decorate=true
    # underlines the label and draws a line from it to its own arrow (Graphviz attrs docs)
    meeting = Counter(edge.target for edge in graph.edges if edge.label)
    for i, edge in enumerate(graph.edges):
        attrs = [f'id="e{i}"']
        if edge.label:
            attrs.append(f"label={_dot_text(edge.label)}")
            if meeting[edge.target] > 1:
                attrs.append("decorate=true")
        if edge.dashed:
            attrs.append("style=dashed")
        tail, head = edge.source, edge.target
        if edge.returns:  # laid out as the way in, arrow turned: the picture reads left to right
            tail, head = head, tail
            attrs.append("dir=back")
        if f"e{i}" in more:
            attrs.append(more[f"e{i}"])
        lines.append(f"    {tail} -> {head} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
