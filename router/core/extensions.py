"""The rules of a menu's directory: extensions that are never dialled, or make callers wait.

    errors                                     warnings
    - a directory entry that an earlier one    - entries that are the start of longer
      already covers entirely (the first         ones (callers must press # or wait)
      match wins)                              - an option key that starts longer
    - an option key that is also a one-digit     entries (it waits inter_digit)
      entry (the option wins, the entry is
      unreachable)

An entry's extensions are kept as a few `Product`s (one bitmask of allowed digits per
position), so `1xx`, `100-249` and `2` are compared without listing their numbers.
Run by `router.core.checker.check`.
"""

from __future__ import annotations

from router.core.findings import Findings
from router.core.keys import Key
from router.core.model import (
    Directory,
    DirectoryEntry,
    Menu,
    MenuFile,
)

__all__ = ["ExtensionRules", "Product"]

_ALL_DIGITS = (1 << 10) - 1
Product = tuple[int, ...]
"""A set of extensions of one length, as one bitmask of allowed digits per position."""


class ExtensionRules:
    """The directory rules of one menu file, reporting into `findings`."""

    def __init__(self, menu_file: MenuFile, findings: Findings) -> None:
        self.mf = menu_file
        self.report = findings.report
        self._products: dict[str, list[Product]] = {}

    def products(self, entry: DirectoryEntry) -> list[Product]:
        found = self._products.get(entry.pattern)
        if found is None:
            if "-" in entry.pattern:
                low, high = entry.pattern.split("-")
                found = _range_products(low, high)
            else:
                found = [tuple(_ALL_DIGITS if c == "x" else 1 << int(c) for c in entry.pattern)]
            self._products[entry.pattern] = found
        return found

    def directory_rules(self, directory: Directory) -> None:
        by_length: dict[int, list[DirectoryEntry]] = {}
        for entry in directory.entries:
            by_length.setdefault(entry.length, []).append(entry)
        # Same length: an entry wholly covered by an earlier one is never used (first match wins).
        for same in by_length.values():
            exact: dict[str, DirectoryEntry] = {}
            general: list[DirectoryEntry] = []
            for entry in same:
                shadow = exact.get(entry.pattern)
                if shadow is None:
                    mine = self.products(entry)
                    shadow = next(
                        (
                            g
                            for g in general
                            if all(any(_within(p, q) for q in self.products(g)) for p in mine)
                        ),
                        None,
                    )
                if shadow is not None:
                    self.report(
                        entry.loc,
                        f"extension '{entry.pattern}' in directory '{directory.name}' "
                        "is never used: "
                        f"'{shadow.pattern}' (line {shadow.loc.line}) comes first and covers it",
                        hint="the first matching entry wins; put exceptions above patterns",
                        code="covered-extension",
                    )
                    continue
                if entry.pattern.isdigit():
                    exact[entry.pattern] = entry
                else:
                    general.append(entry)
        # Different lengths: a shorter entry that starts a longer one makes callers wait.
        lengths = sorted(by_length)
        for i, short_len in enumerate(lengths):
            shorter = by_length[short_len]
            short_exact = {e.pattern: e for e in shorter if e.pattern.isdigit()}
            short_general = [e for e in shorter if not e.pattern.isdigit()]
            longer_of: dict[str, DirectoryEntry] = {}
            for long_len in lengths[i + 1 :]:
                for long in by_length[long_len]:
                    if long.pattern.isdigit():
                        hit = short_exact.get(long.pattern[:short_len])
                        if hit is not None:
                            longer_of.setdefault(hit.pattern, long)
                        candidates = short_general
                    else:
                        candidates = shorter
                    for short in candidates:
                        if short.pattern in longer_of:
                            continue
                        if self._starts(short, long):
                            longer_of[short.pattern] = long
            for short in shorter:
                first_long = longer_of.get(short.pattern)
                if first_long is not None:
                    self.report(
                        short.loc,
                        f"extension '{short.pattern}' in directory '{directory.name}' "
                        "is also the start of "
                        f"'{first_long.pattern}' (line {first_long.loc.line})",
                        hint=f"callers who dial {short.pattern} must then press # or wait",
                        code="extension-prefix",
                        warning=True,
                    )

    def _starts(self, short: DirectoryEntry, long: DirectoryEntry) -> bool:
        """Some extension of `short` is the beginning of some extension of `long`."""
        n = short.length
        return any(
            all(a & b for a, b in zip(p, q[:n], strict=True))
            for p in self.products(short)
            for q in self.products(long)
        )

    def shadowing(self, menu: Menu) -> None:
        """An option key that is also the first digit of extensions.

        A one-digit extension equal to an option can never be dialled: an error. A key
        that starts longer extensions works as every PBX auto attendant does (after the
        key, the router waits `inter_digit` for more digits; none: the option), so it is
        a warning that says how long the key waits.
        """
        if menu.directory is None:
            return
        directory = self.mf.directories.get(menu.directory)
        if directory is None:
            return
        for key in menu.options:
            if not key.is_digit:
                continue
            bit = 1 << int(key.value)
            starting = [e for e in directory.entries if any(p[0] & bit for p in self.products(e))]
            if not starting:
                continue
            loc = menu.where.get(f"options.{key.value}", menu.options[key].loc)
            same = next((e for e in starting if e.length == 1), None)
            if same is not None:
                self.report(
                    loc,
                    f"key {key.value} in menu '{menu.name}' is both an option and extension "
                    f"'{same.pattern}' of directory '{directory.name}' (line {same.loc.line}); "
                    "the option always wins, so the extension can never be dialled here",
                    hint=self._free_keys_hint(menu, directory),
                    code="shadowed-extension",
                )
                continue
            longer = starting[0]
            wait = _seconds(menu.timeouts.inter_digit_s)
            self.report(
                loc,
                f"key {key.value} in menu '{menu.name}' also starts extension "
                f"'{longer.pattern}' of directory '{directory.name}' (line {longer.loc.line}), "
                f"so after {key.value} the router waits {wait} (inter_digit) for more digits "
                "before acting on it",
                hint=f"{key.value} then # acts at once; for a key that never waits, "
                + self._free_keys_hint(menu, directory, short=True),
                code="option-starts-extension",
                warning=True,
            )

    def _free_keys_hint(self, menu: Menu, directory: Directory, *, short: bool = False) -> str:
        """Keys neither an option nor the start of an extension: the admin's choices."""
        used = 0
        for entry in directory.entries:
            for p in self.products(entry):
                used |= p[0]
        free = [
            str(d) for d in range(1, 10) if not used & (1 << d) and Key(str(d)) not in menu.options
        ]
        if not used & 1 and Key.D0 not in menu.options:
            free.append("0")
        free += [k.value for k in (Key.STAR, Key.POUND) if k not in menu.options]
        if not free:
            return "change the extensions so that none starts with an option's key"
        keys = ", ".join(free)
        if short:
            return f"use a free key ({keys}) or change the extensions"
        return f"use a free key ({keys}), or change the extensions"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _within(p: Product, q: Product) -> bool:
    return all(a & ~b == 0 for a, b in zip(p, q, strict=True))


def _range_products(low: str, high: str) -> list[Product]:
    """The extensions low..high (same length) as a few per-position digit sets."""
    n = len(low)
    if low == "0" * n and high == "9" * n:
        return [(_ALL_DIGITS,) * n]
    if n == 1:
        return [(sum(1 << d for d in range(int(low), int(high) + 1)),)]
    if low[0] == high[0]:
        head = 1 << int(low[0])
        return [(head, *p) for p in _range_products(low[1:], high[1:])]
    out = [(1 << int(low[0]), *p) for p in _range_products(low[1:], "9" * (n - 1))]
    middle = sum(1 << d for d in range(int(low[0]) + 1, int(high[0])))
    if middle:
        out.append((middle,) + (_ALL_DIGITS,) * (n - 1))
    out += [(1 << int(high[0]), *p) for p in _range_products("0" * (n - 1), high[1:])]
    return out
