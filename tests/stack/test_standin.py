"""End-to-end: a SIP caller (tests/stack/sipua.py) calls the real livekit-server through
the SIP stand-in, with a Python rtc participant on the room side.

Shows: the INVITE is answered 200 only after a participant publishes audio; RFC 4733
keys arrive as `sip_dtmf_received`; audio flows both ways; TransferSIPParticipant
sends a REFER with the exact Refer-To, and the NOTIFY's final status decides what the
API returns (200: success and BYE; 486: SipCallError 486 and the call goes on).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from livekit import api, rtc

from router.stack.local import LocalStack, Provisioned
from router.stack.sipphone.rtp import TelephoneEvent
from tests.stack.conftest import NUMBER
from tests.stack.sipua import EVENT_PAYLOAD_TYPE, Caller, rtp_pcmu_rms


def _from_number() -> str:
    return f"+1555{random.randrange(10**6, 10**7)}"


async def find_call_room(
    stack: LocalStack, caller: Caller, within: float = 15
) -> tuple[str, api.ParticipantInfo]:
    """The room the stand-in joined for this call, and its SIP participant."""
    deadline = asyncio.get_running_loop().time() + within
    async with stack.api() as lk:
        while True:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest())
            for r in rooms.rooms:
                if not r.name.startswith(f"call-_{caller.from_number}_"):
                    continue
                ps = await lk.room.list_participants(api.ListParticipantsRequest(room=r.name))
                for p in ps.participants:
                    if p.attributes.get("sip.callIDFull") == caller.call_id:
                        return r.name, p
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"no room with the SIP participant within {within} s; SIP log: {caller.log}"
                )
            await asyncio.sleep(0.2)


@dataclass
class Peer:
    """A Python participant in the call's room: publishes a tone, records what arrives."""

    room: rtc.Room
    source: rtc.AudioSource
    digits: list[str] = field(default_factory=list)
    digit_event: asyncio.Event = field(default_factory=asyncio.Event)
    sip_audio_peak: float = 0.0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def peer_in(
    stack: LocalStack, room_name: str, *, publish: bool = True
) -> AsyncIterator[Peer]:
    room = rtc.Room()
    source = rtc.AudioSource(48000, 1, queue_size_ms=200)
    peer = Peer(room, source)

    def on_dtmf(ev: rtc.SipDTMF) -> None:
        peer.digits.append(ev.digit)
        peer.digit_event.set()

    async def read_audio(track: rtc.Track) -> None:
        stream = rtc.AudioStream(track, sample_rate=48000, num_channels=1)
        try:
            async for ev in stream:
                data = ev.frame.data
                if len(data):
                    rms = math.sqrt(sum(int(s) * int(s) for s in data) / len(data))
                    peer.sip_audio_peak = max(peer.sip_audio_peak, rms)
        finally:
            await stream.aclose()

    def on_track(
        track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant
    ) -> None:
        if (
            track.kind == rtc.TrackKind.KIND_AUDIO
            and p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
        ):
            peer.tasks.append(asyncio.create_task(read_audio(track)))

    async def play_tone() -> None:
        n = 480  # 10 ms
        k = 0
        while True:
            samples = [int(6000 * math.sin(2 * math.pi * 440 * (k + i) / 48000)) for i in range(n)]
            k += n
            frame = rtc.AudioFrame.create(48000, 1, n)
            frame.data[:] = array.array("h", samples)
            await source.capture_frame(frame)

    room.on("sip_dtmf_received", on_dtmf)
    room.on("track_subscribed", on_track)
    await room.connect(stack.url, stack.token(f"peer-{random.getrandbits(24):06x}", room_name))
    try:
        if publish:
            track = rtc.LocalAudioTrack.create_audio_track("tone", source)
            await room.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            )
            peer.tasks.append(asyncio.create_task(play_tone()))
        yield peer
    finally:
        for t in peer.tasks:
            t.cancel()
        try:
            for t in peer.tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
        finally:
            await room.disconnect()
        await source.aclose()


