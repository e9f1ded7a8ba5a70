"""How a caller is transferred: targets, the settings of a transfer, the failure policy."""

from __future__ import annotations

from router.core.format.spec import Boolean, Const, Duration, Field, MapOf, Obj, OneOf, Ref, Text
from router.core.values import HEADER_NAME_PATTERN, HEADER_VALUE_PATTERN, TARGET_PATTERN

__all__ = [
    "FAILURE_KINDS",
    "FAILURE_POLICY",
    "HEADERS",
    "HOLD",
    "HOLD_DOC",
    "TARGET",
    "TRANSFER_MODIFIERS",
    "TRANSFER_SETTINGS",
]

TRANSFER_MODIFIERS = ("play_dialtone", "hold", "ringing_timeout", "headers", "on_failure")
"""Keys that only a transfer takes."""

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
