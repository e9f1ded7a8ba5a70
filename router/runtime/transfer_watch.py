"""Seeing one call's transfer through, from the request to an outcome the navigator takes.

`router.runtime.transfer` sends TransferSIPParticipant and reads LiveKit's answer; this
module follows the request for the call: it counts the transfers still out (a caller
who leaves then may be the transfer completing), settles an undecided answer by whether
the caller's leg ends (a completed REFER ends it), tells a caller who hung up during the
transfer from a transfer that failed (`follow`), and says the outcome to the metrics,
the trace and the log, by the transfer's bounded name (`transfer_label`). The call
(`router.runtime.call.CallSession`) feeds the outcome to its navigator.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from livekit import api

from router.core.events import (
    CallEnded,
    EndReason,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.model import TransferReason
from router.runtime.metrics import Metrics
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import destination_label
from router.runtime.retries import GONE
from router.runtime.tracing import CallTracer
from router.runtime.transfer import Transferrer, TransferResult, TransferUndecided
from router.settings import diagnostic

__all__ = [
    "CALLER_GONE_GRACE_S",
    "TRACE_KEYS",
    "StillThere",
    "TransferWatch",
    "caller_on_server",
    "participant_on_server",
    "transfer_label",
]

log = logging.getLogger("router.runtime.call")  # the call's log lines, as before the move

TRACE_KEYS = diagnostic("ROUTER_TRACE_KEYS")
"""Log each key-caused transfer's "key to transfer request" time at INFO (else DEBUG).

