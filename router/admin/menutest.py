"""`router test [FILE]`: the admin's expected call paths, run through the navigator.

A test file (`menus.test.yaml`, see docs/menu-tests.md) names a menu file and lists
calls: the number dialled, the time, the keys pressed, how transfers end, and where
the call must end up. Each call is run by `router simulate`'s machinery (the same
navigator a real call uses, with an instant player and a clock that jumps to each
time-out), so a passing test file says what callers will really get, not what a
copy of the rules thinks they would get.

Why a file of cases rather than Python tests: the people who edit `menus.yaml` are
not the people who write Python. A change to the menus (a new option, new opening
hours) is checked by `router check` for consistency and by `router test` for
intent: "a call to the Spanish number on a Sunday still reaches Spanish voicemail".

The test file is untrusted text like the menu file: it is decoded, parsed and its
mappings read by the same layer (`router.core.loader.source` and `.nodes`: the safe
YAML reader, did-you-mean, duplicate keys), and every mistake in it is reported at
once as `FILE:LINE:COL: error: message (hint)`.

The report gives each case PASS or FAIL with the path the call took (menus, keys,
transfers and how they ended), then coverage: the menus, options, extensions and
destinations of the menu file that no case reached. Exit status: 0 when every case
passes, 1 when one fails or either file has errors.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from router.admin.check import caller_problem, load_or_report, number_problem
from router.admin.simulate import TIMEOUT, TransferResult, simulate
from router.core import format as fmt
from router.core.durations import parse_duration
from router.core.errors import Location, MenuFileError, Problem, Severity
from router.core.events import (
    Disconnect,
    Effect,
    EndReason,
    Event,
    ExtensionDialled,
    InvalidEntry,
    KeyPressed,
    LanguageChosen,
    LimitReached,
    MenuEntered,
    NoInput,
    OptionChosen,
    Play,
    TransferConnected,
    TransferFailure,
    TransferTo,
)
from router.core.keys import Key
from router.core.loader import MAX_BYTES, load_menu_file
from router.core.loader.nodes import NodeReader
from router.core.loader.source import FileKind, compose_source
from router.core.model import MenuFile, Prompt, TransferSettings
from router.core.yamlsafe import Map, Node, Scalar, Seq

__all__ = [
    "DEFAULT_TEST_FILE",
    "Case",
    "CaseResult",
    "Coverage",
    "Expectation",
    "TestFile",
    "add_arguments",
    "read_test_file",
    "run",
    "run_case",
]

DEFAULT_TEST_FILE = "menus.test.yaml"
"""What `router test` reads when no file is named."""
DEFAULT_MENU_FILE = "menus.yaml"
"""The menu file a test file tests when it names none, beside the test file."""

_SCHEMES = ("tel:", "sip:", "sips:")
_END_REASONS = {
    r.value: r for r in EndReason if r not in (EndReason.TRANSFERRED, EndReason.CALLER_HANGUP)
}
"""Ways a simulated call can end without a transfer (a simulated caller never hangs up)."""
_TOP_KEYS = ("menu_file", "defaults", "cases")
_DEFAULT_KEYS = ("number", "caller", "language", "at", "transfer_results")
_CASE_KEYS = ("name", "number", "caller", "language", "at", "keys", "transfer_results", "expect")
_EXPECT_KEYS = (
    "transfer",
    "hangup",
    "menus",
    "ringing_timeout",
    "play_dialtone",
    "headers",
    "hears",
    "voice",
    "language",
)
_SETTINGS_KEYS = ("ringing_timeout", "play_dialtone", "headers")
"""Expectations about the transfer's settings: they go with `transfer`."""
_HINTS: Mapping[str, str] = {
    "time": "at",
    "when": "at",
    "date": "at",
    "dialled": "number",
    "dialed": "number",
    "called": "number",
    "to": "number",
    "from": "caller",
    "calling": "caller",
    "caller_id": "caller",
    "digits": "keys",
    "results": "transfer_results",
    "transfer_result": "transfer_results",
    "expected": "expect",
    "expects": "expect",
    "menu": "menu_file",
    "menus": "menu_file",
    "file": "menu_file",
    "tests": "cases",
    "calls": "cases",
    "path": "menus",
    "via": "menus",
    "says": "hears",
    "hear": "hears",
    "heard": "hears",
    "message": "hears",
    "lang": "language",
    "timeout": "ringing_timeout",
    "ringing": "ringing_timeout",
    "header": "headers",
    "dialtone": "play_dialtone",
}
"""Words an admin may reach for, and the key they meant (used in hints only)."""
TEST_FILE = FileKind("test file", "menus.test.yaml", "cases:")


