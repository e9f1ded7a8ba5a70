"""The call shell with real rtc objects and no server.

An unconnected `rtc.Room` emits `sip_dtmf_received` and participant events like a
connected one; `rtc.AudioSource` plays out in real time through the FFI; the only
fake is the Twirp API (see twirp_fake.py). Prompts are real espeak-ng audio.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from livekit import api, rtc
from livekit.rtc._proto import participant_pb2

from router.core.events import EndReason
from router.core.keys import Key
from router.core.model import (
    Entry,
    FailurePolicy,
    GoTo,
    Hangup,
    Limits,
    Menu,
    MenuFile,
    Messages,
    Prompt,
    Timeouts,
    Transfer,
    TransferSettings,
)
from router.core.navigator import CallCaps
from router.runtime import transfer as transfer_module
from router.runtime.call import CallSession, SessionOptions, shut_down_all
from router.runtime.metrics import Metrics
from router.runtime.prompts import EspeakSynthesizer, PromptCache
from router.runtime.records import CallRecord
from tests.runtime.twirp_fake import (
    NO_SIP_SERVICE,
    ROOM_GONE,
    SERVER_WITHOUT_REDIS,
    TRANSFER_OK,
    FakeLiveKitAPI,
    sip_failure,
)

SALES = "tel:+15105550101"
OPERATOR = "sip:operator@pbx.example.com"
SORRY = Prompt("Sorry, that line is busy.")


def menu_file(*, ringing_timeout: float = 20.0) -> MenuFile:
    back_to_main = GoTo("main", message=SORRY)
    policy = FailurePolicy(back_to_main, back_to_main, back_to_main, Hangup(Prompt("Goodbye.")))
    main = Menu(
        name="main",
        greeting=Prompt("Welcome. For sales press one. For support press two."),
        prompt=Prompt("Press one or two."),
        options={
            Key.D1: Transfer(
                SALES,
                destination="sales",
                settings=TransferSettings(
                    play_dialtone=True,
                    ringing_timeout_s=ringing_timeout,
                    headers={"X-Department": "sales"},
                ),
            ),
            Key.D2: GoTo("support"),
            Key.D0: Transfer(OPERATOR, destination="operator"),
        },
        timeouts=Timeouts(first_digit_s=5.0, inter_digit_s=2.0),
        limits=Limits(invalid=3, no_input=3),
        messages=Messages(),
        on_limit=Transfer(OPERATOR, destination="operator"),
        on_transfer_failure=policy,
    )
    support = Menu(
        name="support",
        greeting=Prompt("Support. Press star to go back."),
        prompt=Prompt("Press star."),
        options={Key.STAR: GoTo("main")},
        on_transfer_failure=policy,
    )
    return MenuFile(
        path="<test>",
        version="testversion",
        menus={"main": main, "support": support},
        entries={"default": Entry("default", "main")},
    )


def sip_caller(identity: str = "sip_+15105559876") -> rtc.RemoteParticipant:
    info = participant_pb2.OwnedParticipant()
    info.info.identity = identity
    info.info.kind = rtc.ParticipantKind.PARTICIPANT_KIND_SIP
    info.info.attributes["sip.trunkPhoneNumber"] = "+15105550000"
    info.info.attributes["sip.phoneNumber"] = "+15105559876"
    info.info.attributes["sip.callID"] = "SCL_test"
    info.info.attributes["sip.callStatus"] = "active"
    return rtc.RemoteParticipant(info)


def set_status(room: rtc.Room, participant: rtc.RemoteParticipant, status: str) -> None:
    """The SIP bridge changes `sip.callStatus`, as the SDK reports it."""
    participant._info.attributes["sip.callStatus"] = status
    room.emit("participant_attributes_changed", {"sip.callStatus": status}, participant)


def standard_participant(identity: str) -> rtc.RemoteParticipant:
    info = participant_pb2.OwnedParticipant()
    info.info.identity = identity
    info.info.kind = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
    return rtc.RemoteParticipant(info)


@pytest.fixture
async def fake() -> AsyncIterator[FakeLiveKitAPI]:
    server = FakeLiveKitAPI()
    await server.start()
    yield server
    await server.close()


_CACHE: PromptCache | None = None


async def rendered_cache(mf: MenuFile) -> PromptCache:
    global _CACHE
    if _CACHE is None:
        _CACHE = PromptCache(EspeakSynthesizer())
    await _CACHE.render_all(mf.prompts())
    return _CACHE


class Call:
    """A CallSession running in the background, with handles for the test."""

    def __init__(
        self, session: CallSession, caller: rtc.RemoteParticipant, lk: api.LiveKitAPI
    ) -> None:
        self.session = session
        self.lk = lk
        self.caller = caller
        self.task = asyncio.get_running_loop().create_task(session.run(caller))

    def press(self, digit: str, participant: rtc.RemoteParticipant | None = None) -> None:
        key = Key(digit)
        self.session.room.emit(
            "sip_dtmf_received",
            rtc.SipDTMF(code=key.code, digit=digit, participant=participant or self.caller),
        )

    async def until(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"condition not met within {within} s")
            await asyncio.sleep(0.01)

    def hang_up(self) -> None:
        """As livekit-sip on the caller's BYE or CANCEL: `hangup`, then it leaves the room."""
        set_status(self.session.room, self.caller, "hangup")
        self.session.room.emit("participant_disconnected", self.caller)

    async def record(self, within: float = 10.0) -> CallRecord:
        try:
            result = await asyncio.wait_for(self.task, within)
        finally:
            await self.lk.aclose()
        assert result is not None
        return result


