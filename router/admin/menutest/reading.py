"""Reading a test file: untrusted YAML turned into a `TestFile`, every mistake reported.

The test file is read by the same layer as the menu file (`router.core.loader.source`
and `.nodes`: the safe YAML reader, did-you-mean, duplicate keys), and every mistake
in it is reported at once as `FILE:LINE:COL: error: message (hint)`. The names its
expectations use (destinations, menus) are checked against the menu file, also when
the test file has other errors. A case's `expect` is read by its own reader, composed
onto this one (expecting.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from router.admin.menutest.cases import DEFAULT_MENU_FILE, Case, Expectation, TestFile
from router.admin.menutest.comments import values_cut_by_comments
from router.admin.menutest.expecting import ExpectationReader
from router.admin.menutest.layout import (
    CASE,
    DEFAULTS,
    TEST_FILE,
    TOP,
)
from router.admin.menutest.layout import (
    HINTS as _HINTS,
)
from router.admin.menutest.names import expectation_problems
from router.admin.simulate import TIMEOUT, ScriptedTransfer
from router.core import format as fmt
from router.core.errors import Location, MenuFileError, Problem, Severity
from router.core.keys import Key
from router.core.loader import Loaded, load_menu_file
from router.core.loader.nodes import NodeReader
from router.core.loader.source import compose_source, read_bytes
from router.core.values import caller_number_problem, number_key_problem
from router.core.yamlsafe import Node, Scalar, Seq


def _compose(path: str) -> tuple[Node | None, list[Problem], str]:
    """The node tree of the test file (or every reason there is none), and its text: read,
    size-limited, decoded and composed by the menu file's layer, refused in its words."""
    data = read_bytes(path, TEST_FILE)
    if isinstance(data, Problem):
        return None, [data], ""
    source = compose_source(data, path, TEST_FILE)
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
    results: tuple[ScriptedTransfer, ...] | None = (ScriptedTransfer(True),)


class TestFileReader(NodeReader):
    """Turns the node tree into a `TestFile`, collecting every problem on the way."""

    HINTS = _HINTS

    def __init__(
        self,
        path: str,
        lines: Sequence[str] = (),
        menus_override: str | None = None,
        load: Callable[[str], Loaded] = load_menu_file,
    ) -> None:
        super().__init__(path)
        self.path = path
        self.load = load
        """How the menu file is loaded (for its time zones, for the names expectations use)."""
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
        self.expect = ExpectationReader(self)
        """Reads each case's `expect` (expecting.py)."""

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
        top = self.mapping(root, "the test file", TOP)
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
        fields = self.mapping(node, "defaults", DEFAULTS) or {}
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
        fields = self.mapping(node, "a case", CASE)
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
            expect = self.expect.read(fields["expect"], what)
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
        problem = caller_number_problem(value)
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
        problem = number_key_problem(value)
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
                menu_file = self.load(path).menu_file if path else None
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

    def results(self, node: Node, what: str) -> tuple[ScriptedTransfer, ...] | None:
        items: list[Node]
        if isinstance(node, Seq):
            items = node.items
        elif isinstance(node, Scalar) and not node.is_null:
            items = [node]
        else:
            self.error(node, f"transfer_results of {what} should be a list like [486, ok]")
            return None
        out: list[ScriptedTransfer] = []
        for item in items:
            text = self.text(item, "a transfer result")
            if text is None:
                return None
            for part in text.split(","):
                try:
                    out.append(ScriptedTransfer.parse(part))
                except ValueError as exc:
                    self.error(item, str(exc))
                    return None
        if not out:
            self.error(node, f"transfer_results of {what} is empty")
            return None
        return tuple(out)


def _null(node: Node) -> bool:
    return isinstance(node, Scalar) and node.is_null


def read_test_file(
    path: str, menus: str | None = None, *, load: Callable[[str], Loaded] = load_menu_file
) -> tuple[TestFile | None, list[Problem]]:
    """Read a test file; the problems are every error found (the file is None if any).

    With errors, the names its expectations use are still checked against the menu file
    (`menus`, else the one the test file names), when that one loads: every problem of
    the file is reported at once, not those behind the first few. The menu file, when
    needed (times without an offset are in its schedules' zone), is read by `load`
    (`router test` passes one that keeps it for the run: `MenuFileError` if it has errors)."""
    root, problems, text = _compose(path)
    if root is None:
        return None, problems
    reader = TestFileReader(path, text.splitlines(), menus, load)
    test_file = reader.read(root)
    problems.extend(reader.problems)
    problems.extend(values_cut_by_comments(root, reader.lines, path))
    if any(p.severity is Severity.ERROR for p in problems):
        problems.extend(_names_anyway(reader, menus))
        problems.sort(key=lambda p: (p.location.line, p.location.column))
        return None, problems
    problems.sort(key=lambda p: (p.location.line, p.location.column))
    return test_file, problems


def _names_anyway(reader: TestFileReader, menus: str | None) -> list[Problem]:
    menu_path = menus or reader.menu_path
    if menu_path is None or not reader.expectations:
        return []
    try:
        menu_file = reader.load(menu_path).menu_file
    except (MenuFileError, OSError):
        return []  # reported when the test file is fixed and the menu file is loaded
    return expectation_problems(reader.expectations, menu_file)