# --- the test file as values -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    """Where a case's call must end up."""

    transfer: str | None = None
    """A `tel:`/`sip:` URI the call must be transferred to, or a destination's name."""
    hangup: bool = False
    """The call must end without a transfer."""
    reason: EndReason | None = None
    """With `hangup`: the exact way it ends (`transfer_limit`, `key_limit`, ...)."""
    menus: tuple[str, ...] | None = None
    """Every menu entered, in order (returns by `back` and `top` included), if given."""
    ringing_timeout: float | None = None
    """With `transfer`: the seconds the transfer lets the far end ring."""
    play_dialtone: bool | None = None
    """With `transfer`: whether the caller hears a ring tone while it is made."""
    headers: Mapping[str, str] | None = None
    """With `transfer`: SIP headers it must send, with these values (others may be sent too)."""
    hears: tuple[str, ...] = ()
    """Words the caller must hear: each a part of some prompt of the call (any case)."""
    voice: str | None = None
    """The voice every spoken prompt of the call must use (`default`: the router's own)."""
    language: str | None = None
    """The caller's language when the call ends (a file with `languages`)."""
    loc: Location = field(default_factory=lambda: Location("<none>"))
    where: Mapping[str, Location] = field(default_factory=dict)
    """Where `transfer` and each of `menus` were written, for errors found later."""

    def __str__(self) -> str:
        if self.transfer is not None:
            text = f"transfer {self.transfer}"
        else:
            text = "hangup" + (f" ({self.reason.value})" if self.reason else "")
        if self.menus is not None:
            text += f" via {' > '.join(self.menus) or '(no menu)'}"
        return text


@dataclass(frozen=True, slots=True)
class Case:
    """One expected call path."""

    name: str
    number: str | None
    """The number dialled; None is the menu file's `default` entry."""
    at: datetime
    keys: str
    """Keys in simulate's grammar: keypad symbols, `.` for a time-out."""
    results: tuple[TransferResult, ...]
    """How transfers end, in turn; the last one repeats."""
    expect: Expectation
    loc: Location
    caller: str | None = None
    """The caller's number (E.164, or `anonymous`); None: a caller no rule names."""
    language: str | None = None
    """The language the call starts in (None: the number's, a caller rule's, the file's)."""


@dataclass(frozen=True, slots=True)
class TestFile:
    """A whole test file: the menu file it tests and its cases."""

    path: str
    menu_file: str
    """Path of the menu file, resolved against the test file's folder."""
    cases: tuple[Case, ...]


# --- reading the test file -------------------------------------------------------------


def _compose(path: str) -> tuple[Node | None, list[Problem], str]:
    """The node tree of the test file (or every reason there is none), and its text."""
    start = Location(path, 1, 1)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        return None, [Problem(start, f"cannot read the file: {exc.strerror or exc}", code="io")], ""
    if len(data) > MAX_BYTES:
        return (
            None,
            [Problem(start, f"the file is larger than {MAX_BYTES:,} bytes", code="too-big")],
            "",
        )
    source = compose_source(data, path, TEST_FILE)  # decoding and YAML: as the menu file's
    return source.root, source.problems, source.text


@dataclass(slots=True)
class _Defaults:
    """The `defaults` block: what a case that does not say otherwise uses."""

    number: str | None = None
    caller: str | None = None
    language: str | None = None
    at: datetime | None = None
    has_at: bool = False
    """`at` was written (even if wrongly: its error is then reported once, there)."""
    results: tuple[TransferResult, ...] | None = (TransferResult(True),)


def _keys(*names: str) -> fmt.Obj:
    """The keys a mapping of the test file may have, in the format's spec language."""
    return fmt.Obj(tuple(fmt.Field(name, fmt.TEXT) for name in names))


_TOP = _keys(*_TOP_KEYS)
_DEFAULTS = _keys(*_DEFAULT_KEYS)
_CASE = _keys(*_CASE_KEYS)
_EXPECT = _keys(*_EXPECT_KEYS)


