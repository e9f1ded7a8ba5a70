"""SDP offer/answer and the key-script grammar."""

from __future__ import annotations

import pytest

from router.stack.sipphone import (
    AudioStats,
    CallOutcome,
    CallReport,
    KeyPress,
    NotifySent,
    ReferReceived,
    SentKey,
    parse_keys,
)
from router.stack.sipphone.sdp import SdpError, build_offer, parse_sdp


def test_offer_is_pcmu_and_telephone_event() -> None:
    body = build_offer("127.0.0.1", 40000, session_id=7, event_payload_type=101)
    text = body.decode()
    assert text.endswith("\r\n")
    assert "c=IN IP4 127.0.0.1\r\n" in text
    assert "m=audio 40000 RTP/AVP 0 101\r\n" in text
    assert "a=rtpmap:0 PCMU/8000\r\n" in text
    assert "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n" in text
    media = parse_sdp(body)
    assert media.payload_type_for("PCMU") == 0
    assert media.payload_type_for("telephone-event") == 101
    assert media.fmtp[101] == "0-16" and media.direction == "sendrecv" and not media.on_hold


def test_answer_like_livekit() -> None:
    answer = (
        b"v=0\r\no=LiveKit 1 2 IN IP4 127.0.0.1\r\ns=LiveKit\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        b"m=audio 10020 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\n"
        b"a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
        b"m=video 0 RTP/AVP 31\r\nc=IN IP4 10.9.9.9\r\n"
    )
    media = parse_sdp(answer)
    assert (media.address, media.port) == ("127.0.0.1", 10020)
    assert media.payload_type_for("telephone-event") == 96


def test_media_level_connection_and_hold() -> None:
    sdp = b"v=0\nc=IN IP4 1.1.1.1\na=sendonly\nm=audio 5 RTP/AVP 8\nc=IN IP4 2.2.2.2\n"
    media = parse_sdp(sdp)
    assert media.address == "2.2.2.2" and media.direction == "sendonly" and media.on_hold
    assert media.payload_type_for("PCMA") == 8 and media.payload_type_for("PCMU") is None


@pytest.mark.parametrize(
    "sdp",
    [b"v=0\r\nc=IN IP4 1.1.1.1\r\n", b"v=0\r\nm=audio 1 RTP/AVP 0\r\n", b"m=audio x RTP/AVP 0"],
)
def test_sdp_errors(sdp: bytes) -> None:
    with pytest.raises(SdpError):
        parse_sdp(sdp)


def test_parse_keys_grammar() -> None:
    assert parse_keys("1") == (KeyPress("1"),)
    assert parse_keys("1,2") == (KeyPress("1"), KeyPress("2"))
    assert parse_keys("12#") == (KeyPress("1"), KeyPress("2"), KeyPress("#"))
    assert parse_keys(" 4s 1 , 3s 2 *") == (
        KeyPress("1", 4.0),
        KeyPress("2", 3.0),
        KeyPress("*"),
    )
    assert parse_keys("1s 0.5s a") == (KeyPress("A", 1.5),)
    assert parse_keys("9", duration_ms=250) == (KeyPress("9", None, 250),)
    assert parse_keys("") == ()
    for bad in ("1x", "E", "2m", "-1s 1"):
        with pytest.raises(ValueError):
            parse_keys(bad)


def test_keypress_validation() -> None:
    for kwargs in ({"digit": "12"}, {"digit": "x"}, {"digit": "1", "delay_before_s": -1.0},
                   {"digit": "1", "duration_ms": 20}):  # fmt: skip
        with pytest.raises(ValueError):
            KeyPress(**kwargs)


def _report() -> CallReport:
    audio = AudioStats(
        packets=10, audio_packets=9, voiced_packets=5, first_packet_at=1.2, first_audio_at=1.3,
        last_audio_at=1.4, voiced_s=0.1, energy=2.0, rms=100.0, peak_rms=900.0,
        threshold_rms=200.0, dtmf_received=(), bad_packets=0, sent_packets=50,
    )  # fmt: skip
    refer = ReferReceived(
        received_at=2.0, refer_to="<sip:x@y>", referred_by=None, x_headers={"X-A": "1"},
        headers=(("Refer-To", "<sip:x@y>"),), cseq=5, response_status=202,
        notifies=(NotifySent("SIP/2.0 100 Trying", 100, "active", 2.0, 200),
                  NotifySent("SIP/2.0 486 Busy Here", 486, "terminated", 2.5, None)),
    )  # fmt: skip
    return CallReport(
        target="sip:t@127.0.0.1", call_id="c", local_tag="l", remote_tag="r",
        outcome=CallOutcome.REMOTE_BYE, status=200, reason="OK", detail="the far end sent BYE",
        started_at=1.0, provisional=(100, 180), ringing_at=1.05, answered_at=1.1, ended_at=3.0,
        invite_retransmissions=0, keys=(SentKey("1", 1, 1.5, 1.7, 123, 4, 10),), audio=audio,
        refers=(refer,), bye_status=None, remote_bye_at=3.0, errors=(), local_sip="127.0.0.1:1",
        local_rtp="127.0.0.1:2", remote_rtp="127.0.0.1:3", recording=None, trace=(),
    )  # fmt: skip


def test_report_helpers_summary_and_dict() -> None:
    r = _report()
    assert r.answered and r.refer_to == "<sip:x@y>" and r.final_notify_status == 486
    assert r.refer is not None and r.refer.refer_to_uri == "sip:x@y"
    assert r.key_times == (1.5,) and r.first_audio_at == 1.3 and r.duration_s == 2.0
    text = r.summary()
    assert "outcome: remote_bye (INVITE 200 OK)" in text and "+0.500s  key 1 sent" in text
    assert "NOTIFY SIP/2.0 486 Busy Here -> no answer" in text and "X-A: 1" in text
    d = r.to_dict()
    assert d["outcome"] == "remote_bye" and d["final_notify_status"] == 486
    assert d["refers"][0]["x_headers"] == {"X-A": "1"} and d["keys"][0]["digit"] == "1"
