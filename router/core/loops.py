"""Loops with no way out: menus that only lead to each other, a caller stuck in them.

One whole-file rule of the checker (`router.core.checker`), reported into its
`Findings` like the rules of `extensions` and `spoken`. Every way a call moves between
menus is an edge of a graph (options, `back`, `top`, `repeat`, `say`, `on_limit`, the
failure policies); its strongly connected components (Tarjan's algorithm) are the
candidate loops, and one is a trap unless a caller can choose a way out of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from router.core.findings import Findings
from router.core.model import Action, Back, GoTo, Hangup, Menu, MenuFile, Repeat, Say, Top, Transfer

__all__ = ["LoopRules"]


class LoopRules:
    """Finds the loops of menus with no way out in one menu file."""

    def __init__(self, menu_file: MenuFile, findings: Findings) -> None:
        self.mf = menu_file
        self.report = findings.report

    def no_way_out(self, entry_menus: set[str], incomplete: Collection[str]) -> None:
        """Menus that only lead to each other: the caller is stuck in them.

        Every way a call moves between menus is an edge, not only `menu:`: `back` (to
        any menu that enters this one, or staying put in an entry menu), `top` (to the
        entry menus that reach this one), `repeat` and `say` (staying), and the same
        verbs in `on_limit` and in the failure policies of its transfers. A loop of
        menus is a trap unless one of its *options* (what a caller can choose) transfers,
        hangs up, dials an extension, or moves to a menu outside the loop; a limit
        reached is a way to be thrown out, not a way out. So a menu with an option that
        transfers or hangs up is never trapped, and a file whose every menu has one (an
        operator key) needs no graph at all: most files, two thirds of the checks' work.
        """
        menus = self.mf.menus
        if all(any(type(a) in _ENDING for a in m.options.values()) for m in menus.values()):
            return  # every menu has a way out of its own: no loop of them can be a trap
        entries = entry_menus & menus.keys()
        moves = {name: self._moves(menu) for name, menu in menus.items()}
        entered_from: dict[str, set[str]] = {name: set() for name in menus}
        has_top = False
        for name, actions in moves.items():
            for action, _ in actions:
                kind = type(action)  # the model's actions are final classes: no isinstance
                if kind is GoTo and action.menu in menus:  # type: ignore[union-attr]
                    entered_from[action.menu].add(name)  # type: ignore[union-attr]
                elif kind is Top:
                    has_top = True
        tops = self._entries_reaching(entries, moves) if has_top else {}
        back_to = {
            name: (entered_from[name] | {name}) if name in entries else entered_from[name]
            for name in menus
        }

        def targets(name: str, action: Action) -> Collection[str]:
            kind = type(action)
            if kind is GoTo:
                return (action.menu,) if action.menu in menus else ()  # type: ignore[union-attr]
            if kind is Back:
                return back_to[name]
            if kind is Top:
                return tops.get(name, ())
            if kind is Repeat or kind is Say:
                return (name,)
            return ()  # a transfer or a hang-up ends the menu part of the call

        graph = {
            name: sorted({t for action, _ in moves[name] for t in targets(name, action)})
            for name in menus
        }
        for component in _strongly_connected(graph):
            members = set(component)
            if not members.isdisjoint(incomplete):
                continue
            # a way out: an option that ends the menus (transfer, hang-up: no target),
            # one that leads out of the loop, or extensions to dial
            if any(
                not (found := targets(m, action)) or not members.issuperset(found)
                for m in component
                for action, chosen in moves[m]
                if chosen
            ) or any(self._has_extensions(menus[m]) for m in component):
                continue
            first = min((menus[m] for m in component), key=lambda m: (m.loc.line, m.loc.column))
            if len(component) == 1:
                message = (
                    f"menu '{first.name}' has no way out: no option transfers, hangs up "
                    "or leads to another menu"
                )
            else:
                names = ", ".join(
                    f"'{m}'" for m in sorted(component, key=lambda m: menus[m].loc.line)
                )
                message = (
                    f"menus {names} lead only to each other: no option transfers, hangs up "
                    "or leads elsewhere"
                )
            self.report(
                first.loc,
                message,
                hint='give callers a way on, e.g. "0": {transfer: operator}',
                code="no-way-out",
            )

    def _moves(self, menu: Menu) -> list[tuple[Action, bool]]:
        """Every action that can run in `menu`, and whether the caller chose it (an option)
        or it happened to them (`on_limit`, a failure policy of a transfer made here)."""
        out: list[tuple[Action, bool]] = [(a, True) for a in menu.options.values()]
        out.extend((action, False) for action in menu.limit_actions)
        seen: set[int] = set()
        todo = [a for a, _ in out if isinstance(a, Transfer)]
        while todo:
            transfer = todo.pop()
            policy = transfer.on_failure or menu.on_transfer_failure
            if policy is None or id(policy) in seen:
                continue
            seen.add(id(policy))
            for action in (policy.busy, policy.no_answer, policy.rejected, policy.error):
                out.append((action, False))
                if isinstance(action, Transfer):
                    todo.append(action)
        return out

    def _entries_reaching(
        self, entries: set[str], moves: Mapping[str, list[tuple[Action, bool]]]
    ) -> dict[str, set[str]]:
        """For each menu, the entry menus from which `menu:` steps reach it (where `top` goes)."""
        out: dict[str, set[str]] = {}
        for entry in entries:
            seen = {entry}
            todo = [entry]
            while todo:
                for action, _ in moves[todo.pop()]:
                    if isinstance(action, GoTo) and action.menu in moves:
                        if action.menu not in seen:
                            seen.add(action.menu)
                            todo.append(action.menu)
            for name in seen:
                out.setdefault(name, set()).add(entry)
        return out

    def _has_extensions(self, menu: Menu) -> bool:
        directory = self.mf.directories.get(menu.directory) if menu.directory else None
        return directory is not None and bool(directory.entries)


_ENDING = frozenset({Transfer, Hangup})
"""Options that end the menu part of a call, so a menu with one is never trapped (the
usual operator key): `no_way_out` builds its graph only for files with a menu without."""


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion (10,000 menus would overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            recurse = False
            while i < len(successors):
                nxt = successors[i]
                i += 1
                if nxt not in index:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