class _Reader(NodeReader):
    """Turns the node tree into a `TestFile`, collecting every problem on the way."""

    HINTS = _HINTS

    def __init__(
        self, path: str, lines: Sequence[str] = (), menus_override: str | None = None
    ) -> None:
        super().__init__(path)
        self.path = path
        self.menus_override = menus_override
        """`router test --menus PATH`: the menu file tested instead of the one named."""
        self._zones: dict[str, str] | None = None
        """Schedule time zones by dialled number (`*`: the file's only one), read once."""
        self.menu_path: str | None = None
        self.expectations: list[Expectation] = []
        """Every expectation read, also of cases with errors elsewhere: their names are
        checked even when the file cannot run."""
        self.lines = lines
        """The file's lines, to see what a comment took away."""

    def error(
        self, node: Node, message: str, hint: str | None = None, code: str = "test-file"
    ) -> None:
        super().error(node, message, hint, code)

    def mapping(self, node: Node, what: str, spec: fmt.Obj) -> dict[str, Node] | None:
        """A mapping's values by key; unknown and repeated keys are reported."""
        return self.fields(node, spec, what, empty_ok=False)

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, Scalar) or node.is_null:
            self.error(node, f"{what} should be a single value")
            return None
        return node.value

    def read(self, root: Node) -> TestFile | None:
        top = self.mapping(root, "the test file", _TOP)
        if top is None:
            return None
        base = Path(self.path).parent
        menu_path = str(base / DEFAULT_MENU_FILE)
        if "menu_file" in top:
            written = self.text(top["menu_file"], "menu_file")
            if written is not None:
                menu_path = os.path.normpath(base / written)
        self.menu_path = menu_path
        defaults = _Defaults()
        if "defaults" in top and not _null(top["defaults"]):
            defaults = self.defaults(top["defaults"])
        cases_node = top.get("cases")
        if cases_node is None:
            self.error(root, "the test file has no 'cases'", "add a list of calls under 'cases:'")
            return None
        if not isinstance(cases_node, Seq) or not cases_node.items:
            self.error(
                cases_node, "'cases' should be a list of calls, each starting with '- name:'"
            )
            return None
        cases: list[Case] = []
        names: dict[str, Location] = {}
        for node in cases_node.items:
            case = self.case(node, defaults)
            if case is None:
                continue
            if case.name in names:
                first = names[case.name].line
                self.error(node, f"two cases are named '{case.name}' (first at line {first})")
                continue
            names[case.name] = case.loc
            cases.append(case)
        return TestFile(self.path, menu_path, tuple(cases))

    def defaults(self, node: Node) -> _Defaults:
        """Values every case inherits; read once, so a mistake in them is reported once."""
        fields = self.mapping(node, "defaults", _DEFAULTS) or {}
        out = _Defaults()
        if "number" in fields and not _null(fields["number"]):
            out.number = self.number(fields["number"], "defaults")
        if "caller" in fields and not _null(fields["caller"]):
            out.caller = self.caller(fields["caller"], "defaults")
        if "language" in fields and not _null(fields["language"]):
            out.language = self.text(fields["language"], "the language of defaults")
        if "at" in fields:
            out.has_at = True
            out.at = self.when(fields["at"], "defaults", out.number)
        if "transfer_results" in fields:
            out.results = self.results(fields["transfer_results"], "defaults")
        return out

    def case(self, node: Node, defaults: _Defaults) -> Case | None:
        fields = self.mapping(node, "a case", _CASE)
        if fields is None:
            return None
        name = self.text(fields["name"], "name") if "name" in fields else None
        if "name" not in fields:
            self.error(node, "this case has no 'name'", "name it after what the caller wants")
        what = f"case '{name}'" if name else "this case"
        number = defaults.number
        if "number" in fields:
            number = None if _null(fields["number"]) else self.number(fields["number"], what)
        caller = defaults.caller
        if "caller" in fields:
            caller = None if _null(fields["caller"]) else self.caller(fields["caller"], what)
        language = defaults.language
        if "language" in fields:
            language = (
                None
                if _null(fields["language"])
                else self.text(fields["language"], f"the language of {what}")
            )
        at = self.when(fields["at"], what, number) if "at" in fields else defaults.at
        if "at" not in fields and not defaults.has_at:
            self.error(
                node,
                f"{what} has no 'at' (the time of the call)",
                "e.g. at: 2026-12-01T10:00:00-05:00, or set it once under 'defaults'",
            )
        results = defaults.results
        if "transfer_results" in fields:
            results = self.results(fields["transfer_results"], what)
        keys = self.keys(fields["keys"], what) if "keys" in fields else ""
        expect = None
        if "expect" in fields:
            expect = self.expectation(fields["expect"], what)
        else:
            self.error(
                node, f"{what} has no 'expect'", "expect: hangup, or expect: {transfer: URI}"
            )
        if name is None or at is None or keys is None or results is None or expect is None:
            return None
        return Case(name, number, at, keys, results, expect, self.loc(node), caller, language)

    def caller(self, node: Node, what: str) -> str | None:
        value = self.text(node, f"the caller of {what}")
        if value is None:
            return None
        problem = caller_problem(value)
        if problem is not None:
            self.error(node, *problem)
            return None
        return value

    def number(self, node: Node, what: str) -> str | None:
        value = self.text(node, f"the number of {what}")
        if value is None:
            return None
        if value == "default":
            return None
        problem = number_problem(value)
        if problem is not None:
            self.error(node, *problem)
            return None
        return value

    def zone(self, number: str | None) -> str | None:
        """The time zone of the schedule a call to `number` starts by (else the one zone all
        the menu file's schedules share): where the test's times are meant to be. None
        when the menu file cannot be read or does not say."""
        if self._zones is None:
            self._zones = {}
            path = self.menus_override or self.menu_path
            try:
                menu_file = load_menu_file(path).menu_file if path else None
            except (MenuFileError, OSError):
                menu_file = None
            if menu_file is not None:
                zones = {s.timezone for s in menu_file.schedules.values()}
                for entry in menu_file.entries.values():
                    schedule = menu_file.schedules.get(entry.schedule or "")
                    if schedule is not None:
                        self._zones[entry.number] = schedule.timezone
                if len(zones) == 1:
                    self._zones.setdefault("*", zones.pop())
        return self._zones.get(number or "default") or self._zones.get("*")

    def when(self, node: Node, what: str, number: str | None = None) -> datetime | None:
        value = self.text(node, f"the time of {what}")
        if value is None:
            return None
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            self.error(node, f"'{value}' is not an ISO 8601 time", "e.g. 2026-12-01T10:00:00-05:00")
            return None
        if at.tzinfo is None:
            zone = self.zone(number)
            if zone is not None:
                offset = at.replace(tzinfo=ZoneInfo(zone)).isoformat()[len(at.isoformat()) :]
                hint = (
                    f"add the offset of the call's place: {value}{offset} is that time "
                    f"in {zone}, the time zone of the menu file's schedule; or Z for UTC"
                )
            else:
                hint = f"add the offset of the call's place, e.g. {value}-05:00, or Z for UTC"
            self.error(node, f"'{value}' has no time zone", hint)
            return None
        return at

    def keys(self, node: Node, what: str) -> str | None:
        if isinstance(node, Scalar) and node.is_null:
            # `keys: #` is `keys:` and a comment: the case would press nothing and pass
            # through silence. A call with no keys says so: `keys: ""`, or no `keys` at all.
            self.error(
                node,
                f"the keys of {what} are empty: an unquoted # starts a YAML comment",
                'quote the keys, e.g. keys: "#"; for a call without keys, write keys: ""',
            )
            return None
        value = self.text(node, f"the keys of {what}")
        if value is None:
            return None
        dropped = self._commented_keys(node)
        if dropped:
            self.error(
                node,
                f"the keys of {what} stop before '{dropped}': an unquoted # after a space "
                "starts a YAML comment",
                f'quote the keys: keys: "{value} {dropped}"'
                if " " in dropped
                else f'quote the keys: keys: "{value}{dropped}"',
            )
            return None
        bad = sorted({c for c in value if c != TIMEOUT and not c.isspace() and not Key.parse(c)})
        if bad:
            self.error(
                node,
                f"not keypad keys: {' '.join(bad)}",
                "use 0-9 * # A-D, and . for a time-out",
            )
            return None
        return "".join(c for c in value if not c.isspace())

    def _commented_keys(self, node: Node) -> str:
        """Keys lost to a comment after unquoted keys (`keys: 1 #`): the comment, if it holds
        only keypad keys (`# sales line` is a comment an admin meant)."""
        if not (isinstance(node, Scalar) and node.plain) or node.line >= len(self.lines):
            return ""
        rest = self.lines[node.line][node.column + len(node.value) :]
        comment = rest.lstrip()
        if not comment.startswith("#"):
            return ""
        if all(c == TIMEOUT or c.isspace() or Key.parse(c) for c in comment):
            return comment.rstrip()
        return ""

    def results(self, node: Node, what: str) -> tuple[TransferResult, ...] | None:
        items: list[Node]
        if isinstance(node, Seq):
            items = node.items
        elif isinstance(node, Scalar) and not node.is_null:
            items = [node]
        else:
            self.error(node, f"transfer_results of {what} should be a list like [486, ok]")
            return None
        out: list[TransferResult] = []
        for item in items:
            text = self.text(item, "a transfer result")
            if text is None:
                return None
            for part in text.split(","):
                try:
                    out.append(TransferResult.parse(part))
                except ValueError as exc:
                    self.error(item, str(exc))
                    return None
        if not out:
            self.error(node, f"transfer_results of {what} is empty")
            return None
        return tuple(out)

    def expectation(self, node: Node, what: str) -> Expectation | None:
        where: dict[str, Location] = {}
        if isinstance(node, Scalar) and node.value == "hangup":
            return Expectation(hangup=True, loc=self.loc(node))
        if isinstance(node, Scalar):
            self.error(
                node,
                f"the expectation of {what} should be 'hangup' or a mapping",
                "expect: hangup, or expect: {transfer: tel:+15105550100}",
            )
            return None
        fields = self.mapping(node, f"the expectation of {what}", _EXPECT)
        if fields is None:
            return None
        transfer = None
        hangup = False
        reason = None
        if "transfer" in fields and "hangup" in fields:
            self.error(node, f"{what} expects both a transfer and a hangup; choose one")
            return None
        if "transfer" in fields:
            transfer = self.text(fields["transfer"], "transfer")
            if transfer is None:
                return None
            where["transfer"] = self.loc(fields["transfer"])
        elif "hangup" in fields:
            hangup = True
            value = fields["hangup"]
            if isinstance(value, Scalar) and not value.is_null and value.value != "true":
                reason = _END_REASONS.get(value.value)
                if reason is None:
                    self.error(
                        value,
                        f"'{value.value}' is not a way a call ends",
                        "one of: " + ", ".join(_END_REASONS),
                    )
                    return None
        else:
            self.error(node, f"the expectation of {what} needs 'transfer' or 'hangup'")
            return None
        menus = None
        if "menus" in fields:
            menus_node = fields["menus"]
            if not isinstance(menus_node, Seq):
                self.error(menus_node, "menus should be a list of menu names, like [main, support]")
                return None
            names: list[str] = []
            for item in menus_node.items:
                name = self.text(item, "a menu name")
                if name is None:
                    return None
                where.setdefault(f"menus.{name}", self.loc(item))
                names.append(name)
            menus = tuple(names)
        extra = self.checks(fields, what, transfer is not None)
        if extra is None:
            return None
        found = Expectation(
            transfer, hangup, reason, menus, **extra, loc=self.loc(node), where=where
        )
        self.expectations.append(found)
        return found

    def checks(
        self, fields: Mapping[str, Node], what: str, transfer: bool
    ) -> dict[str, Any] | None:
        """What the tools cannot show in a path: the transfer's settings, what is heard."""
        out: dict[str, Any] = {}
        ok = True
        for name in _SETTINGS_KEYS:
            if name in fields and not transfer:
                self.error(
                    fields[name],
                    f"{name} in the expectation of {what} checks the transfer's settings, "
                    "but the case expects no transfer",
                    f"expect: {{transfer: NAME, {name}: ...}}",
                )
                ok = False
        if "ringing_timeout" in fields:
            value = self.text(fields["ringing_timeout"], "ringing_timeout")
            seconds = None if value is None else parse_duration(value)
            if seconds is None:
                self.error(
                    fields["ringing_timeout"],
                    f"ringing_timeout of {what} is not a duration",
                    "e.g. 25s",
                )
                ok = False
            out["ringing_timeout"] = seconds
        if "play_dialtone" in fields:
            value = self.text(fields["play_dialtone"], "play_dialtone")
            if value not in ("true", "false"):
                self.error(fields["play_dialtone"], "play_dialtone should be true or false")
                ok = False
            out["play_dialtone"] = value == "true"
        if "headers" in fields:
            headers = self.mapping_of_text(fields["headers"], f"the headers of {what}")
            ok = ok and headers is not None
            out["headers"] = headers
        if "hears" in fields:
            node = fields["hears"]
            items = node.items if isinstance(node, Seq) else [node]
            heard = [self.text(item, "what the caller hears") for item in items]
            if not heard or any(not h or not h.strip() for h in heard):
                self.error(node, f"hears in {what} should be words, or a list of them")
                ok = False
            out["hears"] = tuple(h for h in heard if h)
        if "voice" in fields:
            out["voice"] = self.text(fields["voice"], "voice")
            ok = ok and out["voice"] is not None
        if "language" in fields:
            out["language"] = self.text(fields["language"], "language")
            ok = ok and out["language"] is not None
        return out if ok else None

    def mapping_of_text(self, node: Node, what: str) -> dict[str, str] | None:
        if not isinstance(node, Map):
            self.error(node, f"{what} should be a mapping, like {{X-Source: ivr}}")
            return None
        out: dict[str, str] = {}
        for key, value in node.pairs:
            name = self.text(key, f"a header name in {what}")
            text = self.text(value, f"the value of a header in {what}")
            if name is None or text is None:
                return None
            out[name] = text
        return out


