"""Directories: extensions callers may dial, each a transfer (`{ext}` filled in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from router.core import values
from router.core.model import Directory, DirectoryEntry
from router.core.patterns import compiled
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["Directories"]


class Directories:
    """Reads the `directories` block."""

    def __init__(self, ctx: Context) -> None:
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers

    def directories(self, node: Node | None) -> dict[str, Directory]:
        out: dict[str, Directory] = {}
        for key, value in self.keys.entries(node, "directories"):
            name = self.leaves.name(key, "directory")
            if name is None:
                continue
            what = f"directory '{name}'"
            entries: list[DirectoryEntry] = []
            pairs = self.keys.entries(value, what)
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
                action = self.transfers.directory_entry(
                    pattern, pvalue, f"extension '{pattern}' of {what}"
                )
                entries.append(DirectoryEntry(pattern, action, self.loc(pkey)))
            out[name] = Directory(name, tuple(entries), self.loc(key))
        return out

    def extension_pattern(self, node: Scalar, what: str) -> str | None:
        raw = node.value.strip().replace("X", "x")
        if not compiled(values.EXTENSION_PATTERN).match(raw):
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
