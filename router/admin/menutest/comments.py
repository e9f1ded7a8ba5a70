"""Values a YAML comment cut short in a test file: `name: billing (2 then # ...)`.

A warning, not an error: the file is used as read, and the admin is told what the
comment took away and how to quote the whole value."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from router.core.errors import Location, Problem, Severity
from router.core.yamlsafe import Map, Node, Scalar, Seq

__all__ = ["values_cut_by_comments"]

_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))


def values_cut_by_comments(root: Node, lines: Sequence[str], path: str) -> Iterator[Problem]:
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
