"""A scripted SIP phone for end-to-end tests, benchmarks and people.

Why it exists: the stack's tests need a caller that dials LiveKit's SIP bridge
exactly like a desk phone would (UDP SIP, PCMU audio, RFC 4733 DTMF with a
fresh RTP timestamp per key, REFER accepted with NOTIFY sipfrags) and reports,
with monotonic timestamps, what happened.  Debian's sipp reuses DTMF
timestamps (LiveKit drops repeated keys) and needs root to play RTP, so this is
plain asyncio: no root, no third-party packages.

One call, one dialog, RFC 3261 UAC behaviour sufficient for it: INVITE with
timer A retransmission, ACK for 2xx (through the Record-Route set) and for
non-2xx finals, CANCEL while ringing, BYE both ways, and in-dialog REFER,
NOTIFY, OPTIONS, INFO and re-INVITE handled as a phone would.

Scripted use::

    report = await place_call("sip:+15105550000@127.0.0.1:5060", keys="1", notify_status=200)
    assert report.outcome is CallOutcome.REMOTE_BYE and report.refer_to

Interactive use, when a test needs to act on what it sees::

    async with SipCall("sip:+15105550000@127.0.0.1:5060") as call:
        await call.start()
        if await call.wait_answered(timeout_s=10):
            await call.wait_first_audio(timeout_s=10)
            await call.send_key("1")
            await call.wait_ended(timeout_s=15)
    report = call.report()

Command line: ``python -m router.stack.caller TARGET --keys 1 --notify 200 [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import enum
import ipaddress
import json
import logging
import math
import re
import secrets
import socket
import sys
import time
import wave
from array import array
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.core.errors import RouterError
from router.stack.rtp import (
    PCMU_PAYLOAD_TYPE,
    SAMPLE_RATE,
    KeyHandle,
    RtpError,
    RtpPacket,
    RtpTransmitter,
    TelephoneEvent,
    digit_for_event,
    event_for_digit,
    ulaw_decode,
)
from router.stack.sdp import SdpError, SdpMedia, build_offer, parse_sdp
from router.stack.sipmsg import (
    HeaderBuilder,
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    Via,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
    reason_phrase,
)

__all__ = [
    "AudioStats",
    "CallError",
    "CallOptions",
    "CallOutcome",
    "CallReport",
    "KeyPress",
    "NotifySent",
    "ReferReceived",
    "SentKey",
    "SipCall",
    "SipTraceEntry",
    "main",
    "parse_keys",
    "place_call",
]

log = logging.getLogger(__name__)

T1 = 0.5
"""RFC 3261 round-trip estimate: first retransmission interval."""
T2 = 4.0
"""RFC 3261 cap on non-INVITE retransmission intervals."""
TX_TIMEOUT = 64 * T1
"""Timers B and F: give up on a transaction after 32 s."""

USER_AGENT = "livekit-menu-router-caller/0.1"
ALLOW = "INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS, INFO, UPDATE"
_KEY_CHARS = frozenset("0123456789*#ABCDabcd")
_PAUSE_RE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)s$", re.IGNORECASE)

Address = tuple[str, int]


# =========================================================================== public types


class CallOutcome(enum.StrEnum):
    """How the call ended."""

    REMOTE_BYE = "remote_bye"
    """The far end hung up (LiveKit does this after a successful transfer)."""
    LOCAL_BYE = "local_bye"
    """We hung up on a script trigger or :meth:`SipCall.hangup`."""
    REJECTED = "rejected"
    """The INVITE got a final non-2xx answer; see ``CallReport.status``."""
    CANCELLED = "cancelled"
    """We hung up while it was ringing (CANCEL)."""
    TIMEOUT = "timeout"
    """The overall timeout expired; we sent BYE or CANCEL."""
    NO_RESPONSE = "no_response"
    """Nothing ever answered the INVITE (wrong port, server down)."""
    ERROR = "error"
    """A local failure (name resolution, socket error); see ``CallReport.errors``."""


class CallError(RouterError):
    """An action that the call's state does not allow (a key before the answer ...)."""


@dataclass(frozen=True)
class KeyPress:
    """One key of a script.

    ``delay_before_s`` counts from the answer for the first key and from the
    end of the previous key otherwise; ``None`` takes the script default
    (``first_key_delay_s`` / ``key_gap_s``).  The default first delay is a few
    seconds because LiveKit may lose digits sent while its data channel comes up.
    """

    digit: str
    delay_before_s: float | None = None
    duration_ms: int = 160

    def __post_init__(self) -> None:
        event_for_digit(self.digit)  # raises ValueError for anything but 0-9 * # A-D
        if len(self.digit) != 1:
            raise ValueError(f"one key per KeyPress, got {self.digit!r}")
        if self.delay_before_s is not None and (
            self.delay_before_s < 0 or not math.isfinite(self.delay_before_s)
        ):
            raise ValueError(f"delay_before_s must be >= 0, got {self.delay_before_s}")
        if self.duration_ms < 40:
            raise ValueError(f"duration_ms must be >= 40, got {self.duration_ms}")


def parse_keys(spec: str, *, duration_ms: int = 160) -> tuple[KeyPress, ...]:
    """Turn a key string into presses.

    Tokens are separated by commas or spaces.  Key characters (``0-9 * # A-D``)
    are pressed one after another with the default gaps; a token like ``3s`` or
    ``1.5s`` sets the pause before the next key explicitly (from the answer for
    the first key).  ``"1"``, ``"1,2"``, ``"12#"``, ``"4s 1 3s 2"``.
    """
    keys: list[KeyPress] = []
    pause: float | None = None
    for token in re.split(r"[,\s]+", spec.strip()):
        if not token:
            continue
        m = _PAUSE_RE.match(token)
        if m:
            pause = (pause or 0.0) + float(m.group(1))
            continue
        for ch in token:
            if ch not in _KEY_CHARS:
                raise ValueError(f"bad key {ch!r} in {spec!r} (allowed: 0-9 * # A-D, pauses as 2s)")
            keys.append(KeyPress(ch.upper(), pause, duration_ms))
            pause = None
    return tuple(keys)


@dataclass(frozen=True)
class CallOptions:
    """Everything a scripted call does; the defaults behave like a patient phone user."""

    keys: tuple[KeyPress, ...] = ()
    first_key_delay_s: float = 2.5
    """Pause between the answer and the first key (LiveKit may drop earlier digits)."""
    key_gap_s: float = 0.5
    """Pause between the end of one key and the next when the script gives none."""
    refer_status: int = 202
    """Answer to an incoming REFER; a non-2xx (403 ...) refuses it and sends no NOTIFY."""
    notify_trying: bool = True
    """Send a ``SIP/2.0 100 Trying`` NOTIFY right after accepting a REFER."""
    notify_status: int | None = 200
    """Final sipfrag status to report (200 = transferred); None sends no final NOTIFY."""
    notify_delay_s: float = 0.5
    """Pause between accepting the REFER and the final NOTIFY."""
    hangup_after_s: float | None = None
    """Hang up this long after the answer."""
    cancel_after_ringing_s: float | None = None
    """Hang up (CANCEL) this long after the first 180/183, if the call is not answered by then."""
    hangup_after_audio_s: float | None = None
    """Hang up this long after the first non-silent audio arrived (mid-prompt tests)."""
    hangup_after_keys_s: float | None = None
    """Hang up this long after the last scripted key was sent."""
    hangup_after_notify_s: float | None = None
    """Hang up this long after the final NOTIFY of a REFER was answered."""
    timeout_s: float = 60.0
    """Overall limit; then BYE (or CANCEL).  place_call returns by timeout_s + bye_timeout_s."""
    bye_timeout_s: float = 4.0
    """How long to wait for the answer to our BYE or CANCEL."""
    record_to: str | Path | None = None
    """Write received audio (8 kHz mono 16-bit WAV) here when the call ends."""
    caller_id: str = "+15105550100"
    """User part of From (what LiveKit reports as ``sip.phoneNumber``)."""
    display_name: str | None = None
    local_host: str = "127.0.0.1"
    """Address to bind (ephemeral ports) and to advertise in Via, Contact and SDP."""
    invite_headers: tuple[tuple[str, str], ...] = ()
    """Extra INVITE headers (``X-...``), in order."""
    audio_threshold_rms: float = 200.0
    """Per-packet RMS (16-bit scale) above which received audio counts as not silent."""
    send_audio: bool = True
    """Send 20 ms PCMU silence packets from the answer on, as a phone does; False sends no
    RTP but the keys' (with no keys, none at all: a phone whose media never arrives)."""