async def start_call(fake: FakeLiveKitAPI, mf: MenuFile | None = None, **options: object) -> Call:
    mf = mf or menu_file()
    cache = await rendered_cache(mf)
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    session = CallSession(rtc.Room(), mf, cache, lk, options=SessionOptions(**options))  # type: ignore[arg-type]
    call = Call(session, sip_caller(), lk)
    await call.until(lambda: session.player.playing)
    return call


async def test_key_during_greeting_stops_it_and_transfers_with_the_files_settings(
    fake: FakeLiveKitAPI,
) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", TRANSFER_OK)
    call = await start_call(fake)
    call.press("1")
    assert not call.session.player.playing, "barge-in: the greeting stops at the key"
    record = await call.record()
    (request,) = fake.transfers()
    assert request.transfer_to == SALES
    assert request.participant_identity == "sip_+15105559876"
    assert request.play_dialtone is True
    assert dict(request.headers) == {"X-Department": "sales"}
    assert request.ringing_timeout.ToMilliseconds() == 20_000
    assert record.end == EndReason.TRANSFERRED
    transfer = record.transfer
    assert transfer is not None
    assert transfer.target == SALES and transfer.result == "succeeded"
    assert record.caller == "********9876"
    assert fake.removals() == [], "a transferred caller is not hung up on"


async def test_dtmf_from_anyone_but_the_tracked_caller_is_ignored(fake: FakeLiveKitAPI) -> None:
    call = await start_call(fake)
    call.press("1", participant=standard_participant("agent-x"))
    call.press("1", participant=sip_caller("sip_other"))
    call.session.room.emit(
        "sip_dtmf_received", rtc.SipDTMF(code=42, digit="?", participant=call.caller)
    )
    await asyncio.sleep(0.2)
    assert fake.transfers() == []
    assert call.session.player.playing, "the greeting goes on"
    call.hang_up()
    record = await call.record()
    assert record.end == EndReason.CALLER_HANGUP
    assert record.keys == ()


async def test_busy_transfer_returns_to_the_menu_with_a_message(fake: FakeLiveKitAPI) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", sip_failure(486, "Busy Here"))
    call = await start_call(fake)
    call.press("1")
    await call.until(lambda: len(fake.transfers()) == 1)
    await call.until(lambda: call.session.player.playing)  # the apology, then the menu
    assert not call.task.done(), "the caller is not dropped"
    call.hang_up()
    record = await call.record()
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "failed" and transfer.sip_status == 486
    assert [m.menu for m in record.menus] == ["main", "main"]
    assert len(fake.transfers()) == 1, "a SIP answer is final: never asked again"


