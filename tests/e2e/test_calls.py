"""Real SIP calls into the real stack, routed by the real router.

Each test places a call with the scripted SIP caller (UDP SIP, RTP, RFC 4733 keys)
to the SIP bridge, which puts it in a LiveKit room where livekit-server dispatches
the router; the caller answers the REFER the router's transfer causes. The SIP
bridge is the project's stand-in for livekit-sip (see README, "Known limits").
"""

from __future__ import annotations

import asyncio
import time

import pytest

from router.stack.harness import errors_in
from router.stack.sipphone import CallOutcome, CallReport, place_call
from tests.e2e.conftest import Stack, eventually, new_caller_id


def refer_target(report: CallReport) -> str | None:
    refer = report.refer
    return refer.refer_to.strip("<>") if refer else None


async def call(
    e2e: Stack, keys: str = "", **kwargs: object
) -> tuple[CallReport, dict[str, object]]:
    caller_id = new_caller_id()
    kwargs.setdefault("timeout_s", 40.0)
    report = await place_call(e2e.uri(), keys=keys, caller_id=caller_id, **kwargs)  # type: ignore[arg-type]
    record = await asyncio.to_thread(e2e.record_for, caller_id)
    assert report.answered, f"not answered: {report.outcome} {report.status} {report.detail}"
    return report, record


def menus_of(record: dict[str, object]) -> list[str]:
    return [m["menu"] for m in record["menus"]]  # type: ignore[index, union-attr]


async def test_one_key_transfers_to_a_tel_number(e2e: Stack) -> None:
    report, record = await call(e2e, "1")
    assert refer_target(report) == "tel:+15105550101"
    assert report.refer is not None
    assert report.refer.x_headers == {"X-Routed-By": "menu-router", "X-Department": "sales"}
    assert report.outcome is CallOutcome.REMOTE_BYE, "the bridge hangs up after a transfer"
    assert record["end"] == "transferred"


async def test_one_key_transfers_to_a_sip_uri(e2e: Stack) -> None:
    report, record = await call(e2e, "2")
    assert refer_target(report) == "sip:support@pbx.example.com"
    transfer = record["transfer"]
    assert isinstance(transfer, dict) and transfer["sip_status"] == 200


async def test_prompt_audio_reaches_the_caller_before_the_first_key(e2e: Stack) -> None:
    report, _ = await call(e2e, "1")
    audio = report.audio
    assert audio.first_audio_at is not None, "no audio with energy reached the caller"
    assert audio.first_audio_at < report.keys[0].sent_at
    assert audio.voiced_s > 1.0


async def test_a_sub_menu_and_back(e2e: Stack) -> None:
    report, record = await call(e2e, "3 1s * 1s 1")
    assert refer_target(report) == "tel:+15105550101"
    assert menus_of(record) == ["main", "more", "main"]


async def test_a_sub_menu_option_with_an_announcement(e2e: Stack) -> None:
    report, record = await call(e2e, "3 1s 1")
    assert refer_target(report) == "sip:billing@pbx.example.com"
    # the announcement is played fully before the REFER
    assert report.refer is not None
    assert report.refer.received_at - report.keys[-1].sent_at > 1.0


@pytest.mark.parametrize(
    ("keys", "target"),
    [
        ("5001", "sip:alice@pbx.example.com"),  # complete: no # needed
        ("5123", "sip:5123@pbx.example.com"),  # a pattern, {ext} filled in
        ("520#", "sip:long@pbx.example.com"),  # ended by #
        ("52#", "sip:short@pbx.example.com"),  # ambiguous (52 / 520), # decides
    ],
)
async def test_dial_by_extension(e2e: Stack, keys: str, target: str) -> None:
    report, _ = await call(e2e, keys, key_gap_s=0.3)
    assert refer_target(report) == target


async def test_ambiguous_extension_waits_for_the_inter_digit_timeout(e2e: Stack) -> None:
    report, _ = await call(e2e, "52")
    assert refer_target(report) == "sip:short@pbx.example.com"
    assert report.refer is not None
    assert report.refer.received_at - report.keys[-1].sent_at >= 0.9