@dataclass(frozen=True)
class SentKey:
    """A key press as it went out on the wire."""

    digit: str
    event: int
    sent_at: float
    """time.monotonic() when the first packet of the press was sent."""
    finished_at: float
    """time.monotonic() when the last end packet was sent."""
    rtp_timestamp: int
    first_sequence: int
    packets: int


@dataclass(frozen=True)
class NotifySent:
    """One NOTIFY we sent for a REFER."""

    sipfrag: str
    """Body's status line, e.g. ``SIP/2.0 200 OK``."""
    status: int
    subscription_state: str
    sent_at: float
    response_status: int | None
    """The far end's answer to the NOTIFY; None if none arrived."""


@dataclass(frozen=True)
class ReferReceived:
    """An in-dialog REFER (a cold transfer request) and what we did about it."""

    received_at: float
    refer_to: str
    referred_by: str | None
    x_headers: Mapping[str, str]
    """Every ``X-`` header of the REFER, with the name as sent."""
    headers: tuple[tuple[str, str], ...]
    """All headers of the REFER, for anything else a test wants to check."""
    cseq: int
    response_status: int
    notifies: tuple[NotifySent, ...]

    @property
    def final_notify_status(self) -> int | None:
        """The sipfrag status of the last final (>= 200) NOTIFY sent, if any."""
        finals = [n.status for n in self.notifies if n.status >= 200]
        return finals[-1] if finals else None

    @property
    def refer_to_uri(self) -> str:
        """Refer-To without angle brackets or header parameters."""
        try:
            return NameAddr.parse(self.refer_to).uri
        except SipParseError:
            return self.refer_to


@dataclass(frozen=True)
class AudioStats:
    """What came in on the RTP socket."""

    packets: int
    """Every RTP packet received (any payload type)."""
    audio_packets: int
    """PCMU packets."""
    voiced_packets: int
    """PCMU packets whose RMS was above the threshold."""
    first_packet_at: float | None
    first_audio_at: float | None
    """time.monotonic() of the first non-silent PCMU packet: prompt audio reached us."""
    last_audio_at: float | None
    voiced_s: float
    """Total duration of non-silent packets."""
    energy: float
    """Sum over all PCMU samples of (sample / 32768)^2."""
    rms: float
    """RMS over all PCMU samples received."""
    peak_rms: float
    """Highest per-packet RMS."""
    threshold_rms: float
    dtmf_received: tuple[str, ...]
    """RFC 4733 keys the far end sent us (one per distinct event timestamp)."""
    bad_packets: int
    sent_packets: int


@dataclass(frozen=True)
class SipTraceEntry:
    at: float
    direction: str
    """``>`` sent, ``<`` received."""
    peer: str
    line: str
    """Start line plus CSeq, e.g. ``INVITE sip:... SIP/2.0 [1 INVITE]``."""