async def test_a_missing_sip_service_is_an_error_the_policy_handles(fake: FakeLiveKitAPI) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", NO_SIP_SERVICE)
    call = await start_call(fake)
    call.press("1")
    # the 'error' policy is a hang-up with a goodbye: played, then the caller is removed
    record = await call.record()
    assert record.end == EndReason.HANGUP
    (removal,) = fake.removals()
    assert removal.identity == "sip_+15105559876"
    # no bridge took it: asked three times in all, the same request each time
    transfers = fake.transfers()
    assert len(transfers) == 1 + len(transfer_module.UNCLAIMED_RETRY_PAUSES_S)
    assert all(t == transfers[0] for t in transfers)
    transfer = record.transfer
    assert transfer is not None and transfer.result == "failed"
    assert "(3 tries)" in json.dumps(record.as_dict())


async def test_a_hang_up_the_server_refuses_for_a_while_is_asked_again_until_done(
    fake: FakeLiveKitAPI,
) -> None:
    # the soak's Redis outage: the 'error' policy hangs up, and RemoveParticipant answers
    # 500 until Redis is back; a lost removal leaves the caller connected to a room the
    # router has left (and LiveKit dispatched the router there again: a second record)
    fake.answer("livekit.SIP/TransferSIPParticipant", NO_SIP_SERVICE)
    fake.answer(
        "livekit.RoomService/RemoveParticipant",
        SERVER_WITHOUT_REDIS,
        SERVER_WITHOUT_REDIS,
        (200, b""),
    )
    call = await start_call(fake)
    call.press("1")
    record = await call.record(within=30)
    assert record.end == EndReason.HANGUP
    assert [r.identity for r in fake.removals()] == ["sip_+15105559876"] * 3


async def test_a_dispatched_calls_room_is_deleted_when_it_ends_even_if_the_server_is_away(
    fake: FakeLiveKitAPI,
) -> None:
    # a room left to the server's departure timeout outlives a server stopped meanwhile
    # (the soak's livekit-server restart); one the router deletes does not
    fake.answer("livekit.RoomService/DeleteRoom", SERVER_WITHOUT_REDIS, (200, b""))
    call = await start_call(fake, dispatched=True)
    assert fake.deletions() == [], "nothing is deleted while the call goes on"
    call.hang_up()
    record = await call.record(within=30)
    assert record.end == EndReason.CALLER_HANGUP
    assert [d.room for d in fake.deletions()] == [call.session.room.name] * 2


async def test_a_room_the_server_no_longer_holds_is_not_asked_for_again(
    fake: FakeLiveKitAPI,
) -> None:
    # a room on a node gone in a restart: moved to a live node (CreateRoom) and deleted
    # there (tests/e2e/test_room_on_a_lost_node.py); a server that still answers
    # "could not find object" then is not asked again
    fake.answer("livekit.RoomService/DeleteRoom", ROOM_GONE)
    call = await start_call(fake, dispatched=True)
    call.hang_up()
    await call.record()
    assert len(fake.deletions()) == 2
    moved = [r for m, r in fake.requests if m == "livekit.RoomService/CreateRoom"]
    assert len(moved) == 1


async def test_a_call_the_router_only_joined_keeps_its_room(fake: FakeLiveKitAPI) -> None:
    # `router connect`: someone else's room, not ours to delete
    call = await start_call(fake)
    call.hang_up()
    await call.record()
    assert fake.deletions() == []


async def test_a_request_no_bridge_took_is_asked_again_and_the_caller_transferred(
    fake: FakeLiveKitAPI,
) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", NO_SIP_SERVICE, TRANSFER_OK)
    call = await start_call(fake)
    call.press("1")
    record = await call.record()
    assert len(fake.transfers()) == 2
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "succeeded" and transfer.target == SALES
    assert record.end == EndReason.TRANSFERRED


async def test_a_transfer_api_that_hangs_is_bounded(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer_module, "TRANSFER_MARGIN_S", 0.3)
    fake.answer("livekit.SIP/TransferSIPParticipant", TRANSFER_OK, delay=30)
    call = await start_call(fake, menu_file(ringing_timeout=0.2))
    call.press("1")
    await call.until(lambda: call.session.player.playing, within=3)
    call.hang_up()
    record = await call.record()
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "failed" and transfer.sip_status is None


