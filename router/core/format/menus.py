"""A menu and what it inherits: time-outs, limits, the router's own words, `defaults`."""

from __future__ import annotations

from router.core.format.spec import NAME, Duration, Field, Integer, MapOf, Obj, OneOf, Ref, Text
from router.core.format.transfers import FAILURE_POLICY, TRANSFER_SETTINGS
from router.core.values import KEY_PATTERN

__all__ = [
    "DEFAULTS",
    "INHERITED",
    "LIMITS",
    "LIMIT_KINDS",
    "MENU",
    "MESSAGES",
    "ON_LIMIT",
    "TIMEOUTS",
]

LIMIT_KINDS = ("invalid", "no_input")
"""The kinds of limit, each with its own `on_limit` action if the file wants."""

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
INHERITED = (
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
        *INHERITED,
        Field(
            "transfer",
            TRANSFER_SETTINGS,
            "How every transfer is made, unless a destination or option says otherwise.",
        ),
        Field("on_transfer_failure", FAILURE_POLICY),
    ),
    doc="Settings every menu and destination inherits.",
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
        *INHERITED,
        Field("on_transfer_failure", FAILURE_POLICY),
    ),
)