@dataclass(frozen=True)
class CallReport:
    """Everything a test may want to assert about one call.  Times are time.monotonic()."""

    target: str
    call_id: str
    local_tag: str
    remote_tag: str | None
    outcome: CallOutcome
    status: int | None
    """Final status of the INVITE (200, 486, 487 ...); None if none arrived."""
    reason: str
    detail: str
    """Human-readable note on how the call ended (which trigger hung up ...)."""
    started_at: float
    provisional: tuple[int, ...]
    ringing_at: float | None
    answered_at: float | None
    ended_at: float
    invite_retransmissions: int
    keys: tuple[SentKey, ...]
    audio: AudioStats
    refers: tuple[ReferReceived, ...]
    bye_status: int | None
    """The answer to our BYE (local hangup or timeout)."""
    remote_bye_at: float | None
    errors: tuple[str, ...]
    """Protocol errors and oddities seen; an empty tuple on a clean call."""
    local_sip: str
    local_rtp: str
    remote_rtp: str | None
    recording: str | None
    trace: tuple[SipTraceEntry, ...]

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def refer(self) -> ReferReceived | None:
        return self.refers[0] if self.refers else None

    @property
    def refer_to(self) -> str | None:
        return self.refers[0].refer_to if self.refers else None

    @property
    def refer_at(self) -> float | None:
        return self.refers[0].received_at if self.refers else None

    @property
    def final_notify_status(self) -> int | None:
        return self.refers[-1].final_notify_status if self.refers else None

    @property
    def first_audio_at(self) -> float | None:
        return self.audio.first_audio_at

    @property
    def key_times(self) -> tuple[float, ...]:
        return tuple(k.sent_at for k in self.keys)

    @property
    def duration_s(self) -> float:
        return self.ended_at - self.started_at

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as strings, mappings as dicts)."""
        raw = dataclasses.asdict(self)
        raw["outcome"] = self.outcome.value
        for ref, src in zip(raw["refers"], self.refers, strict=True):
            ref["x_headers"] = dict(src.x_headers)
            ref["final_notify_status"] = src.final_notify_status
        raw["answered"] = self.answered
        raw["refer_to"] = self.refer_to
        raw["final_notify_status"] = self.final_notify_status
        raw["duration_s"] = self.duration_s
        return raw

    def summary(self) -> str:
        """A readable timeline, times relative to the first INVITE."""
        t0 = self.started_at

        def rel(t: float) -> str:
            return f"{t - t0:+8.3f}s"

        status = f" (INVITE {self.status} {self.reason})" if self.status is not None else ""
        lines = [
            f"call {self.target}",
            f"  Call-ID {self.call_id}  SIP {self.local_sip}  RTP {self.local_rtp}"
            f" -> {self.remote_rtp or '-'}",
            f"  outcome: {self.outcome.value}{status}"
            + (f" - {self.detail}" if self.detail else ""),
        ]
        events: list[tuple[float, str]] = [
            (
                self.started_at,
                "INVITE sent"
                + (
                    f" (retransmitted {self.invite_retransmissions}x)"
                    if self.invite_retransmissions
                    else ""
                ),
            )
        ]
        if self.ringing_at is not None:
            events.append((self.ringing_at, "ringing"))
        if self.answered_at is not None:
            events.append((self.answered_at, "answered"))
        a = self.audio
        if a.first_audio_at is not None:
            events.append((a.first_audio_at, "first audio above threshold"))
        for k in self.keys:
            events.append((k.sent_at, f"key {k.digit} sent (RTP ts {k.rtp_timestamp})"))
        for r in self.refers:
            xh = "".join(f"  {k}: {v}" for k, v in r.x_headers.items())
            events.append(
                (r.received_at, f"REFER Refer-To: {r.refer_to}{xh} -> {r.response_status}")
            )
            for n in r.notifies:
                answer = n.response_status if n.response_status is not None else "no answer"
                events.append((n.sent_at, f"NOTIFY {n.sipfrag} -> {answer}"))
        if self.remote_bye_at is not None:
            events.append((self.remote_bye_at, "BYE from remote"))
        events.append((self.ended_at, f"ended: {self.outcome.value}"))
        lines.extend(f"  {rel(t)}  {what}" for t, what in sorted(events, key=lambda e: e[0]))
        lines.append(
            f"  audio: {a.packets} RTP packets in ({a.audio_packets} PCMU,"
            f" {a.voiced_packets} voiced = {a.voiced_s:.2f}s), rms {a.rms:.0f},"
            f" peak {a.peak_rms:.0f}, energy {a.energy:.1f};"
            f" {a.sent_packets} packets out"
        )
        if a.dtmf_received:
            lines.append(f"  DTMF received: {''.join(a.dtmf_received)}")
        if self.bye_status is not None:
            lines.append(f"  our BYE answered {self.bye_status}")
        if self.recording:
            lines.append(f"  recorded to {self.recording}")
        if self.errors:
            lines.append("  protocol errors:")
            lines.extend(f"    - {e}" for e in self.errors)
        else:
            lines.append("  protocol errors: none")
        return "\n".join(lines)


# =========================================================================== internals


class _Datagram(asyncio.DatagramProtocol):
    """Hands datagrams to a callback; never lets a handler bug kill the socket."""

    def __init__(
        self,
        on_data: Callable[[bytes, Address], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        self._on_data = on_data
        self._on_error = on_error

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        try:
            self._on_data(data, (str(addr[0]), int(addr[1])))
        except Exception as exc:  # a bug here must not stop the call
            log.exception("handler failed on datagram from %s", addr)
            self._on_error(exc)

    def error_received(self, exc: Exception) -> None:
        self._on_error(exc)


class _ClientTx:
    """An RFC 3261 client transaction over UDP (17.1.1 INVITE, 17.1.2 non-INVITE)."""

    def __init__(self, call: SipCall, request: SipRequest, dest: Address) -> None:
        self.call = call
        self.request = request
        self.data = request.to_bytes()
        self.dest = dest
        self.method = request.method
        self.branch = request.top_via.branch or ""
        self.invite = request.method == "INVITE"
        self.final: asyncio.Future[SipResponse | None] = asyncio.get_running_loop().create_future()
        self.got_provisional = False
        self.retransmissions = 0
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.call._send(self.data, self.dest, self.request)
        self.task = asyncio.get_running_loop().create_task(self._retransmit())

    async def _retransmit(self) -> None:
        loop = asyncio.get_running_loop()
        interval = T1
        give_up = loop.time() + TX_TIMEOUT
        while not self.final.done():
            wait = min(interval, give_up - loop.time())
            if wait <= 0:
                self.final.set_result(None)  # timer B / F
                return
            await asyncio.wait({self.final}, timeout=wait)
            if self.final.done():
                return
            if self.invite and self.got_provisional:
                return  # timer A stops on a provisional; the TU's timeout covers the rest
            if loop.time() >= give_up:
                continue
            self.call._send(self.data, self.dest, self.request, retransmission=True)
            self.retransmissions += 1
            if not self.invite and self.got_provisional:
                interval = T2
            elif self.invite:
                interval *= 2
            else:
                interval = min(interval * 2, T2)

    def stop(self) -> None:
        if not self.final.done():
            self.final.set_result(None)
        if self.task is not None:
            self.task.cancel()


@dataclass
class _ReferState:
    received_at: float
    refer_to: str
    referred_by: str | None
    x_headers: dict[str, str]
    headers: tuple[tuple[str, str], ...]
    cseq: int
    response_status: int
    notifies: list[NotifySent] = field(default_factory=list)

    def freeze(self) -> ReferReceived:
        return ReferReceived(
            received_at=self.received_at,
            refer_to=self.refer_to,
            referred_by=self.referred_by,
            x_headers=dict(self.x_headers),
            headers=self.headers,
            cseq=self.cseq,
            response_status=self.response_status,
            notifies=tuple(self.notifies),
        )


class _WavRecorder:
    """Received audio placed by RTP timestamp, so gaps stay gaps in the file."""

    MAX_GAP = 5 * SAMPLE_RATE

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
            w.setframerate(SAMPLE_RATE)
            w.writeframes(data.tobytes())


class _AudioMeter:
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
            voiced_s=self.voiced_samples / SAMPLE_RATE,
            energy=self.sum_squares / 32768.0**2,
            rms=math.sqrt(self.sum_squares / self.samples) if self.samples else 0.0,
            peak_rms=self.peak_rms,
            threshold_rms=self.threshold,
            dtmf_received=tuple(self.dtmf),
            bad_packets=self.bad_packets,
            sent_packets=sent_packets,
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _fmt_addr(addr: Address) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _wait_any(events: Sequence[asyncio.Event], timeout_s: float | None) -> None:
    """Return when any event is set or the timeout passes."""
    if any(e.is_set() for e in events):
        return
    tasks = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# =========================================================================== the call


class SipCall:
    """One outgoing call: the SIP dialog, the RTP stream and the script around them.

    Use :func:`place_call` for a scripted call; use this class directly (as an
    async context manager, which always closes the sockets) when a test must
    react to what happens.  REFER/NOTIFY handling follows ``options`` in both.
    """

    def __init__(self, target: str, options: CallOptions | None = None) -> None:
        self.target = target
        self.options = options or CallOptions()
        self._target_uri = SipUri.parse(target)
        transport = self._target_uri.param("transport")
        if transport is not None and transport.lower() != "udp":
            raise ValueError(f"only UDP is supported, target says transport={transport}")
        self.call_id = new_call_id(self.options.local_host)
        self.local_tag = new_tag()
        self.remote_tag: str | None = None
        self._cseq = secrets.randbelow(1000) + 1
        self._invite_cseq = self._cseq
        self._remote_cseq: int | None = None
        self._session_id = secrets.randbelow(2**31)
        self._sdp_version = 1
        self._event_pt = 101

        self._sip: asyncio.DatagramTransport | None = None
        self._rtp: asyncio.DatagramTransport | None = None
        self._local_sip: Address = (self.options.local_host, 0)
        self._local_rtp: Address = (self.options.local_host, 0)
        self._target_addr: Address | None = None

        self._state = "idle"  # idle calling proceeding confirmed terminating ended
        self._txs: dict[tuple[str, str], _ClientTx] = {}
        self._invite_tx: _ClientTx | None = None
        self._invite_req: SipRequest | None = None
        self._ack: tuple[bytes, Address, SipRequest] | None = None
        self._responses: dict[tuple[str, str, int], tuple[bytes, Address, SipResponse]] = {}
        self._from_hdr = ""
        self._to_hdr = ""
        self._remote_target: str | None = None
        self._route_set: list[str] = []
        self._remote_media: SdpMedia | None = None
        self._early_media: SdpMedia | None = None
        self._remote_rtp: Address | None = None

        self._tasks: set[asyncio.Task[Any]] = set()
        self._rtp_task: asyncio.Task[None] | None = None
        self._rtp_tx: RtpTransmitter | None = None
        self._rtp_sent = 0
        self._key_waiters: list[tuple[KeyHandle, asyncio.Future[SentKey], list[float]]] = []
        self._keys_sent: list[SentKey] = []
        self._refers: list[_ReferState] = []
        self._meter = _AudioMeter(self.options.audio_threshold_rms)
        self._recorder = _WavRecorder() if self.options.record_to is not None else None
        self._recording: str | None = None
        self._errors: list[str] = []
        self._trace: list[SipTraceEntry] = []
        self._provisional: list[int] = []

        self.started_at: float | None = None
        self.ringing_at: float | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.remote_bye_at: float | None = None
        self._outcome: CallOutcome | None = None
        self._status: int | None = None
        self._reason = ""
        self._detail = ""
        self._bye_status: int | None = None
        self._cancel_outcome: CallOutcome | None = None
        self._closed = False

        self._answered = asyncio.Event()
        self._ringing = asyncio.Event()
        self._ended = asyncio.Event()
        self._first_audio = asyncio.Event()
        self._refer_event = asyncio.Event()
        self._notify_done = asyncio.Event()
        self._keys_done = asyncio.Event()

    # ------------------------------------------------------------------ context manager
    async def __aenter__(self) -> SipCall:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if not self._ended.is_set() and self._state != "idle":
            await self.hangup()
        await self.close()

    # ------------------------------------------------------------------ public API
    @property
    def state(self) -> str:
        return self._state

    @property
    def answered(self) -> bool:
        return self._answered.is_set()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def start(self) -> None:
        """Bind the sockets and send the INVITE; returns without waiting for an answer."""
        if self._state != "idle":
            raise CallError("call already started")
        loop = asyncio.get_running_loop()
        opts = self.options
        family = socket.AF_INET6 if ":" in opts.local_host else socket.AF_INET
        self._state = "calling"
        self.started_at = time.monotonic()
        try:
            infos = await loop.getaddrinfo(
                self._target_uri.bare_host,
                self._target_uri.port or 5060,
                family=family,
                type=socket.SOCK_DGRAM,
            )
            if not infos:
                raise OSError(f"cannot resolve {self._target_uri.host}")
            sockaddr = infos[0][4]
            self._target_addr = (str(sockaddr[0]), int(sockaddr[1]))
            sip_tr, _ = await loop.create_datagram_endpoint(
                lambda: _Datagram(self._on_sip, self._on_sip_error),
                local_addr=(opts.local_host, 0),
                family=family,
            )
            self._sip = sip_tr
            rtp_tr, _ = await loop.create_datagram_endpoint(
                lambda: _Datagram(self._on_rtp, self._on_rtp_error),
                local_addr=(opts.local_host, 0),
                family=family,
            )
            self._rtp = rtp_tr
        except OSError as exc:
            self._error(f"network setup failed: {exc}")
            self._finish(CallOutcome.ERROR, detail=str(exc))
            return
        self._local_sip = self._sockname(self._sip)
        self._local_rtp = self._sockname(self._rtp)

        local = NameAddr(
            uri=str(SipUri(host=self._host_for_uri(), user=opts.caller_id)),
            display=opts.display_name,
            params=(("tag", self.local_tag),),
        )
        self._from_hdr = str(local)
        self._to_hdr = str(
            NameAddr(
                uri=str(
                    SipUri(
                        host=self._target_uri.host,
                        user=self._target_uri.user,
                        port=self._target_uri.port,
                    )
                )
            )
        )
        body = build_offer(
            opts.local_host,
            self._local_rtp[1],
            session_id=self._session_id,
            version=self._sdp_version,
            event_payload_type=self._event_pt,
        )
        uri = str(dataclasses.replace(self._target_uri, headers=""))
        hb = self._base_headers("INVITE", self._invite_cseq, self._to_hdr, new_branch())
        hb.add("Contact", self._contact())
        hb.add("Allow", ALLOW)
        hb.extend(list(opts.invite_headers))
        hb.add("Content-Type", "application/sdp")
        req = SipRequest(method="INVITE", uri=uri, headers=hb.build(), body=body)
        self._invite_req = req
        assert self._target_addr is not None
        self._invite_tx = self._start_tx(req, self._target_addr)
        self._spawn(self._watch_invite(self._invite_tx))

    async def wait_answered(self, timeout_s: float | None = None) -> bool:
        """True once answered; False if the call ended first or the timeout passed."""
        await _wait_any([self._answered, self._ended], timeout_s)
        return self._answered.is_set()

    async def wait_first_audio(self, timeout_s: float | None = None) -> float | None:
        """time.monotonic() of the first non-silent packet, or None (ended / timeout)."""
        await _wait_any([self._first_audio, self._ended], timeout_s)
        return self._meter.first_audio_at

    async def wait_refer(self, timeout_s: float | None = None) -> ReferReceived | None:
        """The first REFER (already answered per options), or None."""
        await _wait_any([self._refer_event, self._ended], timeout_s)
        return self._refers[0].freeze() if self._refers else None

    async def wait_ended(self, timeout_s: float | None = None) -> bool:
        await _wait_any([self._ended], timeout_s)
        return self._ended.is_set()

    async def send_key(self, digit: str, *, duration_ms: int = 160) -> SentKey:
        """Send one RFC 4733 key press; returns once its last end packet is out."""
        if self._state != "confirmed" or self._rtp_tx is None or self._rtp_task is None:
            raise CallError(f"cannot send a key in state {self._state!r}")
        handle = self._rtp_tx.queue_key(digit, duration_ms=duration_ms)
        fut: asyncio.Future[SentKey] = asyncio.get_running_loop().create_future()
        self._key_waiters.append((handle, fut, []))
        return await fut

    async def hangup(
        self, *, outcome: CallOutcome = CallOutcome.LOCAL_BYE, detail: str = ""
    ) -> None:
        """BYE when answered, CANCEL while ringing; waits up to bye_timeout_s for the answer.

        A second call while the first is still waiting waits with it.
        """
        if self._ended.is_set() or self._state == "idle":
            return
        if self._state == "terminating":
            await _wait_any([self._ended], self.options.bye_timeout_s + 0.5)
            return
        if self._state == "confirmed":
            self._state = "terminating"
            self._stop_rtp()
            req, dest = self._in_dialog_request("BYE")
            tx = self._start_tx(req, dest)
            # a BYE from the far end crossing ours ends the wait early
            ended = asyncio.ensure_future(self._ended.wait())
            waiters: set[asyncio.Future[Any]] = {tx.final, ended}
            try:
                await asyncio.wait(
                    waiters,
                    timeout=self.options.bye_timeout_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                ended.cancel()
                await asyncio.gather(ended, return_exceptions=True)
            resp = tx.final.result() if tx.final.done() else None
            self._bye_status = resp.status if resp else None
            if resp is None and not self._ended.is_set():
                self._error("no answer to our BYE")
            self._finish(outcome, detail=detail or "we sent BYE")
            return
        # calling / proceeding: CANCEL needs a provisional first (RFC 3261 9.1)
        invite_tx = self._invite_tx
        if outcome is CallOutcome.LOCAL_BYE:
            outcome = CallOutcome.CANCELLED
        if invite_tx is None or not invite_tx.got_provisional:
            if invite_tx is not None:
                invite_tx.stop()
            if outcome is CallOutcome.TIMEOUT and not self._provisional:
                outcome = CallOutcome.NO_RESPONSE
                self._error(f"no response to the INVITE from {self.target}")
            self._finish(outcome, detail=detail or "gave up before any provisional response")
            return
        self._state = "terminating"
        self._cancel_outcome = outcome
        cancel = self._cancel_request()
        assert self._target_addr is not None
        ctx = self._start_tx(cancel, self._target_addr)
        await _wait_any([self._ended], self.options.bye_timeout_s)
        if not ctx.final.done():
            self._error("no answer to our CANCEL")
        if not self._ended.is_set():
            self._error("no final response to the INVITE after CANCEL")
            self._finish(outcome, detail=detail or "CANCEL sent, no final response")
        elif detail:
            self._detail = detail

    async def close(self) -> None:
        """Release everything; safe to call twice.  Lets in-flight NOTIFYs finish briefly."""
        if self._closed:
            return
        self._closed = True
        if not self._ended.is_set():
            self._abandon()
            self._finish(CallOutcome.ERROR, detail="closed before the call ended")
        pending = [tx.final for tx in self._txs.values() if not tx.invite and not tx.final.done()]
        if pending:
            await asyncio.wait(pending, timeout=0.5)
        self._stop_rtp()
        for tx in self._txs.values():
            tx.stop()
        for task in list(self._tasks):
            task.cancel()
        tasks = [tx.task for tx in self._txs.values() if tx.task is not None] + list(self._tasks)
        if self._rtp_task is not None:
            tasks.append(self._rtp_task)
        await asyncio.gather(*tasks, return_exceptions=True)
        for _h, fut, _t in self._key_waiters:
            if not fut.done():
                fut.set_exception(CallError("call ended before the key was sent"))
                fut.exception()  # mark retrieved: nobody may be waiting any more
        self._key_waiters.clear()
        for tr in (self._sip, self._rtp):
            if tr is not None:
                tr.close()
        if self._recorder is not None and self.options.record_to is not None:
            path = Path(self.options.record_to)
            try:
                self._recorder.write(path)
                self._recording = str(path)
            except OSError as exc:
                self._error(f"could not write {path}: {exc}")
        await asyncio.sleep(0)  # let the transports' close callbacks run

    def _abandon(self) -> None:
        """Closing mid-call (task cancelled): one BYE or CANCEL, not waited for.

        Leaves the far end no half-open call to time out, without making a
        cancelled caller wait.
        """
        if self._sip is None or self._target_addr is None:
            return
        if self._state == "confirmed":
            req, dest = self._in_dialog_request("BYE")
            self._send(req.to_bytes(), dest, req)
        elif self._state in ("calling", "proceeding") and self._invite_tx is not None:
            if self._invite_tx.got_provisional:
                cancel = self._cancel_request()
                self._send(cancel.to_bytes(), self._target_addr, cancel)

    def report(self) -> CallReport:
        """A snapshot; complete once the call has ended and been closed."""
        now = time.monotonic()
        started = self.started_at if self.started_at is not None else now
        return CallReport(
            target=self.target,
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=self.remote_tag,
            outcome=self._outcome or CallOutcome.ERROR,
            status=self._status,
            reason=self._reason,
            detail=self._detail if self._outcome else "call still in progress",
            started_at=started,
            provisional=tuple(self._provisional),
            ringing_at=self.ringing_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at if self.ended_at is not None else now,
            invite_retransmissions=self._invite_tx.retransmissions if self._invite_tx else 0,
            keys=tuple(self._keys_sent),
            audio=self._meter.freeze(self._rtp_sent),
            refers=tuple(r.freeze() for r in self._refers),
            bye_status=self._bye_status,
            remote_bye_at=self.remote_bye_at,
            errors=tuple(self._errors),
            local_sip=_fmt_addr(self._local_sip),
            local_rtp=_fmt_addr(self._local_rtp),
            remote_rtp=_fmt_addr(self._remote_rtp) if self._remote_rtp else None,
            recording=self._recording,
            trace=tuple(self._trace),
        )

    # ------------------------------------------------------------------ script
    async def run_script(self) -> CallReport:
        """Place the call and follow ``options`` to the end; always closes."""
        opts = self.options
        try:
            try:
                async with asyncio.timeout(opts.timeout_s):
                    await self.start()
                    if opts.cancel_after_ringing_s is not None:
                        self._spawn(self._cancel_while_ringing(opts.cancel_after_ringing_s))
                    if await self.wait_answered():
                        if opts.keys:
                            self._spawn(self._run_keys())
                        self._spawn(self._run_hangup_triggers())
                    await self._ended.wait()
            except TimeoutError:
                await self.hangup(
                    outcome=CallOutcome.TIMEOUT, detail=f"overall timeout of {opts.timeout_s}s"
                )
        finally:
            await self.close()
        return self.report()

    async def _run_keys(self) -> None:
        opts = self.options
        prev = self.answered_at or time.monotonic()
        for i, kp in enumerate(opts.keys):
            delay = kp.delay_before_s
            if delay is None:
                delay = opts.first_key_delay_s if i == 0 else opts.key_gap_s
            await asyncio.sleep(max(0.0, prev + delay - time.monotonic()))
            if self._state != "confirmed":
                return
            try:
                sent = await self.send_key(kp.digit, duration_ms=kp.duration_ms)
            except CallError:
                return
            prev = sent.finished_at
        self._keys_done.set()

    async def _cancel_while_ringing(self, wait: float) -> None:
        await _wait_any([self._ringing, self._answered, self._ended], None)
        if self.ringing_at is None or self._answered.is_set() or self._ended.is_set():
            return
        await asyncio.sleep(max(0.0, self.ringing_at + wait - time.monotonic()))
        if self._state == "proceeding" and not self._answered.is_set():
            await self.hangup(detail=f"cancelled {wait}s after ringing")

    async def _run_hangup_triggers(self) -> None:
        opts = self.options
        answered = self.answered_at or time.monotonic()
        triggers: list[Awaitable[str]] = []

        async def after(
            ev: asyncio.Event | None, stamp: Callable[[], float | None], wait: float, why: str
        ) -> str:
            if ev is not None:
                await ev.wait()
            t = stamp() or time.monotonic()
            await asyncio.sleep(max(0.0, t + wait - time.monotonic()))
            return why

        if opts.hangup_after_s is not None:
            triggers.append(
                after(
                    None,
                    lambda: answered,
                    opts.hangup_after_s,
                    f"{opts.hangup_after_s}s after answer",
                )
            )
        if opts.hangup_after_audio_s is not None:
            triggers.append(
                after(
                    self._first_audio,
                    lambda: self._meter.first_audio_at,
                    opts.hangup_after_audio_s,
                    f"{opts.hangup_after_audio_s}s after first audio",
                )
            )
        if opts.hangup_after_keys_s is not None and opts.keys:
            triggers.append(
                after(
                    self._keys_done,
                    lambda: self._keys_sent[-1].finished_at if self._keys_sent else None,
                    opts.hangup_after_keys_s,
                    f"{opts.hangup_after_keys_s}s after the last key",
                )
            )
        if opts.hangup_after_notify_s is not None:
            triggers.append(
                after(
                    self._notify_done,
                    lambda: None,
                    opts.hangup_after_notify_s,
                    f"{opts.hangup_after_notify_s}s after the final NOTIFY",
                )
            )
        if not triggers:
            return
        tasks = [asyncio.ensure_future(t) for t in triggers]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        why = next(iter(done)).result()
        await self.hangup(detail=f"hung up {why}")

    # ------------------------------------------------------------------ helpers
    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("caller task failed: %r", exc, exc_info=exc)
            self._error(f"internal error: {exc!r}")

    def _error(self, text: str) -> None:
        log.warning("%s: %s", self.call_id, text)
        self._errors.append(text)

    @staticmethod
    def _sockname(tr: asyncio.DatagramTransport) -> Address:
        name = tr.get_extra_info("sockname")
        return (str(name[0]), int(name[1]))

    def _host_for_uri(self) -> str:
        host = self.options.local_host
        return f"[{host}]" if ":" in host else host

    def _contact(self) -> str:
        uri = SipUri(
            host=self._host_for_uri(), user=self.options.caller_id, port=self._local_sip[1]
        )
        return f"<{uri}>"

    def _base_headers(self, method: str, cseq: int, to: str, branch: str) -> HeaderBuilder:
        hb = HeaderBuilder()
        hb.add(
            "Via",
            Via(
                host=self._host_for_uri(),
                port=self._local_sip[1],
                params=(("branch", branch), ("rport", None)),
            ),
        )
        hb.add("Max-Forwards", 70)
        hb.add("From", self._from_hdr)
        hb.add("To", to)
        hb.add("Call-ID", self.call_id)
        hb.add("CSeq", f"{cseq} {method}")
        hb.add("User-Agent", USER_AGENT)
        return hb

    def _send(
        self,
        data: bytes,
        dest: Address,
        msg: SipRequest | SipResponse,
        *,
        retransmission: bool = False,
    ) -> None:
        if self._sip is None or self._sip.is_closing():
            return
        self._sip.sendto(data, dest)
        cseq = msg.header("CSeq") or "?"
        line = f"{msg.start_line} [{cseq}]" + (" (retransmission)" if retransmission else "")
        self._trace.append(SipTraceEntry(time.monotonic(), ">", _fmt_addr(dest), line))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("> %s\n%s", _fmt_addr(dest), data.decode("utf-8", "replace"))

    def _start_tx(self, req: SipRequest, dest: Address) -> _ClientTx:
        tx = _ClientTx(self, req, dest)
        self._txs[(tx.branch, tx.method)] = tx
        tx.start()
        return tx

    @staticmethod
    async def _await_tx(tx: _ClientTx, timeout_s: float) -> SipResponse | None:
        await asyncio.wait({tx.final}, timeout=timeout_s)
        return tx.final.result() if tx.final.done() else None

    def _next_cseq(self) -> int:
        self._cseq += 1
        return self._cseq

    def _dest_for(self, uri_text: str) -> Address:
        """Where a request to this URI goes: its maddr/host and port, if an IP literal.

        A hostname falls back to the INVITE's destination (every peer here is one
        box); real DNS (RFC 3263) is out of scope for a test phone.
        """
        assert self._target_addr is not None
        try:
            uri = SipUri.parse(uri_text)
        except SipParseError:
            self._error(f"cannot route to {uri_text!r}; using the INVITE's destination")
            return self._target_addr
        host = uri.param("maddr") or uri.bare_host
        if not _is_ip(host):
            return self._target_addr
        return (host, uri.port or 5060)

    def _in_dialog_request(
        self,
        method: str,
        *,
        extra: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> tuple[SipRequest, Address]:
        """Build a request inside the dialog (RFC 3261 12.2.1.1), with the route set."""
        target = self._remote_target or str(self._target_uri)
        routes = list(self._route_set)
        if routes:
            first = NameAddr.parse(routes[0]).uri
            if SipUri.parse(first).param("lr") is not None:
                ruri, dest = target, self._dest_for(first)
            else:  # strict router
                ruri, dest = first, self._dest_for(first)
                routes = [*routes[1:], f"<{target}>"]
        else:
            ruri, dest = target, self._dest_for(target)
        hb = self._base_headers(method, self._next_cseq(), self._to_hdr, new_branch())
        for r in routes:
            hb.add("Route", r)
        if method in ("NOTIFY", "INVITE", "UPDATE", "REFER", "SUBSCRIBE"):
            hb.add("Contact", self._contact())
        hb.extend(list(extra))
        if body and content_type:
            hb.add("Content-Type", content_type)
        return SipRequest(method=method, uri=ruri, headers=hb.build(), body=body), dest

    def _cancel_request(self) -> SipRequest:
        invite = self._invite_req
        assert invite is not None
        hb = HeaderBuilder()
        hb.add("Via", invite.header_values("Via")[0])
        hb.add("Max-Forwards", 70)
        hb.add("From", invite.require("From"))
        hb.add("To", invite.require("To"))
        hb.add("Call-ID", self.call_id)
        hb.add("CSeq", f"{self._invite_cseq} CANCEL")
        for r in invite.header_values("Route"):
            hb.add("Route", r)
        hb.add("User-Agent", USER_AGENT)
        return SipRequest(method="CANCEL", uri=invite.uri, headers=hb.build())

    def _finish(self, outcome: CallOutcome, *, detail: str = "") -> None:
        if self._ended.is_set():
            return
        self._outcome = outcome
        self._detail = detail
        self._state = "ended"
        self.ended_at = time.monotonic()
        self._stop_rtp()
        if self._invite_tx is not None and not self._invite_tx.final.done():
            self._invite_tx.stop()
        for _h, fut, _t in self._key_waiters:
            if not fut.done():
                fut.set_exception(CallError("call ended before the key was sent"))
                fut.exception()  # retrieved: the waiter, if any, still gets it
        self._ended.set()

    # ------------------------------------------------------------------ SIP input
    def _on_sip_error(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            msg = "ICMP port unreachable: nothing listens at the SIP target"
        else:
            msg = f"SIP socket error: {exc!r}"
        if not self._errors or self._errors[-1] != msg:
            self._error(msg)

    def _on_sip(self, data: bytes, addr: Address) -> None:
        if not data.strip():
            return  # CRLF keep-alive
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self._error(f"unparsable SIP from {_fmt_addr(addr)}: {exc}")
            return
        cseq = msg.header("CSeq") or "?"
        self._trace.append(
            SipTraceEntry(time.monotonic(), "<", _fmt_addr(addr), f"{msg.start_line} [{cseq}]")
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug("< %s\n%s", _fmt_addr(addr), data.decode("utf-8", "replace"))
        try:
            if isinstance(msg, SipResponse):
                self._on_response(msg)
            else:
                self._on_request(msg, addr)
        except SipParseError as exc:
            self._error(f"malformed {msg.start_line!r}: {exc}")

    def _on_response(self, resp: SipResponse) -> None:
        via = resp.top_via
        cseq = resp.cseq
        tx = self._txs.get((via.branch or "", cseq.method))
        if tx is None or resp.call_id != self.call_id:
            self._error(f"response matches no transaction: {resp.start_line} [{cseq}]")
            return
        if resp.status < 200:
            tx.got_provisional = True
            if tx.invite and not tx.final.done():
                self._on_invite_provisional(resp)
            return
        first = not tx.final.done()
        if first:
            tx.final.set_result(resp)
        if tx.invite:
            self._on_invite_final(resp, first=first)

    def _on_invite_provisional(self, resp: SipResponse) -> None:
        self._provisional.append(resp.status)
        if self._state == "calling":
            self._state = "proceeding"
        if resp.status in (180, 183) and self.ringing_at is None:
            self.ringing_at = time.monotonic()
            self._ringing.set()
        if resp.body and resp.content_type == "application/sdp":
            try:
                self._early_media = parse_sdp(resp.body)
            except SdpError as exc:
                self._error(f"bad SDP in {resp.status}: {exc}")

    def _on_invite_final(self, resp: SipResponse, *, first: bool) -> None:
        invite = self._invite_req
        assert invite is not None and self._target_addr is not None
        if resp.status >= 300:
            # RFC 3261 17.1.1.3: ACK in the same transaction, for every retransmission too
            hb = HeaderBuilder()
            hb.add("Via", invite.header_values("Via")[0])
            hb.add("Max-Forwards", 70)
            hb.add("From", invite.require("From"))
            hb.add("To", resp.require("To"))
            hb.add("Call-ID", self.call_id)
            hb.add("CSeq", f"{self._invite_cseq} ACK")
            for r in invite.header_values("Route"):
                hb.add("Route", r)
            ack = SipRequest(method="ACK", uri=invite.uri, headers=hb.build())
            self._send(ack.to_bytes(), self._target_addr, ack, retransmission=not first)
            if first:
                self._status, self._reason = resp.status, resp.reason
                outcome = self._cancel_outcome or CallOutcome.REJECTED
                if self._cancel_outcome is not None and resp.status != 487:
                    self._error(f"CANCEL answered by {resp.status}, expected 487")
                self._finish(outcome, detail=f"INVITE answered {resp.status} {resp.reason}")
            return
        # 2xx: the dialog (RFC 3261 13.2.2.4); ACK each retransmission (13.2.2.4 too)
        to_tag = resp.to.tag
        if not first or (self.remote_tag is not None and to_tag != self.remote_tag):
            if self.remote_tag is not None and to_tag != self.remote_tag:
                self._error(f"2xx from a second fork (To tag {to_tag}) ignored")
            elif self._ack is not None:
                data, dest, ack = self._ack
                self._send(data, dest, ack, retransmission=True)
            return
        self._status, self._reason = resp.status, resp.reason
        self.remote_tag = to_tag
        if to_tag is None:
            self._error("2xx without a To tag")
        self._to_hdr = resp.require("To")
        contact = resp.contact
        if contact is None:
            self._error("2xx without Contact; sending in-dialog requests to the target")
            self._remote_target = str(self._target_uri)
        else:
            self._remote_target = contact.uri
        self._route_set = list(reversed(resp.header_values("Record-Route")))
        # ACK for 2xx is its own transaction, new branch, same CSeq number
        target = self._remote_target
        routes = list(self._route_set)
        if routes:
            first_route = NameAddr.parse(routes[0]).uri
            if SipUri.parse(first_route).param("lr") is not None:
                ruri = target
            else:
                ruri, routes = first_route, [*routes[1:], f"<{target}>"]
            dest = self._dest_for(first_route)
        else:
            ruri, dest = target, self._dest_for(target)
        hb = self._base_headers("ACK", self._invite_cseq, self._to_hdr, new_branch())
        for r in routes:
            hb.add("Route", r)
        ack = SipRequest(method="ACK", uri=ruri, headers=hb.build())
        data = ack.to_bytes()
        self._ack = (data, dest, ack)
        self._send(data, dest, ack)

        if self._state == "terminating" or self._ended.is_set():
            # 200 raced our CANCEL (or we already gave up): the call exists, end it
            self._state = "confirmed"
            self._spawn(self.hangup(outcome=self._cancel_outcome or CallOutcome.CANCELLED))
            return
        self._state = "confirmed"
        self.answered_at = time.monotonic()
        media: SdpMedia | None = None
        if resp.body:
            try:
                media = parse_sdp(resp.body)
            except SdpError as exc:
                self._error(f"bad SDP answer: {exc}")
        elif self._early_media is not None:
            media = self._early_media
        else:
            self._error("2xx without SDP answer")
        self._apply_remote_media(media)
        self._answered.set()

    def _apply_remote_media(self, media: SdpMedia | None) -> None:
        self._remote_media = media
        if media is None:
            return
        if media.port == 0:
            self._error("audio stream rejected (port 0) in the answer")
            return
        if media.payload_type_for("PCMU") is None:
            self._error(f"answer does not accept PCMU: payload types {media.payload_types}")
        ev = media.payload_type_for("telephone-event")
        if ev is None:
            self._error("answer has no telephone-event: RFC 4733 keys may be ignored")
        else:
            self._event_pt = ev
        self._remote_rtp = (media.address, media.port)
        if self._rtp_tx is None:
            self._rtp_tx = RtpTransmitter(
                ssrc=secrets.randbits(32),
                sequence=secrets.randbelow(0x8000),
                timestamp=secrets.randbits(31),
                event_payload_type=self._event_pt,
            )
            self._rtp_task = asyncio.get_running_loop().create_task(self._rtp_sender())
        else:
            self._rtp_tx.event_payload_type = self._event_pt

    def _on_request(self, req: SipRequest, addr: Address) -> None:
        if req.method == "ACK":
            return  # the ACK for a 2xx we sent to a re-INVITE; UDP retransmission not modelled
        via = req.top_via
        cseq = req.cseq
        key = (via.branch or "", req.method, cseq.number)
        cached = self._responses.get(key)
        if cached is not None:
            data, dest, resp = cached
            self._send(data, dest, resp, retransmission=True)
            return
        if req.call_id != self.call_id:
            self._error(f"{req.method} for an unknown Call-ID {req.call_id}")
            self._respond(req, addr, 481)
            return
        to_tag = req.to.tag
        from_tag = req.from_.tag
        if to_tag != self.local_tag or (
            self.remote_tag is not None and from_tag != self.remote_tag
        ):
            self._error(
                f"{req.method} with tags that match no dialog (To {to_tag}, From {from_tag})"
            )
            self._respond(req, addr, 481)
            return
        if req.method == "CANCEL":
            self._respond(req, addr, 481)  # nothing of ours is pending for it
            return
        if self._remote_cseq is not None and cseq.number <= self._remote_cseq:
            self._error(f"{req.method} CSeq {cseq.number} not above the last ({self._remote_cseq})")
            self._respond(req, addr, 500)
            return
        self._remote_cseq = cseq.number
        if req.method == "BYE":
            self.remote_bye_at = time.monotonic()
            self._respond(req, addr, 200)
            if self._state in ("calling", "proceeding") and self._invite_tx is not None:
                self._invite_tx.stop()
            self._finish(CallOutcome.REMOTE_BYE, detail="the far end sent BYE")
            return
        if req.method == "REFER":
            self._on_refer(req, addr)
            return
        if req.method == "INVITE":
            self._on_reinvite(req, addr)
            return
        if req.method in ("OPTIONS", "INFO", "NOTIFY", "UPDATE", "MESSAGE"):
            extra = (
                [("Allow", ALLOW), ("Accept", "application/sdp")] if req.method == "OPTIONS" else []
            )
            self._respond(req, addr, 200, extra=extra)
            return
        self._error(f"unexpected {req.method} answered 501")
        self._respond(req, addr, 501, extra=[("Allow", ALLOW)])

    def _respond(
        self,
        req: SipRequest,
        addr: Address,
        status: int,
        *,
        extra: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> None:
        headers = [("Server", USER_AGENT), *extra]
        if 200 <= status < 300 and self._sip is not None:
            headers.append(("Contact", self._contact()))
        resp = build_response(
            req,
            status,
            to_tag=self.local_tag,
            extra=headers,
            body=body,
            content_type=content_type,
        )
        data = resp.to_bytes()
        # responses go back where the request came from (RFC 3581 symmetric response)
        self._responses[(req.top_via.branch or "", req.method, req.cseq.number)] = (
            data,
            addr,
            resp,
        )
        self._send(data, addr, resp)

    def _on_reinvite(self, req: SipRequest, addr: Address) -> None:
        if req.body:
            try:
                media = parse_sdp(req.body)
            except SdpError as exc:
                self._error(f"bad SDP in re-INVITE: {exc}")
                self._respond(req, addr, 488)
                return
            self._apply_remote_media(media)
        contact = req.contact
        if contact is not None:
            self._remote_target = contact.uri
        self._sdp_version += 1
        body = build_offer(
            self.options.local_host,
            self._local_rtp[1],
            session_id=self._session_id,
            version=self._sdp_version,
            event_payload_type=self._event_pt,
        )
        self._respond(req, addr, 200, body=body, content_type="application/sdp")

    def _on_refer(self, req: SipRequest, addr: Address) -> None:
        opts = self.options
        refer_to = req.header("Refer-To")
        if refer_to is None:
            self._error("REFER without Refer-To answered 400")
            self._respond(req, addr, 400)
            return
        state = _ReferState(
            received_at=time.monotonic(),
            refer_to=refer_to,
            referred_by=req.header("Referred-By"),
            x_headers=req.headers_matching("X-"),
            headers=req.headers,
            cseq=req.cseq.number,
            response_status=opts.refer_status,
        )
        self._refers.append(state)
        contact = req.contact
        if contact is not None:
            self._remote_target = contact.uri  # REFER is a target refresh request
        self._respond(req, addr, opts.refer_status)
        self._refer_event.set()
        if 200 <= opts.refer_status < 300:
            self._spawn(self._notify_sequence(state))
        else:
            self._notify_done.set()

    async def _notify_sequence(self, refer: _ReferState) -> None:
        opts = self.options
        t0 = time.monotonic()
        if opts.notify_trying:
            tx = self._send_notify(refer, 100, "active;expires=60")
            await asyncio.wait({tx.final}, timeout=max(opts.notify_delay_s, 0.01))
            self._record_notify_answer(refer, tx)
        if opts.notify_status is not None:
            await asyncio.sleep(max(0.0, t0 + opts.notify_delay_s - time.monotonic()))
            if self._state != "confirmed":
                return
            tx = self._send_notify(refer, opts.notify_status, "terminated;reason=noresource")
            await self._await_tx(tx, TX_TIMEOUT)
            self._record_notify_answer(refer, tx)
        self._notify_done.set()

    def _send_notify(self, refer: _ReferState, status: int, sub_state: str) -> _ClientTx:
        frag = f"SIP/2.0 {status} {reason_phrase(status)}"
        req, dest = self._in_dialog_request(
            "NOTIFY",
            extra=[
                ("Event", f"refer;id={refer.cseq}"),
                ("Subscription-State", sub_state),
            ],
            body=(frag + "\r\n").encode("ascii"),
            content_type="message/sipfrag;version=2.0",
        )
        tx = self._start_tx(req, dest)
        refer.notifies.append(NotifySent(frag, status, sub_state, time.monotonic(), None))
        index = len(refer.notifies) - 1

        def record(fut: asyncio.Future[SipResponse | None]) -> None:
            resp = fut.result() if not fut.cancelled() else None
            if resp is not None:
                refer.notifies[index] = dataclasses.replace(
                    refer.notifies[index], response_status=resp.status
                )

        tx.final.add_done_callback(record)
        return tx

    def _record_notify_answer(self, refer: _ReferState, tx: _ClientTx) -> None:
        """Flag a NOTIFY the far end refused or never answered (the callback fills status)."""
        if tx.final.done():
            resp = tx.final.result()
            if resp is None:
                self._error(f"no answer to NOTIFY {tx.request.body.decode().strip()!r}")
            elif resp.status >= 300:
                self._error(f"NOTIFY answered {resp.status} {resp.reason}")

    async def _watch_invite(self, tx: _ClientTx) -> None:
        """Timer B: the INVITE got no response at all within 32 s."""
        resp = await asyncio.shield(tx.final)
        if resp is None and not self._ended.is_set() and not tx.got_provisional:
            self._error(f"no response to the INVITE from {self.target} (timer B)")
            self._finish(CallOutcome.NO_RESPONSE, detail="no response to INVITE (timer B)")

    # ------------------------------------------------------------------ RTP
    def _on_rtp_error(self, exc: Exception) -> None:
        if isinstance(exc, ConnectionRefusedError):
            return  # the far end closed its RTP port; normal at hangup
        self._error(f"RTP socket error: {exc!r}")

    def _on_rtp(self, data: bytes, addr: Address) -> None:
        now = time.monotonic()
        m = self._meter
        try:
            pkt = RtpPacket.decode(data)
        except RtpError:
            m.bad_packets += 1
            return
        m.packets += 1
        if m.first_packet_at is None:
            m.first_packet_at = now
        media = self._remote_media or self._early_media
        pcmu = media.payload_type_for("PCMU") if media else PCMU_PAYLOAD_TYPE
        if pkt.payload_type == (pcmu if pcmu is not None else PCMU_PAYLOAD_TYPE):
            if self._recorder is None and not pkt.payload.strip(b"\xff\x7f"):
                m.silence(len(pkt.payload))  # digital silence: skip the per-sample work
                return
            samples = ulaw_decode(pkt.payload)
            had_audio = m.first_audio_at is not None
            m.audio(samples, now)
            if not had_audio and m.first_audio_at is not None:
                self._first_audio.set()
            if self._recorder is not None:
                self._recorder.add(pkt.ssrc, pkt.timestamp, samples)
        elif pkt.payload_type == self._event_pt:
            m.event(pkt)

    def _stop_rtp(self) -> None:
        if self._rtp_task is not None and not self._rtp_task.done():
            self._rtp_task.cancel()

    async def _rtp_sender(self) -> None:
        """A 20 ms clock: silence or the next key packet, like a phone's DSP."""
        loop = asyncio.get_running_loop()
        tx = self._rtp_tx
        assert tx is not None
        next_t = loop.time()
        while True:
            dest = self._remote_rtp
            media = self._remote_media
            sending = (
                dest is not None
                and media is not None
                and not media.on_hold
                and media.direction != "recvonly"
            )
            if tx.busy or self.options.send_audio:
                pkt = tx.tick()
                if sending and dest is not None and self._rtp is not None:
                    if not self._rtp.is_closing():
                        self._rtp.sendto(pkt.encode(), dest)
                        self._rtp_sent += 1
            else:
                tx.skip()  # the sampling clock runs on while we stay quiet
            self._settle_keys()
            next_t += 0.020
            delay = next_t - loop.time()
            if delay < -0.2:  # the loop stalled: resync rather than burst
                next_t = loop.time()
                delay = 0.0
            await asyncio.sleep(max(0.0, delay))

    def _settle_keys(self) -> None:
        now = time.monotonic()
        still: list[tuple[KeyHandle, asyncio.Future[SentKey], list[float]]] = []
        for handle, fut, times in self._key_waiters:
            if handle.started and not times:
                times.append(now)
            if handle.finished:
                sent = SentKey(
                    digit=handle.digit,
                    event=handle.event,
                    sent_at=times[0] if times else now,
                    finished_at=now,
                    rtp_timestamp=handle.rtp_timestamp or 0,
                    first_sequence=handle.first_sequence or 0,
                    packets=handle.packets_sent,
                )
                self._keys_sent.append(sent)
                if not fut.done():
                    fut.set_result(sent)
            else:
                still.append((handle, fut, times))
        self._key_waiters = still


