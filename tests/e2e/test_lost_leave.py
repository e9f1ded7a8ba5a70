"""A caller whose bridge said `hangup` but whose leave never came has hung up all the same
(router/runtime/call/presence.py `HANGUP_DEPARTURE_GRACE_S`).

Soak runs 13 and 16: the SIP bridge set `sip.callStatus: hangup` on the caller's BYE and
left, but its leave was lost on a broken signal pipe (livekit-server: "error writing to
websocket"), and livekit-server kept the participant until the router removed it; the
router, not told, played its menu to nobody until the no-input limit hung up, and the
call was recorded `hangup` instead of `caller_hangup`.

The bridge is the boundary faked: a real rtc participant of kind SIP (real
livekit-server) that says `hangup` as livekit-sip does and then stays, as the lost leave
left it on the server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from livekit import rtc

from router.runtime.call.presence import HANGUP_DEPARTURE_GRACE_S
from tests.e2e.conftest import (
    Stack,
    connected_router,
    eventually,
    sip_participant_token,
    written_records,
)


async def test_a_caller_who_said_hangup_and_stayed_is_recorded_as_hanging_up(
    e2e: Stack, tmp_path: Path
) -> None:
    room_name = "lost-leave"
    records = tmp_path / "calls.jsonl"
    bridge = rtc.Room()
    heard = asyncio.Event()

    @bridge.on("track_subscribed")
    def _(*_: object) -> None:
        heard.set()

    await bridge.connect(
        e2e.stack.url, sip_participant_token(e2e.stack, room_name, status="active")
    )
    router = await connected_router(e2e.stack, e2e.menus, tmp_path, room_name)
    try:
        await asyncio.wait_for(heard.wait(), 15)
        await eventually(
            lambda: "dialled +15550100001" in router.log(), within=10, what="the menu started"
        )
        said_at = asyncio.get_running_loop().time()
        await bridge.local_participant.set_attributes({"sip.callStatus": "hangup"})
        await eventually(
            lambda: bool(written_records(records)),
            within=HANGUP_DEPARTURE_GRACE_S + 5,
            what="the call record",
        )
        recorded_after_s = asyncio.get_running_loop().time() - said_at
    finally:
        await bridge.disconnect()
        await asyncio.to_thread(router.stop)
    log = router.log()
    assert "Traceback" not in log
    assert "taking the hang-up" in log
    (record,) = written_records(records)
    assert record["end"] == "caller_hangup", record
    assert record["limits"] == [], "the menu's no-input limit was not what ended it"
    assert HANGUP_DEPARTURE_GRACE_S <= recorded_after_s < HANGUP_DEPARTURE_GRACE_S + 5
