"""What a key makes happen: the short words, each verb's mapping, and an action."""

from __future__ import annotations

from collections.abc import Mapping

from router.core.format.prompts import BY_LANGUAGE, PROMPT_LONG, SAID, SWITCH_LANGUAGE
from router.core.format.spec import (
    NAME,
    TEXT,
    Boolean,
    Const,
    Duration,
    Field,
    Null,
    Obj,
    OneOf,
    Text,
    Words,
)
from router.core.format.transfers import FAILURE_POLICY, HEADERS, HOLD, HOLD_DOC, TARGET

__all__ = [
    "ACTION",
    "MESSAGE_FIELDS",
    "MESSAGE_MODIFIERS",
    "SAY_THEN",
    "SHORT_ACTIONS",
    "TRUE_OR_MESSAGE",
    "VERBS",
]

SHORT_ACTIONS = ("repeat", "back", "top", "hangup")
"""Actions that may be written as a bare word."""
MESSAGE_MODIFIERS = ("say", "audio")
"""Keys that add a message to any action (on a transfer: the announcement)."""
SAY_THEN = ("prompt", "wait")
"""What follows a `say` action: the menu's prompt again (default), or silence."""

MESSAGE_FIELDS = (
    Field(
        "say",
        SAID,
        "A message played first (on a transfer: the announcement, always heard to the end).",
    ),
    Field("audio", TEXT, "A recording played with the message, relative to this file's folder."),
)
TRUE_OR_MESSAGE = OneOf(
    (Const(True), Null(), Text(), PROMPT_LONG, BY_LANGUAGE),
    doc="`true` (or nothing), or the message to play, like `say`.",
)


def _short(verb: str, doc: str) -> Obj:
    """A verb that may also be written as a bare word (`SHORT_ACTIONS`): `true` or a
    message, and the keys of any message."""
    return Obj((Field(verb, TRUE_OR_MESSAGE, required=True), *MESSAGE_FIELDS), doc=doc)


VERBS: Mapping[str, Obj] = {
    "transfer": Obj(
        (
            Field(
                "transfer",
                TARGET,
                "Transfer the caller (a destination's name or a URI).",
                required=True,
            ),
            *MESSAGE_FIELDS,
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
            *MESSAGE_FIELDS,
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
            *MESSAGE_FIELDS,
        ),
        doc='Switch the caller\'s language ("para español, oprima 9").',
    ),
    "back": _short("back", "Return to the menu that led here."),
    "top": _short("top", "Return to the first menu of the call."),
    "repeat": _short("repeat", "Play this menu's greeting again."),
    "hangup": _short("hangup", "End the call, after the goodbye if there is one."),
    "say": Obj(
        (
            *MESSAGE_FIELDS,
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
