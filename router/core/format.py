"""The menu file format, version 1, written down once.

This module is the single source of truth for which keys exist where, what kind of
value each takes, and what it means; the patterns of the values, and the rules that
judge them, are in `router.core.values`. The loader asks it which keys are allowed
(and which are required) in every mapping it reads; `router schema` turns it into a
JSON Schema for editors. Neither can accept a key the other does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.core.values import (
    CALLER_PATTERN,
    DATE_PATTERN,
    DAY_NAMES,
    DAYS_PATTERN,
    DURATION_PATTERN,
    E164_PATTERN,
    EXTENSION_PATTERN,
    HEADER_NAME_PATTERN,
    HEADER_VALUE_PATTERN,
    HOURS_PATTERN,
    KEY_PATTERN,
    LANGUAGE_PATTERN,
    NAME_PATTERN,
    NUMBER_PATTERN,
    TARGET_PATTERN,
)

__all__ = [
    "CALLER_PATTERN",
    "CALLER_RULE",
    "CALLER_VERBS",
    "DAY_NAMES",
    "DATE_PATTERN",
    "DAYS_PATTERN",
    "E164_PATTERN",
    "EXTENSION_PATTERN",
    "FILE",
    "HEADER_NAME_PATTERN",
    "HOURS_FIELDS",
    "HOURS_PATTERN",
    "KEY_PATTERN",
    "LANGUAGE_PATTERN",
    "LIMIT_KINDS",
    "MESSAGE_MODIFIERS",
    "NAME_PATTERN",
    "NUMBER_PATTERN",
    "SAY_THEN",
    "SHORT_ACTIONS",
    "TRANSFER_MODIFIERS",
    "VERBS",
    "Field",
    "Obj",
    "Spec",
    "json_schema",
    "schema_text",
]

# --- words of the format -------------------------------------------------------------------

SHORT_ACTIONS = ("repeat", "back", "top", "hangup")
"""Actions that may be written as a bare word."""
MESSAGE_MODIFIERS = ("say", "audio")
"""Keys that add a message to any action (on a transfer: the announcement)."""
TRANSFER_MODIFIERS = ("play_dialtone", "hold", "ringing_timeout", "headers", "on_failure")
"""Keys that only a transfer takes."""
SAY_THEN = ("prompt", "wait")
"""What follows a `say` action: the menu's prompt again (default), or silence."""
LIMIT_KINDS = ("invalid", "no_input")
"""The kinds of limit, each with its own `on_limit` action if the file wants."""


# --- the spec language ------------------------------------------------------------------


class Spec:
    """A kind of value. Subclasses say how it reads and how it appears in JSON Schema."""

    doc: str = ""

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Spec):
    doc: str = ""
    pattern: str | None = None
    examples: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = self.pattern
        if self.examples:
            out["examples"] = list(self.examples)
        return _doc(out, self.doc)


@dataclass(frozen=True)
class Boolean(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "boolean"}, self.doc)


@dataclass(frozen=True)
class Integer(Spec):
    doc: str = ""
    minimum: int | None = None

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        return _doc(out, self.doc)


@dataclass(frozen=True)
class Duration(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc(
            {
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                    {"type": "string", "pattern": DURATION_PATTERN},
                ],
                "examples": ["5s", "1.5s", "500ms", "2m"],
            },
            self.doc,
        )


@dataclass(frozen=True)
class Const(Spec):
    value: bool | int | str
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"const": self.value}, self.doc)


@dataclass(frozen=True)
class Null(Spec):
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "null"}, self.doc)


@dataclass(frozen=True)
class Words(Spec):
    values: tuple[str, ...]
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "string", "enum": list(self.values)}, self.doc)


@dataclass(frozen=True)
class Ref(Spec):
    """A named kind, defined once under `$defs` (and allowed to be recursive)."""

    name: str
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"$ref": f"#/$defs/{self.name}"}, self.doc)


@dataclass(frozen=True)
class Field:
    """One key of a mapping."""

    name: str
    spec: Spec
    doc: str = ""
    required: bool = False


