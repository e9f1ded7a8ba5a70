"""Every dispatched call has exactly one record, through a livekit-server restart.

The soak (issue 18, docs/reliability.md) found two calls with two records each, both
while a part of the stack restarted: livekit-server creates a room anew when its
participants come back, and dispatches the router to it again (livekit/livekit
`pkg/rtc/room.go`: `NewRoom` launches the room's agents), and a hang-up asked while the
rtc SDK rejoined the room was taken as done (the SDK forgets every participant while it
rejoins), so the caller stayed and was served by the second dispatch. Real rtc objects,
no server; the only fake is the Twirp API (twirp_fake.py).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from livekit import api, rtc

from router.core.events import EndReason
from router.runtime import retries
from router.runtime.call import CallSession, SessionOptions, hangup, presence, shut_down_all
from router.runtime.records import CallRecord, RecordSink
from tests.runtime.test_call_offline import (
    Call,
    fake,
    menu_file,
    rendered_cache,
    ringing_caller,
    sip_caller,
)
from tests.runtime.test_hangup_in_transfer import new_call
from tests.runtime.test_transfer_answers import named_room
from tests.runtime.twirp_fake import SERVER_WITHOUT_REDIS, FakeLiveKitAPI, sip_failure

__all__ = ["fake"]  # the Twirp fake fixture, shared with the call tests


async def dispatched_session(
    fake: FakeLiveKitAPI, caller: rtc.RemoteParticipant, sink: RecordSink | None = None
) -> Call:
    """A dispatched job's session in the call's room (its own `rtc.Room`, as each job has),
    the caller in it, running in the background."""
    room = named_room()
    room._remote_participants[caller.identity] = caller
    options = SessionOptions(dispatched=True)
    return await new_call(fake, room=room, caller=caller, sink=sink, options=options)


async def dispatched_twice(fake: FakeLiveKitAPI) -> tuple[Call, Call]:
    """A call served, then LiveKit's second dispatch of the same room and caller."""
    caller = sip_caller()
    first = await dispatched_session(fake, caller)
    await first.until(lambda: first.session.player.playing)
    return first, await dispatched_session(fake, caller)


async def dispatch_finding_nobody(fake: FakeLiveKitAPI) -> CallRecord | None:
    """LiveKit's dispatch of the call's room created anew, with no caller in it yet (its
    own `rtc.Room`, as each job has): what its session returns within 5 s."""
    mf = menu_file()
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    options = SessionOptions(dispatched=True)
    again = CallSession(named_room(), mf, await rendered_cache(mf), lk, options=options)
    try:
        return await asyncio.wait_for(again.run(), 5)
    finally:
        await lk.aclose()


def leave(call: Call) -> None:
    """The caller hangs up: every connection to the room sees it leave."""
    call.session.room._remote_participants.pop(call.caller.identity, None)
    call.hang_up()


async def test_a_second_dispatch_to_a_call_being_served_leaves_it_to_the_first(
    fake: FakeLiveKitAPI,
) -> None:
    first, again = await dispatched_twice(fake)
    await asyncio.sleep(0.3)
    assert again.session.recorder is None and not again.session.player.playing, "not served"
    leave(first)
    leave(again)
    record = await first.record()
    assert record.end == EndReason.CALLER_HANGUP
    assert await asyncio.wait_for(again.task, 5) is None, "one call, one record"
    await again.lk.aclose()
    assert len(fake.deletions()) == 1, "the room is the serving session's to delete"


async def test_a_second_dispatch_serves_the_caller_when_the_first_lost_livekit(
    fake: FakeLiveKitAPI,
) -> None:
    # never a caller left with nobody serving: the first session's connection is gone
    first, again = await dispatched_twice(fake)
    first.session.room.emit("disconnected", rtc.DisconnectReason.UNKNOWN_REASON)
    assert (await first.record()).end == EndReason.CONNECTION_LOST
    await again.until(lambda: again.session.player.playing)
    leave(again)
    assert (await again.record()).end == EndReason.CALLER_HANGUP


