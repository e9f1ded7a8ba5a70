"""RTP pieces a test phone needs: packets, G.711 u-law, RFC 4733 key presses.

Pure functions and small state machines, no sockets, so every byte the caller
puts on the wire can be unit-tested.  The phone's shell (``sipphone.phone``)
drives :class:`RtpTransmitter` from a 20 ms clock; ``sipphone.media`` feeds received
datagrams to :func:`RtpPacket.decode`.

Why hand-rolled: ``audioop`` is deprecated (and gone in 3.13), and the project
wants the caller to run with no third-party packages.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

from router.core.errors import ProtocolError

__all__ = [
    "DTMF_EVENT_CODES",
    "PCMU_PAYLOAD_TYPE",
    "SAMPLES_PER_PACKET",
    "SAMPLE_RATE_HZ",
    "ULAW_SILENCE",
    "KeyHandle",
    "RtpError",
    "RtpPacket",
    "RtpTransmitter",
    "TelephoneEvent",
    "digit_for_event",
    "event_for_digit",
    "linear_to_ulaw",
    "pcm_rms",
    "telephone_event_sequence",
    "ulaw_decode",
    "ulaw_encode",
    "ulaw_to_linear",
]

SAMPLE_RATE_HZ = 8000
"""Clock rate of PCMU and of telephone-event/8000."""

PTIME_MS = 20
SAMPLES_PER_PACKET = SAMPLE_RATE_HZ * PTIME_MS // 1000
"""160 samples: one 20 ms packet, what every desk phone sends."""

PCMU_PAYLOAD_TYPE = 0
ULAW_SILENCE = 0xFF
"""u-law code of linear 0; a packet of these is digital silence."""

_RTP_HEADER = struct.Struct("!BBHII")
_BIAS = 0x84
_CLIP = 32635

DTMF_EVENT_CODES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}
"""RFC 4733 section 3.2 event codes; the same numbers LiveKit's SipDTMF.code uses."""

_DIGIT_FOR_CODE = {code: digit for digit, code in DTMF_EVENT_CODES.items()}


class RtpError(ProtocolError):
    """A datagram that is not a well-formed RTP version 2 packet."""


def event_for_digit(digit: str) -> int:
    """Map a key (``0-9 * # A-D``, case-insensitive) to its RFC 4733 event code."""
    try:
        return DTMF_EVENT_CODES[digit.upper()]
    except KeyError:
        raise ValueError(f"not a DTMF key: {digit!r} (allowed: 0-9 * # A-D)") from None


def digit_for_event(code: int) -> str | None:
    """Inverse of :func:`event_for_digit`; ``None`` for events 16+ (flash and tones)."""
    return _DIGIT_FOR_CODE.get(code)


# --------------------------------------------------------------------------- G.711


def ulaw_to_linear(code: int) -> int:
    """Decode one G.711 u-law byte to a 16-bit linear sample (ITU-T G.711)."""
    u = ~code & 0xFF
    t = ((u & 0x0F) << 3) + _BIAS
    t <<= (u & 0x70) >> 4
    return _BIAS - t if u & 0x80 else t - _BIAS


def linear_to_ulaw(sample: int) -> int:
    """Encode one 16-bit linear sample as a G.711 u-law byte."""
    sign = 0
    if sample < 0:
        sample = -sample
        sign = 0x80
    sample = min(sample, _CLIP) + _BIAS
    exponent = min(7, max(0, sample.bit_length() - 8))
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


_ULAW_TABLE: tuple[int, ...] = tuple(ulaw_to_linear(c) for c in range(256))


def ulaw_decode(payload: bytes) -> array[int]:
    """Decode a PCMU payload into signed 16-bit samples."""
    table = _ULAW_TABLE
    return array("h", [table[b] for b in payload])


def ulaw_encode(samples: Sequence[int]) -> bytes:
    """Encode signed 16-bit samples as a PCMU payload."""
    return bytes(linear_to_ulaw(s) for s in samples)