async def test_a_dtmf_storm_is_bounded_by_the_key_cap(fake: FakeLiveKitAPI) -> None:
    call = await start_call(fake, caps=CallCaps(max_keys=50))
    for _ in range(500):
        call.press("2")
        call.press("*")
    from router.runtime.records import MAX_KEYS_RECORDED

    record = await call.record()
    assert record.end == EndReason.KEY_LIMIT
    keys = record.keys
    # 50 acted on, the 51st reaches the cap; the rest arrive during the goodbye, ignored
    assert len([k for k in keys if not k.ignored]) <= 51
    assert len(keys) <= MAX_KEYS_RECORDED
    assert len(fake.removals()) == 1


async def test_caller_hanging_up_mid_prompt_leaves_nothing_running(fake: FakeLiveKitAPI) -> None:
    before = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    call = await start_call(fake)
    call.hang_up()
    record = await call.record()
    assert record.end == EndReason.CALLER_HANGUP
    assert not call.session.player.playing
    assert call.session._timers == {}
    await asyncio.sleep(0)
    leaked = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} - before
    assert {t for t in leaked if not t.done()} <= {call.task}


async def test_a_lost_server_ends_the_call_as_connection_lost_not_as_a_hang_up(
    fake: FakeLiveKitAPI,
) -> None:
    # the order the rtc SDK reports a server that goes away (tests/e2e/test_server_restart.py)
    call = await start_call(fake)
    room = call.session.room
    room.emit("reconnecting")
    room.emit("participant_disconnected", call.caller)  # the SDK forgets everyone meanwhile
    await asyncio.sleep(0.05)
    assert not call.task.done(), "the call waits to see whether the connection comes back"
    room.emit("disconnected", rtc.DisconnectReason.UNKNOWN_REASON)
    record = await call.record()
    assert record.end == EndReason.CONNECTION_LOST
    # the outage's reason in the record, never silently (issue 18: the soak's faults)
    errors = record.errors
    assert [e.rsplit(" at ", 1)[0] for e in errors] == [
        "lost the connection to LiveKit",
        "the connection to LiveKit is lost",
    ]


async def test_a_call_survives_a_reconnection_that_finds_the_caller_still_there(
    fake: FakeLiveKitAPI,
) -> None:
    fake.answer("livekit.SIP/TransferSIPParticipant", TRANSFER_OK)
    call = await start_call(fake)
    room = call.session.room
    room.emit("reconnecting")
    room.emit("participant_disconnected", call.caller)
    room._remote_participants[call.caller.identity] = call.caller  # rejoined: there again
    room.emit("reconnected")
    await asyncio.sleep(0.05)
    assert not call.task.done()
    call.press("1")
    record = await call.record()
    assert record.end == EndReason.TRANSFERRED
    errors = record.errors
    assert [e.rsplit(" at ", 1)[0] for e in errors] == [
        "lost the connection to LiveKit",
        "back on LiveKit",
    ], "the call went on, and its record says what it lived through"


async def test_a_caller_gone_when_the_connection_comes_back_has_hung_up(
    fake: FakeLiveKitAPI,
) -> None:
    from router.runtime.call.presence import REJOIN_GRACE_S

    call = await start_call(fake)
    call.session.room.emit("reconnecting")
    call.session.room.emit("participant_disconnected", call.caller)
    call.session.room.emit("reconnected")
    # not at once: the SIP bridge may rejoin after the router (tests/runtime/test_one_record.py)
    assert (await call.record(within=REJOIN_GRACE_S + 5)).end == EndReason.CALLER_HANGUP


@pytest.mark.parametrize(
    ("reason", "end"),
    [
        (rtc.DisconnectReason.ROOM_DELETED, "caller_hangup"),
        (rtc.DisconnectReason.PARTICIPANT_REMOVED, "caller_hangup"),
        (rtc.DisconnectReason.SIGNAL_CLOSE, "connection_lost"),
        (rtc.DisconnectReason.SERVER_SHUTDOWN, "connection_lost"),
    ],
)
async def test_the_room_closing_is_told_from_the_connection_failing(
    fake: FakeLiveKitAPI, reason: int, end: str
) -> None:
    call = await start_call(fake)
    call.session.room.emit("disconnected", reason)
    assert (await call.record()).end == end


