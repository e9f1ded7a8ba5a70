"""The far end's requests judged (inbound.py) and the phone's own routed (requests.py):
pure functions of messages, no dialog, no sockets."""

from __future__ import annotations

import pytest

from router.stack.sipphone.inbound import judge, read_refer
from router.stack.sipphone.message import SipRequest, SipUri, parse_message
from router.stack.sipphone.requests import RequestBuilder

CALL_ID = "call-1@127.0.0.1"


def _request(
    method: str = "BYE",
    *,
    call_id: str = CALL_ID,
    to_tag: str = "ours",
    from_tag: str = "theirs",
    cseq: int = 7,
    extra: str = "",
) -> SipRequest:
    text = (
        f"{method} sip:+15105550100@127.0.0.1:5062 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
        f"From: <sip:bridge@127.0.0.1>;tag={from_tag}\r\n"
        f"To: <sip:+15105550100@127.0.0.1>;tag={to_tag}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} {method}\r\n"
        f"{extra}"
        "Content-Length: 0\r\n\r\n"
    )
    message = parse_message(text.encode())
    assert isinstance(message, SipRequest)
    return message


def _judge(req: SipRequest, last_cseq: int | None = 6) -> tuple[int, str | None] | None:
    refusal = judge(
        req, call_id=CALL_ID, local_tag="ours", remote_tag="theirs", last_cseq=last_cseq
    )
    return None if refusal is None else (refusal.status, refusal.note)


@pytest.mark.parametrize(
    ("req", "verdict"),
    [
        (_request(), None),
        (_request(cseq=7), None),
        (_request(call_id="other"), (481, "BYE for an unknown Call-ID other")),
        (
            _request(to_tag="stale"),
            (481, "BYE with tags that match no dialog (To stale, From theirs)"),
        ),
        (
            _request(from_tag="fork"),
            (481, "BYE with tags that match no dialog (To ours, From fork)"),
        ),
        (_request("CANCEL"), (481, None)),
        (_request(cseq=6), (500, "BYE CSeq 6 not above the last (6)")),
        (_request(cseq=2), (500, "BYE CSeq 2 not above the last (6)")),
    ],
)
def test_a_request_in_the_dialog_is_judged_as_rfc_3261_12_2_2_says(
    req: SipRequest, verdict: tuple[int, str | None] | None
) -> None:
    assert _judge(req) == verdict


def test_the_first_request_from_the_far_end_has_no_order_to_keep() -> None:
    assert _judge(_request(cseq=1), last_cseq=None) is None


def test_a_refer_is_read_or_refused_without_its_refer_to() -> None:
    assert read_refer(_request("REFER"), 1.0, 202) is None
    refer = read_refer(
        _request("REFER", extra="Refer-To: <sip:+15105550199@pbx>\r\nX-Topic: billing\r\n"),
        2.5,
        202,
    )
    assert refer is not None
    assert (refer.refer_to, refer.received_at, refer.cseq) == ("<sip:+15105550199@pbx>", 2.5, 7)
    assert refer.x_headers == {"X-Topic": "billing"} and refer.response_status == 202


def _builder(route_set: list[str], remote_target: str | None) -> RequestBuilder:
    build = RequestBuilder(
        SipUri.parse("sip:+15105550000@127.0.0.1:5070"),
        call_id=CALL_ID,
        caller_id="+15105550100",
        local_host="127.0.0.1",
        note=lambda text: None,
    )
    build.target_addr = ("127.0.0.1", 5070)
    build.route_set, build.remote_target = route_set, remote_target
    return build


def test_without_a_route_set_requests_go_to_the_remote_target() -> None:
    build = _builder([], "sip:bridge@127.0.0.9:5080")
    assert build.route() == ("sip:bridge@127.0.0.9:5080", [], ("127.0.0.9", 5080))


def test_a_loose_router_keeps_the_remote_target_as_request_uri() -> None:
    build = _builder(["<sip:127.0.0.2:5090;lr>"], "sip:bridge@127.0.0.9:5080")
    assert build.route() == (
        "sip:bridge@127.0.0.9:5080",
        ["<sip:127.0.0.2:5090;lr>"],
        ("127.0.0.2", 5090),
    )


def test_a_strict_router_becomes_the_request_uri_and_the_target_the_last_route() -> None:
    build = _builder(["<sip:127.0.0.2:5090>", "<sip:127.0.0.3;lr>"], "sip:bridge@127.0.0.9")
    assert build.route() == (
        "sip:127.0.0.2:5090",
        ["<sip:127.0.0.3;lr>", "<sip:bridge@127.0.0.9>"],
        ("127.0.0.2", 5090),
    )


def test_in_dialog_requests_count_up_from_the_invite() -> None:
    build = _builder([], "sip:bridge@127.0.0.9:5080")
    first, _ = build.in_dialog("BYE")
    second, _ = build.in_dialog("NOTIFY")
    assert first.cseq.number == build.invite_cseq + 1
    assert second.cseq.number == build.invite_cseq + 2
    assert second.header("Contact") is not None and first.header("Contact") is None
