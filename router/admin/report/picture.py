"""The report as a picture: `router graph`'s menu graph with the calls drawn on it.

The graph is `router.admin.graph.build()` of the menu file, unchanged; this module only
annotates it through `graph.dot()`'s attributes by node and edge id: an edge's width and
label say how many calls took it, a menu's colour its drop-off share (green: nobody
gave up there; red: half the callers or more did), a destination's label its transfers
and how many connected. Graphviz's `dot` renders the SVG; the HTML page embeds it with
the report's tables, self-contained (no script, no font or style from elsewhere).
"""

from __future__ import annotations

import html
import shutil
import subprocess
import sys
from collections.abc import Sequence
from typing import assert_never

from router.admin.graph import (
    Dialled,
    Edge,
    Extension,
    Extensions,
    Failed,
    Graph,
    Hours,
    Matched,
    Node,
    NodeKind,
    OnLimit,
    Pressed,
    build,
    dot,
)
from router.admin.report.figures import Report
from router.core.model import MenuFile
from router.runtime.outcomes import TransferOutcome

__all__ = ["attributes", "page", "svg"]

WIDEST = 9.0
"""Pen width of the edge most calls took (the others in proportion, at least 1)."""


def _colour(drop_off: float) -> str:
    """Green at 0, through yellow, to red at 50 % and above (HSV for Graphviz)."""
    hue = 0.33 * (1.0 - min(1.0, drop_off / 0.5))
    return f'"{hue:.3f} 0.45 1.0"'


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def attributes(graph: Graph, report: Report) -> dict[str, str]:
    """Graphviz attributes by node and edge id, from the report's counts: the menus'
    keys and limits (each edge matched on its `Cause`), menus, and destinations."""
    extra: dict[str, str] = {}
    nodes = graph.by_id()
    counts: dict[int, int] = {}
    for i, edge in enumerate(graph.edges):
        n = _edge_calls(edge, nodes[edge.source], report)
        if n is not None:
            counts[i] = n
    top = max(counts.values(), default=0) or 1
    for i, edge in enumerate(graph.edges):
        n = counts.get(i)
        if n is None:
            continue
        width = 1.0 + (WIDEST - 1.0) * n / top if n else 0.6
        label = f"{edge.label}\n{n:,}" if edge.label else f"{n:,}"
        colour = "gray20" if n else "gray70"
        extra[f"e{i}"] = f"penwidth={width:.2f}, label={_q(label)}, color={colour}"
    for node in graph.nodes.values():
        match node.kind:
            case NodeKind.MENU:
                extra[node.id] = _menu(node.name, report)
            case NodeKind.TARGET:
                found = report.destination(node.name)
                if found is None:
                    continue
                ok = found.outcomes.get(TransferOutcome.SUCCEEDED, 0)
                share = ok / found.transfers if found.transfers else 0.0
                said = f"{found.transfers:,} transfers, {share:.0%} ok"
                text = "\n".join((*node.label, said))
                extra[node.id] = f"label={_q(text)}"
            case NodeKind.ENTRY | NodeKind.SCHEDULE:
                continue  # their calls are on their edges (`_starts`)
            case NodeKind.DIRECTORY | NodeKind.HANGUP:
                continue  # the records name neither the pattern matched nor the hang-up's way
            case _:
                assert_never(node.kind)
    return extra


def _menu(name: str, report: Report) -> str:
    """A menu's attributes: its calls and drop-off share, coloured by that share."""
    menu = report.menu(name)
    if menu is None:
        return f"label={_q(name + chr(10) + 'no calls')}, color=gray60"
    text = f"{name}\n{menu.calls:,} calls\n{menu.drop_off:.0%} gave up"
    return f'label={_q(text)}, style="rounded,bold,filled", fillcolor={_colour(menu.drop_off)}'


def _edge_calls(edge: Edge, source: Node, report: Report) -> int | None:
    """Calls that took the edge (`source`: the node it leaves), or None where the
    records cannot tell."""
    match edge.cause:
        case Pressed(key=key):  # from the menu whose option it is
            menu = report.menu(source.name)
            return 0 if menu is None else next((o.count for o in menu.options if o.key == key), 0)
        case OnLimit(limits=limits):  # from the menu whose limits they are
            menu = report.menu(source.name)
            return 0 if menu is None else sum(menu.limits.get(limit, 0) for limit in limits)
        case Dialled() | Hours() | Matched():
            return None  # by number dialled: `_starts`; the records name no caller rule
        case Extensions() | Extension() | Failed():
            return None  # the records name no pattern, nor the menu whose fallback ran
        case _:
            assert_never(edge.cause)


def _starts(graph: Graph, report: Report, menu_file: MenuFile, extra: dict[str, str]) -> None:
    """A number's edges to its first menus (through its hours or not): calls by number
    dialled and first menu. A caller rule's edges stay bare: the records count calls by
    the number dialled, whichever rule matched."""
    nodes = graph.by_id()
    known = set(menu_file.entries)
    for i, edge in enumerate(graph.edges):
        match edge.cause:
            case Dialled(number=number) | Hours(of=Dialled(number=number)):
                pass
            case _:
                continue
        head = nodes[edge.target]
        if head.kind is not NodeKind.MENU:
            continue  # entry -> hours: the hours' edges carry the counts
        n = sum(
            by_menu.get(head.name, 0)
            for dialled, by_menu in report.starts.items()
            if dialled == number or (number == "default" and dialled not in known)
        )
        label = f"{edge.label}\n{n:,}" if edge.label else f"{n:,}"
        width = 1.0 + min(WIDEST - 1.0, n / max(1, report.calls) * 8)
        extra[f"e{i}"] = f"penwidth={width:.2f}, label={_q(label)}"


