"""Transfers over the real stack, as each SIP bridge version reports them.

The session's stand-in reports a failed REFER as livekit-sip v1.11.0 does (the SIP status
in the error's metadata: tests/e2e/test_calls.py). Here a second stand-in on the same
livekit-server v1.13.5 reports it as livekit-sip v1.0.0 does: no SIP status at all
(`standin_transfer_errors: v1.0.0`, router/stack/sipstandin/README.md). Newer servers'
answers are tested at the HTTP boundary (tests/runtime/test_transfer_answers.py).
"""

from __future__ import annotations

import asyncio
import re
import urllib.request

import pytest
from livekit import api, rtc
from prometheus_client.parser import text_string_to_metric_families

from router.stack.local import SipBridge
from router.stack.sipphone import CallOutcome, place_call
from tests.e2e.conftest import NUMBER, Stack, eventually, new_caller_id


@pytest.fixture(scope="module")
def old_bridge(e2e: Stack) -> SipBridge:
    return e2e.stack.add_sip_bridge("sip-v1.0.0", standin_transfer_errors="v1.0.0")


@pytest.mark.parametrize("notify_status", [486, 603])
async def test_an_old_bridges_failure_without_sip_status_runs_the_error_policy(
    e2e: Stack, old_bridge: SipBridge, notify_status: int
) -> None:
    caller_id = new_caller_id()
    report = await place_call(
        old_bridge.sip_uri(NUMBER),
        keys="1",
        caller_id=caller_id,
        notify_status=notify_status,
        hangup_after_notify_s=4.0,
        hangup_after_s=15.0,
        timeout_s=40.0,
    )
    record = await asyncio.to_thread(e2e.record_for, caller_id)
    assert report.answered and report.refer is not None
    assert report.refer.refer_to.strip("<>") == "tel:+15105550101"
    assert report.outcome is CallOutcome.LOCAL_BYE, "the router keeps the caller on the line"
    # the 'error' policy's message is heard after the refusal
    assert report.audio.last_audio_at is not None
    assert report.audio.last_audio_at > report.refer.received_at + 0.5
    transfer = record["transfer"]
    assert isinstance(transfer, dict)
    assert transfer["result"] == "failed" and transfer["sip_status"] is None
    assert str(transfer["detail"]).startswith("error -:"), transfer
    assert "call transfer failed" in str(transfer["detail"])
    assert record["end"] == "caller_hangup"


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def label_values(text: str) -> set[str]:
    """Every label value of every sample in a Prometheus text page (sample values, such as
    timestamps, may contain any digits: only the labels can name a caller's key presses)."""
    return {
        value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for value in sample.labels.values()
    }


async def test_metrics_name_an_extension_by_its_directory_entry_never_its_digits(
    e2e: Stack,
) -> None:
    for extension in ("5101", "5177"):
        caller_id = new_caller_id()
        report = await place_call(e2e.uri(), keys=extension, caller_id=caller_id, timeout_s=40)
        assert report.refer is not None
        assert report.refer.refer_to.strip("<>") == f"sip:{extension}@pbx.example.com"
        await asyncio.to_thread(e2e.record_for, caller_id)
    text = await asyncio.to_thread(scrape, e2e.metrics_url)
    assert re.search(
        r'router_transfers_total\{destination="staff:51xx",kind="",result="succeeded"\} [2-9]', text
    )
    labels = label_values(text)
    assert "staff:51xx" in labels
    assert not any("5101" in value or "5177" in value for value in labels), labels


async def test_a_caller_who_hangs_up_during_the_transfer_is_recorded_as_such(e2e: Stack) -> None:
    """The caller hangs up after accepting the REFER, before any final NOTIFY: the caller's
    departure reaches the router long before the bridge's answer to the transfer (which
    comes at the request's deadline, as livekit-sip's does). The record is the one `router
    simulate` gives (the offline twin, both orders of the news:
    tests/runtime/test_hangup_in_transfer.py)."""
    caller_id = new_caller_id()
    report = await place_call(
        e2e.uri(),
        keys="1",
        caller_id=caller_id,
        notify_status=None,  # the far end never answers the REFER's progress
        hangup_after_keys_s=1.5,
        timeout_s=40.0,
    )
    record = await asyncio.to_thread(e2e.record_for, caller_id)
    assert report.answered and report.refer is not None, "the REFER reached the phone"
    assert report.outcome is CallOutcome.LOCAL_BYE, "the caller hung up; nobody hung up on them"
    assert record["end"] == "caller_hangup"
    (transfer,) = record["transfers"]
    assert (transfer["target"], transfer["result"]) == ("tel:+15105550101", "pending")
    assert "kind" not in transfer, "no failure of the destination"


