"""The graph as plain nodes and edges, built once and written in either syntax.

Each node has a kind (`NodeKind`: the shape drawn) and the name of what it stands for;
each edge has a cause (`Cause`: the number dialled, the hours, the key pressed, the limit
reached, the failed transfer, ...) beside the label drawn on it, so a reader of the graph
(`router report`'s picture) matches on types, never on the label's wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from router.core.events import Limit
from router.core.keys import Key
from router.core.model import FailureKind

__all__ = [
    "Cause",
    "Dialled",
    "Edge",
    "Extension",
    "Extensions",
    "Failed",
    "Graph",
    "Hours",
    "Matched",
    "Node",
    "NodeKind",
    "OnLimit",
    "Pressed",
]


class NodeKind(StrEnum):
    """What a node stands for, which decides its shape. The value is written out as is:
    the trial page's graph JSON (`kind`, read by router/trial/web/graph.js) and the start
    of the graph's keys (`menu:main`; a caller rule's are `caller:NAME`)."""

    ENTRY = "entry"
    """A number dialled (`default` among them), or a caller rule."""
    SCHEDULE = "schedule"
    """A number's or a caller rule's opening hours."""
    MENU = "menu"
    DIRECTORY = "directory"
    """A directory of extensions dialled from a menu."""
    TARGET = "target"
    """A transfer target: a named destination, or a URI written inline."""
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    """`n0`, `n1`, ...: the node's id in the dot and Mermaid text and the SVG."""
    label: tuple[str, ...]
    """Lines of the label."""
    kind: NodeKind
    name: str
    """What the node stands for, by kind: the number (`default` among them) or the caller
    rule's name (entry); the schedule's name; the menu's; the directory's; the
    destination's name, or the URI written inline (target); empty for the hang-up."""


# --- why a caller goes along an edge -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dialled:
    """A call to `number` starts here: the number's entry to its first menu or its hours
    (`default`: every number the file does not name)."""

    number: str


@dataclass(frozen=True, slots=True)
class Matched:
    """A caller rule matched the caller: the rule's entry to what it does (or its hours)."""

    rule: str


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours to the menu they pick: `open` (the first menu) or closed."""

    open: bool
    of: Dialled | Matched
    """Whose hours: a number's or a caller rule's."""


@dataclass(frozen=True, slots=True)
class Pressed:
    """A menu's option: the caller pressed `key` (the edge may lead back: `*: back`)."""

    key: Key


@dataclass(frozen=True, slots=True)
class Extensions:
    """A menu to its directory: the caller dials an extension."""


@dataclass(frozen=True, slots=True)
class Extension:
    """A directory's entry: the extension dialled matched `pattern` (`4xxx`, `500-549`)."""

    pattern: str


@dataclass(frozen=True, slots=True)
class OnLimit:
    """A menu's `on_limit`: one of `limits` was reached (both, unless the no-input limit
    has an action of its own: then one edge each)."""

    limits: tuple[Limit, ...]


@dataclass(frozen=True, slots=True)
class Failed:
    """What follows a transfer that failed in one of `kinds` (`on_failure`,
    `on_transfer_failure`)."""

    kinds: tuple[FailureKind, ...]


Cause = Dialled | Matched | Hours | Pressed | Extensions | Extension | OnLimit | Failed
"""Why a caller goes along an edge; `match` over it with `assert_never`."""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    """The words drawn on the edge (`*: back`, `on limit (silence)`): for people only."""
    dashed: bool = False
    """A fallback: on_limit, or what follows a failed transfer."""
    returns: bool = False
    """Back to a menu the caller came through (`back`, `top`, `repeat`, a failed transfer's
    way back to a menu): dot lays it out as the way in, arrow turned, so the picture
    reads left to right."""
    cause: Cause = field(kw_only=True)
    """Why a caller goes along the edge: what a reader of the graph matches on."""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    """By a key that names what the node stands for (`menu:main`, `target:destination:
    billing`; the trial page's graph JSON keeps it); node ids are n0, n1, ..."""
    edges: list[Edge] = field(default_factory=list)
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)
    """Boxes drawn around nodes (label, node ids): one per line of numbers, when asked."""

    def node(self, key: str, label: tuple[str, ...], kind: NodeKind, name: str) -> str:
        """The id of the node kept under `key`, made the first time it is asked for."""
        found = self.nodes.get(key)
        if found is None:
            found = self.nodes[key] = Node(f"n{len(self.nodes)}", label, kind, name)
        return found.id

    def by_id(self) -> dict[str, Node]:
        """The nodes by their id (`n3`): how an edge names its ends."""
        return {node.id: node for node in self.nodes.values()}

    def edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)
