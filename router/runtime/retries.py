"""Asking LiveKit's API again while it fails: a call's hang-up and its room's removal.

Found by the soak (docs/reliability.md): livekit-server answers 500 while its Redis is
down and refuses connections while it restarts, so a hang-up asked once during an outage
left the caller connected to a room the router had left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from livekit import api

__all__ = ["GONE", "HANGUP_RETRY_S", "until_done"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split

HANGUP_RETRY_S = 30.0
"""How long the router keeps asking LiveKit to hang up on a caller while the API fails
(livekit-server answers 500 while its Redis is down): an outage shorter than this never
leaves a caller connected to a room the router has left."""

GONE = "could not find object"
"""livekit-server v1.13.5's message (500) for a room or participant no node holds any more."""

REQUEST_TIMEOUT_S = 5.0
"""How long one request may take before it counts as failed (the server is away)."""


async def until_done(
    label: str,
    what: str,
    ask: Callable[[], Awaitable[object]],
    confirmed: Callable[[], Awaitable[bool]],
    gone: Callable[[], bool] = lambda: False,
) -> None:
    """Ask LiveKit's API for `what` (for the call `label`, in log lines) until it is done,
    for up to `HANGUP_RETRY_S` while the API fails, waiting 0.5 s, then twice as long each
    time up to 4 s. Done: the request answered and `confirmed()`, or answered `not_found`,
    or `gone()` (nothing left to do). Never raises: a request still failing at the end is
    one warning."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANGUP_RETRY_S
    delay_s = 0.5
    while True:
        try:
            await asyncio.wait_for(ask(), REQUEST_TIMEOUT_S)
            if await confirmed():
                return
            problem: Exception = RuntimeError("LiveKit said yes, but nothing changed")
        except api.ServerError as exc:
            # gone already: livekit-server says not_found, or, for a room it is closing
            # or lost in a restart, a 500 "could not find object" that asking again
            # never changes (seen in the soak)
            if exc.code == api.ServerErrorCode.NOT_FOUND or GONE in exc.message:
                return
            problem = exc
        except Exception as exc:  # a timeout, a refused connection: the server is away
            problem = exc
        if gone():
            return
        if loop.time() + delay_s > deadline:
            log.warning(
                "call %s: could not %s within %.0f s: %s", label, what, HANGUP_RETRY_S, problem
            )
            return
        log.info("call %s: could not %s yet: %s", label, what, problem)
        await asyncio.sleep(delay_s)
        delay_s = min(delay_s * 2, 4.0)
