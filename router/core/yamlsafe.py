"""Reading YAML without trusting it: a node tree with line and column, and hard limits.

Why not `yaml.safe_load`: it drops duplicate keys silently, loses every line number,
and expands aliases into real objects (a "billion laughs" file takes all memory).
Why not `yaml.compose` either: libyaml's composer recurses in C and crashes the
process on deeply nested input, and its tag resolution costs more than the parse.

So this module reads libyaml's *event* stream (a flat, non-recursive iterator) and
builds its own small nodes. On the way it enforces a maximum nesting depth, a
maximum number of nodes, and a budget for what aliases may add once expanded;
each alias is charged the expanded size of what it names (measured once per node,
never by expanding), so an alias bomb is refused at the alias that crosses the
budget, long before anything is expanded. Scalars stay text (with
"was it quoted?") so the loader decides what a value means from where it is, and
`01`, `08:30` or `yes` are never reinterpreted behind the admin's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from router.core.errors import Location, Problem, RouterError

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

    __slots__ = ("column", "line")

    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column

    def loc(self, file: str) -> Location:
        return Location(file, self.line + 1, self.column + 1)


class Scalar(Node):
    __slots__ = ("plain", "value")

    def __init__(self, value: str, plain: bool, line: int, column: int) -> None:
        # `compose` sets these slots itself, without this call: a file has hundreds of
        # thousands of scalars
        self.line = line
        self.column = column
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
        self.line = line  # no super().__init__: one call fewer per mapping
        self.column = column
        self.pairs: list[tuple[Node, Node]] = []
        """In file order, duplicates kept: the loader reports them."""
        self.merge = False
        """True if a plain `<<` key is among the keys (a YAML merge key)."""


def expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """How many nodes `node` stands for once every alias under it is expanded.

    Only asked for nodes that an alias names, so files without aliases pay nothing;
    `sizes` remembers shared nodes, so even an alias bomb is measured in linear time.
    """
    known = sizes.get(id(node))
    if known is not None:
        return known
    total = 1
    todo: list[Node] = [node]
    # iterative: the nesting limit keeps the tree shallow, but never trust recursion here
    while todo:
        current = todo.pop()
        children: list[Node]
        if type(current) is Map:
            children = [n for pair in current.pairs for n in pair]
        elif type(current) is Seq:
            children = current.items
        else:
            continue
        for child in children:
            size = sizes.get(id(child))
            if size is not None:
                total += size
            elif type(child) is Scalar:
                total += 1
            else:
                total += 1
                todo.append(child)
    sizes[id(node)] = total
    return total


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


class TooBig(RouterError):
    """The document was refused outright; `problem` says why and where."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def compose(text: str, file: str, limits: ComposeLimits = ComposeLimits()) -> Composed:
    """Build the node tree of a one-document YAML text.

    Raises `TooBig` for hostile input (depth, size, alias bomb, recursive alias) and
    `yaml.MarkedYAMLError` for syntax errors; the caller turns the latter into a Problem.
    """
    parser = _Loader(text)
    problems: list[Problem] = []
    anchors: dict[str, Node] = {}
    open_anchors: set[str] = set()
    # The open container's state lives in locals (a local is far cheaper than an
    # attribute, and this loop runs once per value of the file); `stack` keeps the
    # state of the containers around it: (node, anchor, add, key).
    stack: list[tuple[Map | Seq, str | None, Callable[[Any], None] | None, Node | None]] = []
    top: Map | Seq | None = None
    top_anchor: str | None = None
    add: Callable[[Any], None] | None = None
    """Appends to the open container: its pairs (`in_map`) or its items."""
    in_map = False
    key: Node | None = None
    """The open mapping's key, waiting for its value."""
    root: Node | None = None
    documents = 0
    written = 0
    extra = 0
    sizes: dict[int, int] = {}
    merge_keys = "<<" in text  # else no mapping can hold one: skip the test per key
    max_depth = limits.max_depth
    new = object.__new__

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

    get_event = parser.get_event
    try:
        while True:
            event = get_event()
            kind = type(event)
            node: Node
            if kind is scalar_event:
                mark = event.start_mark
                tag = event.tag
                # built without a call to __init__: a file has hundreds of thousands
                node = new(Scalar)
                node.value = event.value
                if tag is None:
                    node.plain = not event.style
                else:
                    if tag != _STR_TAG:
                        check_tag(tag, mark.line, mark.column)
                    node.plain = not event.style and tag != _STR_TAG
                node.line = mark.line
                node.column = mark.column
                if event.anchor is not None:
                    anchors[event.anchor] = node
                written += 1
            elif kind is mapping_end or kind is sequence_end:
                if top_anchor is not None:
                    open_anchors.discard(top_anchor)
                top, top_anchor, add, key = stack.pop()
                in_map = type(top) is Map
                continue  # the container joined its parent when it opened
            elif kind is mapping_start or kind is sequence_start:
                mark = event.start_mark
                if len(stack) >= max_depth:
                    raise refuse(
                        f"values are nested more than {max_depth} levels deep",
                        mark.line,
                        mark.column,
                        hint="a menu file needs about ten levels",
                    )
                if event.tag is not None:
                    check_tag(event.tag, mark.line, mark.column)
                container: Map | Seq = (Map if kind is mapping_start else Seq)(
                    mark.line, mark.column
                )
                written += 1
                if written > limits.max_nodes:
                    raise refuse(
                        f"the file has more than {limits.max_nodes:,} values",
                        mark.line,
                        mark.column,
                    )
                anchor = event.anchor
                if anchor is not None:
                    anchors[anchor] = container
                    open_anchors.add(anchor)
                # the container is its parent's value (or key) as soon as it opens
                if add is None:
                    root = container
                elif not in_map:
                    add(container)
                elif key is None:
                    key = container
                else:
                    add((key, container))
                    key = None
                stack.append((top, top_anchor, add, key))  # type: ignore[arg-type]
                top, top_anchor, key = container, anchor, None
                in_map = kind is mapping_start
                add = container.pairs.append if in_map else container.items.append  # type: ignore[union-attr]
                continue
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
                extra += expanded_size(target, sizes)  # what this alias adds once expanded
                if extra > limits.max_alias_nodes:
                    raise refuse(
                        f"aliases expand this file beyond {limits.max_alias_nodes:,} extra values",
                        mark.line,
                        mark.column,
                        hint="an alias bomb ('billion laughs') or far too much reuse",
                    )
                node = target
            elif event is None:
                break
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
            # a finished value goes to the open container; this runs once per value
            if in_map:
                if key is None:
                    key = node
                    if merge_keys and type(node) is Scalar and node.value == "<<":
                        top.merge = node.plain  # type: ignore[union-attr]
                    continue
                add((key, node))  # type: ignore[misc]
                key = None
            elif add is not None:
                add(node)
            else:
                root = node  # a document that is one value (a container is set on opening)
    except yaml.MarkedYAMLError as exc:
        # PyYAML >= 6.0.4 stops deep nesting itself, while scanning ahead of our own check
        mark = exc.problem_mark
        if mark is not None and "nesting depth" in str(exc.problem):
            raise refuse(
                f"values are nested more than {limits.max_depth} levels deep",
                mark.line,
                mark.column,
                hint="a menu file needs about ten levels",
            ) from None
        raise
    finally:
        parser.dispose()
    if written > limits.max_nodes:
        raise refuse(f"the file has more than {limits.max_nodes:,} values", 0, 0)
    return Composed(root, problems)
