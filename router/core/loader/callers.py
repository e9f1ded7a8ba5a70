"""Caller rules: the caller's number, tried before the dialled number's entry menu.

Each rule names its callers (`from`: numbers, prefixes ending in `*`, `anonymous`) and
does one thing, read by the action readers: start the call in a `menu`, `transfer` it
at once, or `hangup` (a block list). Which rules can never match is the checker's.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from router.core import format as fmt
from router.core.errors import Location
from router.core.model import CallerPattern, CallerRule
from router.core.values import caller_pattern_problem
from router.core.yamlsafe import Map, Node, Scalar, Seq

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["Callers"]


class Callers:
    """Reads the `callers` list."""

    def __init__(self, ctx: Context) -> None:
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers
        self.actions = ctx.actions

    def callers(self, node: Node | None) -> tuple[CallerRule, ...]:
        if node is None or (type(node) is Scalar and node.is_null):
            return ()
        if type(node) is not Seq:
            self.error(
                node,
                "callers should be a list of rules (- from: ..., then menu, transfer or hangup)",
                code="not-list",
            )
            return ()
        out: list[CallerRule] = []
        names: dict[str, int] = {}
        for n, item in enumerate(node.items, 1):
            what = f"caller rule {n}"
            f = self.keys.fields(item, fmt.CALLER_RULE, what)
            if f is None or "from" not in f or type(item) is not Map:
                continue
            name = f"callers[{n}]"
            if "name" in f:
                given = f["name"]
                named = (
                    self.leaves.name(given, f"the name of {what}")
                    if type(given) is Scalar
                    else None
                )
                if named is not None:
                    if named in names:
                        self.error(
                            given,
                            f"two caller rules are named '{named}' (the first is rule "
                            f"{names[named]})",
                            hint="give each rule its own name",
                            code="duplicate-name",
                        )
                    names[named] = n
                    name = named
            patterns = self._patterns(f["from"], what)
            where: dict[str, Location] = {}
            hours = (*self.leaves.opening_hours(f, what, where), MappingProxyType(where))
            verbs = [v for v in fmt.CALLER_VERBS if v in f]
            language = (
                self.leaves.language_ref(f["language"], f"the language of {what}")
                if "language" in f
                else None
            )
            if not verbs and language is not None and patterns:
                # only the language: the call goes on to the number's entry menu
                out.append(CallerRule(name, patterns, None, self.loc(item), language, *hours))
                continue
            if len(verbs) != 1:
                self.error(
                    item,
                    f"{what} does {len(verbs)} things ({', '.join(verbs) or 'nothing'})"
                    if verbs
                    else f"{what} says nothing to do with its callers",
                    hint="give exactly one of: menu (where the call starts), transfer (at once),"
                    " hangup (with a message: a block list), or only a language",
                    code="caller-rule-action",
                )
                continue
            action_node = Map(item.line, item.column)
            action_node.pairs = [
                (k, v)
                for k, v in item.pairs
                if not (type(k) is Scalar and k.value in fmt.CALLER_SETTINGS)
            ]
            action = self.actions.action(action_node, what, self.transfers.policy)
            # the one verb is one of `fmt.CALLER_VERBS`, so the action is what it says
            if action is None or not patterns:
                continue
            out.append(CallerRule(name, patterns, action, self.loc(item), language, *hours))
        return tuple(out)

    def _patterns(self, node: Node, what: str) -> tuple[CallerPattern, ...]:
        items = node.items if type(node) is Seq else [node]
        out: list[CallerPattern] = []
        for item in items:
            if type(item) is not Scalar or item.is_null:
                self.error(
                    item,
                    f"the from of {what} should be numbers (+15105550199), prefixes (+1510*)"
                    " or anonymous",
                    code="bad-caller",
                )
                continue
            text = item.value.strip()
            problem = caller_pattern_problem(text)
            if problem is not None:
                self.error(item, problem.message, hint=problem.hint, code="bad-caller")
                continue
            out.append(CallerPattern(text, self.loc(item)))
        if type(node) is Seq and not node.items:
            self.error(node, f"the from of {what} is empty", code="bad-caller")
        return tuple(out)
