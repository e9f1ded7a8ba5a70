"""A prompt track nobody subscribes to is published again while the call waits for its answer.

Soak run 9's call 773: livekit-server never received the media of the router's track, so
the SIP bridge, which answers only once it subscribes to it, never answered; the router
greeted nobody after 20 s and the caller was refused `480`. The router now publishes its
track again when nobody has subscribed to it `UNHEARD_REPUBLISH_S` into the wait
(`router.runtime.call.track.PromptTrack`).

livekit-server cannot be made to lose a publication on demand, so the bridge is the
boundary faked here: a real rtc participant of kind SIP (`router connect --room`, real
livekit-server), ringing (`sip.callStatus`), that, as livekit-sip does, answers once it
has subscribed to the router's track, and here pretends the first publication never
reached it. The second test is the ordinary bridge, slow to answer: nothing is published
again once the track is heard.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from livekit import rtc

from router.runtime.call.track import UNHEARD_REPUBLISH_S
from router.stack.harness import RouterProcess
from tests.e2e.conftest import Stack, eventually, sip_participant_token

AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


async def _call(e2e: Stack, tmp_path: Path, room_name: str, *, skip_first: bool) -> dict:
    records = tmp_path / "calls.jsonl"
    token = sip_participant_token(e2e.stack, room_name, status="ringing")
    bridge = rtc.Room()
    published: list[str] = []
    subscribed = asyncio.Event()

    @bridge.on("track_published")
    def _(publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant) -> None:
        if participant.kind != AGENT_KIND:
            return
        published.append(publication.sid)
        if skip_first and len(published) == 1:
            return  # as if livekit-server never received it
        publication.set_subscribed(True)

    @bridge.on("track_subscribed")
    def _(*_: object) -> None:
        subscribed.set()

    await bridge.connect(e2e.stack.url, token, rtc.RoomOptions(auto_subscribe=False))
    router = RouterProcess(
        e2e.stack.env,
        menus=e2e.menus,
        log_path=tmp_path / "router.log",
        agent_name="not-dispatched",
        records=str(records),
        command="connect",
        extra_args=["--room", room_name],
    )
    await asyncio.to_thread(router.start)
    try:
        await asyncio.wait_for(subscribed.wait(), UNHEARD_REPUBLISH_S + 10)
        if not skip_first:  # a bridge slow to answer after subscribing
            await asyncio.sleep(UNHEARD_REPUBLISH_S + 1.0)
        await bridge.local_participant.set_attributes({"sip.callStatus": "active"})
        await eventually(
            lambda: "dialled +15550100001" in router.log(), within=10, what="the menu started"
        )
    finally:
        await bridge.local_participant.set_attributes({"sip.callStatus": "hangup"})
        await bridge.disconnect()
        await eventually(records.exists, within=10, what="the call record", strict=False)
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()
    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    return {"record": record, "log": router.log(), "published": published}


async def test_a_track_nobody_subscribed_to_is_published_again_and_the_call_answered(
    e2e: Stack, tmp_path: Path
) -> None:
    seen = await _call(e2e, tmp_path, "unheard-track", skip_first=True)
    assert len(seen["published"]) == 2, seen["published"]
    assert "publishing it again" in seen["log"]
    assert "greeting anyway" not in seen["log"]
    answered = seen["record"]["answered"]
    assert answered is not None and answered < 20.0, seen["record"]


async def test_a_heard_track_is_not_published_again_while_the_bridge_is_slow(
    e2e: Stack, tmp_path: Path
) -> None:
    seen = await _call(e2e, tmp_path, "heard-track", skip_first=False)
    assert len(seen["published"]) == 1, seen["published"]
    assert "publishing it again" not in seen["log"]
    assert seen["record"]["answered"] is not None
