"""Turning an untrusted `menus.yaml` into a `MenuFile`, or into every reason it cannot be one.

The loader reads bytes, not objects: it refuses oversized, binary and non-UTF-8
files with one sentence, builds a YAML node tree with line and column (see
`router.core.yamlsafe` for why it is not `yaml.safe_load`), and converts that tree
itself, following `router.core.format`. It never stops at the first mistake: each
finding becomes a `Problem` and conversion carries on, so an admin fixes the whole
file in one go. Finally the checker (`router.core.checker.check`) looks at the
file as a whole: references, reachability, shadowed keys, loops.

Inheritance is resolved here, so nothing downstream needs to know about it:

    built-in < defaults < menu              timeouts, limits, messages, on_limit,
                                            on_transfer_failure (per kind)
    defaults.transfer < destination < option   play_dialtone, ringing_timeout,
                                            headers (merged by name), say/audio
"""

from __future__ import annotations

import difflib
import gc
import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

import yaml

from router.core import format as fmt
from router.core.checker import check
from router.core.durations import MAX_DURATION, parse_duration
from router.core.errors import Location, MenuFileError, Problem, Severity
from router.core.keys import Key
from router.core.model import (
    NOWHERE,
    Action,
    Back,
    Directory,
    DirectoryEntry,
    Entry,
    FailureKind,
    FailurePolicy,
    GoTo,
    Hangup,
    Limits,
    Menu,
    MenuFile,
    Messages,
    Prompt,
    Repeat,
    Say,
    Schedule,
    Timeouts,
    Top,
    Transfer,
    TransferSettings,
    Weekday,
)
from router.core.timezones import timezone_problem, timezone_warning
from router.core.values import (
    SCHEMES,
    header_name_problem,
    header_value_problem,
    number_key_problem,
    sample_extension,
    target_problem,
    unknown_target,
)
from router.core.yamlsafe import ComposeLimits, Map, Node, Scalar, Seq, TooBig, compose

__all__ = [
    "APOLOGY",
    "BUILTIN_FAILURE_POLICY",
    "BUILTIN_ON_LIMIT",
    "GOODBYE",
    "MAX_BYTES",
    "MAX_PROMPT_CHARS",
    "Loaded",
    "load_menu_file",
    "load_menu_text",
    "read_menu_text",
]

MAX_BYTES = 1_000_000
"""A large real menu file is tens of kilobytes; a megabyte leaves room and stops accidents."""

MAX_PROMPT_CHARS = 5_000
"""Characters of text in one message. Spoken at about 1,000 characters a minute, that is
five minutes: more than any menu's greeting, terms or address (a long one is 1,000).
Far beyond it, a message is a pasted document: 51 KB of text rendered for 12 s in
1.5 GB of memory into an hour of speech, at every load of the file."""

MAX_PROBLEMS = 200
"""Problems reported for one file; past that, one line says how many more there are."""
APOLOGY = "Sorry, that line is not available right now."
_SORRY = Repeat(message=Prompt(APOLOGY))
BUILTIN_FAILURE_POLICY = FailurePolicy(busy=_SORRY, no_answer=_SORRY, rejected=_SORRY, error=_SORRY)
"""Used when the file sets no `on_transfer_failure`: apologise and offer the menu again."""
GOODBYE = "Sorry, I could not help you this time. Please call again. Goodbye."
BUILTIN_ON_LIMIT = Hangup(message=Prompt(GOODBYE))
"""Used when the file sets no `on_limit`: never a silent hang-up."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A menu file that passed every check, and the warnings it still deserves."""

    menu_file: MenuFile
    warnings: tuple[Problem, ...]


