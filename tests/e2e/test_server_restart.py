"""livekit-server goes away and comes back: the router outlives it.

A crash of the server (SIGKILL: no goodbye to anyone) while a call is in a menu:
the call ends with a record that says so (`connection_lost`, not a hang-up), the
router process stays up and keeps trying, and once the server is back the router
registers again by itself and serves the next call to its transfer. Its own stack,
so that the session's stack stays up for the other tests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from router.stack.harness import RouterProcess
from router.stack.local import LocalStack
from router.stack.sipphone import CallScript, SipCall, place_call
from tests.e2e.conftest import eventually, holding_router, new_caller_id, record_in

AGENT = "menu-router-restart"
NUMBER = "+15550100011"


async def test_the_router_outlives_a_livekit_server_crash(tmp_path: Path) -> None:
    stack = LocalStack(workdir=tmp_path / "stack", quiet=True)
    await asyncio.to_thread(stack.start)
    router: RouterProcess | None = None
    try:
        router = await holding_router(stack, tmp_path, AGENT, NUMBER)
        records = tmp_path / "calls.jsonl"
        uri = stack.sip_uri(NUMBER)

        held_id = new_caller_id()
        options = CallScript(caller_id=held_id, timeout_s=120.0)
        async with SipCall(uri, options) as held:
            await held.start()
            assert await held.wait_answered(30), "the call before the crash was not answered"
            await eventually(
                lambda: f"{held_id[-4:]} dialled" in router.log(),
                within=10,
                what="the router took the call",
            )
            await asyncio.to_thread(stack.stop_part, "livekit", crash=True)

            # the SDK tries to get the room back for ~20 s before it gives up
            record = await asyncio.to_thread(record_in, records, held_id, 60)
            assert record["end"] == "connection_lost", record
            assert "lost the connection to LiveKit" in router.log()
            assert router.proc is not None and router.proc.poll() is None, "the router exited"

        await asyncio.to_thread(stack.start_part, "livekit")
        registered = router.log().count("registered worker")
        await eventually(
            lambda: router.log().count("registered worker") > registered,
            within=60,
            what="the router registered again after the server came back",
        )
        report = await place_call(uri, keys="0", caller_id=new_caller_id(), timeout_s=40)
        assert report.answered, f"not answered after the restart: {report.outcome}"
        assert report.refer_to == "tel:+15105550100"
    finally:
        if router is not None:
            await asyncio.to_thread(router.stop)
        await asyncio.to_thread(stack.stop)
    assert "Traceback" not in router.log(), router.tail(60)
