"""Menus, and what they inherit: built-in < the file's defaults < a number's < the menu.

timeouts, limits, messages, voice, on_limit, on_transfer_failure (per kind)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from router.core import format as fmt
from router.core.errors import Location
from router.core.keys import Key
from router.core.loader.transfers import policy_with
from router.core.model import (
    Action,
    FailurePolicy,
    Hangup,
    Limits,
    Menu,
    Messages,
    Prompt,
    Timeouts,
)
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["BUILTIN_ON_LIMIT", "GOODBYE", "Menus"]

GOODBYE = "Sorry, I could not help you this time. Please call again. Goodbye."
BUILTIN_ON_LIMIT = Hangup(message=Prompt(GOODBYE))
"""Used when the file sets no `on_limit`: never a silent hang-up."""
_SILENT = Prompt()
"""A menu's greeting until one is read (one object, not one per menu: it is an error anyway)."""
_S = TypeVar("_S", Timeouts, Limits, Messages)
_OPTION_KEYS = {
    text: (k, f"options.{k.value}", k.value) for k in Key for text in {k.value, k.value.lower()}
}
"""Key as written -> (Key, its name in `Menu.where`, its symbol): enum lookups are slow."""


class _Inherited(NamedTuple):
    """What a menu inherits: built-in < the file's defaults < its number's defaults."""

    timeouts: Timeouts
    limits: Limits
    messages: Messages
    on_limit: tuple[Action, Action]
    """On the invalid limit, on the no-input limit."""
    voice: str | None
    voice_at: Location | None = None
    """Where the voice was written, for findings about it."""