@dataclass(frozen=True)
class Obj(Spec):
    """A mapping with a fixed set of keys."""

    fields: tuple[Field, ...]
    doc: str = ""
    min_fields: int = 0
    names: frozenset[str] = field(init=False)
    required: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(f.name for f in self.fields))
        object.__setattr__(self, "required", tuple(f.name for f in self.fields if f.required))

    def schema(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for f in self.fields:
            sub = f.spec.schema()
            if f.doc:
                sub = (
                    {**sub, "description": f.doc}
                    if "$ref" not in sub
                    else {"$ref": sub["$ref"], "description": f.doc}
                )
            props[f.name] = sub
        out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        if self.required:
            out["required"] = list(self.required)
        if self.min_fields:
            out["minProperties"] = self.min_fields
        return _doc(out, self.doc)


@dataclass(frozen=True)
class MapOf(Spec):
    """A mapping whose keys the admin chooses (names, keys, numbers, extensions)."""

    key_pattern: str
    value: Spec
    doc: str = ""
    key_doc: str = ""
    required_keys: tuple[str, ...] = ()
    min_entries: int = 0

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "propertyNames": _doc({"pattern": self.key_pattern}, self.key_doc),
            "additionalProperties": self.value.schema(),
        }
        if self.required_keys:
            out["required"] = list(self.required_keys)
        if self.min_entries:
            out["minProperties"] = self.min_entries
        return _doc(out, self.doc)


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"type": "array", "items": self.item.schema()}, self.doc)


@dataclass(frozen=True)
class OneOf(Spec):
    options: tuple[Spec, ...]
    doc: str = ""

    def schema(self) -> dict[str, Any]:
        return _doc({"oneOf": [o.schema() for o in self.options]}, self.doc)


def _doc(out: dict[str, Any], doc: str) -> dict[str, Any]:
    if doc:
        out["description"] = doc
    return out


# --- the format ---------------------------------------------------------------------------

NAME = Text(pattern=NAME_PATTERN)
TEXT = Text()

PROMPT_LONG = Obj(
    (
        Field("say", TEXT, "Text spoken to the caller."),
        Field(
            "audio",
            TEXT,
            "A recording (wav, mp3, ogg), relative to this file's folder; played before the text.",
        ),
    ),
    doc="Text, a recording, or both (the recording first).",
    min_fields=1,
)
BY_LANGUAGE = MapOf(
    LANGUAGE_PATTERN,
    OneOf((Text(doc="Text spoken to the caller."), PROMPT_LONG)),
    doc='The prompt in each of the file\'s `languages`: `{en: "...", es: {audio: x.wav}}`.',
    key_doc="A language declared under `languages`.",
    min_entries=1,
)
PROMPT = OneOf(
    (Text(doc="Text spoken to the caller."), PROMPT_LONG, BY_LANGUAGE),
    doc="Something the caller hears.",
)
SAID = OneOf(
    (Text(doc="Text spoken to the caller."), BY_LANGUAGE),
    doc="Text spoken to the caller, or one per language (`{en: ..., es: ...}`).",
)
LANGUAGE = Text(
    pattern=LANGUAGE_PATTERN,
    doc="A language declared under `languages`.",
    examples=("en", "es"),
)
SWITCH_LANGUAGE = OneOf(
    (
        LANGUAGE,
        MapOf(
            LANGUAGE_PATTERN,
            LANGUAGE,
            doc="By the caller's language now (a toggle: `{en: fr, fr: en}`); a caller in a"
            " language not listed keeps it.",
            key_doc="A language declared under `languages`: the caller's language now.",
            min_entries=1,
        ),
    ),
    doc="A language declared under `languages`, or one per language the caller is in.",
)
LANGUAGES = OneOf(
    (
        ListOf(LANGUAGE, doc="Language codes; each is spoken in the voice of its own name."),
        MapOf(
            LANGUAGE_PATTERN,
            Obj(
                (
                    Field(
                        "voice",
                        Text(examples=("en-us", "es", "es-419")),
                        "The voice that speaks this language (default: its code).",
                    ),
                ),
            ),
            key_doc="A language code: `en`, `es`, `es-419`.",
            min_entries=1,
        ),
    ),
    doc="The languages prompts are given in; the first is the default. Each prompt is then"
    " a mapping by language (`greeting: {en: ..., es: ...}`).",
)

