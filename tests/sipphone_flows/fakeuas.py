"""A hand-driven SIP UAS for testing the caller: the test plays LiveKit's part.

Each test receives the caller's messages and answers them step by step, so it
can check bytes, timing and order.  Raw datagrams are kept next to the parsed
messages so assertions need not trust the parser under test.
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

from router.stack.sipphone.message import (
    HeaderBuilder,
    NameAddr,
    SipRequest,
    SipResponse,
    build_response,
    new_branch,
    new_tag,
    parse_message,
)
from router.stack.sipphone.rtp import RtpPacket, TelephoneEvent, linear_to_ulaw
from router.stack.sipphone.sdp import SdpMedia, parse_sdp

Address = tuple[str, int]


@dataclass(frozen=True)
class Received:
    at: float
    msg: SipRequest | SipResponse
    raw: bytes
    addr: Address


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, sink: asyncio.Queue[tuple[float, bytes, Address]]) -> None:
        self.sink = sink

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.sink.put_nowait((time.monotonic(), data, (str(addr[0]), int(addr[1]))))

    def error_received(self, exc: Exception) -> None:
        pass


@dataclass
class Dialog:
    """UAS side of the dialog, taken from the INVITE."""

    call_id: str
    local: str  # our To with tag, used as From in our requests
    remote: str  # caller's From with tag, used as To
    remote_target: str
    peer: Address
    cseq: int = 100


@dataclass
class FakeUas:
    user: str = "+15105550000"
    host: str = "127.0.0.1"
    sip_port: int = 0
    rtp_port: int = 0
    tag: str = field(default_factory=new_tag)
    sip_in: asyncio.Queue[tuple[float, bytes, Address]] = field(default_factory=asyncio.Queue)
    rtp_in: list[tuple[float, RtpPacket]] = field(default_factory=list)
    log: list[Received] = field(default_factory=list)
    _sip: asyncio.DatagramTransport | None = None
    _rtp: asyncio.DatagramTransport | None = None
    _rtp_queue: asyncio.Queue[tuple[float, bytes, Address]] = field(default_factory=asyncio.Queue)
    _rtp_task: asyncio.Task[None] | None = None
    _tone_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeUas:
        loop = asyncio.get_running_loop()
        self._sip, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self.sip_in), local_addr=(self.host, 0)
        )
        self._rtp, _ = await loop.create_datagram_endpoint(
            lambda: _Proto(self._rtp_queue), local_addr=(self.host, 0)
        )
        self.sip_port = self._sip.get_extra_info("sockname")[1]
        self.rtp_port = self._rtp.get_extra_info("sockname")[1]
        self._rtp_task = asyncio.create_task(self._collect_rtp())
        return self

    async def __aexit__(self, *exc: object) -> None:
        for t in (self._rtp_task, self._tone_task):
            if t is not None:
                t.cancel()
        await asyncio.gather(
            *(t for t in (self._rtp_task, self._tone_task) if t is not None),
            return_exceptions=True,
        )
        for tr in (self._sip, self._rtp):
            if tr is not None:
                tr.close()
        await asyncio.sleep(0)

    @property
    def uri(self) -> str:
        return f"sip:{self.user}@{self.host}:{self.sip_port}"

    async def _collect_rtp(self) -> None:
        while True:
            at, data, _addr = await self._rtp_queue.get()
            self.rtp_in.append((at, RtpPacket.decode(data)))

    # ------------------------------------------------------------------ SIP
    async def recv(self, timeout_s: float = 5.0) -> Received:
        at, data, addr = await asyncio.wait_for(self.sip_in.get(), timeout_s)
        item = Received(at, parse_message(data), data, addr)
        self.log.append(item)
        return item

    async def expect_request(self, method: str, timeout_s: float = 5.0) -> Received:
        item = await self.recv(timeout_s)
        assert isinstance(item.msg, SipRequest), f"expected {method}, got {item.msg.start_line}"
        assert item.msg.method == method, f"expected {method}, got {item.msg.start_line}"
        return item

    async def expect_response(self, status: int | None = None, timeout_s: float = 5.0) -> Received:
        item = await self.recv(timeout_s)
        assert isinstance(item.msg, SipResponse), f"expected a response, got {item.msg.start_line}"
        if status is not None:
            assert item.msg.status == status, item.msg.start_line
        return item

    async def nothing_for(self, seconds: float) -> None:
        """Assert no SIP message arrives for a while."""
        try:
            item = await self.recv(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {item.msg.start_line}")

    def send_raw(self, data: bytes, addr: Address) -> None:
        assert self._sip is not None
        self._sip.sendto(data, addr)

    def reply(
        self,
        req: Received,
        status: int,
        *,
        sdp: bool = False,
        extra: list[tuple[str, str]] | None = None,
        with_contact: bool = True,
    ) -> SipResponse:
        assert isinstance(req.msg, SipRequest)
        headers = list(extra or [])
        if with_contact and status < 300 and status != 100:
            headers.append(("Contact", f"<sip:{self.user}@{self.host}:{self.sip_port}>"))
        body = self.sdp_answer() if sdp else b""
        resp = build_response(
            req.msg,
            status,
            to_tag=self.tag,
            extra=headers,
            body=body,
            content_type="application/sdp" if sdp else None,
        )
        self.send_raw(resp.to_bytes(), req.addr)
        return resp

    def sdp_answer(self) -> bytes:
        lines = [
            "v=0",
            f"o=- 1 1 IN IP4 {self.host}",
            "s=fake",
            f"c=IN IP4 {self.host}",
            "t=0 0",
            f"m=audio {self.rtp_port} RTP/AVP 0 101",
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-16",
            "a=sendrecv",
        ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def dialog(self, invite: Received) -> Dialog:
        msg = invite.msg
        assert isinstance(msg, SipRequest)
        contact = msg.contact
        assert contact is not None
        return Dialog(
            call_id=msg.call_id,
            local=str(msg.to.with_tag(self.tag)),
            remote=msg.require("From"),
            remote_target=contact.uri,
            peer=invite.addr,
        )

    def request(
        self,
        dlg: Dialog,
        method: str,
        *,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        content_type: str | None = None,
    ) -> SipRequest:
        dlg.cseq += 1
        hb = HeaderBuilder()
        hb.add("Via", f"SIP/2.0/UDP {self.host}:{self.sip_port};branch={new_branch()}")
        hb.add("Max-Forwards", 70)
        hb.add("From", dlg.local)
        hb.add("To", dlg.remote)
        hb.add("Call-ID", dlg.call_id)
        hb.add("CSeq", f"{dlg.cseq} {method}")
        hb.add("Contact", f"<sip:{self.user}@{self.host}:{self.sip_port}>")
        hb.extend(extra or [])
        if content_type:
            hb.add("Content-Type", content_type)
        req = SipRequest(method=method, uri=dlg.remote_target, headers=hb.build(), body=body)
        self.send_raw(req.to_bytes(), dlg.peer)
        return req

    # ------------------------------------------------------------------ RTP
    def caller_media(self, invite: Received) -> SdpMedia:
        return parse_sdp(invite.msg.body)

    def start_tone(
        self,
        dest: Address,
        *,
        seconds: float,
        freq: float = 440.0,
        amplitude: int = 8000,
        delay_s: float = 0.0,
    ) -> None:
        """Send a PCMU sine to the caller, 20 ms packets, like a prompt playing."""

        async def run() -> None:
            assert self._rtp is not None
            await asyncio.sleep(delay_s)
            seq, ts, n = 1000, 5000, 0
            loop = asyncio.get_running_loop()
            next_t = loop.time()
            for _ in range(int(seconds / 0.02)):
                samples = array(
                    "h",
                    [
                        int(amplitude * math.sin(2 * math.pi * freq * (n + i) / 8000))
                        for i in range(160)
                    ],
                )
                n += 160
                payload = bytes(linear_to_ulaw(s) for s in samples)
                pkt = RtpPacket(
                    payload_type=0, sequence=seq, timestamp=ts, ssrc=0xABCDEF01, payload=payload
                )
                self._rtp.sendto(pkt.encode(), dest)
                seq += 1
                ts += 160
                next_t += 0.02
                await asyncio.sleep(max(0.0, next_t - loop.time()))

        self._tone_task = asyncio.create_task(run())

    def events(self) -> list[tuple[float, RtpPacket, TelephoneEvent]]:
        return [
            (at, p, TelephoneEvent.decode(p.payload))
            for at, p in self.rtp_in
            if p.payload_type == 101
        ]

    def key_presses(self) -> dict[int, list[tuple[float, RtpPacket, TelephoneEvent]]]:
        """Event packets grouped by RTP timestamp (= one key press each), in order."""
        out: dict[int, list[tuple[float, RtpPacket, TelephoneEvent]]] = {}
        for item in self.events():
            out.setdefault(item[1].timestamp, []).append(item)
        return out

    async def wait_keys(self, count: int, timeout_s: float = 10.0) -> None:
        """Until ``count`` presses have all their end packets."""

        async def poll() -> None:
            while True:
                done = [
                    ts
                    for ts, pkts in self.key_presses().items()
                    if sum(1 for _a, _p, e in pkts if e.end) >= 3
                ]
                if len(done) >= count:
                    return
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout_s)


def name_addr(text: str) -> NameAddr:
    return NameAddr.parse(text)
