"""The caller in the room: which participant is the caller, and whether it is still on
the call across LiveKit's outages.

A room event alone does not say the caller hung up. While the rtc SDK rejoins, it forgets
every participant; a livekit-server that stops closes each participant with
`SERVER_SHUTDOWN`, and the SIP bridge rejoins the restarted server on its own, sometimes
seconds after the router. Taken for departures, these ended calls whose callers were still
there, and a second dispatch served and recorded them again (the soak, docs/reliability.md
findings 9, 17 and 18). `CallerPresence` keeps that knowledge in one place: it follows the
room's events, waits `REJOIN_GRACE_S` where the caller may come back, and tells the call
only what counts: the caller left (`left`), or the call is over (`end`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable

from livekit import rtc

from router.core.events import EndReason
from router.trial.caller import is_trial_caller

__all__ = [
    "HANGUP_DEPARTURE_GRACE_S",
    "JOIN_GRACE_S",
    "REJOIN_GRACE_S",
    "SIP",
    "CallerPresence",
    "caller_number_of",
    "find_sip_caller",
]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split

SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP

REJOIN_GRACE_S = 8.0
"""How long a call back on LiveKit after a lost connection waits for its caller to be in
the room again: the SIP bridge rejoins a restarted livekit-server on its own, and seconds
after the router did in the soak (its call then served, and recorded, by a second
dispatch)."""

HANGUP_DEPARTURE_GRACE_S = 2.0
"""How long after the SIP bridge set the caller's `sip.callStatus` to `hangup` the call
waits for the caller's participant to leave before it takes the hang-up itself.
livekit-sip sets it as it closes the call, and leaves at once (`pkg/sip/inbound.go`
`close`: `setStatus`, then `closeMedia`, `lkRoom.Close`); at load the leave was lost on a
broken signal pipe (soak runs 13 and 16: livekit-server's "error writing to websocket",
the participant kept until removed), and the router, not told, played its menu to nobody
until its no-input limit hung up."""

JOIN_GRACE_S = 1.0
"""How long a dispatched call waits for its caller when none is in the room on joining.
livekit-server dispatches the job when the SIP bridge's participant creates the room, in
the same step as that participant joins; the router's own join comes hundreds of ms later."""

_ROOM_ENDED = frozenset(
    {
        rtc.DisconnectReason.CLIENT_INITIATED,
        rtc.DisconnectReason.ROOM_DELETED,
        rtc.DisconnectReason.ROOM_CLOSED,
        rtc.DisconnectReason.PARTICIPANT_REMOVED,
    }
)
"""Reasons LiveKit gives when the call's room ended (the caller hung up, or it was closed);
any other reason means the connection to LiveKit is lost."""


def _reason_name(reason: int) -> str:
    """For a log line: " (SIGNAL_CLOSE)" and the like; nothing when LiveKit gave no reason."""
    if reason == rtc.DisconnectReason.UNKNOWN_REASON:
        return ""
    try:
        return f" ({rtc.DisconnectReason.Name(reason)})"  # type: ignore[arg-type]
    except ValueError:
        return f" (reason {reason})"


def find_sip_caller(
    room: rtc.Room, *, exclude: set[str] | None = None, trial: bool = False
) -> rtc.RemoteParticipant | None:
    """The SIP participant to serve: by kind, never by position and never ourselves;
    with `trial`, a browser caller too."""
    exclude = exclude or set()
    for participant in room.remote_participants.values():
        if _is_caller(participant, trial) and participant.identity not in exclude:
            return participant
    return None


def _is_caller(participant: rtc.Participant, trial: bool) -> bool:
    return participant.kind == SIP or (
        trial and is_trial_caller(participant.kind, participant.attributes)
    )


def caller_number_of(participant: rtc.RemoteParticipant) -> str | None:
    """The caller's number for the file's caller rules: the SIP participant's
    `sip.phoneNumber`, `anonymous` when it has none (withheld: the rules' `anonymous`).
    A browser caller on the trial page is no phone caller: None, no rule applies."""
    if participant.kind != SIP:
        return None
    return participant.attributes.get("sip.phoneNumber") or "anonymous"


