"""Cold transfer through LiveKit's TransferSIPParticipant, with every way it can end.

What LiveKit answers depends on its version (docs/deploy.md has the table):

- livekit-server v1.13.5 (`pkg/service/sip.go`) answers an empty message when the
  REFER completed (the far end's NOTIFY carried a final 200) and an error otherwise:
  `SipCallError` with the SIP status where the bridge gave one (livekit-sip v1.11.0),
  a Twirp error without it where it did not (livekit-sip v1.0.0: `canceled`,
  "call transfer failed").
- livekit-server v1.13.6 and later copy the bridge's outcome into a
  `TransferSIPParticipantResponse` (`transfer_id`, `status`, `reason`, `sip_status`), and
  a failed transfer may come back *without* an error: `STS_TRANSFER_FAILED` with a
  reason. `STS_TRANSFER_ONGOING` means LiveKit stopped waiting while the REFER may
  still complete. Errors may carry `sip_transfer_reason` beside the SIP status.

Every answer becomes one of three results: `TransferSucceeded`, `TransferFailed` (its
SIP status and LiveKit's reason, grouped by `FailureKind.classify`, the one mapping for
errors and responses alike), or `TransferUndecided`: LiveKit does not know yet (an
`ONGOING` answer, or its own deadline passing while the REFER was out), and the call
learns the outcome from the caller's participant (`CallSession`).

The request is bounded by the ringing timeout plus a margin, so a hung API can never
hold a call. One error is asked again: "no response from servers" means no SIP bridge
took the request within psrpc's one-second claim window (a bridge busy with a burst of
transfers), so no REFER was sent and asking again is safe. Nothing else is sent twice:
livekit-api's region failover (LiveKit Cloud hosts only) replays a request that got an
HTTP 5xx or no answer, and a failed transfer without a SIP status is Twirp `unknown`
(HTTP 500) on v1.13.11, so a replay would send a second REFER; the router's API client
has failover off (`call_api`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from livekit import api
from livekit.protocol.sip import SIPTransferReason, SIPTransferStatus

from router.core.events import TransferFailed, TransferSucceeded, TransferTo
from router.core.model import TransferReason

__all__ = [
    "TRANSFER_MARGIN_S",
    "UNCLAIMED_RETRY_PAUSES_S",
    "SipTransferrer",
    "call_api",
    "TransferResult",
    "TransferUndecided",
    "Transferrer",
    "transfer_reason",
]

log = logging.getLogger(__name__)

TRANSFER_MARGIN_S = 10.0
"""Time allowed beyond the ringing timeout for LiveKit and the SIP bridge themselves."""


UNCLAIMED_RETRY_PAUSES_S = (0.25, 0.5)
"""Pauses before asking again when no SIP bridge took the request (two more tries)."""


@dataclass(frozen=True, slots=True)
class TransferUndecided:
    """LiveKit stopped waiting, but the REFER may still complete.

    The caller's participant tells the rest: it leaves the room when the transfer
    succeeds; still there at `decide_by`, the transfer did not happen (no answer).
    """

    why: str
    """What LiveKit said, for logs and the call record."""
    decide_by: float
    """The navigator's clock (seconds) by which the caller must have left."""
    transfer_reason: TransferReason | None = None


TransferResult = TransferSucceeded | TransferFailed | TransferUndecided

_REASONS: dict[int, TransferReason] = {
    SIPTransferReason.STR_UNSPECIFIED: TransferReason.UNSPECIFIED,
    SIPTransferReason.STR_COMPLETED: TransferReason.COMPLETED,
    SIPTransferReason.STR_CALL_ENDED: TransferReason.CALL_ENDED,
    SIPTransferReason.STR_REJECTED: TransferReason.REJECTED,
    SIPTransferReason.STR_RINGING_TIMEOUT: TransferReason.RINGING_TIMEOUT,
    SIPTransferReason.STR_SUBSCRIPTION_TERMINATED: TransferReason.SUBSCRIPTION_TERMINATED,
    SIPTransferReason.STR_CANCELED: TransferReason.CANCELED,
}


def transfer_reason(value: int | str | None) -> TransferReason | None:
    """LiveKit's `SIPTransferReason`, as a response's enum value or an error's metadata
    string (`"STR_RINGING_TIMEOUT"`), in the core's terms; None for none or unknown."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if value not in SIPTransferReason.keys():
            log.info("unknown transfer reason %r from LiveKit", value)
            return None
        value = int(SIPTransferReason.Value(value))
    return _REASONS.get(int(value))


class Transferrer(Protocol):
    """Carries out `TransferTo` effects for one call: the one interface the call session
    knows. `SipTransferrer` asks LiveKit to REFER a SIP caller; `router.trial.transfer`'s
    `PageTransferrer` asks the browser page of someone trying the menus."""

    request_at: float | None
    """perf_counter() when the last request was handed on (for the key-to-request trace)."""

    def start(self, identity: str, effect: TransferTo) -> asyncio.Task[Any]:
        """Send the request for `identity` now; `finish` reads its answer."""
        ...

    async def finish(
        self, sent: asyncio.Task[Any], effect: TransferTo, now: float
    ) -> TransferResult:
        """Wait (bounded) for the answer of a request from `start`; never raises (except
        cancellation). `now` is the navigator's clock when the transfer began."""
        ...