def pcm_rms(samples: Sequence[int]) -> float:
    """Root mean square of 16-bit samples (0 for silence, ~23170 for a full-scale sine)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


# --------------------------------------------------------------------------- RTP


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet (RFC 3550 section 5.1).  Header extensions are kept opaque."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: bytes | None = None
    """Raw extension block (profile word, length word and data) if the X bit was set."""

    def encode(self) -> bytes:
        """Serialise; never sets padding."""
        if not 0 <= self.payload_type < 128:
            raise RtpError(f"payload type out of range: {self.payload_type}")
        if len(self.csrcs) > 15:
            raise RtpError("at most 15 CSRCs")
        first = 0x80 | (0x10 if self.extension is not None else 0) | len(self.csrcs)
        second = (0x80 if self.marker else 0) | self.payload_type
        parts = [
            _RTP_HEADER.pack(
                first, second, self.sequence & 0xFFFF, self.timestamp & 0xFFFFFFFF, self.ssrc
            )
        ]
        parts.extend(struct.pack("!I", c) for c in self.csrcs)
        if self.extension is not None:
            parts.append(self.extension)
        parts.append(self.payload)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> RtpPacket:
        """Parse a datagram; raises :class:`RtpError` if it is not RTP v2."""
        if len(data) < _RTP_HEADER.size:
            raise RtpError(f"too short for RTP: {len(data)} bytes")
        first, second, seq, ts, ssrc = _RTP_HEADER.unpack_from(data)
        if first >> 6 != 2:
            raise RtpError(f"RTP version {first >> 6}, expected 2")
        cc = first & 0x0F
        offset = _RTP_HEADER.size
        if len(data) < offset + 4 * cc:
            raise RtpError("truncated CSRC list")
        csrcs = struct.unpack_from(f"!{cc}I", data, offset) if cc else ()
        offset += 4 * cc
        extension: bytes | None = None
        if first & 0x10:
            if len(data) < offset + 4:
                raise RtpError("truncated header extension")
            (words,) = struct.unpack_from("!H", data, offset + 2)
            end = offset + 4 + 4 * words
            if len(data) < end:
                raise RtpError("truncated header extension")
            extension = bytes(data[offset:end])
            offset = end
        end_of_payload = len(data)
        if first & 0x20:
            pad = data[-1]
            if pad == 0 or offset + pad > len(data):
                raise RtpError("bad padding length")
            end_of_payload -= pad
        return cls(
            payload_type=second & 0x7F,
            sequence=seq,
            timestamp=ts,
            ssrc=ssrc,
            payload=bytes(data[offset:end_of_payload]),
            marker=bool(second & 0x80),
            csrcs=tuple(csrcs),
            extension=extension,
        )


# --------------------------------------------------------------------------- RFC 4733


@dataclass(frozen=True)
class TelephoneEvent:
    """The 4-byte telephone-event payload (RFC 4733 section 2.3)."""

    event: int
    end: bool
    volume: int
    """Power level as -dBm0, 0..63; phones use about 10."""
    duration: int
    """In timestamp units (1/8000 s) since the event's RTP timestamp."""

    def encode(self) -> bytes:
        if not 0 <= self.event <= 255:
            raise ValueError(f"event out of range: {self.event}")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume out of range: {self.volume}")
        if not 0 <= self.duration <= 0xFFFF:
            raise ValueError(f"duration out of range: {self.duration}")
        return struct.pack(
            "!BBH", self.event, (0x80 if self.end else 0) | self.volume, self.duration
        )

    @classmethod
    def decode(cls, payload: bytes) -> TelephoneEvent:
        if len(payload) < 4:
            raise RtpError(f"telephone-event payload too short: {len(payload)} bytes")
        event, flags, duration = struct.unpack_from("!BBH", payload)
        return cls(event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration)


def telephone_event_sequence(
    event: int, duration_ms: int, *, volume: int = 10, end_repeats: int = 3
) -> tuple[TelephoneEvent, ...]:
    """The payloads of one key press, one per 20 ms packet.

    Interim packets carry a growing duration (160, 320, ... samples); then the
    final duration is sent ``end_repeats`` times with the E bit, as RFC 4733
    section 2.5.1.4 asks, so one lost packet does not lose the end of the key.
    """
    if duration_ms < 2 * PTIME_MS:
        raise ValueError(f"key duration must be at least {2 * PTIME_MS} ms, got {duration_ms}")
    if end_repeats < 1:
        raise ValueError("end_repeats must be >= 1")
    total = duration_ms * SAMPLE_RATE_HZ // 1000
    if total > 0xFFFF:
        raise ValueError("key duration longer than one RTP event segment (8.19 s)")
    steps = math.ceil(total / SAMPLES_PER_PACKET)
    interim = [
        TelephoneEvent(event, False, volume, k * SAMPLES_PER_PACKET) for k in range(1, steps)
    ]
    final = [TelephoneEvent(event, True, volume, total)] * end_repeats
    return tuple(interim + final)


