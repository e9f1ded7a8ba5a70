"""What the digits dialled so far name in a menu: an option, an extension, or more to come."""

from __future__ import annotations

from router.core.keys import Key
from router.core.model import Action, DirectoryEntry, Match, Menu, MenuFile

__all__ = ["NOTHING", "classify"]

NOTHING: tuple[Match, None, None] = (Match.NONE, None, None)
"""Digits that name nothing (and can lead to nothing)."""


def classify(
    menu_file: MenuFile, menu: Menu, digits: str
) -> tuple[Match, Action | None, DirectoryEntry | None]:
    """How `digits` relate to `menu`: its options count as one-digit entries beside its
    directory's extensions. The option, or else the directory's entry, that they name is
    given for AMBIGUOUS and COMPLETE."""
    option = menu.options.get(Key(digits)) if len(digits) == 1 else None
    directory = menu_file.directories.get(menu.directory) if menu.directory else None
    if directory is None:
        return (Match.COMPLETE, option, None) if option is not None else NOTHING
    match, entry = directory.index.entry(digits)
    if option is None:
        return match, None, entry
    # an option that also starts an extension is a real ambiguity: wait for more
    longer = match in (Match.PARTIAL, Match.AMBIGUOUS)
    return (Match.AMBIGUOUS if longer else Match.COMPLETE), option, None
