"""The worker's collector: an ended call's room, and the native room behind its FFI
handle, are freed by the cycle collector, not by refcounting (router/runtime/collector.py,
issue 18). Real calls with real rtc objects and no server, as in test_call_offline.py."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from router.runtime import collector
from tests.runtime import test_call_offline
from tests.runtime.test_call_offline import start_call
from tests.runtime.twirp_fake import FakeLiveKitAPI

fake = test_call_offline.fake  # the Twirp API, the one fake there: no call here transfers


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Python's own collections off, so only what the test runs frees cycles."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


async def ended_call_room(fake: FakeLiveKitAPI) -> weakref.ref[object]:
    call = await start_call(fake)
    call.hang_up()
    await call.record()
    room = weakref.ref(call.session.room)
    del call
    await asyncio.sleep(0)
    return room


async def test_an_ended_calls_room_waits_for_the_cycle_collector(
    fake: FakeLiveKitAPI, no_automatic_gc: None
) -> None:
    """Why the collector exists: refcounting alone keeps the room (if an SDK release
    breaks the cycles, this fails and the collector can go)."""
    room = await ended_call_room(fake)
    assert room() is not None
    gc.collect()
    assert room() is None


async def test_the_collector_frees_an_ended_calls_room_by_itself(
    fake: FakeLiveKitAPI, no_automatic_gc: None
) -> None:
    running = collector.install(0.05)
    assert running is not None
    try:
        assert gc.get_freeze_count() > 0, "what was alive at install is frozen"
        room = await ended_call_room(fake)
        for _ in range(400):  # the collector's thread runs every 50 ms; at most 20 s
            if room() is None:
                break
            await asyncio.sleep(0.05)
        assert room() is None and running.runs > 0
    finally:
        running.stop()
        gc.unfreeze()


def test_interval_zero_leaves_pythons_own_collections() -> None:
    assert collector.install(0) is None
    assert gc.get_freeze_count() == 0
