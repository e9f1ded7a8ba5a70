"""RTP packets, G.711 u-law and RFC 4733 key presses, no sockets."""

from __future__ import annotations

import math
import struct
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.stack.sipphone.rtp import (
    DTMF_EVENT_CODES,
    SAMPLES_PER_PACKET,
    ULAW_SILENCE,
    RtpError,
    RtpPacket,
    RtpTransmitter,
    TelephoneEvent,
    digit_for_event,
    event_for_digit,
    linear_to_ulaw,
    pcm_rms,
    telephone_event_sequence,
    ulaw_decode,
    ulaw_encode,
    ulaw_to_linear,
)


def test_ulaw_known_values() -> None:
    assert linear_to_ulaw(0) == ULAW_SILENCE == 0xFF
    assert ulaw_to_linear(0xFF) == 0 and ulaw_to_linear(0x7F) == 0
    assert ulaw_to_linear(0x00) == -32124 and ulaw_to_linear(0x80) == 32124
    assert linear_to_ulaw(32767) == 0x80 and linear_to_ulaw(-32768) == 0x00


def test_ulaw_decoder_matches_cpython_audioop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    table = struct.unpack("<256h", audioop.ulaw2lin(bytes(range(256)), 2))
    assert tuple(ulaw_to_linear(c) for c in range(256)) == table


def test_ulaw_code_roundtrip() -> None:
    for code in range(256):
        again = linear_to_ulaw(ulaw_to_linear(code))
        assert again == code or (code == 0x7F and again == 0xFF)  # two zeros


@given(st.integers(min_value=-32768, max_value=32767))
def test_ulaw_quantisation_error_is_bounded(sample: int) -> None:
    decoded = ulaw_to_linear(linear_to_ulaw(sample))
    # u-law steps grow with magnitude: 1/16 of the segment, at most 1024 at the top
    assert abs(decoded - sample) <= max(8, abs(sample) // 16 + 8)
    assert decoded == 0 or (decoded > 0) == (sample > 0)


def test_decode_encode_and_rms() -> None:
    samples = [int(10000 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(160)]
    payload = ulaw_encode(samples)
    assert len(payload) == 160
    back = ulaw_decode(payload)
    assert abs(pcm_rms(back) - 10000 / math.sqrt(2)) < 200
    assert pcm_rms(ulaw_decode(bytes([ULAW_SILENCE]) * 160)) == 0.0
    assert pcm_rms([]) == 0.0


def test_rtp_packet_bytes() -> None:
    pkt = RtpPacket(payload_type=101, sequence=0x1234, timestamp=0xDEADBEEF, ssrc=0x01020304,
                    payload=b"\x01\x0a\x00\xa0", marker=True)  # fmt: skip
    raw = pkt.encode()
    assert raw == bytes.fromhex("80e51234deadbeef01020304") + b"\x01\x0a\x00\xa0"
    assert RtpPacket.decode(raw) == pkt


def test_rtp_decode_csrc_extension_padding() -> None:
    header = bytes([0x80 | 0x20 | 0x10 | 2, 0]) + struct.pack("!HII", 7, 8, 9)
    csrcs = struct.pack("!II", 11, 12)
    ext = struct.pack("!HH", 0xBEDE, 1) + b"\xaa\xbb\xcc\xdd"
    raw = header + csrcs + ext + b"pay" + b"\x00\x00\x03"
    pkt = RtpPacket.decode(raw)
    assert pkt.csrcs == (11, 12) and pkt.extension == ext and pkt.payload == b"pay"
    assert (pkt.sequence, pkt.timestamp, pkt.ssrc, pkt.payload_type) == (7, 8, 9, 0)


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x80\x00", bytes([0x40]) + bytes(11), bytes([0x81]) + bytes(11),
     bytes([0xA0]) + bytes(10) + b"\x00", bytes([0x90]) + bytes(11)],
)  # fmt: skip
def test_rtp_decode_rejects(raw: bytes) -> None:
    with pytest.raises(RtpError):
        RtpPacket.decode(raw)


def test_event_codes() -> None:
    assert [event_for_digit(d) for d in "0123456789*#ABCD"] == list(range(16))
    assert event_for_digit("a") == 12
    assert DTMF_EVENT_CODES["#"] == 11 and digit_for_event(10) == "*"
    assert digit_for_event(16) is None
    with pytest.raises(ValueError):
        event_for_digit("E")


def test_telephone_event_payload() -> None:
    ev = TelephoneEvent(event=11, end=True, volume=10, duration=1280)
    assert ev.encode() == bytes([11, 0x8A, 0x05, 0x00])
    assert TelephoneEvent.decode(ev.encode()) == ev
    with pytest.raises(ValueError):
        TelephoneEvent(event=1, end=False, volume=64, duration=0).encode()
    with pytest.raises(RtpError):
        TelephoneEvent.decode(b"\x01")


def test_event_sequence_grows_then_ends_three_times() -> None:
    seq = telephone_event_sequence(5, 100)
    assert [e.duration for e in seq] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in seq] == [False] * 4 + [True] * 3
    assert {e.event for e in seq} == {5}
    with pytest.raises(ValueError):
        telephone_event_sequence(5, 20)


def test_transmitter_audio_then_keys_fresh_timestamps() -> None:
    tx = RtpTransmitter(ssrc=42, sequence=65534, timestamp=2**32 - 320)
    a1 = tx.tick()
    assert a1.payload_type == 0 and a1.marker and a1.payload == b"\xff" * 160
    h1 = tx.queue_key("1", duration_ms=40)  # 1 interim + 3 end packets
    h2 = tx.queue_key("1", duration_ms=40)
    pkts = [tx.tick() for _ in range(10)]
    assert h1.finished and h2.finished and not tx.busy
    # the same key twice: each press starts on its own tick, so its own timestamp
    assert h1.rtp_timestamp == 2**32 - 160 and h2.rtp_timestamp == -320 + 5 * 160
    first, second, audio = pkts[:4], pkts[4:8], pkts[8:]
    for press, handle in ((first, h1), (second, h2)):
        assert [p.payload_type for p in press] == [101] * 4
        assert [p.marker for p in press] == [True, False, False, False]
        assert {p.timestamp for p in press} == {handle.rtp_timestamp}
        evs = [TelephoneEvent.decode(p.payload) for p in press]
        assert [(e.end, e.duration) for e in evs] == [(False, 160)] + [(True, 320)] * 3
    # audio resumes on the running clock, without a marker
    assert [p.payload_type for p in audio] == [0, 0] and not audio[0].marker
    assert audio[0].timestamp == (2**32 - 320 + 9 * 160) & 0xFFFFFFFF
    seqs = [a1.sequence] + [p.sequence for p in pkts]
    assert seqs == [(65534 + i) & 0xFFFF for i in range(11)]
    assert h1.packets_sent == 4 and h1.first_sequence == 65535 and h2.first_sequence == 3
    assert tx.ticks == 11


def test_transmitter_skip_keeps_the_clock() -> None:
    tx = RtpTransmitter(ssrc=1, sequence=0, timestamp=0)
    tx.skip()
    tx.skip()
    assert tx.tick().timestamp == 2 * SAMPLES_PER_PACKET
    tx.queue_key("9")
    with pytest.raises(RuntimeError):
        tx.skip()