_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))


def _cut_by_comments(root: Node, lines: Sequence[str], path: str) -> Iterator[Problem]:
    """Values a YAML comment cut short: an unquoted value, then ` #` on the same line,
    where what is left of the value opens a bracket or a quote it never closes
    (`name: billing (2 then # so it does not wait)` is read as `billing (2 then`).

    An ordinary trailing comment (`at: 2026-12-01T10:00:00-08:00  # a Tuesday`) leaves
    a complete value behind and is never reported; keys have their own, stricter rule."""
    todo: list[tuple[Node, str]] = [(root, "")]
    while todo:
        node, key = todo.pop()
        if isinstance(node, Map):
            for k, v in node.pairs:
                todo.append((v, k.value if isinstance(k, Scalar) else ""))
            continue
        if isinstance(node, Seq):
            todo += [(item, key) for item in node.items]
            continue
        if not isinstance(node, Scalar) or not node.plain or node.line >= len(lines):
            continue
        value, line = node.value, lines[node.line]
        if "\n" in value or not line[node.column :].startswith(value):
            continue
        rest = line[node.column + len(value) :]
        if not rest[:1].isspace() or not rest.lstrip().startswith("#"):
            continue
        open_pair = any(value.count(a) > value.count(b) for a, b in _PAIRS)
        if not open_pair and value.count('"') % 2 == 0:
            continue
        where = Location(
            path, node.line + 1, node.column + len(value) + len(rest) - len(rest.lstrip()) + 1
        )
        whole = (value + rest).rstrip()
        named = f"the {key}" if key else "this value"
        yield Problem(
            where,
            f"a comment cuts {named} short: an unquoted # after a space starts a YAML "
            f"comment, so it reads '{value}'",
            Severity.WARNING,
            f'quote the whole value: {key + ": " if key else ""}"{whole}"'
            if '"' not in whole
            else f"quote the whole value with single quotes: '{whole}'",
            "comment-cuts-value",
        )


