"""A call's Room takes its own room's FFI events only (`router.runtime.fanout`).

Real SDK objects, no server: the SDK's process-wide `FfiQueue`, a real `rtc.Room`
given the subscription `Room.connect` makes (its handle stands in for the one the
server's answer would carry: connecting needs a server), and the library's own event
type (`FfiEvent`), put as the library's thread puts them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc
from livekit.rtc._ffi_client import FfiClient
from livekit.rtc._proto import ffi_pb2

from router.runtime import fanout

MINE, OTHER = 41, 42


def room_event(handle: int) -> Any:
    event = ffi_pb2.FfiEvent()
    event.room_event.room_handle = handle
    event.room_event.active_speakers_changed.SetInParent()
    return event


def callback(kind: str, async_id: int = 7) -> Any:
    event = ffi_pb2.FfiEvent()
    getattr(event, kind).async_id = async_id
    return event


def rpc_invocation() -> Any:
    event = ffi_pb2.FfiEvent()
    event.rpc_method_invocation.local_participant_handle = 5
    return event


def test_the_filter_keeps_what_a_rooms_loop_acts_on_and_nothing_else() -> None:
    keep = fanout.keep_for(MINE)
    assert keep(room_event(MINE))
    assert keep(callback("publish_track"))
    assert keep(callback("unpublish_track"))
    assert keep(rpc_invocation())
    assert not keep(room_event(OTHER))  # another call's room
    assert not keep(callback("capture_audio_frame"))  # another call's prompt frames
    assert not keep(callback("connect"))  # another call's join
    assert not keep(callback("publish_sip_dtmf"))


def _subscribed_room(loop: asyncio.AbstractEventLoop) -> rtc.Room:
    """A Room as `Room.connect` leaves it: subscribed with the SDK's own filter."""
    room = rtc.Room(loop=loop)
    room._ffi_queue = FfiClient.instance.queue.subscribe(
        loop,
        filter_fn=lambda e: (
            e.WhichOneof("message") not in ("audio_stream_event", "video_stream_event")
        ),
    )
    room._ffi_handle = SimpleNamespace(handle=MINE)  # type: ignore[assignment]
    return room


def _deliver(events: list[Any], *, narrow: bool) -> list[str]:
    """Put `events` from another thread, as the library's does; what the Room's loop got."""

    def put_all() -> None:
        for event in events:
            FfiClient.instance.queue.put(event)

    async def run() -> list[str]:
        loop = asyncio.get_running_loop()
        room = _subscribed_room(loop)
        try:
            assert fanout.narrow(room, env={}) if narrow else True
            putter = threading.Thread(target=put_all)
            putter.start()
            putter.join()
            await asyncio.sleep(0.05)  # the call_soon_threadsafe'd puts run
            got = []
            while not room._ffi_queue.empty():
                event = room._ffi_queue.get_nowait()
                which = event.WhichOneof("message")
                got.append(
                    f"room {event.room_event.room_handle}" if which == "room_event" else which
                )
            return got
        finally:
            FfiClient.instance.queue.unsubscribe(room._ffi_queue)

    return asyncio.run(run())


EVENTS = [
    room_event(OTHER),
    callback("capture_audio_frame"),
    room_event(MINE),
    callback("connect"),
    callback("publish_track"),
]


def test_a_narrowed_room_is_woken_for_its_own_events_only() -> None:
    assert _deliver(EVENTS, narrow=True) == ["room 41", "publish_track"]


def test_the_sdks_way_wakes_a_room_for_every_event_of_the_process() -> None:
    # what the lever takes away: without it, the same Room is handed all five
    assert _deliver(EVENTS, narrow=False) == [
        "room 42",
        "capture_audio_frame",
        "room 41",
        "connect",
        "publish_track",
    ]


def test_the_sdks_way_is_kept_when_asked_or_for_an_sdk_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def run() -> tuple[bool, bool, bool]:
        room = _subscribed_room(asyncio.get_running_loop())
        try:
            asked = fanout.narrow(room, env={"ROUTER_RTC_FANOUT": "1"})
            monkeypatch.setattr(fanout, "READ_VERSIONS", frozenset({"0.0.0"}))
            unread = fanout.narrow(room, env={})
            monkeypatch.undo()
            return asked, unread, fanout.narrow(room, env={})
        finally:
            FfiClient.instance.queue.unsubscribe(room._ffi_queue)

    assert asyncio.run(run()) == (False, False, True)


def test_the_process_decides_once_as_its_first_call_joins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker's `narrow(room)` reads `ROUTER_RTC_FANOUT` and the SDK's version once per
    process: a change of the environment after the first call's join changes nothing."""

    async def run() -> tuple[bool, bool]:
        room = _subscribed_room(asyncio.get_running_loop())
        try:
            monkeypatch.setenv("ROUTER_RTC_FANOUT", "1")
            first = fanout.narrow(room)
            monkeypatch.delenv("ROUTER_RTC_FANOUT")
            return first, fanout.narrow(room)
        finally:
            FfiClient.instance.queue.unsubscribe(room._ffi_queue)

    fanout._applies_here.cache_clear()
    try:
        assert asyncio.run(run()) == (False, False)  # the SDK's way, as decided at first
        fanout._applies_here.cache_clear()
        assert fanout.applies() is True  # asked afresh, this process would narrow
    finally:
        fanout._applies_here.cache_clear()


def test_a_room_not_connected_is_left_alone() -> None:
    async def run() -> bool:
        return fanout.narrow(rtc.Room(loop=asyncio.get_running_loop()), env={})

    assert asyncio.run(run()) is False


def dtmf_packet(handle: int) -> Any:
    event = ffi_pb2.FfiEvent()
    event.room_event.room_handle = handle
    event.room_event.data_packet_received.sip_dtmf.code = 0
    event.room_event.data_packet_received.sip_dtmf.digit = "0"
    return event


def test_the_filter_stamps_its_own_rooms_dtmf_packets_as_they_come() -> None:
    # run 7: the stamps, taken on the library's thread, keep two presses apart that a
    # loaded call's loop hands over together (reliability.md, finding 23)
    arrivals: deque[float] = deque(maxlen=4)
    keep = fanout.keep_for(MINE, arrivals)
    before = time.monotonic()
    assert keep(dtmf_packet(MINE))
    assert not keep(dtmf_packet(OTHER))  # another call's key: not ours, not stamped
    assert keep(room_event(MINE))  # not a key: kept, not stamped
    assert len(arrivals) == 1 and before <= arrivals[0] <= time.monotonic()
    for _ in range(6):
        keep(dtmf_packet(MINE))
    assert len(arrivals) == 4  # bounded: a call that never reads them keeps the newest
