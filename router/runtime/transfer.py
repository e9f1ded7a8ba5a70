"""Cold transfer through LiveKit's TransferSIPParticipant, with every way it can end.

LiveKit answers only when the REFER has completed: success when the far end's
NOTIFY carries a final 200; `SipCallError` with the SIP status otherwise; other
Twirp errors for problems on LiveKit's side. Server v1.13.5 answers success with an
empty body, so "no error raised" is success. The request is bounded by the ringing
timeout plus a margin, so a hung API can never hold a call.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from livekit import api

from router.core.events import TransferFailed, TransferSucceeded, TransferTo

__all__ = ["TRANSFER_MARGIN_S", "Transferrer"]

log = logging.getLogger(__name__)

TRANSFER_MARGIN_S = 10.0
"""Time allowed beyond the ringing timeout for LiveKit and the SIP bridge themselves."""


class Transferrer:
    """Carries out `TransferTo` effects for one room."""

    def __init__(self, lkapi: api.LiveKitAPI, room_name: str) -> None:
        self._api = lkapi
        self._room = room_name
        self.request_at: float | None = None
        """perf_counter() when the last request was handed to livekit-api."""

    async def transfer(
        self, identity: str, effect: TransferTo, now: float
    ) -> TransferSucceeded | TransferFailed:
        """Run one transfer; never raises (except cancellation)."""
        settings = effect.settings
        request = api.TransferSIPParticipantRequest(
            room_name=self._room,
            participant_identity=identity,
            transfer_to=effect.target,
            play_dialtone=settings.play_dialtone,
            headers=dict(settings.headers),
        )
        request.ringing_timeout.FromMilliseconds(int(settings.ringing_timeout * 1000))
        started = time.monotonic()
        budget = settings.ringing_timeout + TRANSFER_MARGIN_S
        self.request_at = time.perf_counter()
        try:
            await asyncio.wait_for(self._api.sip.transfer_sip_participant(request), budget)
        except api.SipCallError as exc:
            return TransferFailed(exc.sip_status_code, _reason(exc), now + _since(started))
        except api.TwirpError as exc:
            status = _status_from_metadata(exc)
            return TransferFailed(status, _reason(exc), now + _since(started))
        except TimeoutError:
            return TransferFailed(
                None, f"no answer from LiveKit within {budget:.0f} s", now + budget
            )
        except (aiohttp.ClientError, OSError) as exc:
            return TransferFailed(None, f"LiveKit unreachable: {exc}", now + _since(started))
        return TransferSucceeded(now + _since(started))


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