def _null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.is_null


def read_test_file(path: str, menus: str | None = None) -> tuple[TestFile | None, list[Problem]]:
    """Read a test file; the problems are every error found (the file is None if any).

    With errors, the names its expectations use are still checked against the menu file
    (`menus`, else the one the test file names), when that one loads: every problem of
    the file is reported at once, not those behind the first few."""
    root, problems, text = _compose(path)
    if root is None:
        return None, problems
    reader = _Reader(path, text.splitlines(), menus)
    test_file = reader.read(root)
    problems.extend(reader.problems)
    problems.extend(_cut_by_comments(root, reader.lines, path))
    if any(p.severity is Severity.ERROR for p in problems):
        problems.extend(_names_anyway(reader, menus))
        problems.sort(key=lambda p: (p.location.line, p.location.column))
        return None, problems
    problems.sort(key=lambda p: (p.location.line, p.location.column))
    return test_file, problems


def _names_anyway(reader: _Reader, menus: str | None) -> list[Problem]:
    menu_path = menus or reader.menu_path
    if menu_path is None or not reader.expectations:
        return []
    try:
        menu_file = load_menu_file(menu_path).menu_file
    except (MenuFileError, OSError):
        return []  # reported when the test file is fixed and the menu file is loaded
    return _check_expectations(reader.expectations, menu_file)