@contextlib.asynccontextmanager
async def answered_call(
    stack: LocalStack,
) -> AsyncIterator[tuple[Caller, Peer, str, api.ParticipantInfo]]:
    """A call to NUMBER, answered after a peer published audio."""
    async with Caller(stack.sip_host, stack.sip_port, _from_number(), NUMBER) as caller:
        caller.invite()
        room_name, sip_p = await find_call_room(stack, caller)
        async with peer_in(stack, room_name) as peer:
            res = await caller.invite_final(within=20)
            assert res.status == 200, caller.log
            yield caller, peer, room_name, sip_p


async def wait_dtmf_ready(caller: Caller, peer: Peer, within: float = 15) -> None:
    """Press 'D' (each press a new timestamp) until one arrives: the data path is up."""
    deadline = asyncio.get_running_loop().time() + within
    ts = random.getrandbits(31)
    while not peer.digits:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("no DTMF reached the room")
        ts += 8000
        await caller.send_dtmf("D", ts)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.digit_event.wait(), 0.5)
    await asyncio.sleep(0.5)
    peer.digits.clear()
    peer.digit_event.clear()


async def test_invite_answered_only_after_audio_is_published(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with Caller(stack.sip_host, stack.sip_port, _from_number(), NUMBER) as caller:
        caller.invite()
        room_name, sip_p = await find_call_room(stack, caller)
        assert sip_p.kind == api.ParticipantInfo.SIP
        attrs = dict(sip_p.attributes)
        assert attrs["sip.callStatus"] == "ringing"
        assert attrs["sip.phoneNumber"] == caller.from_number
        assert attrs["sip.trunkPhoneNumber"] == NUMBER
        assert attrs["sip.trunkID"] == provisioned.trunk_id
        assert attrs["sip.ruleID"] == provisioned.dispatch_rule_id
        assert attrs["sip.callID"].startswith("SCL_")
        assert sip_p.identity == f"sip_{caller.from_number}"

        # A participant that publishes nothing does not get the call answered.
        async with peer_in(stack, room_name, publish=False):
            await asyncio.sleep(2.5)
            statuses = [m.status for m in caller.responses()]
            assert [s for s in statuses if s >= 200] == [], caller.log
            assert 180 in statuses, caller.log

        async with peer_in(stack, room_name):
            res = await caller.invite_final(within=20)
            assert res.status == 200, caller.log
            assert b"PCMU/8000" in res.body and b"telephone-event/8000" in res.body
            async with stack.api() as lk:
                ps = await lk.room.list_participants(api.ListParticipantsRequest(room=room_name))
                for _ in range(20):
                    sip = [p for p in ps.participants if p.identity == sip_p.identity][0]
                    if sip.attributes.get("sip.callStatus") == "active":
                        break
                    await asyncio.sleep(0.2)
                    ps = await lk.room.list_participants(
                        api.ListParticipantsRequest(room=room_name)
                    )
                assert sip.attributes.get("sip.callStatus") == "active"
                # dispatch rule's agent dispatch reached the room
                dispatches = await lk.agent_dispatch.list_dispatch(room_name)
                assert [d.agent_name for d in dispatches] == [provisioned.agent_name]


async def test_unknown_number_is_rejected(stack: LocalStack, provisioned: Provisioned) -> None:
    async with Caller(stack.sip_host, stack.sip_port, _from_number(), "+15559999999") as caller:
        caller.invite()
        res = await caller.invite_final(within=10)
        assert res.status == 404, caller.log


async def test_dtmf_reaches_the_room_once_per_press(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, _, _):
        await wait_dtmf_ready(caller, peer)
        ts = random.getrandbits(31)
        await caller.send_dtmf("5", ts)
        await caller.send_dtmf("5", ts)  # same key, same timestamp: a repeat, dropped
        await caller.send_dtmf("5", ts + 1600)  # a new press of the same key
        await caller.send_dtmf("#", ts + 3200)
        await caller.send_dtmf("5", ts)  # a late retransmission of the first press: dropped
        await caller.send_dtmf("*", ts + 4800)
        for _ in range(50):
            if len(peer.digits) >= 4:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        assert peer.digits == ["5", "5", "#", "*"]


async def test_audio_flows_both_ways(stack: LocalStack, provisioned: Provisioned) -> None:
    async with answered_call(stack) as (caller, peer, _, _):
        caller.rtp_in.clear()
        await caller.send_tone(2.0)
        rms_out = rtp_pcmu_rms(caller.rtp_in[-50:])
        assert rms_out > 1000, f"room tone did not reach the caller (rms {rms_out:.0f})"
        assert peer.sip_audio_peak > 1000, (
            f"caller tone did not reach the room (rms {peer.sip_audio_peak:.0f})"
        )


async def _start_transfer(
    stack: LocalStack, room_name: str, identity: str, to: str, **kw: Any
) -> asyncio.Task[object]:
    async def run() -> object:
        async with stack.api() as lk:
            return await lk.sip.transfer_sip_participant(
                api.TransferSIPParticipantRequest(
                    room_name=room_name, participant_identity=identity, transfer_to=to, **kw
                )
            )

    return asyncio.create_task(run())


async def test_transfer_refer_then_notify_200_succeeds(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        target = "sip:+15550199@127.0.0.1:5999;transport=udp"
        task = await _start_transfer(
            stack, room_name, sip_p.identity, target, headers={"X-Menu-Choice": "sales"}
        )
        refer = await caller.wait_request("REFER", within=10)
        # livekit-server itself rewrites a sip: transfer_to as a name-addr (<sip:...>)
        assert refer.header("Refer-To") == f"<{target}>"
        assert refer.header("X-Menu-Choice") == "sales"
        assert refer.header("Call-ID") == caller.call_id
        caller.respond(refer, 202)
        r = await caller.notify(refer, "SIP/2.0 100 Trying", final=False)
        assert r.status == 200
        assert not task.done()
        r = await caller.notify(refer, "SIP/2.0 200 OK", final=True)
        assert r.status == 200
        await asyncio.wait_for(task, 10)  # no error raised: success
        bye = await caller.wait_request("BYE", within=5)
        assert bye.header("Call-ID") == caller.call_id
        # the SIP participant leaves the room
        async with stack.api() as lk:
            for _ in range(50):
                ps = await lk.room.list_participants(api.ListParticipantsRequest(room=room_name))
                if all(p.identity != sip_p.identity for p in ps.participants):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("SIP participant still in the room after the transfer")


async def test_transfer_notify_486_raises_sip_call_error(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        target = "tel:+15550188"
        task = await _start_transfer(stack, room_name, sip_p.identity, target)
        refer = await caller.wait_request("REFER", within=10)
        assert refer.header("Refer-To") == target  # tel: URIs pass unchanged
        caller.respond(refer, 202)
        await caller.notify(refer, "SIP/2.0 100 Trying", final=False)
        await caller.notify(refer, "SIP/2.0 486 Busy Here", final=True)
        with pytest.raises(api.SipCallError) as ei:
            await asyncio.wait_for(task, 10)
        assert ei.value.sip_status_code == 486
        assert ei.value.sip_status == "Busy Here"
        # the call goes on: no BYE, still active, DTMF still flows
        await asyncio.sleep(1.5)
        assert caller.pending("BYE") == []
        async with stack.api() as lk:
            ps = await lk.room.list_participants(api.ListParticipantsRequest(room=room_name))
            sip = [p for p in ps.participants if p.identity == sip_p.identity]
            assert sip and sip[0].attributes.get("sip.callStatus") == "active"
        await wait_dtmf_ready(caller, peer)


async def test_transfer_refer_rejected_raises_sip_call_error(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        task = await _start_transfer(stack, room_name, sip_p.identity, "sip:nobody@127.0.0.1")
        refer = await caller.wait_request("REFER", within=10)
        caller.respond(refer, 603)
        with pytest.raises(api.SipCallError) as ei:
            await asyncio.wait_for(task, 10)
        assert ei.value.sip_status_code == 603
        assert caller.pending("BYE") == []


async def test_transfer_without_notify_times_out(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        from google.protobuf.duration_pb2 import Duration

        task = await _start_transfer(
            stack,
            room_name,
            sip_p.identity,
            "sip:slow@127.0.0.1",
            ringing_timeout=Duration(seconds=5),
            play_dialtone=True,
        )
        refer = await caller.wait_request("REFER", within=10)
        caller.rtp_in.clear()
        caller.respond(refer, 202)
        # play_dialtone: room audio is muted and the caller hears the ring tone
        # (1 s of 425 Hz, then 4 s of silence) while the transfer is pending
        await asyncio.sleep(0.7)
        assert rtp_pcmu_rms(caller.rtp_in) > 1000
        await asyncio.sleep(0.6)
        caller.rtp_in.clear()
        await asyncio.sleep(0.5)
        assert rtp_pcmu_rms(caller.rtp_in) < 100
        # At the ringing timeout, as upstream (livekit-sip pkg/sip/inbound.go
        # TransferCall, pkg/sip/service.go; livekit-server pkg/service/sip.go): no SIP
        # status, only one of three deadlines racing: the server's own, the bridge
        # handler's context, or the transfer's "refer canceled".
        with pytest.raises(api.TwirpError) as ei:
            await asyncio.wait_for(task, 15)
        assert not isinstance(ei.value, api.SipCallError), ei.value
        assert "sip_status_code" not in (ei.value.metadata or {})
        # (livekit-server v1.13.5 prefixes the text with "twirp error unknown: ")
        answer = (ei.value.code, ei.value.message.rsplit(": ", 1)[-1])
        assert answer in {
            ("deadline_exceeded", "request timed out"),
            ("canceled", "context deadline exceeded"),
            ("canceled", "refer canceled"),
        }, ei.value
        assert caller.pending("BYE") == []


async def test_dtmf_from_the_room_reaches_the_caller(
    stack: LocalStack, provisioned: Provisioned
) -> None:
    async with answered_call(stack) as (caller, peer, _, _):
        caller.rtp_in.clear()
        await peer.room.local_participant.publish_dtmf(code=11, digit="#")
        for _ in range(40):
            events = [
                (p.timestamp, TelephoneEvent.decode(p.payload))
                for p in caller.rtp_in
                if p.payload_type == EVENT_PAYLOAD_TYPE
            ]
            if any(ev.end for _, ev in events):
                break
            await asyncio.sleep(0.05)
        assert events, "no telephone-event packet reached the caller"
        assert {ev.event for _, ev in events} == {11}
        assert len({ts for ts, _ in events}) == 1  # one press: one RTP timestamp


async def test_caller_bye_leaves_the_room(stack: LocalStack, provisioned: Provisioned) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        left = asyncio.Event()
        peer.room.on(
            "participant_disconnected",
            lambda p: left.set() if p.identity == sip_p.identity else None,
        )
        caller.bye()
        res = await caller.wait_response("BYE", 5)
        assert res.status == 200
        await asyncio.wait_for(left.wait(), 5)


async def test_room_deleted_sends_bye(stack: LocalStack, provisioned: Provisioned) -> None:
    async with answered_call(stack) as (caller, peer, room_name, sip_p):
        async with stack.api() as lk:
            await lk.room.delete_room(api.DeleteRoomRequest(room=room_name))
        bye = await caller.wait_request("BYE", within=10)
        assert bye.header("Call-ID") == caller.call_id
