"""`router graph`: the menu tree as a picture (Mermaid, Graphviz dot, or SVG via dot).

The numbers callers dial (and the opening hours in front of them) are the roots;
menus are boxes; each key is a labelled edge to a menu, a transfer target or the
hang-up; what happens on too many invalid keys or silences (`on_limit`) and after a
failed transfer is drawn dashed, since a caller only goes there when something did
not work. `back` and `top` are drawn to the menus they can lead to.

The graph is built once as plain nodes and edges, then written in either syntax.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from router.admin.check import default_path
from router.admin.simulate import load_or_report
from router.core.model import (
    Action,
    Back,
    FailureKind,
    FailurePolicy,
    GoTo,
    Hangup,
    Menu,
    MenuFile,
    Repeat,
    Say,
    Top,
    Transfer,
)

__all__ = ["Edge", "Graph", "Node", "add_arguments", "build", "dot", "mermaid", "run"]

FORMATS = ("mermaid", "dot", "svg")


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: tuple[str, ...]
    """Lines of the label."""
    kind: str
    """entry, schedule, menu, directory, target or hangup: decides the shape."""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False
    """A fallback: on_limit, or what follows a failed transfer."""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    """By a key that names what the node stands for; node ids are n0, n1, ..."""
    edges: list[Edge] = field(default_factory=list)

    def node(self, key: str, label: tuple[str, ...], kind: str) -> str:
        found = self.nodes.get(key)
        if found is None:
            found = self.nodes[key] = Node(f"n{len(self.nodes)}", label, kind)
        return found.id

    def edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)


def build(
    menu_file: MenuFile,
    *,
    numbers: Collection[str] | None = None,
    failures: bool = True,
) -> Graph:
    """The graph of a menu file: entries, schedules, menus, keys, targets, fallbacks.

    `numbers` (entry keys, `default` among them) draws only those entries and what their
    callers can reach; None draws every entry and every menu. `failures=False` leaves
    out what happens after a failed transfer (`on_failure`, `on_transfer_failure`)."""
    graph = Graph()
    tops: list[str] = []
    chosen = [
        (number, entry)
        for number, entry in sorted(menu_file.entries.items(), key=lambda kv: kv[0] == "default")
        if numbers is None or number in numbers
    ]
    for number, entry in chosen:
        root = graph.node(f"entry:{number}", (number,), "entry")
        if entry.schedule and entry.closed:
            schedule = menu_file.schedules.get(entry.schedule)
            zone = (schedule.timezone,) if schedule else ()
            hours = graph.node(f"schedule:{number}", (entry.schedule, *zone), "schedule")
            graph.edge(Edge(root, hours))
            graph.edge(Edge(hours, _menu(graph, entry.menu), "open"))
            graph.edge(Edge(hours, _menu(graph, entry.closed), "closed"))
            tops += [entry.menu, entry.closed]
        else:
            graph.edge(Edge(root, _menu(graph, entry.menu)))
            tops.append(entry.menu)
    tops = list(dict.fromkeys(tops))
    if numbers is None:
        menus = list(menu_file.menus.values())
    else:
        seen = reached(menu_file, tops, failures=failures)
        menus = [menu for name, menu in menu_file.menus.items() if name in seen]
    drawer = _Drawer(graph, menu_file, tops, menus, failures=failures)
    for menu in menus:
        drawer.menu(menu)
    return graph


def reached(menu_file: MenuFile, tops: Iterable[str], *, failures: bool = True) -> set[str]:
    """The menus a caller can reach from `tops` (`failures`: also after a failed transfer).
    `back` and `top` only lead to menus already reached, so `menu:` alone decides."""
    seen: set[str] = set()
    todo = list(tops)
    while todo:
        name = todo.pop()
        menu = menu_file.menus.get(name)
        if name in seen or menu is None:
            continue
        seen.add(name)
        for action in _leads(menu_file, menu, failures=failures):
            if isinstance(action, GoTo):
                todo.append(action.menu)
    return seen


def _leads(menu_file: MenuFile, menu: Menu, *, failures: bool) -> Iterator[Action]:
    """Every action a caller in `menu` may meet: options, limits, extensions and, with
    `failures`, what follows a failed transfer (as deep as the drawing goes)."""
    actions: list[tuple[Action, int]] = [(action, 0) for action in _actions(menu)]
    directory = menu_file.directories.get(menu.directory) if menu.directory else None
    actions += [(entry.action, 0) for entry in directory.entries if directory]
    while actions:
        action, depth = actions.pop()
        yield action
        if failures and isinstance(action, Transfer) and depth < 3:
            policy = action.on_failure or menu.on_transfer_failure
            if policy is not None:
                actions += [(fallback, depth + 1) for _, fallback in _grouped(policy)]


def _menu(graph: Graph, name: str) -> str:
    return graph.node(f"menu:{name}", (name,), "menu")


class _Drawer:
    """Draws each menu's keys and fallbacks; knows where `back` and `top` can lead."""

    def __init__(
        self,
        graph: Graph,
        menu_file: MenuFile,
        tops: list[str],
        menus: list[Menu],
        *,
        failures: bool = True,
    ) -> None:
        self.graph = graph
        self.file = menu_file
        self.tops = tops
        self.failures = failures
        self.parents: dict[str, list[str]] = {}
        """Menus that lead to a menu on purpose, among those drawn: where `back` goes."""
        for menu in menus:
            for action in _actions(menu):
                if isinstance(action, GoTo) and action.menu != menu.name:
                    self.parents.setdefault(action.menu, []).append(menu.name)

    def menu(self, menu: Menu) -> None:
        here = _menu(self.graph, menu.name)
        for key, action in sorted(menu.options.items(), key=lambda kv: _KEY_ORDER[kv[0]]):
            self.action(menu, here, action, key.value, dashed=False)
        if menu.directory:
            self.directory(menu, here, menu.directory)
        if menu.on_no_input_limit is None or _shape(menu.on_no_input_limit) == _shape(
            menu.on_limit
        ):
            self.action(menu, here, menu.on_limit, "on limit", dashed=True)
        else:
            self.action(menu, here, menu.on_limit, "on limit (wrong keys)", dashed=True)
            self.action(menu, here, menu.on_no_input_limit, "on limit (silence)", dashed=True)

    def directory(self, menu: Menu, here: str, name: str) -> None:
        directory = self.file.directories.get(name)
        node = self.graph.node(f"directory:{name}", ("extensions", name), "directory")
        self.graph.edge(Edge(here, node, "extension"))
        for entry in directory.entries if directory else ():
            self.action(menu, node, entry.action, entry.pattern, dashed=False)

    def action(
        self, menu: Menu, source: str, action: Action, label: str, *, dashed: bool, depth: int = 0
    ) -> None:
        graph, here = self.graph, _menu(self.graph, menu.name)
        match action:
            case GoTo(menu=name):
                graph.edge(Edge(source, _menu(graph, name), label, dashed))
            case Back():
                for parent in self.parents.get(menu.name) or [menu.name]:
                    graph.edge(Edge(source, _menu(graph, parent), f"{label}: back", dashed))
            case Top():
                for top in self.tops:
                    graph.edge(Edge(source, _menu(graph, top), f"{label}: top", dashed))
            case Repeat() | Say():
                word = "repeat" if isinstance(action, Repeat) else "say"
                graph.edge(Edge(source, here, f"{label}: {word}", dashed))
            case Hangup():
                graph.edge(
                    Edge(source, graph.node("hangup", ("hang up",), "hangup"), label, dashed)
                )
            case Transfer():
                target = self.target(action)
                graph.edge(Edge(source, target, label, dashed))
                policy = action.on_failure or menu.on_transfer_failure
                if self.failures and policy is not None and depth < 3:
                    for kinds, fallback in _grouped(policy):
                        self.action(menu, target, fallback, kinds, dashed=True, depth=depth + 1)

    def target(self, transfer: Transfer) -> str:
        label = (
            (transfer.destination, transfer.target) if transfer.destination else (transfer.target,)
        )
        return self.graph.node(f"target:{transfer.target}", label, "target")