class _Records(list[CallRecord]):
    def write(self, record: CallRecord) -> None:
        self.append(record)


async def test_a_call_cancelled_by_the_worker_hangs_up_and_keeps_its_record(
    fake: FakeLiveKitAPI,
) -> None:
    # livekit-agents cancels a job that outlives the worker's shutdown (job processes)
    records = _Records()
    call = await start_call(fake)
    call.session.records.sink = records  # type: ignore[assignment]
    call.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call.task
    await call.lk.aclose()
    assert [r.end for r in records] == [EndReason.SHUTDOWN]
    assert [r.identity for r in fake.removals()] == [call.caller.identity], "hung up"


async def test_shut_down_all_hangs_up_every_call_of_the_process(fake: FakeLiveKitAPI) -> None:
    first, second = await start_call(fake), await start_call(fake)
    assert shut_down_all() == 2
    ends = [(await call.record()).end for call in (first, second)]
    assert ends == [EndReason.SHUTDOWN, EndReason.SHUTDOWN]
    assert len(fake.removals()) == 2
    assert shut_down_all() == 0, "ended calls are no longer counted"


async def test_silence_runs_the_no_input_path_then_the_fallback(fake: FakeLiveKitAPI) -> None:
    quick = menu_file()
    main = quick.menus["main"]
    from dataclasses import replace

    main = replace(
        main,
        greeting=Prompt("Hi."),
        prompt=Prompt("Press one."),
        timeouts=Timeouts(first_digit_s=0.2, inter_digit_s=0.2),
        limits=Limits(invalid=3, no_input=2),
        messages=Messages(invalid=Prompt("No."), no_input=Prompt("Hello?")),
    )
    quick = replace(quick, menus={**quick.menus, "main": main})
    fake.answer("livekit.SIP/TransferSIPParticipant", TRANSFER_OK)
    call = await start_call(fake, quick)
    record = await call.record(within=15)
    assert record.timeouts == 2
    (request,) = fake.transfers()
    assert request.transfer_to == OPERATOR


def test_started_at_is_recorded_in_utc() -> None:
    from router.runtime.records import CallRecorder

    rec = CallRecorder(
        "c",
        "r",
        None,
        "+15105550123",
        "v",
        datetime.fromisoformat("2026-01-01T10:00:00-05:00"),
        0.0,
    )
    assert rec.as_dict(1.0)["started_at"] == "2026-01-01T15:00:00.000+00:00"
    assert rec.as_dict(1.0)["caller"] == "********0123"


def test_phone_numbers_are_masked_in_free_text() -> None:
    from router.runtime.records import mask_digits

    assert mask_digits("call-_+15105559876_AbC123") == "call-_+*******9876_AbC123"
    assert mask_digits("sip_+15105559876") == "sip_+*******9876"
    assert mask_digits("room-42") == "room-42", "short numbers are not phone numbers"


async def test_a_dtmf_storm_does_not_grow_the_record_without_bound(fake: FakeLiveKitAPI) -> None:
    from router.runtime.records import MAX_KEYS_RECORDED

    call = await start_call(fake, caps=CallCaps(max_keys=10_000))
    call.press("4")  # invalid keys to the limit, then keys ignored during the fallback transfer
    for i in range(1000):
        call.press("9" if i % 2 else "7")  # alternating: one key again at once is a copy
    call.hang_up()
    record = await call.record()
    assert len(record.keys) == MAX_KEYS_RECORDED
    assert record.keys_not_recorded == 1001 - MAX_KEYS_RECORDED


