"""A minimal SIP caller over UDP for the stack tests (asyncio, no dependencies).

Just enough of RFC 3261 / 3515 / 4733 for one call against the SIP stand-in:
INVITE with a PCMU + telephone-event offer, ACK, RTP (telephone-event and PCMU),
answering REFER and BYE, sending NOTIFY with a sipfrag. Deliberately independent of
the phone (router.stack.sipphone): these tests check the stand-in, not the phone.

Why it is not the phone: the stand-in's tests need a caller that misbehaves on
purpose and is driven step by step, which the phone by design is not. They resend a
key press with the same RTP timestamp (the stand-in must drop repeats and late
retransmissions; the phone gives every press a fresh timestamp), send a tone (the
phone sends silence), answer a REFER and each NOTIFY by hand with API checks in
between (the phone answers per its script), and read the raw RTP packets received.
"""

from __future__ import annotations

import asyncio
import math
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "o": "event",
    "r": "refer-to",
    "k": "supported",
    "s": "subject",
}


@dataclass
class SipMsg:
    start: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    consumed: bool = False

    @property
    def is_request(self) -> bool:
        return not self.start.startswith("SIP/2.0")

    @property
    def method(self) -> str:
        if self.is_request:
            return self.start.split(" ", 1)[0]
        return self.header("CSeq").split()[1]

    @property
    def status(self) -> int:
        return int(self.start.split(" ")[1]) if not self.is_request else 0

    @property
    def reason(self) -> str:
        return self.start.split(" ", 2)[2] if not self.is_request else ""

    @property
    def cseq(self) -> int:
        return int(self.header("CSeq").split()[0])

    def header(self, name: str, default: str = "") -> str:
        n = name.lower()
        for k, v in self.headers:
            if k == n:
                return v
        return default

    def header_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self.headers if k == n]


def parse(data: bytes) -> SipMsg:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        k = k.strip().lower()
        headers.append((COMPACT.get(k, k), v.strip()))
    return SipMsg(lines[0], headers, body)


def tag_of(value: str) -> str:
    for part in value.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "tag":
            return v
    return ""


def uri_of(value: str) -> str:
    if "<" in value:
        return value[value.index("<") + 1 : value.index(">")]
    return value.split(";")[0].strip()


def host_port(uri: str) -> tuple[str, int]:
    hp = uri.split("@")[-1].split(";")[0]
    if hp.startswith("sip:"):
        hp = hp[4:]
    host, _, port = hp.partition(":")
    return host, int(port or 5060)


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, on_data: Callable[[bytes, tuple[str, int]], None]) -> None:
        self.on_data = on_data

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.on_data(data, addr)