async def test_a_ring_out_runs_the_no_answer_policy_after_the_margin(e2e: Stack) -> None:
    """The far end accepts the REFER and never sends a final NOTIFY. At the ringing timeout
    (10 s) LiveKit gives up with no SIP status, as livekit-sip does (the stand-in's
    "refer canceled", or the server's own deadline: router/stack/sipstandin/README.md);
    the router waits the margin for the caller to leave, then runs the `no_answer`
    policy ("Nobody answered.") with the caller still on the line."""
    caller_id = new_caller_id()
    report = await place_call(
        e2e.uri(),
        keys="1",
        caller_id=caller_id,
        notify_status=None,  # 202 to the REFER, then nothing
        hangup_after_s=27.0,  # ringing timeout 10 s + margin 10 s + the policy's message
        timeout_s=45.0,
    )
    record = await asyncio.to_thread(e2e.record_for, caller_id)
    assert report.answered and report.refer is not None, "the REFER reached the phone"
    assert report.outcome is CallOutcome.LOCAL_BYE, "the router keeps the caller on the line"
    assert report.audio.last_audio_at is not None
    assert report.audio.last_audio_at > report.refer.received_at, "the policy is heard"
    transfer = record["transfer"]
    assert isinstance(transfer, dict)
    assert (transfer["result"], transfer["sip_status"]) == ("failed", None), transfer
    assert str(transfer["detail"]).startswith("no_answer"), transfer
    assert record["end"] == "caller_hangup"


async def _room_of(e2e: Stack, caller_id: str, within_s: float = 20.0) -> str:
    """The room of the call placed from `caller_id` (its SIP participant's number)."""
    deadline = asyncio.get_running_loop().time() + within_s
    async with e2e.stack.api() as lk:
        while asyncio.get_running_loop().time() < deadline:
            for room in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms:
                asked = api.ListParticipantsRequest(room=room.name)
                listed = (await lk.room.list_participants(asked)).participants
                if any(p.attributes.get("sip.phoneNumber") == caller_id for p in listed):
                    return room.name
            await asyncio.sleep(0.2)
    raise AssertionError(f"no room holds the call from {caller_id}")


async def test_after_a_completed_transfer_the_router_leaves_the_room_after_the_caller(
    e2e: Stack,
) -> None:
    """The SIP bridge leaves a second after the transfer's NOTIFY 200 (livekit-sip's
    `referByeTimeout`); the router leaves only once it has seen the caller go, since the
    rtc library keeps about 0.5 MB of every room closed with a remote participant's track
    still in it (issue 18, `CALLER_LEAVES_FIRST_S`). A third participant in the room (a
    plain one: the router serves SIP callers only) sees who leaves first."""
    caller_id = new_caller_id()
    call = asyncio.ensure_future(
        place_call(e2e.uri(), keys="4s 1", caller_id=caller_id, timeout_s=40.0)
    )
    observer = rtc.Room()
    left: list[int] = []
    observer.on("participant_disconnected", lambda p: left.append(p.kind))
    try:
        room = await _room_of(e2e, caller_id)
        await observer.connect(e2e.stack.url, e2e.stack.token("observer", room))
        report = await call
        agent = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
        await eventually(lambda: agent in left, within=20, what="the router leaves the room")
    finally:
        call.cancel()
        await observer.disconnect()
    record = await asyncio.to_thread(e2e.record_for, caller_id)
    assert report.refer is not None and record["end"] == "transferred"
    assert left[:2] == [rtc.ParticipantKind.PARTICIPANT_KIND_SIP, agent], left
