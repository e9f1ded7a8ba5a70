"""One call: the thin shell between a LiveKit room and the navigator.

It feeds the navigator events (DTMF from the tracked SIP caller, timers, the end of
a prompt, a transfer's outcome, the caller leaving) and carries out the effects it
returns. It decides nothing about the menu itself.

Events are handled one at a time, in order, on the call's event loop; a key is fed
straight from the DTMF callback (no queue hop), so the router's own share of the
key-to-REFER time is the navigator step plus one API request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from livekit import api, rtc
from opentelemetry.trace import Tracer

from router import logs
from router.core.events import (
    CallEnded,
    CallStarted,
    CancelTimer,
    DigitPressed,
    Disconnect,
    Effect,
    EndReason,
    Event,
    Note,
    Play,
    PlaybackFinished,
    StartTimer,
    StopPlayback,
    TimerFired,
    TimerKind,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import MenuFile, Prompt
from router.core.navigator import KEY_REPEAT_WINDOW_S, CallCaps, Navigator
from router.runtime.metrics import METRICS, Metrics
from router.runtime.player import Player
from router.runtime.prompts import PromptCache, Rendered
from router.runtime.records import CallRecorder, RecordSink, mask_digits
from router.runtime.retries import until_done
from router.runtime.served import ServedCalls
from router.runtime.tracing import CallTracer
from router.runtime.transfer import (
    SipTransferrer,
    Transferrer,
)
from router.runtime.transfer_watch import CALLER_GONE_GRACE_S, TransferWatch, caller_on_server
from router.trial.caller import call_time, is_trial_caller

__all__ = [
    "CallObserver",
    "CallSession",
    "SessionOptions",
    "caller_number_of",
    "find_sip_caller",
    "shut_down_all",
]

log = logging.getLogger(__name__)

SIP = rtc.ParticipantKind.PARTICIPANT_KIND_SIP

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


OPUS_MAX_BITRATE = 96_000
"""Opus bitrate cap of the prompt track. Above about 64 kb/s Opus codes speech in its CELT
mode, which costs libwebrtc's encoder half of what the SILK/hybrid mode below does while
a prompt plays, and a third during the silence between prompts (the encoder runs every
20 ms for as long as the call lasts); 96 kb/s leaves a margin. It costs bandwidth only
while a prompt plays (DTX in between). The caller hears 8 kHz G.711 either way."""

REMOVAL_SEEN_S = 3.0
"""How long a removal LiveKit accepted may take to reach our connection (the caller's
departure) before it is taken as lost and asked again."""

CALLER_LEAVES_FIRST_S = 5.0
"""How long an ended dispatched call waits for its caller to leave the room before the
router leaves it (issue 18). livekit 1.1.21's rtc library keeps about 0.5 MB of every room
closed while a remote participant's track is in it (its publications' callbacks hold the
participant and the engine: rust-sdks#1435, open), and 40 KiB when that participant left
first (docs/upstream/rtc-native-memory.md). After a completed transfer the SIP bridge
leaves a second after the NOTIFY 200 (livekit-sip's `referByeTimeout`, 1 s: the caller
may hang up first); a hang-up or the caller's BYE has the caller gone already."""

EARLY_KEYS_HELD = 64
"""Keys from the caller held while the menu has not started (the bridge's `active` not
yet seen), fed in order once it starts; more are dropped (a storm before the answer)."""


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How this router serves one call: caps, masking, and how long it waits for the caller."""

    caps: CallCaps = CallCaps()
    mask_caller: bool = True
    answer_timeout_s: float = 20.0
    """How long to wait for the SIP bridge to report the call answered before greeting anyway."""
    caller_timeout_s: float = 30.0
    """How long to wait for a SIP participant to appear in the room (`router connect`)."""
    dispatched: bool = False
    """LiveKit dispatched this call: the caller's SIP participant created the room, so it is
    there when the router joins unless it has already hung up. The router then waits only
    `JOIN_GRACE_S` for it, and records a caller gone by then (`left_before_join`)."""
    trial_callers: bool = False
    """Also serve a browser caller (`router.trial.caller`): only when started for trying."""


REJOIN_GRACE_S = 8.0
"""How long a call back on LiveKit after a lost connection waits for its caller to be in
the room again: the SIP bridge rejoins a restarted livekit-server on its own, and seconds
after the router did in the soak (its call then served, and recorded, by a second
dispatch)."""

JOIN_GRACE_S = 1.0
"""How long a dispatched call waits for its caller when none is in the room on joining.
livekit-server dispatches the job when the SIP bridge's participant creates the room, in
the same step as that participant joins; the router's own join comes hundreds of ms later."""


