"""The media half of the phone, without sockets: what received RTP sounded like.

:class:`AudioMeter` turns received RTP datagrams into :class:`AudioStats` (levels,
the first non-silent packet, RFC 4733 keys the far end sent); :class:`WavRecorder`
places received audio by RTP timestamp so gaps stay gaps in the file.  The 20 ms
sending clock lives in the asyncio shell (:mod:`router.stack.sipphone.phone`), which
ticks a :class:`~router.stack.sipphone.rtp.RtpTransmitter`.
"""

from __future__ import annotations

import math
import sys
import wave
from array import array
from pathlib import Path

from router.stack.sipphone.report import AudioStats
from router.stack.sipphone.rtp import (
    PCMU_PAYLOAD_TYPE,
    SAMPLE_RATE_HZ,
    RtpError,
    RtpPacket,
    TelephoneEvent,
    digit_for_event,
    ulaw_decode,
)

__all__ = ["AudioMeter", "WavRecorder"]


class WavRecorder:
    """Received audio placed by RTP timestamp, so gaps stay gaps in the file."""

    MAX_GAP = 5 * SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self.samples = array("h")
        self._ssrc: int | None = None
        self._base_ts = 0
        self._base_pos = 0

    def add(self, ssrc: int, timestamp: int, samples: array[int]) -> None:
        if ssrc != self._ssrc:
            self._ssrc, self._base_ts, self._base_pos = ssrc, timestamp, len(self.samples)
        rel = (timestamp - self._base_ts) & 0xFFFFFFFF
        if rel >= 2**31:  # older than the first packet of this stream
            return
        pos = self._base_pos + rel
        cur = len(self.samples)
        if pos > cur + self.MAX_GAP:  # timestamp jump: start a new segment here
            self._base_ts, self._base_pos, pos = timestamp, cur, cur
        if pos < cur:  # late or duplicate packet: overwrite in place
            end = min(cur, pos + len(samples))
            self.samples[pos:end] = samples[: end - pos]
            if pos + len(samples) > cur:
                self.samples.extend(samples[end - pos :])
            return
        if pos > cur:
            self.samples.extend(array("h", bytes(2 * (pos - cur))))
        self.samples.extend(samples)

    def write(self, path: Path) -> None:
        data = self.samples
        if sys.byteorder == "big":
            data = array("h", data)
            data.byteswap()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SAMPLE_RATE_HZ)
            w.writeframes(data.tobytes())


class AudioMeter:
    """Counts and levels of the received RTP stream; fed datagrams, time passed in."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.packets = 0
        self.audio_packets = 0
        self.voiced_packets = 0
        self.first_packet_at: float | None = None
        self.first_audio_at: float | None = None
        self.last_audio_at: float | None = None
        self.voiced_samples = 0
        self.sum_squares = 0.0
        self.samples = 0
        self.peak_rms = 0.0
        self.dtmf: list[str] = []
        self._dtmf_seen: set[tuple[int, int]] = set()
        self.bad_packets = 0
        self.sent_packets = 0

    def receive(
        self,
        data: bytes,
        now: float,
        *,
        pcmu_payload_type: int | None,
        event_payload_type: int,
        recorder: WavRecorder | None = None,
    ) -> bool:
        """Take one datagram from the RTP socket; True when it was the first non-silent audio."""
        try:
            pkt = RtpPacket.decode(data)
        except RtpError:
            self.bad_packets += 1
            return False
        self.packets += 1
        if self.first_packet_at is None:
            self.first_packet_at = now
        pcmu = pcmu_payload_type if pcmu_payload_type is not None else PCMU_PAYLOAD_TYPE
        if pkt.payload_type == pcmu:
            if recorder is None and not pkt.payload.strip(b"\xff\x7f"):
                self.silence(len(pkt.payload))  # digital silence: skip the per-sample work
                return False
            samples = ulaw_decode(pkt.payload)
            had_audio = self.first_audio_at is not None
            self.audio(samples, now)
            if recorder is not None:
                recorder.add(pkt.ssrc, pkt.timestamp, samples)
            return not had_audio and self.first_audio_at is not None
        if pkt.payload_type == event_payload_type:
            self.event(pkt)
        return False

    def audio(self, samples: array[int], now: float) -> None:
        n = len(samples)
        if not n:
            return
        sq = float(sum(s * s for s in samples))
        rms = math.sqrt(sq / n)
        self.audio_packets += 1
        self.sum_squares += sq
        self.samples += n
        self.peak_rms = max(self.peak_rms, rms)
        if rms > self.threshold:
            self.voiced_packets += 1
            self.voiced_samples += n
            self.last_audio_at = now
            if self.first_audio_at is None:
                self.first_audio_at = now

    def silence(self, n: int) -> None:
        if n:
            self.audio_packets += 1
            self.samples += n

    def event(self, pkt: RtpPacket) -> None:
        try:
            ev = TelephoneEvent.decode(pkt.payload)
        except RtpError:
            self.bad_packets += 1
            return
        key = (pkt.ssrc, pkt.timestamp)
        if key in self._dtmf_seen:
            return
        self._dtmf_seen.add(key)
        self.dtmf.append(digit_for_event(ev.event) or f"<{ev.event}>")

    def freeze(self, sent_packets: int) -> AudioStats:
        return AudioStats(
            packets=self.packets,
            audio_packets=self.audio_packets,
            voiced_packets=self.voiced_packets,
            first_packet_at=self.first_packet_at,
            first_audio_at=self.first_audio_at,
            last_audio_at=self.last_audio_at,
            voiced_s=self.voiced_samples / SAMPLE_RATE_HZ,
            energy=self.sum_squares / 32768.0**2,
            rms=math.sqrt(self.sum_squares / self.samples) if self.samples else 0.0,
            peak_rms=self.peak_rms,
            threshold_rms=self.threshold,
            dtmf_received=tuple(self.dtmf),
            bad_packets=self.bad_packets,
            sent_packets=sent_packets,
        )