The time runs from the `sip_dtmf_received` callback to the request being handed to
livekit-api; the benchmarks (bench/) read these lines."""


CALLER_GONE_GRACE_S = 2.0
"""How long the news of a transfer's end waits for the other news of the same moment,
when the server cannot settle it: the caller's departure for LiveKit's answer (a
completed REFER ends the caller's leg, and that departure can reach the router a moment
before the answer: then the call is transferred), and a failure without a SIP status,
the server still seeing the caller or not answering (`caller_on_server`), for the
departure (the bridge's answer can beat its own `hangup` to the server). The SIP
bridge's answer and its leaving the room reach the router by different ways (the API's
HTTP answer; the room's signalling), on a loaded machine seconds apart: the soak's run 5
saw a caller's departure 2.6 s after the answer (docs/reliability.md)."""


LEG_CLOSED_GRACE_S = 10.0
"""How long an answer that the caller's dialog is gone (`TransferFailed.leg_closed`) waits
for the caller to leave the room: the bridge's own hang-up (`hangup`, then leaving) comes
after it, by seconds at load."""


StillThere = Callable[[], Awaitable[bool | None]]
"""Whether the caller is still on the call as LiveKit's server sees it now: True, False
(gone, or hanging up), None (the server could not say)."""


async def participant_on_server(
    lkapi: api.LiveKitAPI, room: str, identity: str, *, within_s: float
) -> api.ParticipantInfo | Literal[False] | None:
    """A participant as livekit-server sees it now (`RoomService.GetParticipant`, bounded
    by `within_s` seconds): its info; False when it is gone (`not_found`, or livekit-server
    v1.13.5's 500 "could not find object"); None when the server did not answer (an
    outage, a timeout). Unlike the room's signalling, which the router's own connection
    delivers late under load, this is the server's state when asked."""
    request = api.RoomParticipantIdentity(room=room, identity=identity)
    try:
        return await asyncio.wait_for(lkapi.room.get_participant(request), within_s)
    except api.ServerError as exc:
        if exc.code == api.ServerErrorCode.NOT_FOUND or GONE in (exc.message or ""):
            return False
        return None
    except Exception:  # noqa: BLE001 - a timeout, a refused connection: the server is away
        return None


async def caller_on_server(
    lkapi: api.LiveKitAPI, room: str, identity: str, *, within_s: float = CALLER_GONE_GRACE_S
) -> bool | None:
    """Whether the caller is on the call as the server sees it (`participant_on_server`):
    False when it is gone, disconnected, or its `sip.callStatus` is `hangup` (the SIP
    bridge sets it before it leaves: livekit/sip `pkg/sip/inbound.go`, `close` ->
    `setStatus`); True when it is in the room otherwise; None when the server did not
    answer."""
    info = await participant_on_server(lkapi, room, identity, within_s=within_s)
    if info is None or info is False:
        return info
    return (
        info.state != api.ParticipantInfo.State.DISCONNECTED
        and info.attributes.get("sip.callStatus") != "hangup"
    )


def transfer_label(effect: TransferTo) -> str:
    """How metrics and logs name a transfer, bounded by the menu file and free of dialled
    digits: the destination's name, else the directory entry (`staff:6xxx`), else the
    URI the file wrote with any phone number masked."""
    return destination_label(effect.destination or effect.via, effect.target)


class TransferWatch:
    """One call's transfers, followed to their outcomes.

    `now()` is the call's clock (the navigator's, seconds); `caller_gone` is set by the
    call when its caller left while a transfer was out (`active`), `done` when the
    call is over; `still_there()` asks the server about the caller (`caller_on_server`)."""

    def __init__(
        self,
        metrics: Metrics,
        tracer: CallTracer,
        now: Callable[[], float],
        caller_gone: asyncio.Event,
        done: asyncio.Event,
        still_there: StillThere,
    ) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.now = now
        self.caller_gone = caller_gone
        self.done = done
        self.still_there = still_there
        self.active = 0
        """Transfers whose outcome has not been handed back yet."""

    async def follow(
        self,
        transferrer: Transferrer,
        effect: TransferTo,
        sent: asyncio.Task[api.TransferSIPParticipantResponse],
        key_at: float | None,
        call: str,
    ) -> TransferSucceeded | TransferFailed | CallEnded:
        """The outcome of a request from `transferrer.start()`; `key_at` is the
        perf_counter() of the key that caused it, if any; `call` names the call in logs.

        `CallEnded` (`caller_hangup`): the caller hung up while the transfer was out, so
        the transfer has no outcome of its own (`TransferOutcome.UNFINISHED`: the record
        says `pending`, as `router simulate` does for a caller who hangs up during a
        transfer; metrics do not count it) and no failure policy runs. That holds
        whichever news came first (`_caller_hung_up`)."""
        self.active += 1
        try:
            started = time.monotonic()
            label = transfer_label(effect)
            self.tracer.transfer_started(label)
            log.info("call %s: transferring to %s", call, effect.target)
            answer: TransferResult = await transferrer.finish(sent, effect, self.now())
            if key_at is not None and transferrer.request_at is not None:
                log.log(
                    logging.INFO if TRACE_KEYS else logging.DEBUG,
                    "call %s: key to transfer request %.3f ms (key at %.6f, request at %.6f)",
                    call,
                    (transferrer.request_at - key_at) * 1000,
                    key_at,
                    transferrer.request_at,
                )
            if isinstance(answer, TransferUndecided):
                if await self._left_before():
                    return self._hung_up(call, effect, answer.why)
                result = await self._outcome_from_caller(answer, call)
            else:
                result = answer
            if isinstance(result, TransferFailed) and await self._caller_hung_up(result):
                return self._hung_up(call, effect, result.reason)
            failed = result if isinstance(result, TransferFailed) else None
            self.metrics.transfer_ended(
                label,
                TransferOutcome.of(None if failed is None else failed.kind),
                time.monotonic() - started,
            )
            inferred = isinstance(result, TransferSucceeded) and result.inferred is not None
            self.tracer.transfer_ended(
                "succeeded" if failed is None else failed.kind.value,
                (None if inferred else 200) if failed is None else failed.sip_status,
            )
            if failed is not None:
                log.warning(
                    "call %s: transfer to %s failed (%s): SIP %s, %s",
                    call,
                    effect.target,
                    failed.kind.value,
                    failed.sip_status,
                    failed.reason,
                )
            return result
        finally:
            self.active -= 1

    def _hung_up(self, call: str, effect: TransferTo, said: str) -> CallEnded:
        log.info(
            "call %s: the caller hung up during the transfer to %s; LiveKit said: %s",
            call,
            effect.target,
            said,
        )
        return CallEnded(self.now(), EndReason.CALLER_HANGUP)

    async def _left_before(self) -> bool:
        """Whether the caller had already left when LiveKit gave up waiting (an undecided
        answer):
        seen leaving, or gone or hanging up as the server says (`still_there`). A REFER
        that completes while LiveKit still waits is answered as a success (livekit/sip
        `sipInbound.TransferCall` returns on the NOTIFY's 200), so a caller gone before
        LiveKit's own deadline hung up; only a departure after it may be the REFER
        completing late (`_outcome_from_caller`). The soak's run 5 recorded five callers
        who hung up while the far end rang as transferred (psrpc's deadline, "request
        timed out", came before the stand-in's own answer)."""
        if self.caller_gone.is_set():
            return True
        return await self.still_there() is False

    async def _caller_hung_up(self, failed: TransferFailed) -> bool:
        """Whether this failure is the caller hanging up during the transfer rather than
        the transfer failing: the caller left while it was out, or the server says the
        caller is gone or hanging up (`still_there`), or, when the server still sees the
        caller or cannot say, the caller leaves within `CALLER_GONE_GRACE_S` of an
        answer that gives no status from the far end.

        What LiveKit answers when the caller hangs up during a REFER is no failure of the
        destination, and its order against the caller's departure is not fixed:
        livekit-server answers `not_found` for a participant already gone (livekit/livekit
        `pkg/service/sip.go`, `transferSIPParticipantRequest` looks the participant up);
        the bridge refuses a REFER for a call it has closed (`failed_precondition`, "can't
        transfer non established call": livekit/sip `pkg/sip/inbound.go`, `newReferReq`,
        as the stand-in); and a REFER already accepted is answered only at the request's
        deadline (`sipInbound.TransferCall` waits for the NOTIFY's result or the context:
        "refer canceled", no SIP status, as the stand-in). The soak saw
        each of these reach the router before the caller's departure, by up to 2.6 s at
        load, so the departure alone cannot tell; the server's state can. A failure with
        the far end's status and the caller still there is a failure at once."""
        if self.caller_gone.is_set():
            return True
        if self.done.is_set():
            return False
        if await self.still_there() is False:
            return True
        if failed.leg_closed:
            # the bridge has dropped the caller's dialog (its BYE came): it leaves the
            # room after its own hang-up, at load seconds after this answer (soak run 9:
            # two callers recorded as a failed transfer); a caller still here after
            # `LEG_CLOSED_GRACE_S` is served on, the answer taken as a failure
            await self._caller_gone_or_done(LEG_CLOSED_GRACE_S)
            return self.caller_gone.is_set() or await self.still_there() is False
        if failed.sip_status is not None or self.caller_gone.is_set():
            return self.caller_gone.is_set()
        # no status from the far end, and the server still sees the caller (or cannot
        # say): the bridge may answer before its own `hangup` reaches the server (run 6:
        # "can't transfer non established call" with the caller still `active` there)
        await self._caller_gone_or_done(CALLER_GONE_GRACE_S)
        return self.caller_gone.is_set()

    async def _caller_gone_or_done(self, within_s: float) -> None:
        """Wait up to `within_s` for the caller to leave or the call to end."""
        gone = asyncio.ensure_future(self.caller_gone.wait())
        ended = asyncio.ensure_future(self.done.wait())
        try:
            await asyncio.wait({gone, ended}, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            ended.cancel()

    async def _outcome_from_caller(
        self, undecided: TransferUndecided, call: str
    ) -> TransferSucceeded | TransferFailed:
        """LiveKit stopped waiting while the REFER may still complete: a completed transfer
        ends the caller's leg, so the caller leaving is success; still here at
        `decide_by` (the ringing timeout plus the margin), the transfer did not happen.
        The router stays in the room meanwhile: the caller is never left alone with it."""
        waited_from = self.now()
        wait = max(0.0, undecided.decide_by - waited_from)
        log.info(
            "call %s: LiveKit has no outcome for the transfer yet (%s); "
            "waiting up to %.0f s for the caller to leave",
            call,
            undecided.why,
            wait,
        )
        await self._caller_gone_or_done(wait)
        if self.caller_gone.is_set():
            # nobody confirms it: a late REFER's end and the bridge going away (the soak's
            # run 7, a ring-out cut by the bridge's restart) look the same from here
            return TransferSucceeded(
                self.now(),
                inferred=f"no outcome from LiveKit ({undecided.why}); the caller left "
                f"{self.now() - waited_from:.1f} s later: taken for the REFER completing late",
            )
        return TransferFailed(
            None,
            f"{undecided.why}; the caller was still on the line after {wait:.0f} s",
            self.now(),
            undecided.transfer_reason
            if undecided.transfer_reason not in (None, TransferReason.UNSPECIFIED)
            else TransferReason.RINGING_TIMEOUT,
        )