class CallObserver(Protocol):
    """Watches a call from the side (the trial page's reporter); changes nothing."""

    def call_started(self, dialled: str | None, at: datetime, now: float) -> None: ...

    def effect(self, effect: Effect, now: float, navigator: Navigator) -> None:
        """Every effect, as it is carried out."""


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


class CallSession:
    """Runs the navigator for one SIP caller in one connected room."""

    def __init__(
        self,
        room: rtc.Room,
        menu_file: MenuFile,
        cache: PromptCache,
        lkapi: api.LiveKitAPI,
        *,
        sink: RecordSink | None = None,
        options: SessionOptions = SessionOptions(),
        metrics: Metrics = METRICS,
        observer: CallObserver | None = None,
        transferrer_for: Callable[[rtc.RemoteParticipant], Transferrer] | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.room = room
        self.menu_file = menu_file
        self.cache = cache
        self.options = options
        self.metrics = metrics
        self.navigator = Navigator(menu_file, caps=options.caps)
        self.player = Player(self._on_playback_finished)
        self.transferrer: Transferrer = SipTransferrer(lkapi, room.name)
        self._transferrer_for = transferrer_for
        """Chooses the caller's transferrer once the caller is known (trial callers)."""
        self._observer = observer
        self.tracer = CallTracer(tracer)
        self._api = lkapi
        self.sink = sink
        self.caller: rtc.RemoteParticipant | None = None
        self.recorder: CallRecorder | None = None
        self._loop = asyncio.get_running_loop()
        self._timers: dict[TimerKind, asyncio.TimerHandle] = {}
        self._pending: deque[Event] = deque()
        self._feeding = False
        self._done = asyncio.Event()
        self._end_reason: EndReason | None = None
        self._tasks: set[asyncio.Task[object]] = set()
        self._caller_gone = asyncio.Event()
        """The caller's participant left while a transfer was out."""
        self.transfers = TransferWatch(
            self.metrics, self.tracer, self.now, self._caller_gone, self._done, self._on_server
        )
        self._caller_seen = asyncio.Event()
        self._reconnecting = False
        self._server_closed_caller = False
        self._disrupted_at: float | None = None
        """Loop time LiveKit last closed a participant in a shutdown or the router was back
        from a rejoin: a caller not yet found is waited for a little longer (`_waiting_until`)."""
        """The caller's participant was closed by livekit-server stopping (`_left_with_server`)."""
        self._label = mask_digits(room.name) if options.mask_caller else room.name
        """The room as logs name it: individual dispatch rules put the caller's number in it."""
        self._key_at: float | None = None
        self._keys_answer: asyncio.Event | None = None
        """Set by a key from the caller while the router waits for the answer."""
        self._early_keys: list[tuple[Key, float]] = []
        """Keys from the caller before the menu started (`EARLY_KEYS_HELD`): the key (an
        RTP event, turned into a data packet) and the bridge's `active` reach the router
        by different ways, and at load the key came first by seconds (the soak's run 5:
        the first digit of `5001#` lost, the rest dialled as menu keys)."""
        """perf_counter() of the DTMF callback being handled; None outside it."""
        self.received_at = datetime.now(UTC)
        """When the router got the call (joined its room): the record's `started_at`."""
        self._received = self.now()
        self._answered: float | None = None
        self._ended: float | None = None
        """Loop time the call ended from outside (the caller left): the record's end."""
        self._record: dict[str, object] | None = None
        """The call's record once written: one call, one record (`_write`)."""
        self._left_at: float | None = None
        """Loop time the caller left while a transfer was out (the call ends a little later,
        once the transfer's answer is in or `CALLER_GONE_GRACE_S` has passed)."""

    # --- clock ---------------------------------------------------------------------------

    def now(self) -> float:
        """The navigator's clock is the loop's clock, so deadlines map to `call_at` directly."""
        return self._loop.time()

    # --- life cycle ----------------------------------------------------------------------

    async def publish(self) -> None:
        """Publish our audio track at once: the SIP bridge answers only once it can subscribe.

        Opus DTX is on: a call spends most of its time silent between prompts, and
        libwebrtc keeps encoding that silence; with DTX it sends a packet every 400 ms
        instead of every 20 ms, which cuts this process's per-call cost and
        livekit-server's and the SIP bridge's. The bitrate cap keeps Opus in its cheaper
        mode (`OPUS_MAX_BITRATE`). See docs/benchmarks.md.
        """
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=True)
        options.audio_encoding.max_bitrate = OPUS_MAX_BITRATE
        await self.room.local_participant.publish_track(self.player.track, options)

    async def run(self, caller: rtc.RemoteParticipant | None = None) -> dict[str, object] | None:
        """Serve the call until it ends; returns the call record (also written to the sink).

        `caller` skips the search for the SIP participant (tests, `router connect`).
        """
        self.room.on("participant_connected", self._on_participant_connected)
        self.room.on("participant_disconnected", self._on_participant_disconnected)
        self.room.on("disconnected", self._on_room_disconnected)
        self.room.on("reconnecting", self._on_reconnecting)
        self.room.on("reconnected", self._on_reconnected)
        self.room.on("sip_dtmf_received", self._on_dtmf)
        try:
            caller = caller or await self._wait_for_caller()
            if caller is None and not self.options.dispatched:
                log.warning("room %s: no SIP caller joined; leaving", self._label)
                return None
            self.caller = caller  # from here on, the caller leaving ends every wait
            if caller is not None:
                await self._wait_until_answered(caller)
            if caller is None and self._room_served_here():
                # a room created anew in an outage (the router's own rejoin does it too)
                # is dispatched again; its call, and the room, are the serving session's
                log.info(
                    "room %s: dispatched again to a room this process serves; "
                    "leaving it to the session serving it",
                    self._label,
                )
                return None
            if caller is None and _calls.served_lately(self.room.name):
                # livekit-server dispatches a room's agents again when it creates the room
                # anew (after its restart: `pkg/rtc/room.go`, `NewRoom`); its call has ended
                log.info("room %s: dispatched again after its call ended here", self._label)
                record: dict[str, object] | None = None
            elif caller is None or self._done.is_set():
                record = self._finish_unanswered()
            elif not await self._claim(caller):
                return None  # its record, and its room, are the other session's
            else:
                self._start(caller)
                await self._done.wait()
                record = self._finish()
            if self.options.dispatched:
                _calls.remember_room(self.room.name)
                await self._delete_room()
            return record
        except asyncio.CancelledError:
            # livekit-agents cancels a call that outlives the worker's shutdown (a job
            # process's calls cannot be reached by `shut_down_all`)
            if self.recorder is not None and not self._done.is_set():
                self._note_error("livekit-agents ended the call's job")
                await self._shut_down()
                self._finish()
            elif self.recorder is None and self.options.dispatched and not self._done.is_set():
                self._end(EndReason.SHUTDOWN)
                self._finish_unanswered()  # first: the hang-up may outlast the process
                await self._hang_up(EndReason.SHUTDOWN)  # a caller still ringing is told
            raise
        finally:
            logs.unbind_call()
            _calls.discard(self)
            self.room.off("participant_connected", self._on_participant_connected)
            self.room.off("participant_disconnected", self._on_participant_disconnected)
            self.room.off("disconnected", self._on_room_disconnected)
            self.room.off("reconnecting", self._on_reconnecting)
            self.room.off("reconnected", self._on_reconnected)
            self.room.off("sip_dtmf_received", self._on_dtmf)
            await self._close()

    async def _wait_for_caller(self) -> rtc.RemoteParticipant | None:
        own = {self.room.local_participant.identity} if self.room.isconnected() else set()
        wait = JOIN_GRACE_S if self.options.dispatched else self.options.caller_timeout_s
        deadline = self.now() + wait
        while not self._done.is_set():
            caller = find_sip_caller(self.room, exclude=own, trial=self.options.trial_callers)
            if caller is not None:
                return caller
            remaining = self._waiting_until(deadline) - self.now()
            if remaining <= 0:
                return None
            self._caller_seen.clear()
            with contextlib.suppress(TimeoutError):
                # at most a second at a time: a rejoin (`_waiting_until`) moves the end
                await asyncio.wait_for(self._caller_seen.wait(), min(remaining, 1.0))
        return None

    def _waiting_until(self, deadline: float) -> float:
        """How long to wait for a caller not yet in the room: `deadline`, or, while LiveKit
        restarts, until `REJOIN_GRACE_S` after the router is back in the room. A restart
        empties the room as the router joins; the SIP bridge brings its caller back into
        the room created anew, and ended then (`left_before_join`), the call was served,
        and recorded, a second time by a new dispatch (the soak's run 6)."""
        if self._reconnecting:
            return math.inf  # back, or `disconnected` ends the wait (`_done`)
        if self._disrupted_at is not None:
            return max(deadline, self._disrupted_at + REJOIN_GRACE_S)
        return deadline

    async def _wait_until_answered(self, caller: rtc.RemoteParticipant) -> None:
        """Greet only once the caller can hear it (`sip.callStatus` becomes `active`)."""
        status = caller.attributes.get("sip.callStatus")
        if status in (None, "", "active"):
            self._answered = self.now()
            return
        answered = asyncio.Event()
        if self._early_keys:
            answered.set()  # a key came with the call: held, it sets nothing below
        self._keys_answer = answered

        def changed(_: dict[str, str], participant: rtc.Participant) -> None:
            if participant.identity == caller.identity and (
                participant.attributes.get("sip.callStatus") == "active"
            ):
                self._answered = self.now()
                answered.set()

        self.room.on("participant_attributes_changed", changed)
        try:
            waiter = asyncio.ensure_future(answered.wait())
            ended = asyncio.ensure_future(self._done.wait())
            done, pending = await asyncio.wait(
                {waiter, ended},
                timeout=self.options.answer_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            for task in pending:
                task.cancel()
            if waiter in done and self._answered is None:
                # RTP DTMF flows only once the bridge has answered (its 200 OK): a key
                # proves the call answered even when the bridge's `active` is late (the
                # soak's run 6: a caller who pressed and waited 14 s, unanswered)
                self._answered = self.now()
                log.info("room %s: a key from the caller: the call is answered", self._label)
            if not done and caller.identity in self.room.remote_participants:
                log.warning("room %s: call not reported answered; greeting anyway", self._label)
        finally:
            self._keys_answer = None
            self.room.off("participant_attributes_changed", changed)

    async def _claim(self, caller: rtc.RemoteParticipant) -> bool:
        """Take the call for this session (it joins `_calls`); False if another session of
        this process serves the same caller in the same room and keeps the call.

        livekit-server dispatches a room's agents whenever it creates the room on a node
        (livekit/livekit `pkg/rtc/room.go`, `NewRoom` calls `launchRoomAgents`), and it
        creates it anew when participants come back after its restart (the soak); the
        session already serving the call rejoins the same room. One call, one record:
        this session waits while the other serves, and takes the call only if the other
        lost LiveKit for good with the caller still here (never leave a caller alone
        with nobody serving). Only dispatched calls in a named room (a room not joined
        has no name to compare)."""
        while True:
            other = _calls.add_unless(self, lambda live: self._serving(caller, live))
            if other is None:
                return True
            log.warning(
                "call %s: LiveKit dispatched the router again to a call it is serving "
                "(the room was created anew, as after a server restart); waiting while "
                "the session serving it goes on",
                self._label,
            )
            # the other session runs on its own loop (a job thread): its Event is polled
            while not (other._done.is_set() or self._done.is_set()):  # noqa: ASYNC110
                await asyncio.sleep(0.25)
            if self._done.is_set() or other._end_reason is not EndReason.CONNECTION_LOST:
                return False

    def _room_served_here(self) -> bool:
        """Another session of this process is serving a call in this room now.

        livekit-server creates a room anew when the first of its participants comes back
        after a restart, and dispatches the router to it: when the router's own rejoin
        comes first, the new job finds no caller yet. Recorded `left_before_join` and
        deleting the room, it cut the serving session off, and the bridge's return
        created the room a third time (CI's soak: three records of one call)."""
        if not (self.options.dispatched and self.room.name):
            return False
        return any(
            other is not self and other.room.name == self.room.name and not other._done.is_set()
            for other in _calls.sessions()
        )

    def _serving(
        self, caller: rtc.RemoteParticipant, live: list[CallSession]
    ) -> CallSession | None:
        """The session among `live` serving `caller` in this room, if any."""
        if not (self.options.dispatched and self.room.name):
            return None
        for other in live:
            if (
                other is not self
                and other.room.name == self.room.name
                and other.caller is not None
                and other.caller.identity == caller.identity
                and not other._done.is_set()
            ):
                return other
        return None

    def _start(self, caller: rtc.RemoteParticipant) -> None:
        self.caller = caller
        if self._transferrer_for is not None:
            self.transferrer = self._transferrer_for(caller)
        self.recorder = self._new_recorder(caller)
        dialled = self.recorder.dialled
        self.metrics.active.inc()
        logs.bind_call(
            call_id=self.recorder.masked_call_id,
            room=self._label,
            menu_version=self.menu_file.version,
        )
        self.tracer.start(room=self._label, dialled=dialled, menu_version=self.menu_file.version)
        log.info(
            "call %s: caller %s dialled %s, menu version %s",
            self.recorder.call_id,
            mask_digits(caller.identity) if self.options.mask_caller else caller.identity,
            dialled,
            self.menu_file.version,
        )
        at = self.received_at
        if self.options.trial_callers:
            at = call_time(caller.attributes, self.received_at)
        if self._observer is not None:
            self._observer.call_started(dialled, at, self.now())
        self.feed(
            CallStarted(dialled=dialled, at=at, now=self.now(), caller=caller_number_of(caller))
        )
        self._feed_held_keys()

    def _feed_held_keys(self) -> None:
        """Act on the keys pressed while the bridge's `active` was on its way, in order. Fed
        at once, two identical keys would be one (`KEY_REPEAT_WINDOW_S`): one that came
        that far after its twin is fed that far after it (the menu's clock, a fraction of
        a second ahead), one that came closer is fed with it, and dropped as a copy."""
        held, self._early_keys = self._early_keys, []
        t = self.now()
        previous: tuple[Key, float] | None = None
        for key, came in held:
            if previous is not None and key is previous[0]:
                t += KEY_REPEAT_WINDOW_S if came - previous[1] >= KEY_REPEAT_WINDOW_S else 0.0
            self.feed(DigitPressed(key, t))
            previous = (key, came)

    def _new_recorder(self, caller: rtc.RemoteParticipant | None) -> CallRecorder:
        attrs = caller.attributes if caller is not None else {}
        return CallRecorder(
            call_id=attrs.get("sip.callID") or self._label,
            room=self._label,
            dialled=attrs.get("sip.trunkPhoneNumber") or None,
            caller=attrs.get("sip.phoneNumber") or None,
            menu_version=self.menu_file.version,
            started_at=self.received_at,
            started=self._received,
            mask_caller=self.options.mask_caller,
            answered=self._answered,
        )

    def _finish(self) -> dict[str, object] | None:
        if self.recorder is None:
            return None
        if self._record is not None:
            return self._record  # written already (`_shut_down`)
        self.metrics.active.dec()
        reason = self._end_reason.value if self._end_reason else "unknown"
        if self.recorder.end_reason is None:
            self.recorder.end_reason = reason
        self.tracer.end(self.recorder.end_reason)
        return self._write(self.recorder)

    def _finish_unanswered(self) -> dict[str, object]:
        """The record of a call that ended before its menu started: the caller hung up
        before the router joined or before the answer, the bridge dropped it, or the
        router lost LiveKit or stopped meanwhile."""
        if self._record is not None:
            return self._record
        recorder = self._new_recorder(self.caller)
        reason = self._end_reason or EndReason.CALLER_HANGUP
        if reason is EndReason.CALLER_HANGUP:
            reason = (
                EndReason.LEFT_BEFORE_JOIN if self.caller is None else EndReason.LEFT_BEFORE_ANSWER
            )
        recorder.end_reason = reason.value
        log.info(
            "call %s: %s, after %.1f s",
            recorder.call_id,
            _UNANSWERED.get(reason, reason.value),
            (self._ended or self.now()) - self._received,
        )
        return self._write(recorder)

    def _write(self, recorder: CallRecorder) -> dict[str, object]:
        assert recorder.end_reason is not None
        self.metrics.call_ended(recorder.end_reason)
        record = recorder.as_dict(self._ended if self._ended is not None else self.now())
        if self.sink is not None:
            self.sink.write(record)
        self._record = record
        return record

    async def _close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # No explicit unpublish: leaving the room (the job's shutdown) takes the track down,
        # and a renegotiation now would race the server closing the room after a hang-up.
        await self.player.aclose()

    # --- events in -----------------------------------------------------------------------

    def _on_participant_connected(self, participant: rtc.RemoteParticipant) -> None:
        if _is_caller(participant, self.options.trial_callers):
            self._caller_seen.set()
        if self.caller is not None and participant.identity == self.caller.identity:
            self._server_closed_caller = False  # back: a later departure says its own why

    def _on_participant_disconnected(self, participant: rtc.RemoteParticipant) -> None:
        if participant.disconnect_reason == rtc.DisconnectReason.SERVER_SHUTDOWN:
            self._disrupted_at = self.now()
        if self.caller is None or participant.identity != self.caller.identity:
            return
        if self._reconnecting:
            return  # the SDK forgets everyone while it rejoins: decided once it is back or not
        if participant.disconnect_reason == rtc.DisconnectReason.SERVER_SHUTDOWN:
            self._left_with_server()
            return
        if self.transfers.active:
            # maybe the transfer completing: its answer decides, within a bound
            self._left_at = self.now()
            self._caller_gone.set()
            self._loop.call_later(CALLER_GONE_GRACE_S, self._end, EndReason.CALLER_HANGUP)
            return
        # livekit-sip sets `hangup` before it leaves when the caller hangs up (BYE, CANCEL);
        # a bridge that drops the call (no RTP within its media timeout) leaves it as it was
        status = participant.attributes.get("sip.callStatus")
        self._end(EndReason.CALLER_HANGUP if status in (None, "", "hangup") else EndReason.DROPPED)

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
        self._reconnecting = True
        self._note_error("lost the connection to LiveKit")
        log.warning("call %s: lost the connection to LiveKit; trying to get it back", self._label)

    def _on_reconnected(self) -> None:
        self._reconnecting = False
        self._disrupted_at = self.now()
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
        if self._reconnecting or self.caller is None:
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

    def _note_error(self, what: str) -> None:
        """Say in the call's record what went wrong around it, when (seconds into the call):
        a call an outage cuts then ends with the outage's reason, never silently."""
        if self.recorder is not None and not self._done.is_set():
            self.recorder.errors.append(f"{what} at {self.now() - self._received:.1f} s")

    def _on_room_disconnected(self, reason: int = 0, *_: object) -> None:
        if self._reconnecting or reason not in _ROOM_ENDED:
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

    def _on_dtmf(self, dtmf: rtc.SipDTMF) -> None:
        key_at = time.perf_counter()
        participant = dtmf.participant
        if self.caller is None or participant is None:
            return  # nobody to serve yet
        if participant.identity != self.caller.identity:
            log.debug("ignoring DTMF from %s, not the caller", mask_digits(participant.identity))
            return
        key = Key.from_code(dtmf.code) or Key.parse(dtmf.digit or "")
        if key is None:
            log.info("ignoring DTMF event with unknown code %s (%r)", dtmf.code, dtmf.digit)
            return
        if self.recorder is None:
            # no menu yet: held until it starts (`_early_keys`), dropped if it never does
            if len(self._early_keys) < EARLY_KEYS_HELD:
                self._early_keys.append((key, self.now()))
            if self._keys_answer is not None:
                self._keys_answer.set()
            return
        self._key_at = key_at
        try:
            self.feed(DigitPressed(key, self.now()))
        finally:
            self._key_at = None

    def _on_playback_finished(self, play_id: int) -> None:
        self.feed(PlaybackFinished(play_id, self.now()))

    def _on_timer(self, timer: TimerKind) -> None:
        self._timers.pop(timer, None)
        self.feed(TimerFired(timer, self.now()))

    def _end(self, reason: EndReason) -> None:
        """The call is over from outside (caller gone, room closed, LiveKit lost)."""
        if self._done.is_set():
            return
        if self._end_reason is None:
            self._end_reason = reason
        self._ended = self._left_at if self._left_at is not None else self.now()
        if self.recorder is not None:
            self.feed(CallEnded(self.now(), reason))
        self._done.set()

    # --- the one place events meet the navigator -------------------------------------------

    def feed(self, event: Event) -> None:
        """Hand an event to the navigator and carry out its effects, strictly in order."""
        self._pending.append(event)
        if self._feeding:
            return
        self._feeding = True
        try:
            while self._pending:
                effects = self.navigator.handle(self._pending.popleft())
                for effect in effects:
                    self._apply(effect)
        except Exception:
            log.exception("call %s: internal error; ending the call", self._label)
            self._spawn(self._hang_up(EndReason.HANGUP))
        finally:
            self._feeding = False
            if self.player.clear_pending:
                self._loop.call_soon(self.player.clear)

    # --- effects out ---------------------------------------------------------------------

    def _apply(self, effect: Effect) -> None:
        if self._observer is not None:
            self._observer.effect(effect, self.now(), self.navigator)
        match effect:
            case Play(prompts=prompts, play_id=play_id, loop=loop):
                items = [self._rendered(p) for p in prompts]
                self.player.play(play_id, [i for i in items if i is not None], loop=loop)
            case StopPlayback():
                self.player.stop(clear=False)  # cleared once this event's effects are out
            case StartTimer(timer=timer, deadline=deadline):
                old = self._timers.pop(timer, None)
                if old is not None:
                    old.cancel()
                self._timers[timer] = self._loop.call_at(deadline, self._on_timer, timer)
            case CancelTimer(timer=timer):
                handle = self._timers.pop(timer, None)
                if handle is not None:
                    handle.cancel()
            case TransferTo():
                # the request starts before anything else this event causes
                assert self.caller is not None
                sent = self.transferrer.start(self.caller.identity, effect)
                self._tasks.add(sent)
                sent.add_done_callback(self._tasks.discard)
                self._spawn(self._transfer(effect, sent, self._key_at))
            case Disconnect(reason=reason):
                self._spawn(self._hang_up(reason))
            case Note():
                if self.recorder is not None:
                    self.recorder.note(effect)
                self.metrics.note(effect)
                self.tracer.note(effect)

    def _rendered(self, prompt: Prompt) -> Rendered | None:
        menu = self.menu_file.menus.get(self.navigator.menu or "")
        # the prompt's language names its voice (a file with `languages`), else the menu's
        found = self.cache.get(
            prompt, self.menu_file.voice_for(prompt, menu.voice if menu else None)
        )
        if found is None:
            # a prompt made at run time (none today) or a cache miss: never stay silent
            log.warning("prompt not pre-rendered: %r", prompt.text or prompt.audio)
        return found

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _transfer(
        self,
        effect: TransferTo,
        sent: asyncio.Task[api.TransferSIPParticipantResponse],
        key_at: float | None = None,
    ) -> None:
        """See a started transfer through (`TransferWatch`) and hand its outcome to the
        navigator; `key_at` is the perf_counter() of the key that caused it, if any."""
        assert self.caller is not None
        result = await self.transfers.follow(self.transferrer, effect, sent, key_at, self._label)
        if self._done.is_set():
            return
        if isinstance(result, CallEnded):
            # the caller hung up during the transfer: nobody to offer a policy to, and the
            # transfer stays unfinished in the record (`TransferWatch.follow`)
            self._end(result.reason)
            return
        self.feed(result)

    def _shut_down_soon(self) -> None:
        self._spawn(self._shut_down())

    async def _shut_down(self) -> None:
        """The router is stopping: hang up rather than leave the caller in silence."""
        if self._done.is_set():
            return
        log.warning("call %s: the router is stopping; hanging up", self._label)
        self.feed(CallEnded(self.now(), EndReason.SHUTDOWN))
        if self._end_reason is None:
            self._end_reason = EndReason.SHUTDOWN
        # the record first: the hang-up is asked again for up to `HANGUP_RETRY_S` while
        # LiveKit fails, longer than a stopping process waits for its calls (livekit-agents
        # cancels an entrypoint 15 s after the job is told to stop, and the worker's
        # executor gives its jobs `shutdown_process_timeout`): the record must not wait
        self._finish()
        await self._hang_up(EndReason.SHUTDOWN)

    async def _hang_up(self, reason: EndReason) -> None:
        """End our side; unless the caller is gone, hang up on them (remove the SIP participant)."""
        if self._end_reason is None:
            self._end_reason = reason
        if reason not in (EndReason.TRANSFERRED, EndReason.CALLER_HANGUP) and self.caller:
            await self._remove_caller(self.caller.identity)
        self._done.set()

    async def _remove_caller(self, identity: str) -> None:
        """Hang up on the caller: remove the SIP participant (`retries.until_done`); a removal
        LiveKit accepted counts once our connection sees the caller leave."""
        request = api.RoomParticipantIdentity(room=self.room.name, identity=identity)

        async def left() -> bool:
            return await self._caller_left(identity, within_s=REMOVAL_SEEN_S)

        await until_done(
            self._label,
            "hang up on the caller",
            lambda: self._api.room.remove_participant(request),
            left,
            gone=lambda: self.room.isconnected() and self._seen_gone(identity),
        )

    async def _delete_room(self) -> None:
        """A dispatched call's room ends with its call: deleted at once (`retries.until_done`),
        rather than left for the server to close after its departure timeout. A server
        stopped within that time keeps the room in Redis for good (livekit-server v1.13.5,
        found by the soak), and a caller still in it would be served a second time."""
        request = api.DeleteRoomRequest(room=self.room.name)
        if self.caller is not None:  # issue 18: the caller leaves first (`CALLER_LEAVES_FIRST_S`)
            await self._caller_left(self.caller.identity, within_s=CALLER_LEAVES_FIRST_S)
        if self.room.isconnected():
            # leave first: a room deleted under us ends our connection as a failure
            # (the rtc engine logs its data channels "closed unexpectedly")
            await self.room.disconnect()

        async def deleted() -> bool:
            return True

        await until_done(
            self._label,
            "close the call's room",
            lambda: self._api.room.delete_room(request),
            deleted,
        )

    async def _caller_left(self, identity: str, *, within_s: float) -> bool:
        """Whether the caller has left the room, as our connection sees it, waiting up to
        `within_s`; True also when we are not connected (nothing to watch)."""
        deadline = asyncio.get_running_loop().time() + within_s
        while self.room.isconnected() and not self._seen_gone(identity):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _on_server(self) -> bool | None:
        """Whether the caller is still on the call as the server sees it (`caller_on_server`)."""
        if self.caller is None:
            return None
        return await caller_on_server(self._api, self.room.name, self.caller.identity)

    def _seen_gone(self, identity: str) -> bool:
        """The caller is not in the room as our connection sees it. Never while the SDK
        rejoins: it forgets every participant meanwhile, so an empty room then says
        nothing. Taken for a departure, a hang-up asked during a livekit-server restart
        counted as done with the caller still there; the server, creating the room anew
        when the bridge came back, dispatched the router again (livekit/livekit
        `pkg/rtc/room.go`: `NewRoom` launches the room's agents), and the caller was
        served, and recorded, twice (the soak, docs/reliability.md)."""
        return not self._reconnecting and identity not in self.room.remote_participants


_UNANSWERED = {
    EndReason.LEFT_BEFORE_JOIN: "the caller hung up before the router joined",
    EndReason.LEFT_BEFORE_ANSWER: "the caller hung up before the call was answered",
    EndReason.DROPPED: "the SIP bridge dropped the call before it was answered",
    EndReason.CONNECTION_LOST: "LiveKit was lost before the call was answered",
    EndReason.SHUTDOWN: "the router stopped before the call was answered",
}
"""Log lines of the calls that end before their menu starts."""


_calls: ServedCalls[CallSession] = ServedCalls()
"""The calls of this process being served (job threads included), for `shut_down_all`
and one session per call (`_claim`), and the rooms it served lately."""


def caller_number_of(participant: rtc.RemoteParticipant) -> str | None:
    """The caller's number for the file's caller rules: the SIP participant's
    `sip.phoneNumber`, `anonymous` when it has none (withheld: the rules' `anonymous`).
    A browser caller on the trial page is no phone caller: None, no rule applies."""
    if participant.kind != SIP:
        return None
    return participant.attributes.get("sip.phoneNumber") or "anonymous"


def shut_down_all() -> int:
    """Hang up every call this process is serving, each on its own loop; returns how many.

    For a worker stopping after its drain time: the callers are told by a hang-up
    instead of silence, and every call keeps its record (`end: shutdown`).
    """
    sessions = _calls.sessions()
    for session in sessions:
        with contextlib.suppress(RuntimeError):  # its loop closed: the call has just ended
            session._loop.call_soon_threadsafe(session._shut_down_soon)
    return len(sessions)


CallFactory = Callable[[rtc.Room, MenuFile], CallSession]