TARGET = Text(
    doc="A destination's name, or a URI: `tel:+15105550100` (E.164) or `sip:user@host`.",
    pattern=TARGET_PATTERN,
    examples=("operator", "tel:+15105550100", "sip:sales@pbx.example.com"),
)
HEADERS = MapOf(
    HEADER_NAME_PATTERN,
    Text(pattern=HEADER_VALUE_PATTERN),
    doc="Extra SIP headers sent with the transfer; only `X-` headers.",
    key_doc="An `X-` header name.",
)
HOLD_DOC = (
    "Something the caller hears while the transfer rings, from the REFER to its outcome,"
    " looped (a recording or a message); not with `play_dialtone: true`, whose dial tone"
    " mutes it."
)
HOLD = OneOf(
    (
        Const(False, doc="No hold audio here, whatever `defaults` say: silence while it rings."),
        Ref("prompt"),
    ),
    doc=HOLD_DOC,
)
TRANSFER_SETTINGS = Obj(
    (
        Field(
            "play_dialtone",
            Boolean(),
            "Play a ring tone to the caller while the transfer is under way.",
        ),
        Field("hold", HOLD, HOLD_DOC),
        Field(
            "ringing_timeout",
            Duration(),
            "How long the far end may ring before the transfer counts as unanswered.",
        ),
        Field("headers", HEADERS),
    ),
    doc="How transfers are made.",
)
FAILURE_KINDS = ("busy", "no_answer", "rejected", "error")
FAILURE_POLICY = Obj(
    (
        Field("busy", Ref("action"), "The far end is busy (SIP 486, 600)."),
        Field(
            "no_answer",
            Ref("action"),
            "Nobody answered in time (SIP 408, 480, 487, or the ringing timeout).",
        ),
        Field("rejected", Ref("action"), "The transfer was refused (SIP 403, 404, 603, ...)."),
        Field("error", Ref("action"), "Anything else: the trunk, the network, the API."),
    ),
    doc="What happens when a transfer fails; kinds left out are inherited.",
)

_MESSAGE_FIELDS = (
    Field(
        "say",
        SAID,
        "A message played first (on a transfer: the announcement, always heard to the end).",
    ),
    Field("audio", TEXT, "A recording played with the message, relative to this file's folder."),
)
_TRUE_OR_MESSAGE = OneOf(
    (Const(True), Null(), Text(), PROMPT_LONG, BY_LANGUAGE),
    doc="`true` (or nothing), or the message to play, like `say`.",
)

VERBS: Mapping[str, Obj] = {
    "transfer": Obj(
        (
            Field(
                "transfer",
                TARGET,
                "Transfer the caller (a destination's name or a URI).",
                required=True,
            ),
            *_MESSAGE_FIELDS,
            Field("play_dialtone", Boolean(), "Play a ring tone while the transfer is under way."),
            Field("hold", HOLD, HOLD_DOC),
            Field("ringing_timeout", Duration(), "How long the far end may ring."),
            Field("headers", HEADERS),
            Field("on_failure", FAILURE_POLICY, "What happens if this transfer fails."),
        ),
        doc="Transfer the caller.",
    ),
    "menu": Obj(
        (
            Field("menu", NAME, "Go to this menu (`back` returns here).", required=True),
            Field("language", SWITCH_LANGUAGE, "Switch the caller to this language first."),
            *_MESSAGE_FIELDS,
        ),
        doc="Go to another menu.",
    ),
    "language": Obj(
        (
            Field(
                "language",
                SWITCH_LANGUAGE,
                "Switch the caller to this language: every prompt and message from now on is"
                " in it, in its voice; the menu's greeting plays again.",
                required=True,
            ),
            *_MESSAGE_FIELDS,
        ),
        doc='Switch the caller\'s language ("para español, oprima 9").',
    ),
    "back": Obj(
        (Field("back", _TRUE_OR_MESSAGE, required=True), *_MESSAGE_FIELDS),
        doc="Return to the menu that led here.",
    ),
    "top": Obj(
        (Field("top", _TRUE_OR_MESSAGE, required=True), *_MESSAGE_FIELDS),
        doc="Return to the first menu of the call.",
    ),
    "repeat": Obj(
        (Field("repeat", _TRUE_OR_MESSAGE, required=True), *_MESSAGE_FIELDS),
        doc="Play this menu's greeting again.",
    ),
    "hangup": Obj(
        (Field("hangup", _TRUE_OR_MESSAGE, required=True), *_MESSAGE_FIELDS),
        doc="End the call, after the goodbye if there is one.",
    ),
    "say": Obj(
        (
            *_MESSAGE_FIELDS,
            Field(
                "then",
                Words(SAY_THEN),
                "After the message: `prompt` (the default) plays the menu's prompt again;"
                " `wait` waits for a key in silence.",
            ),
        ),
        doc="Play a message, then the menu's prompt, and keep waiting for a key in this menu.",
        min_fields=1,
    ),
}
"""Each verb's mapping: exactly one verb, plus the keys that may go with it."""

ACTION = OneOf(
    (Words(SHORT_ACTIONS, doc="repeat, back, top or hangup."), *VERBS.values()),
    doc="What a key (or a limit, or a failed transfer) makes happen.",
)

