"""`router graph`: the menu tree as a picture (Mermaid, Graphviz dot, SVG or PNG via dot).

The numbers callers dial (and the opening hours in front of them) are the roots;
menus are boxes; each key is a labelled edge to a menu, a transfer target or the
hang-up; what happens on too many invalid keys or silences (`on_limit`) and after a
failed transfer is drawn dashed, since a caller only goes there when something did
not work. `back` and `top` are drawn to the menus they can lead to.

The command draws one number (`--number`), the numbers of one voice (`--voice`), or
every number with a box around each line's menus; failed transfers only with
`--failures`. The graph is built once as plain nodes and edges, then written in
either syntax: each node has a kind (`NodeKind`) and a name, each edge a cause (`Cause`:
the key pressed, the limit reached, ...) beside its label, for readers that count on it.

By concept: `nodes` (the graph as plain nodes and edges), `building` (the graph of a
menu file), `writers` (Mermaid and dot), `command` (the options and the picture).
"""

from __future__ import annotations

from router.admin.graph.building import build, reached
from router.admin.graph.command import add_arguments, run
from router.admin.graph.nodes import (
    Cause,
    Dialled,
    Edge,
    Extension,
    Extensions,
    Failed,
    Graph,
    Hours,
    Matched,
    Node,
    NodeKind,
    OnLimit,
    Pressed,
)
from router.admin.graph.writers import dot, mermaid

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
    "add_arguments",
    "build",
    "dot",
    "mermaid",
    "reached",
    "run",
]
