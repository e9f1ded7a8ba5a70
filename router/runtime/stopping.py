"""The worker's end: the drain on a signal, and the recycling after N calls.

On SIGTERM or SIGINT the worker takes no new calls and lets those in progress end by
themselves for up to `--drain-timeout` seconds (or until a second signal); calls still
going are then hung up, each with its record (`router.runtime.served.shut_down_all`).
`--recycle-after N` starts the same drain once the process has taken N calls, for the
supervisor to start a fresh process (docs/runtime.md, "Memory over many calls").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading

from router.runtime.served import STOPPING, shut_down_all

__all__ = ["CALLS_TAKEN", "drain", "recycle_after"]

log = logging.getLogger("router.worker")  # the worker's lines, as before the split


class _Counter:
    """A count shared by the job threads of one process."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


CALLS_TAKEN = _Counter()
"""Jobs this process has taken (under the thread executor, every call of the worker)."""


async def recycle_after(calls: int, stop: asyncio.Event) -> None:
    """Stop as on SIGTERM (drain, exit 0) once this process has taken `calls` calls: the
    rtc library keeps about 150 KiB of native memory per call that nothing gives back
    (docs/runtime.md, "Memory over many calls"), a fresh process starts without it."""
    # the count grows in job threads, each on a loop of its own: a look every second
    while CALLS_TAKEN.count < calls:  # noqa: ASYNC110
        await asyncio.sleep(1.0)
    log.info(
        "recycling: %d calls taken (--recycle-after); draining, then exiting for the "
        "supervisor to start a fresh process",
        CALLS_TAKEN.count,
    )
    stop.set()


async def drain(server: object, seconds: float, stop: asyncio.Event) -> None:
    """Take no new calls and let those in progress end by themselves, for up to `seconds`
    or until a second signal; calls still going are then hung up (with a record)."""
    from livekit.agents import AgentServer

    assert isinstance(server, AgentServer)
    STOPPING.set()  # a job ended from here on is this stop, not a call to keep (jobend.py)
    active = len(server.active_jobs)
    if active and seconds > 0:
        log.info(
            "stopping: no new calls; waiting up to %.0f s for the calls in progress (%d) "
            "(signal again to stop now)",
            seconds,
            active,
        )
        stop.clear()
        drained = asyncio.ensure_future(server.drain(timeout=math.ceil(seconds)))
        again = asyncio.ensure_future(stop.wait())
        await asyncio.wait({drained, again}, return_when=asyncio.FIRST_COMPLETED)
        for task in (drained, again):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await task
        if not server.active_jobs:
            log.info("stopping: every call has ended")
            return
    if server.active_jobs:
        log.warning("stopping now: hanging up the calls in progress (%d)", len(server.active_jobs))
        shut_down_all()
    else:
        log.info("stopping")
