"""Transfers and their inheritance: settings, destinations, failure policies.

    defaults.transfer < destination < option   play_dialtone, ringing_timeout,
                                               headers (merged by name), say/audio
    built-in < defaults < menu < destination < option   on_failure (per kind)

A destination's own `on_failure` is read on first use, since it may name other
destinations (and a loop of them falls back to the menu's policy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from router.core import format as fmt
from router.core.loader.leaves import _FALSE
from router.core.loader.nodes import Fields
from router.core.model import (
    Action,
    FailureKind,
    FailurePolicy,
    Prompt,
    Repeat,
    Transfer,
    TransferSettings,
)
from router.core.values import SCHEMES, sample_extension, target_problem, unknown_target
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["APOLOGY", "BUILTIN_FAILURE_POLICY", "Transfers", "policy_with"]

APOLOGY = "Sorry, that line is not available right now."
_SORRY = Repeat(message=Prompt(APOLOGY))
BUILTIN_FAILURE_POLICY = FailurePolicy(busy=_SORRY, no_answer=_SORRY, rejected=_SORRY, error=_SORRY)
"""Used when the file sets no `on_transfer_failure`: apologise and offer the menu again."""
_KINDS = tuple(FailureKind)


@dataclass(slots=True)
class _Dest:
    """A named destination as written, before the transfers that use it are built."""

    name: str
    transfer: Transfer
    failure_node: Node | None
    failure: dict[FailureKind, Action] | None = None
    busy: bool = False


class _Overrides(NamedTuple):
    """Transfer settings written on a destination or option (None: not written); a tuple,
    made in a third of a frozen dataclass's instructions, since an option with a `say`
    makes one only to apply it."""

    play_dialtone: bool | None = None
    ringing_timeout_s: float | None = None
    headers: Mapping[str, str] | None = None
    announce: Prompt | None = None
    hold: Prompt | None = None

    def apply(self, base: TransferSettings) -> TransferSettings:
        if self is _NO_OVERRIDES:  # nothing written (`overrides` returns this one)
            return base
        headers = base.headers
        if self.headers:
            headers = MappingProxyType({**base.headers, **self.headers})
        return TransferSettings(
            play_dialtone=base.play_dialtone if self.play_dialtone is None else self.play_dialtone,
            ringing_timeout_s=base.ringing_timeout_s
            if self.ringing_timeout_s is None
            else self.ringing_timeout_s,
            headers=headers,
            announce=self.announce if self.announce is not None else base.announce,
            hold=self.hold if self.hold is not None else base.hold,
        )


_NO_OVERRIDES = _Overrides()


class Transfers:
    """Transfer settings, destinations and failure policies, as the file writes them;
    the actions in a failure policy are read by the context's `actions`."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loc, self.error, self.warn = ctx.loc, ctx.error, ctx.warn
        self.keys, self.leaves = ctx.keys, ctx.leaves
        self.dests: dict[str, _Dest] = {}
        self.settings = TransferSettings()
        """The file's `defaults: transfer`, which destinations and options start from."""
        self.policy = BUILTIN_FAILURE_POLICY
        """The file's `defaults: on_transfer_failure`, which menus start from."""

    def transfer_settings(self, node: Node | None) -> TransferSettings:
        f = self.keys.fields(node, fmt.TRANSFER_SETTINGS, "defaults: transfer")
        if f is None:
            return TransferSettings()
        return self.overrides(f, "defaults: transfer", None).apply(TransferSettings())

    def overrides(self, f: Mapping[str, Node], what: str, announce: Prompt | None) -> _Overrides:
        dialtone = f.get("play_dialtone")
        ringing = f.get("ringing_timeout")
        headers = f.get("headers")
        hold = f.get("hold")
        if (
            dialtone is None
            and ringing is None
            and headers is None
            and announce is None
            and hold is None
        ):
            return _NO_OVERRIDES
        return _Overrides(
            play_dialtone=None
            if dialtone is None
            else self.leaves.boolean(dialtone, f"{what}: play_dialtone"),
            ringing_timeout_s=None
            if ringing is None
            else self.leaves.duration(ringing, f"{what}: ringing_timeout"),
            headers=None
            if headers is None
            else MappingProxyType(self.leaves.headers(headers, what) or {}),
            announce=announce,
            hold=None if hold is None else self._hold(hold, f"{what}: hold"),
        )

    def _hold(self, node: Node, what: str) -> Prompt | None:
        """A hold prompt, or `false`: none here, over an inherited one (an empty prompt,
        which nothing plays)."""
        if type(node) is Scalar and node.plain and node.value.strip().lower() in _FALSE:
            return Prompt()
        return self.leaves.prompt(node, what)

    def uri(
        self, node: Scalar, what: str, *, in_directory: bool, pattern: str | None = None
    ) -> str | None:
        """A literal `tel:`/`sip:` target, checked; `{ext}` only inside a directory.

        A template is checked with the smallest extension of its pattern filled in, so
        `tel:+1510555{ext}` under `xxxxxxxxxx` is caught as a number far too long.
        """
        value = node.value.strip()
        if "{" in value or "}" in value:
            if not in_directory:
                self.error(
                    node,
                    f"'{value}' uses {{ext}}, which only works in a directory entry",
                    hint="put the extension pattern under `directories`",
                    code="bad-target",
                )
                return None
            rest = value.replace("{ext}", "")
            if "{" in rest or "}" in rest:
                self.error(node, f"'{value}' may only fill in {{ext}}", code="bad-target")
                return None
        ext = sample_extension(pattern) if pattern is not None and "{ext}" in value else None
        problem = target_problem(value, ext=ext)
        if problem is not None:
            self.error(node, problem.message, hint=problem.hint, code="bad-target")
            return None
        return value

    def target(
        self, node: Node, what: str, *, in_directory: bool = False, pattern: str | None = None
    ) -> tuple[str, _Dest | None] | None:
        """A URI or a destination's name; an unknown name is left for the checker to report."""
        written = self.leaves.text(node, what)
        if written is None:
            return None
        assert type(node) is Scalar
        value = written.strip()
        if value != written:
            # a space copied along with the address, before or after it alike: harmless
            # once trimmed, but said, so the file says what the router uses
            self.warn(
                node,
                f"'{written}' has a space {_where_spaces(written)} it; the router uses '{value}'",
                hint=f'write "{value}"',
                code="target-space",
            )
        if value.startswith(SCHEMES):
            uri = self.uri(node, what, in_directory=in_directory, pattern=pattern)
            return None if uri is None else (uri, None)
        if self.leaves.usable_name(value):
            return value, self.dests.get(value)
        problem = unknown_target(value)
        self.error(node, problem.message, hint=problem.hint, code="bad-target")
        return None

    def transfer_action(
        self, f: Fields, node: Map, what: str, base: FailurePolicy, *, in_directory: bool = False
    ) -> Transfer | None:
        """`{transfer: X, say: ..., play_dialtone: ..., on_failure: ...}`."""
        target_node = f["transfer"]
        found = self.target(
            target_node, f"the transfer target of {what}", in_directory=in_directory
        )
        announce = self.leaves.message(f, node, what)
        overrides = self.overrides(f, what, announce)
        option_failure = self.failure_partial(
            f.get("on_failure"), f"the on_failure of {what}", base
        )
        if found is None:
            return None
        target, dest = found
        return self.build_transfer(target, dest, target_node, overrides, option_failure, base)

    def build_transfer(
        self,
        target: str,
        dest: _Dest | None,
        node: Node,
        overrides: _Overrides,
        option_failure: dict[FailureKind, Action] | None,
        base: FailurePolicy,
    ) -> Transfer:
        loc = self.loc(node)
        if dest is None:
            if not target.startswith(SCHEMES):  # an unknown destination: the checker says so
                return Transfer("", destination=target, loc=loc)
            settings = overrides.apply(self.settings)
            failure = None if option_failure is None else policy_with(base, option_failure)
            return Transfer(target, settings=settings, on_failure=failure, loc=loc)
        dest_failure = self.dest_failure(dest)
        settings = overrides.apply(dest.transfer.settings)
        if dest_failure is None and option_failure is None:
            failure = None
        else:
            failure = policy_with(policy_with(base, dest_failure or {}), option_failure or {})
        return Transfer(
            dest.transfer.target,
            destination=dest.name,
            settings=settings,
            on_failure=failure,
            loc=loc,
        )

    def dest_failure(self, dest: _Dest) -> dict[FailureKind, Action] | None:
        """A destination's own `on_failure`, read on first use (it may name other destinations)."""
        if dest.failure_node is None:
            return None
        if dest.failure is None:
            if dest.busy:  # A fails over to B, which fails over to A: B uses the menu's policy
                return None
            dest.busy = True
            saved, self.ctx.part = self.ctx.part, None
            dest.failure = (
                self.failure_partial(
                    dest.failure_node, f"the on_failure of destination '{dest.name}'", self.policy
                )
                or {}
            )
            self.ctx.part = saved
            dest.busy = False
        return dest.failure

    def failure_partial(
        self, node: Node | None, what: str, base: FailurePolicy
    ) -> dict[FailureKind, Action] | None:
        f = self.keys.fields(node, fmt.FAILURE_POLICY, what)
        if f is None:
            return None
        out: dict[FailureKind, Action] = {}
        for kind in _KINDS:
            value = f.get(kind.value)
            if value is not None:
                action = self.ctx.actions.action(value, f"'{kind.value}' in {what}", base)
                if action is not None:
                    out[kind] = action
        return out

    def destinations(self, node: Node | None) -> dict[str, Transfer]:
        out: dict[str, Transfer] = {}
        for key, value in self.keys.entries(node, "destinations"):
            name = self.leaves.name(key, "destination")
            if name is None:
                continue
            what = f"destination '{name}'"
            dest = self.destination(name, value, what)
            self.dests[name] = dest
            out[name] = dest.transfer
        return out

    def destination(self, name: str, node: Node, what: str) -> _Dest:
        """A named destination: a URI, or `{to: URI, say: ..., ...}`."""
        broken = _Dest(name, Transfer("", destination=name, loc=self.loc(node)), None)
        target_node, overrides, failure_node = self.long_form(node, what)
        if target_node is None:
            return broken
        found = self.target(target_node, f"the target of {what}")
        if found is None:
            return broken
        target, _ = found
        if not target.startswith(SCHEMES):
            self.error(
                target_node,
                f"the target of {what} must be a tel: or sip: URI, not a destination's name",
                hint=f"write the URI of '{target}' here",
                code="bad-target",
            )
            return broken
        transfer = Transfer(
            target,
            destination=name,
            settings=overrides.apply(self.settings),
            loc=self.loc(target_node),
        )
        return _Dest(name, transfer, failure_node)

    def long_form(self, node: Node, what: str) -> tuple[Node | None, _Overrides, Node | None]:
        """(target node, settings written, on_failure node) of a short or long destination."""
        if type(node) is not Map:
            return node, _NO_OVERRIDES, None
        f = self.keys.fields(node, fmt.DESTINATION_LONG, what)
        if f is None or "to" not in f:
            return None, _NO_OVERRIDES, None
        return (
            f["to"],
            self.overrides(f, what, self.leaves.message(f, node, what)),
            f.get("on_failure"),
        )

    def directory_entry(self, pattern: str, node: Node, what: str) -> Transfer:
        """An extension's target: a URI (perhaps with {ext}), a destination, or the long form."""
        target_node, overrides, failure_node = self.long_form(node, what)
        if target_node is None:
            return Transfer("", loc=self.loc(node))
        found = self.target(
            target_node, f"the target of {what}", in_directory=True, pattern=pattern
        )
        partial = self.failure_partial(failure_node, f"the on_failure of {what}", self.policy)
        if found is None:
            return Transfer("", loc=self.loc(target_node))
        target, via = found
        return self.build_transfer(target, via, target_node, overrides, partial, self.policy)


def policy_with(base: FailurePolicy, partial: Mapping[FailureKind, Action]) -> FailurePolicy:
    """`base` with the kinds of failure that `partial` names replaced."""
    if not partial:
        return base
    return FailurePolicy(
        busy=partial.get(FailureKind.BUSY, base.busy),
        no_answer=partial.get(FailureKind.NO_ANSWER, base.no_answer),
        rejected=partial.get(FailureKind.REJECTED, base.rejected),
        error=partial.get(FailureKind.ERROR, base.error),
    )


def _where_spaces(text: str) -> str:
    before, after = text[:1].isspace(), text[-1:].isspace()
    return "around" if before and after else "before" if before else "after"