async def test_a_hang_up_asked_while_the_sdk_rejoins_waits_for_the_caller_to_leave(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hangup, "REMOVAL_SEEN_S", 0.3)
    # the error policy hangs up: a 503 from the far end, a goodbye, the caller removed
    fake.answer("livekit.SIP/TransferSIPParticipant", sip_failure(503, "Service Unavailable"))
    caller = sip_caller()
    call = await dispatched_session(fake, caller)
    room = call.session.room
    room.isconnected = lambda: True  # type: ignore[method-assign]  # as a joined room

    async def disconnect() -> None:  # no server to leave
        room.isconnected = lambda: False  # type: ignore[method-assign]

    room.disconnect = disconnect  # type: ignore[method-assign, assignment]
    await call.until(lambda: call.session.player.playing)
    # livekit-server restarts: the SDK rejoins and forgets everyone meanwhile
    room.emit("reconnecting")
    room._remote_participants.pop(caller.identity)
    room.emit("participant_disconnected", caller)
    call.press("1")
    await call.until(lambda: len(fake.removals()) >= 1, within=10)
    await asyncio.sleep(1.0)  # several REMOVAL_SEEN_S: an empty room proves nothing yet
    assert not call.task.done(), "the hang-up is not done while the caller may be there"
    # back: the caller is still in the room, so the removal is asked again, then seen
    room._remote_participants[caller.identity] = caller
    room.emit("reconnected")
    asked = len(fake.removals())
    await call.until(lambda: len(fake.removals()) > asked, within=10)
    room._remote_participants.pop(caller.identity)
    room.emit("participant_disconnected", caller)
    record = await call.record(within=10)
    assert record.end == EndReason.HANGUP


