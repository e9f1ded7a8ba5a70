"""A router process takes exactly `--max-calls` calls through LiveKit's real dispatch.

livekit-server stops sending jobs to a worker once its reported load reaches the
server's `agents.target_load` (0.7 unless configured), not at 1.0; the router scales
its load so that this happens at `--max-calls`, no sooner and no later. The caller
over the cap is not answered (LiveKit does not queue a room job), and capacity comes
back when a call ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from router.stack.sipphone import CallScript, SipCall
from tests.e2e.conftest import AGENT, Stack, eventually, holding_router, new_caller_id

CAP = 5
CAP_AGENT = f"{AGENT}-cap"
CAP_NUMBER = "+15550100009"
LOAD_REPORT_S = 1.5
"""Between calls: livekit-agents re-reads its load every 0.5 s and on each job offer."""


def _options() -> CallScript:
    return CallScript(caller_id=new_caller_id(), timeout_s=180.0)


async def test_a_process_takes_exactly_max_calls_and_frees_a_place_when_one_ends(
    e2e: Stack, tmp_path: Path
) -> None:
    router = await holding_router(
        e2e.stack, tmp_path, CAP_AGENT, CAP_NUMBER, "--max-calls", str(CAP)
    )
    uri = e2e.stack.sip_uri(CAP_NUMBER)
    try:
        async with contextlib.AsyncExitStack() as calls:
            held: list[SipCall] = []
            for i in range(CAP):
                call = await calls.enter_async_context(SipCall(uri, _options()))
                await call.start()
                assert await call.wait_answered(30), (
                    f"call {i + 1} of {CAP} was not answered by a process with --max-calls {CAP}"
                )
                held.append(call)
                await asyncio.sleep(LOAD_REPORT_S)

            over = await calls.enter_async_context(SipCall(uri, _options()))
            await over.start()
            assert not await over.wait_answered(10), f"call {CAP + 1} was answered over the cap"
            await over.hangup()

            await held[0].hangup()
            # livekit-agents sends its status every 2.5 s: the place is offered again once
            # the worker says so, a few seconds after the hang-up
            await eventually(
                lambda: "below capacity" in router.log(),
                within=15,
                what="the worker reported a free place after a hang-up",
            )
            again = await calls.enter_async_context(SipCall(uri, _options()))
            await again.start()
            assert await again.wait_answered(30), "a place freed by a hang-up was not taken"
    finally:
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()