@dataclass
class KeyHandle:
    """Progress of one queued key press, filled in by :class:`RtpTransmitter`."""

    digit: str
    event: int
    payloads: tuple[TelephoneEvent, ...]
    rtp_timestamp: int | None = None
    """The press's RTP timestamp; set when its first packet goes out."""
    first_sequence: int | None = None
    packets_sent: int = 0
    started: bool = False
    finished: bool = False
    started_tick: int | None = None
    finished_tick: int | None = None


@dataclass
class RtpTransmitter:
    """What a phone sends, one 20 ms tick at a time: u-law audio, or a key press.

    Sequence numbers increase by one per packet.  The timestamp advances by 160
    per tick whatever is sent, as a real sampling clock would, so each key press
    starts at a fresh timestamp (LiveKit treats a repeated timestamp as a
    retransmission of the same press and drops it).  While a key is being sent,
    audio is suppressed; the event's packets all carry the timestamp of the
    tick it started on, the first one with the marker bit.
    """

    ssrc: int
    sequence: int
    timestamp: int
    audio_payload_type: int = PCMU_PAYLOAD_TYPE
    event_payload_type: int = 101
    ticks: int = 0
    _queue: list[KeyHandle] = field(default_factory=list, init=False, repr=False)
    _first_audio: bool = field(default=True, init=False, repr=False)

    def queue_key(
        self, digit: str, *, duration_ms: int = 160, volume: int = 10, end_repeats: int = 3
    ) -> KeyHandle:
        """Schedule a key press to start on the next free tick."""
        code = event_for_digit(digit)
        handle = KeyHandle(
            digit=digit.upper(),
            event=code,
            payloads=telephone_event_sequence(
                code, duration_ms, volume=volume, end_repeats=end_repeats
            ),
        )
        self._queue.append(handle)
        return handle

    @property
    def busy(self) -> bool:
        """True while key presses are queued or in flight."""
        return bool(self._queue)

    def skip(self) -> None:
        """Let one tick pass without a packet (audio muted, nothing queued)."""
        if self._queue:
            raise RuntimeError("cannot skip a tick while a key press is in flight")
        self.timestamp = (self.timestamp + SAMPLES_PER_PACKET) & 0xFFFFFFFF
        self.ticks += 1

    def tick(self, audio: bytes | None = None) -> RtpPacket:
        """The packet for this tick; ``audio`` defaults to 20 ms of u-law silence."""
        ts = self.timestamp & 0xFFFFFFFF
        if self._queue:
            key = self._queue[0]
            if not key.started:
                key.started = True
                key.rtp_timestamp = ts
                key.first_sequence = self.sequence
                key.started_tick = self.ticks
            payload = key.payloads[key.packets_sent]
            pkt = RtpPacket(
                payload_type=self.event_payload_type,
                sequence=self.sequence,
                timestamp=key.rtp_timestamp if key.rtp_timestamp is not None else ts,
                ssrc=self.ssrc,
                payload=payload.encode(),
                marker=key.packets_sent == 0,
            )
            key.packets_sent += 1
            if key.packets_sent == len(key.payloads):
                key.finished = True
                key.finished_tick = self.ticks
                self._queue.pop(0)
        else:
            pkt = RtpPacket(
                payload_type=self.audio_payload_type,
                sequence=self.sequence,
                timestamp=ts,
                ssrc=self.ssrc,
                payload=audio if audio is not None else bytes([ULAW_SILENCE]) * SAMPLES_PER_PACKET,
                marker=self._first_audio,
            )
            self._first_audio = False
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.timestamp = (self.timestamp + SAMPLES_PER_PACKET) & 0xFFFFFFFF
        self.ticks += 1
        return pkt
