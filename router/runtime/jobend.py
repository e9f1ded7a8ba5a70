"""A call whose job LiveKit ends while the call goes on is served to its end.

livekit-server ends an agent's job whenever a participant session of the agent's
identity is removed from the room (livekit/livekit v1.13.5 `pkg/rtc/room.go`,
`removeParticipant`: `TerminateJob(..., JobTerminateReason_AGENT_LEFT_ROOM)`, the job
recorded `JS_FAILED` "agent worker left the room"). The rtc SDK's join makes that happen
to a live call at load: its signalling attempt times out on the client's side (5 s per
attempt, `RoomOptions.connect_timeout`; "signal connection failed on v1 path:
Timeout(transport timed out)", "failed to connect ... retrying (1/3)") after the server
had started a session for it; the server removes that session (`SIGNAL_SOURCE_CLOSE`)
and ends the job, while the SDK's retry joins as a new session of the same identity and
the call goes on in it. livekit-agents hears the termination (`worker.py`
`_handle_termination` -> `proc.aclose()`, a `ShutdownRequest` with no reason) and
cancels the entrypoint 15 s later (`ipc/job_proc_lazy_main.py`, `_shutdown_job`): the
soak's run 7 hung up on three callers so ("shutdown", reliability.md finding 21). Newer
livekit-server defers such a termination for a retried agent join, but only for the
close reasons `DuplicateIdentity` and `PeerConnectionDisconnected`
(`pkg/rtc/room_agent.go`, `deferAgentJobTerminationLocked`), not this one.

So a cancellation of a call's entrypoint that is not this process stopping (`STOPPING`:
the drain, `shut_down_all`) leaves the call to its natural end while the room is still
connected: livekit-agents waits for the entrypoint (`utils.aio.cancel_and_wait`), and the
job ends when the call does. Only under the thread executor: a job process is killed
`shutdown_process_timeout` after the termination (`ipc/supervised_proc.py`), so there the
call keeps the old way (its record first, then the hang-up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from router.runtime.served import STOPPING

__all__ = ["serve_whole"]

log = logging.getLogger("router.runtime.call")  # the call's own lines

T = TypeVar("T")


async def serve_whole(serving: Awaitable[T], *, keep: Callable[[], bool], label: str) -> T:
    """Await `serving` (a call's `CallSession.run()`) to its end; returns what it returns.

    A cancellation of the awaiting task (livekit-agents ending the job) goes on to
    `serving` only when this process is stopping (`STOPPING`) or `keep()` is False (the
    call is over, its room gone, or the executor cannot keep it); otherwise it is logged
    once per cancellation, withdrawn, and the call goes on. `label` names the call in the
    log line (its caller's number masked). Raises what `serving` raises, or
    `CancelledError` once the cancellation went on to it.
    """
    task = asyncio.ensure_future(serving)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done() or STOPPING.is_set() or not keep():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            log.warning(
                "call %s: LiveKit ended this call's job while the call goes on (an earlier "
                "session of the router in this room left: the rtc library's join retried); "
                "serving the call to its end",
                label,
            )
