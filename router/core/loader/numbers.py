"""Numbers: the first menu per number dialled, and a number's own defaults.

A number with `defaults` of its own has the menus it leads to read again with them;
a menu reached from numbers with different defaults keeps the file's, with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from router.core import format as fmt
from router.core.errors import Location, Problem, Severity
from router.core.loader.menus import Menus, _Inherited
from router.core.loader.transfers import policy_with
from router.core.model import NOWHERE, Action, Entry, FailurePolicy, GoTo, Menu, Transfer
from router.core.values import number_key_problem
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["Numbers"]


class Numbers:
    """Reads the `numbers` block; a number's own defaults are read by `menus`."""

    def __init__(self, ctx: Context, menus: Menus) -> None:
        self.ctx = ctx
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers
        self.menus = menus
        self._number_defaults: dict[str, tuple[str, _Inherited, FailurePolicy]] = {}
        """Numbers with `defaults` of their own: (where written, what menus inherit, policy)."""

    def numbers(
        self,
        node: Node | None,
        key_node: Node | None,
        menus: Mapping[str, Menu],
        inherited: _Inherited,
    ) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        if node is None:
            if menus:  # no numbers block: every call starts in the first menu
                first = next(iter(menus.values()))
                out["default"] = Entry("default", first.name, loc=first.loc)
            return out
        for key, value in self.keys.entries(node, "numbers"):
            number = key.value.strip()
            problem = number_key_problem(number)
            if problem is not None:
                self.error(key, problem.message, hint=problem.hint, code="bad-number")
                continue
            what = f"the entry for {number}"
            where: dict[str, Location] = {}
            if type(value) is Scalar:
                menu = self.leaves.ref(value, what)
                where["menu"] = self.loc(value)
                if menu is not None:
                    out[number] = Entry(
                        number, menu, loc=self.loc(key), where=MappingProxyType(where)
                    )
                continue
            f = self.keys.fields(value, fmt.ENTRY_LONG, what)
            if f is None or "menu" not in f:
                continue
            where["menu"] = self.loc(f["menu"])
            first_menu = self.leaves.ref(f["menu"], f"the menu of {what}")
            schedule, closed = self.leaves.opening_hours(f, what, where)
            language = None
            if "language" in f:
                where["language"] = self.loc(f["language"])
                language = self.leaves.language_ref(f["language"], f"the language of {what}")
            if "defaults" in f:
                own = self.keys.fields(
                    f["defaults"], fmt.NUMBER_DEFAULTS, f"the defaults of {what}"
                )
                if own:
                    policy = self.transfers.policy
                    if "on_transfer_failure" in own:
                        label = f"the defaults of {what}: on_transfer_failure"
                        partial = self.transfers.failure_partial(
                            own["on_transfer_failure"], label, self.transfers.policy
                        )
                        policy = policy_with(self.transfers.policy, partial or {})
                        # read again with the line's own policy as the base: a transfer
                        # in it (no_answer: voicemail) then fails over in the line's
                        # words, not in the file's (problems were reported the first time)
                        seen_problems = len(self.ctx.problems)
                        partial = self.transfers.failure_partial(
                            own["on_transfer_failure"], label, policy
                        )
                        del self.ctx.problems[seen_problems:]
                        policy = policy_with(self.transfers.policy, partial or {})
                    self._number_defaults[number] = (
                        f"{f['defaults'].line}:{f['defaults'].column}",
                        self.menus.inherited(own, inherited, policy, f"the defaults of {what}"),
                        policy,
                    )
            if first_menu is None:
                continue
            out[number] = Entry(
                number,
                first_menu,
                schedule,
                closed,
                language,
                self.loc(key),
                MappingProxyType(where),
            )
        if type(node) is Map and "default" not in {
            k.value for k, _ in node.pairs if type(k) is Scalar
        }:
            self.error(
                key_node or node,
                "numbers has no 'default' entry",
                hint="add 'default: {menu: main}' for calls to any other number",
                code="no-default",
            )
        return out

    def number_defaults(
        self,
        entries: Mapping[str, Entry],
        menus: dict[str, Menu],
        menu_nodes: Mapping[str, tuple[Node, Node]],
    ) -> None:
        """Menus a number with `defaults` of its own leads to are read again with them.

        A number's menus are its `menu` and `closed`, and the menus they lead to (by
        options, limits and failure policies), stopping at the first menu of another
        number. A menu two lines with different defaults lead to keeps the file's
        defaults, with a warning.
        """
        own = {n: e for n, e in entries.items() if n in self._number_defaults}
        if not own:
            return
        starts: dict[str, set[str]] = {}
        for number, entry in entries.items():
            for name in (entry.menu, entry.closed):
                if name:
                    starts.setdefault(name, set()).add(number)
        claims: dict[str, dict[str, str]] = {}  # menu -> {defaults id: the number}
        for number, entry in entries.items():
            key = self._number_defaults[number][0] if number in own else "file"
            todo = [m for m in (entry.menu, entry.closed) if m and m in menus]
            seen = set(todo)
            while todo:
                name = todo.pop()
                claims.setdefault(name, {}).setdefault(key, number)
                for nxt in _leads_to(menus[name]):
                    if nxt in menus and nxt not in seen and not (starts.get(nxt, set()) - {number}):
                        seen.add(nxt)
                        todo.append(nxt)
        for name, by in claims.items():
            if len(by) > 1:
                lines = ", ".join(sorted(by.values()))
                menu_loc = menus[name].loc
                self.ctx.problems.append(
                    Problem(
                        menu_loc,
                        f"menu '{name}' is reached from numbers with different defaults "
                        f"({lines}); it uses the file's defaults"
                        + self._lost_voices(name, by, menus, menu_nodes),
                        Severity.WARNING,
                        "give each line its own copy of the menu, or set these values in it",
                        "mixed-defaults",
                    )
                )
                continue
            ((key, number),) = by.items()
            if key == "file":
                continue
            inherited, policy = self._number_defaults[number][1:]
            saved_policy, seen_problems, incomplete = (
                self.transfers.policy,
                len(self.ctx.problems),
                self.ctx.incomplete,
            )
            self.transfers.policy, self.ctx.incomplete, self.ctx.part = policy, set(), name
            try:
                menus[name] = self.menus.menu(name, *menu_nodes[name], inherited)
            finally:  # the first reading reported every problem of the menu already
                del self.ctx.problems[seen_problems:]
                self.transfers.policy, self.ctx.incomplete, self.ctx.part = (
                    saved_policy,
                    incomplete,
                    None,
                )

    def _lost_voices(
        self,
        name: str,
        by: Mapping[str, str],
        menus: Mapping[str, Menu],
        menu_nodes: Mapping[str, tuple[Node, Node]],
    ) -> str:
        """What callers of the lines whose voice the shared menu does not use would hear:
        the consequence in plain words (empty when the menu names its own voice, or every
        line speaks with the same voice)."""
        node = menu_nodes[name][1]
        if type(node) is Map and any(
            type(k) is Scalar and k.value == "voice" for k, _ in node.pairs
        ):
            return ""
        used = menus[name].voice
        lost = [
            (number, self._number_defaults[number][1].voice)
            for key, number in sorted(by.items(), key=lambda item: item[1])
            if key != "file"
        ]
        lost = [(number, voice) for number, voice in lost if voice != used]
        if not lost:
            return ""
        callers = " and ".join(f"{number} ({_voice_label(voice)})" for number, voice in lost)
        words = "the file's words (messages, on_limit, on_transfer_failure)"
        invalid = menus[name].messages.invalid
        if invalid.loc == NOWHERE and invalid.text:
            words = f'the router\'s English words ("{invalid.text}" ...)'
        return f": callers of {callers} hear it in {_voice_label(used)}, with {words}"


def _leads_to(menu: Menu) -> Iterator[str]:
    """The menus a menu can lead to, by any action of its own."""
    actions: list[Action] = [*menu.options.values(), *menu.limit_actions]
    if menu.on_transfer_failure is not None:
        p = menu.on_transfer_failure
        actions += [p.busy, p.no_answer, p.rejected, p.error]
    for action in actions:
        if isinstance(action, GoTo):
            yield action.menu
        elif isinstance(action, Transfer) and action.on_failure is not None:
            p = action.on_failure
            for a in (p.busy, p.no_answer, p.rejected, p.error):
                if isinstance(a, GoTo):
                    yield a.menu


def _voice_label(voice: str | None) -> str:
    return "the router's voice" if voice is None else f"voice {voice}"
