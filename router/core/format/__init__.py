"""The menu file format, version 1, written down once.

This package is the single source of truth for which keys exist where, what kind of
value each takes, and what it means; the patterns of the values, and the rules that
judge them, are in `router.core.values`. The loader asks it which keys are allowed
(and which are required) in every mapping it reads; `router schema` turns it into a
JSON Schema for editors. Neither can accept a key the other does not know.

By concept: `spec` (the kinds of value and their JSON Schema), `prompts` (what callers
hear, by language), `transfers` (targets, settings, the failure policy), `actions` (the
verbs), `menus` (a menu and what it inherits), `file` (the top level: destinations,
directories, schedules, numbers, caller rules), `schema` (the whole as JSON Schema).
Every name is re-exported here: `from router.core import format as fmt; fmt.MENU`.
"""

from __future__ import annotations

from router.core.format.actions import (
    ACTION,
    MESSAGE_MODIFIERS,
    SAY_THEN,
    SHORT_ACTIONS,
    VERBS,
)
from router.core.format.file import (
    CALLER_RULE,
    CALLER_SETTINGS,
    CALLER_VERBS,
    DESTINATION,
    DESTINATION_LONG,
    DIRECTORY,
    ENTRY,
    ENTRY_LONG,
    FILE,
    HOURS_FIELDS,
    HOURS_VALUE,
    NUMBER_DEFAULTS,
    SCHEDULE,
)
from router.core.format.menus import (
    DEFAULTS,
    LIMIT_KINDS,
    LIMITS,
    MENU,
    MESSAGES,
    ON_LIMIT,
    TIMEOUTS,
)
from router.core.format.prompts import (
    BY_LANGUAGE,
    LANGUAGE,
    LANGUAGES,
    PROMPT,
    PROMPT_LONG,
    SAID,
    SWITCH_LANGUAGE,
)
from router.core.format.schema import (
    DEFS,
    json_schema,
    schema_text,
)
from router.core.format.spec import (
    NAME,
    TEXT,
    Boolean,
    Const,
    Duration,
    Field,
    Integer,
    ListOf,
    MapOf,
    Null,
    Obj,
    OneOf,
    Ref,
    Spec,
    Text,
    Words,
)
from router.core.format.transfers import (
    FAILURE_KINDS,
    FAILURE_POLICY,
    HEADERS,
    HOLD,
    HOLD_DOC,
    TARGET,
    TRANSFER_MODIFIERS,
    TRANSFER_SETTINGS,
)
from router.core.values import (
    CALLER_PATTERN,
    DATE_PATTERN,
    DAY_NAMES,
    DAYS_PATTERN,
    E164_PATTERN,
    EXTENSION_PATTERN,
    HEADER_NAME_PATTERN,
    HOURS_PATTERN,
    KEY_PATTERN,
    LANGUAGE_PATTERN,
    NAME_PATTERN,
    NUMBER_PATTERN,
)

__all__ = [
    "ACTION",
    "BY_LANGUAGE",
    "Boolean",
    "CALLER_PATTERN",
    "CALLER_RULE",
    "CALLER_SETTINGS",
    "CALLER_VERBS",
    "Const",
    "DATE_PATTERN",
    "DAYS_PATTERN",
    "DAY_NAMES",
    "DEFAULTS",
    "DEFS",
    "DESTINATION",
    "DESTINATION_LONG",
    "DIRECTORY",
    "Duration",
    "E164_PATTERN",
    "ENTRY",
    "ENTRY_LONG",
    "EXTENSION_PATTERN",
    "FAILURE_KINDS",
    "FAILURE_POLICY",
    "FILE",
    "Field",
    "HEADERS",
    "HEADER_NAME_PATTERN",
    "HOLD",
    "HOLD_DOC",
    "HOURS_FIELDS",
    "HOURS_PATTERN",
    "HOURS_VALUE",
    "Integer",
    "KEY_PATTERN",
    "LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_PATTERN",
    "LIMITS",
    "LIMIT_KINDS",
    "ListOf",
    "MENU",
    "MESSAGES",
    "MESSAGE_MODIFIERS",
    "MapOf",
    "NAME",
    "NAME_PATTERN",
    "NUMBER_DEFAULTS",
    "NUMBER_PATTERN",
    "Null",
    "ON_LIMIT",
    "Obj",
    "OneOf",
    "PROMPT",
    "PROMPT_LONG",
    "Ref",
    "SAID",
    "SAY_THEN",
    "SCHEDULE",
    "SHORT_ACTIONS",
    "SWITCH_LANGUAGE",
    "Spec",
    "TARGET",
    "TEXT",
    "TIMEOUTS",
    "TRANSFER_MODIFIERS",
    "TRANSFER_SETTINGS",
    "Text",
    "VERBS",
    "Words",
    "json_schema",
    "schema_text",
]