async def test_the_same_key_twice_within_milliseconds_is_one_press(fake: FakeLiveKitAPI) -> None:
    # the field report: a bridge delivered "2" twice, 10 ms apart, and the caller went two
    # menus deep (main -> support -> technical) for one press
    from pathlib import Path

    from router.core.loader import load_menu_file
    from router.core.navigator import KEY_REPEAT_WINDOW_S

    mf = load_menu_file(Path(__file__).parents[1] / "core" / "field" / "19-dup.yaml").menu_file
    call = await start_call(fake, mf)
    call.press("2")
    await asyncio.sleep(0.01)
    call.press("2")  # the copy
    await call.until(lambda: call.session.player.playing)
    assert call.session.navigator.menu == "support", "one press, one menu"
    await asyncio.sleep(KEY_REPEAT_WINDOW_S + 0.07)
    call.press("2")  # a real second press, well after the window
    await call.until(lambda: call.session.navigator.menu == "technical")
    call.press("*")  # a different key at once is never a copy
    await call.until(lambda: call.session.navigator.menu == "support")
    call.hang_up()
    record = await call.record()
    assert record.duplicate_keys == 1
    assert [k.key for k in record.keys] == ["2", "2", "*"]
    assert [m.menu for m in record.menus] == ["main", "support", "technical", "support"]


# --- a caller who leaves before the menu starts (issue 20) --------------------------------


def ringing_caller(identity: str = "sip_+15105559876") -> rtc.RemoteParticipant:
    """A SIP caller the bridge has not answered yet (livekit-sip: `ringing`)."""
    caller = sip_caller(identity)
    caller._info.attributes["sip.callStatus"] = "ringing"
    return caller


async def open_call(
    fake: FakeLiveKitAPI,
    caller: rtc.RemoteParticipant | None,
    *,
    metrics: Metrics | None = None,
    **options: object,
) -> tuple[CallSession, asyncio.Task[CallRecord | None], api.LiveKitAPI]:
    """A session whose run() has started and found `caller` (or, with None, is looking)."""
    mf = menu_file()
    cache = await rendered_cache(mf)
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    session = CallSession(
        rtc.Room(),
        mf,
        cache,
        lk,
        options=SessionOptions(**options),  # type: ignore[arg-type]
        metrics=metrics or Metrics(),
    )
    task = asyncio.get_running_loop().create_task(session.run(caller))
    await asyncio.sleep(0.05)  # run() is waiting now
    return session, task, lk


async def ended(
    task: asyncio.Task[CallRecord | None], lk: api.LiveKitAPI, within: float = 1.0
) -> CallRecord:
    try:
        record = await asyncio.wait_for(task, within)
    finally:
        await lk.aclose()
    assert record is not None
    return record


async def test_a_caller_who_hangs_up_before_the_answer_ends_the_wait_at_once(
    fake: FakeLiveKitAPI,
) -> None:
    caller = ringing_caller()
    metrics = Metrics()
    session, task, lk = await open_call(fake, caller, metrics=metrics, answer_timeout_s=20.0)
    assert not task.done(), "waiting for the answer"
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    left = session.now()
    record = await ended(task, lk, within=1.0)  # not the 20 s answer timeout
    assert record.end == EndReason.LEFT_BEFORE_ANSWER
    assert record.answered is None and record.menus == () and record.keys == ()
    assert record.caller == "********9876" and record.call_id == "SCL_test"
    assert not session.player.playing, "nobody was greeted"
    assert abs(record.duration - (left - session._received)) < 0.05
    started = datetime.fromisoformat(record.started_at)
    ended_at = datetime.fromisoformat(record.ended_at)
    assert abs((ended_at - started).total_seconds() - record.duration) < 0.002
    assert metrics.calls.labels("left_before_answer")._value.get() == 1
    assert metrics.active._value.get() == 0, "a call never answered was never active"


async def test_a_caller_the_bridge_drops_before_the_answer_is_recorded_as_dropped(
    fake: FakeLiveKitAPI,
) -> None:
    caller = ringing_caller()
    session, task, lk = await open_call(fake, caller)
    session.room.emit("participant_disconnected", caller)  # no `hangup` first
    record = await ended(task, lk)
    assert record.end == EndReason.DROPPED


async def test_the_room_closing_while_ringing_ends_the_wait_too(fake: FakeLiveKitAPI) -> None:
    session, task, lk = await open_call(fake, ringing_caller())
    session.room.emit("disconnected", rtc.DisconnectReason.ROOM_DELETED)
    assert (await ended(task, lk)).end == EndReason.LEFT_BEFORE_ANSWER


