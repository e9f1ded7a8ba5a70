"""Callers who leave before the greeting: noticed at once, recorded truthfully (issue 20).

The SIP bridge answers as livekit-sip does: `200 OK` once it can subscribe to the
router's track, then `sip.callStatus: active` at the caller's first RTP packet (or 1 s
without one), and a caller who sends no RTP is dropped by its media timeout (30 s after
the answer). Each call ends with one record, written within a second or two of the
caller leaving, whose times are when the router got the call and when the caller left,
and leaves no room behind.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from router.stack.local import LocalStack, free_port
from router.stack.sipphone import CallOutcome, CallReport, place_call
from tests.e2e.conftest import AGENT, Stack, holding_router, new_caller_id, written_records
from tests.e2e.test_metrics import scrape

NO_RTP_NUMBER = "+15550100031"

RECORD_WITHIN = 2.5
"""Seconds from the caller leaving to its record (the issue asks for a second or two)."""


def wall(monotonic: float) -> float:
    """A time.monotonic() of this process as a Unix time."""
    return time.time() - (time.monotonic() - monotonic)


def unix(iso: object) -> float:
    return datetime.fromisoformat(str(iso)).timestamp()


def _find(records: Path, caller_id: str) -> dict[str, Any] | None:
    tail = caller_id[-4:]
    for record in written_records(records):
        caller = record.get("caller")
        if (caller or "").endswith(tail) or (caller is None and f"{tail}_" in record["room"]):
            return record
    return None


async def record_of(records: Path, caller_id: str) -> dict[str, Any]:
    """The call's record, by the caller's number, or by the room (named after the number by
    the dispatch rule, masked in records) when the router never saw the caller."""
    deadline = time.monotonic() + RECORD_WITHIN
    while time.monotonic() < deadline:
        record = await asyncio.to_thread(_find, records, caller_id)
        if record is not None:
            return record
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"no record for {caller_id} within {RECORD_WITHIN} s of the caller leaving"
    )


async def no_room_left(stack: LocalStack, record: dict[str, Any], within: float = 10.0) -> None:
    """The call's room is gone, or empty (LiveKit deletes an empty room by itself)."""
    room_id = str(record["room"]).rsplit("_", 1)[1]
    deadline = time.monotonic() + within
    async with stack.api() as lk:
        while True:
            listed = await lk.room.list_rooms(api.ListRoomsRequest())
            names = [r.name for r in listed.rooms if r.name.endswith("_" + room_id)]
            left = []
            for name in names:
                found = await lk.room.list_participants(api.ListParticipantsRequest(room=name))
                left += [p.identity for p in found.participants]
            if not left:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"room *_{room_id} still holds {left} {within:.0f} s after the call")
            await asyncio.sleep(0.25)


def assert_recorded_when_the_caller_left(record: dict[str, Any], left_at: float) -> None:
    started, ended = unix(record["started_at"]), unix(record["ended_at"])
    assert started <= left_at + 0.5, "started_at is when the router got the call"
    assert abs(ended - left_at) < RECORD_WITHIN, (record["ended_at"], left_at)
    assert abs(record["duration"] - (ended - started)) < 0.01


async def test_a_caller_who_hangs_up_10_ms_after_the_answer(e2e: Stack) -> None:
    caller_id = new_caller_id()
    report: CallReport = await place_call(
        e2e.uri(), caller_id=caller_id, hangup_after_s=0.01, timeout_s=40
    )
    assert report.outcome is CallOutcome.LOCAL_BYE, (report.outcome, report.detail)
    assert report.answered_at is not None
    left_at = wall(report.answered_at + 0.01)
    record = await record_of(e2e.records, caller_id)
    # the bridge may have had the caller's first RTP packet before the BYE (then `active`
    # and a greeting cut short) or not (never active): either way at once, not 20 s later
    assert record["end"] in ("left_before_answer", "caller_hangup"), record
    assert record["duration"] < 5, record
    assert record["keys"] == [] and record["transfer"] is None
    assert_recorded_when_the_caller_left(record, left_at)
    await no_room_left(e2e.stack, record)


async def test_a_caller_who_cancels_while_ringing(e2e: Stack) -> None:
    caller_id = new_caller_id()
    report = await place_call(
        e2e.uri(), caller_id=caller_id, cancel_after_ringing_s=0.0, timeout_s=40
    )
    assert report.outcome is CallOutcome.CANCELLED and report.status == 487, report.summary()
    left_at = wall(report.ended_at)
    record = await record_of(e2e.records, caller_id)
    # gone before the router joined, or while it waited for the answer
    assert record["end"] in ("left_before_join", "left_before_answer"), record
    assert record["answered"] is None and record["menus"] == []
    assert_recorded_when_the_caller_left(record, left_at)
    await no_room_left(e2e.stack, record)


async def test_a_caller_who_sends_no_rtp_is_dropped_by_the_bridge_and_recorded(
    e2e: Stack, tmp_path: Path
) -> None:
    # a menu that holds the caller (the session's would transfer a silent caller at 13 s)
    port = free_port()
    router = await holding_router(
        e2e.stack, tmp_path, f"{AGENT}-early", NO_RTP_NUMBER, "--metrics-port", str(port)
    )
    try:
        await _dropped_caller(e2e, tmp_path, f"http://127.0.0.1:{port}/metrics")
    finally:
        await asyncio.to_thread(router.stop)
    assert "Traceback" not in router.log()


async def _dropped_caller(e2e: Stack, folder: Path, metrics_url: str) -> None:
    before = await asyncio.to_thread(scrape, metrics_url)
    caller_id = new_caller_id()
    uri = e2e.stack.sip_uri(NO_RTP_NUMBER)
    report = await place_call(uri, caller_id=caller_id, send_audio=False, timeout_s=60)
    assert report.audio.sent_packets == 0, "no RTP at all"
    assert report.outcome is CallOutcome.REMOTE_BYE, report.summary()
    assert report.answered_at is not None and report.remote_bye_at is not None
    # livekit-sip's MediaTimeoutInitial: 30 s after the answer (upstream: 30 or 45 s)
    assert 29 <= report.remote_bye_at - report.answered_at < 47
    record = await record_of(folder / "calls.jsonl", caller_id)
    assert record["end"] == "dropped", record
    # `active` came from the bridge's 1 s cap (audioBridgeMaxDelay), not from media
    assert record["answered"] is not None and record["answered"] >= 0.9
    assert_recorded_when_the_caller_left(record, wall(report.remote_bye_at))
    await no_room_left(e2e.stack, record)
    after = await asyncio.to_thread(scrape, metrics_url)
    key = 'router_calls_total{end="dropped"}'
    assert after.get(key, 0.0) - before.get(key, 0.0) >= 1