class CallerPresence:
    """Whether the call's caller is in its room, as far as this connection can tell.

    Follows the room's participant and connection events once `attach`ed. What counts
    reaches the call through two functions given at construction: `left(reason)`, the
    caller's participant left (`CALLER_HANGUP`, or `DROPPED` by a bridge that left it
    unanswered), and `end(reason)`, the call is over from outside (the room ended, the
    connection to LiveKit lost for good, the caller not back after a restart).
    `note_error(what)` tells the call's record what it lived through; `done` is set
    once the call is over.
    """

    def __init__(
        self,
        room: rtc.Room,
        label: str,
        *,
        trial: bool,
        done: asyncio.Event,
        left: Callable[[EndReason], None],
        end: Callable[[EndReason], None],
        note_error: Callable[[str], None],
    ) -> None:
        self.room = room
        self._done = done
        self._label = label
        self._trial = trial
        self._left = left
        self._end = end
        self._note_error = note_error
        self._loop = asyncio.get_running_loop()
        self.caller: rtc.RemoteParticipant | None = None
        """The caller being served (set by the call once found); its leaving counts."""
        self.reconnecting = False
        """The rtc SDK is rejoining: it has forgotten every participant meanwhile."""
        self._seen = asyncio.Event()
        """A caller joined (`wait_for_caller`)."""
        self._server_closed_caller = False
        """The caller's participant was closed by livekit-server stopping (`_left_with_server`)."""
        self._disrupted_at: float | None = None
        """Loop time LiveKit last closed a participant in a shutdown or the router was back
        from a rejoin: a caller not yet found is waited for a little longer (`_waiting_until`)."""
        self._hangup_timer: asyncio.TimerHandle | None = None
        """Set when the bridge said the caller hung up (`_hung_up_in_place`)."""

    def attach(self) -> None:
        """Follow the room's events (until `detach`)."""
        self.room.on("participant_connected", self._on_participant_connected)
        self.room.on("participant_disconnected", self._on_participant_disconnected)
        self.room.on("participant_attributes_changed", self._on_attributes_changed)
        self.room.on("disconnected", self._on_room_disconnected)
        self.room.on("reconnecting", self._on_reconnecting)
        self.room.on("reconnected", self._on_reconnected)

    def detach(self) -> None:
        if self._hangup_timer is not None:
            self._hangup_timer.cancel()  # it holds the call until it fires
            self._hangup_timer = None
        self.room.off("participant_connected", self._on_participant_connected)
        self.room.off("participant_disconnected", self._on_participant_disconnected)
        self.room.off("participant_attributes_changed", self._on_attributes_changed)
        self.room.off("disconnected", self._on_room_disconnected)
        self.room.off("reconnecting", self._on_reconnecting)
        self.room.off("reconnected", self._on_reconnected)

    # --- finding the caller ---------------------------------------------------------------

    async def wait_for_caller(
        self, *, dispatched: bool, timeout_s: float
    ) -> rtc.RemoteParticipant | None:
        """The caller once in the room: `JOIN_GRACE_S` for a dispatched call (its caller
        made the room), else `timeout_s`; longer across a LiveKit restart
        (`_waiting_until`). None when nobody came, or the call ended meanwhile."""
        own = {self.room.local_participant.identity} if self.room.isconnected() else set()
        deadline = self._loop.time() + (JOIN_GRACE_S if dispatched else timeout_s)
        while not self._done.is_set():
            caller = find_sip_caller(self.room, exclude=own, trial=self._trial)
            if caller is not None:
                return caller
            remaining = self._waiting_until(deadline) - self._loop.time()
            if remaining <= 0:
                return None
            self._seen.clear()
            with contextlib.suppress(TimeoutError):
                # at most a second at a time: a rejoin (`_waiting_until`) moves the end
                await asyncio.wait_for(self._seen.wait(), min(remaining, 1.0))
        return None

    def _waiting_until(self, deadline: float) -> float:
        """How long to wait for a caller not yet in the room: `deadline`, or, while LiveKit
        restarts, until `REJOIN_GRACE_S` after the router is back in the room. A restart
        empties the room as the router joins; the SIP bridge brings its caller back into
        the room created anew, and ended then (`left_before_join`), the call was served,
        and recorded, a second time by a new dispatch (the soak's run 6)."""
        if self.reconnecting:
            return math.inf  # back, or `disconnected` ends the wait (`done`)
        if self._disrupted_at is not None:
            return max(deadline, self._disrupted_at + REJOIN_GRACE_S)
        return deadline

    async def wait_until_answered(
        self, caller: rtc.RemoteParticipant, *, timeout_s: float, key: asyncio.Event
    ) -> float | None:
        """Wait until the caller can hear a greeting (its `sip.callStatus` becomes `active`,
        or `key` is set: a key from the caller), at most `timeout_s`, or until the call
        ends; the loop time it was answered, None when it was not reported answered (the
        call then greets anyway).

        RTP DTMF flows only after the bridge's `200 OK` (livekit/sip `pkg/sip/inbound.go`:
        its `180` carries no SDP; `acceptCall` answers, waits for the first RTP packet or
        1 s, and only then sets `active`), so a key proves the call answered when the
        attribute is late (the soak's run 6: a caller who pressed and waited 14 s)."""
        status = caller.attributes.get("sip.callStatus")
        if status in (None, "", "active"):
            return self._loop.time()
        answered_at: float | None = None
        answered = asyncio.Event()

        def changed(_: dict[str, str], participant: rtc.Participant) -> None:
            nonlocal answered_at
            if participant.identity == caller.identity and (
                participant.attributes.get("sip.callStatus") == "active"
            ):
                answered_at = self._loop.time()
                answered.set()

        self.room.on("participant_attributes_changed", changed)
        try:
            waiter = asyncio.ensure_future(answered.wait())
            keyed = asyncio.ensure_future(key.wait())
            ended = asyncio.ensure_future(self._done.wait())
            done, pending = await asyncio.wait(
                {waiter, keyed, ended}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if keyed in done and answered_at is None:
                answered_at = self._loop.time()
                log.info("room %s: a key from the caller: the call is answered", self._label)
            if not done and caller.identity in self.room.remote_participants:
                log.warning("room %s: call not reported answered; greeting anyway", self._label)
        finally:
            self.room.off("participant_attributes_changed", changed)
        return answered_at

    # --- the caller gone ------------------------------------------------------------------

    def seen_gone(self, identity: str) -> bool:
        """The caller is not in the room as our connection sees it. Never while the SDK
        rejoins: it forgets every participant meanwhile, so an empty room then says
        nothing. Taken for a departure, a hang-up asked during a livekit-server restart
        counted as done with the caller still there; the server, creating the room anew
        when the bridge came back, dispatched the router again (livekit/livekit
        `pkg/rtc/room.go`: `NewRoom` launches the room's agents), and the caller was
        served, and recorded, twice (the soak, docs/reliability.md)."""
        return not self.reconnecting and identity not in self.room.remote_participants

    async def gone_within(self, identity: str, *, within_s: float) -> bool:
        """Whether the caller has left the room, as our connection sees it, waiting up to
        `within_s`; True also when we are not connected (nothing to watch)."""
        deadline = self._loop.time() + within_s
        while self.room.isconnected() and not self.seen_gone(identity):
            if self._loop.time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    # --- events in ------------------------------------------------------------------------

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if _is_caller(participant, self._trial):
            self._seen.set()
        if self.caller is not None and participant.identity == self.caller.identity:
            self._server_closed_caller = False  # back: a later departure says its own why

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.disconnect_reason == rtc.DisconnectReason.SERVER_SHUTDOWN:
            self._disrupted_at = self._loop.time()
        if self.caller is None or participant.identity != self.caller.identity:
            return
        if self.reconnecting:
            return  # the SDK forgets everyone while it rejoins: decided once it is back or not
        if participant.disconnect_reason == rtc.DisconnectReason.SERVER_SHUTDOWN:
            self._left_with_server()
            return
        # livekit-sip sets `hangup` before it leaves when the caller hangs up (BYE, CANCEL);
        # a bridge that drops the call (no RTP within its media timeout) leaves it as it was
        status = participant.attributes.get("sip.callStatus")
        self._left(EndReason.CALLER_HANGUP if status in (None, "", "hangup") else EndReason.DROPPED)

    def _on_attributes_changed(self, changed: dict[str, str], who: rtc.Participant) -> None:
        if (
            self.caller is not None
            and who.identity == self.caller.identity
            and changed.get("sip.callStatus") == "hangup"
        ):
            if self._hangup_timer is None:
                self._hangup_timer = self._loop.call_later(
                    HANGUP_DEPARTURE_GRACE_S, self._hung_up_in_place
                )

    def _hung_up_in_place(self) -> None:
        """The bridge said the caller hung up `HANGUP_DEPARTURE_GRACE_S` ago: if its
        participant is still in the room (its leave lost), the caller has left all the same."""
        self._hangup_timer, caller = None, self.caller
        if self._done.is_set() or self.reconnecting or caller is None:
            return
        if self.seen_gone(caller.identity) or caller.attributes.get("sip.callStatus") != "hangup":
            return  # it left, and said so; or a new status came after
        log.warning(
            "call %s: the SIP bridge said the caller hung up, but its participant has not "
            "left in %.0f s; taking the hang-up",
            self._label,
            HANGUP_DEPARTURE_GRACE_S,
        )
        self._left(EndReason.CALLER_HANGUP)

    def _left_with_server(self) -> None:
        """The caller's participant was closed by livekit-server stopping, not by a hang-up.

        A server that stops closes every room, one participant at a time, each with
        `SERVER_SHUTDOWN` (livekit/livekit `pkg/service/roommanager.go` `RoomManager.Stop`,
        `ParticipantCloseReasonRoomManagerStop`; `pkg/rtc/types/interfaces.go`
        `ToDisconnectReason`). The SIP bridge keeps its call and rejoins the restarted
        server, as the router does; only the order differs from call to call. Seen before
        our own connection went, the departure was taken for the bridge dropping the call,
        and the caller, back in the room created anew, was served and recorded a second
        time by a new dispatch (the soak, docs/reliability.md finding 18). So the call
        waits, as after its own rejoin, for the caller to come back."""
        self._server_closed_caller = True
        self._note_error("LiveKit closed the room (server shutdown)")
        log.info(
            "call %s: LiveKit is shutting down; waiting up to %.0f s for the caller to be back",
            self._label,
            REJOIN_GRACE_S,
        )
        self._loop.call_later(REJOIN_GRACE_S, self._caller_back_or_gone)

    def _on_reconnecting(self) -> None:
        self.reconnecting = True
        self._note_error("lost the connection to LiveKit")
        log.warning("call %s: lost the connection to LiveKit; trying to get it back", self._label)

    def _on_reconnected(self) -> None:
        self.reconnecting = False
        self._disrupted_at = self._loop.time()
        self._note_error("back on LiveKit")
        if self.caller is not None and self.caller.identity not in self.room.remote_participants:
            # after a livekit-server restart the SIP bridge rejoins the room too, and may
            # do so after us (the soak): its caller is not gone until it stays away
            log.info(
                "call %s: back on LiveKit, the caller not yet; waiting up to %.0f s",
                self._label,
                REJOIN_GRACE_S,
            )
            self._loop.call_later(REJOIN_GRACE_S, self._caller_back_or_gone)
        else:
            log.info("call %s: back on LiveKit; the call goes on", self._label)

    def _caller_back_or_gone(self) -> None:
        if self.reconnecting or self.caller is None:
            return  # another rejoin: decided once it is over
        if self.caller.identity in self.room.remote_participants:
            log.info("call %s: the caller is back; the call goes on", self._label)
        elif self._server_closed_caller:
            # the caller's call went with the server, as far as anyone here can tell
            log.info("call %s: the caller did not come back after LiveKit's restart", self._label)
            self._end(EndReason.CONNECTION_LOST)
        else:
            log.info("call %s: back on LiveKit, but the caller has left", self._label)
            self._end(EndReason.CALLER_HANGUP)

    def _on_room_disconnected(self, reason: int = 0, *_: object) -> None:
        if self.reconnecting or reason not in _ROOM_ENDED:
            self._note_error(f"the connection to LiveKit is lost{_reason_name(reason)}")
            if not self._done.is_set():
                log.warning(
                    "call %s: the connection to LiveKit is lost%s; the call has ended",
                    self._label,
                    _reason_name(reason),
                )
            self._end(EndReason.CONNECTION_LOST)
        else:
            self._end(EndReason.CALLER_HANGUP)