async def test_a_dispatched_call_whose_caller_left_before_the_router_joined_is_recorded(
    fake: FakeLiveKitAPI,
) -> None:
    from router.runtime.call.presence import JOIN_GRACE_S

    metrics = Metrics()
    session, task, lk = await open_call(fake, None, metrics=metrics, dispatched=True)
    record = await ended(task, lk, within=JOIN_GRACE_S + 0.5)  # not the 30 s caller timeout
    assert record.end == EndReason.LEFT_BEFORE_JOIN
    assert record.caller is None and record.answered is None
    assert record.duration >= JOIN_GRACE_S - 0.1
    assert metrics.calls.labels("left_before_join")._value.get() == 1


async def test_a_dispatched_caller_who_joins_then_hangs_up_while_ringing(
    fake: FakeLiveKitAPI,
) -> None:
    session, task, lk = await open_call(fake, None, dispatched=True)
    caller = ringing_caller()
    session.room._remote_participants[caller.identity] = caller
    session.room.emit("participant_connected", caller)
    await asyncio.sleep(0.05)
    assert not task.done(), "found, now waiting for the answer"
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    record = await ended(task, lk)
    assert record.end == EndReason.LEFT_BEFORE_ANSWER and record.caller == "********9876"


async def test_an_undispatched_room_without_a_caller_writes_no_record(
    fake: FakeLiveKitAPI,
) -> None:
    # `router connect` joins a room that may get its caller later: nothing happened yet
    _, task, lk = await open_call(fake, None, caller_timeout_s=0.2)
    try:
        assert await asyncio.wait_for(task, 2) is None
    finally:
        await lk.aclose()


async def test_the_record_counts_from_when_the_router_got_the_call(fake: FakeLiveKitAPI) -> None:
    caller = ringing_caller()
    session, task, lk = await open_call(fake, caller)
    await asyncio.sleep(0.3)  # the bridge answers once the caller's first RTP is in
    set_status(session.room, caller, "active")
    await asyncio.sleep(0.1)
    assert session.player.playing, "greeted once answered"
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    record = await ended(task, lk, within=5)
    assert record.end == EndReason.CALLER_HANGUP
    assert record.answered is not None and 0.3 <= record.answered < 1.0
    greeting = record.menus[0].t
    assert record.answered <= greeting < record.answered + 0.05
    assert record.duration >= 0.4


async def test_an_answered_call_the_bridge_drops_is_not_a_hang_up(fake: FakeLiveKitAPI) -> None:
    # livekit-sip's media timeout: no RTP from the caller; it leaves without `hangup`
    call = await start_call(fake)
    call.session.room.emit("participant_disconnected", call.caller)
    record = await call.record()
    assert record.end == EndReason.DROPPED
    # answered when the router found it: no wait for `active` (on a busy machine the
    # session's start comes a millisecond or so after it was made, the record's zero)
    assert record.answered is not None and record.answered < 0.1, record.answered


async def key_while_ringing(
    fake: FakeLiveKitAPI,
) -> tuple[rtc.RemoteParticipant, CallSession, asyncio.Task[CallRecord | None], api.LiveKitAPI]:
    """A call whose caller pressed 1 before the bridge reported it answered."""
    caller = ringing_caller()
    session, task, lk = await open_call(fake, caller)
    session.room.emit("sip_dtmf_received", rtc.SipDTMF(code=1, digit="1", participant=caller))
    return caller, session, task, lk


async def test_a_key_before_the_bridges_active_starts_the_menu_and_is_acted_on(
    fake: FakeLiveKitAPI,
) -> None:
    # the soak's run 5, at load: the key (a data packet) reached the router seconds before
    # the bridge's `active` (an attribute), both from the bridge by different ways, and
    # the first digit of an extension was lost; run 6: a caller who pressed and waited
    # 14 s for an `active` that never came was recorded `left_before_answer`. RTP DTMF
    # flows only after the bridge's 200 OK, so the key proves the call answered
    caller, session, task, lk = await key_while_ringing(fake)
    for _ in range(100):
        if fake.transfers():
            break
        await asyncio.sleep(0.02)
    assert [t.transfer_to for t in fake.transfers()] == [SALES], "no `active` needed"
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    record = await ended(task, lk, within=5)
    assert [k.key for k in record.keys] == ["1"]
    assert record.answered is not None and record.end != EndReason.LEFT_BEFORE_ANSWER