_KEY_ORDER = {symbol: i for i, symbol in enumerate("1234567890*#ABCD")}


def _actions(menu: Menu) -> Iterator[Action]:
    """The ways a caller leaves a menu on purpose (what `back` then returns through)."""
    yield from menu.options.values()
    yield menu.on_limit
    if menu.on_no_input_limit is not None:
        yield menu.on_no_input_limit


def _grouped(policy: FailurePolicy) -> list[tuple[str, Action]]:
    """Failure kinds drawn the same way share one edge (`busy, no answer: repeat`);
    messages do not count, since they are not drawn."""
    groups: list[tuple[tuple[object, ...], Action, list[str]]] = []
    for kind in FailureKind:
        action = policy.for_kind(kind)
        shape = _shape(action)
        kinds = next((ks for sh, _, ks in groups if sh == shape), None)
        if kinds is None:
            groups.append((shape, action, kinds := []))
        kinds.append(kind.value.replace("_", " "))
    if len(groups) == 1:
        return [("failed", groups[0][1])]
    return [(", ".join(kinds), action) for _, action, kinds in groups]


def _shape(action: Action) -> tuple[object, ...]:
    match action:
        case GoTo(menu=name):
            return (GoTo, name)
        case Transfer(target=target):
            return (Transfer, target)
        case _:
            return (type(action),)


# --- writers ---------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "entry": ('[/"', '"/]'),
    "schedule": ('{"', '"}'),
    "menu": ('["', '"]'),
    "directory": ('[["', '"]]'),
    "target": ('(["', '"])'),
    "hangup": ('(("', '"))'),
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
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {
    "entry": "shape=cds",
    "schedule": "shape=diamond",
    "menu": 'shape=box, style="rounded,bold"',
    "directory": "shape=folder",
    "target": "shape=ellipse",
    "hangup": "shape=doublecircle",
}


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graph: Graph) -> str:
    lines = [
        "digraph menus {",
        "    rankdir=LR;",
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica"];',
    ]
    for node in graph.nodes.values():
        label = _dot_text("\n".join(node.label)).replace("\n", "\\n")
        lines.append(f"    {node.id} [label={label}, {_DOT_SHAPES[node.kind]}];")
    for edge in graph.edges:
        attrs = [f"label={_dot_text(edge.label)}"] if edge.label else []
        if edge.dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {edge.source} -> {edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- the command -----------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", help="the menu file (default: $ROUTER_MENUS or ./menus.yaml)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="mermaid",
        help="mermaid (paste into Markdown), dot (Graphviz), or svg (needs Graphviz's dot)",
    )


def run(args: argparse.Namespace) -> int:
    menu_file = load_or_report(args.path or default_path(), "graph")
    if menu_file is None:
        return 1
    graph = build(menu_file)
    if args.format == "mermaid":
        sys.stdout.write(mermaid(graph))
        return 0
    text = dot(graph)
    if args.format == "dot":
        sys.stdout.write(text)
        return 0
    program = shutil.which("dot")
    if program is None:
        print(
            "router graph: svg needs Graphviz's `dot`, which is not installed "
            "(apt-get install graphviz, or use --format dot or mermaid).",
            file=sys.stderr,
        )
        return 1
    done = subprocess.run(
        [program, "-Tsvg"], input=text, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(f"router graph: dot failed: {done.stderr.strip()}", file=sys.stderr)
        return 1
    sys.stdout.write(done.stdout)
    return 0
