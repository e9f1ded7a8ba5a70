"""A caller who hangs up while being transferred, whichever news reaches the router first.

When the caller hangs up after the REFER and before the far end's final NOTIFY, three
pieces of news race to the router: LiveKit's answer to TransferSIPParticipant
(livekit-sip's "refer canceled" at the request's deadline, no SIP status, as the
stand-in now answers too; livekit-server's `not_found` for a participant already gone), the caller's
`sip.callStatus` turning `hangup`, and the caller's participant leaving the room. The
soak (issue 18) saw the order change with the machine's load, the departure up to 2.6 s
after the answer, and the record with it. Whatever the order, the record is the one
`router simulate` gives: the transfer `pending` (unfinished, no failure of the
destination), `end: caller_hangup`, no failure policy run, nobody hung up on. What
settles an answer that comes first is the server's state (`RoomService.GetParticipant`:
gone, or `hangup`); only when the server cannot be asked does the router wait for the
departure (`CALLER_GONE_GRACE_S`). The only fake is the Twirp API at its HTTP boundary
(twirp_fake.py); the same race over the real stack is tests/e2e/test_transfers.py's
`test_a_caller_who_hangs_up_during_the_transfer_is_recorded_as_such`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from livekit import api, rtc

from router.core.events import EndReason
from router.runtime import transfer_watch
from router.runtime.call import CallSession, SessionOptions
from router.runtime.metrics import Metrics
from router.runtime.records import CallRecord
from router.runtime.transfer_watch import CALLER_GONE_GRACE_S, LEG_CLOSED_GRACE_S
from tests.runtime.test_call_offline import (
    SALES,
    Call,
    fake,
    menu_file,
    rendered_cache,
    sip_caller,
)
from tests.runtime.twirp_fake import (
    NOT_FOUND,
    SERVER_WITHOUT_REDIS,
    FakeLiveKitAPI,
    participant,
    sip_failure,
)

__all__ = ["fake"]  # the Twirp fake fixture, shared with the call tests

TRANSFER = "livekit.SIP/TransferSIPParticipant"

REFER_CANCELED = (
    408,
    json.dumps({"code": "canceled", "msg": "twirp error unknown: refer canceled"}).encode(),
)
"""livekit-sip's answer when its REFER is still out at the request's deadline, as
livekit-server v1.13.5 passes it on (psrpc `Canceled`, no SIP status; livekit/sip
`pkg/sip/inbound.go`, `sipInbound.TransferCall`): LiveKit giving up at the ringing
timeout (`TransferUndecided`), as `LIVEKIT_GAVE_UP`."""

SIP_408 = sip_failure(408, "Request Timeout")
"""A bridge answering the same deadline with a SIP `408` (the stand-in did, before issue 18)."""

NO_SIP_STATUS = (
    408,
    json.dumps({"code": "canceled", "msg": "twirp error unknown: call transfer failed"}).encode(),
)
"""A failed transfer without the far end's status (livekit-sip v1.0.0's every failure)."""

LIVEKIT_GAVE_UP = (
    408,
    json.dumps(
        {"code": "deadline_exceeded", "msg": "twirp error unknown: request timed out"}
    ).encode(),
)
"""livekit-server's own deadline (psrpc "request timed out") passing before the bridge
answered: the REFER's outcome unknown to LiveKit (`TransferUndecided`).
The soak's run 5 recorded five callers who hung up while the far end rang as
transferred: their departure, seen late, was taken for the REFER completing."""

ANSWERS_OF_A_GONE_CALLER = pytest.mark.parametrize(
    "answer",
    [REFER_CANCELED, NOT_FOUND, SIP_408, LIVEKIT_GAVE_UP],
    ids=["refer-canceled", "participant-gone", "sip-408", "livekit-gave-up"],
)

LOOKUP = "livekit.RoomService/GetParticipant"

SERVER_SAYS_GONE = pytest.mark.parametrize(
    "server",
    [NOT_FOUND, participant("sip_+15105559876", "hangup")],
    ids=["server-not-found", "server-hangup"],
)
"""The server's state once the caller hung up: gone, or still leaving (`hangup`)."""


async def new_call(
    fake: FakeLiveKitAPI,
    *,
    room: rtc.Room | None = None,
    caller: rtc.RemoteParticipant | None = None,
    **kwargs: Any,
) -> Call:
    """A CallSession of the test menu on `room`, served in the background for `caller`;
    `kwargs` go to CallSession (`options`, `metrics`, `sink`)."""
    mf = menu_file()
    cache = await rendered_cache(mf)
    lk = api.LiveKitAPI(url=fake.url, api_key="devkey", api_secret="s" * 32)
    session = CallSession(room or rtc.Room(), mf, cache, lk, **kwargs)
    return Call(session, caller or sip_caller(), lk)


