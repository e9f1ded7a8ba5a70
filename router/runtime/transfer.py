"""Cold transfer through LiveKit's TransferSIPParticipant, with every way it can end.

LiveKit answers only when the REFER has completed: success when the far end's
NOTIFY carries a final 200; `SipCallError` with the SIP status otherwise; other
Twirp errors for problems on LiveKit's side. Server v1.13.5 answers success with an
empty body, so "no error raised" is success. The request is bounded by the ringing
timeout plus a margin, so a hung API can never hold a call.

One error is asked again: "no response from servers" means no SIP bridge took the
request within psrpc's one-second claim window (a bridge busy with a burst of
transfers), so no REFER was sent and asking again is safe.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from livekit import api

from router.core.events import TransferFailed, TransferSucceeded, TransferTo

__all__ = ["TRANSFER_MARGIN_S", "UNCLAIMED_RETRY_PAUSES_S", "Transferrer"]

log = logging.getLogger(__name__)

TRANSFER_MARGIN_S = 10.0
"""Time allowed beyond the ringing timeout for LiveKit and the SIP bridge themselves."""


UNCLAIMED_RETRY_PAUSES_S = (0.25, 0.5)
"""Pauses before asking again when no SIP bridge took the request (two more tries)."""


class Transferrer:
    """Carries out `TransferTo` effects for one room."""

    def __init__(self, lkapi: api.LiveKitAPI, room_name: str) -> None:
        self._api = lkapi
        self._room = room_name
        self.request_at: float | None = None
        """perf_counter() when the last request started on the loop (handed to livekit-api)."""
        self._started = time.monotonic()
        self.attempts = 0
        """Requests sent for the last transfer (more than one when no bridge took it)."""

    def start(self, identity: str, effect: TransferTo) -> asyncio.Task[None]:
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
        request.ringing_timeout.FromMilliseconds(int(settings.ringing_timeout * 1000))
        self._started = time.monotonic()
        return asyncio.ensure_future(self._send(request))

    async def _send(self, request: api.TransferSIPParticipantRequest) -> None:
        self.request_at = time.perf_counter()
        self.attempts = 0
        for pause in (*UNCLAIMED_RETRY_PAUSES_S, None):
            self.attempts += 1
            try:
                await self._api.sip.transfer_sip_participant(request)
                return
            except api.TwirpError as exc:
                if pause is None or not _unclaimed(exc):
                    raise
                log.info("no SIP bridge took the transfer request; asking again in %.2f s", pause)
            await asyncio.sleep(pause)

    async def transfer(
        self, identity: str, effect: TransferTo, now: float
    ) -> TransferSucceeded | TransferFailed:
        """Run one transfer; never raises (except cancellation)."""
        return await self.finish(self.start(identity, effect), effect, now)

    async def finish(
        self, sent: asyncio.Task[None], effect: TransferTo, now: float
    ) -> TransferSucceeded | TransferFailed:
        """Wait for a request from `start()` (bounded); never raises (except cancellation)."""
        started = self._started
        budget = effect.settings.ringing_timeout + TRANSFER_MARGIN_S
        try:
            await asyncio.wait_for(sent, budget)
        except api.SipCallError as exc:
            return TransferFailed(exc.sip_status_code, self._detail(exc), now + _since(started))
        except api.TwirpError as exc:
            status = _status_from_metadata(exc)
            return TransferFailed(status, self._detail(exc), now + _since(started))
        except TimeoutError:
            return TransferFailed(
                None, f"no answer from LiveKit within {budget:.0f} s", now + budget
            )
        except (aiohttp.ClientError, OSError) as exc:
            return TransferFailed(None, f"LiveKit unreachable: {exc}", now + _since(started))
        return TransferSucceeded(now + _since(started))

    def _detail(self, exc: api.TwirpError) -> str:
        tries = f" ({self.attempts} tries)" if self.attempts > 1 else ""
        return _reason(exc) + tries


def _unclaimed(exc: api.TwirpError) -> bool:
    """psrpc's ErrNoResponse: no server claimed the request, so nothing was done."""
    return not isinstance(exc, api.SipCallError) and "no response from servers" in exc.message


def _since(started: float) -> float:
    return time.monotonic() - started


def _status_from_metadata(exc: api.TwirpError) -> int | None:
    raw = (exc.metadata or {}).get("sip_status_code")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _reason(exc: api.TwirpError) -> str:
    sip = (exc.metadata or {}).get("sip_status")
    return f"{exc.code}: {exc.message}" + (f" (SIP {sip})" if sip else "")