def check_names(test_file: TestFile, menu_file: MenuFile) -> list[Problem]:
    """Names in expectations that the menu file does not have (a typo would never pass)."""
    return _check_expectations([case.expect for case in test_file.cases], menu_file)


def _check_expectations(expectations: list[Expectation], menu_file: MenuFile) -> list[Problem]:
    problems: list[Problem] = []
    for expect in expectations:
        target = expect.transfer
        if target is not None and not target.startswith(_SCHEMES):
            if target not in menu_file.destinations:
                problems.append(
                    _unknown(
                        expect.where.get("transfer", expect.loc),
                        f"there is no destination named '{target}' in {menu_file.path}",
                        target,
                        menu_file.destinations,
                        "or write the URI: tel:+... or sip:...",
                    )
                )
        for name in expect.menus or ():
            if name not in menu_file.menus:
                problems.append(
                    _unknown(
                        expect.where.get(f"menus.{name}", expect.loc),
                        f"there is no menu named '{name}' in {menu_file.path}",
                        name,
                        menu_file.menus,
                        None,
                    )
                )
    return problems


def _unknown(
    loc: Location, message: str, name: str, known: Mapping[str, object], other: str | None
) -> Problem:
    close = difflib.get_close_matches(name, list(known), 1)
    hint = f"did you mean '{close[0]}'?" if close else other
    return Problem(loc, message, hint=hint, code="test-file")


# --- running a case ----------------------------------------------------------------------


@dataclass(slots=True)
class Coverage:
    """What of the menu file the cases reached, to show what no case tests."""

    menus: set[str] = field(default_factory=set)
    options: set[tuple[str, Key]] = field(default_factory=set)
    extensions: set[tuple[str, str]] = field(default_factory=set)
    """(directory, entry pattern)."""
    destinations: set[str] = field(default_factory=set)

    def gaps(self, menu_file: MenuFile) -> tuple[dict[str, tuple[int, int]], list[str]]:
        """Counts (reached, total) per kind, and one line per thing never reached."""
        lines: list[str] = []
        menus = menu_file.menus
        for name, menu in menus.items():
            if name not in self.menus:
                lines.append(f"{menu.loc}: menu '{name}' is never entered")
        options = [(name, key) for name, menu in menus.items() for key in menu.options]
        for name, key in options:
            if (name, key) not in self.options and name in self.menus:
                where = menus[name].where.get(f"options.{key.value}", menus[name].loc)
                lines.append(f"{where}: option '{key.value}' of menu '{name}' is never pressed")
        used = {m.directory for m in menus.values() if m.directory}
        entries = [
            (d.name, e.pattern, e.loc)
            for d in menu_file.directories.values()
            if d.name in used
            for e in d.entries
        ]
        for directory, pattern, loc in entries:
            if (directory, pattern) not in self.extensions:
                lines.append(
                    f"{loc}: extension '{pattern}' of directory '{directory}' is never dialled"
                )
        for name, dest in menu_file.destinations.items():
            if name not in self.destinations:
                lines.append(f"{dest.loc}: destination '{name}' is never transferred to")
        counts = {
            "menus": (len(self.menus & set(menus)), len(menus)),
            "options": (sum(o in self.options for o in options), len(options)),
            "extensions": (
                sum((d, p) in self.extensions for d, p, _ in entries),
                len(entries),
            ),
            "destinations": (
                len(self.destinations & set(menu_file.destinations)),
                len(menu_file.destinations),
            ),
        }
        return counts, lines