def call_api(session: aiohttp.ClientSession | None = None, **kwargs: Any) -> api.LiveKitAPI:
    """The LiveKitAPI a call uses: `api.LiveKitAPI(session=session, **kwargs)` (URL and
    credentials from the arguments, else LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET,
    as livekit-agents' `JobContext.api`) with region failover off.

    livekit-api (1.2.x, `livekit/api/_failover.py`, `twirp_client.py`) replays a request
    up to three times for a LiveKit Cloud host (`*.livekit.cloud`, `cloud-api.*.livekit.io`)
    when it fails with HTTP 5xx or a transport error, the same host again when no other
    region is known. TransferSIPParticipant is not safe to replay: its REFER may already
    have reached the far end, and a failure without a SIP status comes back as Twirp
    `unknown` (500). The router asks again only where it knows no REFER went out
    (`UNCLAIMED_RETRY_PAUSES_S`); the call's other requests (removing the caller) are
    ended by the call anyway. Upstream: livekit/python-sdks#733 added failover ("should
    not be customizable other than to disable"; a 500 is taken to mean "did not
    complete"), #811 the same-host retry and the `X-Livekit-Request-Id` a server may
    dedupe by; nothing says TransferSIPParticipant is deduped. Raises ValueError
    (livekit-api's) without URL or credentials.
    """
    return api.LiveKitAPI(session=session, failover=False, **kwargs)


class SipTransferrer(Transferrer):
    """Carries out `TransferTo` effects for one room through TransferSIPParticipant."""

    def __init__(self, lkapi: api.LiveKitAPI, room_name: str) -> None:
        self._api = lkapi
        self._room = room_name
        self.request_at: float | None = None
        """perf_counter() when the last request started on the loop (handed to livekit-api)."""
        self._started = time.monotonic()
        self.attempts = 0
        """Requests sent for the last transfer (more than one when no bridge took it)."""

    def start(
        self, identity: str, effect: TransferTo
    ) -> asyncio.Task[api.TransferSIPParticipantResponse]:
        """Start the request now: its first step runs on the loop's next turn, ahead of
        anything scheduled after this call (the key's other effects, logs)."""
        settings = effect.settings
        request = api.TransferSIPParticipantRequest(
            room_name=self._room,
            participant_identity=identity,
            transfer_to=effect.target,
            play_dialtone=settings.play_dialtone,
            headers=dict(settings.headers),
        )
        request.ringing_timeout.FromMilliseconds(int(settings.ringing_timeout_s * 1000))
        self._started = time.monotonic()
        return asyncio.ensure_future(self._send(request))

    async def _send(
        self, request: api.TransferSIPParticipantRequest
    ) -> api.TransferSIPParticipantResponse:
        self.request_at = time.perf_counter()
        self.attempts = 0
        for pause in (*UNCLAIMED_RETRY_PAUSES_S, None):
            self.attempts += 1
            try:
                return await self._api.sip.transfer_sip_participant(request)
            except api.TwirpError as exc:
                if pause is None or not _unclaimed(exc):
                    raise
                log.info("no SIP bridge took the transfer request; asking again in %.2f s", pause)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable: the last try raises or returns")

    async def transfer(self, identity: str, effect: TransferTo, now: float) -> TransferResult:
        """Run one transfer; never raises (except cancellation)."""
        return await self.finish(self.start(identity, effect), effect, now)

    async def finish(
        self,
        sent: asyncio.Task[api.TransferSIPParticipantResponse],
        effect: TransferTo,
        now: float,
    ) -> TransferResult:
        """Wait for a request from `start()` (bounded) and read its answer; never raises
        (except cancellation). `now` is the navigator's clock when the transfer began."""
        started = self._started
        ringing = effect.settings.ringing_timeout_s
        budget = ringing + TRANSFER_MARGIN_S
        try:
            response = await asyncio.wait_for(sent, budget)
        except api.TwirpError as exc:
            at = now + _since(started)
            reason = transfer_reason((exc.metadata or {}).get("sip_transfer_reason"))
            status = _status_from_metadata(exc)
            if reason is None and status is None and _gave_up(exc):
                # LiveKit's own deadline (the ringing timeout) passed while the REFER was
                # out: the far end may still answer it
                return TransferUndecided(self._detail(exc), now + budget)
            return TransferFailed(status, self._detail(exc), at, reason, _leg_closed(exc))
        except TimeoutError:
            return TransferFailed(
                None, f"no answer from LiveKit within {budget:.0f} s", now + budget
            )
        except (aiohttp.ClientError, OSError) as exc:
            return TransferFailed(None, f"LiveKit unreachable: {exc}", now + _since(started))
        return _outcome(response, now + _since(started), now + budget)

    def _detail(self, exc: api.TwirpError) -> str:
        tries = f" ({self.attempts} tries)" if self.attempts > 1 else ""
        return _reason(exc) + tries


