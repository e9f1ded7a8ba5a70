"""A transfer answered on the trial page: the browser caller's `Transferrer`.

A browser caller cannot be REFERred. For it the router carries a `TransferTo` out as a
LiveKit RPC (`router.transfer`) to the caller's page, which shows the target and
headers and lets the person trying the menu answer it: answered, busy, no answer,
rejected (403 or 603), or an error without a SIP status. The answer becomes the
transfer's result, exactly as LiveKit's would for a phone, so every failure policy of
the file can be heard. The call session does not know which `Transferrer` it holds.

Request payload (JSON): `{"target", "destination", "headers", "ringing_timeout",
"play_dialtone"}`. Answer (JSON): `{"outcome": "answered" | "busy" | "no_answer" |
"rejected" | "error", "sip_status": N (optional)}`. See docs/trying-menus.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from livekit import rtc

from router.core.events import TransferFailed, TransferSucceeded, TransferTo
from router.core.model import TransferReason
from router.runtime.transfer import TRANSFER_MARGIN_S, Transferrer, TransferResult

__all__ = ["METHOD", "OUTCOMES", "PageTransferrer", "read_answer", "request_payload"]

METHOD = "router.transfer"
"""The RPC method the page registers."""

OUTCOMES: dict[str, tuple[int | None, str, TransferReason | None]] = {
    "busy": (486, "Busy Here", None),
    "no_answer": (408, "Request Timeout", TransferReason.RINGING_TIMEOUT),
    "rejected": (603, "Decline", TransferReason.REJECTED),
    "error": (None, "error", None),
}
"""A failed outcome's default SIP status and words, as a SIP bridge would report them."""


def request_payload(effect: TransferTo) -> str:
    settings = effect.settings
    return json.dumps(
        {
            "target": effect.target,
            "destination": effect.destination,
            "via": effect.via,
            "headers": dict(settings.headers),
            "ringing_timeout": settings.ringing_timeout_s,
            "play_dialtone": settings.play_dialtone,
        }
    )


def read_answer(text: str, at: float) -> TransferSucceeded | TransferFailed:
    """The page's answer as the transfer's result; anything unreadable is an error."""
    try:
        answer: Any = json.loads(text)
        outcome = str(answer["outcome"])
    except (ValueError, KeyError, TypeError):
        return TransferFailed(None, "the trial page gave an answer the router cannot read", at)
    if outcome == "answered":
        return TransferSucceeded(at)
    default = OUTCOMES.get(outcome)
    if default is None:
        return TransferFailed(None, f"the trial page answered {outcome[:40]!r}", at)
    status, words, reason = default
    given = answer.get("sip_status")
    if isinstance(given, int) and 300 <= given <= 699 and outcome != "error":
        status, words = given, f"SIP {given}"
    return TransferFailed(
        status, f"{outcome.replace('_', ' ')} ({words}, answered on the trial page)", at, reason
    )


class PageTransferrer(Transferrer):
    """Asks the browser caller's page how the transfer ends."""

    def __init__(self, room: rtc.Room) -> None:
        self._room = room
        self.request_at: float | None = None
        self._started = time.monotonic()

    def start(self, identity: str, effect: TransferTo) -> asyncio.Task[str]:
        self._started = time.monotonic()
        budget = effect.settings.ringing_timeout_s + TRANSFER_MARGIN_S
        return asyncio.ensure_future(self._ask(identity, request_payload(effect), budget))

    async def _ask(self, identity: str, payload: str, budget: float) -> str:
        self.request_at = time.perf_counter()
        return await self._room.local_participant.perform_rpc(
            destination_identity=identity, method=METHOD, payload=payload, response_timeout=budget
        )

    async def finish(
        self, sent: asyncio.Task[Any], effect: TransferTo, now: float
    ) -> TransferResult:
        budget = effect.settings.ringing_timeout_s + TRANSFER_MARGIN_S
        try:
            answer = await asyncio.wait_for(sent, budget + 1)
        except rtc.RpcError as exc:
            at = now + time.monotonic() - self._started
            if exc.code == rtc.RpcError.ErrorCode.RESPONSE_TIMEOUT:
                return TransferFailed(
                    None,
                    "the trial page did not answer in time",
                    at,
                    TransferReason.RINGING_TIMEOUT,
                )
            return TransferFailed(None, f"the trial page did not answer: {exc.message}", at)
        except TimeoutError:
            return TransferFailed(
                None,
                f"no answer from the trial page within {budget:.0f} s",
                now + budget,
                TransferReason.RINGING_TIMEOUT,
            )
        return read_answer(str(answer), now + time.monotonic() - self._started)