# =========================================================================== entry points


async def place_call(
    target: str,
    *,
    keys: Sequence[KeyPress] | str = (),
    first_key_delay_s: float = 2.5,
    key_gap_s: float = 0.5,
    key_duration_ms: int = 160,
    refer_status: int = 202,
    notify_trying: bool = True,
    notify_status: int | None = 200,
    notify_delay_s: float = 0.5,
    hangup_after_s: float | None = None,
    cancel_after_ringing_s: float | None = None,
    hangup_after_audio_s: float | None = None,
    hangup_after_keys_s: float | None = None,
    hangup_after_notify_s: float | None = None,
    timeout_s: float = 60.0,
    bye_timeout_s: float = 4.0,
    record_to: str | Path | None = None,
    caller_id: str = "+15105550100",
    display_name: str | None = None,
    local_host: str = "127.0.0.1",
    invite_headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    audio_threshold_rms: float = 200.0,
    send_audio: bool = True,
) -> CallReport:
    """Dial ``target`` (``sip:+15105550000@127.0.0.1:5060``), follow the script, report.

    ``keys`` is a string for :func:`parse_keys` (``"1"``, ``"1,2"``, ``"4s 1"``)
    or a sequence of :class:`KeyPress`.  The call ends on a remote BYE, a
    hangup trigger, a rejection or ``timeout_s``; it never raises for what the
    far end does (that goes in the report), only for bad arguments.
    """
    presses = (
        parse_keys(keys, duration_ms=key_duration_ms) if isinstance(keys, str) else tuple(keys)
    )
    headers = (
        tuple(invite_headers.items())
        if isinstance(invite_headers, Mapping)
        else tuple(invite_headers)
    )
    options = CallOptions(
        keys=presses,
        first_key_delay_s=first_key_delay_s,
        key_gap_s=key_gap_s,
        refer_status=refer_status,
        notify_trying=notify_trying,
        notify_status=notify_status,
        notify_delay_s=notify_delay_s,
        hangup_after_s=hangup_after_s,
        cancel_after_ringing_s=cancel_after_ringing_s,
        hangup_after_audio_s=hangup_after_audio_s,
        hangup_after_keys_s=hangup_after_keys_s,
        hangup_after_notify_s=hangup_after_notify_s,
        timeout_s=timeout_s,
        bye_timeout_s=bye_timeout_s,
        record_to=record_to,
        caller_id=caller_id,
        display_name=display_name,
        local_host=local_host,
        invite_headers=headers,
        audio_threshold_rms=audio_threshold_rms,
        send_audio=send_audio,
    )
    return await SipCall(target, options).run_script()