async def test_a_call_the_router_stops_is_recorded_before_its_hang_up_is_done(
    fake: FakeLiveKitAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the drain's end with LiveKit refusing the hang-up (its Redis down): the removal is
    # asked again for HANGUP_RETRY_S, longer than a stopping process waits for its calls
    monkeypatch.setattr(retries, "HANGUP_RETRY_S", 3.0)
    fake.answer("livekit.RoomService/RemoveParticipant", SERVER_WITHOUT_REDIS)
    path = tmp_path / "calls.jsonl"
    call = await dispatched_session(fake, sip_caller(), RecordSink(str(path)))
    await call.until(lambda: call.session.player.playing)
    assert shut_down_all() == 1
    await call.until(lambda: len(fake.removals()) >= 1)  # asked, and refused
    assert not call.task.done(), "still asking LiveKit to hang up"
    assert path.exists() and path.read_text().count("\n") == 1, "recorded already"
    record = await call.record(within=15)
    assert record.end == EndReason.SHUTDOWN
    lines = path.read_text().splitlines()
    assert [json.loads(line)["end"] for line in lines] == ["shutdown"], "one call, one record"


async def test_a_caller_the_bridge_brings_back_after_the_router_rejoined_keeps_the_call(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the soak's livekit-server restart: the router is back in the room before the SIP
    # bridge is; ended then as a hang-up, the call was served again by a new dispatch
    monkeypatch.setattr(presence, "REJOIN_GRACE_S", 0.5)
    caller = sip_caller()
    call = await dispatched_session(fake, caller)
    room = call.session.room
    await call.until(lambda: call.session.player.playing)
    room.emit("reconnecting")
    room._remote_participants.pop(caller.identity)
    room.emit("participant_disconnected", caller)
    room.emit("reconnected")  # back, the caller not yet
    await asyncio.sleep(0.2)
    room._remote_participants[caller.identity] = caller  # the bridge rejoins
    room.emit("participant_connected", caller)
    await asyncio.sleep(0.6)  # past the grace
    assert not call.task.done(), "the call goes on"
    leave(call)
    assert (await call.record()).end == EndReason.CALLER_HANGUP


async def test_a_dispatch_to_a_room_whose_call_ended_here_finds_no_call_to_record(
    fake: FakeLiveKitAPI,
) -> None:
    # the soak's livekit-server restart: the room created anew after its call ended here
    # was dispatched again; its job, finding nobody, recorded a call `left_before_join`
    first = await dispatched_session(fake, sip_caller())
    await first.until(lambda: first.session.player.playing)
    leave(first)
    assert (await first.record()).end == EndReason.CALLER_HANGUP
    assert await dispatch_finding_nobody(fake) is None, "one call, one record"


def closed_by_server_shutdown(call: Call) -> None:
    """livekit-server stops (`RoomManager.Stop`): it closes the caller's participant, with
    `SERVER_SHUTDOWN`, before ours (the order differs from call to call)."""
    room, caller = call.session.room, call.caller
    room._remote_participants.pop(caller.identity)
    caller._info.disconnect_reason = rtc.DisconnectReason.SERVER_SHUTDOWN
    room.emit("participant_disconnected", caller)


async def test_a_caller_closed_by_the_server_stopping_is_waited_for_not_dropped(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI's soak: the caller's departure seen before the router's own connection went was
    # taken for the bridge dropping the call (`dropped`); the bridge rejoined, a second
    # dispatch served the caller again, and the call had two records
    monkeypatch.setattr(presence, "REJOIN_GRACE_S", 0.5)
    caller = sip_caller()
    call = await dispatched_session(fake, caller)
    room = call.session.room
    await call.until(lambda: call.session.player.playing)
    closed_by_server_shutdown(call)
    room.emit("reconnecting")  # then our own connection goes
    await asyncio.sleep(0.2)
    assert not call.task.done(), "not ended on the caller's departure"
    room.emit("reconnected")
    room._remote_participants[caller.identity] = caller  # the bridge rejoins
    room.emit("participant_connected", caller)
    await asyncio.sleep(0.8)  # past every grace
    assert not call.task.done(), "the call goes on"
    again = await dispatched_session(fake, caller)  # the room created anew: dispatched again
    await asyncio.sleep(0.3)
    assert again.session.recorder is None, "left to the session serving the call"
    caller._info.disconnect_reason = rtc.DisconnectReason.CLIENT_INITIATED
    leave(call)
    leave(again)
    record = await call.record()
    assert record.end == EndReason.CALLER_HANGUP
    assert any("server shutdown" in e for e in record.errors), record.errors
    assert await asyncio.wait_for(again.task, 5) is None, "one call, one record"
    await again.lk.aclose()


async def test_a_caller_the_server_closed_who_never_comes_back_ends_with_livekit_lost(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "REJOIN_GRACE_S", 0.3)
    call = await dispatched_session(fake, sip_caller())
    await call.until(lambda: call.session.player.playing)
    closed_by_server_shutdown(call)
    record = await call.record()
    assert record.end == EndReason.CONNECTION_LOST, "the fault named, never a drop or a hang-up"
    assert record.errors, "the record says why"


async def test_a_dispatch_joined_as_the_server_restarts_waits_for_the_caller_to_be_back(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the soak's run 6: the room emptied by the restart as the router joined; ended after
    # the join grace (`left_before_join`), the call was served again by a new dispatch
    monkeypatch.setattr(presence, "REJOIN_GRACE_S", 1.0)
    caller = sip_caller()
    mf = menu_file()
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    room = named_room()
    options = SessionOptions(dispatched=True)
    session = CallSession(room, mf, await rendered_cache(mf), lk, options=options)
    task = asyncio.ensure_future(session.run())
    try:
        await asyncio.sleep(0.1)
        room.emit("reconnecting")
        await asyncio.sleep(presence.JOIN_GRACE_S + 0.5)  # past the join grace, away
        room.emit("reconnected")
        await asyncio.sleep(0.5)  # the bridge comes back after the router
        assert not task.done(), "still waiting for the caller"
        room._remote_participants[caller.identity] = caller
        room.emit("participant_connected", caller)
        await asyncio.sleep(0.5)
        assert session.player.playing, "the caller is served"
        caller._info.attributes["sip.callStatus"] = "hangup"
        room._remote_participants.pop(caller.identity)
        room.emit("participant_disconnected", caller)
        record = await asyncio.wait_for(task, 10)
        assert record is not None and record.end == EndReason.CALLER_HANGUP
    finally:
        task.cancel()
        await lk.aclose()


async def test_a_dispatch_finding_no_caller_in_a_room_served_here_leaves_it_alone(
    fake: FakeLiveKitAPI,
) -> None:
    # CI's soak: after livekit-server's restart the router's own rejoin created the room
    # anew, and the new job, finding no caller yet, recorded `left_before_join` and
    # deleted the room under the session serving the call: three records of one call
    first = await dispatched_session(fake, sip_caller())
    await first.until(lambda: first.session.player.playing)
    assert await dispatch_finding_nobody(fake) is None, "one call, one record"
    assert fake.deletions() == [], "the room is the serving session's"
    assert not first.task.done(), "the call goes on"
    leave(first)
    assert (await first.record()).end == EndReason.CALLER_HANGUP


async def test_a_call_that_ended_here_dispatched_again_with_its_caller_is_hung_up_on(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the soak's run 7, livekit-server's restart: the menu's limit hung up while the
    # bridge was away; the bridge brought its caller back into the room created anew,
    # and the new dispatch served the call a second time (two records)
    caller = sip_caller()
    first = await dispatched_session(fake, caller)
    await first.until(lambda: first.session.player.playing)
    leave(first)
    assert (await first.record()).end == EndReason.CALLER_HANGUP
    removals = len(fake.removals())
    # the fake server removes nobody: the hang-up's waits cut short
    monkeypatch.setattr(hangup, "REMOVAL_SEEN_S", 0.2)
    monkeypatch.setattr(hangup, "CALLER_LEAVES_FIRST_S", 0.2)
    monkeypatch.setattr(retries, "HANGUP_RETRY_S", 1.0)
    mf = menu_file()
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    room = named_room()
    back = sip_caller()  # the same SIP call (`sip.callID`) back in the room
    room._remote_participants[back.identity] = back
    options = SessionOptions(dispatched=True)
    again = CallSession(room, mf, await rendered_cache(mf), lk, options=options)
    try:
        assert await asyncio.wait_for(again.run(), 15) is None, "one call, one record"
    finally:
        await lk.aclose()
    assert len(fake.removals()) > removals, "hung up on again"
    assert not again.player.playing and again.recorder is None, "not served"


async def test_a_second_dispatch_whose_caller_the_first_hangs_up_on_records_nothing(
    fake: FakeLiveKitAPI,
) -> None:
    # a 120-call soak (reliability.md, finding 25): at the livekit-server restart the
    # bridge brought its caller back into the room created anew, not yet `active` to the
    # new dispatch; the first session's hang-up took the caller away, and the second
    # recorded `dropped`: two records of one call
    caller = sip_caller()
    first = await dispatched_session(fake, caller)
    await first.until(lambda: first.session.player.playing)
    again = await dispatched_session(fake, ringing_caller())
    await asyncio.sleep(0.3)
    assert again.session.recorder is None, "waiting for the bridge's `active`"
    leave(again)  # the first session's hang-up, as the second connection sees it
    assert await asyncio.wait_for(again.task, 5) is None, "one call, one record"
    await again.lk.aclose()
    # soak run 8 had three more: the room is the serving session's, not deleted under it
    assert fake.deletions() == [], "the room is the serving session's"
    assert not first.task.done(), "the call goes on"
    leave(first)
    assert (await first.record()).end == EndReason.CALLER_HANGUP
