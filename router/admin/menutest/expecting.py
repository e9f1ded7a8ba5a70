"""Reading a case's `expect`: how the call should end (a transfer, or a hang-up and
why), the menus on its way, and what a path cannot show (the transfer's settings, the
words heard, the voice, the language), every mistake reported at its node.

A reader composed onto the test file's (`reading.TestFileReader`), as the loader's
readers are composed onto one `Context`: it reports through it, and every expectation
it reads is kept there, so that their names are checked even when the file has errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from router.admin.menutest.cases import Expectation, WantedTransfer
from router.admin.menutest.layout import END_REASONS, EXPECT, SETTINGS_KEYS
from router.core.durations import parse_duration
from router.core.errors import Location
from router.core.yamlsafe import Map, Node, Scalar, Seq

if TYPE_CHECKING:
    from router.admin.menutest.reading import TestFileReader

__all__ = ["ExpectationReader"]


class ExpectationReader:
    """Reads the `expect` of each case of one test file."""

    __slots__ = ("reader",)

    def __init__(self, reader: TestFileReader) -> None:
        self.reader = reader
        """The test file's reader: where problems go, and its value readers."""

    def read(self, node: Node, what: str) -> Expectation | None:
        """The expectation `node` writes for the case `what`; None after reporting why not."""
        r = self.reader
        where: dict[str, Location] = {}
        if isinstance(node, Scalar) and node.value == "hangup":
            return Expectation(hangup=True, loc=r.loc(node))
        if isinstance(node, Scalar):
            r.error(
                node,
                f"the expectation of {what} should be 'hangup' or a mapping",
                "expect: hangup, or expect: {transfer: tel:+15105550100}",
            )
            return None
        fields = r.mapping(node, f"the expectation of {what}", EXPECT)
        if fields is None:
            return None
        transfer = None
        hangup = False
        reason = None
        if "transfer" in fields and "hangup" in fields:
            r.error(node, f"{what} expects both a transfer and a hangup; choose one")
            return None
        if "transfer" in fields:
            text = r.text(fields["transfer"], "transfer")
            if text is None:
                return None
            transfer = WantedTransfer.of(text)
            where["transfer"] = r.loc(fields["transfer"])
        elif "hangup" in fields:
            hangup = True
            value = fields["hangup"]
            if isinstance(value, Scalar) and not value.is_null and value.value != "true":
                reason = END_REASONS.get(value.value)
                if reason is None:
                    r.error(
                        value,
                        f"'{value.value}' is not a way a call ends",
                        "one of: " + ", ".join(END_REASONS),
                    )
                    return None
        else:
            r.error(node, f"the expectation of {what} needs 'transfer' or 'hangup'")
            return None
        menus = None
        if "menus" in fields:
            menus_node = fields["menus"]
            if not isinstance(menus_node, Seq):
                r.error(menus_node, "menus should be a list of menu names, like [main, support]")
                return None
            names: list[str] = []
            for item in menus_node.items:
                name = r.text(item, "a menu name")
                if name is None:
                    return None
                where.setdefault(f"menus.{name}", r.loc(item))
                names.append(name)
            menus = tuple(names)
        extra = self.checks(fields, what, transfer is not None)
        if extra is None:
            return None
        found = Expectation(transfer, hangup, reason, menus, **extra, loc=r.loc(node), where=where)
        r.expectations.append(found)
        return found

    def checks(
        self, fields: Mapping[str, Node], what: str, transfer: bool
    ) -> dict[str, Any] | None:
        """What the tools cannot show in a path: the transfer's settings, what is heard."""
        r = self.reader
        out: dict[str, Any] = {}
        ok = True
        for name in SETTINGS_KEYS:
            if name in fields and not transfer:
                r.error(
                    fields[name],
                    f"{name} in the expectation of {what} checks the transfer's settings, "
                    "but the case expects no transfer",
                    f"expect: {{transfer: NAME, {name}: ...}}",
                )
                ok = False
        if "ringing_timeout" in fields:
            value = r.text(fields["ringing_timeout"], "ringing_timeout")
            seconds = None if value is None else parse_duration(value)
            if seconds is None:
                r.error(
                    fields["ringing_timeout"],
                    f"ringing_timeout of {what} is not a duration",
                    "e.g. 25s",
                )
                ok = False
            out["ringing_timeout_s"] = seconds
        if "play_dialtone" in fields:
            value = r.text(fields["play_dialtone"], "play_dialtone")
            if value not in ("true", "false"):
                r.error(fields["play_dialtone"], "play_dialtone should be true or false")
                ok = False
            out["play_dialtone"] = value == "true"
        if "headers" in fields:
            headers = self.mapping_of_text(fields["headers"], f"the headers of {what}")
            ok = ok and headers is not None
            out["headers"] = headers
        if "hears" in fields:
            node = fields["hears"]
            items = node.items if isinstance(node, Seq) else [node]
            heard = [r.text(item, "what the caller hears") for item in items]
            if not heard or any(not h or not h.strip() for h in heard):
                r.error(node, f"hears in {what} should be words, or a list of them")
                ok = False
            out["hears"] = tuple(h for h in heard if h)
        if "voice" in fields:
            out["voice"] = r.text(fields["voice"], "voice")
            ok = ok and out["voice"] is not None
        if "language" in fields:
            out["language"] = r.text(fields["language"], "language")
            ok = ok and out["language"] is not None
        return out if ok else None

    def mapping_of_text(self, node: Node, what: str) -> dict[str, str] | None:
        """A mapping of text to text (a transfer's headers); None after reporting why not."""
        r = self.reader
        if not isinstance(node, Map):
            r.error(node, f"{what} should be a mapping, like {{X-Source: ivr}}")
            return None
        out: dict[str, str] = {}
        for key, value in node.pairs:
            name = r.text(key, f"a header name in {what}")
            text = r.text(value, f"the value of a header in {what}")
            if name is None or text is None:
                return None
            out[name] = text
        return out
