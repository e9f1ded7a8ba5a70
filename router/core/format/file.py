"""The file's top level: destinations, directories, schedules, numbers, caller rules."""

from __future__ import annotations

from router.core.format.actions import (
    MESSAGE_FIELDS,
    MESSAGE_MODIFIERS,
    TRUE_OR_MESSAGE,
    VERBS,
)
from router.core.format.menus import DEFAULTS, INHERITED, MENU
from router.core.format.prompts import LANGUAGE, LANGUAGES, SAID
from router.core.format.spec import (
    NAME,
    TEXT,
    Boolean,
    Const,
    Duration,
    Field,
    ListOf,
    MapOf,
    Obj,
    OneOf,
    Text,
    Words,
)
from router.core.format.transfers import (
    FAILURE_POLICY,
    HEADERS,
    HOLD,
    HOLD_DOC,
    TARGET,
    TRANSFER_MODIFIERS,
)
from router.core.values import (
    CALLER_PATTERN,
    DATE_PATTERN,
    DAYS_PATTERN,
    EXTENSION_PATTERN,
    HOURS_PATTERN,
    NAME_PATTERN,
    NUMBER_PATTERN,
)

__all__ = [
    "CALLER_RULE",
    "CALLER_SETTINGS",
    "CALLER_VERBS",
    "DESTINATION",
    "DESTINATION_LONG",
    "DIRECTORY",
    "ENTRY",
    "ENTRY_LONG",
    "FILE",
    "HOURS_FIELDS",
    "HOURS_VALUE",
    "NUMBER_DEFAULTS",
    "SCHEDULE",
]

DESTINATION_LONG = Obj(
    (
        Field("to", TARGET, "Where the caller goes: `tel:+E164`, `sip:user@host`.", required=True),
        Field("say", SAID, "Announcement played (to the end) before the transfer."),
        Field("audio", TEXT, "A recording played as (or before) the announcement."),
        Field("play_dialtone", Boolean(), "Play a ring tone while the transfer is under way."),
        Field("hold", HOLD, HOLD_DOC),
        Field("ringing_timeout", Duration(), "How long the far end may ring."),
        Field("headers", HEADERS),
        Field("on_failure", FAILURE_POLICY, "What happens when a transfer here fails."),
    ),
)
DESTINATION = OneOf((TARGET, DESTINATION_LONG), doc="A place callers can be transferred to.")
DIRECTORY = MapOf(
    EXTENSION_PATTERN,
    DESTINATION,
    doc="Extensions callers may dial; `{ext}` in a target is replaced by the digits dialled.",
    key_doc="`101`, `1xx` (x = any digit) or `200-249`.",
    min_entries=1,
)
HOURS_VALUE = OneOf(
    (
        Text(pattern=HOURS_PATTERN, examples=("08:30-17:30",)),
        ListOf(Text(pattern=HOURS_PATTERN)),
        Words(("closed",)),
    ),
    doc="`HH:MM-HH:MM`, a list of them, or `closed`; `24:00` ends a day.",
)
SCHEDULE = Obj(
    (
        Field(
            "timezone", Text(examples=("America/New_York",)), "An IANA time zone.", required=True
        ),
        Field(
            "hours",
            MapOf(
                DAYS_PATTERN,
                HOURS_VALUE,
                key_doc="`mon`, `mon-fri`, `sat, sun`, `daily`, `weekdays`, `weekends`.",
            ),
            "Opening hours; days not listed are closed.",
            required=True,
        ),
        Field("holidays", ListOf(Text(pattern=DATE_PATTERN)), "Dates (YYYY-MM-DD) closed all day."),
    ),
)
NUMBER_DEFAULTS = Obj(
    (*INHERITED, Field("on_transfer_failure", FAILURE_POLICY)),
    doc="Defaults for the menus of this number (a second language's words and voice):"
    " they replace the file's `defaults`, key by key, in the menus calls to this number"
    " reach.",
)
HOURS_FIELDS = (
    Field("schedule", NAME, "Opening hours to follow (with `closed`)."),
    Field("closed", NAME, "The first menu when the schedule is closed (with `schedule`)."),
)
"""`schedule` and `closed`, read alike on a number's entry and on a caller rule."""
ENTRY_LONG = Obj(
    (
        Field("menu", NAME, "The first menu of a call to this number.", required=True),
        *HOURS_FIELDS,
        Field("language", LANGUAGE, "The language calls to this number start in."),
        Field("defaults", NUMBER_DEFAULTS),
    ),
)
ENTRY = OneOf((Text(pattern=NAME_PATTERN, doc="The first menu."), ENTRY_LONG))
CALLER_VERBS = ("menu", "transfer", "hangup")
"""What a caller rule may do: start the call in a menu, transfer it at once, or end it."""
_FROM = Text(
    pattern=CALLER_PATTERN,
    examples=("+15105550199", "+1900*", "+44*", "anonymous"),
)
CALLER_RULE = Obj(
    (
        Field(
            "from",
            OneOf((_FROM, ListOf(_FROM))),
            "The callers: numbers in E.164 form (`+15105550199`), prefixes ending in `*`"
            " (`+44*` a country, `+1510*` an area code), `anonymous` for a withheld number;"
            " one, or a list.",
            required=True,
        ),
        Field("name", NAME, "How records and logs name the rule (default: `callers[N]`)."),
        Field("menu", NAME, "Start the call in this menu instead of the number's entry menu."),
        Field(
            "language",
            LANGUAGE,
            "The language the call starts in; alone, the call then goes on to the number's"
            " entry menu.",
        ),
        Field("transfer", TARGET, "Transfer the call at once (a destination's name or a URI)."),
        Field("hangup", TRUE_OR_MESSAGE, "End the call, after the message if there is one."),
        *HOURS_FIELDS,
        *MESSAGE_FIELDS,
        *(f for f in VERBS["transfer"].fields if f.name in TRANSFER_MODIFIERS),
    ),
    doc="A rule on the caller's number, tried before the dialled number's entry menu; it"
    " does one thing: `menu`, `transfer` or `hangup` (and may set the `language`).",
)

CALLER_SETTINGS = tuple(
    f.name
    for f in CALLER_RULE.fields
    if f.name not in (*CALLER_VERBS, *MESSAGE_MODIFIERS, *TRANSFER_MODIFIERS)
)
"""A caller rule's fields that are not its action's (`from`, `name`, `language`, the
hours): the rest is read as an action of one of `CALLER_VERBS`."""

FILE = Obj(
    (
        Field("version", Const(1), "The format version; always 1.", required=True),
        Field("languages", LANGUAGES),
        Field("defaults", DEFAULTS),
        Field("destinations", MapOf(NAME_PATTERN, DESTINATION), "Named places to transfer to."),
        Field("directories", MapOf(NAME_PATTERN, DIRECTORY), "Named lists of dialable extensions."),
        Field("schedules", MapOf(NAME_PATTERN, SCHEDULE), "Named opening hours."),
        Field(
            "callers",
            ListOf(CALLER_RULE),
            "Rules on the caller's number, tried in order before the number dialled; the"
            " first that matches decides.",
        ),
        Field(
            "numbers",
            MapOf(
                NUMBER_PATTERN, ENTRY, required_keys=("default",), key_doc="`+E164` or `default`."
            ),
            "The first menu per number dialled; `default` is required.",
        ),
        Field(
            "menus", MapOf(NAME_PATTERN, MENU, min_entries=1), "The menus, by name.", required=True
        ),
    ),
    doc="A phone menu file for livekit-menu-router.",
)