async def transfer_call(fake: FakeLiveKitAPI, metrics: Metrics) -> Call:
    """A call answered and greeted, the caller pressing 1 (sales: a transfer)."""
    call = await new_call(fake, options=SessionOptions(), metrics=metrics)
    await call.until(lambda: call.session.player.playing)
    call.press("1")
    await call.until(lambda: len(fake.transfers()) == 1)
    return call


async def answered_call(
    fake: FakeLiveKitAPI, answer: tuple[int, bytes], server: tuple[int, bytes], metrics: Metrics
) -> Call:
    """`transfer_call` with LiveKit's `answer` to the transfer and the `server`'s word on
    the caller (GetParticipant) queued."""
    fake.answer(TRANSFER, answer)
    fake.answer(LOOKUP, server)
    return await transfer_call(fake, metrics)


def answer_in(session: CallSession) -> bool:
    """LiveKit's answer has reached the router (the request's task is done)."""
    return not any(
        getattr(t.get_coro(), "__qualname__", "") == "SipTransferrer._send" for t in session._tasks
    )


def assert_caller_hung_up_during_transfer(
    record: CallRecord, fake: FakeLiveKitAPI, metrics: Metrics
) -> None:
    assert record.end == EndReason.CALLER_HANGUP
    (transfer,) = record.transfers
    assert transfer.as_dict() == {
        "target": SALES,
        "destination": "sales",
        "t": transfer.t,
        "result": "pending",
    }
    assert fake.removals() == [], "nobody to hang up on: the caller left"
    assert len(fake.transfers()) == 1, "no second transfer for a caller who is gone"
    # not a failure of the destination: `router_transfers_total` counts answers only
    assert not [
        s for m in metrics.transfers.collect() for s in m.samples if s.name.endswith("_total")
    ]


@ANSWERS_OF_A_GONE_CALLER
@SERVER_SAYS_GONE
async def test_the_answer_first_the_caller_leaving_long_after(
    fake: FakeLiveKitAPI, answer: tuple[int, bytes], server: tuple[int, bytes]
) -> None:
    # the soak's run 5: the departure reached the router 2.6 s after the answer; the
    # server already knew, and its word ends the call without waiting for the departure
    metrics = Metrics()
    call = await answered_call(fake, answer, server, metrics)
    record = await call.record(within=CALLER_GONE_GRACE_S + 2)
    assert_caller_hung_up_during_transfer(record, fake, metrics)
    assert [r.identity for r in fake.lookups()] == [call.caller.identity]


@pytest.mark.parametrize(
    "answer", [NO_SIP_STATUS, NOT_FOUND], ids=["no-sip-status", "participant-gone"]
)
@pytest.mark.parametrize(
    "server",
    [SERVER_WITHOUT_REDIS, participant("sip_+15105559876", "active")],
    ids=["server-away", "server-not-yet-told"],
)
async def test_the_answer_first_the_server_unsure_waits_for_the_departure(
    fake: FakeLiveKitAPI, answer: tuple[int, bytes], server: tuple[int, bytes]
) -> None:
    # the server cannot be asked (its Redis is down), or still sees the caller `active`
    # (run 6: the bridge's "can't transfer non established call" beat its own `hangup`
    # to the server): a failure without the far end's status waits up to
    # CALLER_GONE_GRACE_S for the departure
    metrics = Metrics()
    call = await answered_call(fake, answer, server, metrics)
    await call.until(lambda: len(fake.lookups()) == 1)
    assert not call.session.player.playing, "no failure policy's goodbye is played meanwhile"
    call.hang_up()
    record = await call.record(within=CALLER_GONE_GRACE_S + 2)
    assert_caller_hung_up_during_transfer(record, fake, metrics)


@ANSWERS_OF_A_GONE_CALLER
async def test_the_caller_leaving_first_then_the_answer(
    fake: FakeLiveKitAPI, answer: tuple[int, bytes]
) -> None:
    fake.answer(TRANSFER, answer, delay=0.5)
    metrics = Metrics()
    call = await transfer_call(fake, metrics)
    call.hang_up()
    record = await call.record(within=CALLER_GONE_GRACE_S + 2)
    assert_caller_hung_up_during_transfer(record, fake, metrics)


async def test_the_caller_leaving_with_no_answer_at_all(fake: FakeLiveKitAPI) -> None:
    # the API answers long after the grace: the departure alone ends the call, the same way
    fake.answer(TRANSFER, REFER_CANCELED, delay=CALLER_GONE_GRACE_S + 3)
    metrics = Metrics()
    call = await transfer_call(fake, metrics)
    call.hang_up()
    record = await call.record(within=CALLER_GONE_GRACE_S + 2)
    assert_caller_hung_up_during_transfer(record, fake, metrics)


