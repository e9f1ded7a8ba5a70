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
import os
import time
from collections.abc import Callable

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
from router.runtime.tracing import CallTracer
from router.runtime.transfer import Transferrer, TransferResult, TransferUndecided

__all__ = ["CALLER_GONE_GRACE_S", "TRACE_KEYS", "TransferWatch", "transfer_label"]

log = logging.getLogger("router.runtime.call")  # the call's log lines, as before the move

TRACE_KEYS = os.environ.get("ROUTER_TRACE_KEYS", "") not in ("", "0")
"""Log each key-caused transfer's "key to transfer request" time at INFO (else DEBUG).

The time runs from the `sip_dtmf_received` callback to the request being handed to
livekit-api; the benchmarks (bench/) read these lines."""


CALLER_GONE_GRACE_S = 2.0
"""How long the news of a transfer's end waits for the other news of the same moment,
whichever comes first: the caller's departure for LiveKit's answer (a completed REFER
ends the caller's leg, and that departure can reach the router a moment before the
answer: then the call is transferred), and an answer that may be the caller's hang-up
for the departure (then the call is the caller's hang-up, the transfer unfinished).
The SIP bridge sends its answer and leaves the room within milliseconds, but the two
reach the router by different ways (the API's HTTP answer; the room's signalling), and
on a loaded machine a second or more apart (the soak, docs/reliability.md)."""


def transfer_label(effect: TransferTo) -> str:
    """How metrics and logs name a transfer, bounded by the menu file and free of dialled
    digits: the destination's name, else the directory entry (`staff:6xxx`), else the
    URI the file wrote with any phone number masked."""
    return destination_label(effect.destination or effect.via, effect.target)


class TransferWatch:
    """One call's transfers, followed to their outcomes.

    `now()` is the call's clock (the navigator's, seconds); `caller_gone` is set by the
    call when its caller left while a transfer was out (`active`), `done` when the
    call is over."""

    def __init__(
        self,
        metrics: Metrics,
        tracer: CallTracer,
        now: Callable[[], float],
        caller_gone: asyncio.Event,
        done: asyncio.Event,
    ) -> None:
        self.metrics = metrics
        self.tracer = tracer
        self.now = now
        self.caller_gone = caller_gone
        self.done = done
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
            result = (
                await self._outcome_from_caller(answer, call)
                if isinstance(answer, TransferUndecided)
                else answer
            )
            if isinstance(result, TransferFailed) and await self._caller_hung_up(result):
                log.info(
                    "call %s: the caller hung up during the transfer to %s; LiveKit said: %s",
                    call,
                    effect.target,
                    result.reason,
                )
                return CallEnded(self.now(), EndReason.CALLER_HANGUP)
            failed = result if isinstance(result, TransferFailed) else None
            self.metrics.transfer_ended(
                label,
                TransferOutcome.of(None if failed is None else failed.kind),
                time.monotonic() - started,
            )
            self.tracer.transfer_ended(
                "succeeded" if failed is None else failed.kind.value,
                200 if failed is None else failed.sip_status,
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

    async def _caller_hung_up(self, failed: TransferFailed) -> bool:
        """Whether this failure is the caller hanging up during the transfer rather than
        the transfer failing: the caller left while it was out, or leaves within
        `CALLER_GONE_GRACE_S` of an answer that gives no status from the far end.

        What LiveKit answers when the caller hangs up during a REFER is no failure of the
        destination and depends on who notices first: livekit-server answers `not_found`
        for a participant already gone (livekit/livekit `pkg/service/sip.go`,
        `transferSIPParticipantRequest` looks the participant up); livekit-sip waits for
        the NOTIFY's final status or the end of the request's context, answered psrpc
        `Canceled` ("refer canceled"), and after the caller's BYE no NOTIFY comes, so it
        has no SIP status to give (livekit/sip `pkg/sip/inbound.go`,
        `sipInbound.TransferCall`), as the stand-in does (`router/stack/sipstandin/call.go`).
        A failure carrying the far end's status (486, 603, 408 ...) happened before the
        hang-up and stays a failure unless the caller had already left."""
        if self.caller_gone.is_set():
            return True
        if failed.sip_status is not None or self.done.is_set():
            return False
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
        wait = max(0.0, undecided.decide_by - self.now())
        log.info(
            "call %s: LiveKit has no outcome for the transfer yet (%s); "
            "waiting up to %.0f s for the caller to leave",
            call,
            undecided.why,
            wait,
        )
        await self._caller_gone_or_done(wait)
        if self.caller_gone.is_set():
            return TransferSucceeded(self.now())
        return TransferFailed(
            None,
            f"{undecided.why}; the caller was still on the line after {wait:.0f} s",
            self.now(),
            undecided.transfer_reason
            if undecided.transfer_reason not in (None, TransferReason.UNSPECIFIED)
            else TransferReason.RINGING_TIMEOUT,
        )
