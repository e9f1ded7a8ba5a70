"""Actions: what a key, a limit or a failed transfer makes happen.

A bare word (`repeat`, `back`, `top`, `hangup`) or a mapping with exactly one verb;
each verb has its reader in `_VERBS`, one table, as a protocol engine has one
handler per frame type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from router.core import format as fmt
from router.core import values
from router.core.errors import Location
from router.core.loader.leaves import _FALSE, _TRUE
from router.core.loader.nodes import Fields, shape
from router.core.model import (
    Action,
    Back,
    FailurePolicy,
    GoTo,
    Hangup,
    LanguageTurn,
    Prompt,
    Repeat,
    Say,
    Top,
)
from router.core.patterns import compiled
from router.core.suggest import did_you_mean
from router.core.values import SCHEMES
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["Actions"]


class Actions:
    """Reads actions; each verb by its own reader (`_VERBS`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers

    def action(self, node: Node, what: str, base: FailurePolicy) -> Action | None:
        """A bare word (repeat, back, top, hangup) or a mapping with exactly one verb."""
        if type(node) is Scalar:
            word = node.value.strip()
            short = _SHORT.get(word)
            if short is not None:
                return short(None, self.loc(node))
            self._bad_action_word(node, word, what)
            return None
        if type(node) is not Map:
            self.error(
                node,
                f"{what} should be an action like {{menu: support}}, not a {shape(node)}",
                code="bad-action",
            )
            return None
        pairs = self.keys.pairs(node) if node.merge else node.pairs
        verbs = []  # a loop, not a comprehension: no function call per action
        for k, _ in pairs:
            if type(k) is Scalar and k.value in _DOING:
                verbs.append(k.value)
        if "menu" in verbs and "language" in verbs:  # `{menu: X, language: es}`: one move
            verbs.remove("language")
        verb = verbs[0] if verbs else "say"
        if len(verbs) > 1:
            self.error(
                node,
                f"{what} has {len(verbs)} verbs ({', '.join(verbs)}); an action does one thing",
                hint="split it, or use `say` to add a message",
                code="two-verbs",
            )
            return None
        if not verbs and not any(
            type(k) is Scalar and k.value in fmt.MESSAGE_MODIFIERS for k, _ in pairs
        ):
            keys = [k.value for k, _ in pairs if type(k) is Scalar]
            guess = did_you_mean(keys[0], fmt.VERBS) if keys else None
            self.error(
                node,
                f"{what} has no verb",
                hint=guess or "use one of: " + ", ".join(fmt.VERBS),
                code="no-verb",
            )
            return None
        f = self.keys.fields(node, fmt.VERBS[verb], what, verb=verb)
        if f is None:
            return None
        return _VERBS[verb](self, f, node, what, base)

    def _read_transfer(self, f: Fields, node: Map, what: str, base: FailurePolicy) -> Action | None:
        """`{transfer: X, say: ..., play_dialtone: ..., on_failure: ...}`."""
        return self.transfers.transfer_action(f, node, what, base)

    def _read_menu(self, f: Fields, node: Map, what: str, base: FailurePolicy) -> Action | None:
        """`{menu: NAME, say: ...}`."""
        message = self.leaves.message(f, node, what)
        target = self.leaves.ref(f["menu"], f"the menu of {what}")
        language, turns = self._language(f, what)
        if target is None:
            return None
        return GoTo(target, message, self.loc(f["menu"]), language, turns)

    def _read_language(self, f: Fields, node: Map, what: str, base: FailurePolicy) -> Action | None:
        """`{language: es, say: ...}`: the caller's language changes, the greeting again."""
        message = self.leaves.message(f, node, what)
        language, turns = self._language(f, what)
        if language is None and not turns:
            return None
        return Repeat(message, self.loc(node), language, turns)

    def _language(self, f: Fields, what: str) -> tuple[str | None, tuple[LanguageTurn, ...]]:
        """`language: fr` (one language), or `language: {en: fr, fr: en}` (by the caller's
        language: a toggle); whether the file declares each code is `router.core.languages`'s."""
        node = f.get("language")
        if node is None:
            return None, ()
        if type(node) is not Map:
            return self.leaves.language_ref(node, f"the language of {what}"), ()
        if not node.pairs:
            self.error(
                node,
                f"the language of {what} is empty",
                hint="name one (language: fr), or one per language (language: {en: fr, fr: en})",
                code="empty-value",
            )
        turns = []
        for key, value in self.keys.entries(node, f"the languages of {what}"):
            when = self.leaves.language_ref(key, f"a language of {what}")
            to = self.leaves.language_ref(value, f"the language {key.value} switches to in {what}")
            if when is not None and to is not None:
                turns.append(LanguageTurn(when, to, self.loc(key), self.loc(value)))
        return None, tuple(turns)

    def _read_say(self, f: Fields, node: Map, what: str, base: FailurePolicy) -> Action | None:
        """`{say: ..., audio: ..., then: prompt | wait}`: a message, and stay."""
        message = self.leaves.message(f, node, what)
        if message is None:
            return None
        then_node = f.get("then")
        then = "prompt" if then_node is None else self.leaves.word(then_node, fmt.SAY_THEN, what)
        return Say(message, self.loc(node), then_prompt=then != "wait")

    def _read_leave(self, f: Fields, node: Map, what: str, verb: str) -> Action | None:
        """`{back | top | repeat | hangup: true | MESSAGE, say: ...}`."""
        message = self.leaves.message(f, node, what)
        value = f[verb]
        if type(value) is Scalar and value.plain and value.value.lower() in _FALSE:
            self.error(
                value,
                f"'{verb}: {value.value}' does nothing",
                hint="remove the option instead",
                code="bad-action",
            )
            return None
        if not (
            type(value) is Scalar
            and (value.is_null or (value.plain and value.value.lower() in _TRUE))
        ):
            spoken = self.leaves.prompt(value, f"the message of {what}")
            if spoken is not None and message is not None:
                self.error(
                    value,
                    f"{what} has two messages ('{verb}: ...' and 'say')",
                    hint="keep one",
                    code="two-messages",
                )
            message = message or spoken
        return _SHORT[verb](message, self.loc(node))

    def _bad_action_word(self, node: Scalar, word: str, what: str) -> None:
        if node.is_null:
            self.error(
                node,
                f"{what} is empty",
                hint="give an action, e.g. repeat or {menu: main}",
                code="bad-action",
            )
            return
        hint = did_you_mean(word, fmt.SHORT_ACTIONS)
        if hint is None and word.startswith(SCHEMES):
            hint = f'to transfer, write {{transfer: "{word}"}}'
        elif hint is None and compiled(values.NAME_PATTERN).match(word):
            hint = f"to go to a menu write {{menu: {word}}}; to transfer, {{transfer: {word}}}"
        elif hint is None:
            hint = 'to play a message and stay, write {say: "..."}'
        self.error(node, f"'{word}' is not an action", hint=hint, code="bad-action")


_DOING = frozenset(fmt.VERBS) - {"say"}
"""The verbs that make an action do something (`say` alone only speaks)."""

_SHORT: Mapping[str, Callable[[Prompt | None, Location], Action]] = {
    "repeat": Repeat,
    "back": Back,
    "top": Top,
    "hangup": Hangup,
}
"""The actions that may be written as a bare word, and what each makes."""


_VerbReader = Callable[[Actions, Fields, Map, str, FailurePolicy], Action | None]


def _leaving(verb: str) -> _VerbReader:
    def read(
        reader: Actions, f: Fields, node: Map, what: str, base: FailurePolicy
    ) -> Action | None:
        return reader._read_leave(f, node, what, verb)

    return read


_VERBS: Mapping[str, _VerbReader] = {
    "transfer": Actions._read_transfer,
    "menu": Actions._read_menu,
    "say": Actions._read_say,
    "language": Actions._read_language,
    **{verb: _leaving(verb) for verb in fmt.SHORT_ACTIONS},
}
"""Each verb's reader, given the action's checked fields (`format.VERBS[verb]`)."""
assert _VERBS.keys() == fmt.VERBS.keys()
