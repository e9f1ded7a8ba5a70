"""One call's session: the thin shell between a LiveKit room and the navigator.

It feeds the navigator events (DTMF from the tracked SIP caller, timers, the end of
a prompt, a transfer's outcome, the caller leaving) and carries out the effects it
returns. It decides nothing about the menu itself. Its collaborators, a module each in
this package: whether a dispatch serves its room's call (`admission`), whether the
caller is still there (`presence`), the keys before the menu starts (`keys`), the
call's one record (`record`), the prompt track published and watched (`track`); the
calls of the process and the claim on a call are `router.runtime.served`'s.

Events are handled one at a time, in order, on the call's event loop; a key is fed
straight from the DTMF callback (no queue hop), so the router's own share of the
key-to-REFER time is the navigator step plus one API request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import assert_never

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
from router.core.model import MenuFile, Prompt
from router.core.navigator import Navigator
from router.runtime.call.admission import SERVED_AGAIN, Admission, admit
from router.runtime.call.hangup import delete_room, remove_caller
from router.runtime.call.keys import EarlyKeys, arrival, caller_key
from router.runtime.call.options import CallObserver, SessionOptions
from router.runtime.call.presence import CallerPresence, caller_number_of
from router.runtime.call.record import OneRecord
from router.runtime.call.track import OPUS_MAX_BITRATE, PromptTrack, watch_publication
from router.runtime.metrics import METRICS, Metrics
from router.runtime.player import Player
from router.runtime.prompts import PromptCache, Rendered
from router.runtime.records import CallRecord, CallRecorder, RecordSink, mask_digits
from router.runtime.served import CALLS
from router.runtime.tracing import CallTracer
from router.runtime.transfer import SipTransferrer, Transferrer
from router.runtime.transfer_watch import CALLER_GONE_GRACE_S, TransferWatch, caller_on_server
from router.trial.caller import call_time

__all__ = ["OPUS_MAX_BITRATE", "CallFactory", "CallSession"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split


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
        options: SessionOptions = SessionOptions(),  # noqa: B008 (frozen, never changed)
        metrics: Metrics = METRICS,
        observer: CallObserver | None = None,
        transferrer_for: Callable[[rtc.RemoteParticipant], Transferrer] | None = None,
        tracer: Tracer | None = None,
        key_arrivals: deque[float] | None = None,
    ) -> None:
        self.room = room
        self.menu_file = menu_file
        self.cache = cache
        self.options = options
        self.metrics = metrics
        self.navigator = Navigator(menu_file, caps=options.caps)
        self.player = Player(self._on_playback_finished)
        self.prompt_track = PromptTrack(room, self.player.track, lkapi)
        self.transferrer: Transferrer = SipTransferrer(lkapi, room.name)
        self._transferrer_for = transferrer_for
        """Chooses the caller's transferrer once the caller is known (trial callers)."""
        self._observer = observer
        self.tracer = CallTracer(tracer)
        self._api = lkapi
        self.recorder: CallRecorder | None = None
        """The live call's recorder, once its menu has started (`_start`)."""
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
        self._label = mask_digits(room.name) if options.mask_caller else room.name
        """The room as logs name it: individual dispatch rules put the caller's number in it."""
        self.presence = CallerPresence(
            room,
            self._label,
            trial=options.trial_callers,
            done=self._done,
            left=self._caller_left,
            end=self._end,
            note_error=self._note_error,
        )
        self._key_at: float | None = None
        """perf_counter() of the DTMF callback being handled; None outside it."""
        self._early_keys = EarlyKeys()
        """Keys from the caller before the menu started, fed once it starts (`keys`)."""
        self._key_came = asyncio.Event()
        """Set by the first key from the caller before the menu started."""
        self._key_arrivals = key_arrivals
        """`time.monotonic()` of each DTMF packet of the room as the process got it, in
        order (`fanout.keep_for`); None or empty: keys are timed as the loop hands them."""
        self.received_at = datetime.now(UTC)
        """When the router got the call (joined its room): the record's `started_at`."""
        self._received = self.now()
        self.records = OneRecord(
            sink=sink,
            metrics=metrics,
            label=self._label,
            menu_version=menu_file.version,
            received_at=self.received_at,
            received_s=self._received,
            mask_caller=options.mask_caller,
        )
        """The call's one record; its `sink` is where the line goes."""
        self._answered: float | None = None
        self._ended: float | None = None
        """Loop time the call ended from outside (the caller left): the record's end."""
        self._left_at: float | None = None
        """Loop time the caller left while a transfer was out (the call ends a little later,
        once the transfer's answer is in or `CALLER_GONE_GRACE_S` has passed)."""

    @property
    def caller(self) -> rtc.RemoteParticipant | None:
        """The caller being served, once found (`CallerPresence.caller`)."""
        return self.presence.caller

    # --- what the process's table of calls reads (`router.runtime.served.ServedCall`) ----

    @property
    def room_name(self) -> str:
        return self.room.name

    @property
    def label(self) -> str:
        """The call's room as logs name it (the caller's number masked unless told not)."""
        return self._label

    @property
    def caller_identity(self) -> str | None:
        return self.caller.identity if self.caller is not None else None

    @property
    def over(self) -> bool:
        return self._done.is_set()

    @property
    def end_reason(self) -> EndReason | None:
        return self._end_reason

    def shut_down_threadsafe(self) -> None:
        with contextlib.suppress(RuntimeError):  # its loop closed: the call has just ended
            self._loop.call_soon_threadsafe(self._shut_down_soon)

    # --- clock ---------------------------------------------------------------------------

    def now(self) -> float:
        """The navigator's clock is the loop's clock, so deadlines map to `call_at` directly."""
        return self._loop.time()

    # --- life cycle ----------------------------------------------------------------------

    async def publish(self) -> None:
        """Publish the prompt track at once (the SIP bridge answers only once it can
        subscribe), and watch that livekit-server gets its media (`track.watch_publication`)."""
        await self.prompt_track.publish()
        self._spawn(watch_publication(self.prompt_track, label=self._label))

    async def run(self, caller: rtc.RemoteParticipant | None = None) -> CallRecord | None:
        """Serve the call until it ends; returns the call record (also written to the sink).

        `caller` skips the search for the SIP participant (tests, `router connect`).
        """
        self.presence.attach()
        self.room.on("sip_dtmf_received", self._on_dtmf)
        if self._key_arrivals:  # stamps of packets nobody listened for: never a key's
            self._key_arrivals.clear()
        try:
            admission = await admit(self, caller)
            if admission is Admission.LEAVE:
                return None
            record: CallRecord | None = None
            if admission is Admission.UNANSWERED:
                record = self._finish_unanswered()
            elif admission is Admission.SERVE:
                assert self.caller is not None  # admitted: the caller is known
                self._start(self.caller)
                await self._done.wait()
                record = self._finish()
            if self.options.dispatched:
                CALLS.remember_room(self.room.name)
                if record is not None and self._end_reason not in SERVED_AGAIN:
                    CALLS.remember_call(self.recorder.call_id if self.recorder else None)
                caller_id = self.caller.identity if self.caller is not None else None
                await delete_room(self._api, self.presence, caller_id, self._label)
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
            CALLS.discard(self)
            self.presence.detach()
            self.room.off("sip_dtmf_received", self._on_dtmf)
            await self._close()

    def _start(self, caller: rtc.RemoteParticipant) -> None:
        self.presence.caller = caller
        if self._transferrer_for is not None:
            self.transferrer = self._transferrer_for(caller)
        self.recorder = self.records.recorder_for(caller, answered_s=self._answered)
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
        for held in self._early_keys.release(self.now()):
            self.feed(held)

    def _finish(self) -> CallRecord | None:
        """Write the record of a call whose menu started (once: `OneRecord.written`)."""
        if self.recorder is None:
            return None
        if self.records.written is not None:
            return self.records.written  # written already (`_shut_down`)
        self.metrics.active.dec()
        if self.recorder.end_reason is None:
            # `_done` is set only once `_end_reason` is (`_hang_up`, `_shut_down`): else SHUTDOWN
            self.recorder.end_reason = self._end_reason or EndReason.SHUTDOWN
        self.tracer.end(self.recorder.end_reason)
        return self.records.write(self.recorder, self._end_time())

    def _finish_unanswered(self) -> CallRecord:
        """Write the record of a call that ended before its menu started."""
        return self.records.unanswered(
            self.caller, self._end_reason, answered_s=self._answered, ended_s=self._end_time()
        )

    def _end_time(self) -> float:
        """Loop time the call ended: when it ended from outside, else now."""
        return self._ended if self._ended is not None else self.now()

    async def _close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # No unpublish: leaving the room takes the track down; a renegotiation now would
        # race the server closing the room after a hang-up.
        self.prompt_track.close()
        await self.player.aclose()

    # --- events in -----------------------------------------------------------------------

    def _caller_left(self, reason: EndReason) -> None:
        """The caller's participant left (`CallerPresence`): the call ends, unless a transfer
        is out: then maybe the transfer completing, and its answer decides, within a bound."""
        if self.transfers.active:
            self._left_at = self.now()
            self._caller_gone.set()
            self._loop.call_later(CALLER_GONE_GRACE_S, self._end, EndReason.CALLER_HANGUP)
            return
        self._end(reason)

    def _note_error(self, what: str) -> None:
        """Say in the call's record what went wrong around it, when (seconds into the call):
        a call an outage cuts then ends with the outage's reason, never silently."""
        if self.recorder is not None and not self._done.is_set():
            self.recorder.errors.append(f"{what} at {self.now() - self._received:.1f} s")

    def _on_dtmf(self, dtmf: rtc.SipDTMF) -> None:
        key_at = time.perf_counter()
        arrived = arrival(self._key_arrivals, self.now())  # one stamp per packet
        key = caller_key(dtmf, self.caller)
        if key is None:
            return
        if self.recorder is None:
            # no menu yet: held until it starts, dropped if it never does; and a key
            # proves the call answered (`CallerPresence.wait_until_answered`)
            self._early_keys.hold(key, self.now() if arrived is None else arrived)
            self._key_came.set()
            return
        self._key_at = key_at
        try:
            self.feed(DigitPressed(key, self.now(), arrived))
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
            case _:  # a new effect: mypy names every match that must carry it out
                assert_never(effect)

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
            await remove_caller(self._api, self.presence, self.caller.identity, self._label)
        self._done.set()

    async def _on_server(self) -> bool | None:
        """Whether the caller is still on the call as the server sees it (`caller_on_server`)."""
        if self.caller is None:
            return None
        return await caller_on_server(self._api, self.room.name, self.caller.identity)


CallFactory = Callable[[rtc.Room, MenuFile], CallSession]
