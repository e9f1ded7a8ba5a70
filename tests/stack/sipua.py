"""A SIP caller over UDP that the stand-in's tests drive step by step (asyncio).

Just enough of RFC 3261 / 3515 / 4733 for one call against the SIP stand-in:
INVITE with a PCMU + telephone-event offer, ACK, RTP (telephone-event and PCMU),
answering REFER and BYE, sending NOTIFY with a sipfrag.

Why it is not the phone (router.stack.sipphone): the stand-in's tests need a caller
that misbehaves on purpose and is driven step by step, which the phone by design is
not. They resend a key press with the same RTP timestamp (the stand-in must drop
repeats and late retransmissions; the phone gives every press a fresh timestamp), send
a tone (the phone sends silence), answer a REFER and each NOTIFY by hand with API
checks in between (the phone answers per its script), and read the RTP packets
received one by one.

What it takes from the phone: every datagram is parsed by its parser
(``sipphone.message.parse_message``, the header values of ``sipphone.headers``); its
INVITE, ACK, BYE and NOTIFY come from the phone's ``RequestBuilder``
(``sipphone.requests``), its responses from ``build_response``; the SDP offer and the
answer are ``sipphone.sdp``'s; RTP packets, RFC 4733 payloads and G.711 u-law are
``sipphone.rtp``'s.

What it still does itself, and why: the send side the phone will not misbehave on. It
stamps each key press with the RTP timestamp the test picks (so a test can repeat one),
sends a sine tone in real time, sends a request or a response only when the test says
(no transactions, no retransmission timers: on loopback a lost datagram is a failure,
and the test's timeout reports it with the SIP log), and keeps what arrived in an inbox
the test reads.
"""

from __future__ import annotations

import asyncio
import math
import random
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from router.stack.sipphone.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    build_response,
    new_call_id,
    new_tag,
    parse_message,
)
from router.stack.sipphone.report import Address
from router.stack.sipphone.requests import RequestBuilder
from router.stack.sipphone.rtp import (
    PCMU_PAYLOAD_TYPE,
    SAMPLE_RATE_HZ,
    SAMPLES_PER_PACKET,
    RtpError,
    RtpPacket,
    event_for_digit,
    pcm_rms,
    telephone_event_sequence,
    ulaw_decode,
    ulaw_encode,
)
from router.stack.sipphone.sdp import SdpMedia, build_offer, parse_sdp

SipMessage = SipRequest | SipResponse

LOCAL_HOST = "127.0.0.1"
EVENT_PAYLOAD_TYPE = 101
"""The telephone-event payload type of our offer (``sdp.build_offer``'s default)."""
ALLOW = "INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS"
"""The methods this caller answers (BYE and OPTIONS at once, REFER when the test says)."""
PACKET_S = SAMPLES_PER_PACKET / SAMPLE_RATE_HZ
"""20 ms: one RTP packet's worth of time."""


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, on_data: Callable[[bytes, Address], None]) -> None:
        self.on_data = on_data

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.on_data(data, addr)


def is_response_to(method: str, *, cseq: int | None = None) -> Callable[[SipMessage], bool]:
    """A `wait_for` predicate: a final (>= 200) response to our `method` request (of
    CSeq number `cseq`, when given)."""

    def match(m: SipMessage) -> bool:
        return (
            isinstance(m, SipResponse)
            and m.status >= 200
            and m.cseq.method == method
            and (cseq is None or m.cseq.number == cseq)
        )

    return match