def svg(report: Report, menu_file: MenuFile) -> str | None:
    """The annotated graph as SVG; None after saying on stderr why it cannot be drawn."""
    # failed transfers are in the tables: a destination's fallbacks differ by menu, and
    # the records do not say which menu's a failure took
    graph = build(menu_file, failures=False, lines=True)
    extra = attributes(graph, report)
    _starts(graph, report, menu_file, extra)
    program = shutil.which("dot")
    if program is None:
        print(
            "router report: the picture needs Graphviz's `dot`, which is not installed "
            "(apt-get install graphviz).",
            file=sys.stderr,
        )
        return None
    done = subprocess.run(
        [program, "-Tsvg"], input=dot(graph, extra).encode(), capture_output=True, check=False
    )
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()
        print(f"router report: dot failed: {error}", file=sys.stderr)
        return None
    return done.stdout.decode()


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.graph svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 0.9em; }
.gone { color: #a33; }
.bar { background: #5a8; height: 0.8em; display: inline-block; }
"""


def page(report: Report, picture: str | None) -> str:
    """A self-contained HTML page: the picture (if any) and every table of the report."""
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>router report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>How callers used the menus</h1>",
        f"<p>{report.calls:,} calls from {e(', '.join(report.files))}"
        + (
            f", {e(report.since or 'start')} to {e(report.until or 'end')}"
            if report.since or report.until
            else ""
        )
        + (f"; {report.damaged:,} damaged line(s) skipped" if report.damaged else "")
        + "</p>",
    ]
    if report.versions:
        versions: list[Sequence[str]] = [
            (
                v.version + (" (drawn)" if v.version == report.menu_file else ""),
                f"{v.calls:,}",
                v.first[:16],
                v.last[:16],
            )
            for v in report.versions
        ]
        parts.append(_table(("menu version", "calls", "first", "last"), versions))
    if picture is not None:
        start = picture.find("<svg")
        parts.append('<div class="graph">' + picture[start:] + "</div>")
        parts.append(
            '<p class="note">Edge width and numbers: calls that took the edge. Menu colour: '
            "share of the menu's calls whose caller gave up there (green none, red half or "
            "more). Dashed: limits and failed transfers.</p>"
        )
    parts.append("<h2>Menus</h2>")
    rows: list[Sequence[str]] = []
    for m in report.menus:
        name = e(m.name) + (
            ' <span class="gone">(not in the menu file)</span>' if m.in_file is False else ""
        )
        keys = ", ".join(f"{e(o.key)}: {o.count:,} ({o.share:.0%})" for o in m.options)
        limits = ", ".join(f"{e(k)} {n:,}" for k, n in m.limits.items())
        rows.append(
            (
                name,
                f"{m.entries:,}",
                f"{m.calls:,}",
                keys,
                f"{m.invalid:,}",
                f"{m.no_input:,}",
                limits,
                f"{m.gave_up:,} ({m.drop_off:.0%})",
            )
        )
    parts.append(
        _table(
            ("menu", "entered", "calls", "keys", "invalid", "no input", "limits", "gave up"),
            rows,
            escape=False,
        )
    )
    parts.append("<h2>Transfers</h2>")
    kinds = tuple(TransferOutcome)  # succeeded, the failures, unfinished: the enum's order
    rows = [
        (
            d.name,
            f"{d.transfers:,}",
            *(f"{d.outcomes.get(k, 0):,}" for k in kinds),
            ", ".join(f"{s} x{n:,}" for s, n in d.sip_statuses.items()),
            "" if d.median_to_transfer_s is None else f"{d.median_to_transfer_s:.1f} s",
        )
        for d in report.destinations
    ]
    parts.append(
        _table(
            (
                "destination",
                "transfers",
                *(k.replace("_", " ") for k in kinds),
                "SIP statuses",
                "median to transfer",
            ),
            rows,
        )
    )
    parts.append("<h2>How calls ended</h2>")
    parts.append(_table(("end", "calls"), [(k, f"{n:,}") for k, n in report.ends.items()]))
    parts.append("<h2>Most common paths</h2>")
    if not report.paths_exact:
        parts.append('<p class="note">Approximate: there were too many distinct paths.</p>')
    parts.append(
        _table(
            ("path", "calls", "share"),
            [(p.path, f"{p.calls:,}", f"{p.share:.1%}") for p in report.paths],
        )
    )
    parts.append(f"<h2>Calls by hour of day ({e(report.timezone)})</h2>")
    top = max(report.hours) or 1
    rows = [
        (f"{h:02d}", f"{n:,}", f'<span class="bar" style="width:{200 * n // top}px"></span>')
        for h, n in enumerate(report.hours)
    ]
    parts.append(_table(("hour", "calls", ""), rows, escape=False))
    if report.damaged_lines:
        parts.append("<h2>Damaged lines</h2>")
        parts.append(_table(("where", "why"), [(d.where, d.why) for d in report.damaged_lines]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table(head: tuple[str, ...], rows: Sequence[Sequence[str]], *, escape: bool = True) -> str:
    e = html.escape if escape else (lambda s: s)
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
    return "\n".join(out) + "</table>"
