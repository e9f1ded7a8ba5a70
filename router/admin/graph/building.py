"""The graph of a menu file: numbers and their hours as roots, menus as boxes, keys as edges.

Each key is a labelled edge to a menu, a transfer target or the hang-up; `on_limit` and
what follows a failed transfer are dashed (a caller goes there only when something did
not work); `back` and `top` lead to the menus they can reach."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import assert_never

from router.admin.graph.nodes import (
    Dialled,
    Edge,
    Extension,
    Extensions,
    Failed,
    Graph,
    Hours,
    Matched,
    NodeKind,
    OnLimit,
    Pressed,
)
from router.core.events import Limit
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
    language_label,
)

__all__ = ["build", "reached"]


def build(
    menu_file: MenuFile,
    *,
    numbers: Collection[str] | None = None,
    failures: bool = True,
    lines: bool = False,
) -> Graph:
    """The graph of a menu file: entries, schedules, menus, keys, targets, fallbacks.

    `numbers` (entry keys, `default` among them) draws only those entries and what their
    callers can reach; None draws every entry and every menu. `failures=False` leaves
    out what happens after a failed transfer (`on_failure`, `on_transfer_failure`).
    `lines` boxes the menus by the numbers that reach them (when that makes more than
    one box): a second language's menus apart from the first's."""
    graph = Graph()
    chosen = [
        (number, entry)
        for number, entry in sorted(menu_file.entries.items(), key=lambda kv: kv[0] == "default")
        if numbers is None or number in numbers
    ]
    firsts: dict[str, list[str]] = {}
    """The first menus of each chosen number (`top` leads there)."""
    for number, entry in chosen:
        spoken = (f"in {entry.language}",) if entry.language else ()
        root = graph.node(f"entry:{number}", (number, *spoken), NodeKind.ENTRY, number)
        dialled = Dialled(number)
        if entry.schedule and entry.closed:
            hours = _hours(graph, menu_file, number, entry.schedule)
            graph.edge(Edge(root, hours, cause=dialled))
            graph.edge(Edge(hours, _menu(graph, entry.menu), "open", cause=Hours(True, dialled)))
            closed = _menu(graph, entry.closed)
            graph.edge(Edge(hours, closed, "closed", cause=Hours(False, dialled)))
            firsts[number] = [entry.menu, entry.closed]
        else:
            graph.edge(Edge(root, _menu(graph, entry.menu), cause=dialled))
            firsts[number] = [entry.menu]
    tops = list(dict.fromkeys(name for names in firsts.values() for name in names))
    reach = {n: reached(menu_file, names, failures=failures) for n, names in firsts.items()}
    if numbers is None:
        menus = list(menu_file.menus.values())
    else:
        menus = [
            menu for name, menu in menu_file.menus.items() if any(name in r for r in reach.values())
        ]
    callers = {menu.name: tuple(n for n, r in reach.items() if menu.name in r) for menu in menus}
    """The numbers whose callers reach each menu drawn."""
    drawer = _Drawer(graph, menu_file, tops, menus, failures=failures)
    for menu in menus:
        # `top` leads to the first menus of the numbers that reach this one
        drawer.tops = list(dict.fromkeys(t for n in callers[menu.name] for t in firsts[n])) or tops
        drawer.menu(menu)
    if numbers is None or set(menu_file.entries) <= set(numbers):  # rules apply to every number
        _caller_rules(graph, menu_file, drawer)
    if lines:
        _boxes(graph, menu_file, callers)
    return graph


def _caller_rules(graph: Graph, menu_file: MenuFile, drawer: _Drawer) -> None:
    """Each caller rule as an entry of its own (its name, its language), an arrow labelled
    with its callers to what it does; a rule that only sets the language leads to the
    `default` entry (the dialled number's entry, whichever it is)."""
    for rule in menu_file.callers:
        spoken = (f"in {rule.language}",) if rule.language else ()
        said = ("caller rule", rule.name, *spoken)
        node = graph.node(f"caller:{rule.name}", said, NodeKind.ENTRY, rule.name)
        label = ", ".join(p.text for p in rule.patterns)
        matched = Matched(rule.name)
        cause: Matched | Hours = matched
        if rule.schedule and rule.closed:  # the rule's own hours, drawn as a number's
            hours = _hours(graph, menu_file, f"caller:{rule.name}", rule.schedule)
            graph.edge(Edge(node, hours, label, cause=matched))
            closed = _menu(graph, rule.closed)
            graph.edge(Edge(hours, closed, "closed", cause=Hours(False, matched)))
            node, label, cause = hours, "open", Hours(True, matched)
        match rule.action:
            case GoTo(menu=name):
                graph.edge(Edge(node, _menu(graph, name), label, cause=cause))
            case Transfer():
                graph.edge(Edge(node, drawer.target(rule.action), label, cause=cause))
            case Hangup():
                graph.edge(Edge(node, _hangup(graph), label, cause=cause))
            case None if "entry:default" in graph.nodes:
                default = graph.nodes["entry:default"].id
                graph.edge(Edge(node, default, f"{label}: as dialled", cause=cause))


def _hours(graph: Graph, menu_file: MenuFile, key: str, schedule: str) -> str:
    """A number's or a caller rule's opening hours: the id of a node naming the schedule
    and its zone (its arrows `open` and `closed` are the caller's to draw)."""
    found = menu_file.schedules.get(schedule)
    zone = (found.timezone,) if found else ()
    return graph.node(f"schedule:{key}", (schedule, *zone), NodeKind.SCHEDULE, schedule)


def _boxes(graph: Graph, menu_file: MenuFile, callers: dict[str, tuple[str, ...]]) -> None:
    """One box per set of numbers reaching the same menus, the numbers' entries in it."""
    boxes: dict[tuple[str, ...], list[str]] = {}
    for name, numbers in callers.items():
        if numbers:
            boxes.setdefault(numbers, []).append(name)
    if len(boxes) < 2:
        return
    for numbers, names in boxes.items():
        ids = [graph.nodes[f"menu:{name}"].id for name in names]
        for number in numbers:
            entry = menu_file.entries[number]
            if callers.get(entry.menu) == numbers:
                ids[:0] = [
                    graph.nodes[key].id
                    for key in (f"entry:{number}", f"schedule:{number}")
                    if key in graph.nodes
                ]
        label = ", ".join(numbers) + _spoken(menu_file, numbers, names)
        graph.clusters.append((label, ids))


def _spoken(menu_file: MenuFile, numbers: Iterable[str], names: Iterable[str]) -> str:
    """How a box of one line's menus says what its callers hear: ` (fr, voice fr)`, the
    numbers' languages and their voices (a file with `languages`, whose menus' own voice
    is only the router's words'), else ` (voice es)`, the menus' voices."""
    if menu_file.languages:
        entries = [menu_file.entries[number] for number in numbers]
        codes = dict.fromkeys(e.language or menu_file.default_language or "" for e in entries)
        declared = menu_file.languages
        said = [f"{code}, voice {declared[code].voice}" for code in codes if code in declared]
        return f" ({'; '.join(said)})" if said else ""
    voices = sorted({menu_file.menus[name].voice or "" for name in names})
    spoken = ", ".join(v for v in voices if v)
    return f" (voice {spoken})" if spoken else ""


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
    actions += [(entry.action, 0) for entry in (directory.entries if directory else ())]
    while actions:
        action, depth = actions.pop()
        yield action
        if failures and isinstance(action, Transfer) and depth < 3:
            policy = action.on_failure or menu.on_transfer_failure
            if policy is not None:
                actions += [(fallback, depth + 1) for _, fallback in _grouped(policy)]


def _menu(graph: Graph, name: str) -> str:
    return graph.node(f"menu:{name}", (name,), NodeKind.MENU, name)


def _hangup(graph: Graph) -> str:
    return graph.node("hangup", ("hang up",), NodeKind.HANGUP, "")


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
            self.action(menu, here, action, Pressed(key), dashed=False)
        if menu.directory:
            self.directory(menu, here, menu.directory)
        if menu.on_no_input_limit is None or _shape(menu.on_no_input_limit) == _shape(
            menu.on_limit
        ):
            self.action(menu, here, menu.on_limit, OnLimit(_LIMITS), dashed=True)
        else:
            wrong, silence = OnLimit((Limit.INVALID,)), OnLimit((Limit.NO_INPUT,))
            self.action(menu, here, menu.on_limit, wrong, dashed=True)
            self.action(menu, here, menu.on_no_input_limit, silence, dashed=True)

    def directory(self, menu: Menu, here: str, name: str) -> None:
        directory = self.file.directories.get(name)
        said = ("extensions", name)
        node = self.graph.node(f"directory:{name}", said, NodeKind.DIRECTORY, name)
        self.graph.edge(Edge(here, node, "extension", cause=Extensions()))
        for entry in directory.entries if directory else ():
            self.action(menu, node, entry.action, Extension(entry.pattern), dashed=False)

    def action(
        self, menu: Menu, source: str, action: Action, cause: _Way, *, dashed: bool, depth: int = 0
    ) -> None:
        """The edges of `action`, taken in `menu` for `cause`, from the node `source` (the
        menu, its directory, or a transfer target for what follows its failure)."""
        graph, here, label = self.graph, _menu(self.graph, menu.name), _label(cause)

        def edge(target: str, said: str, *, returns: bool = False) -> None:
            graph.edge(Edge(source, target, said, dashed, returns, cause=cause))

        match action:
            case GoTo(menu=name, language=language, turns=turns):
                switch = language_label(language, turns)
                said = f"{label}: {switch}" if switch else label  # a language switch
                edge(_menu(graph, name), said, returns=depth > 0)
            case Back():
                for parent in self.parents.get(menu.name) or [menu.name]:
                    edge(_menu(graph, parent), f"{label}: back", returns=True)
            case Top():
                for top in self.tops:
                    edge(_menu(graph, top), f"{label}: top", returns=True)
            case Repeat(language=language, turns=turns) if language or turns:
                edge(here, f"{label}: {language_label(language, turns)}", returns=True)
            case Repeat() | Say():
                word = "repeat" if isinstance(action, Repeat) else "say"
                edge(here, f"{label}: {word}", returns=True)
            case Hangup():
                edge(_hangup(graph), label)
            case Transfer():
                target = self.target(action)
                edge(target, label)
                policy = action.on_failure or menu.on_transfer_failure
                if self.failures and policy is not None and depth < 3:
                    for kinds, fallback in _grouped(policy):
                        failed = Failed(kinds)
                        self.action(menu, target, fallback, failed, dashed=True, depth=depth + 1)
            case _:  # a new verb: mypy names every match that must draw it
                assert_never(action)

    def target(self, transfer: Transfer) -> str:
        label = (
            (transfer.destination, transfer.target) if transfer.destination else (transfer.target,)
        )
        # a named destination is its own box, even where two names share a number (one
        # per language: `garde_1` beside `oncall_1`); an inline URI is keyed by itself
        key = f"destination:{transfer.destination}" if transfer.destination else transfer.target
        name = transfer.destination or transfer.target
        return self.graph.node(f"target:{key}", label, NodeKind.TARGET, name)


_KEY_ORDER = {symbol: i for i, symbol in enumerate("1234567890*#ABCD")}


def _actions(menu: Menu) -> Iterator[Action]:
    """The ways a caller leaves a menu on purpose (what `back` then returns through)."""
    yield from menu.options.values()
    yield from menu.limit_actions


_LIMITS = (Limit.INVALID, Limit.NO_INPUT)
"""The limits a menu's `on_limit` answers (`Menu.limits`)."""

_Way = Pressed | Extension | OnLimit | Failed
"""The causes of the edges a menu's actions draw (`_Drawer.action`)."""


def _label(cause: _Way) -> str:
    """The words on an action's edge for its cause: `1`, `4xxx`, `on limit (silence)`,
    `busy, no answer` (`failed`: every kind of failure); the action may add to them."""
    match cause:
        case Pressed(key=key):
            return key.value
        case Extension(pattern=pattern):
            return pattern
        case OnLimit(limits=limits) if set(limits) >= set(_LIMITS):
            return "on limit"
        case OnLimit(limits=limits):
            return "on limit (wrong keys)" if Limit.INVALID in limits else "on limit (silence)"
        case Failed(kinds=kinds) if set(kinds) == set(FailureKind):
            return "failed"
        case Failed(kinds=kinds):
            return ", ".join(kind.value.replace("_", " ") for kind in kinds)
        case _:
            assert_never(cause)


def _grouped(policy: FailurePolicy) -> list[tuple[tuple[FailureKind, ...], Action]]:
    """Failure kinds drawn the same way share one edge (`busy, no answer: repeat`);
    messages do not count, since they are not drawn."""
    groups: list[tuple[tuple[object, ...], Action, list[FailureKind]]] = []
    for kind in FailureKind:
        action = policy.for_kind(kind)
        shape = _shape(action)
        kinds = next((ks for sh, _, ks in groups if sh == shape), None)
        if kinds is None:
            groups.append((shape, action, kinds := []))
        kinds.append(kind)
    return [(tuple(kinds), action) for _, action, kinds in groups]


def _shape(action: Action) -> tuple[object, ...]:
    match action:
        case GoTo(menu=name):
            return (GoTo, name)
        case Transfer(target=target):
            return (Transfer, target)
        case _:
            return (type(action),)