def load_menu_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> Loaded:
    """Read, convert and check a menu file; raise `MenuFileError` with every problem found."""
    name = os.fspath(path)
    where = Location(name, 1, 1)
    try:
        with open(name, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise MenuFileError([_too_big(where, size, max_bytes)])
            data = f.read(max_bytes + 1)  # st_size is 0 for pipes and devices: read no further
    except IsADirectoryError:
        raise MenuFileError(
            [Problem(where, "this is a folder, not a menu file", code="unreadable")]
        ) from None
    except OSError as exc:
        raise MenuFileError(
            [Problem(where, f"cannot read the file: {exc.strerror or exc}", code="unreadable")]
        ) from None
    return load_menu_text(
        data, filename=name, base_dir=Path(name).resolve().parent, max_bytes=max_bytes
    )


def load_menu_text(
    text: str | bytes, *, filename: str, base_dir: Path, max_bytes: int = MAX_BYTES
) -> Loaded:
    """Convert and check the text of a menu file; raise `MenuFileError` with every problem found.

    `filename` is only used in messages; audio paths are resolved against `base_dir`.
    """
    menu_file, problems = read_menu_text(
        text, filename=filename, base_dir=base_dir, max_bytes=max_bytes
    )
    if menu_file is None or any(p.severity is Severity.ERROR for p in problems):
        raise MenuFileError(problems)
    return Loaded(menu_file, tuple(problems))


def read_menu_text(
    text: str | bytes, *, filename: str, base_dir: Path, max_bytes: int = MAX_BYTES
) -> tuple[MenuFile | None, list[Problem]]:
    """Like `load_menu_text`, but return the problems (errors and warnings) instead of raising.

    The menu file is None when nothing usable could be read; otherwise it is the best
    reading of the file, which is only safe to use if no problem is an error.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    start = Location(filename, 1, 1)
    if len(data) > max_bytes:
        return None, [_too_big(start, len(data), max_bytes)]
    decoded = _decode(data, filename)
    if isinstance(decoded, Problem):
        return None, [decoded]
    with _no_gc():
        try:
            composed = compose(decoded, filename, ComposeLimits())
        except TooBig as exc:
            return None, [exc.problem]
        except yaml.MarkedYAMLError as exc:
            # `#:` above an indented action breaks the YAML: name the cause first
            return None, [
                *_unquoted_pound_keys(decoded, filename),
                _syntax_problem(exc, filename, decoded),
            ]
        except yaml.YAMLError as exc:  # e.g. the reader refusing a character: never a traceback
            return None, [Problem(start, f"YAML: {exc}", code="yaml-syntax")]
        problems = list(composed.problems)
        if composed.root is None or (isinstance(composed.root, Scalar) and composed.root.is_null):
            return None, [
                *problems,
                Problem(start, "the file is empty", hint="start with 'version: 1'", code="empty"),
            ]
        problems.extend(_unquoted_pound_keys(decoded, filename))
        reader = _Reader(filename, base_dir)
        menu_file = reader.read(composed.root, hashlib.sha256(data).hexdigest()[:12])
        problems.extend(reader.problems)
        incomplete = frozenset(reader.incomplete)
        # Drop the node tree while the collector is still off: freed by reference counting,
        # it never has to be walked by a collection (a quarter of the time for big files).
        del composed, reader
        if menu_file is not None:
            problems.extend(check(menu_file, incomplete=incomplete, base_dir=base_dir))
    problems.sort(key=lambda p: (p.location.line, p.location.column))
    if len(problems) > MAX_PROBLEMS:
        errors = sum(p.severity is Severity.ERROR for p in problems[MAX_PROBLEMS:])
        last = problems[MAX_PROBLEMS - 1].location
        problems = problems[:MAX_PROBLEMS] + [
            Problem(
                last,
                f"... and {len(problems) - MAX_PROBLEMS:,} more problems ({errors:,} errors) "
                "after this line",
                severity=Severity.ERROR if errors else Severity.WARNING,
                hint="fix these first; is this the right file?",
                code="too-many-problems",
            )
        ]
    return menu_file, problems


# --- bytes to text -----------------------------------------------------------------------

_CONTROL = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What YAML does not allow in a file: C0 and C1 controls (but tab, newlines, NEL),
surrogates, U+FFFE and U+FFFF (the reader's NON_PRINTABLE class)."""


def _too_big(where: Location, size: int, limit: int) -> Problem:
    return Problem(
        where,
        f"the file is {size:,} bytes; menu files are limited to {limit:,} bytes",
        hint="is this the right file?",
        code="too-big",
    )


def _decode(data: bytes, filename: str) -> str | Problem:
    """UTF-8 text, or the one reason this is not a text file an admin wrote."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Problem(
            Location(filename, 1, 1),
            "the file is UTF-16, not UTF-8",
            hint="save it as UTF-8",
            code="not-utf8",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    if nul >= 0:
        return Problem(
            _byte_location(data, nul, filename),
            "this is not a text file (it contains binary data)",
            hint="a menu file is YAML text, usually menus.yaml",
            code="binary",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Problem(
            _byte_location(data, exc.start, filename),
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02X} here)",
            hint="save it as UTF-8",
            code="not-utf8",
        )
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        code_point = ord(bad.group())
        kind = "control character" if code_point < 0xA0 else "character YAML does not allow,"
        return Problem(
            Location(filename, line, column),
            f"this is not a text file ({kind} U+{code_point:04X})",
            hint="a menu file is YAML text, usually menus.yaml",
            code="binary",
        )
    return text


def _byte_location(data: bytes, offset: int, filename: str) -> Location:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Location(filename, data.count(b"\n", 0, offset) + 1, column)


def _syntax_problem(exc: yaml.MarkedYAMLError, filename: str, text: str) -> Problem:
    """A YAML syntax error in the admin's words, with a hint for the usual causes."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line, mark.column) if mark is not None else (0, 0)
    message = f"YAML syntax: {exc.problem or exc.context}"
    hint = None
    if exc.context and exc.context_mark is not None and exc.problem:
        context = exc.context_mark
        hint = f"{exc.context} at line {context.line + 1}, column {context.column + 1}"
    lines = text.splitlines()
    here = lines[line] if line < len(lines) else ""
    if exc.context in ("while scanning an alias", "while scanning an anchor") and exc.context_mark:
        line, column = exc.context_mark.line, exc.context_mark.column
        sign = "*" if exc.context.endswith("alias") else "&"
        message = f"YAML syntax: a bare {sign} starts a YAML {exc.context.rsplit(' ', 1)[1]}"
        hint = f'to use {sign} as a key or a value, quote it: "{sign}"'
    elif "\t" in here[: column + 1] or "'\\t'" in str(exc.problem):
        hint = "indent with spaces, not tabs"
    return Problem(Location(filename, line + 1, column + 1), message, hint=hint, code="yaml-syntax")


_POUND_KEY = re.compile(r"^(\s*)#\s*:(.*)$")
_ACTION_START = re.compile(r"^(?:repeat|back|top|hangup)\b|^[{\"']", re.IGNORECASE)


def _unquoted_pound_keys(text: str, filename: str) -> Iterator[Problem]:
    """`#: hangup` is a YAML comment, not an option: the caller's # would do nothing.

    An error when what follows is an action (`#: hangup`, `#: {transfer: x}`, or `#:`
    with the action indented on the lines below); a warning when it reads like prose
    (`#: see the wiki`), which may be a comment the admin meant.
    """
    if "#" not in text:
        return
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        m = _POUND_KEY.match(line)
        if m is None:
            continue
        indent, rest = m.group(1), m.group(2).strip()
        if rest:
            action = bool(_ACTION_START.match(rest))
        else:
            below = next((n for n in lines[number:] if n.strip()), "")
            action = len(below) - len(below.lstrip()) > len(indent)
            if not action:
                continue  # `#:` alone, nothing under it: a comment, nothing was lost
        yield Problem(
            Location(filename, number, len(indent) + 1),
            "this line is a comment, so it defines no option: an unquoted # starts a YAML comment",
            severity=Severity.ERROR if action else Severity.WARNING,
            hint='to use the # key, quote it: "#":',
            code="pound-comment",
        )


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cycle collector while building hundreds of thousands of acyclic objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- nodes to model --------------------------------------------------------------------

_HINTS: Mapping[str, str] = {
    "announce": "say",
    "announcement": "say",
    "message": "say",
    "text": "say",
    "goto": "menu",
    "go_to": "menu",
    "submenu": "menu",
    "timeout": "timeouts",
    "dialtone": "play_dialtone",
    "ring_timeout": "ringing_timeout",
    "tz": "timezone",
    "time_zone": "timezone",
    "welcome": "greeting",
    "extensions": "directory",
    "keys": "options",
    "choices": "options",
    "target": "to",
    "uri": "to",
    "hang_up": "hangup",
    "on_transfer_failed": "on_transfer_failure",
    "on_fail": "on_failure",
}

_WEEKDAYS = {name: Weekday(i) for i, name in enumerate(fmt.DAY_NAMES)}
_DAY_GROUPS = {
    "daily": tuple(Weekday),
    "weekdays": tuple(Weekday)[:5],
    "weekends": (Weekday.SAT, Weekday.SUN),
}
_S = TypeVar("_S", Timeouts, Limits, Messages)
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})
_INT = re.compile(r"^[+-]?[0-9]+$")
_NAME = re.compile(fmt.NAME_PATTERN)
_E164 = re.compile(fmt.E164_PATTERN)
_EXTENSION = re.compile(fmt.EXTENSION_PATTERN)
_DAYS = re.compile(fmt.DAYS_PATTERN)
_HOURS = re.compile(fmt.HOURS_PATTERN)
_DATE = re.compile(fmt.DATE_PATTERN)
_SCHEMES = SCHEMES
_OPTION_KEYS = {
    text: (k, f"options.{k.value}", k.value) for k in Key for text in {k.value, k.value.lower()}
}
"""Key as written -> (Key, its name in `Menu.where`, its symbol): enum lookups are slow."""
_KINDS = tuple(FailureKind)
_END_OF_DAY = time.max


class _Fields(dict[str, Node]):
    """The keys present in a mapping (validated against its `Obj` spec), and their key nodes."""

    __slots__ = ("key_nodes",)
    key_nodes: dict[str, Node]
    # no __init__: one is made per mapping in the file, and a Python-level call costs


