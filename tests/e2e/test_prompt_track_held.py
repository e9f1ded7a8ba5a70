"""livekit-server tells a publication it holds from one it does not, and a bridge slow to
subscribe is not taken for a lost publication (router/runtime/call/track.py).

Soak runs 9 and 15-18: livekit-server never received one call's prompt track media, the
SIP bridge never subscribed, and the caller was refused `480` after about 40 s. The router
asks livekit-server (`PromptTrack.held`, RoomService.GetParticipant) whether it holds a
track nobody has subscribed to, and says the publication lost only if it does not
(`watch_publication`; the decision alone: tests/runtime/test_watch_publication.py).
livekit-server cannot be made to lose a publication on demand; here, against the real
server: what it answers for a published track and for one taken down, and a call whose
bridge subscribes after every check (finding 28's first remedy published such a track
again, and calls were never answered: soak run 14).

The bridge of the second test is the boundary faked: a real rtc participant of kind SIP
(real livekit-server), ringing (`sip.callStatus`), that, as livekit-sip does, answers once
it has subscribed to the router's track, here only `UNHEARD_CHECKS_S` and more late.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from livekit import api, rtc

from router.runtime.call.track import UNHEARD_CHECKS_S, PromptTrack
from router.runtime.player import Player
from tests.e2e.conftest import Stack, connected_router, eventually, sip_participant_token

AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT


async def _held_becomes(track: PromptTrack, want: bool) -> bool | None:
    for _ in range(50):
        if await track.held() is want:
            break
        await asyncio.sleep(0.1)
    return await track.held()


async def test_the_server_holds_a_published_track_and_not_one_taken_down(e2e: Stack) -> None:
    room = rtc.Room()
    await room.connect(e2e.stack.url, e2e.stack.token("menu-router", "track-held"))
    lkapi = e2e.stack.api()
    player = Player(lambda _: None)
    track = PromptTrack(room, player.track, lkapi)
    try:
        await track.publish()
        assert await _held_becomes(track, True) is True
        info = await lkapi.room.get_participant(
            api.RoomParticipantIdentity(room="track-held", identity="menu-router")
        )
        assert [t.sid for t in info.tracks] == [player.track.sid]
        await room.local_participant.unpublish_track(player.track.sid)
        assert await _held_becomes(track, False) is False
    finally:
        track.close()
        await player.aclose()
        await room.disconnect()
        await lkapi.aclose()
    assert await track.held() is None, "a room left is not asked about"


async def test_a_bridge_that_subscribes_late_gets_the_one_track_and_answers(
    e2e: Stack, tmp_path: Path
) -> None:
    room_name = "late-subscriber"
    records = tmp_path / "calls.jsonl"
    bridge = rtc.Room()
    published: list[str] = []
    subscribed = asyncio.Event()
    late_s = UNHEARD_CHECKS_S[-1] + 2.0

    @bridge.on("track_published")
    def _(publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant) -> None:
        if participant.kind == AGENT_KIND:
            published.append(publication.sid)
            asyncio.get_running_loop().call_later(late_s, publication.set_subscribed, True)

    @bridge.on("track_subscribed")
    def _(*_: object) -> None:
        subscribed.set()

    token = sip_participant_token(e2e.stack, room_name, status="ringing")
    await bridge.connect(e2e.stack.url, token, rtc.RoomOptions(auto_subscribe=False))
    router = await connected_router(e2e.stack, e2e.menus, tmp_path, room_name)
    try:
        await asyncio.wait_for(subscribed.wait(), late_s + 15)
        await bridge.local_participant.set_attributes({"sip.callStatus": "active"})
        await eventually(
            lambda: "dialled +15550100001" in router.log(), within=10, what="the menu started"
        )
    finally:
        await bridge.local_participant.set_attributes({"sip.callStatus": "hangup"})
        await bridge.disconnect()
        await eventually(records.exists, within=10, what="the call record", strict=False)
        await asyncio.to_thread(router.stop)
    log = router.log()
    assert "Traceback" not in log
    assert len(published) == 1, published
    assert "has not received the prompt track's media" not in log
    assert "livekit-server holds it: the bridge is late" in log, "the server was asked"
    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["answered"] is not None, record
