"""A browser caller: a LiveKit participant that plays a phone's part, for trying menus.

The page joins a trial room with a token whose attributes say what the SIP bridge would
say of a phone call (`sip.trunkPhoneNumber`, `sip.callID`, `sip.callStatus`: `ringing`,
then `active` once the page hears the router's track), plus `trial.caller` and,
optionally, `trial.at` (the time of day to call at). The router serves such a
participant only when started for trying (`router dev`, `router local`, `router try`):
`ROUTER_TRIAL_CALLERS=1`, which `router start` always sets to 0.

No asyncio here: plain functions of a participant's kind and attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from router.settings import TRIAL_ENV

__all__ = [
    "AT_ATTRIBUTE",
    "CALLER_ATTRIBUTE",
    "CALLER_VALUE",
    "ENV",
    "ROOM_PREFIX",
    "call_time",
    "is_trial_caller",
]

ENV = TRIAL_ENV
"""Set to 1 by `router dev` (so `router local` and `router try`), to 0 by `router start`."""

CALLER_ATTRIBUTE = "trial.caller"
CALLER_VALUE = "browser"
AT_ATTRIBUTE = "trial.at"
"""ISO 8601 date and time with an offset: the call's time of day for opening hours."""

ROOM_PREFIX = "try-"
"""Every trial room's name starts with this; the page's tokens are for such rooms only."""

STANDARD_KIND = 0
"""`rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD`: a browser or app, not SIP or an agent."""


def is_trial_caller(kind: int, attributes: Mapping[str, str]) -> bool:
    """Whether a participant is a browser caller (the router must also allow them)."""
    return kind == STANDARD_KIND and attributes.get(CALLER_ATTRIBUTE) == CALLER_VALUE


def call_time(attributes: Mapping[str, str], now: datetime) -> datetime:
    """The time of day the caller asked to call at (aware), else `now`."""
    text = attributes.get(AT_ATTRIBUTE, "")
    if not text:
        return now
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return now
    return at if at.tzinfo is not None else now