class _Follower:
    """Watches the navigator's events and effects: the path of the call, what it reached.

    The navigator's notes say what each key did (`OptionChosen`, `ExtensionDialled`),
    so coverage is read from them, never worked out again here.
    """

    def __init__(self, menu_file: MenuFile, coverage: Coverage) -> None:
        self.menu_file = menu_file
        self.coverage = coverage
        self.path: list[str] = []
        self.menus: list[str] = []
        self.menu: str | None = None
        self.target: str | None = None
        self.destination: str | None = None
        self.settings: TransferSettings | None = None
        self.end: EndReason | None = None
        self.heard: list[tuple[Prompt, str | None, str]] = []
        """Every prompt played, with the voice it was spoken in and the menu then."""
        self.language: str | None = None
        """The caller's language (a file with `languages`)."""

    def __call__(self, event: Event, effects: Sequence[Effect]) -> None:
        for effect in effects:
            self._show(effect)
        # the runtime speaks an event's prompts in their language's voice, else in the
        # voice of the menu the event leaves the call in (a `{menu: X, say: ...}` is X's)
        menu = self.menu_file.menus.get(self.menu or "")
        voice = menu.voice if menu is not None else None
        for effect in effects:
            if isinstance(effect, Play):
                self.heard += [
                    (p, self.menu_file.voice_for(p, voice), self.menu or "") for p in effect.prompts
                ]
            elif isinstance(effect, LanguageChosen):
                self.language = effect.language

    def _show(self, effect: Effect) -> None:
        match effect:
            case MenuEntered(menu=menu):
                self.menu = menu
                if menu is not None:
                    self.menus.append(menu)
                    self.coverage.menus.add(menu)
                    self.path.append(f"{'> ' if self.path else ''}{menu}")
            case KeyPressed(key=key):
                self.path.append(key.value)
            case OptionChosen(menu=menu, key=key) if menu is not None:
                self.coverage.options.add((menu, key))
            case ExtensionDialled(directory=directory, pattern=pattern):
                self.coverage.extensions.add((directory, pattern))
            case NoInput():
                self.path.append(TIMEOUT)
            case InvalidEntry(entry=entry):
                self.path.append(f"(invalid {entry})")
            case LimitReached(limit=limit):
                self.path.append(f"(limit: {limit.value})")
            case TransferTo(target=target, destination=destination, settings=settings):
                self.target, self.destination, self.settings = target, destination, settings
                if destination is not None:
                    self.coverage.destinations.add(destination)
                named = f"{destination} " if destination else ""
                self.path.append(f"> transfer {named}<{target}>")
            case TransferFailure(kind=kind, sip_status=status):
                self.path.append(
                    f"({kind.value} {status})" if status is not None else f"({kind.value})"
                )
            case TransferConnected():
                self.path.append("(ok)")
            case Disconnect(reason=reason):
                self.end = reason
                if reason is not EndReason.TRANSFERRED:
                    label = "" if reason is EndReason.HANGUP else f" ({reason.value})"
                    self.path.append(f"> hangup{label}")
            case _:
                pass

    def outcome(self) -> str:
        if self.end is EndReason.TRANSFERRED:
            if self.destination:
                return f"transfer {self.destination} <{self.target}>"
            return f"transfer {self.target}"
        if self.end is None or self.end is EndReason.HANGUP:
            return "hangup"
        return f"hangup ({self.end.value})"


def _named(menu_file: MenuFile, wanted: str) -> str:
    """A destination with its URI, a URI with the destination it belongs to, if any."""
    if not wanted.startswith(_SCHEMES):
        found = menu_file.destinations.get(wanted)
        return f"{wanted} <{found.target}>" if found is not None else wanted
    for name, transfer in menu_file.destinations.items():
        if transfer.target == wanted:
            return f"{name} <{wanted}>"
    return wanted


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one case went."""

    case: Case
    passed: bool
    path: str
    """The path taken, e.g. `main 2 > support 1 > transfer support_desk <sip:...> (ok)`."""
    got: str
    """Where the call ended: `transfer <uri>`, `hangup` or `hangup (<reason>)`."""
    menus: tuple[str, ...]
    mismatches: tuple[str, ...]
    transcript: str
    """`router simulate`'s printout of the call."""


def run_case(
    menu_file: MenuFile,
    case: Case,
    coverage: Coverage | None = None,
    *,
    verbose: bool = False,
) -> CaseResult:
    """Run one case through the simulator and compare the call with the expectation; the
    transcript is `router simulate`'s printout (`verbose`: with `-v`'s bookkeeping)."""
    follower = _Follower(menu_file, coverage if coverage is not None else Coverage())
    transcript = io.StringIO()
    expect = case.expect
    for code in (case.language, expect.language):
        if code is not None and code not in menu_file.languages:
            declared = ", ".join(menu_file.languages) or "none"
            problem = f"language {code} is not one of the menu file's languages ({declared})"
            return CaseResult(case, False, "", "", (), (problem,), "")
    simulate(
        menu_file,
        number=case.number,
        caller=case.caller,
        language=case.language,
        at=case.at,
        keys=case.keys,
        results=list(case.results),
        out=transcript,
        observe=follower,
        verbose=verbose,
    )
    mismatches: list[str] = []
    if expect.language is not None and follower.language != expect.language:
        mismatches.append(f"expected the call in {expect.language}, got {follower.language}")
    transferred = follower.end is EndReason.TRANSFERRED
    if expect.transfer is not None:
        wanted = expect.transfer
        got_it = transferred and (
            follower.target == wanted
            if wanted.startswith(_SCHEMES)
            else follower.destination == wanted
        )
        if not got_it:
            mismatches.append(
                f"expected transfer {_named(menu_file, wanted)}, got {follower.outcome()}"
            )
    elif transferred or (expect.reason is not None and follower.end is not expect.reason):
        mismatches.append(
            f"expected {Expectation(hangup=True, reason=expect.reason)}, got {follower.outcome()}"
        )
    if transferred and follower.settings is not None:
        mismatches += _settings_mismatches(expect, follower.settings)
    mismatches += _heard_mismatches(expect, follower.heard)
    menus = tuple(follower.menus)
    if expect.menus is not None and menus != expect.menus:
        mismatches.append(
            f"expected menus {' > '.join(expect.menus)}, got {' > '.join(menus) or '(none)'}"
        )
    return CaseResult(
        case,
        not mismatches,
        " ".join(follower.path),
        follower.outcome(),
        menus,
        tuple(mismatches),
        transcript.getvalue(),
    )


