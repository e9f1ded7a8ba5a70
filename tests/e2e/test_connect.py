"""`router connect --room NAME` joins one given room and routes the SIP participant in it.

The participant here is a real rtc participant whose token makes it kind SIP (no SIP
call behind it), so the transfer reaches the real server and fails there with no
SIP service for its call id; the router must apply the failure policy and say so.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from livekit import rtc

from tests.e2e.conftest import Stack, connected_router, eventually, sip_participant_token


async def test_connect_joins_the_room_and_routes_its_caller(e2e: Stack, tmp_path: Path) -> None:
    room_name = "connect-test"
    records = tmp_path / "calls.jsonl"
    token = sip_participant_token(e2e.stack, room_name, status="active")
    caller = rtc.Room()
    heard = asyncio.Event()

    @caller.on("track_subscribed")
    def _(track: rtc.Track, *_: object) -> None:
        heard.set()

    await caller.connect(e2e.stack.url, token)
    router = await connected_router(e2e.stack, e2e.menus, tmp_path, room_name)
    try:
        await asyncio.wait_for(heard.wait(), 15)  # the router published its prompt track
        await asyncio.sleep(1.0)
        await caller.local_participant.publish_dtmf(code=1, digit="1")
        await eventually(
            lambda: "transfer to tel:+15105550101 failed" in router.log(),
            within=20,
            what="the router tries the transfer and reports its failure",
        )
    finally:
        # as livekit-sip when its caller hangs up: `hangup`, then it leaves the room
        await caller.local_participant.set_attributes({"sip.callStatus": "hangup"})
        await caller.disconnect()
        await eventually(records.exists, within=10, what="the call record", strict=False)
        await asyncio.to_thread(router.stop)
    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["room"] == room_name
    assert record["caller"] == "********9999"
    assert record["transfer"]["result"] == "failed"
    assert record["end"] == "caller_hangup"
    assert "Traceback" not in router.log()
