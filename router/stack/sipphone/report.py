"""What the phone tells a test about one call: the outcome and the report.

Plain frozen dataclasses, built by the dialog (SIP) and the media (RTP) halves of
:class:`~router.stack.sipphone.phone.SipCall`; times are ``time.monotonic()``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from router.stack.sipphone.message import NameAddr, SipParseError

__all__ = [
    "Address",
    "AudioStats",
    "CallOutcome",
    "CallReport",
    "NotifySent",
    "ReferReceived",
    "SentKey",
    "SipTraceEntry",
    "format_address",
]

Address = tuple[str, int]
"""A UDP address: host (an IP literal) and port."""


def format_address(addr: Address) -> str:
    """``host:port``, with brackets around an IPv6 host."""
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class CallOutcome(enum.StrEnum):
    """How the call ended."""

    REMOTE_BYE = "remote_bye"
    """The far end hung up (LiveKit does this after a successful transfer)."""
    LOCAL_BYE = "local_bye"
    """We hung up on a script trigger or ``SipCall.hangup``."""
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
