"""Reading a node tree as an untrusted file's mappings, keys and values.

Shared by the readers of every admin's file: a `Sink` collects the findings (every
finding becomes a `Problem` and reading carries on), and `Keys` reads mappings: a
mapping's keys checked against its spec (unknown keys with "did you mean",
duplicates, required keys, YAML merge keys expanded), and mappings whose keys the
admin chooses. `NodeReader` is both at once, for a reader written as one class
(`router test`'s reader of test files).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from router.core import format as fmt
from router.core.errors import Location, Problem, Severity
from router.core.suggest import suggest
from router.core.yamlsafe import Map, Node, Scalar, Seq

__all__ = ["MAX_PROBLEMS", "Fields", "Keys", "NodeReader", "Sink", "shape"]

_new_tuple = tuple.__new__

MAX_PROBLEMS = 200
"""Problems reported for one file; past that, one line says how many more there are."""


class Fields(dict[str, Node]):
    """The keys present in a mapping (validated against its `Obj` spec), and their key nodes."""

    __slots__ = ("key_nodes",)
    key_nodes: dict[str, Node]


class Sink:
    """Where one file's findings go: collects problems instead of raising them."""

    __slots__ = ("file", "incomplete", "part", "problems")

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.incomplete: set[str] = set()
        """Parts (menus) with errors inside: whole-file rules about them would only add noise."""
        self.part: str | None = None
        """The part being read, marked incomplete by any error."""

    def loc(self, node: Node) -> Location:
        # made as `Location._make` makes it, without the frame of the generated `__new__`:
        # half the instructions, and a file of 1,000 menus needs 12,000 (bench/findings.md)
        return _new_tuple(Location, (self.file, node.line + 1, node.column + 1))

    def error(self, node: Node, message: str, hint: str | None = None, code: str = "") -> None:
        self.problems.append(Problem(self.loc(node), message, Severity.ERROR, hint, code))
        if self.part is not None:
            self.incomplete.add(self.part)

    def warn(self, node: Node, message: str, hint: str | None = None, code: str = "") -> None:
        self.problems.append(Problem(self.loc(node), message, Severity.WARNING, hint, code))


class Keys:
    """Reads a file's mappings against their specs; every finding goes to `sink`."""

    __slots__ = ("hints", "required_hints", "sink")

    def __init__(
        self,
        sink: Sink,
        hints: Mapping[str, str] = MappingProxyType({}),
        required_hints: Mapping[str, str] = MappingProxyType({}),
    ) -> None:
        self.sink = sink
        self.hints = hints
        """Keys an admin may write for a known one (`timeout` for `timeouts`): hints only."""
        self.required_hints = required_hints
        """How to add a required key that is missing, by its name."""

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
                    self.sink.error(
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
        self,
        node: Node | None,
        spec: fmt.Obj,
        what: str,
        *,
        verb: str | None = None,
        empty_ok: bool = True,
    ) -> Fields | None:
        """Check a mapping's keys against its spec: unknown, duplicate, missing required.

        An empty value (`timeouts:` with nothing after it) is an empty mapping when the
        spec requires no key and `empty_ok`.
        """
        if node is None:
            return None
        if type(node) is not Map:
            if type(node) is Scalar and node.is_null and not spec.required and empty_ok:
                empty = Fields()  # `timeouts:` with nothing after it: nothing to change
                empty.key_nodes = {}
                return empty
            self.sink.error(
                node,
                f"{what} should be a mapping of keys (like `{next(iter(spec.fields)).name}: ...`)",
                code="not-mapping",
            )
            return None
        out = Fields()
        out.key_nodes = {}
        names = spec.names
        meant: set[str] = set()
        for key, value in self.pairs(node) if node.merge else node.pairs:
            if type(key) is not Scalar:
                self.sink.error(key, f"a key in {what} must be a plain word", code="bad-key")
                continue
            name = key.value
            if name not in names:
                guess = self._unknown(key, name, names, what, verb)
                if guess is not None:
                    meant.add(guess)
                continue
            if name in out:
                first = out.key_nodes[name]
                self.sink.error(
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
                self.sink.error(
                    node,
                    f"{what} has no '{name}'",
                    hint=self.required_hints.get(name),
                    code="missing-key",
                )
        return out

    def _unknown(
        self, key: Node, name: str, names: frozenset[str], what: str, verb: str | None
    ) -> str | None:
        """Report an unknown key; return the key it was probably meant to be."""
        if verb is not None and name in fmt.TRANSFER_MODIFIERS:
            self.sink.error(
                key, f"'{name}' only goes with a transfer, not with '{verb}'", code="unknown-key"
            )
            return None
        if verb is not None and name in fmt.VERBS:
            self.sink.error(
                key, f"an action has one verb; this one has '{verb}' and '{name}'", code="two-verbs"
            )
            return None
        guess = self.hints.get(name.lower())
        if guess not in names:
            guess = None
            # past the problems a file shows, a did-you-mean is work nobody reads: a
            # megabyte of unknown keys was 100,000 difflib searches (30 s of `router check`)
            if len(self.sink.problems) < MAX_PROBLEMS:
                guess = suggest(name.lower(), sorted(names))
        if guess is not None:
            hint = f"did you mean '{guess}'?"
        else:
            hint = "expected one of: " + ", ".join(sorted(names))
        self.sink.error(key, f"unknown key '{name}' in {what}", hint=hint, code="unknown-key")
        return guess

    def entries(self, node: Node | None, what: str) -> list[tuple[Scalar, Node]]:
        """The pairs of a mapping whose keys the admin chooses; duplicates reported here."""
        if node is None:
            return []
        if type(node) is not Map:
            if not (type(node) is Scalar and node.is_null):
                self.sink.error(
                    node,
                    f"{what} should be a mapping (name: value, one per line)",
                    code="not-mapping",
                )
            return []
        out: list[tuple[Scalar, Node]] = []
        seen: dict[str, Node] = {}
        for key, value in self.pairs(node) if node.merge else node.pairs:
            if type(key) is not Scalar:
                self.sink.error(
                    key, f"a key in {what} must be a plain word or number", code="bad-key"
                )
                continue
            previous = seen.get(key.value)
            if previous is not None:
                self.sink.error(
                    key,
                    f"'{key.value}' appears twice in {what} (first at line {previous.line + 1})",
                    hint="a key can be given only once; the file would silently lose one",
                    code="duplicate-key",
                )
                continue
            seen[key.value] = key
            out.append((key, value))
        return out


class NodeReader(Sink):
    """A sink and its `Keys` in one object, for a reader written as one class; a subclass's
    `error` receives the keys' findings too."""

    __slots__ = ("entries", "fields", "pairs")

    HINTS: Mapping[str, str] = MappingProxyType({})
    """Keys an admin may write for a known one (`timeout` for `timeouts`): hints only."""
    REQUIRED_HINTS: Mapping[str, str] = MappingProxyType({})
    """How to add a required key that is missing, by its name."""

    def __init__(self, file: str) -> None:
        super().__init__(file)
        keys = Keys(self, self.HINTS, self.REQUIRED_HINTS)
        self.pairs = keys.pairs
        self.fields = keys.fields
        self.entries = keys.entries


def shape(node: Node) -> str:
    if type(node) is Map:
        return "mapping"
    if type(node) is Seq:
        return "list"
    return "value"
