"""Coverage: what of the menu file the cases reached, and what no case tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from router.core.keys import Key
from router.core.model import MenuFile

__all__ = ["Coverage"]


@dataclass(slots=True)
class Coverage:
    """What of the menu file the cases reached, to show what no case tests."""

    menus: set[str] = field(default_factory=set)
    options: set[tuple[str, Key]] = field(default_factory=set)
    extensions: set[tuple[str, str]] = field(default_factory=set)
    """(directory, entry pattern)."""
    destinations: set[str] = field(default_factory=set)

    def gaps(self, menu_file: MenuFile) -> tuple[dict[str, tuple[int, int]], list[str]]:
        """Counts (reached, total) per kind, and one line per thing never reached."""
        lines: list[str] = []
        menus = menu_file.menus
        for name, menu in menus.items():
            if name not in self.menus:
                lines.append(f"{menu.loc}: menu '{name}' is never entered")
        options = [(name, key) for name, menu in menus.items() for key in menu.options]
        for name, key in options:
            if (name, key) not in self.options and name in self.menus:
                where = menus[name].where.get(f"options.{key.value}", menus[name].loc)
                lines.append(f"{where}: option '{key.value}' of menu '{name}' is never pressed")
        used = {m.directory for m in menus.values() if m.directory}
        entries = [
            (d.name, e.pattern, e.loc)
            for d in menu_file.directories.values()
            if d.name in used
            for e in d.entries
        ]
        for directory, pattern, loc in entries:
            if (directory, pattern) not in self.extensions:
                lines.append(
                    f"{loc}: extension '{pattern}' of directory '{directory}' is never dialled"
                )
        for name, dest in menu_file.destinations.items():
            if name not in self.destinations:
                lines.append(f"{dest.loc}: destination '{name}' is never transferred to")
        counts = {
            "menus": (len(self.menus & set(menus)), len(menus)),
            "options": (sum(o in self.options for o in options), len(options)),
            "extensions": (
                sum((d, p) in self.extensions for d, p, _ in entries),
                len(entries),
            ),
            "destinations": (
                len(self.destinations & set(menu_file.destinations)),
                len(menu_file.destinations),
            ),
        }
        return counts, lines
