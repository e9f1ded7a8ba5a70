"""The whole file: where each dialled number starts (`Entry`), its `Language`s, and the
`MenuFile` that holds everything, with its lookups and the one walk over its values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from router.core.errors import Location
from router.core.model.actions import Transfer
from router.core.model.callers import CallerRule, caller_number
from router.core.model.directories import Directory
from router.core.model.locations import NO_PLACES, NOWHERE
from router.core.model.menus import Menu
from router.core.model.prompts import Prompt
from router.core.model.schedules import Schedule
from router.core.walk import objects_in

__all__ = ["Entry", "Language", "MenuFile"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a call to one dialled number starts."""

    number: str
    """The dialled number (E.164), or `default`."""
    menu: str
    schedule: str | None = None
    closed: str | None = None
    """The menu used when `schedule` is closed."""
    language: str | None = None
    """The language calls to this number start in (None: the file's default language)."""
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: NO_PLACES)
    """Where `menu`, `schedule` and `closed` were written."""


@dataclass(frozen=True, slots=True)
class Language:
    """One language of the file's `languages`: its code and the voice that speaks it."""

    code: str
    """As the file writes it (`en`, `es`, `es-419`): the keys of prompts in several languages."""
    voice: str
    """The voice its text is spoken in (an espeak-ng voice, or the TTS plugin's)."""
    loc: Location = NOWHERE


_UNFOLLOWED = frozenset({"where", "loc"})
"""Slots the walk of `values_of` does not look into: where parts were written (locations
made when asked for), and a value's own location (one per object, never a value)."""


@dataclass(frozen=True, slots=True)
class MenuFile:
    """A whole, loaded menu file: one version of the router's behaviour."""

    path: str
    version: str
    """A short digest of the file's bytes; a call keeps the version it started with."""
    menus: Mapping[str, Menu]
    entries: Mapping[str, Entry]
    """By dialled number; the key `default` is always present."""
    destinations: Mapping[str, Transfer] = field(default_factory=dict)
    directories: Mapping[str, Directory] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    callers: tuple[CallerRule, ...] = ()
    """Rules on the caller's number, in file order; the first that matches wins."""
    languages: Mapping[str, Language] = field(default_factory=dict)
    """The declared languages by code, the default first; empty: one language, unnamed."""
    _objects: list[object] = field(default_factory=list, init=False, repr=False, compare=False)
    """Every object of the file, made on the first `values_of` (a cache, not a value)."""

    @property
    def default_language(self) -> str | None:
        """The language calls start in unless a number or a caller rule says otherwise."""
        return next(iter(self.languages), None)

    def voice_for(self, prompt: Prompt, menu_voice: str | None) -> str | None:
        """The voice a prompt is spoken in: its language's, else the menu's (None: the
        router's configured voice)."""
        language = self.languages.get(prompt.language or "")
        return language.voice if language is not None else menu_voice

    def caller_rule(self, caller: str | None) -> CallerRule | None:
        """The first rule the caller's number (as the bridge gave it: `anonymous` or empty
        when withheld) matches, if any; None (no phone caller to judge) matches none."""
        if caller is None:
            return None
        number = caller_number(caller)
        return next((rule for rule in self.callers if rule.matches(number)), None)

    def entry_for(self, dialled: str | None) -> Entry:
        """The entry for a dialled number, tolerant of a missing `+`; else the default."""
        if dialled:
            for candidate in (dialled, "+" + dialled.lstrip("+")):
                if candidate in self.entries:
                    return self.entries[candidate]
        return self.entries["default"]

    def prompts(self) -> Iterator[Prompt]:
        """Every prompt a call on this file could play (each language's version of a prompt
        given in several), found by walking the model's values (`values_of`)."""
        for prompt in self.values_of(Prompt):
            if prompt.versions:
                yield from prompt.versions
            elif prompt:
                yield prompt

    def values_of(self, kind: type[_T]) -> Iterator[_T]:
        """Every value of `kind` in the file (prompts, actions, transfers ...), each object
        once, in file order, also those inside another (a failure policy's transfers),
        found by walking the model's values (`router.core.walk`): a new kind of action or
        setting that holds one is found without a change here. A prompt is not looked
        inside: its versions are parts of it (`prompts` lists them). The file is walked
        once, on the first call, and the list kept: every rule of the checker asks."""
        if not self._objects:
            found = objects_in(self, opaque=(Prompt,), ignored=(Location,), unfollowed=_UNFOLLOWED)
            self._objects.extend(found)
        return (value for value in self._objects if isinstance(value, kind))

    def start_menu(self, dialled: str | None, at: datetime) -> str:
        """The menu a call starts in, given the number dialled and the time of the call."""
        entry = self.entry_for(dialled)
        return self.closed_menu(entry.schedule, entry.closed, at) or entry.menu

    def closed_menu(self, schedule: str | None, closed: str | None, at: datetime) -> str | None:
        """`closed` when `schedule` is closed at `at` (an aware datetime), else None: a
        number's entry and a caller rule follow their opening hours alike."""
        if schedule and closed and not self.schedules[schedule].is_open(at):
            return closed
        return None