@pytest.mark.parametrize(
    "server",
    [participant("sip_+15105559876", "active"), SERVER_WITHOUT_REDIS],
    ids=["server-active", "server-away"],
)
async def test_a_caller_who_stays_after_such_an_answer_hears_the_error_policy(
    fake: FakeLiveKitAPI, server: tuple[int, bytes]
) -> None:
    # the same answer with the caller still there (the server says so, or, when it
    # cannot be asked, the caller is still there after the grace): a failed transfer
    metrics = Metrics()
    call = await answered_call(fake, NO_SIP_STATUS, server, metrics)
    record = await call.record(within=CALLER_GONE_GRACE_S + 8)
    assert record.end == EndReason.HANGUP, "the error policy: a goodbye, then a hang-up"
    transfer = record.transfer
    assert transfer is not None
    assert (transfer.result, transfer.kind) == ("failed", "error")
    assert len(fake.removals()) == 1


async def test_a_far_end_failure_stays_a_failure_when_the_caller_then_hangs_up(
    fake: FakeLiveKitAPI,
) -> None:
    # a final status from the far end (486) is the destination's answer: its policy runs
    # at once (the apology and the menu again), and a hang-up after it changes nothing
    fake.answer(TRANSFER, sip_failure(486, "Busy Here"))
    call = await transfer_call(fake, Metrics())
    await call.until(lambda: answer_in(call.session) and call.session.player.playing)
    call.hang_up()
    record = await call.record()
    transfer = record.transfer
    assert transfer is not None
    assert (transfer.result, transfer.kind) == ("failed", "busy")
    assert record.end == EndReason.CALLER_HANGUP


async def test_a_caller_who_leaves_after_livekit_gave_up_was_transferred(
    fake: FakeLiveKitAPI,
) -> None:
    # still there when LiveKit gave up (the server says so): a departure afterwards is the
    # REFER completing late, as before
    active = participant("sip_+15105559876", "active")
    call = await answered_call(fake, LIVEKIT_GAVE_UP, active, Metrics())
    await call.until(lambda: len(fake.lookups()) == 1)
    call.hang_up()
    record = await call.record()
    assert record.end == EndReason.TRANSFERRED
    transfer = record.transfer
    assert transfer is not None and transfer.result == "succeeded"
    # nobody said 200: the record says what the success was taken from (the soak's run 7:
    # a ring-out cut by the SIP bridge's restart looked exactly like this)
    assert transfer.sip_status is None
    assert "taken for the REFER completing late" in str(transfer.detail)
    assert "request timed out" in str(transfer.detail)


NOT_ESTABLISHED = (
    412,
    json.dumps(
        {
            "code": "failed_precondition",
            "msg": "twirp error unknown: can't transfer non established call",
        }
    ).encode(),
)
"""livekit-sip's answer to a REFER for a dialog its BYE has dropped (`pkg/sip/inbound.go`
`newReferReq`), as livekit-server v1.13.5 passes it on: the caller is hanging up."""


async def test_a_refer_refused_for_a_closed_dialog_waits_longer_for_the_departure(
    fake: FakeLiveKitAPI,
) -> None:
    # soak run 9: the bridge's "can't transfer non established call" came first, the
    # server still saw the caller `active`, and the departure came more than
    # CALLER_GONE_GRACE_S later: two callers who hung up recorded as a failed transfer
    metrics = Metrics()
    call = await answered_call(
        fake, NOT_ESTABLISHED, participant("sip_+15105559876", "active"), metrics
    )
    await call.until(lambda: len(fake.lookups()) == 1)
    await asyncio.sleep(CALLER_GONE_GRACE_S + 1.0)
    assert not call.session.player.playing, "no failure policy's goodbye meanwhile"
    call.hang_up()
    record = await call.record(within=LEG_CLOSED_GRACE_S)
    assert_caller_hung_up_during_transfer(record, fake, metrics)


async def test_a_caller_still_there_after_a_closed_dialog_answer_is_a_failure(
    fake: FakeLiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer_watch, "LEG_CLOSED_GRACE_S", 0.5)
    fake.answer(LOOKUP, participant("sip_+15105559876", "active"))
    fake.answer(LOOKUP, participant("sip_+15105559876", "active"))
    call = await answered_call(
        fake, NOT_ESTABLISHED, participant("sip_+15105559876", "active"), Metrics()
    )
    await call.until(lambda: call.session.player.playing)  # the failure policy's message
    call.hang_up()
    record = await call.record()
    (transfer,) = record.transfers
    assert transfer.result == "failed" and "non established" in str(transfer.detail)
