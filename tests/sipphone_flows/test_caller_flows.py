"""The caller against a hand-driven UAS: every message and RTP packet checked.

The test plays LiveKit's part step by step (answer, REFER, BYE ...) and checks
what the caller puts on the wire, byte by byte where it matters to LiveKit:
RFC 4733 key presses with a fresh timestamp each, E bit, marker bit.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from router.stack.sipphone import CallOutcome, CallScript, KeyPress, SipCall, place_call
from router.stack.sipphone.message import NameAddr, SipRequest
from router.stack.sipphone.rtp import RtpPacket

from .fakeuas import FakeUas, Received


def _req(item: Received) -> SipRequest:
    assert isinstance(item.msg, SipRequest)
    return item.msg


async def _answer(uas: FakeUas, *, provisional: tuple[int, ...] = (100, 180)) -> Received:
    invite = await uas.expect_request("INVITE")
    for status in provisional:
        uas.reply(invite, status)
    uas.reply(invite, 200, sdp=True)
    return invite


async def test_full_flow_keys_refer_notify_bye() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(
                uas.uri,
                keys=[KeyPress("1", 0.3), KeyPress("1", 0.2), KeyPress("#", 0.2)],
                notify_status=200,
                notify_delay_s=0.3,
                timeout_s=20,
                invite_headers={"X-Test": "full-flow"},
            )
        )
        invite = await uas.expect_request("INVITE")
        inv = _req(invite)
        raw = invite.raw.decode()
        # the INVITE as sent: mandatory headers, SDP offer
        assert raw.startswith(f"INVITE {uas.uri} SIP/2.0\r\n")
        for name in ("Via:", "Max-Forwards: 70", "From:", "To:", "Call-ID:", "CSeq:", "Contact:"):
            assert f"\r\n{name}" in raw, name
        assert inv.top_via.branch and inv.top_via.branch.startswith("z9hG4bK")
        assert inv.from_.tag and inv.to.tag is None
        assert inv.cseq.method == "INVITE"
        assert inv.header("X-Test") == "full-flow"
        assert inv.header("Content-Length") is None  # stripped by parser; check raw below
        assert f"Content-Length: {len(inv.body)}\r\n" in raw
        body = inv.body.decode()
        assert "m=audio " in body and " RTP/AVP 0 101" in body
        assert "a=rtpmap:101 telephone-event/8000" in body and "a=fmtp:101 0-16" in body

        uas.reply(invite, 100)
        uas.reply(invite, 180)
        await asyncio.sleep(0.1)
        ok = uas.reply(invite, 200, sdp=True)
        ack = _req(await uas.expect_request("ACK"))
        assert ack.cseq.number == inv.cseq.number and ack.cseq.method == "ACK"
        assert ack.to.tag == uas.tag
        assert ack.top_via.branch != inv.top_via.branch  # 2xx ACK is a new transaction
        assert ack.uri == f"sip:{uas.user}@{uas.host}:{uas.sip_port}"  # the 200's Contact
        assert ack.call_id == inv.call_id

        # a prompt plays to the caller; the caller sends keys meanwhile
        media = uas.caller_media(invite)
        uas.start_tone((media.address, media.port), seconds=1.5, delay_s=0.1)
        await uas.wait_keys(3, timeout_s=10)

        # REFER like livekit-sip sends it (with X- headers from the transfer request)
        dlg = uas.dialog(invite)
        refer = uas.request(
            dlg,
            "REFER",
            extra=[
                ("Refer-To", "<sip:+15105550111@127.0.0.1:5099>"),
                ("X-Menu", "sales"),
                ("x-lower", "kept"),
            ],
        )
        resp = await uas.expect_response(202)
        assert resp.msg.cseq.number == refer.cseq.number
        assert resp.msg.to.tag == inv.from_.tag

        n1 = await uas.expect_request("NOTIFY")
        n1m = _req(n1)
        assert n1m.header("Event") == f"refer;id={refer.cseq.number}"
        assert n1m.header(
            "Subscription-State",
        ).startswith("active")  # type: ignore[union-attr]
        assert n1m.content_type == "message/sipfrag"
        assert n1m.body == b"SIP/2.0 100 Trying\r\n"
        assert n1m.to.tag == uas.tag and n1m.from_.tag == inv.from_.tag
        assert n1m.cseq.number > inv.cseq.number
        uas.reply(n1, 200)
        n2 = await uas.expect_request("NOTIFY")
        n2m = _req(n2)
        assert n2m.body == b"SIP/2.0 200 OK\r\n"
        assert n2m.header("Subscription-State") == "terminated;reason=noresource"
        assert n2m.cseq.number == n1m.cseq.number + 1
        uas.reply(n2, 200)

        uas.request(dlg, "BYE")
        await uas.expect_response(200)
        report = await asyncio.wait_for(call, 10)

    assert report.outcome is CallOutcome.REMOTE_BYE, report.summary()
    assert report.errors == (), report.summary()
    assert report.status == 200 and report.answered
    assert report.provisional == (100, 180)
    assert report.started_at <= report.ringing_at <= report.answered_at  # type: ignore[operator]
    assert report.remote_tag == uas.tag and report.call_id == inv.call_id
    assert report.invite_retransmissions == 0

    # keys: what the report says matches the wire
    presses = uas.key_presses()
    assert [k.digit for k in report.keys] == ["1", "1", "#"]
    assert [k.rtp_timestamp for k in report.keys] == list(presses)
    assert report.keys[0].sent_at >= report.answered_at + 0.3  # type: ignore[operator]
    for prev, nxt in zip(report.keys, report.keys[1:], strict=False):
        assert nxt.sent_at >= prev.finished_at + 0.2 - 0.03

    # audio reached the caller
    a = report.audio
    assert a.first_audio_at is not None and a.first_audio_at > report.answered_at  # type: ignore[operator]
    assert a.voiced_packets > 40 and a.voiced_s > 0.8
    assert a.energy > 1.0 and a.peak_rms > 3000
    assert a.sent_packets > 30

    # the transfer
    ref = report.refer
    assert ref is not None
    assert ref.refer_to == "<sip:+15105550111@127.0.0.1:5099>"
    assert ref.refer_to_uri == "sip:+15105550111@127.0.0.1:5099"
    assert dict(ref.x_headers) == {"X-Menu": "sales", "x-lower": "kept"}
    assert ref.response_status == 202
    assert [(n.status, n.response_status) for n in ref.notifies] == [(100, 200), (200, 200)]
    assert report.final_notify_status == 200
    assert ref.notifies[1].sent_at - ref.received_at >= 0.29
    assert ok.status == 200
    json.dumps(report.to_dict())  # JSON-ready


def _check_press(pkts: Sequence[tuple[float, RtpPacket, object]], event: int, ssrc: int) -> None:
    """One RFC 4733 press: same timestamp, marker first, growing duration, 3 x E."""
    from router.stack.sipphone.rtp import TelephoneEvent

    raw = [p.encode() for _a, p, _e in pkts]
    first = raw[0]
    assert first[0] == 0x80  # V=2, no padding/extension/CSRC
    assert first[1] == 0x80 | 101  # marker + PT 101
    for r in raw[1:]:
        assert r[1] == 101  # no marker after the first packet
    ts = {struct.unpack("!I", r[4:8])[0] for r in raw}
    assert len(ts) == 1
    assert {struct.unpack("!I", r[8:12])[0] for r in raw} == {ssrc}
    seqs = [struct.unpack("!H", r[2:4])[0] for r in raw]
    assert seqs == [(seqs[0] + i) & 0xFFFF for i in range(len(seqs))]
    evs = [TelephoneEvent.decode(r[12:]) for r in raw]
    assert all(len(r) == 16 for r in raw)
    assert all(e.event == event and e.volume == 10 for e in evs)
    ends = [e for e in evs if e.end]
    assert len(ends) == 3 and evs[-3:] == ends
    assert len({e.duration for e in ends}) == 1 and ends[0].duration == 1280  # 160 ms
    durations = [e.duration for e in evs if not e.end]
    assert durations == sorted(durations) and len(set(durations)) == len(durations)
    assert durations[0] == 160 and durations[-1] < ends[0].duration
    assert raw[-1][13] & 0x80 and not raw[0][13] & 0x80  # E bit only at the end


async def test_dtmf_packets_byte_by_byte() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(
                uas.uri,
                keys="5 5 * D",
                first_key_delay_s=0.2,
                key_gap_s=0.1,
                hangup_after_keys_s=0.2,
                timeout_s=15,
            )
        )
        invite = await _answer(uas)
        await uas.expect_request("ACK")
        bye = await uas.expect_request("BYE", timeout_s=10)
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 10)
        await asyncio.sleep(0.05)

    assert report.outcome is CallOutcome.LOCAL_BYE, report.summary()
    assert report.bye_status == 200 and report.errors == ()
    presses = uas.key_presses()
    assert len(presses) == 4
    timestamps = list(presses)
    assert len(set(timestamps)) == 4  # a fresh RTP timestamp per press, even for the same key
    ssrc = uas.rtp_in[0][1].ssrc
    for pkts, code in zip(presses.values(), [5, 5, 10, 15], strict=True):
        _check_press(pkts, code, ssrc)
    # audio (PCMU silence) around the presses shares SSRC and the sequence space
    audio = [p for _a, p in uas.rtp_in if p.payload_type == 0]
    assert audio and all(p.payload == b"\xff" * 160 for p in audio)
    assert all(p.ssrc == ssrc for _a, p in uas.rtp_in)
    seqs = [p.sequence for _a, p in uas.rtp_in]
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    # the timestamp clock runs at 8 kHz whatever is sent: press timestamps are
    # ahead of the previous press by at least its duration plus the gap
    for a, b in zip(timestamps, timestamps[1:], strict=False):
        assert (b - a) & 0xFFFFFFFF >= 1280 + 0.1 * 8000 - 160
    assert [k.rtp_timestamp for k in report.keys] == timestamps
    assert _req(invite).call_id == report.call_id


async def test_rejected_486_is_acked() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, timeout_s=10))
        invite = await uas.expect_request("INVITE")
        uas.reply(invite, 100)
        uas.reply(invite, 486)
        ack = _req(await uas.expect_request("ACK"))
        inv = _req(invite)
        # non-2xx ACK: same transaction (branch), same Request-URI, To with our tag
        assert ack.top_via.branch == inv.top_via.branch
        assert ack.uri == inv.uri and ack.cseq.number == inv.cseq.number
        assert ack.to.tag == uas.tag
        # a retransmitted 486 is ACKed again
        uas.reply(invite, 486)
        await uas.expect_request("ACK")
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.REJECTED
    assert report.status == 486 and report.reason == "Busy Here"
    assert not report.answered and report.errors == ()


async def test_invite_retransmitted_until_provisional() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, hangup_after_s=0.3, timeout_s=15))
        first = await uas.expect_request("INVITE")
        second = await uas.expect_request("INVITE", timeout_s=1.0)
        third = await uas.expect_request("INVITE", timeout_s=1.5)
        # timer A (T1, then 2*T1: its intervals are the dialog's, tests/sipphone/test_dialog.py)
        assert first.at < second.at < third.at
        assert first.raw == second.raw == third.raw
        uas.reply(third, 180)
        await uas.nothing_for(1.2)  # a provisional stops the retransmissions
        uas.reply(third, 200, sdp=True)
        await uas.expect_request("ACK")
        bye = await uas.expect_request("BYE", timeout_s=3)
        # the BYE is retransmitted until answered (timer E)
        again = await uas.expect_request("BYE", timeout_s=1)
        assert again.raw == bye.raw
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.LOCAL_BYE
    assert report.invite_retransmissions == 2 and report.bye_status == 200
    assert "0.3s after answer" in report.detail


async def test_timeout_while_ringing_sends_cancel() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, timeout_s=1.0))
        invite = await uas.expect_request("INVITE")
        uas.reply(invite, 180)
        cancel = await uas.expect_request("CANCEL", timeout_s=3)  # the first message after it
        c, inv = _req(cancel), _req(invite)
        assert c.top_via.branch == inv.top_via.branch and c.uri == inv.uri
        assert c.cseq.number == inv.cseq.number and c.cseq.method == "CANCEL"
        assert c.to.tag is None
        uas.reply(cancel, 200)
        uas.reply(invite, 487)
        await uas.expect_request("ACK")
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.TIMEOUT
    assert report.status == 487 and report.errors == ()
    assert "timeout" in report.detail


async def test_cancel_while_ringing_is_sent_that_long_after_the_180() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, cancel_after_ringing_s=0.3, timeout_s=10))
        invite = await uas.expect_request("INVITE")
        uas.reply(invite, 100)
        await uas.nothing_for(0.6)  # a 100 is not ringing: no CANCEL before the 180
        uas.reply(invite, 180)
        cancel = await uas.expect_request("CANCEL", timeout_s=3)
        uas.reply(cancel, 200)
        uas.reply(invite, 487)
        await uas.expect_request("ACK")
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.CANCELLED
    assert report.status == 487 and report.errors == ()


async def test_no_audio_sends_no_rtp_at_all() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(uas.uri, send_audio=False, hangup_after_s=0.5, timeout_s=10)
        )
        await _answer(uas)
        await uas.expect_request("ACK")
        bye = await uas.expect_request("BYE", timeout_s=3)
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
        assert uas.rtp_in == []
    assert report.outcome is CallOutcome.LOCAL_BYE and report.audio.sent_packets == 0


async def test_nothing_listening_reports_no_response() -> None:
    async with FakeUas() as uas:
        port = uas.sip_port
    # the UAS socket is closed now (an unconnected UDP socket sees no ICMP errors)
    report = await place_call(f"sip:+15105550000@127.0.0.1:{port}", timeout_s=1.2)
    assert report.outcome is CallOutcome.NO_RESPONSE
    assert report.status is None and report.invite_retransmissions >= 1
    assert any("no response to the INVITE" in e for e in report.errors)


async def test_refer_refused_sends_no_notify() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(uas.uri, refer_status=403, hangup_after_notify_s=0.5, timeout_s=10)
        )
        invite = await _answer(uas)
        await uas.expect_request("ACK")
        dlg = uas.dialog(invite)
        uas.request(dlg, "REFER", extra=[("Refer-To", "sip:nobody@127.0.0.1")])
        await uas.expect_response(403)
        bye = await uas.expect_request("BYE", timeout_s=3)  # no NOTIFY before it
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.LOCAL_BYE
    assert report.refer is not None and report.refer.response_status == 403
    assert report.refer.notifies == () and report.final_notify_status is None
    assert report.refer_to == "sip:nobody@127.0.0.1"


async def test_notify_failure_status_without_trying() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(
                uas.uri,
                notify_status=603,
                notify_trying=False,
                notify_delay_s=0.0,
                hangup_after_notify_s=0.2,
                timeout_s=10,
            )
        )
        invite = await _answer(uas)
        await uas.expect_request("ACK")
        uas.request(uas.dialog(invite), "REFER", extra=[("Refer-To", "<sip:x@127.0.0.1>")])
        await uas.expect_response(202)
        n = await uas.expect_request("NOTIFY")
        assert _req(n).body == b"SIP/2.0 603 Decline\r\n"
        uas.reply(n, 200)
        bye = await uas.expect_request("BYE", timeout_s=3)
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
    assert report.final_notify_status == 603
    assert [n.status for n in report.refer.notifies] == [603]  # type: ignore[union-attr]
    assert report.outcome is CallOutcome.LOCAL_BYE and report.errors == ()


async def test_record_route_and_in_dialog_requests() -> None:
    """ACK and BYE follow the Record-Route set; OPTIONS and re-INVITE are answered."""
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, hangup_after_s=1.0, timeout_s=10))
        invite = await uas.expect_request("INVITE")
        rr = [
            ("Record-Route", f"<sip:p2@127.0.0.1:{uas.sip_port};lr>"),
            ("Record-Route", f"<sip:p1@127.0.0.1:{uas.sip_port};lr>"),
        ]
        uas.reply(invite, 200, sdp=True, extra=rr)
        ack = _req(await uas.expect_request("ACK"))
        routes = ack.header_values("Route")
        assert routes == [
            f"<sip:p1@127.0.0.1:{uas.sip_port};lr>",
            f"<sip:p2@127.0.0.1:{uas.sip_port};lr>",
        ]
        dlg = uas.dialog(invite)
        uas.request(dlg, "OPTIONS")
        await uas.expect_response(200)
        uas.request(dlg, "INVITE", body=uas.sdp_answer(), content_type="application/sdp")
        r = await uas.expect_response(200)
        assert r.msg.content_type == "application/sdp" and b"m=audio" in r.msg.body
        bye = await uas.expect_request("BYE", timeout_s=3)
        assert _req(bye).header_values("Route") == routes
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.LOCAL_BYE and report.errors == ()


async def test_hangup_mid_prompt_and_recording(tmp_path: Path) -> None:
    wav_path = tmp_path / "heard.wav"
    async with FakeUas() as uas:
        call = asyncio.create_task(
            place_call(uas.uri, hangup_after_audio_s=0.5, record_to=wav_path, timeout_s=10)
        )
        invite = await _answer(uas)
        await uas.expect_request("ACK")
        media = uas.caller_media(invite)
        uas.start_tone((media.address, media.port), seconds=5, delay_s=0.4)
        bye = await uas.expect_request("BYE", timeout_s=4)
        uas.reply(bye, 200)
        report = await asyncio.wait_for(call, 5)
    assert report.outcome is CallOutcome.LOCAL_BYE
    first = report.first_audio_at
    assert first is not None and report.answered_at is not None
    assert report.answered_at < first < bye.at  # the hang-up counts from the first audio
    assert report.recording == str(wav_path)
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        frames = w.readframes(w.getnframes())
    assert len(frames) >= 2 * 8000 * 0.4
    assert max(abs(s) for s in struct.unpack(f"<{len(frames) // 2}h", frames)) > 5000


async def test_interactive_call_object() -> None:
    async with FakeUas() as uas:
        async with SipCall(uas.uri, CallScript(timeout_s=10)) as call:
            await call.start()
            answer = asyncio.create_task(_answer(uas))
            assert await call.wait_answered(timeout_s=3)
            await answer
            await uas.expect_request("ACK")
            sent = await call.send_key("7")
            assert sent.digit == "7" and sent.packets == 10
            hang = asyncio.create_task(call.hangup())
            bye = await uas.expect_request("BYE")
            uas.reply(bye, 200)
            await hang
        report = call.report()
    assert report.outcome is CallOutcome.LOCAL_BYE and [k.digit for k in report.keys] == ["7"]


async def test_cli_json() -> None:
    async with FakeUas() as uas:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router.stack.caller",
            uas.uri,
            "--keys",
            "2",
            "--first-key-delay",
            "0.2",
            "--hangup-after-keys",
            "0.1",
            "--timeout",
            "10",
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            invite = await _answer(uas)
            await uas.expect_request("ACK")
            bye = await uas.expect_request("BYE", timeout_s=5)
            uas.reply(bye, 200)
            out, err = await asyncio.wait_for(proc.communicate(), 10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, err.decode()
    data = json.loads(out)
    assert data["outcome"] == "local_bye" and data["answered"] is True
    assert [k["digit"] for k in data["keys"]] == ["2"]
    assert data["call_id"] == _req(invite).call_id


async def test_cli_summary_for_rejected_call() -> None:
    async with FakeUas() as uas:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "router.stack.caller",
            uas.uri,
            "--timeout",
            "5",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            invite = await uas.expect_request("INVITE", timeout_s=10)
            uas.reply(invite, 603)
            await uas.expect_request("ACK")
            out, _err = await asyncio.wait_for(proc.communicate(), 10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 1
    text = out.decode()
    assert "outcome: rejected (INVITE 603 Decline)" in text and "protocol errors: none" in text


def test_cli_rejects_bad_keys(capsys: pytest.CaptureFixture[str]) -> None:
    from router.stack.sipphone import main

    assert main(["sip:1@127.0.0.1:5060", "--keys", "1x"]) == 2
    assert "bad key" in capsys.readouterr().err


def test_name_addr_roundtrip_helper() -> None:
    assert NameAddr.parse("<sip:a@b>;tag=1").tag == "1"


async def test_cancelled_task_still_sends_bye_and_closes() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, timeout_s=30))
        await _answer(uas)
        await uas.expect_request("ACK")
        await asyncio.sleep(0.2)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        bye = await uas.expect_request("BYE", timeout_s=2)
        assert _req(bye).cseq.method == "BYE"
        await uas.nothing_for(0.7)  # sent once, not retransmitted: the caller is gone


async def test_bye_glare_ends_without_waiting_for_our_bye() -> None:
    async with FakeUas() as uas:
        call = asyncio.create_task(place_call(uas.uri, hangup_after_s=0.2, timeout_s=10))
        invite = await _answer(uas)
        await uas.expect_request("ACK")
        ours = await uas.expect_request("BYE", timeout_s=3)
        uas.request(uas.dialog(invite), "BYE")  # theirs crosses ours; ours stays unanswered
        await uas.expect_response(200)
        report = await asyncio.wait_for(call, 3)
    assert report.outcome is CallOutcome.REMOTE_BYE
    assert ours.at < report.ended_at and report.bye_status is None  # on theirs; ours unanswered
    assert report.errors == (), report.summary()
