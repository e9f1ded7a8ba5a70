"""Seeing one call's transfer through, from the request to an outcome the navigator takes.

`router.runtime.transfer` sends TransferSIPParticipant and reads LiveKit's answer; this
module follows the request for the call: it counts the transfers still out (a caller
who leaves then may be the transfer completing), settles an undecided answer by whether
the caller's leg ends (a completed REFER ends it), and says the outcome to the metrics,
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

from router.core.events import TransferFailed, TransferSucceeded, TransferTo
from router.core.model import TransferReason
from router.runtime.metrics import Metrics
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import destination_label
from router.runtime.tracing import CallTracer
from router.runtime.transfer import Transferrer, TransferResult, TransferUndecided

__all__ = ["TRACE_KEYS", "TransferWatch", "transfer_label"]

log = logging.getLogger("router.runtime.call")  # the call's log lines, as before the move

TRACE_KEYS = os.environ.get("ROUTER_TRACE_KEYS", "") not in ("", "0")
"""Log each key-caused transfer's "key to transfer request" time at INFO (else DEBUG).

The time runs from the `sip_dtmf_received` callback to the request being handed to
livekit-api; the benchmarks (bench/) read these lines."""


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
    ) -> TransferSucceeded | TransferFailed:
        """The outcome of a request from `transferrer.start()`; `key_at` is the
        perf_counter() of the key that caused it, if any; `call` names the call in logs."""
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
        gone = asyncio.ensure_future(self.caller_gone.wait())
        ended = asyncio.ensure_future(self.done.wait())
        try:
            await asyncio.wait({gone, ended}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            ended.cancel()
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
