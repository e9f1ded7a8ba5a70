"""A call whose job LiveKit ends while the call goes on is served to its end (jobend.py).

The soak's run 7 hung up on three callers (`end: shutdown`) 15 s after livekit-server
ended their jobs: the rtc SDK's join had retried at load, and the server's removal of
the first, abandoned session of the router's identity terminated the job
(reliability.md, finding 21). livekit-agents then cancels the entrypoint and waits for
it with its own `cancel_and_wait`, which these tests use as it does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from livekit.agents.utils.aio import cancel_and_wait

from router.runtime.jobend import serve_whole
from router.runtime.served import STOPPING


@pytest.fixture(autouse=True)
def _not_stopping() -> Iterator[None]:
    STOPPING.clear()
    yield
    STOPPING.clear()


class _Call:
    """Stands for `CallSession.run()`: ends when told, notes a cancellation it got."""

    def __init__(self) -> None:
        self.hang_up = asyncio.Event()
        self.cancelled = False

    async def run(self) -> str:
        try:
            await self.hang_up.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return "record"


async def _entrypoint_cancelled(call: _Call, keep: bool) -> asyncio.Task[str]:
    """The job's entrypoint, cancelled by livekit-agents while the call is up; returns
    the entrypoint's task once livekit-agents' wait for it is over."""
    entry = asyncio.ensure_future(serve_whole(call.run(), keep=lambda: keep, label="call-x"))
    await asyncio.sleep(0.01)
    ending = asyncio.ensure_future(cancel_and_wait(entry))  # livekit-agents' _shutdown_job
    await asyncio.sleep(0.05)
    assert not ending.done()  # the job waits for the call
    call.hang_up.set()  # the call ends its own way (a transfer, the caller's hang-up)
    await asyncio.wait_for(ending, 1.0)
    return entry


async def test_a_job_livekit_ends_while_its_call_goes_on_serves_the_call_to_its_end(
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = _Call()
    entry = await _entrypoint_cancelled(call, keep=True)
    assert not call.cancelled
    assert entry.result() == "record"
    assert "LiveKit ended this call's job while the call goes on" in caplog.text


async def test_the_routers_own_stop_still_ends_the_call() -> None:
    call = _Call()
    STOPPING.set()  # the worker's drain
    entry = asyncio.ensure_future(serve_whole(call.run(), keep=lambda: True, label="call-x"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(cancel_and_wait(entry), 1.0)
    assert call.cancelled
    assert entry.cancelled()


async def test_a_call_that_cannot_be_kept_is_ended_as_before() -> None:
    call = _Call()
    entry = asyncio.ensure_future(serve_whole(call.run(), keep=lambda: False, label="call-x"))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(cancel_and_wait(entry), 1.0)
    assert call.cancelled  # its CancelledError handler records it, then hangs up
    assert entry.cancelled()
