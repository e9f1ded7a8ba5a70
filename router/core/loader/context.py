"""What the readers of one menu file share: the file, the problem sink, the languages
it declares, and the value readers every concept uses.

The readers are composed, not inherited (a protocol engine's frame handlers, each
given the connection, are the model): each concept (menus, numbers, callers,
transfers, actions, schedules, directories, leaves) is a reader of its own, built on
one `Context`, and finds another concept's reader on it by name. Transfers and
actions read each other (a failure policy holds actions, an action may be a
transfer), which the context ties without either knowing how the other is built.
"""

from __future__ import annotations

from pathlib import Path

from router.core.loader.actions import Actions
from router.core.loader.leaves import HINTS, REQUIRED_HINTS, Leaves
from router.core.loader.nodes import Keys, Sink
from router.core.loader.transfers import Transfers
from router.core.model import Language

__all__ = ["Context"]


class Context(Sink):
    """One menu file being read: where its problems go, and its shared readers.

    `keys`, `leaves`, `transfers` and `actions` are set once by `Context.build`,
    before anything is read."""

    __slots__ = ("actions", "base_dir", "keys", "language", "languages", "leaves", "transfers")

    def __init__(self, file: str, base_dir: Path) -> None:
        super().__init__(file)
        self.base_dir = base_dir
        """Audio paths are resolved against it."""
        self.languages: dict[str, Language] = {}
        """The file's `languages` (read first): the keys a prompt by language may use."""
        self.language: str | None = None
        """The default language: what a prompt written once is in (None: no languages)."""
        self.keys: Keys
        self.leaves: Leaves
        self.transfers: Transfers
        self.actions: Actions

    @classmethod
    def build(cls, file: str, base_dir: Path) -> Context:
        """A context with its shared readers, each given the context."""
        ctx = cls(file, base_dir)
        ctx.keys = Keys(ctx, HINTS, REQUIRED_HINTS)
        ctx.leaves = Leaves(ctx)
        ctx.transfers = Transfers(ctx)
        ctx.actions = Actions(ctx)
        return ctx