def _outcome(
    response: api.TransferSIPParticipantResponse, at: float, decide_by: float
) -> TransferResult:
    """Read a transfer's answer (livekit-server v1.13.6+ fill it; v1.13.5's is empty)."""
    if response.status == SIPTransferStatus.STS_TRANSFER_SUCCESSFUL:
        return TransferSucceeded(at)
    reason = transfer_reason(response.reason) if response.reason else None
    sip = response.sip_status if response.HasField("sip_status") else None
    status = int(sip.code) if sip is not None and sip.code else None
    words = _words(response, reason, sip)
    if response.status == SIPTransferStatus.STS_TRANSFER_FAILED:
        return TransferFailed(status, words, at, reason)
    if not response.transfer_id and reason is None and sip is None:
        return TransferSucceeded(at)  # the empty message of v1.13.5: no error is success
    return TransferUndecided(words, decide_by, reason)


def _words(
    response: api.TransferSIPParticipantResponse,
    reason: TransferReason | None,
    sip: object | None,
) -> str:
    """`failed: ringing_timeout (SIP 408 Request Timeout) [transfer STR_x]`, for records."""
    status = SIPTransferStatus.Name(response.status).removeprefix("STS_TRANSFER_").lower()
    text = status + (f": {reason.value}" if reason else "")
    if sip is not None:
        code = getattr(sip, "code", 0)
        phrase = getattr(sip, "status", "")
        text += f" (SIP {code}{' ' + phrase if phrase else ''})"
    if response.transfer_id:
        text += f" [transfer {response.transfer_id}]"
    return text


def _unclaimed(exc: api.TwirpError) -> bool:
    """psrpc's ErrNoResponse: no server claimed the request, so nothing was done."""
    return not isinstance(exc, api.SipCallError) and "no response from servers" in exc.message


def _leg_closed(exc: api.TwirpError) -> bool:
    """The SIP bridge refused the REFER for a dialog it no longer has: livekit/sip
    `pkg/sip/inbound.go` `sipInbound.newReferReq` answers `FailedPrecondition` "can't
    transfer non established call" when the INVITE or its 200 is gone, which for an
    answered call means its BYE came (`drop`); `pkg/sip/outbound.go` says "can't transfer
    hung up call" for a closing one. The caller is hanging up."""
    message = exc.message or ""
    return exc.code == "failed_precondition" and any(text in message for text in _LEG_CLOSED)


_LEG_CLOSED = ("non established call", "hung up call")
"""The texts of a `failed_precondition` answer for a dialog that is gone (`_leg_closed`)."""

_GAVE_UP_CANCELED = ("context deadline exceeded", "refer canceled")
"""The texts of a `canceled` answer at the ringing timeout (see `_gave_up`)."""


def _gave_up(exc: api.TwirpError) -> bool:
    """LiveKit stopped waiting at the ringing timeout, the REFER's outcome unknown. Three
    deadlines race there, all of the same length: psrpc's own in livekit-server
    (`deadline_exceeded`, "request timed out"; `pkg/service/sip.go` sends with
    `WithRequestTimeout(ringing timeout)`), the bridge's handler seeing the request's
    context end (livekit/sip `pkg/sip/service.go`: `psrpc.Canceled` with Go's
    `context.DeadlineExceeded`, "context deadline exceeded"), and the bridge's transfer
    itself ending without the far end's final NOTIFY (`pkg/sip/inbound.go`
    `sipInbound.TransferCall`: `psrpc.Canceled`, "refer canceled", no SIP status). The
    last is the ringing timeout too, not a failure of the destination."""
    message = exc.message or ""
    return exc.code == "deadline_exceeded" or (
        exc.code == "canceled" and any(text in message for text in _GAVE_UP_CANCELED)
    )


def _since(started: float) -> float:
    return time.monotonic() - started


_SIP_STATUS_IN_MESSAGE = re.compile(r"\bsip status: ([1-6]\d\d)\b")
"""`livekit.SIPStatus.Error()` (livekit/protocol `livekit/sip.go`): "sip status: 486: Busy
Here". A bridge that wraps the status without attaching it as an error detail
(`ApplySIPStatus` in livekit/sip `pkg/errors/errors.go` wraps without details) leaves it
only in the message, and psrpc (`pkg/server/rpc.go`) sends on nothing else."""


def _status_from_metadata(exc: api.TwirpError) -> int | None:
    """The far end's SIP status: from the error's metadata, else from the message."""
    raw = (exc.metadata or {}).get("sip_status_code")
    if raw is None:
        found = _SIP_STATUS_IN_MESSAGE.search(exc.message or "")
        return int(found.group(1)) if found else None
    try:
        return int(raw)
    except ValueError:
        return None


def _reason(exc: api.TwirpError) -> str:
    meta = exc.metadata or {}
    sip = meta.get("sip_status")
    why = meta.get("sip_transfer_reason")
    return (
        f"{exc.code}: {exc.message}"
        + (f" (SIP {sip})" if sip else "")
        + (f" [{why}]" if why else "")
    )
