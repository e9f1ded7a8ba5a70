"""The phone's dialog without sockets: its transition table, fed messages and times.

Each test plays the far end with built messages and passes time in; no event
loop, no sleeps, no ports.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from router.stack.sipphone.actions import (
    Action,
    Answered,
    Ended,
    MediaStopped,
    MediaUpdated,
    ReferArrived,
    Ringing,
    Send,
    TransactionDone,
)
from router.stack.sipphone.dialog import CallError, Dialog
from router.stack.sipphone.message import (
    HeaderBuilder,
    SipRequest,
    SipResponse,
    build_response,
    new_branch,
)
from router.stack.sipphone.report import CallOutcome
from router.stack.sipphone.sdp import build_offer
from router.stack.sipphone.states import TRANSITIONS, PhoneState, Trigger

UAS: tuple[str, int] = ("127.0.0.1", 5070)
TARGET = "sip:+15105550000@127.0.0.1:5070"
UAS_TAG = "uas-tag"


def _sent(actions: Sequence[Action]) -> list[SipRequest | SipResponse]:
    return [a.message for a in actions if isinstance(a, Send)]


def _requests(actions: Sequence[Action]) -> list[SipRequest]:
    return [m for m in _sent(actions) if isinstance(m, SipRequest)]


def _of(actions: Sequence[Action], kind: type[Action]) -> list[Action]:
    return [a for a in actions if isinstance(a, kind)]


class FarEnd:
    """Builds what the UAS would send; the dialog under test gets the bytes."""

    def __init__(self, dialog: Dialog) -> None:
        self.dialog = dialog
        self.cseq = 50

    def answer(self, req: SipRequest, status: int, *, sdp: bool = False) -> bytes:
        extra = [("Contact", f"<sip:uas@{UAS[0]}:{UAS[1]}>")] if 100 < status < 300 else []
        body = build_offer(UAS[0], 40000, session_id=7) if sdp else b""
        resp = build_response(
            req,
            status,
            to_tag=UAS_TAG,
            extra=extra,
            body=body,
            content_type="application/sdp" if sdp else None,
        )
        return resp.to_bytes()

    def request(self, method: str, *extra: tuple[str, str]) -> bytes:
        d = self.dialog
        self.cseq += 1
        hb = HeaderBuilder()
        hb.add("Via", f"SIP/2.0/UDP {UAS[0]}:{UAS[1]};branch={new_branch()}")
        hb.add("From", f"<sip:uas@{UAS[0]}>;tag={UAS_TAG}")
        hb.add("To", f"<sip:{d.caller_id}@127.0.0.1>;tag={d.local_tag}")
        hb.add("Call-ID", d.call_id)
        hb.add("CSeq", f"{self.cseq} {method}")
        hb.add("Contact", f"<sip:uas@{UAS[0]}:{UAS[1]}>")
        hb.extend(list(extra))
        return SipRequest(method=method, uri="sip:caller@127.0.0.1", headers=hb.build()).to_bytes()


def _calling(now: float = 0.0) -> tuple[Dialog, FarEnd, SipRequest]:
    dialog = Dialog(TARGET, bye_timeout_s=4.0)
    dialog.start(now)
    actions = dialog.connect(("127.0.0.1", 5062), ("127.0.0.1", 30000), UAS, now)
    [invite] = _requests(actions)
    assert invite.method == "INVITE" and dialog.state is PhoneState.CALLING
    return dialog, FarEnd(dialog), invite


def _confirmed() -> tuple[Dialog, FarEnd, SipRequest]:
    dialog, far, invite = _calling()
    dialog.receive_datagram(far.answer(invite, 180), UAS, 0.1)
    dialog.receive_datagram(far.answer(invite, 200, sdp=True), UAS, 0.2)
    assert dialog.state is PhoneState.CONFIRMED
    return dialog, far, invite


# ----------------------------------------------------------------------------- the table


def test_every_state_has_a_row_and_ended_is_final() -> None:
    assert set(TRANSITIONS) == set(PhoneState)
    assert TRANSITIONS[PhoneState.ENDED] == {}
    for state in PhoneState:
        if state is not PhoneState.ENDED:
            assert TRANSITIONS[state][Trigger.GIVE_UP] is PhoneState.ENDED, state


def test_every_state_is_reachable_from_idle() -> None:
    seen = {PhoneState.IDLE}
    todo = [PhoneState.IDLE]
    while todo:
        for new in TRANSITIONS[todo.pop()].values():
            if new not in seen:
                seen.add(new)
                todo.append(new)
    assert seen == set(PhoneState)


@pytest.mark.parametrize(
    ("state", "trigger", "new"),
    [
        (PhoneState.IDLE, Trigger.START, PhoneState.CALLING),
        (PhoneState.CALLING, Trigger.PROVISIONAL, PhoneState.PROCEEDING),
        (PhoneState.CALLING, Trigger.ACCEPTED, PhoneState.CONFIRMED),
        (PhoneState.PROCEEDING, Trigger.CANCEL, PhoneState.CANCELLING),
        (PhoneState.CANCELLING, Trigger.ACCEPTED, PhoneState.TERMINATING),
        (PhoneState.CANCELLING, Trigger.REJECTED, PhoneState.ENDED),
        (PhoneState.CONFIRMED, Trigger.BYE, PhoneState.TERMINATING),
        (PhoneState.CONFIRMED, Trigger.REMOTE_BYE, PhoneState.ENDED),
        (PhoneState.TERMINATING, Trigger.BYE_ANSWERED, PhoneState.ENDED),
        (PhoneState.TERMINATING, Trigger.REMOTE_BYE, PhoneState.ENDED),
    ],
)
def test_table_rows(state: PhoneState, trigger: Trigger, new: PhoneState) -> None:
    assert TRANSITIONS[state][trigger] is new


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (PhoneState.CALLING, Trigger.CANCEL),  # CANCEL needs a provisional first
        (PhoneState.CALLING, Trigger.BYE),
        (PhoneState.CONFIRMED, Trigger.CANCEL),
        (PhoneState.CONFIRMED, Trigger.ACCEPTED),  # a retransmitted 2xx is re-ACKed, no more
        (PhoneState.ENDED, Trigger.REMOTE_BYE),
    ],
)
def test_not_allowed(state: PhoneState, trigger: Trigger) -> None:
    assert trigger not in TRANSITIONS[state]


# ----------------------------------------------------------------------------- flows


def test_answer_then_our_bye() -> None:
    dialog, far, invite = _calling()
    out = dialog.receive_datagram(far.answer(invite, 100), UAS, 0.05)
    assert dialog.state is PhoneState.PROCEEDING and _of(out, Ringing) == []
    out = dialog.receive_datagram(far.answer(invite, 180), UAS, 0.1)
    assert _of(out, Ringing) == [Ringing(0.1)] and dialog.ringing_at == 0.1
    out = dialog.receive_datagram(far.answer(invite, 200, sdp=True), UAS, 0.2)
    [ack] = _requests(out)
    assert ack.method == "ACK" and ack.uri == f"sip:uas@{UAS[0]}:{UAS[1]}"
    [media] = _of(out, MediaUpdated)
    assert isinstance(media, MediaUpdated) and media.remote_rtp == (UAS[0], 40000)
    assert _of(out, Answered) == [Answered(0.2)]
    assert dialog.state is PhoneState.CONFIRMED and dialog.remote_tag == UAS_TAG

    out = dialog.hangup(1.0)
    [bye] = _requests(out)
    assert bye.method == "BYE" and _of(out, MediaStopped)
    assert dialog.state is PhoneState.TERMINATING and dialog.next_deadline() == pytest.approx(1.5)
    out = dialog.receive_datagram(far.answer(bye, 200), UAS, 1.1)
    assert _of(out, Ended) == [Ended(CallOutcome.LOCAL_BYE, "we sent BYE")]
    assert dialog.state is PhoneState.ENDED and dialog.bye_status == 200
    assert dialog.errors == [] and dialog.provisional == [100, 180]


def test_invite_retransmitted_on_timer_a_until_a_provisional() -> None:
    dialog, far, invite = _calling()
    assert dialog.next_deadline() == pytest.approx(0.5)
    assert dialog.handle_timer(0.4) == []
    out = dialog.handle_timer(0.5)
    assert [a.retransmission for a in out if isinstance(a, Send)] == [True]
    assert _sent(out)[0].to_bytes() == invite.to_bytes()
    assert dialog.next_deadline() == pytest.approx(1.5)  # doubled
    dialog.receive_datagram(far.answer(invite, 100), UAS, 0.7)
    assert dialog.next_deadline() is None and dialog.invite_retransmissions == 1


def test_timer_b_ends_an_unanswered_call() -> None:
    dialog, _far, _invite = _calling()
    now = 0.0
    ended: list[Action] = []
    while (deadline := dialog.next_deadline()) is not None:
        now = deadline
        ended += _of(dialog.handle_timer(now), Ended)
    assert now == pytest.approx(32.0)
    assert ended == [Ended(CallOutcome.NO_RESPONSE, "no response to INVITE (timer B)")]
    assert dialog.invite_retransmissions == 6  # 0.5 1.5 3.5 7.5 15.5 31.5


def test_cancel_while_ringing_then_487() -> None:
    dialog, far, invite = _calling()
    dialog.receive_datagram(far.answer(invite, 180), UAS, 0.1)
    out = dialog.hangup(2.0)
    [cancel] = _requests(out)
    assert cancel.method == "CANCEL" and cancel.top_via.branch == invite.top_via.branch
    assert dialog.state is PhoneState.CANCELLING
    dialog.receive_datagram(far.answer(cancel, 200), UAS, 2.1)
    out = dialog.receive_datagram(far.answer(invite, 487), UAS, 2.2)
    [ack] = _requests(out)
    assert ack.method == "ACK" and ack.top_via.branch == invite.top_via.branch
    answered = "INVITE answered 487 Request Terminated"
    assert _of(out, Ended) == [Ended(CallOutcome.CANCELLED, answered)]
    assert dialog.errors == []


def test_200_crossing_our_cancel_is_acked_then_byed() -> None:
    dialog, far, invite = _calling()
    dialog.receive_datagram(far.answer(invite, 180), UAS, 0.1)
    [cancel] = _requests(dialog.hangup(1.0, detail="cancelled 0.9s after ringing"))
    out = dialog.receive_datagram(far.answer(invite, 200, sdp=True), UAS, 1.05)
    assert [r.method for r in _requests(out)] == ["ACK", "BYE"]
    assert dialog.state is PhoneState.TERMINATING and _of(out, Answered) == []
    bye = _requests(out)[1]
    out = dialog.receive_datagram(far.answer(bye, 200), UAS, 1.1)
    assert _of(out, Ended) == [Ended(CallOutcome.CANCELLED, "cancelled 0.9s after ringing")]
    assert cancel.method == "CANCEL"


def test_giving_up_before_any_provisional_sends_nothing() -> None:
    dialog, _far, _invite = _calling()
    out = dialog.hangup(3.0, outcome=CallOutcome.TIMEOUT, detail="overall timeout")
    assert _sent(out) == []
    assert _of(out, Ended) == [Ended(CallOutcome.NO_RESPONSE, "overall timeout")]
    assert dialog.errors == [f"no response to the INVITE from {TARGET}"]
    assert dialog.next_deadline() is None  # the INVITE's timers stopped with the call


def test_rejected_is_acked_and_a_retransmission_acked_again() -> None:
    dialog, far, invite = _calling()
    busy = far.answer(invite, 486)
    out = dialog.receive_datagram(busy, UAS, 0.3)
    assert [r.method for r in _requests(out)] == ["ACK"]
    assert _of(out, Ended) == [Ended(CallOutcome.REJECTED, "INVITE answered 486 Busy Here")]
    assert dialog.status == 486
    out = dialog.receive_datagram(busy, UAS, 0.4)
    assert [a.retransmission for a in out if isinstance(a, Send)] == [True]
    assert dialog.state is PhoneState.ENDED


def test_retransmitted_200_is_acked_again_and_changes_nothing() -> None:
    dialog, far, invite = _confirmed()
    out = dialog.receive_datagram(far.answer(invite, 200, sdp=True), UAS, 0.6)
    sends = [a for a in out if isinstance(a, Send)]
    assert [(a.message.start_line.split()[0], a.retransmission) for a in sends] == [("ACK", True)]
    assert _of(out, Answered) == [] and dialog.state is PhoneState.CONFIRMED


def test_remote_bye_is_answered_and_ends_the_call() -> None:
    dialog, far, _invite = _confirmed()
    out = dialog.receive_datagram(far.request("BYE"), UAS, 5.0)
    [ok] = _sent(out)
    assert isinstance(ok, SipResponse) and ok.status == 200
    assert _of(out, Ended) == [Ended(CallOutcome.REMOTE_BYE, "the far end sent BYE")]
    assert dialog.remote_bye_at == 5.0
    assert dialog.hangup(6.0) == []  # nothing left to hang up


def test_bye_glare_ends_as_remote_bye() -> None:
    dialog, far, _invite = _confirmed()
    dialog.hangup(3.0)
    out = dialog.receive_datagram(far.request("BYE"), UAS, 3.01)
    assert _of(out, Ended) == [Ended(CallOutcome.REMOTE_BYE, "the far end sent BYE")]


def test_unanswered_bye_ends_at_the_deadline() -> None:
    dialog, _far, _invite = _confirmed()
    dialog.hangup(3.0, outcome=CallOutcome.TIMEOUT, detail="overall timeout of 3s")
    out = dialog.handle_timer(3.5)  # a BYE retransmission, not yet the end
    assert [a.retransmission for a in out if isinstance(a, Send)] == [True]
    out = dialog.handle_timer(7.0)
    assert _of(out, Ended) == [Ended(CallOutcome.TIMEOUT, "overall timeout of 3s")]
    assert dialog.errors[-1] == "no answer to our BYE" and dialog.bye_status is None


def test_refer_then_notify_and_its_answer() -> None:
    dialog, far, _invite = _confirmed()
    out = dialog.receive_datagram(
        far.request("REFER", ("Refer-To", "<sip:+15550199@127.0.0.1>"), ("X-Menu", "sales")),
        UAS,
        4.0,
    )
    [accepted] = _sent(out)
    assert isinstance(accepted, SipResponse) and accepted.status == 202
    [arrived] = _of(out, ReferArrived)
    assert isinstance(arrived, ReferArrived) and arrived.accepted
    refer = arrived.refer
    assert refer.x_headers == {"X-Menu": "sales"}
    out, key = dialog.notify(refer, 200, "terminated;reason=noresource", 4.5)
    [notify] = _requests(out)
    assert notify.method == "NOTIFY" and notify.body == b"SIP/2.0 200 OK\r\n"
    assert notify.header("Event") == f"refer;id={refer.cseq}"
    assert dialog.pending_transactions() == [key]
    out = dialog.receive_datagram(far.answer(notify, 200), UAS, 4.6)
    assert [a for a in out if isinstance(a, TransactionDone)][0].key == key
    assert refer.freeze().final_notify_status == 200
    assert refer.notifies[0].response_status == 200
    assert dialog.state is PhoneState.CONFIRMED and dialog.pending_transactions() == []


def test_abandon_sends_one_bye_and_ends_with_error() -> None:
    dialog, _far, _invite = _confirmed()
    out = dialog.abandon(9.0)
    assert [r.method for r in _requests(out)] == ["BYE"]
    assert _of(out, Ended) == [Ended(CallOutcome.ERROR, "closed before the call ended")]
    assert dialog.state is PhoneState.ENDED and dialog.next_deadline() is None


def test_start_twice_is_refused() -> None:
    dialog, _far, _invite = _calling()
    with pytest.raises(CallError):
        dialog.start(1.0)