@dataclass
class Caller:
    """One call from `from_number` to `to_number` at host:port.

    ``inbox`` holds every SIP message received, in order; ``rtp_in`` every RTP packet.
    """

    host: str
    port: int
    from_number: str
    to_number: str
    call_id: str = field(default_factory=lambda: new_call_id(LOCAL_HOST))
    tag: str = field(default_factory=new_tag)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.inbox: list[SipMessage] = []
        self.rtp_in: list[RtpPacket] = []
        self.answer: SdpMedia | None = None
        """The SDP of the INVITE's 200 (where our RTP goes)."""
        self._consumed: set[int] = set()
        """Indexes in `inbox` that a `wait_for` has returned."""
        self._changed = asyncio.Event()
        self._sip: asyncio.DatagramTransport | None = None
        self._rtp: asyncio.DatagramTransport | None = None
        self._ack: tuple[SipRequest, Address] | None = None
        self._build = RequestBuilder(
            SipUri(host=self.host, user=self.to_number, port=self.port),
            call_id=self.call_id,
            caller_id=self.from_number,
            local_host=LOCAL_HOST,
            note=lambda text: self.log.append("! " + text),
        )
        self._rtp_seq = random.getrandbits(16)
        self._rtp_ssrc = random.getrandbits(32)

    # ---- transport ----

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._sip, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_sip), local_addr=(LOCAL_HOST, 0)
        )
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_rtp), local_addr=(LOCAL_HOST, 0)
        )
        self._build.local_sip = self._sip.get_extra_info("sockname")[:2]
        self._build.target_addr = (self.host, self.port)

    def close(self) -> None:
        for t in (self._sip, self._rtp):
            if t is not None:
                t.close()
        self._sip = self._rtp = None

    async def __aenter__(self) -> Caller:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def _send(self, msg: SipMessage, addr: Address) -> None:
        assert self._sip is not None
        self.log.append("> " + msg.start_line)
        self._sip.sendto(msg.to_bytes(), addr)

    def _on_sip(self, data: bytes, addr: Address) -> None:
        if not data.strip():
            return
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self.log.append(f"< unparsable datagram from {addr}: {exc}")
            return
        self.log.append("< " + msg.start_line)
        if isinstance(msg, SipRequest):
            if msg.method in ("BYE", "OPTIONS"):
                self.respond(msg, 200)
        elif msg.status == 200 and msg.cseq.method == "INVITE" and self._ack is not None:
            self._send(*self._ack)  # a retransmitted 200: the same ACK again
        self.inbox.append(msg)
        self._changed.set()

    def _on_rtp(self, data: bytes, addr: Address) -> None:
        try:
            self.rtp_in.append(RtpPacket.decode(data))
        except RtpError as exc:
            self.log.append(f"< not RTP from {addr}: {exc}")

    async def wait_for(
        self, pred: Callable[[SipMessage], bool], within: float, what: str
    ) -> SipMessage:
        """The first message not yet returned that `pred` accepts; raises AssertionError
        (with the SIP log) when none arrives within `within` seconds."""

        async def scan() -> SipMessage:
            while True:
                for i, m in enumerate(self.inbox):
                    if i not in self._consumed and pred(m):
                        self._consumed.add(i)
                        return m
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), within)
        except TimeoutError:
            raise AssertionError(f"no {what} within {within} s; SIP log: {self.log}") from None

    async def wait_request(self, method: str, within: float = 10) -> SipRequest:
        msg = await self.wait_for(
            lambda m: isinstance(m, SipRequest) and m.method == method, within, method
        )
        assert isinstance(msg, SipRequest)
        return msg

    async def wait_response(
        self, method: str, within: float, *, cseq: int | None = None
    ) -> SipResponse:
        """The final response to our `method` request (of CSeq number `cseq`, if given)."""
        msg = await self.wait_for(
            is_response_to(method, cseq=cseq), within, f"final response to {method}"
        )
        assert isinstance(msg, SipResponse)
        return msg

    def pending(self, method: str) -> list[SipRequest]:
        """Requests of `method` received that no `wait_for` has returned."""
        return [
            m
            for i, m in enumerate(self.inbox)
            if i not in self._consumed and isinstance(m, SipRequest) and m.method == method
        ]

    def responses(self) -> list[SipResponse]:
        """Every response received, in order."""
        return [m for m in self.inbox if isinstance(m, SipResponse)]

    # ---- SIP ----

    def invite(self) -> None:
        assert self._rtp is not None
        offer = build_offer(
            LOCAL_HOST,
            self._rtp.get_extra_info("sockname")[1],
            session_id=random.getrandbits(30),
            event_payload_type=EVENT_PAYLOAD_TYPE,
        )
        req = self._build.invite(
            local_tag=self.tag, display_name=None, extra=[("Allow", ALLOW)], body=offer
        )
        self._send(req, (self.host, self.port))

    async def invite_final(self, within: float = 30) -> SipResponse:
        """The final response to our INVITE (ACKed when 200)."""
        res = await self.wait_response("INVITE", within)
        if res.status == 200:
            self.answer = parse_sdp(res.body)
            self._ack = self._build.confirm(res)
            self._send(*self._ack)
        return res

    def respond(self, req: SipRequest, status: int, reason: str | None = None) -> None:
        """Answer `req` (RFC 3261 8.2.6.2), to its top Via's sent-by: the stand-in sends
        from the port it listens on."""
        via = req.top_via
        self._send(
            build_response(req, status, reason, to_tag=self.tag), (via.host, via.port or 5060)
        )

    def bye(self) -> None:
        """Hang up (in-dialog BYE)."""
        self._send(*self._build.in_dialog("BYE"))

    async def notify(
        self, refer: SipRequest, sipfrag: str, *, final: bool, within: float = 5
    ) -> SipResponse:
        """Send NOTIFY (Event: refer, RFC 3515) for `refer` with the status line `sipfrag`
        as its body; return the response."""
        state = "terminated;reason=noresource" if final else "active;expires=60"
        req, dest = self._build.notify(refer.cseq.number, sipfrag.rstrip("\r\n"), state)
        self._send(req, dest)
        return await self.wait_response("NOTIFY", within, cseq=req.cseq.number)

    # ---- RTP: the misbehaving send side ----

    def _send_rtp(self, payload_type: int, ts: int, payload: bytes, marker: bool) -> None:
        assert self._rtp is not None and self.answer is not None
        self._rtp_seq = (self._rtp_seq + 1) & 0xFFFF
        pkt = RtpPacket(
            payload_type=payload_type,
            sequence=self._rtp_seq,
            timestamp=ts,
            ssrc=self._rtp_ssrc,
            payload=payload,
            marker=marker,
        )
        self._rtp.sendto(pkt.encode(), (self.answer.address, self.answer.port))

    async def send_dtmf(
        self, digit: str, ts: int, *, duration_ms: int = 80, repeat_end: int = 3
    ) -> None:
        """One RFC 4733 key press in real time, every packet with RTP timestamp `ts` (the
        test's to choose, so it can repeat a press): interim packets, then `repeat_end`
        end packets."""
        payloads = telephone_event_sequence(
            event_for_digit(digit), duration_ms, end_repeats=repeat_end
        )
        for i, ev in enumerate(payloads):
            self._send_rtp(EVENT_PAYLOAD_TYPE, ts, ev.encode(), i == 0)
            await asyncio.sleep(PACKET_S)

    async def send_tone(self, duration_s: float, freq_hz: float = 440.0, ts0: int = 0) -> int:
        """Send PCMU packets of a sine tone in real time; returns the next timestamp."""
        ts = ts0
        for k in range(round(duration_s / PACKET_S)):
            samples = [
                int(8000 * math.sin(2 * math.pi * freq_hz * (ts + i) / SAMPLE_RATE_HZ))
                for i in range(SAMPLES_PER_PACKET)
            ]
            self._send_rtp(PCMU_PAYLOAD_TYPE, ts, ulaw_encode(samples), k == 0)
            ts += SAMPLES_PER_PACKET
            await asyncio.sleep(PACKET_S)
        return ts


def rtp_pcmu_rms(packets: list[RtpPacket]) -> float:
    """RMS level (16-bit linear) of the PCMU packets among `packets`; 0 if none."""
    samples: array[int] = array("h")
    for p in packets:
        if p.payload_type == PCMU_PAYLOAD_TYPE:
            samples.extend(ulaw_decode(p.payload))
    return pcm_rms(samples)
