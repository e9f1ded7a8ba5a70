"""The graph as plain nodes and edges, built once and written in either syntax."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Edge", "Graph", "Node"]


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: tuple[str, ...]
    """Lines of the label."""
    kind: str
    """entry, schedule, menu, directory, target or hangup: decides the shape."""


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False
    """A fallback: on_limit, or what follows a failed transfer."""
    returns: bool = False
    """Back to a menu the caller came through (`back`, `top`, `repeat`, a failed transfer's
    way back to a menu): dot lays it out as the way in, arrow turned, so the picture
    reads left to right."""


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    """By a key that names what the node stands for; node ids are n0, n1, ..."""
    edges: list[Edge] = field(default_factory=list)
    clusters: list[tuple[str, list[str]]] = field(default_factory=list)
    """Boxes drawn around nodes (label, node ids): one per line of numbers, when asked."""

    def node(self, key: str, label: tuple[str, ...], kind: str) -> str:
        found = self.nodes.get(key)
        if found is None:
            found = self.nodes[key] = Node(f"n{len(self.nodes)}", label, kind)
        return found.id

    def edge(self, edge: Edge) -> None:
        if edge not in self.edges:
            self.edges.append(edge)
