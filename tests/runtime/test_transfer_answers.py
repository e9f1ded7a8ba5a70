"""What LiveKit answers to TransferSIPParticipant, version by version, and what the caller
then hears.

livekit-server v1.13.6 and later cannot be built here, so their answers come from
`sipapi_v1_13_11/` (Go): upstream's own encoder at v1.13.11's module versions, with
v1.13.11's `TransferSIPParticipant` body and a scripted SIP bridge behind psrpc. That
program is the fake of this module, at the HTTP boundary; it is built with the Go
toolchain like the SIP stand-in (`router.stack.install`) and fails the tests loudly if it
cannot be. The same answers reach the router from a real livekit-server v1.13.5 in the
end-to-end tests (tests/e2e/test_transfers.py).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from livekit import api, rtc

from router.core.events import (
    Effect,
    EndReason,
    Play,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import (
    FailureKind,
    FailurePolicy,
    GoTo,
    Hangup,
    Prompt,
    TransferReason,
    TransferSettings,
)
from router.runtime import transfer as transfer_module
from router.runtime.call import CallSession, SessionOptions
from router.runtime.transfer import SipTransferrer, TransferUndecided
from router.stack import install
from tests.runtime.test_call_offline import Call, menu_file, rendered_cache, sip_caller

SRC = Path(__file__).parent / "sipapi_v1_13_11"


@dataclass
class SipApi:
    """livekit-server v1.13.11's SIP Twirp API on loopback, its bridge scripted."""

    url: str

    def script(self, *answers: dict[str, Any]) -> None:
        """What the SIP bridge answers to the next transfers (the last one repeats)."""
        request = urllib.request.Request(
            f"{self.url}/script", data=json.dumps(list(answers)).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    def requests(self) -> list[dict[str, Any]]:
        """The transfers the bridge was asked for, as it received them."""
        with urllib.request.urlopen(f"{self.url}/requests", timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def client(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(url=self.url, api_key="devkey", api_secret="s" * 32)


@pytest.fixture(scope="module")
def sipapi() -> Iterator[SipApi]:
    binary = install.build_go_program(
        install.find_go(),
        install.cache_dir(),
        SRC,
        "sipapi_v1_13_11",
        what="livekit-server v1.13.11's SIP API for the transfer tests",
        quiet=True,
    )
    proc = subprocess.Popen(
        [str(binary)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            proc.kill()
            raise RuntimeError(f"sipapi_v1_13_11 did not start: {line}{proc.stderr.read()}")  # type: ignore[union-attr]
        yield SipApi("http://" + line.split()[-1])
    finally:
        proc.kill()
        proc.communicate()


def response(status: str, reason: str = "", sip: int = 0, text: str = "") -> dict[str, Any]:
    """A bridge reporting the outcome in its response (v1.13.6+)."""
    return {
        "response": {
            "transfer_id": "STR_t1",
            "status": status,
            "reason": reason,
            "sip_code": sip,
            "sip_text": text,
        }
    }


def transfer_error(code: str, reason: str, sip: int = 0, text: str = "") -> dict[str, Any]:
    """A failed transfer as an error with protocol's SIPTransferError detail."""
    return {
        "transfer_error": {
            "code": code,
            "msg": "call transfer failed",
            "transfer_id": "STR_t1",
            "reason": reason,
            "sip_code": sip,
            "sip_text": text,
        }
    }


def sip_status_error(sip: int, text: str) -> dict[str, Any]:
    """livekit-sip v1.11.0: an error wrapping the NOTIFY's SIP status."""
    return {"sip_status_error": {"msg": "transfer failed", "sip_code": sip, "sip_text": text}}


OLD_BRIDGE = {"plain_error": {"code": "canceled", "msg": "call transfer failed"}}
"""livekit-sip v1.0.0: a failed transfer is a psrpc error with no SIP status."""

RING_OUT = {"plain_error": {"code": "canceled", "msg": "refer canceled"}}
"""livekit-sip at the ringing timeout with no final NOTIFY (`pkg/sip/inbound.go`,
`sipInbound.TransferCall`): psrpc canceled, no SIP status."""

SUCCESSFUL, FAILED, ONGOING = (
    "STS_TRANSFER_SUCCESSFUL",
    "STS_TRANSFER_FAILED",
    "STS_TRANSFER_ONGOING",
)

# (id, the bridge's answer, expected: "ok" | "undecided" | (kind, SIP status, reason))
ANSWERS: list[tuple[str, dict[str, Any], object]] = [
    ("empty (v1.13.5-era bridge)", {}, "ok"),
    ("successful", response(SUCCESSFUL, "STR_COMPLETED"), "ok"),
    ("failed 486", response(FAILED, "STR_REJECTED", 486, "Busy Here"), ("busy", 486, "rejected")),
    ("failed 603", response(FAILED, "STR_REJECTED", 603, "Decline"), ("rejected", 603, "rejected")),
    ("failed 480", response(FAILED, "STR_REJECTED", 480, ""), ("no_answer", 480, "rejected")),
    (
        "failed rejected, no status",
        response(FAILED, "STR_REJECTED"),
        ("rejected", None, "rejected"),
    ),
    (
        "failed ringing timeout",
        response(FAILED, "STR_RINGING_TIMEOUT"),
        ("no_answer", None, "ringing_timeout"),
    ),
    ("failed call ended", response(FAILED, "STR_CALL_ENDED"), ("error", None, "call_ended")),
    (
        "failed subscription terminated",
        response(FAILED, "STR_SUBSCRIPTION_TERMINATED"),
        ("error", None, "subscription_terminated"),
    ),
    ("failed canceled", response(FAILED, "STR_CANCELED"), ("error", None, "canceled")),
    ("failed, no reason", response(FAILED), ("error", None, None)),
    ("ongoing", response(ONGOING), "undecided"),
    ("ongoing ringing", response(ONGOING, "STR_UNSPECIFIED", 180, "Ringing"), "undecided"),
    (
        "error rejected 486",
        transfer_error("upstream_client_error", "STR_REJECTED", 486, "Busy Here"),
        ("busy", 486, "rejected"),
    ),
    (
        "error rejected 603",
        transfer_error("upstream_client_error", "STR_REJECTED", 603, "Decline"),
        ("rejected", 603, "rejected"),
    ),
    (
        "error ringing timeout",
        transfer_error("deadline_exceeded", "STR_RINGING_TIMEOUT"),
        ("no_answer", None, "ringing_timeout"),
    ),
    (
        "error ringing timeout, unknown code",
        transfer_error("unknown", "STR_RINGING_TIMEOUT"),
        ("no_answer", None, "ringing_timeout"),
    ),
    (
        "error call ended",
        transfer_error("canceled", "STR_CALL_ENDED"),
        ("error", None, "call_ended"),
    ),
    ("v1.11.0 bridge 486", sip_status_error(486, "Busy Here"), ("busy", 486, None)),
    ("v1.11.0 bridge 603", sip_status_error(603, "Decline"), ("rejected", 603, None)),
    ("v1.11.0 bridge 408", sip_status_error(408, "Request Timeout"), ("no_answer", 408, None)),
    ("v1.0.0 bridge", OLD_BRIDGE, ("error", None, None)),
    # livekit-sip's TransferCall (pkg/sip/inbound.go) at the ringing timeout, no final
    # NOTIFY: LiveKit gave up, the destination did not fail
    ("bridge's ringing timeout", RING_OUT, "undecided"),
    (
        "unknown call",
        {"plain_error": {"code": "not_found", "msg": "unknown call"}},
        ("error", None, None),
    ),
]


@pytest.mark.parametrize(
    ("answer", "expected"), [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
async def test_every_answer_of_a_v1_13_11_server_is_read(
    sipapi: SipApi, answer: dict[str, Any], expected: object
) -> None:
    sipapi.script(answer)
    lk = sipapi.client()
    try:
        effect = TransferTo("tel:+15105550101", TransferSettings(ringing_timeout_s=20.0))
        result = await SipTransferrer(lk, "room-1").transfer("sip_+15105559876", effect, 100.0)
    finally:
        await lk.aclose()
    (request,) = sipapi.requests()
    assert request["transfer_to"] == "tel:+15105550101"
    assert request["ringing_timeout"] == 20.0
    if expected == "ok":
        assert isinstance(result, TransferSucceeded), result
    elif expected == "undecided":
        assert isinstance(result, TransferUndecided), result
        assert result.decide_by == 100.0 + 20.0 + transfer_module.TRANSFER_MARGIN_S
    else:
        kind, status, reason = expected  # type: ignore[misc]
        assert isinstance(result, TransferFailed), result
        assert (result.kind.value, result.sip_status) == (kind, status), result
        assert (result.transfer_reason.value if result.transfer_reason else None) == reason
        assert "\n" not in result.reason and result.reason


async def test_the_servers_own_deadline_leaves_the_outcome_undecided(sipapi: SipApi) -> None:
    """The bridge still busy with the REFER when the ringing timeout passes: LiveKit answers
    deadline_exceeded, and the far end may yet answer the REFER."""
    sipapi.script({"delay_s": 5, **response(SUCCESSFUL, "STR_COMPLETED")})
    lk = sipapi.client()
    try:
        effect = TransferTo("tel:+15105550101", TransferSettings(ringing_timeout_s=1.0))
        result = await SipTransferrer(lk, "room-1").transfer("sip_+15105559876", effect, 0.0)
    finally:
        await lk.aclose()
    assert isinstance(result, TransferUndecided), result
    # psrpc's deadline or the bridge seeing its context end: whichever comes first
    assert result.why.startswith(("deadline_exceeded", "canceled: context deadline exceeded"))


def test_one_grouping_for_statuses_and_reasons() -> None:
    """A SIP status decides over LiveKit's reason; without one the reason does."""
    classify = FailureKind.classify
    assert classify(486, TransferReason.REJECTED) is FailureKind.BUSY
    assert classify(480, TransferReason.REJECTED) is FailureKind.NO_ANSWER
    assert classify(None, TransferReason.RINGING_TIMEOUT) is FailureKind.NO_ANSWER
    assert classify(None, TransferReason.REJECTED) is FailureKind.REJECTED
    assert classify(None, TransferReason.CALL_ENDED) is FailureKind.ERROR
    assert classify(None, None) is FailureKind.ERROR
    assert classify(503, None) is FailureKind.ERROR
    assert FailureKind.from_sip_status(603) is FailureKind.REJECTED


# --- followed through the call: what the caller hears -------------------------------------

HEARD = {
    "busy": "The line is busy.",
    "no_answer": "Nobody answered.",
    "rejected": "That line does not take calls.",
}


def policy_file() -> Any:
    """The offline tests' menu file with one message per failure kind; error hangs up."""
    mf = menu_file()
    policy = FailurePolicy(
        busy=GoTo("main", message=Prompt(HEARD["busy"])),
        no_answer=GoTo("main", message=Prompt(HEARD["no_answer"])),
        rejected=GoTo("main", message=Prompt(HEARD["rejected"])),
        error=Hangup(Prompt("Goodbye.")),
    )
    from dataclasses import replace

    main = replace(mf.menus["main"], on_transfer_failure=policy)
    return replace(mf, menus={**mf.menus, "main": main})


def named_room(name: str = "call-_+15105559876_abc") -> rtc.Room:
    """An unconnected room with the name a SIP dispatch rule gives (LiveKit v1.13.11
    refuses a transfer without a room name)."""
    room = rtc.Room()
    room._info.name = name
    return room


class HeardCall(Call):
    """A call whose every prompt is kept, in the order the caller hears them."""

    def __init__(self, session: CallSession, lk: api.LiveKitAPI) -> None:
        self.heard: list[str] = []
        apply = session._apply

        def keep(effect: Effect) -> None:
            if isinstance(effect, Play):
                self.heard.extend(p.text or p.audio or "" for p in effect.prompts)
            apply(effect)

        session._apply = keep  # type: ignore[method-assign]
        super().__init__(session, sip_caller(), lk)


@pytest.fixture
async def call(sipapi: SipApi) -> AsyncIterator[HeardCall]:
    mf = policy_file()
    cache = await rendered_cache(mf)
    lk = sipapi.client()
    session = CallSession(named_room(), mf, cache, lk, options=SessionOptions())
    heard = HeardCall(session, lk)
    await heard.until(lambda: session.player.playing)
    yield heard
    if not heard.task.done():
        heard.hang_up()
        await heard.record()


FAILED_ANSWERS = [
    ("failed 486, no error", response(FAILED, "STR_REJECTED", 486, "Busy Here"), "busy"),
    ("failed ringing timeout, no error", response(FAILED, "STR_RINGING_TIMEOUT"), "no_answer"),
    ("failed rejected, no error", response(FAILED, "STR_REJECTED"), "rejected"),
    (
        "error 603 with reason",
        transfer_error("upstream_client_error", "STR_REJECTED", 603),
        "rejected",
    ),
]


@pytest.mark.parametrize(
    ("answer", "kind"), [a[1:] for a in FAILED_ANSWERS], ids=[a[0] for a in FAILED_ANSWERS]
)
async def test_a_failed_transfer_runs_the_files_policy_for_its_kind(
    sipapi: SipApi, call: HeardCall, answer: dict[str, Any], kind: str
) -> None:
    sipapi.script(answer)
    call.press("1")
    await call.until(lambda: HEARD[kind] in call.heard)
    await call.until(lambda: call.session.player.playing)
    assert not call.task.done(), "the caller stays on the line, in the menu"
    assert call.session.navigator.menu == "main"
    call.hang_up()
    record = await call.record()
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "failed"
    assert str(transfer.detail).startswith(kind)


async def test_an_old_bridges_failure_without_a_sip_status_runs_the_error_policy(
    sipapi: SipApi, call: HeardCall
) -> None:
    sipapi.script(OLD_BRIDGE)
    call.press("1")
    record = await call.record()
    assert "Goodbye." in call.heard
    assert record.end == EndReason.HANGUP
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "failed" and transfer.sip_status is None
    assert "call transfer failed" in str(transfer.detail)


async def test_an_ongoing_transfer_is_decided_by_the_caller_leaving(
    sipapi: SipApi, call: HeardCall
) -> None:
    sipapi.script(response(ONGOING))
    call.press("1")
    await asyncio.sleep(0.5)
    assert not call.task.done(), "the router stays with the caller while the REFER may complete"
    assert call.session.room.isconnected() is False  # offline room: nothing left, nothing hung up
    call.hang_up()  # the bridge ends the caller's leg: the REFER completed
    record = await call.record(within=3)
    assert record.end == EndReason.TRANSFERRED
    transfer = record.transfer
    assert transfer is not None and transfer.result == "succeeded"


@pytest.mark.parametrize(
    "answer",
    [response(ONGOING), RING_OUT],
    ids=["ongoing", "ring-out: refer canceled"],
)
async def test_an_ongoing_transfer_with_the_caller_still_there_is_no_answer(
    sipapi: SipApi, monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any]
) -> None:
    # a ring-out too: the bridge's "refer canceled" at the ringing timeout; the caller
    # still there after the margin hears the no_answer policy
    monkeypatch.setattr(transfer_module, "TRANSFER_MARGIN_S", 0.5)
    sipapi.script(answer)
    mf = policy_file()
    from dataclasses import replace

    main = mf.menus["main"]
    fast = replace(
        main.options[Key.D1],
        settings=replace(main.options[Key.D1].settings, ringing_timeout_s=0.5),  # type: ignore[union-attr]
    )
    mf = replace(
        mf, menus={**mf.menus, "main": replace(main, options={**main.options, Key.D1: fast})}
    )
    cache = await rendered_cache(mf)
    lk = sipapi.client()
    session = CallSession(named_room(), mf, cache, lk, options=SessionOptions())
    heard = HeardCall(session, lk)
    await heard.until(lambda: session.player.playing)
    heard.press("1")
    await heard.until(lambda: HEARD["no_answer"] in heard.heard, within=5)
    assert not heard.task.done()
    heard.hang_up()
    record = await heard.record()
    transfer = record.transfer
    assert transfer is not None
    assert transfer.result == "failed"
    assert str(transfer.detail).startswith("no_answer")


# --- the caller leaving while a transfer is out ---------------------------------------------


async def test_a_caller_who_leaves_as_the_transfer_completes_is_recorded_transferred(
    sipapi: SipApi, call: HeardCall
) -> None:
    """The bridge ends the caller's leg when the REFER completes; that departure may reach
    the router before the API's answer."""
    sipapi.script({"delay_s": 0.3, **response(SUCCESSFUL, "STR_COMPLETED")})
    call.press("1")
    await asyncio.sleep(0.1)
    call.hang_up()
    record = await call.record(within=3)
    assert record.end == EndReason.TRANSFERRED
    transfer = record.transfer
    assert transfer is not None and transfer.result == "succeeded"


async def test_a_caller_who_hangs_up_during_a_failing_transfer_is_not_offered_the_policy(
    sipapi: SipApi, call: HeardCall
) -> None:
    sipapi.script({"delay_s": 0.3, **response(FAILED, "STR_CALL_ENDED")})
    call.press("1")
    await asyncio.sleep(0.1)
    call.hang_up()
    record = await call.record(within=3)
    assert record.end == EndReason.CALLER_HANGUP
    transfer = record.transfer
    # the caller's hang-up, not the destination's failure (tests/runtime/test_hangup_in_transfer.py)
    assert transfer is not None and transfer.result == "pending"
    assert not any(text in call.heard for text in HEARD.values()), "nobody left to hear it"
    assert len(sipapi.requests()) == 1, "no second transfer for a caller who is gone"


async def test_a_caller_gone_while_livekit_does_not_answer_ends_before_its_answer(
    sipapi: SipApi, call: HeardCall
) -> None:
    """The call ends on the caller's departure (after the grace time,
    `transfer_watch.CALLER_GONE_GRACE_S`), not on LiveKit's answer, which comes later."""
    sipapi.script({"delay_s": 8, **response(SUCCESSFUL, "STR_COMPLETED")})
    call.press("1")
    await asyncio.sleep(0.1)
    call.hang_up()
    record = await call.record(within=5)
    assert record.end == EndReason.CALLER_HANGUP
    transfer = record.transfer
    assert transfer is not None and transfer.result == "pending"  # no answer yet
    assert len(sipapi.requests()) == 1


# --- metrics: bounded labels, no digits dialled ------------------------------------------------


def test_many_extensions_through_one_pattern_make_one_series(tmp_path: Path) -> None:
    from router.core.events import CallStarted, DigitPressed
    from router.core.loader import load_menu_file
    from router.core.navigator import Navigator
    from router.runtime.metrics import Metrics
    from router.runtime.transfer_watch import transfer_label

    menus = Path(__file__).parents[1] / "e2e" / "menus.yaml"
    menu_file = load_menu_file(menus).menu_file
    metrics = Metrics()
    targets = set()
    for n in range(100):
        extension = f"51{n:02d}"
        navigator = Navigator(menu_file)
        navigator.handle(CallStarted(dialled="+15550100001", at=datetime.now(UTC), now=0.0))
        effects = [
            e
            for i, d in enumerate(extension)
            for e in navigator.handle(DigitPressed(Key(d), 1.0 + 0.3 * i))
        ]
        (transfer,) = [e for e in effects if isinstance(e, TransferTo)]
        targets.add(transfer.target)
        metrics.transfers.labels(transfer_label(transfer), "succeeded", "").inc()
    assert len(targets) == 100, "each extension reached its own target"
    series = [
        s.labels
        for m in metrics.registry.collect()
        if m.name == "router_transfers"
        for s in m.samples
        if s.name == "router_transfers_total"
    ]
    assert series == [{"destination": "staff:51xx", "result": "succeeded", "kind": ""}]


def test_a_transfer_label_never_holds_a_phone_number() -> None:
    from router.runtime.transfer_watch import transfer_label

    settings = TransferSettings()
    assert transfer_label(TransferTo("tel:+15105550101", settings, "sales")) == "sales"
    assert transfer_label(TransferTo("sip:5101@pbx", settings, None, "staff:51xx")) == "staff:51xx"
    assert transfer_label(TransferTo("tel:+15105550101", settings)) == "tel:+*******0101"
