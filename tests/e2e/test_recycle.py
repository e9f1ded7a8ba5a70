"""`--recycle-after N`: a worker that has taken N calls drains and exits 0, for its
supervisor to start a fresh process (the rtc library keeps native memory per call that
nothing gives back: docs/runtime.md, "Memory over many calls")."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from router.stack.local import free_port
from router.stack.sipphone import CallScript, SipCall
from tests.e2e.conftest import AGENT, Stack, eventually, holding_router, new_caller_id, record_in


async def test_a_worker_recycles_after_its_calls_once_they_have_ended(
    e2e: Stack, tmp_path: Path
) -> None:
    number = "+15550100041"
    args = ("--recycle-after", "1", "--drain-timeout", "60", "--metrics-port", "0")
    router = await holding_router(
        e2e.stack, tmp_path, f"{AGENT}-41", number, *args, "--health-port", str(free_port()),
        command="start",
    )  # fmt: skip
    assert router.proc is not None
    try:
        async with contextlib.AsyncExitStack() as calls:
            caller_id = new_caller_id()
            call = await calls.enter_async_context(
                SipCall(e2e.stack.sip_uri(number), CallScript(caller_id=caller_id, timeout_s=90))
            )
            await call.start()
            assert await call.wait_answered(30)
            await eventually(
                lambda: "recycling: 1 calls taken" in router.log(), within=10, what="recycling"
            )
            assert router.proc.poll() is None, "the call in progress goes on"
            await call.send_key("0")  # to its transfer: the call ends by itself
            assert await call.wait_refer(15) is not None
            assert await call.wait_ended(15)
        await eventually(lambda: router.proc.poll() is not None, within=20, what="router exit")  # type: ignore[union-attr]
        assert router.proc.returncode == 0
        assert record_in(tmp_path / "calls.jsonl", caller_id)["end"] == "transferred"
        assert "every call has ended" in router.log()
    finally:
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()