async def test_a_caller_who_hangs_up_ringing_without_a_key_is_left_before_answer(
    fake: FakeLiveKitAPI,
) -> None:
    caller = ringing_caller()
    session, task, lk = await open_call(fake, caller)
    await asyncio.sleep(0.1)
    assert session.recorder is None, "no menu before the answer or a key"
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    record = await ended(task, lk)
    assert record.end == EndReason.LEFT_BEFORE_ANSWER and record.keys == ()


@pytest.mark.parametrize(("apart_s", "acted_on"), [(0.2, 3), (0.0, 1)], ids=["presses", "copies"])
async def test_identical_keys_held_before_the_answer_are_presses_or_copies_by_their_arrival(
    fake: FakeLiveKitAPI, apart_s: float, acted_on: int
) -> None:
    # run 6: three held `7`s fed at once were taken for one press and two copies
    caller = ringing_caller()
    session, task, lk = await open_call(fake, caller)
    for _ in range(3):
        session.room.emit("sip_dtmf_received", rtc.SipDTMF(code=7, digit="7", participant=caller))
        await asyncio.sleep(apart_s)
    set_status(session.room, caller, "active")
    for _ in range(100):
        if session.recorder is not None:
            break
        await asyncio.sleep(0.02)
    set_status(session.room, caller, "hangup")
    session.room.emit("participant_disconnected", caller)
    record = await ended(task, lk, within=5)
    assert record.invalid == acted_on
    assert record.duplicate_keys == 3 - acted_on


@pytest.mark.parametrize(
    ("stamped_apart_s", "acted_on"), [(0.3, 2), (None, 1)], ids=["stamped", "unstamped"]
)
async def test_two_presses_a_stalled_loop_hands_over_together_stay_two_by_their_arrival(
    fake: FakeLiveKitAPI, stamped_apart_s: float | None, acted_on: int
) -> None:
    # run 7: `5001#`'s zeros left the SIP bridge 0.54 s apart and reached the call's loop
    # within 80 ms (its process loaded): the second was taken for a copy, `501#` dialled.
    # The rtc library's thread stamps each DTMF packet as it comes (`fanout.keep_for`):
    # stamped, the two are presses; without stamps (another SDK), the loop's time decides
    mf = menu_file()
    cache = await rendered_cache(mf)
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    arrivals: deque[float] = deque()
    session = CallSession(rtc.Room(), mf, cache, lk, key_arrivals=arrivals)
    call = Call(session, sip_caller(), lk)
    await call.until(lambda: session.player.playing)
    if stamped_apart_s is not None:
        now = time.monotonic()
        arrivals.extend([now - stamped_apart_s - 0.1, now - 0.1])
    call.press("7")  # both in one turn of the loop, as a stalled loop delivers them
    call.press("7")
    assert not arrivals, "one stamp taken per packet"
    set_status(session.room, call.caller, "hangup")
    session.room.emit("participant_disconnected", call.caller)
    record = await call.record()
    assert record.invalid == acted_on
    assert record.duplicate_keys == 2 - acted_on


async def test_an_ended_call_leaves_no_session_or_room_reachable(fake: FakeLiveKitAPI) -> None:
    """A process serves thousands of calls: once a call has ended nothing of the router
    keeps its CallSession or its Room alive (the Room's FFI handle, and with it the
    native room, is dropped when it is collected: rtc/_ffi_client.py `FfiHandle.__del__`),
    and its AudioSource's native source is released at once (issue 18, the soak's RSS).

    The AudioSource object itself may outlive the call by what it had queued: the SDK's
    playout timer holds it (rtc/audio_source.py `_join_handle`); its handle is gone."""
    import gc
    import weakref

    refs: list[weakref.ref[object]] = []
    sources: list[rtc.AudioSource] = []
    for _ in range(3):
        call = await start_call(fake)
        call.hang_up()
        await call.record()
        session = call.session
        refs += [weakref.ref(session), weakref.ref(session.room)]
        sources.append(session.player.source)
        del call, session
    await asyncio.sleep(0)
    gc.collect()
    assert [type(r()).__name__ for r in refs if r() is not None] == []
    assert all(source._ffi_handle.disposed for source in sources)