class Menus:
    """Reads menus and the defaults they inherit."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers
        self.actions = ctx.actions

    def inherited(
        self,
        f: Mapping[str, Node],
        base: _Inherited,
        policy: FailurePolicy,
        what: str,
        *,
        menu: bool = False,
    ) -> _Inherited:
        """`base` with what these fields set: a `defaults` block's (the file's, a number's)
        or, with `menu`, a menu's own; `policy` is what its transfers fail over to.

        Messages name a block's field `defaults: voice`, a menu's `the voice of menu 'x'`."""
        timeouts, limits, messages, on_limit, voice, voice_at = base
        if "timeouts" in f:
            timeouts = self.timeouts(f["timeouts"], timeouts, f"{what}: timeouts")
        if "limits" in f:
            limits = self.limits(f["limits"], limits, f"{what}: limits")
        if "messages" in f:
            messages = self.messages(f["messages"], messages, f"{what}: messages")
        if "on_limit" in f:
            label = f"the on_limit of {what}" if menu else f"{what}: on_limit"
            on_limit = self.on_limit(f["on_limit"], label, policy, on_limit)
        if "voice" in f:
            label = f"the voice of {what}" if menu else f"{what}: voice"
            voice = self.leaves.text(f["voice"], label) or voice
            voice_at = self.loc(f["voice"])
        return _Inherited(timeouts, limits, messages, on_limit, voice, voice_at)

    def on_limit(
        self, node: Node, what: str, policy: FailurePolicy, base: tuple[Action, Action]
    ) -> tuple[Action, Action]:
        """One action for both limits, or `{invalid: ..., no_input: ...}` (kinds left out
        are inherited); returns (on the invalid limit, on the no-input limit)."""
        if type(node) is Map and any(
            type(k) is Scalar and k.value in fmt.LIMIT_KINDS for k, _ in node.pairs
        ):
            f = self.keys.fields(node, fmt.ON_LIMIT.options[1], what)  # type: ignore[arg-type]
            if not f:
                return base
            invalid, no_input = base
            if "invalid" in f:
                invalid = self.actions.action(f["invalid"], f"{what}: invalid", policy) or invalid
            if "no_input" in f:
                no_input = (
                    self.actions.action(f["no_input"], f"{what}: no_input", policy) or no_input
                )
            return invalid, no_input
        action = self.actions.action(node, what, policy)
        return base if action is None else (action, action)

    def _override(
        self,
        node: Node | None,
        spec: fmt.Obj,
        base: _S,
        what: str,
        read: Callable[[Node, str], object | None],
        field_of: Callable[[str], str] = str,
    ) -> _S:
        """`base` with the fields this mapping sets (each read by `read`); the rest inherited.

        `field_of` names the model's field for a key as written (`first_digit` is
        `Timeouts.first_digit_s`: the model's names carry their unit, the file's do not)."""
        f = self.keys.fields(node, spec, what)
        if not f:
            return base
        changes: dict[str, Any] = {}
        for name, value_node in f.items():
            value = read(value_node, f"{what}: {name}")
            if value is not None:
                changes[field_of(name)] = value
        return replace(base, **changes) if changes else base

    def timeouts(self, node: Node | None, base: Timeouts, what: str) -> Timeouts:
        return self._override(
            node, fmt.TIMEOUTS, base, what, self.leaves.duration, lambda name: f"{name}_s"
        )

    def limits(self, node: Node | None, base: Limits, what: str) -> Limits:
        return self._override(
            node, fmt.LIMITS, base, what, lambda n, w: self.leaves.integer(n, w, minimum=1)
        )

    def messages(self, node: Node | None, base: Messages, what: str) -> Messages:
        return self._override(node, fmt.MESSAGES, base, what, self.leaves.prompt)

    def menu(
        self,
        name: str,
        key: Node,
        node: Node,
        inherited: _Inherited,
    ) -> Menu:
        what = f"menu '{name}'"
        f = (
            self.keys.fields(node, fmt.MENU, what)
            if not (type(node) is Scalar and node.is_null)
            else None
        )
        if f is None:
            if type(node) is Scalar and node.is_null:
                self.error(
                    key,
                    f"{what} is empty",
                    hint="a menu needs at least a greeting and options",
                    code="missing-key",
                )
            return Menu(name, Prompt(), Prompt(), {}, loc=self.loc(key))
        where: dict[str, Location] = {}
        greeting_node = f.get("greeting")
        greeting = _SILENT
        if greeting_node is not None:
            where["greeting"] = self.loc(greeting_node)
            greeting = self.leaves.prompt(greeting_node, f"the greeting of {what}") or greeting
        prompt = greeting
        prompt_node = f.get("prompt")
        if prompt_node is not None:
            where["prompt"] = self.loc(prompt_node)
            prompt = self.leaves.prompt(prompt_node, f"the prompt of {what}") or greeting
        directory = None
        directory_node = f.get("directory")
        if directory_node is not None:
            where["directory"] = self.loc(directory_node)
            directory = self.leaves.ref(directory_node, f"the directory of {what}")
        policy = self.transfers.policy
        if "on_transfer_failure" in f:
            partial = self.transfers.failure_partial(
                f["on_transfer_failure"],
                f"the on_transfer_failure of {what}",
                self.transfers.policy,
            )
            policy = policy_with(self.transfers.policy, partial or {})
        timeouts, limits, messages, on_limit, voice, voice_at = self.inherited(
            f, inherited, policy, what, menu=True
        )
        if voice_at is not None:
            where["voice"] = voice_at
        options: dict[Key, Action] = {}
        for okey, value in self.keys.entries(f.get("options"), f"the options of {what}"):
            known = _OPTION_KEYS.get(okey.value.strip())
            if known is None:
                self._bad_key(okey, what)
                continue
            k, place, symbol = known
            if k in options or place in where:
                self.error(
                    okey,
                    f"key {symbol} appears twice in {what} (first at line {where[place].line})",
                    hint="a key can do only one thing in a menu",
                    code="duplicate-key",
                )
                continue
            where[place] = self.loc(okey)
            action = self.actions.action(value, f"option {symbol} of {what}", policy)
            if action is not None:
                options[k] = action
            else:
                self.ctx.incomplete.add(name)
        return Menu(
            name=name,
            greeting=greeting,
            prompt=prompt,
            options=MappingProxyType(options),
            directory=directory,
            timeouts=timeouts,
            limits=limits,
            messages=messages,
            on_limit=on_limit[0],
            on_no_input_limit=on_limit[1],
            on_transfer_failure=policy,
            voice=voice,
            loc=self.loc(key),
            where=MappingProxyType(where),
        )

    def _bad_key(self, node: Scalar, what: str) -> None:
        value = node.value.strip()
        hint = "a key is one of 0-9, *, #, A-D"
        if value.isdigit() and len(value) > 1:
            hint = "an option is one key; for numbers callers dial, use a directory"
        self.error(node, f"'{node.value}' is not a key in {what}", hint=hint, code="bad-key")
