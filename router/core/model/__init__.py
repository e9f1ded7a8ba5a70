"""The menu file as typed, immutable values.

The loader turns `menus.yaml` into a `MenuFile`; everything after it (checker,
navigator, runtime, CLI) reads only these values. Defaults are already resolved
into each menu and destination, so no later stage needs to know about inheritance.
Every value that came from the file keeps its `Location`, so any later finding can
point at the line an admin must edit.

By concept, a module each (imported from here): `prompts` (what a caller hears),
`transfers` (how a transfer is made, how its failure is named), `actions` (what a key
makes happen, the failure policy), `menus` (a menu, its timing, limits and words),
`directories` (dial by extension and its index), `schedules` (opening hours), `callers`
(rules on the caller's number), `file` (entries, languages, the `MenuFile`), and
`locations` (`NOWHERE`: values from built-in defaults). Sans-I/O, like all of the core.
"""

from __future__ import annotations

from router.core.model.actions import (
    Action,
    Back,
    FailurePolicy,
    GoTo,
    Hangup,
    LanguageTurn,
    Repeat,
    Say,
    Top,
    Transfer,
    language_after,
    language_label,
)
from router.core.model.callers import CallerPattern, CallerRule, caller_number
from router.core.model.directories import Directory, DirectoryEntry, ExtensionIndex, Match
from router.core.model.file import Entry, Language, MenuFile
from router.core.model.locations import NOWHERE
from router.core.model.menus import Limits, Menu, Messages, Timeouts
from router.core.model.prompts import Prompt
from router.core.model.schedules import Schedule, Weekday
from router.core.model.transfers import FailureKind, TransferReason, TransferSettings

__all__ = [
    "NOWHERE",
    "Action",
    "Back",
    "CallerPattern",
    "CallerRule",
    "Directory",
    "DirectoryEntry",
    "Entry",
    "ExtensionIndex",
    "FailureKind",
    "FailurePolicy",
    "GoTo",
    "Hangup",
    "Language",
    "LanguageTurn",
    "Limits",
    "Match",
    "Menu",
    "MenuFile",
    "Messages",
    "Prompt",
    "Repeat",
    "Say",
    "Schedule",
    "Timeouts",
    "Top",
    "Transfer",
    "TransferReason",
    "TransferSettings",
    "Weekday",
    "caller_number",
    "language_after",
    "language_label",
]