@dataclass
class Caller:
    """One call from `from_number` to `to_number` at host:port."""

    host: str
    port: int
    from_number: str
    to_number: str
    call_id: str = field(default_factory=lambda: f"test-{random.getrandbits(64):016x}@127.0.0.1")
    tag: str = field(default_factory=lambda: f"{random.getrandbits(48):012x}")
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.inbox: list[SipMsg] = []
        self.rtp_in: list[bytes] = []
        self._changed = asyncio.Event()
        self._sip: asyncio.DatagramTransport | None = None
        self._rtp: asyncio.DatagramTransport | None = None
        self.sip_port = 0
        self.rtp_port = 0
        self.cseq = 1
        self.remote_tag = ""
        self.remote_contact = ""
        self.remote_rtp: tuple[str, int] | None = None
        self.invite_resp_200: SipMsg | None = None
        self._rtp_seq = random.getrandbits(16)
        self._rtp_ssrc = random.getrandbits(32)

    # ---- transport ----

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._sip, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_sip), local_addr=("127.0.0.1", 0)
        )
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._on_rtp), local_addr=("127.0.0.1", 0)
        )
        self.sip_port = self._sip.get_extra_info("sockname")[1]
        self.rtp_port = self._rtp.get_extra_info("sockname")[1]

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

    def _send(self, text: str, body: bytes = b"", addr: tuple[str, int] | None = None) -> None:
        assert self._sip is not None
        data = text.encode() + b"\r\n" + body
        self.log.append("> " + text.splitlines()[0])
        self._sip.sendto(data, addr or (self.host, self.port))

    def _on_sip(self, data: bytes, addr: tuple[str, int]) -> None:
        if not data.strip():
            return
        msg = parse(data)
        self.log.append("< " + msg.start)
        if msg.is_request:
            if msg.method == "BYE":
                self.respond(msg, 200, "OK")
            elif msg.method == "OPTIONS":
                self.respond(msg, 200, "OK")
        elif msg.method == "INVITE" and msg.status == 200 and self.invite_resp_200 is not None:
            self._send_ack()  # a retransmitted 200: ACK again
        self.inbox.append(msg)
        self._changed.set()

    def _on_rtp(self, data: bytes, addr: tuple[str, int]) -> None:
        self.rtp_in.append(data)

    async def wait_for(self, pred: Callable[[SipMsg], bool], within: float, what: str) -> SipMsg:
        async def scan() -> SipMsg:
            while True:
                for m in self.inbox:
                    if not m.consumed and pred(m):
                        m.consumed = True
                        return m
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), within)
        except TimeoutError:
            raise AssertionError(f"no {what} within {within} s; SIP log: {self.log}") from None

    async def wait_request(self, method: str, within: float = 10) -> SipMsg:
        return await self.wait_for(lambda m: m.is_request and m.method == method, within, method)

    def pending(self, method: str) -> list[SipMsg]:
        return [m for m in self.inbox if not m.consumed and m.is_request and m.method == method]

    # ---- SIP ----

    def _via(self) -> str:
        branch = f"z9hG4bK{random.getrandbits(64):016x}"
        return f"SIP/2.0/UDP 127.0.0.1:{self.sip_port};branch={branch};rport"

    def offer(self) -> bytes:
        return (
            "v=0\r\n"
            f"o=- {random.getrandbits(30)} 1 IN IP4 127.0.0.1\r\n"
            "s=test\r\n"
            "c=IN IP4 127.0.0.1\r\n"
            "t=0 0\r\n"
            f"m=audio {self.rtp_port} RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n"
            "a=fmtp:101 0-16\r\n"
            "a=ptime:20\r\n"
            "a=sendrecv\r\n"
        ).encode()

    def invite(self) -> None:
        body = self.offer()
        self._send(
            f"INVITE sip:{self.to_number}@{self.host}:{self.port} SIP/2.0\r\n"
            f"Via: {self._via()}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{self.from_number}@127.0.0.1>;tag={self.tag}\r\n"
            f"To: <sip:{self.to_number}@{self.host}>\r\n"
            f"Call-ID: {self.call_id}\r\n"
            "CSeq: 1 INVITE\r\n"
            f"Contact: <sip:{self.from_number}@127.0.0.1:{self.sip_port}>\r\n"
            "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, OPTIONS\r\n"
            "Content-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n",
            body,
        )

    async def invite_final(self, within: float = 30) -> SipMsg:
        """The final response to our INVITE (ACKed when 200)."""
        res = await self.wait_for(
            lambda m: not m.is_request and m.method == "INVITE" and m.status >= 200,
            within,
            "final response to INVITE",
        )
        if res.status == 200:
            self.remote_tag = tag_of(res.header("To"))
            self.remote_contact = uri_of(res.header("Contact"))
            self.invite_resp_200 = res
            for line in res.body.decode().splitlines():
                if line.startswith("m=audio"):
                    port = int(line.split()[1])
                elif line.startswith("c=IN IP4"):
                    ip = line.split()[2]
            self.remote_rtp = (ip, port)
            self._send_ack()
        return res

    def _send_ack(self) -> None:
        assert self.invite_resp_200 is not None
        self._send(
            f"ACK {self.remote_contact} SIP/2.0\r\n"
            f"Via: {self._via()}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{self.from_number}@127.0.0.1>;tag={self.tag}\r\n"
            f"To: {self.invite_resp_200.header('To')}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            "CSeq: 1 ACK\r\n"
            "Content-Length: 0\r\n",
            addr=host_port(self.remote_contact),
        )

    def respond(self, req: SipMsg, code: int, reason: str, extra: str = "") -> None:
        to = req.header("To")
        lines = [f"SIP/2.0 {code} {reason}"]
        lines += [f"Via: {v}" for v in req.header_all("Via")]
        lines += [
            f"From: {req.header('From')}",
            f"To: {to}",
            f"Call-ID: {req.header('Call-ID')}",
            f"CSeq: {req.header('CSeq')}",
        ]
        if extra:
            lines.append(extra.rstrip("\r\n"))
        lines.append("Content-Length: 0")
        via = req.header("Via")
        # answer to the Via sent-by (the stand-in sends from its SIP port)
        sent_by = via.split()[1].split(";")[0]
        h, _, p = sent_by.partition(":")
        self._send("\r\n".join(lines) + "\r\n", addr=(h, int(p or 5060)))

    def bye(self) -> None:
        """Hang up (in-dialog BYE)."""
        self.cseq += 1
        self._send(
            f"BYE {self.remote_contact} SIP/2.0\r\n"
            f"Via: {self._via()}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{self.from_number}@127.0.0.1>;tag={self.tag}\r\n"
            f"To: {self.invite_resp_200.header('To') if self.invite_resp_200 else ''}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {self.cseq} BYE\r\n"
            "Content-Length: 0\r\n",
            addr=host_port(self.remote_contact),
        )

    async def notify(
        self, sipfrag: str, refer_cseq: int, *, final: bool, within: float = 5
    ) -> SipMsg:
        """Send NOTIFY (Event: refer) with a sipfrag body; return the response."""
        self.cseq += 1
        body = (sipfrag.rstrip("\r\n") + "\r\n").encode()
        state = "terminated;reason=noresource" if final else "active;expires=60"
        self._send(
            f"NOTIFY {self.remote_contact} SIP/2.0\r\n"
            f"Via: {self._via()}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:{self.from_number}@127.0.0.1>;tag={self.tag}\r\n"
            f"To: {self.invite_resp_200.header('To') if self.invite_resp_200 else ''}\r\n"
            f"Call-ID: {self.call_id}\r\n"
            f"CSeq: {self.cseq} NOTIFY\r\n"
            f"Contact: <sip:{self.from_number}@127.0.0.1:{self.sip_port}>\r\n"
            f"Event: refer;id={refer_cseq}\r\n"
            f"Subscription-State: {state}\r\n"
            "Content-Type: message/sipfrag;version=2.0\r\n"
            f"Content-Length: {len(body)}\r\n",
            body,
            addr=host_port(self.remote_contact),
        )
        cseq = self.cseq
        return await self.wait_for(
            lambda m: (
                not m.is_request and m.method == "NOTIFY" and m.cseq == cseq and m.status >= 200
            ),
            within,
            "response to NOTIFY",
        )

    # ---- RTP ----

    def _rtp_packet(self, pt: int, ts: int, payload: bytes, marker: bool = False) -> bytes:
        self._rtp_seq = (self._rtp_seq + 1) & 0xFFFF
        b1 = (0x80 if marker else 0) | pt
        return (
            struct.pack("!BBHII", 0x80, b1, self._rtp_seq, ts & 0xFFFFFFFF, self._rtp_ssrc)
            + payload
        )

    async def send_dtmf(self, digit: str, ts: int, *, repeat_end: int = 3) -> None:
        """One RFC 4733 key press: 3 packets while pressed, then `repeat_end` end packets,
        all with RTP timestamp `ts`."""
        assert self._rtp is not None and self.remote_rtp is not None
        code = "0123456789*#ABCD".index(digit)
        for i in range(3):
            dur = 160 * (i + 1)
            self._rtp.sendto(
                self._rtp_packet(101, ts, bytes([code, 10, dur >> 8, dur & 0xFF]), i == 0),
                self.remote_rtp,
            )
            await asyncio.sleep(0.02)
        for _ in range(repeat_end):
            self._rtp.sendto(
                self._rtp_packet(101, ts, bytes([code, 0x80 | 10, 0x01, 0xE0])), self.remote_rtp
            )
            await asyncio.sleep(0.02)

    async def send_tone(self, seconds: float, freq: float = 440.0, ts0: int = 0) -> int:
        """Send PCMU packets of a sine tone in real time; returns the next timestamp."""
        assert self._rtp is not None and self.remote_rtp is not None
        ts = ts0
        n = int(seconds * 50)
        for k in range(n):
            samples = [
                int(8000 * math.sin(2 * math.pi * freq * (ts + i) / 8000)) for i in range(160)
            ]
            self._rtp.sendto(
                self._rtp_packet(0, ts, bytes(ulaw(s) for s in samples), k == 0), self.remote_rtp
            )
            ts += 160
            await asyncio.sleep(0.02)
        return ts


def ulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), 32635) + 0x84
    exponent = 7
    mask = 0x4000
    while exponent > 0 and not sample & mask:
        exponent -= 1
        mask >>= 1
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ulaw_decode(u: int) -> int:
    u = ~u & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    s = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -s if sign else s


def rtp_pcmu_rms(packets: list[bytes]) -> float:
    """RMS level of the PCMU (payload type 0) packets among `packets`."""
    total, count = 0.0, 0
    for p in packets:
        if len(p) < 12 or p[1] & 0x7F != 0:
            continue
        for b in p[12:]:
            s = ulaw_decode(b)
            total += s * s
            count += 1
    return math.sqrt(total / count) if count else 0.0
