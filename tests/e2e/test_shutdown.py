"""Stopping a router (SIGTERM, as in a rolling deploy) with calls in progress.

It takes no new calls at once, lets the calls in progress go on for its drain time
(`--drain-timeout`), and stops when they have ended. Calls still going when the
drain time is over, or when a second signal asks to stop now, are hung up (the
caller hears the hang-up, not silence) and keep their record (`end: shutdown`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

import pytest

from router.stack.harness import RouterProcess
from router.stack.local import free_port
from router.stack.sipphone import CallScript, SipCall
from tests.e2e.conftest import AGENT, Stack, eventually, holding_router, new_caller_id, record_in


async def _router(e2e: Stack, tmp_path: Path, number: str, drain: float) -> RouterProcess:
    agent = f"{AGENT}-{number[-2:]}"
    # `router start` as deployed, but on free ports: its defaults (metrics 9464, health
    # 8081) may be taken on a machine that runs other things
    args = (
        "--drain-timeout",
        str(drain),
        "--metrics-port",
        "0",
        "--health-port",
        str(free_port()),
    )
    return await holding_router(e2e.stack, tmp_path, agent, number, *args, command="start")


def _signal(router: RouterProcess) -> None:
    assert router.proc is not None
    os.killpg(router.proc.pid, signal.SIGTERM)


async def _exited(router: RouterProcess, within: float) -> int:
    assert router.proc is not None
    await eventually(lambda: router.proc.poll() is not None, within=within, what="router exit")  # type: ignore[union-attr]
    return router.proc.returncode


async def _held_call(
    uri: str, router: RouterProcess, calls: contextlib.AsyncExitStack
) -> tuple[SipCall, str]:
    caller_id = new_caller_id()
    options = CallScript(caller_id=caller_id, timeout_s=120.0)
    call = await calls.enter_async_context(SipCall(uri, options))
    await call.start()
    assert await call.wait_answered(30)
    await eventually(
        lambda: f"{caller_id[-4:]} dialled" in router.log(), within=10, what="router took the call"
    )
    return call, caller_id


async def test_a_stopping_router_takes_no_new_call_and_lets_the_one_in_progress_finish(
    e2e: Stack, tmp_path: Path
) -> None:
    number = "+15550100021"
    router = await _router(e2e, tmp_path, number, drain=60)
    uri = e2e.stack.sip_uri(number)
    try:
        async with contextlib.AsyncExitStack() as calls:
            held, held_id = await _held_call(uri, router, calls)
            _signal(router)
            await eventually(
                lambda: (
                    "no new calls; waiting up to 60 s for the calls in progress (1)" in router.log()
                ),
                within=5,
                what="the router started draining",
            )
            late = await calls.enter_async_context(
                SipCall(
                    uri,
                    CallScript(caller_id=new_caller_id(), timeout_s=30.0),
                )
            )
            await late.start()
            assert not await late.wait_answered(8), "a draining router took a new call"
            await late.hangup()

            await held.send_key("0")  # the call in progress goes on, to its transfer
            assert await held.wait_refer(15) is not None
            assert await held.wait_ended(15), "the bridge hangs up after the transfer"
        assert await _exited(router, within=15) == 0
        assert record_in(tmp_path / "calls.jsonl", held_id)["end"] == "transferred"
        assert "every call has ended" in router.log()
    finally:
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()


@pytest.mark.parametrize(
    ("how", "number", "drain"),
    [
        ("drain time over", "+15550100022", 3),
        ("second signal", "+15550100023", 60),
        ("no drain time", "+15550100024", 0),
    ],
)
async def test_calls_left_when_the_router_stops_are_hung_up_with_a_record(
    e2e: Stack, tmp_path: Path, how: str, number: str, drain: float
) -> None:
    router = await _router(e2e, tmp_path, number, drain=drain)
    try:
        async with contextlib.AsyncExitStack() as calls:
            held, held_id = await _held_call(e2e.stack.sip_uri(number), router, calls)
            _signal(router)
            if how == "second signal":
                await eventually(
                    lambda: "signal again to stop now" in router.log(), within=5, what="draining"
                )
                _signal(router)
            assert await held.wait_ended(15), "the caller was left in silence"
        assert await _exited(router, within=15) == 0
        record = record_in(tmp_path / "calls.jsonl", held_id)
        assert record["end"] == "shutdown", record
        assert "hanging up the calls in progress (1)" in router.log()
    finally:
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()