class _Places(Mapping[str, Location]):
    """`Menu.where`: locations made only when asked for (a file has a hundred thousand)."""

    __slots__ = ("_file", "_nodes")

    def __init__(self, file: str, nodes: dict[str, int]) -> None:
        self._file = file
        self._nodes = nodes

    def __getitem__(self, name: str) -> Location:
        packed = self._nodes[name]
        return Location(self._file, (packed >> 32) + 1, (packed & 0xFFFFFFFF) + 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"_Places({dict(self)!r})"


@dataclass(slots=True)
class _Dest:
    """A named destination as written, before the transfers that use it are built."""

    name: str
    transfer: Transfer
    failure_node: Node | None
    failure: dict[FailureKind, Action] | None = None
    busy: bool = False


@dataclass(frozen=True, slots=True)
class _Overrides:
    """Transfer settings written on a destination or option (None: not written)."""

    play_dialtone: bool | None = None
    ringing_timeout: float | None = None
    headers: Mapping[str, str] | None = None
    announce: Prompt | None = None

    def apply(self, base: TransferSettings) -> TransferSettings:
        if self == _NO_OVERRIDES:
            return base
        headers = base.headers
        if self.headers:
            headers = MappingProxyType({**base.headers, **self.headers})
        return TransferSettings(
            play_dialtone=base.play_dialtone if self.play_dialtone is None else self.play_dialtone,
            ringing_timeout=base.ringing_timeout
            if self.ringing_timeout is None
            else self.ringing_timeout,
            headers=headers,
            announce=self.announce if self.announce is not None else base.announce,
        )


_NO_OVERRIDES = _Overrides()


class _Inherited(NamedTuple):
    """What a menu inherits: built-in < the file's defaults < its number's defaults."""

    timeouts: Timeouts
    limits: Limits
    messages: Messages
    on_limit: tuple[Action, Action]
    """On the invalid limit, on the no-input limit."""
    voice: str | None
    voice_at: int | None = None
    """Where the voice was written (line << 32 | column), for findings about it."""


def _leads_to(menu: Menu) -> Iterator[str]:
    """The menus a menu can lead to, by any action of its own."""
    actions: list[Action] = [*menu.options.values(), menu.on_limit]
    if menu.on_no_input_limit is not None:
        actions.append(menu.on_no_input_limit)
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


class _Reported:
    """The reason a value is unusable has been reported already; do not look again."""


_REPORTED = _Reported()


class _Reader:
    """One conversion of one file; collects problems instead of raising them."""

    def __init__(self, file: str, base_dir: Path) -> None:
        self.file = file
        self.base_dir = base_dir
        self.problems: list[Problem] = []
        self.incomplete: set[str] = set()
        """Menus with errors inside: whole-file rules about them would only add noise."""
        self.dests: dict[str, _Dest] = {}
        self.settings = TransferSettings()
        self.policy = BUILTIN_FAILURE_POLICY
        self._menu: str | None = None
        self._audio_cache: dict[str, str] = {}
        self._number_defaults: dict[str, tuple[str, _Inherited, FailurePolicy]] = {}
        """Numbers with `defaults` of their own: (where written, what menus inherit, policy)."""

    # -- reporting ------------------------------------------------------------------

    def loc(self, node: Node) -> Location:
        return Location(self.file, node.line + 1, node.column + 1)

    def error(self, node: Node, message: str, hint: str | None = None, code: str = "") -> None:
        self.problems.append(Problem(self.loc(node), message, Severity.ERROR, hint, code))
        if self._menu is not None:
            self.incomplete.add(self._menu)

    def warn(self, node: Node, message: str, hint: str | None = None, code: str = "") -> None:
        self.problems.append(Problem(self.loc(node), message, Severity.WARNING, hint, code))

    # -- structure ------------------------------------------------------------------

    def pairs(self, node: Map) -> list[tuple[Node, Node]]:
        """The mapping's pairs, with YAML merge keys (`<<: *base`) expanded; written keys win."""
        pairs = node.pairs
        if not node.merge:
            return pairs
        written = [
            (k, v) for k, v in pairs if not (type(k) is Scalar and k.value == "<<" and k.plain)
        ]
        seen = {k.value for k, _ in written if type(k) is Scalar}
        merged: list[tuple[Node, Node]] = []
        for k, v in pairs:
            if not (type(k) is Scalar and k.value == "<<" and k.plain):
                continue
            sources = v.items if type(v) is Seq else [v]
            for source in sources:
                if type(source) is not Map:
                    self.error(
                        source,
                        "a merge key (<<) takes a mapping or a list of mappings",
                        code="yaml-merge",
                    )
                    continue
                for mk, mv in self.pairs(source):
                    if type(mk) is Scalar and mk.value not in seen:
                        seen.add(mk.value)
                        merged.append((mk, mv))
        return merged + written

    def fields(
        self, node: Node | None, spec: fmt.Obj, what: str, *, verb: str | None = None
    ) -> _Fields | None:
        """Check a mapping's keys against its spec: unknown, duplicate, missing required."""
        if node is None:
            return None
        if type(node) is not Map:
            if type(node) is Scalar and node.is_null and not spec.required:
                empty = _Fields()  # `timeouts:` with nothing after it: nothing to change
                empty.key_nodes = {}
                return empty
            self.error(
                node,
                f"{what} should be a mapping of keys (like `{next(iter(spec.fields)).name}: ...`)",
                code="not-mapping",
            )
            return None
        out = _Fields()
        out.key_nodes = {}
        names = spec.names
        meant: set[str] = set()
        for key, value in self.pairs(node):
            if type(key) is not Scalar:
                self.error(key, f"a key in {what} must be a plain word", code="bad-key")
                continue
            name = key.value
            if name not in names:
                guess = self._unknown(key, name, names, what, verb)
                if guess is not None:
                    meant.add(guess)
                continue
            if name in out:
                first = out.key_nodes[name]
                self.error(
                    key,
                    f"'{name}' appears twice in {what} (first at line {first.line + 1})",
                    hint="a key can be given only once; the file would silently lose one",
                    code="duplicate-key",
                )
                continue
            out[name] = value
            out.key_nodes[name] = key
        for name in spec.required:
            if name not in out and name not in meant:  # "did you mean" already said it
                self.error(
                    node,
                    f"{what} has no '{name}'",
                    hint=_REQUIRED_HINTS.get(name),
                    code="missing-key",
                )
        return out

    def _unknown(
        self, key: Node, name: str, names: frozenset[str], what: str, verb: str | None
    ) -> str | None:
        """Report an unknown key; return the key it was probably meant to be."""
        if verb is not None and name in fmt.TRANSFER_MODIFIERS:
            self.error(
                key, f"'{name}' only goes with a transfer, not with '{verb}'", code="unknown-key"
            )
            return None
        if verb is not None and name in fmt.VERBS:
            self.error(
                key, f"an action has one verb; this one has '{verb}' and '{name}'", code="two-verbs"
            )
            return None
        guess = _HINTS.get(name.lower())
        if guess not in names:
            close = difflib.get_close_matches(name.lower(), sorted(names), n=1, cutoff=0.6)
            guess = close[0] if close else None
        if guess is not None:
            hint = f"did you mean '{guess}'?"
        else:
            hint = "expected one of: " + ", ".join(sorted(names))
        self.error(key, f"unknown key '{name}' in {what}", hint=hint, code="unknown-key")
        return guess

    def entries(self, node: Node | None, what: str) -> list[tuple[Scalar, Node]]:
        """The pairs of a mapping whose keys the admin chooses; duplicates reported here."""
        if node is None:
            return []
        if type(node) is not Map:
            if not (type(node) is Scalar and node.is_null):
                self.error(
                    node,
                    f"{what} should be a mapping (name: value, one per line)",
                    code="not-mapping",
                )
            return []
        out: list[tuple[Scalar, Node]] = []
        seen: dict[str, Node] = {}
        for key, value in self.pairs(node):
            if type(key) is not Scalar:
                self.error(key, f"a key in {what} must be a plain word or number", code="bad-key")
                continue
            previous = seen.get(key.value)
            if previous is not None:
                self.error(
                    key,
                    f"'{key.value}' appears twice in {what} (first at line {previous.line + 1})",
                    hint="a key can be given only once; the file would silently lose one",
                    code="duplicate-key",
                )
                continue
            seen[key.value] = key
            out.append((key, value))
        return out

    def name(self, node: Scalar, what: str) -> str | None:
        if _NAME.match(node.value):
            return node.value
        self.error(
            node,
            f"'{node.value}' is not a usable {what} name",
            hint="use letters, digits, _ and -, starting with a letter (e.g. after_hours)",
            code="bad-name",
        )
        return None

    # -- leaves ---------------------------------------------------------------------

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        if type(node) is Scalar:
            if node.is_null:
                self.error(node, f"{what} is empty", code="empty-value")
                return None
            value: str = node.value
            if not empty_ok and not value.strip():
                self.error(node, f"{what} is empty", code="empty-value")
                return None
            return value
        self.error(node, f"{what} should be text, not a {_shape(node)}", code="not-text")
        return None

    def word(self, node: Node, words: tuple[str, ...], what: str) -> str | None:
        """One of a few words (`then: prompt | wait`)."""
        value = self.text(node, what)
        if value is None:
            return None
        if value.strip().lower() in words:
            return value.strip().lower()
        close = difflib.get_close_matches(value.lower(), words, n=1, cutoff=0.6)
        self.error(
            node,
            f"'{value}' is not one of: {', '.join(words)}",
            hint=f"did you mean '{close[0]}'?" if close else None,
            code="bad-value",
        )
        return None

    def ref(self, node: Node, what: str) -> str | None:
        """The name of a menu, directory or schedule (existence is the checker's job)."""
        value = self.text(node, what)
        if value is None:
            return None
        if not _NAME.match(value):
            self.error(
                node,
                f"'{value}' is not a usable name for {what}",
                hint="names use letters, digits, _ and -, starting with a letter",
                code="bad-name",
            )
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        if type(node) is Scalar and node.plain:
            word = node.value.lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        self.error(node, f"{what} should be true or false", code="not-boolean")
        return None

    def integer(self, node: Node, what: str, minimum: int) -> int | None:
        if type(node) is Scalar and _INT.match(node.value):
            value = int(node.value)
            if value < minimum:
                self.error(
                    node, f"{what} must be at least {minimum}, not {value}", code="bad-limit"
                )
                return None
            return value
        self.error(node, f"{what} should be a whole number", code="not-integer")
        return None

    def duration(self, node: Node, what: str) -> float | None:
        if type(node) is not Scalar or node.is_null:
            self.error(
                node, f"{what} should be a duration like 5s, 1.5s, 500ms or 2m", code="bad-duration"
            )
            return None
        text: str = node.value
        seconds = parse_duration(text)
        if seconds is None:
            if text.strip().startswith("-"):
                self.error(node, f"{what} must be more than 0, not {text}", code="bad-duration")
            else:
                self.error(
                    node,
                    f"'{text}' is not a duration",
                    hint="write 5s, 1.5s, 500ms, 2m, or a number of seconds",
                    code="bad-duration",
                )
            return None
        if seconds <= 0:
            self.error(node, f"{what} must be more than 0", code="bad-duration")
            return None
        if seconds > MAX_DURATION:
            self.error(
                node,
                f"{what} of {text} is more than 10 minutes",
                hint="did you mean seconds (s) rather than minutes (m)?",
                code="bad-duration",
            )
            return None
        return seconds

    def audio(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        resolved = self._audio_cache.get(value)
        if resolved is None:
            resolved = str(self.base_dir / value) if not os.path.isabs(value) else value
            self._audio_cache[value] = resolved
        return resolved

    def prompt(self, node: Node, what: str) -> Prompt | None:
        """Text, or `{say: ..., audio: ...}`.

        Every empty form (`""`, `null`, `{}`, `{say: ""}`) is one error: the caller would
        hear silence, then "Sorry, I did not hear a choice."
        """
        if type(node) is Scalar:
            if node.is_null or not node.value.strip():
                self._empty_prompt(node, what)
                return None
            text = self.text(node, what)
            if text is None or not self._short_enough(node, text, what):
                return None
            return Prompt(text, None, self.loc(node))
        f = self.fields(node, fmt.PROMPT_LONG, what)
        if f is None:
            return None
        if type(node) is Map and not self.pairs(node):
            self._empty_prompt(node, what)
            return None
        return self._message(f, node, what)

    def _short_enough(self, node: Node, text: str, what: str) -> bool:
        """False (and said) for text too long to be a message (`MAX_PROMPT_CHARS`)."""
        if len(text) <= MAX_PROMPT_CHARS:
            return True
        self.error(
            node,
            f"{what} is {len(text):,} characters long, about {len(text) // 1_000} minutes "
            f"of speech; a message may have at most {MAX_PROMPT_CHARS:,}",
            hint="shorten it; callers hang up long before the end",
            code="prompt-too-long",
        )
        return False

    def _empty_prompt(self, node: Node, what: str) -> None:
        self.error(node, f"{what} is empty", hint=_EMPTY_PROMPT_HINT, code="empty-value")

    def _message(self, f: Mapping[str, Node], node: Node, what: str) -> Prompt | None:
        """The `say` and `audio` keys of a mapping, as one prompt (None if neither is there)."""
        say_node = f.get("say")
        audio_node = f.get("audio")
        if say_node is None and audio_node is None:
            return None
        text = None
        if say_node is not None:
            if type(say_node) is Scalar and (say_node.is_null or not say_node.value.strip()):
                self._empty_prompt(say_node, f"the 'say' of {what}")
            else:
                text = self.text(say_node, f"the 'say' of {what}")
                if text is not None and not self._short_enough(say_node, text, what):
                    text = None
        audio = None if audio_node is None else self.audio(audio_node, f"the 'audio' of {what}")
        if text is None and audio is None:
            return None
        # located at the file, the part of a prompt that can be wrong after loading
        return Prompt(text, audio, self.loc(audio_node if audio_node is not None else say_node))  # type: ignore[arg-type]

    def headers(self, node: Node, what: str) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for key, value in self.entries(node, f"the headers of {what}"):
            name = key.value
            if type(value) is not Scalar or value.is_null:
                self.error(value, f"the value of header '{name}' should be text", code="bad-header")
                continue
            problem = header_name_problem(name)
            if problem is not None:
                self.error(key, problem.message, hint=problem.hint, code="bad-header")
                continue
            problem = header_value_problem(name, value.value)
            if problem is not None:
                self.error(value, problem.message, hint=problem.hint, code="bad-header")
                continue
            out[name] = value.value
        return out

    # -- transfers ------------------------------------------------------------------

    def overrides(self, f: Mapping[str, Node], what: str, announce: Prompt | None) -> _Overrides:
        dialtone = f.get("play_dialtone")
        ringing = f.get("ringing_timeout")
        headers = f.get("headers")
        if dialtone is None and ringing is None and headers is None and announce is None:
            return _NO_OVERRIDES
        return _Overrides(
            play_dialtone=None
            if dialtone is None
            else self.boolean(dialtone, f"{what}: play_dialtone"),
            ringing_timeout=None
            if ringing is None
            else self.duration(ringing, f"{what}: ringing_timeout"),
            headers=None
            if headers is None
            else MappingProxyType(self.headers(headers, what) or {}),
            announce=announce,
        )

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
        written = self.text(node, what)
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
        if value.startswith(_SCHEMES):
            uri = self.uri(node, what, in_directory=in_directory, pattern=pattern)
            return None if uri is None else (uri, None)
        if _NAME.match(value):
            return value, self.dests.get(value)
        problem = unknown_target(value)
        self.error(node, problem.message, hint=problem.hint, code="bad-target")
        return None

    def transfer_action(
        self, f: _Fields, node: Map, what: str, base: FailurePolicy, *, in_directory: bool = False
    ) -> Transfer | None:
        """`{transfer: X, say: ..., play_dialtone: ..., on_failure: ...}`."""
        target_node = f["transfer"]
        found = self.target(
            target_node, f"the transfer target of {what}", in_directory=in_directory
        )
        announce = self._message(f, node, what)
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
            if not target.startswith(_SCHEMES):  # an unknown destination: the checker says so
                return Transfer("", destination=target, loc=loc)
            settings = overrides.apply(self.settings)
            failure = None if option_failure is None else _policy(base, option_failure)
            return Transfer(target, settings=settings, on_failure=failure, loc=loc)
        dest_failure = self.dest_failure(dest)
        settings = overrides.apply(dest.transfer.settings)
        if dest_failure is None and option_failure is None:
            failure = None
        else:
            failure = _policy(_policy(base, dest_failure or {}), option_failure or {})
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
            saved, self._menu = self._menu, None
            dest.failure = (
                self.failure_partial(
                    dest.failure_node, f"the on_failure of destination '{dest.name}'", self.policy
                )
                or {}
            )
            self._menu = saved
            dest.busy = False
        return dest.failure

    def failure_partial(
        self, node: Node | None, what: str, base: FailurePolicy
    ) -> dict[FailureKind, Action] | None:
        f = self.fields(node, fmt.FAILURE_POLICY, what)
        if f is None:
            return None
        out: dict[FailureKind, Action] = {}
        for kind in _KINDS:
            value = f.get(kind.value)
            if value is not None:
                action = self.action(value, f"'{kind.value}' in {what}", base)
                if action is not None:
                    out[kind] = action
        return out

    # -- actions --------------------------------------------------------------------

    def action(self, node: Node, what: str, base: FailurePolicy) -> Action | None:
        """A bare word (repeat, back, top, hangup) or a mapping with exactly one verb."""
        if type(node) is Scalar:
            word = node.value.strip()
            loc = self.loc(node)
            if word == "repeat":
                return Repeat(loc=loc)
            if word == "back":
                return Back(loc=loc)
            if word == "top":
                return Top(loc=loc)
            if word == "hangup":
                return Hangup(loc=loc)
            self._bad_action_word(node, word, what)
            return None
        if type(node) is not Map:
            self.error(
                node,
                f"{what} should be an action like {{menu: support}}, not a {_shape(node)}",
                code="bad-action",
            )
            return None
        pairs = node.pairs
        if len(pairs) == 1 and not node.merge:  # the usual {menu: x}, {transfer: x}, {say: x}
            quick = self._one_verb(pairs[0][0], pairs[0][1], node, what, base)
            if quick is _REPORTED:
                return None
            if quick is not None:
                return quick  # type: ignore[return-value]
        pairs = self.pairs(node)
        verbs = [
            k.value
            for k, _ in pairs
            if type(k) is Scalar and k.value in fmt.VERBS and k.value != "say"
        ]
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
            guess = (
                difflib.get_close_matches(keys[0], list(fmt.VERBS), n=1, cutoff=0.6) if keys else []
            )
            self.error(
                node,
                f"{what} has no verb",
                hint=f"did you mean '{guess[0]}'?"
                if guess
                else "use one of: " + ", ".join(fmt.VERBS),
                code="no-verb",
            )
            return None
        f = self.fields(node, fmt.VERBS[verb], what, verb=verb)
        if f is None:
            return None
        if verb == "transfer":
            return self.transfer_action(f, node, what, base)
        loc = self.loc(node)
        message = self._message(f, node, what)
        if verb == "say":
            if message is None:
                return None
            then_node = f.get("then")
            then = "prompt" if then_node is None else self.word(then_node, fmt.SAY_THEN, what)
            return Say(message, loc, then_prompt=then != "wait")
        if verb == "menu":
            target = self.ref(f["menu"], f"the menu of {what}")
            return None if target is None else GoTo(target, message, self.loc(f["menu"]))
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
            spoken = self.prompt(value, f"the message of {what}")
            if spoken is not None and message is not None:
                self.error(
                    value,
                    f"{what} has two messages ('{verb}: ...' and 'say')",
                    hint="keep one",
                    code="two-messages",
                )
            message = message or spoken
        if verb == "back":
            return Back(message, loc)
        if verb == "top":
            return Top(message, loc)
        if verb == "repeat":
            return Repeat(message, loc)
        return Hangup(message, loc)

    def _one_verb(
        self, key: Node, value: Node, node: Map, what: str, base: FailurePolicy
    ) -> Action | _Reported | None:
        """A one-key action with a text value, the common case, read without the general path.

        Returns None to let the general path handle (and report) anything unusual, and
        `_REPORTED` when it has already reported why the action is unusable.
        """
        if type(key) is not Scalar or type(value) is not Scalar or value.is_null:
            return None
        verb = key.value
        text = value.value
        if verb == "menu":
            if _NAME.match(text):
                return GoTo(text, None, self.loc(value))
        elif verb == "transfer":
            found = self.target(value, f"the transfer target of {what}")
            if found is None:
                return _REPORTED
            return self.build_transfer(found[0], found[1], value, _NO_OVERRIDES, None, base)
        elif verb == "say" or verb == "hangup":
            if text.strip() and not (value.plain and text.lower() in _TRUE | _FALSE):
                if not self._short_enough(value, text, f"the message of {what}"):
                    return _REPORTED
                message = Prompt(text, None, self.loc(value))
                return (
                    Say(message, self.loc(node))
                    if verb == "say"
                    else Hangup(message, self.loc(node))
                )
        return None

    def _bad_action_word(self, node: Scalar, word: str, what: str) -> None:
        if node.is_null:
            self.error(
                node,
                f"{what} is empty",
                hint="give an action, e.g. repeat or {menu: main}",
                code="bad-action",
            )
            return
        close = difflib.get_close_matches(word, fmt.SHORT_ACTIONS, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif word.startswith(_SCHEMES):
            hint = f'to transfer, write {{transfer: "{word}"}}'
        elif _NAME.match(word):
            hint = f"to go to a menu write {{menu: {word}}}; to transfer, {{transfer: {word}}}"
        else:
            hint = 'to play a message and stay, write {say: "..."}'
        self.error(node, f"'{word}' is not an action", hint=hint, code="bad-action")

    # -- the file -------------------------------------------------------------------

    def read(self, root: Node, version: str) -> MenuFile | None:
        """The whole file, in dependency order: destinations before anything that names them."""
        f = self.fields(root, fmt.FILE, "the menu file")
        if f is None:
            return None
        version_node = f.get("version")  # when missing, fields() has said so
        if version_node is not None and not (
            type(version_node) is Scalar and version_node.value.strip() == "1"
        ):
            shown = version_node.value if type(version_node) is Scalar else _shape(version_node)
            self.error(
                version_node,
                f"version '{shown}' is not supported",
                hint="this router reads version: 1",
                code="bad-version",
            )
        menus_node = f.get("menus")

        defaults = self.fields(f.get("defaults"), fmt.DEFAULTS, "defaults") or _Fields()
        self.settings = self.transfer_settings(defaults.get("transfer"))
        destinations = self.destinations(f.get("destinations"))
        self.policy = _policy(
            BUILTIN_FAILURE_POLICY,
            self.failure_partial(
                defaults.get("on_transfer_failure"),
                "defaults: on_transfer_failure",
                BUILTIN_FAILURE_POLICY,
            )
            or {},
        )
        builtin = _Inherited(
            Timeouts(), Limits(), Messages(), (BUILTIN_ON_LIMIT, BUILTIN_ON_LIMIT), None
        )
        inherited = self.inherited(defaults, builtin, self.policy, "defaults")

        directories = self.directories(f.get("directories"))
        schedules = self.schedules(f.get("schedules"))
        menus: dict[str, Menu] = {}
        menu_nodes: dict[str, tuple[Node, Node]] = {}
        for key, node in self.entries(menus_node, "menus"):
            name = self.name(key, "menu")
            if name is None:
                continue
            self._menu = name
            menus[name] = self.menu(name, key, node, inherited)
            menu_nodes[name] = (key, node)
            self._menu = None
        if menus_node is not None and not menus and not self.problems:
            self.error(menus_node, "there are no menus", code="no-menus")
        entries = self.numbers(f.get("numbers"), f.key_nodes.get("numbers"), menus, inherited)
        self.number_defaults(entries, menus, menu_nodes)
        for name, dest in self.dests.items():
            partial = self.dest_failure(dest)
            if partial:
                destinations[name] = replace(
                    dest.transfer, on_failure=_policy(self.policy, partial)
                )
        return MenuFile(
            path=self.file,
            version=version,
            menus=menus,
            entries=entries,
            destinations=destinations,
            directories=directories,
            schedules=schedules,
        )

    def inherited(
        self, f: Mapping[str, Node], base: _Inherited, policy: FailurePolicy, what: str
    ) -> _Inherited:
        """`base` with what a `defaults` block (the file's, or a number's) sets."""
        timeouts, limits, messages, on_limit, voice, voice_at = base
        if "timeouts" in f:
            timeouts = self.timeouts(f["timeouts"], timeouts, f"{what}: timeouts")
        if "limits" in f:
            limits = self.limits(f["limits"], limits, f"{what}: limits")
        if "messages" in f:
            messages = self.messages(f["messages"], messages, f"{what}: messages")
        if "on_limit" in f:
            on_limit = self.on_limit(f["on_limit"], f"{what}: on_limit", policy, on_limit)
        if "voice" in f:
            voice = self.text(f["voice"], f"{what}: voice") or voice
            voice_at = f["voice"].line << 32 | f["voice"].column
        return _Inherited(timeouts, limits, messages, on_limit, voice, voice_at)

    def on_limit(
        self, node: Node, what: str, policy: FailurePolicy, base: tuple[Action, Action]
    ) -> tuple[Action, Action]:
        """One action for both limits, or `{invalid: ..., no_input: ...}` (kinds left out
        are inherited); returns (on the invalid limit, on the no-input limit)."""
        if type(node) is Map and any(
            type(k) is Scalar and k.value in fmt.LIMIT_KINDS for k, _ in node.pairs
        ):
            f = self.fields(node, fmt.ON_LIMIT.options[1], what)  # type: ignore[arg-type]
            if not f:
                return base
            invalid, no_input = base
            if "invalid" in f:
                invalid = self.action(f["invalid"], f"{what}: invalid", policy) or invalid
            if "no_input" in f:
                no_input = self.action(f["no_input"], f"{what}: no_input", policy) or no_input
            return invalid, no_input
        action = self.action(node, what, policy)
        return base if action is None else (action, action)

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
                self.problems.append(
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
                self.policy,
                len(self.problems),
                self.incomplete,
            )
            self.policy, self.incomplete, self._menu = policy, set(), name
            try:
                menus[name] = self.menu(name, *menu_nodes[name], inherited)
            finally:  # the first reading reported every problem of the menu already
                del self.problems[seen_problems:]
                self.policy, self.incomplete, self._menu = saved_policy, incomplete, None

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

    def transfer_settings(self, node: Node | None) -> TransferSettings:
        f = self.fields(node, fmt.TRANSFER_SETTINGS, "defaults: transfer")
        if f is None:
            return TransferSettings()
        return self.overrides(f, "defaults: transfer", None).apply(TransferSettings())

    def _override(
        self,
        node: Node | None,
        spec: fmt.Obj,
        base: _S,
        what: str,
        read: Callable[[Node, str], object | None],
    ) -> _S:
        """`base` with the fields this mapping sets (each read by `read`); the rest inherited."""
        f = self.fields(node, spec, what)
        if not f:
            return base
        changes: dict[str, Any] = {}
        for name, value_node in f.items():
            value = read(value_node, f"{what}: {name}")
            if value is not None:
                changes[name] = value
        return replace(base, **changes) if changes else base

    def timeouts(self, node: Node | None, base: Timeouts, what: str) -> Timeouts:
        return self._override(node, fmt.TIMEOUTS, base, what, self.duration)

    def limits(self, node: Node | None, base: Limits, what: str) -> Limits:
        return self._override(
            node, fmt.LIMITS, base, what, lambda n, w: self.integer(n, w, minimum=1)
        )

    def messages(self, node: Node | None, base: Messages, what: str) -> Messages:
        return self._override(node, fmt.MESSAGES, base, what, self.prompt)

    def destinations(self, node: Node | None) -> dict[str, Transfer]:
        out: dict[str, Transfer] = {}
        for key, value in self.entries(node, "destinations"):
            name = self.name(key, "destination")
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
        if not target.startswith(_SCHEMES):
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

    def long_form(self, node: Node, what: str) -> tuple[Node | None, _Overrides, Node | None]:
        """(target node, settings written, on_failure node) of a short or long destination."""
        if type(node) is not Map:
            return node, _NO_OVERRIDES, None
        f = self.fields(node, fmt.DESTINATION_LONG, what)
        if f is None or "to" not in f:
            return None, _NO_OVERRIDES, None
        return f["to"], self.overrides(f, what, self._message(f, node, what)), f.get("on_failure")

    def directories(self, node: Node | None) -> dict[str, Directory]:
        out: dict[str, Directory] = {}
        for key, value in self.entries(node, "directories"):
            name = self.name(key, "directory")
            if name is None:
                continue
            what = f"directory '{name}'"
            entries: list[DirectoryEntry] = []
            pairs = self.entries(value, what)
            if type(value) is Map and not pairs and not value.pairs:
                self.error(value, f"{what} has no extensions", code="empty-directory")
            normalized: dict[str, Node] = {}
            for pkey, pvalue in pairs:
                pattern = self.extension_pattern(pkey, what)
                if pattern is None:
                    continue
                if pattern in normalized:
                    first = normalized[pattern]
                    self.error(
                        pkey,
                        f"extension '{pattern}' appears twice in {what} "
                        f"(first at line {first.line + 1})",
                        code="duplicate-key",
                    )
                    continue
                normalized[pattern] = pkey
                action = self.directory_entry(pattern, pvalue, f"extension '{pattern}' of {what}")
                entries.append(DirectoryEntry(pattern, action, self.loc(pkey)))
            out[name] = Directory(name, tuple(entries), self.loc(key))
        return out

    def extension_pattern(self, node: Scalar, what: str) -> str | None:
        raw = node.value.strip().replace("X", "x")
        if not _EXTENSION.match(raw):
            self.error(
                node,
                f"'{node.value}' is not an extension in {what}",
                hint="write digits (101), a pattern, x for any digit (1xx), or a range (200-249)",
                code="bad-extension",
            )
            return None
        if "-" in raw:
            low, high = raw.split("-")
            if len(low) != len(high):
                self.error(
                    node,
                    f"both ends of the range '{raw}' need the same number of digits",
                    code="bad-extension",
                )
                return None
            if int(low) > int(high):
                self.error(
                    node,
                    f"the range '{raw}' runs backwards",
                    hint=f"write {high}-{low}",
                    code="bad-extension",
                )
                return None
        return raw

    def schedules(self, node: Node | None) -> dict[str, Schedule]:
        out: dict[str, Schedule] = {}
        for key, value in self.entries(node, "schedules"):
            name = self.name(key, "schedule")
            if name is None:
                continue
            what = f"schedule '{name}'"
            f = self.fields(value, fmt.SCHEDULE, what)
            where: dict[str, Location] = {}
            timezone = "UTC"
            hours: dict[Weekday, tuple[tuple[time, time], ...]] = {}
            holidays: tuple[date, ...] = ()
            if f is not None:
                tz_node = f.get("timezone")
                if tz_node is not None:
                    where["timezone"] = self.loc(tz_node)
                    tz = self.text(tz_node, f"the timezone of {what}")
                    if tz is not None:
                        problem = timezone_problem(tz.strip())
                        if problem is not None:
                            self.error(tz_node, problem[0], hint=problem[1], code="bad-timezone")
                        else:
                            timezone = tz.strip()
                            fixed = timezone_warning(timezone)
                            if fixed is not None:
                                self.warn(tz_node, fixed[0], hint=fixed[1], code="fixed-timezone")
                if "hours" in f:
                    where["hours"] = self.loc(f["hours"])
                    hours = self.hours(f["hours"], what)
                if "holidays" in f:
                    where["holidays"] = self.loc(f["holidays"])
                    holidays = self.holidays(f["holidays"], what)
            out[name] = Schedule(
                name,
                timezone,
                MappingProxyType(hours),
                holidays,
                self.loc(key),
                MappingProxyType(where),
            )
        return out

    def hours(self, node: Node, what: str) -> dict[Weekday, tuple[tuple[time, time], ...]]:
        per_day: dict[Weekday, list[tuple[time, time, Scalar]]] = {}
        for key, value in self.entries(node, f"the hours of {what}"):
            days = self.days(key, what)
            items = value.items if type(value) is Seq else [value]
            for item in items:
                if type(item) is Scalar and item.plain and item.value.strip().lower() == "closed":
                    continue
                span = self.interval(item, what)
                if span is None or days is None:
                    continue
                for day in days:
                    per_day.setdefault(day, []).append((*span, item))  # type: ignore[arg-type]
        out: dict[Weekday, tuple[tuple[time, time], ...]] = {}
        reported: set[tuple[int, int]] = set()
        for day in sorted(per_day):
            kept: list[tuple[time, time, Scalar]] = []
            for written in sorted(per_day[day], key=lambda s: (s[0], s[2].line, s[2].column)):
                if kept and written[0] < kept[-1][1]:
                    # report at whichever of the two was written later, once per pair
                    first, later = sorted(
                        (kept[-1][2], written[2]), key=lambda n: (n.line, n.column)
                    )
                    if (id(first), id(later)) not in reported:
                        reported.add((id(first), id(later)))
                        self.error(
                            later,
                            f"on {day.name.lower()}, {later.value.strip()} overlaps "
                            f"{first.value.strip()} (line {first.line + 1})",
                            hint="opening hours of one day must not overlap",
                            code="overlapping-hours",
                        )
                    continue
                kept.append(written)
            out[day] = tuple((start, end) for start, end, _ in kept)
        return out

    def days(self, node: Scalar, what: str) -> list[Weekday] | None:
        raw = node.value.strip().lower()
        if not _DAYS.match(raw):
            self.error(
                node,
                f"'{node.value}' is not a day or range of days in {what}",
                hint="write mon ... sun, a range (mon-fri), a list (sat, sun), daily, weekdays "
                "or weekends",
                code="bad-days",
            )
            return None
        if raw in _DAY_GROUPS:
            return list(_DAY_GROUPS[raw])
        out: list[Weekday] = []
        for part in raw.split(","):
            ends = [_WEEKDAYS[p.strip()] for p in part.split("-")]
            day = ends[0]
            out.append(day)
            while day != ends[-1]:
                day = Weekday((day + 1) % 7)
                out.append(day)
        return out

    def interval(self, node: Node, what: str) -> tuple[time, time] | None:
        m = _HOURS.match(node.value) if type(node) is Scalar else None
        if m is None:
            shown = node.value if type(node) is Scalar else _shape(node)
            self.error(
                node,
                f"'{shown}' is not a time interval in {what}",
                hint="write HH:MM-HH:MM, e.g. 08:30-17:30 (quoted or not), or closed",
                code="bad-hours",
            )
            return None
        text = node.value.strip()  # type: ignore[attr-defined]
        h1, m1, h2, m2 = (int(part) for end in text.split("-") for part in end.split(":"))
        for h, mm in ((h1, m1), (h2, m2)):
            if h > 24 or mm > 59 or (h == 24 and mm != 0):
                self.error(
                    node,
                    f"{h:02d}:{mm:02d} in '{text}' is not a time of day",
                    hint="hours run from 00:00 to 24:00",
                    code="bad-hours",
                )
                return None
        if h1 == 24:
            self.error(
                node,
                f"'{text}' starts at 24:00, the end of the day",
                hint="start at 00:00",
                code="bad-hours",
            )
            return None
        start = time(h1, m1)
        end = _END_OF_DAY if h2 == 24 else time(h2, m2)
        if end <= start:
            self.error(
                node,
                f"'{text}' ends before it starts",
                hint=_backwards_hint(h1, m1, h2, m2),
                code="bad-hours",
            )
            return None
        return start, end

    def holidays(self, node: Node, what: str) -> tuple[date, ...]:
        if type(node) is not Seq:
            if type(node) is Scalar and node.is_null:
                return ()
            self.error(
                node,
                f"the holidays of {what} should be a list of dates, e.g. [2026-12-25]",
                code="bad-holiday",
            )
            return ()
        out: list[date] = []
        seen: dict[date, Node] = {}
        for item in node.items:
            if type(item) is not Scalar or not _DATE.match(item.value.strip()):
                shown = item.value if type(item) is Scalar else _shape(item)
                self.error(
                    item,
                    f"'{shown}' is not a date",
                    hint="write YYYY-MM-DD, e.g. 2026-12-25",
                    code="bad-holiday",
                )
                continue
            try:
                day = date.fromisoformat(item.value.strip())
            except ValueError:
                self.error(item, f"{item.value.strip()} is not a real date", code="bad-holiday")
                continue
            if day in seen:
                self.warn(
                    item,
                    f"{day.isoformat()} is listed twice (first at line {seen[day].line + 1})",
                    code="duplicate-holiday",
                )
                continue
            seen[day] = item
            out.append(day)
        return tuple(sorted(out))

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
        for key, value in self.entries(node, "numbers"):
            number = key.value.strip()
            problem = number_key_problem(number)
            if problem is not None:
                self.error(key, problem.message, hint=problem.hint, code="bad-number")
                continue
            what = f"the entry for {number}"
            where: dict[str, Location] = {}
            if type(value) is Scalar:
                menu = self.ref(value, what)
                where["menu"] = self.loc(value)
                if menu is not None:
                    out[number] = Entry(
                        number, menu, loc=self.loc(key), where=MappingProxyType(where)
                    )
                continue
            f = self.fields(value, fmt.ENTRY_LONG, what)
            if f is None or "menu" not in f:
                continue
            refs: dict[str, str | None] = {}
            for field_name in ("menu", "schedule", "closed"):
                if field_name in f:
                    where[field_name] = self.loc(f[field_name])
                    refs[field_name] = self.ref(f[field_name], f"the {field_name} of {what}")
            if ("schedule" in f) != ("closed" in f):
                missing, given = (
                    ("closed", "schedule") if "schedule" in f else ("schedule", "closed")
                )
                self.error(
                    f.key_nodes[given],
                    f"{what} has a {given} but no {missing}",
                    hint="give both: the schedule, and the menu for when it is closed",
                    code="schedule-closed",
                )
            first_menu = refs.get("menu")
            if "defaults" in f:
                own = self.fields(f["defaults"], fmt.NUMBER_DEFAULTS, f"the defaults of {what}")
                if own:
                    policy = self.policy
                    if "on_transfer_failure" in own:
                        label = f"the defaults of {what}: on_transfer_failure"
                        partial = self.failure_partial(
                            own["on_transfer_failure"], label, self.policy
                        )
                        policy = _policy(self.policy, partial or {})
                        # read again with the line's own policy as the base: a transfer
                        # in it (no_answer: voicemail) then fails over in the line's
                        # words, not in the file's (problems were reported the first time)
                        seen_problems = len(self.problems)
                        partial = self.failure_partial(own["on_transfer_failure"], label, policy)
                        del self.problems[seen_problems:]
                        policy = _policy(self.policy, partial or {})
                    self._number_defaults[number] = (
                        f"{f['defaults'].line}:{f['defaults'].column}",
                        self.inherited(own, inherited, policy, f"the defaults of {what}"),
                        policy,
                    )
            if first_menu is None:
                continue
            out[number] = Entry(
                number,
                first_menu,
                refs.get("schedule"),
                refs.get("closed"),
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

    def menu(
        self,
        name: str,
        key: Node,
        node: Node,
        inherited: _Inherited,
    ) -> Menu:
        what = f"menu '{name}'"
        timeouts, limits, messages, on_limit, voice, voice_at = inherited
        f = (
            self.fields(node, fmt.MENU, what)
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
        where: dict[str, int] = {}  # name -> line << 32 | column: no objects for the GC to visit
        greeting_node = f.get("greeting")
        greeting = Prompt()
        if greeting_node is not None:
            where["greeting"] = greeting_node.line << 32 | greeting_node.column
            greeting = self.prompt(greeting_node, f"the greeting of {what}") or greeting
        prompt = greeting
        prompt_node = f.get("prompt")
        if prompt_node is not None:
            where["prompt"] = prompt_node.line << 32 | prompt_node.column
            prompt = self.prompt(prompt_node, f"the prompt of {what}") or greeting
        directory = None
        directory_node = f.get("directory")
        if directory_node is not None:
            where["directory"] = directory_node.line << 32 | directory_node.column
            directory = self.ref(directory_node, f"the directory of {what}")
        if "voice" in f:
            voice = self.text(f["voice"], f"the voice of {what}") or voice
            voice_at = f["voice"].line << 32 | f["voice"].column
        if voice_at is not None:
            where["voice"] = voice_at
        if "timeouts" in f:
            timeouts = self.timeouts(f["timeouts"], timeouts, f"{what}: timeouts")
        if "limits" in f:
            limits = self.limits(f["limits"], limits, f"{what}: limits")
        if "messages" in f:
            messages = self.messages(f["messages"], messages, f"{what}: messages")
        policy = self.policy
        if "on_transfer_failure" in f:
            partial = self.failure_partial(
                f["on_transfer_failure"], f"the on_transfer_failure of {what}", self.policy
            )
            policy = _policy(self.policy, partial or {})
        if "on_limit" in f:
            on_limit = self.on_limit(f["on_limit"], f"the on_limit of {what}", policy, on_limit)
        options: dict[Key, Action] = {}
        for okey, value in self.entries(f.get("options"), f"the options of {what}"):
            known = _OPTION_KEYS.get(okey.value.strip())
            if known is None:
                self._bad_key(okey, what)
                continue
            k, place, symbol = known
            if k in options or place in where:
                self.error(
                    okey,
                    f"key {symbol} appears twice in {what} "
                    f"(first at line {(where[place] >> 32) + 1})",
                    hint="a key can do only one thing in a menu",
                    code="duplicate-key",
                )
                continue
            where[place] = okey.line << 32 | okey.column
            action = self.action(value, f"option {symbol} of {what}", policy)
            if action is not None:
                options[k] = action
            else:
                self.incomplete.add(name)
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
            where=_Places(self.file, where),
        )

    def _bad_key(self, node: Scalar, what: str) -> None:
        value = node.value.strip()
        hint = "a key is one of 0-9, *, #, A-D"
        if value.isdigit() and len(value) > 1:
            hint = "an option is one key; for numbers callers dial, use a directory"
        self.error(node, f"'{node.value}' is not a key in {what}", hint=hint, code="bad-key")


_EMPTY_PROMPT_HINT = 'write the text to say ("...") or {audio: file.wav}'

_REQUIRED_HINTS = {
    "version": "add 'version: 1' at the top of the file",
    "menus": "add a 'menus:' section with at least one menu",
    "greeting": "add 'greeting: \"...\"' saying the choices",
    "to": "add 'to: \"tel:+15105550100\"' (or a sip: URI)",
    "timezone": "add e.g. 'timezone: America/New_York'",
    "hours": "add e.g. 'hours: {mon-fri: \"09:00-17:00\"}'",
    "menu": "add 'menu: main'",
}


def _policy(base: FailurePolicy, partial: Mapping[FailureKind, Action]) -> FailurePolicy:
    """`base` with the kinds of failure that `partial` names replaced."""
    if not partial:
        return base
    return FailurePolicy(
        busy=partial.get(FailureKind.BUSY, base.busy),
        no_answer=partial.get(FailureKind.NO_ANSWER, base.no_answer),
        rejected=partial.get(FailureKind.REJECTED, base.rejected),
        error=partial.get(FailureKind.ERROR, base.error),
    )


def _voice_label(voice: str | None) -> str:
    return "the router's voice" if voice is None else f"voice {voice}"


def _where_spaces(text: str) -> str:
    before, after = text[:1].isspace(), text[-1:].isspace()
    return "around" if before and after else "before" if before else "after"


def _backwards_hint(h1: int, m1: int, h2: int, m2: int) -> str:
    """The fix for an interval that ends before it starts, from what it most likely meant.

    Both ends before 13:00 (`8:30-5:30`) is a 12-hour clock: the end is in the
    afternoon. An end of 00:00 is midnight, written 24:00. Anything else (`22:00-06:00`)
    is hours past midnight, which a day cannot hold.
    """
    start = f"{h1:02d}:{m1:02d}"
    if (h1, m1) == (h2, m2):
        return "an interval needs a length; for the whole day write 00:00-24:00"
    if (h2, m2) == (0, 0):
        return f"midnight at the end of a day is 24:00: did you mean {start}-24:00?"
    if h1 < 13 and h2 < 13 and (h2 + 12, m2) > (h1, m1) and (h2 + 12, m2) <= (24, 0):
        return f"times are on the 24-hour clock: did you mean {start}-{h2 + 12:02d}:{m2:02d}?"
    return "for hours past midnight, split them: fri: 22:00-24:00 and sat: 00:00-02:00"


def _shape(node: Node) -> str:
    if type(node) is Map:
        return "mapping"
    if type(node) is Seq:
        return "list"
    return "value"