def _settings_mismatches(expect: Expectation, settings: TransferSettings) -> list[str]:
    out: list[str] = []
    wanted = expect.ringing_timeout
    if wanted is not None and abs(settings.ringing_timeout_s - wanted) > 1e-6:
        out.append(f"expected ringing_timeout {wanted:g}s, got {settings.ringing_timeout_s:g}s")
    if expect.play_dialtone is not None and settings.play_dialtone is not expect.play_dialtone:
        out.append(
            f"expected play_dialtone {str(expect.play_dialtone).lower()}, "
            f"got {str(settings.play_dialtone).lower()}"
        )
    sent = {name.lower(): (name, value) for name, value in settings.headers.items()}
    for name, value in (expect.headers or {}).items():
        got = sent.get(name.lower())
        if got is None:
            others = ", ".join(f"{n}: {v}" for n, v in sent.values()) or "none"
            out.append(f"expected header {name}: {value}, got no {name} (sent: {others})")
        elif got[1] != value:
            out.append(f"expected header {name}: {value}, got {got[0]}: {got[1]}")
    return out


def _heard_mismatches(
    expect: Expectation, heard: Sequence[tuple[Prompt, str | None, str]]
) -> list[str]:
    out: list[str] = []
    texts = [prompt.text for prompt, _, _ in heard if prompt.text]
    flat = [" ".join(text.split()).lower() for text in texts]
    for words in expect.hears:
        wanted = " ".join(words.split()).lower()
        if not any(wanted in text for text in flat):
            said = "; ".join(f'"{_short(t)}"' for t in dict.fromkeys(texts))
            out.append(f'expected to hear "{words}", but the caller heard: {said or "nothing"}')
    if expect.voice is not None:
        wanted_voice = _voice_key(None if expect.voice == "default" else expect.voice)
        for prompt, voice, menu in heard:
            if prompt.text and _voice_key(voice) != wanted_voice:
                spoken = "the router's voice" if voice is None else f"voice {voice}"
                out.append(
                    f'expected every prompt in voice {expect.voice}, but "{_short(prompt.text)}" '
                    f"was spoken in {spoken} (menu {menu})"
                )
                break
    return out


def _voice_key(voice: str | None) -> str:
    return "" if voice is None else voice.strip().lower().replace("_", "-")


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


# --- the command -------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_TEST_FILE,
        help=f"the test file (default: ./{DEFAULT_TEST_FILE})",
    )
    parser.add_argument(
        "--menus",
        metavar="PATH",
        help="test this menu file instead of the one the test file names",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures and the summary"
    )
    parser.add_argument(
        "--transcript",
        action="store_true",
        help="print each call as `router simulate` does, under its result",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --transcript: also the router's bookkeeping, as `router simulate -v`",
    )


def run(args: argparse.Namespace) -> int:
    out: TextIO = sys.stdout
    test_file, problems = read_test_file(args.path, args.menus)
    for problem in problems:
        print(problem, file=sys.stderr)
    if test_file is None:
        print(f"router test: {args.path} cannot be used", file=sys.stderr)
        return 1
    menu_path = args.menus or test_file.menu_file
    menu_file = load_or_report(menu_path, "test")
    if menu_file is None:
        return 1
    names = check_names(test_file, menu_file)
    for problem in names:
        print(problem, file=sys.stderr)
    if names:
        print(f"router test: {len(names)} error(s) in {args.path}", file=sys.stderr)
        return 1
    print(
        f"{args.path}: {len(test_file.cases)} cases for {menu_path} (version {menu_file.version})",
        file=out,
    )
    coverage = Coverage()
    failed = 0
    for case in test_file.cases:
        result = run_case(menu_file, case, coverage, verbose=args.verbose)
        failed += not result.passed
        for line in _report(result, quiet=args.quiet, transcript=args.transcript):
            print(line, file=out)
    total = len(test_file.cases)
    print(f"{total - failed} passed, {failed} failed", file=out)
    counts, gaps = coverage.gaps(menu_file)
    summary = ", ".join(f"{kind} {got}/{of}" for kind, (got, of) in counts.items())
    print(f"coverage: {summary}", file=out)
    for line in gaps:
        print(f"  {line}", file=out)
    return 1 if failed else 0


def _report(result: CaseResult, *, quiet: bool, transcript: bool) -> Iterator[str]:
    case = result.case
    if result.passed:
        if quiet:
            return
        yield f"PASS  {case.name}"
    else:
        yield f"FAIL  {case.loc}: {case.name}"
        for mismatch in result.mismatches:
            yield f"      {mismatch}"
    yield f"      path: {result.path}"
    if transcript:
        for line in result.transcript.splitlines():
            yield f"      | {line}"
