"""SIP text: parsing what peers send, building what the caller sends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.stack.sipphone.message import (
    CSeq,
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    canonical_header_name,
    new_branch,
    parse_message,
    reason_phrase,
    split_header_list,
)

REFER = (
    b"REFER sip:+15105550100@127.0.0.1:40000 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.abc;rport,"
    b" SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bK.def\r\n"
    b"Max-Forwards: 70\r\n"
    b"f: <sip:+15105550000@127.0.0.1:5060>;tag=lk1\r\n"
    b't: "Caller, Esq." <sip:+15105550100@127.0.0.1>;tag=me\r\n'
    b"i: call-1@127.0.0.1\r\n"
    b"CSeq: 3 REFER\r\n"
    b"m: <sip:livekit@127.0.0.1:5060;transport=udp>\r\n"
    b"r: <sip:+15105550111@example.com?X-Foo=bar>\r\n"
    b"X-Menu: sales\r\n"
    b"X-Long: first\r\n"
    b"  continued\r\n"
    b"x-menu-dup: a\r\n"
    b"x-menu-dup: b\r\n"
    b"l: 0\r\n"
    b"\r\n"
)


def test_parse_request_compact_and_folded_headers() -> None:
    msg = parse_message(REFER)
    assert isinstance(msg, SipRequest)
    assert msg.method == "REFER" and msg.uri == "sip:+15105550100@127.0.0.1:40000"
    assert msg.call_id == "call-1@127.0.0.1"
    assert msg.cseq == CSeq(3, "REFER")
    assert msg.from_.tag == "lk1" and msg.to.tag == "me"
    assert msg.to.display == "Caller, Esq."
    vias = msg.vias
    assert [v.branch for v in vias] == ["z9hG4bK.abc", "z9hG4bK.def"]
    assert vias[0].param("rport") == "" and vias[1].host == "10.0.0.1" and vias[1].port == 5070
    assert msg.header("Refer-To") == "<sip:+15105550111@example.com?X-Foo=bar>"
    assert msg.contact is not None and msg.contact.uri == "sip:livekit@127.0.0.1:5060;transport=udp"
    assert msg.header("x-long") == "first continued"
    assert msg.headers_matching("X-") == {
        "X-Menu": "sales",
        "X-Long": "first continued",
        "x-menu-dup": "a, b",
    }
    assert msg.body == b""


def test_parse_response_with_body_and_trailing_garbage() -> None:
    raw = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\nEXTRA"
    )
    msg = parse_message(raw)
    assert isinstance(msg, SipResponse)
    assert (msg.status, msg.reason) == (200, "OK")
    assert msg.body == b"v=0\n" and msg.content_type == "application/sdp"


def test_parse_tolerates_lf_only_and_missing_length() -> None:
    raw = (
        b"\r\n\r\nOPTIONS sip:x@y SIP/2.0\n"
        b"Via: SIP/2.0/UDP h;branch=z9hG4bK1\nCSeq: 9 OPTIONS\n\nbody"
    )
    msg = parse_message(raw)
    assert isinstance(msg, SipRequest) and msg.method == "OPTIONS" and msg.body == b"body"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HELLO\r\n\r\n",
        b"SIP/2.0 abc OK\r\n\r\n",
        b"SIP/2.0 999 Odd\r\n\r\n",
        b"INVITE sip:x SIP/3.0\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nBroken header\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nContent-Length: 10\r\n\r\nshort",
        b"INVITE sip:x SIP/2.0\r\nContent-Length: x\r\n\r\n",
    ],
)
def test_parse_rejects(raw: bytes) -> None:
    with pytest.raises(SipParseError):
        parse_message(raw)


@given(st.binary(max_size=300))
def test_parse_never_raises_anything_but_parse_errors(data: bytes) -> None:
    try:
        parse_message(data)
    except SipParseError:
        pass


def test_serialise_sets_content_length_and_roundtrips() -> None:
    req = SipRequest(
        method="NOTIFY",
        uri="sip:lk@127.0.0.1:5060",
        headers=(("Via", "SIP/2.0/UDP 127.0.0.1:4000;branch=z9hG4bKq"), ("Content-Length", "99")),
        body=b"SIP/2.0 200 OK\r\n",
    )
    raw = req.to_bytes()
    assert raw.startswith(b"NOTIFY sip:lk@127.0.0.1:5060 SIP/2.0\r\n")
    assert b"Content-Length: 16\r\n\r\nSIP/2.0 200 OK\r\n" in raw
    assert b"99" not in raw
    again = parse_message(raw)
    assert again.body == req.body and isinstance(again, SipRequest) and again.method == "NOTIFY"


def test_build_response_copies_and_tags() -> None:
    req = parse_message(REFER)
    assert isinstance(req, SipRequest)
    resp = build_response(req, 202, to_tag="ignored-because-present", extra=[("Server", "t")])
    assert resp.start_line == "SIP/2.0 202 Accepted"
    assert resp.header_values("Via") == req.header_values("Via")
    assert resp.to.tag == "me" and resp.from_.tag == "lk1"
    assert resp.cseq == req.cseq and resp.call_id == req.call_id
    untagged = SipRequest(
        method="INVITE",
        uri="sip:x@y",
        headers=(
            ("Via", "SIP/2.0/UDP a;branch=z9hG4bK2"),
            ("From", "<sip:a@b>;tag=f"),
            ("To", "<sip:x@y>"),
            ("Call-ID", "c"),
            ("CSeq", "1 INVITE"),
        ),
    )
    assert build_response(untagged, 180, to_tag="t1").to.tag == "t1"
    assert build_response(untagged, 100, to_tag="t1").to.tag is None  # 100 carries no tag


def test_sip_uri() -> None:
    u = SipUri.parse("sip:+15105550000@127.0.0.1:5060;transport=udp;lr?Subject=x")
    assert (u.user, u.host, u.port) == ("+15105550000", "127.0.0.1", 5060)
    assert u.param("lr") == "" and u.param("transport") == "udp" and u.param("maddr") is None
    assert str(u) == "sip:+15105550000@127.0.0.1:5060;transport=udp;lr?Subject=x"
    v6 = SipUri.parse("sip:[::1]:5070")
    assert v6.host == "[::1]" and v6.bare_host == "::1" and v6.port == 5070 and v6.user is None
    assert str(SipUri.parse("SIP:alice@example.com")) == "sip:alice@example.com"
    for bad in ("tel:+1555", "sip:", "sip:a@b:0", "sip:a@b:x", "nocolon"):
        with pytest.raises(SipParseError):
            SipUri.parse(bad)


def test_name_addr_forms() -> None:
    a = NameAddr.parse('"Bob <the> builder" <sip:bob@h;lr>;tag=99;x=y')
    assert a.display == "Bob <the> builder" and a.uri == "sip:bob@h;lr" and a.tag == "99"
    b = NameAddr.parse("sip:bob@h;tag=7")  # addr-spec: params belong to the header
    assert b.uri == "sip:bob@h" and b.tag == "7"
    assert str(b.with_tag("8")) == "<sip:bob@h>;tag=8"
    assert NameAddr.parse("<tel:+15551234>").uri == "tel:+15551234"
    with pytest.raises(SipParseError):
        NameAddr.parse("<sip:unterminated")


def test_via_and_cseq() -> None:
    v = Via.parse("SIP/2.0/udp 127.0.0.1:5060;branch=z9hG4bKabc;rport=4000;received=1.2.3.4")
    assert (v.transport, v.host, v.port, v.branch) == ("UDP", "127.0.0.1", 5060, "z9hG4bKabc")
    assert v.param("received") == "1.2.3.4"
    assert str(Via(host="h", port=1, params=(("branch", "z9hG4bKx"), ("rport", None)))) == (
        "SIP/2.0/UDP h:1;branch=z9hG4bKx;rport"
    )
    assert Via.parse("SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1").host == "[::1]"
    assert str(CSeq.parse("12  invite")) == "12 INVITE"
    for bad in ("x INVITE", "1", "-1 BYE"):
        with pytest.raises(SipParseError):
            CSeq.parse(bad)


def test_small_helpers() -> None:
    assert split_header_list('<sip:a,b@c>;x="1,2", sip:d') == ['<sip:a,b@c>;x="1,2"', "sip:d"]
    assert canonical_header_name("i") == "Call-ID" and canonical_header_name("cseq") == "CSeq"
    assert canonical_header_name("X-Custom") == "X-Custom"
    assert new_branch().startswith("z9hG4bK") and new_branch() != new_branch()
    assert reason_phrase(486) == "Busy Here" and reason_phrase(499) == "Client Error"
    assert reason_phrase(699) == "Global Failure" and reason_phrase(599) == "Server Error"
