"""The caller through the project's local LiveKit stack (livekit-server + SIP stand-in).

The other caller tests use peers that are not LiveKit; this one shows the caller
does what the stack needs: its keys (a repeated digit included) arrive in the
room as ``sip_dtmf_received``, room audio reaches it, and TransferSIPParticipant's
REFER is answered with NOTIFYs whose final status decides what the API returns.

The stack is built by router.stack.install on first use (minutes when cold).
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from livekit import api, rtc

from router.stack.local import LocalStack
from router.stack.sipphone import CallOutcome, CallReport, CallScript, KeyPress, SipCall

NUMBER = "+15550177"
TRANSFER_TO = "sip:+15105550111@127.0.0.1:5099"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    s = LocalStack(quiet=True)
    s.start()
    try:
        s.provision("caller-test-agent", [NUMBER])
        yield s
    finally:
        s.stop()
        s.remove_workdir()


@dataclass
class RoomPeer:
    """A participant that plays a tone (so the call is answered) and collects keys."""

    digits: list[str] = field(default_factory=list)
    three_keys: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _find_room(stack: LocalStack, call_id: str, within_s: float = 15) -> tuple[str, str]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    async with stack.api() as lk:
        while loop.time() < deadline:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest())
            for r in rooms.rooms:
                ps = await lk.room.list_participants(api.ListParticipantsRequest(room=r.name))
                for p in ps.participants:
                    if p.attributes.get("sip.callIDFull") == call_id:
                        return r.name, p.identity
            await asyncio.sleep(0.2)
    raise AssertionError(f"no room holds the SIP participant of {call_id}")


@contextlib.asynccontextmanager
async def _peer(stack: LocalStack, room_name: str) -> AsyncIterator[RoomPeer]:
    room = rtc.Room()
    source = rtc.AudioSource(48000, 1, queue_size_ms=200)
    peer = RoomPeer()

    def on_dtmf(ev: rtc.SipDTMF) -> None:
        peer.digits.append(ev.digit)
        if len(peer.digits) >= 3:
            peer.three_keys.set()

    room.on("sip_dtmf_received", on_dtmf)

    async def tone() -> None:
        n, k = 480, 0
        while True:
            frame = rtc.AudioFrame.create(48000, 1, n)
            frame.data[:] = array.array(
                "h", [int(6000 * math.sin(2 * math.pi * 440 * (k + i) / 48000)) for i in range(n)]
            )
            k += n
            await source.capture_frame(frame)

    await room.connect(stack.url, stack.token(f"peer-{random.getrandbits(24):06x}", room_name))
    try:
        track = rtc.LocalAudioTrack.create_audio_track("tone", source)
        await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        peer.tasks.append(asyncio.create_task(tone()))
        yield peer
    finally:
        for t in peer.tasks:
            t.cancel()
        await asyncio.gather(*peer.tasks, return_exceptions=True)
        await room.disconnect()
        await source.aclose()


async def _call_and_transfer(
    stack: LocalStack, notify_status: int
) -> tuple[CallReport, RoomPeer, BaseException | None]:
    options = CallScript(
        caller_id=f"+1555{random.randrange(10**6, 10**7)}",
        keys=(KeyPress("1", 3.0), KeyPress("1", 0.5), KeyPress("#", 0.5)),
        notify_status=notify_status,
        notify_delay_s=0.3,
        hangup_after_notify_s=1.5,  # a failed transfer leaves the call up: then we hang up
        timeout_s=60,
    )
    call = SipCall(stack.sip_uri(NUMBER), options)
    task = asyncio.create_task(call.run_script())
    error: BaseException | None = None
    try:
        room_name, identity = await _find_room(stack, call.call_id)
        async with _peer(stack, room_name) as peer:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(25):
                    await peer.three_keys.wait()
            async with stack.api() as lk:
                try:
                    await lk.sip.transfer_sip_participant(
                        api.TransferSIPParticipantRequest(
                            room_name=room_name,
                            participant_identity=identity,
                            transfer_to=TRANSFER_TO,
                            headers={"X-Menu": "sales"},
                        )
                    )
                except api.TwirpError as exc:
                    error = exc
            report = await asyncio.wait_for(task, 20)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    return report, peer, error


async def test_keys_audio_and_successful_transfer(stack: LocalStack) -> None:
    report, peer, error = await _call_and_transfer(stack, 200)
    assert error is None
    assert peer.digits == ["1", "1", "#"], report.summary()
    assert report.outcome is CallOutcome.REMOTE_BYE, report.summary()
    assert report.errors == (), report.summary()
    assert report.answered_at is not None and report.audio.first_audio_at is not None
    assert report.audio.voiced_s > 2 and report.audio.peak_rms > 2000
    ref = report.refer
    assert ref is not None and ref.refer_to_uri == TRANSFER_TO
    assert ref.x_headers.get("X-Menu") == "sales"
    assert [(n.status, n.response_status) for n in ref.notifies] == [(100, 200), (200, 200)]
    assert report.remote_bye_at is not None and report.remote_bye_at > ref.notifies[-1].sent_at


async def test_failed_transfer_keeps_the_call_up(stack: LocalStack) -> None:
    report, peer, error = await _call_and_transfer(stack, 486)
    assert isinstance(error, api.SipCallError) and error.sip_status_code == 486, error
    assert peer.digits == ["1", "1", "#"]
    assert report.outcome is CallOutcome.LOCAL_BYE, report.summary()
    assert report.final_notify_status == 486 and report.bye_status == 200
    assert report.remote_bye_at is None and report.errors == (), report.summary()