TIMEOUTS = Obj(
    (
        Field("first_digit", Duration(), "Silence after the prompt before it counts as no input."),
        Field(
            "inter_digit",
            Duration(),
            "Pause between the keys of an extension before it counts as finished.",
        ),
    ),
    doc="How long callers have to press keys (durations: 5s, 1.5s, 500ms, 2m).",
)
LIMITS = Obj(
    (
        Field("invalid", Integer(minimum=1), "Invalid keys in a menu before `on_limit`."),
        Field("no_input", Integer(minimum=1), "Times without input in a menu before `on_limit`."),
    ),
    doc="How many failures a menu tolerates before `on_limit`.",
)
MESSAGES = Obj(
    (
        Field("invalid", Ref("prompt"), "Played after an invalid key."),
        Field("no_input", Ref("prompt"), "Played when no key came in time."),
        Field(
            "transfer_limit",
            Ref("prompt"),
            "The goodbye when a call has tried the most transfers one call may make.",
        ),
        Field(
            "key_limit",
            Ref("prompt"),
            "The goodbye when a call has pressed the most keys one call may press (100).",
        ),
        Field(
            "call_limit",
            Ref("prompt"),
            "The goodbye when a call has lasted as long as one call may last (15 minutes).",
        ),
    ),
    doc="The router's own words: after an invalid key, after no key, and the goodbyes at "
    "the limits on transfers, keys and call length.",
)
ON_LIMIT = OneOf(
    (
        Ref("action"),
        Obj(
            (
                Field("invalid", Ref("action"), "After `limits.invalid` wrong entries."),
                Field("no_input", Ref("action"), "After `limits.no_input` times without a key."),
            ),
            doc="One action per kind of limit; a kind left out is inherited.",
            min_fields=1,
        ),
    ),
    doc="What happens when a limit is reached: one action for both kinds, or one per kind"
    " (`{invalid: ..., no_input: ...}`).",
)
_INHERITED = (
    Field(
        "voice",
        Text(examples=("en-us", "es", "fr")),
        "The voice that speaks the text of this menu: an espeak-ng voice (en-us, en, es, es-419,"
        " fr, de ...), or a voice name the configured TTS plugin understands.",
    ),
    Field("timeouts", TIMEOUTS),
    Field("limits", LIMITS),
    Field("messages", MESSAGES),
    Field("on_limit", ON_LIMIT, "What happens when a limit is reached (usually the operator)."),
)
DEFAULTS = Obj(
    (
        *_INHERITED,
        Field(
            "transfer",
            TRANSFER_SETTINGS,
            "How every transfer is made, unless a destination or option says otherwise.",
        ),
        Field("on_transfer_failure", FAILURE_POLICY),
    ),
    doc="Settings every menu and destination inherits.",
)
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
    (*_INHERITED, Field("on_transfer_failure", FAILURE_POLICY)),
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
        Field("hangup", _TRUE_OR_MESSAGE, "End the call, after the message if there is one."),
        *HOURS_FIELDS,
        *_MESSAGE_FIELDS,
        *(f for f in VERBS["transfer"].fields if f.name in TRANSFER_MODIFIERS),
    ),
    doc="A rule on the caller's number, tried before the dialled number's entry menu; it"
    " does one thing: `menu`, `transfer` or `hangup` (and may set the `language`).",
)

MENU = Obj(
    (
        Field(
            "greeting",
            Ref("prompt"),
            "Played on entering the menu; says the choices.",
            required=True,
        ),
        Field(
            "prompt",
            Ref("prompt"),
            "A shorter version played after an invalid key or no input; else the greeting.",
        ),
        Field("directory", NAME, "A directory whose extensions callers may dial in this menu."),
        Field(
            "options",
            MapOf(KEY_PATTERN, Ref("action"), key_doc="One key: 0-9, *, #, A-D; quote it."),
            "What each key does; a key acts as soon as it is pressed.",
        ),
        *_INHERITED,
        Field("on_transfer_failure", FAILURE_POLICY),
    ),
)
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

DEFS: Mapping[str, Spec] = {"action": ACTION, "prompt": PROMPT}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the format, for editors and other tools."""
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "livekit-menu-router menu file",
    }
    out.update(FILE.schema())
    out["$defs"] = {name: spec.schema() for name, spec in DEFS.items()}
    return out


def schema_text() -> str:
    """The schema as committed in `menus.schema.json` (stable order, trailing newline)."""
    import json  # here: the commands that read menus never write JSON (docs/benchmarks.md §7)

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