async def test_an_invalid_key_then_a_valid_one(e2e: Stack) -> None:
    report, record = await call(e2e, "9 2s 1")
    assert refer_target(report) == "tel:+15105550101"
    assert record["invalid"] == 1


async def test_invalid_keys_to_the_limit_then_the_fallback(e2e: Stack) -> None:
    report, record = await call(e2e, "9 2s 9")
    assert refer_target(report) == "tel:+15105550100"
    assert record["invalid"] == 2


async def test_silence_to_the_limit_then_the_fallback(e2e: Stack) -> None:
    report, record = await call(e2e, "")
    assert refer_target(report) == "tel:+15105550100"
    assert record["timeouts"] == 2


@pytest.mark.parametrize(
    ("refer_status", "notify_status", "sip_status"),
    [(202, 486, 486), (202, 603, 603), (403, None, 403)],
)
async def test_a_refused_transfer_applies_the_failure_policy(
    e2e: Stack, refer_status: int, notify_status: int | None, sip_status: int
) -> None:
    report, record = await call(
        e2e,
        "1",
        refer_status=refer_status,
        notify_status=notify_status,
        hangup_after_notify_s=4.0,
        hangup_after_s=15.0,
    )
    assert refer_target(report) == "tel:+15105550101"
    assert report.outcome is CallOutcome.LOCAL_BYE, "the router keeps the caller on the line"
    # the caller hears the failure message after the refusal
    assert report.audio.last_audio_at is not None and report.refer is not None
    assert report.audio.last_audio_at > report.refer.received_at + 0.5
    transfer = record["transfer"]
    assert isinstance(transfer, dict)
    assert transfer["result"] == "failed" and transfer["sip_status"] == sip_status
    assert record["end"] == "caller_hangup"


async def test_caller_hangs_up_mid_prompt(e2e: Stack) -> None:
    log_before = len(e2e.router.log())
    report, record = await call(e2e, "", hangup_after_audio_s=1.0)
    assert report.outcome is CallOutcome.LOCAL_BYE
    assert record["end"] == "caller_hangup"
    assert record["transfer"] is None
    # the router leaves the room: LiveKit deletes it once empty
    from livekit import api

    # the record masks the caller's number inside the room name; its random tail is whole
    room_id = str(record["room"]).rsplit("_", 1)[1]
    assert "0201" not in str(record["room"]), "the caller's number is masked in the room name"
    deadline = time.monotonic() + 20
    async with e2e.stack.api() as lk:
        while time.monotonic() < deadline:
            listed = await lk.room.list_rooms(api.ListRoomsRequest())
            (room,) = [r.name for r in listed.rooms if r.name.endswith("_" + room_id)] or [None]
            participants = (
                await lk.room.list_participants(api.ListParticipantsRequest(room=room))
                if room is not None
                else None
            )
            if room is None or not participants or not participants.participants:
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail(f"room *_{room_id} still has participants 20 s after the caller hung up")
    assert errors_in(e2e.router.log()[log_before:]) == []


async def test_a_changed_menu_file_is_used_by_the_next_call(e2e: Stack) -> None:
    original = e2e.menus.read_text()
    try:
        e2e.menus.write_text(original.replace('"tel:+15105550101"', '"tel:+15105550199"'))
        await eventually(
            lambda: "menu file reloaded" in e2e.router.log(),
            within=10,
            what="the router reloads the changed file",
        )
        report, _ = await call(e2e, "1")
        assert refer_target(report) == "tel:+15105550199"
        # a broken edit is refused and the last good version kept
        e2e.menus.write_text(original.replace("version: 1", "version: 7"))
        await eventually(
            lambda: "was refused" in e2e.router.log(),
            within=10,
            what="the router reports the broken file",
        )
        report, _ = await call(e2e, "1")
        assert refer_target(report) == "tel:+15105550199"
    finally:
        e2e.menus.write_text(original)
        await eventually(
            lambda: e2e.router.log().count("menu file reloaded") >= 2,
            within=10,
            what="the router takes the original file back",
            strict=False,
        )
