"""Reading YAML without trusting it: a node tree with line and column, and hard limits.

Why not `yaml.safe_load`: it drops duplicate keys silently, loses every line number,
and expands aliases into real objects (a "billion laughs" file takes all memory).
Why not `yaml.compose` either: libyaml's composer recurses in C and crashes the
process on deeply nested input, and its tag resolution costs more than the parse.

So this module reads libyaml's *event* stream (a flat, non-recursive iterator) and
builds its own small nodes. On the way it enforces a maximum nesting depth, a
maximum number of nodes, and a budget for what aliases may add once expanded;
every node knows its expanded size, so an alias bomb is refused at the alias that
crosses the budget, long before anything is expanded. Scalars stay text (with
"was it quoted?") so the loader decides what a value means from where it is, and
`01`, `08:30` or `yes` are never reinterpreted behind the admin's back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml  # type: ignore[import-untyped]

from router.core.errors import Location, Problem

__all__ = ["Composed", "ComposeLimits", "Map", "Node", "Scalar", "Seq", "TooBig", "compose"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STD_TAG = "tag:yaml.org,2002:"
_STR_TAG = _STD_TAG + "str"
_PLAIN_TAGS = frozenset(
    _STD_TAG + name for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)
"""The only explicit tags accepted: the standard scalar and collection tags (never python/...)."""


class Node:
    """A node of the document; `line` and `column` count from 0, as libyaml marks do."""

    __slots__ = ("column", "line", "size")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        self.size = 1
        """This node and everything under it, aliases expanded."""

    def loc(self, file: str) -> Location:
        return Location(file, self.line + 1, self.column + 1)


class Scalar(Node):
    __slots__ = ("plain", "value")

    def __init__(self, value: str, plain: bool, line: int, column: int) -> None:
        # No super().__init__: a file has hundreds of thousands of scalars.
        self.line = line
        self.column = column
        self.size = 1
        self.value = value
        self.plain = plain
        """True if written without quotes (so `~`, `null` and an empty value mean "nothing")."""

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in ("", "~", "null", "Null", "NULL")

    def __repr__(self) -> str:
        return f"Scalar({self.value!r})"


class Seq(Node):
    __slots__ = ("items",)

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.items: list[Node] = []


class Map(Node):
    __slots__ = ("merge", "pairs")

    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.pairs: list[tuple[Node, Node]] = []
        """In file order, duplicates kept: the loader reports them."""
        self.merge = False
        """True if a plain `<<` key is among the keys (a YAML merge key)."""


@dataclass(frozen=True, slots=True)
class ComposeLimits:
    max_depth: int = 64
    """The menu format needs about ten levels; anything far deeper is hostile or broken."""
    max_nodes: int = 2_000_000
    """Nodes written in the file."""
    max_alias_nodes: int = 100_000
    """Nodes that aliases may add once expanded (reuse is fine, a bomb is not)."""


@dataclass(slots=True)
class Composed:
    root: Node | None
    problems: list[Problem] = field(default_factory=list)
    """Findings that do not stop reading (custom tags)."""


class TooBig(Exception):
    """The document was refused outright; `problem` says why and where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Frame:
    """An open mapping or sequence while its children are read."""

    __slots__ = ("anchor", "key", "node")

    def __init__(self, node: Map | Seq, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.key: Node | None = None
        """A mapping's key, waiting for its value."""

    def add(self, child: Node) -> None:
        node = self.node
        if type(node) is Map:
            if self.key is None:
                self.key = child
                if type(child) is Scalar and child.value == "<<" and child.plain:
                    node.merge = True
                return
            node.pairs.append((self.key, child))
            node.size += self.key.size + child.size
            self.key = None
        else:
            node.items.append(child)  # type: ignore[union-attr]
            node.size += child.size


def compose(text: str, file: str, limits: ComposeLimits = ComposeLimits()) -> Composed:
    """Build the node tree of a one-document YAML text.

    Raises `TooBig` for hostile input (depth, size, alias bomb, recursive alias) and
    `yaml.MarkedYAMLError` for syntax errors; the caller turns the latter into a Problem.
    """
    parser = _Loader(text)
    problems: list[Problem] = []
    anchors: dict[str, Node] = {}
    open_anchors: set[str] = set()
    stack: list[_Frame] = []
    root: Node | None = None
    documents = 0
    written = 0
    expanded = 0

    scalar_event = yaml.ScalarEvent
    mapping_start = yaml.MappingStartEvent
    sequence_start = yaml.SequenceStartEvent
    alias_event = yaml.AliasEvent
    mapping_end = yaml.MappingEndEvent
    sequence_end = yaml.SequenceEndEvent
    document_start = yaml.DocumentStartEvent

    def refuse(message: str, line: int, column: int, hint: str | None = None) -> TooBig:
        where = Location(file, line + 1, column + 1)
        return TooBig(Problem(where, message, hint=hint, code="hostile"))

    def check_tag(tag: str | None, line: int, column: int) -> None:
        if tag is None or tag == "!" or tag in _PLAIN_TAGS:
            return
        problems.append(
            Problem(
                Location(file, line + 1, column + 1),
                f"custom YAML tag {tag!r} is not allowed",
                hint="remove the tag; menu files use plain values only",
                code="yaml-tag",
            )
        )

    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            kind = type(event)
            node: Node
            if kind is scalar_event:
                mark = event.start_mark
                tag = event.tag
                if tag is not None and tag != _STR_TAG:
                    check_tag(tag, mark.line, mark.column)
                node = Scalar(
                    event.value, not event.style and tag != _STR_TAG, mark.line, mark.column
                )
                if event.anchor is not None:
                    anchors[event.anchor] = node
                written += 1
                expanded += 1
            elif kind is alias_event:
                mark = event.start_mark
                name = event.anchor
                if name in open_anchors:
                    raise refuse(
                        f"the alias *{name} refers to a node that contains it",
                        mark.line,
                        mark.column,
                        hint="recursive aliases are not allowed",
                    )
                target = anchors.get(name)
                if target is None:
                    raise refuse(
                        f"the alias *{name} has no anchor &{name} before it",
                        mark.line,
                        mark.column,
                        hint='to use * as a key or value, quote it: "*"',
                    )
                expanded += target.size
                if expanded - written > limits.max_alias_nodes:
                    raise refuse(
                        f"aliases expand this file beyond {limits.max_alias_nodes:,} extra values",
                        mark.line,
                        mark.column,
                        hint="an alias bomb ('billion laughs') or far too much reuse",
                    )
                node = target
            elif kind is mapping_end or kind is sequence_end:
                frame = stack.pop()
                node = frame.node
                if frame.anchor is not None:
                    open_anchors.discard(frame.anchor)
            elif kind is mapping_start or kind is sequence_start:
                mark = event.start_mark
                if len(stack) >= limits.max_depth:
                    raise refuse(
                        f"values are nested more than {limits.max_depth} levels deep",
                        mark.line,
                        mark.column,
                        hint="a menu file needs about ten levels",
                    )
                check_tag(event.tag, mark.line, mark.column)
                container = (Map if kind is mapping_start else Seq)(mark.line, mark.column)
                written += 1
                expanded += 1
                if written > limits.max_nodes:
                    raise refuse(
                        f"the file has more than {limits.max_nodes:,} values",
                        mark.line,
                        mark.column,
                    )
                if event.anchor is not None:
                    anchors[event.anchor] = container
                    open_anchors.add(event.anchor)
                stack.append(_Frame(container, event.anchor))
                continue
            elif kind is document_start:
                documents += 1
                if documents > 1:
                    mark = event.start_mark
                    problems.append(
                        Problem(
                            Location(file, mark.line + 1, mark.column + 1),
                            "a menu file holds one YAML document; this is a second one",
                            hint="remove the '---' line, or split the file",
                            code="yaml-documents",
                        )
                    )
                    break
                continue
            else:
                continue  # stream start and end, document end
            if stack:  # _Frame.add, inlined: this runs once per value in the file
                frame = stack[-1]
                parent = frame.node
                if type(parent) is Map:
                    key = frame.key
                    if key is None:
                        frame.key = node
                        if type(node) is Scalar and node.value == "<<" and node.plain:
                            parent.merge = True
                        continue
                    parent.pairs.append((key, node))
                    parent.size += key.size + node.size
                    frame.key = None
                else:
                    parent.items.append(node)  # type: ignore[union-attr]
                    parent.size += node.size
            else:
                root = node
    finally:
        parser.dispose()
    if written > limits.max_nodes:
        raise refuse(f"the file has more than {limits.max_nodes:,} values", 0, 0)
    return Composed(root, problems)