def _status_arg(text: str) -> int | None:
    if text.lower() in ("none", "no", "-"):
        return None
    value = int(text)
    if not 100 <= value <= 699:
        raise argparse.ArgumentTypeError(f"not a SIP status: {text}")
    return value


def _header_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m router.stack.caller",
        description="Place one scripted SIP call (UDP, PCMU, RFC 4733 keys, REFER/NOTIFY) "
        "and print what happened.",
    )
    p.add_argument("target", help="SIP URI to call, e.g. sip:+15105550000@127.0.0.1:5060")
    p.add_argument("--keys", default="", help='keys to press: "1", "1,2", "4s 1 3s 2" (Ns = pause)')
    p.add_argument(
        "--first-key-delay",
        type=float,
        default=2.5,
        metavar="S",
        help="pause from the answer to the first key (default 2.5)",
    )
    p.add_argument(
        "--key-gap",
        type=float,
        default=0.5,
        metavar="S",
        help="pause between keys when --keys gives none (default 0.5)",
    )
    p.add_argument(
        "--key-duration",
        type=int,
        default=160,
        metavar="MS",
        help="length of each key press (default 160)",
    )
    p.add_argument(
        "--refer-status",
        type=int,
        default=202,
        metavar="CODE",
        help="answer to a REFER (default 202; e.g. 403 to refuse)",
    )
    p.add_argument(
        "--notify",
        type=_status_arg,
        default=200,
        metavar="CODE",
        help="final NOTIFY sipfrag status (default 200; 'none' to send none)",
    )
    p.add_argument(
        "--notify-delay",
        type=float,
        default=0.5,
        metavar="S",
        help="pause from the REFER to the final NOTIFY (default 0.5)",
    )
    p.add_argument("--no-trying", action="store_true", help="skip the 100 Trying NOTIFY")
    p.add_argument("--hangup-after", type=float, metavar="S", help="hang up S after the answer")
    p.add_argument(
        "--cancel-after-ringing",
        type=float,
        metavar="S",
        help="CANCEL S after the first 180 Ringing, if not answered by then",
    )
    p.add_argument(
        "--hangup-after-audio",
        type=float,
        metavar="S",
        help="hang up S after the first non-silent audio",
    )
    p.add_argument(
        "--hangup-after-keys", type=float, metavar="S", help="hang up S after the last key"
    )
    p.add_argument(
        "--hangup-after-notify", type=float, metavar="S", help="hang up S after the final NOTIFY"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="overall limit, then BYE or CANCEL (default 60)",
    )
    p.add_argument("--record", metavar="WAV", help="save received audio as a WAV file")
    p.add_argument(
        "--from",
        dest="caller_id",
        default="+15105550100",
        metavar="NUMBER",
        help="caller number, the user part of From (default +15105550100)",
    )
    p.add_argument(
        "--local-host",
        default="127.0.0.1",
        help="address to bind and advertise (default 127.0.0.1)",
    )
    p.add_argument(
        "--header",
        type=_header_arg,
        action="append",
        default=[],
        metavar="'X-Name: value'",
        help="extra INVITE header (repeatable)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=200.0,
        metavar="RMS",
        help="per-packet RMS that counts as audio (default 200)",
    )
    p.add_argument(
        "--no-audio",
        action="store_true",
        help="send no RTP audio (with no --keys, no RTP at all: media that never arrives)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="log every SIP message to stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI; exit status 0 when the call was answered, 1 otherwise, 2 for bad usage."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.ERROR,
        format="%(asctime)s %(message)s",
        stream=sys.stderr,
    )
    try:
        SipCall(args.target)  # validates the URI before any socket exists
        keys = parse_keys(args.keys, duration_ms=args.key_duration)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        report = asyncio.run(
            place_call(
                args.target,
                keys=keys,
                first_key_delay_s=args.first_key_delay,
                key_gap_s=args.key_gap,
                key_duration_ms=args.key_duration,
                refer_status=args.refer_status,
                notify_trying=not args.no_trying,
                notify_status=args.notify,
                notify_delay_s=args.notify_delay,
                hangup_after_s=args.hangup_after,
                cancel_after_ringing_s=args.cancel_after_ringing,
                hangup_after_audio_s=args.hangup_after_audio,
                hangup_after_keys_s=args.hangup_after_keys,
                hangup_after_notify_s=args.hangup_after_notify,
                timeout_s=args.timeout,
                record_to=args.record,
                caller_id=args.caller_id,
                local_host=args.local_host,
                invite_headers=args.header,
                audio_threshold_rms=args.threshold,
                send_audio=not args.no_audio,
            )
        )
        if args.json:
            print(json.dumps(report.to_dict(), indent=2))
        else:
            print(report.summary())
        return 0 if report.answered else 1
    return 130


if __name__ == "__main__":
    sys.exit(main())
