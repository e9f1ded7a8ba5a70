"""The admission: whether a session serves the call of the room it was dispatched to.

Before a menu starts, a session waits for the SIP caller, then for the call's answer
(the SIP bridge publishes it; a key proves it too), and decides what is left for it to
do: serve the call, record a call that ended unanswered, or leave the room to whoever
holds it. LiveKit dispatches a room's agents again whenever it creates the room anew
(livekit-server's `pkg/rtc/room.go`, `NewRoom`: after its restart, or the router's
own rejoin in an outage), so a dispatch may find a call already served, ended, or
claimed by another session (`router.runtime.served`).
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING

from livekit import rtc

from router.core.events import EndReason
from router.runtime.call.hangup import delete_room, remove_caller
from router.runtime.served import CALLS

if TYPE_CHECKING:
    from router.runtime.call.session import CallSession

__all__ = ["SERVED_AGAIN", "Admission", "admit"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as the session's

SERVED_AGAIN = frozenset({EndReason.CONNECTION_LOST, EndReason.SHUTDOWN})
"""Ends after which the same call, dispatched again with its caller still there, is
served again rather than hung up on (`ended_here`)."""


class Admission(Enum):
    """What a dispatched session does with its room's call (`admit`)."""

    SERVE = "serve"
    """The caller is here, the call answered and claimed: its menu starts."""
    UNANSWERED = "unanswered"
    """No caller came, or the call ended before its menu: a record of the call as such."""
    ENDED_BEFORE = "ended before"
    """The room is dispatched again after its call ended here: no call, no record; the
    room is remembered and removed as any served room's."""
    LEAVE = "leave"
    """Nothing for this session: nobody came (a room joined by hand), the call ended here
    and is hung up on again, or another session serves it (its record, its room)."""


async def admit(session: CallSession, caller: rtc.RemoteParticipant | None) -> Admission:
    """Wait for the caller (unless given: tests, `router connect`) and the answer, and
    decide what `session` does with its room's call. Sets the session's caller and the
    loop time of the answer (`_answered`); a `SERVE` has claimed the call."""
    options = session.options
    label = session._label
    caller = caller or await session.presence.wait_for_caller(
        dispatched=options.dispatched, timeout_s=options.caller_timeout_s
    )
    if caller is None and not options.dispatched:
        log.warning("room %s: no SIP caller joined; leaving", label)
        return Admission.LEAVE
    session.presence.caller = caller  # from here on, the caller leaving ends every wait
    if caller is not None and await ended_here(session, caller):
        return Admission.LEAVE
    if caller is not None:
        session._answered = await session.presence.wait_until_answered(
            caller, timeout_s=options.answer_timeout_s, key=session._key_came
        )
    room = session.room.name
    if (
        (caller is None or session.over)
        and options.dispatched
        and CALLS.serving_room(room, session)
    ):
        # a room created anew in an outage (the router's own rejoin does it too) is
        # dispatched again; its call, and the room, are the serving session's, whether
        # this dispatch found no caller or saw it go before the answer (the serving
        # session hanging up: soak run 8, three `dropped` beside the serving session's)
        log.info(
            "room %s: dispatched again to a room this process serves; "
            "leaving it to the session serving it",
            label,
        )
        return Admission.LEAVE
    if (
        session.over
        and options.dispatched
        and (CALLS.in_room(room, session) or CALLS.served_lately(room))
    ):
        # a second dispatch still waiting for the bridge's `active` when the serving
        # session hung up on the caller: that session has its record (a 120-call soak:
        # 2 calls, finding 25)
        log.info(
            "room %s: the caller left while another session of this process served the "
            "call; its record is that session's",
            label,
        )
        return Admission.ENDED_BEFORE
    if caller is None and CALLS.served_lately(room):
        log.info("room %s: dispatched again after its call ended here", label)
        return Admission.ENDED_BEFORE
    if caller is None or session.over:
        return Admission.UNANSWERED
    if not await CALLS.claim(session, caller.identity, dispatched=options.dispatched, label=label):
        return Admission.LEAVE  # its record, and its room, are the other session's
    return Admission.SERVE


async def ended_here(session: CallSession, caller: rtc.RemoteParticipant) -> bool:
    """Whether `caller`'s call already ended here, its record written: then it is hung
    up on again, its room closed, and nothing recorded (True).

    After a livekit-server restart the SIP bridge brings its caller back into a room
    created anew, which is dispatched again; a call the router had ended meanwhile (the
    menu's limit hung up while the bridge was away, so the removal found nobody) was
    served, and recorded, a second time (the soak's run 7: 4 calls). The router's
    decision stands. A call that ended by losing LiveKit (`SERVED_AGAIN`) is served
    again instead: never a caller left with nobody serving."""
    if not (session.options.dispatched and CALLS.ended_lately(caller.attributes.get("sip.callID"))):
        return False
    label = session._label
    log.info("call %s: dispatched again to a call that ended here; hanging up on it again", label)
    await remove_caller(session._api, session.presence, caller.identity, label)
    await delete_room(session._api, session.presence, caller.identity, label)
    return True
