"""The far end's requests inside the dialog, judged before the dialog acts on them.

A request for another dialog is answered 481 and one out of order 500 (RFC 3261
12.2.2); OPTIONS and the like are answered 200 at once, anything unknown 501 with
`Allow` (8.2.1); a REFER is read into a `Refer` (RFC 3515), or refused 400 without
`Refer-To`. `judge` and `read_refer` are pure functions of the request and the dialog's
identity; `InboundRequests` is the dialog's server side (UAS) that acts on them: it
answers each request (a retransmission with the same response again), takes a re-INVITE's
new offer, keeps the REFERs, and tells the dialog when the far end hung up (BYE).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from router.stack.sipphone.actions import Refer, ReferArrived
from router.stack.sipphone.message import SipRequest, build_response
from router.stack.sipphone.negotiation import MediaNegotiation
from router.stack.sipphone.outbox import Outbox
from router.stack.sipphone.report import Address
from router.stack.sipphone.requests import USER_AGENT, RequestBuilder
from router.stack.sipphone.transaction import ResponseCache

__all__ = ["ALLOW", "ANSWERED_AT_ONCE", "InboundRequests", "Refusal", "judge", "read_refer"]

ALLOW = "INVITE, ACK, CANCEL, BYE, REFER, NOTIFY, OPTIONS, INFO, UPDATE"
"""The methods the phone takes (its `Allow` header)."""

ANSWERED_AT_ONCE = ("OPTIONS", "INFO", "NOTIFY", "UPDATE", "MESSAGE")
"""Requests answered 200 with nothing else done (a phone's keep-alives and chatter)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the dialog answers with `status` and does not act on."""

    status: int
    note: str | None
    """What the report says of it (None: nothing worth a note)."""


def judge(
    req: SipRequest,
    *,
    call_id: str,
    local_tag: str,
    remote_tag: str | None,
    last_cseq: int | None,
) -> Refusal | None:
    """None if `req` belongs to this dialog and comes in order (RFC 3261 12.2.2); else
    how to refuse it. A CANCEL here has nothing of ours pending: 481 (9.2)."""
    if req.call_id != call_id:
        return Refusal(481, f"{req.method} for an unknown Call-ID {req.call_id}")
    to_tag, from_tag = req.to.tag, req.from_.tag
    if to_tag != local_tag or (remote_tag is not None and from_tag != remote_tag):
        return Refusal(
            481, f"{req.method} with tags that match no dialog (To {to_tag}, From {from_tag})"
        )
    if req.method == "CANCEL":
        return Refusal(481, None)
    number = req.cseq.number
    if last_cseq is not None and number <= last_cseq:
        return Refusal(500, f"{req.method} CSeq {number} not above the last ({last_cseq})")
    return None


def read_refer(req: SipRequest, now: float, status: int) -> Refer | None:
    """The REFER as the report keeps it, to be answered `status`; None without the
    `Refer-To` it must carry (RFC 3515 2.4.1: answered 400)."""
    refer_to = req.header("Refer-To")
    if refer_to is None:
        return None
    return Refer(
        received_at=now,
        refer_to=refer_to,
        referred_by=req.header("Referred-By"),
        x_headers=req.headers_matching("X-"),
        headers=req.headers,
        cseq=req.cseq.number,
        response_status=status,
    )


class InboundRequests:
    """The far end's requests in one dialog (`call_id`, our `local_tag`), answered.

    `requests` is the dialog's request builder (our Contact; a target refresh changes its
    remote target), `media` its SDP, `outbox` where answers and notes go. A REFER is
    answered `refer_status` and kept in `refers`.
    """

    def __init__(
        self,
        *,
        call_id: str,
        local_tag: str,
        refer_status: int,
        requests: RequestBuilder,
        media: MediaNegotiation,
        outbox: Outbox,
    ) -> None:
        self.call_id = call_id
        self.local_tag = local_tag
        self.refer_status = refer_status
        self._requests = requests
        self._media = media
        self._out = outbox
        self.connected = False
        """The sockets are bound: a 2xx carries our Contact."""
        self.refers: list[Refer] = []
        self._responses = ResponseCache()
        self._remote_cseq: int | None = None

    def handle(self, req: SipRequest, addr: Address, now: float, *, remote_tag: str | None) -> bool:
        """Answer `req` from `addr`; True when it is the far end's BYE (answered 200: the
        call is over), False for anything else. `remote_tag`: the dialog's, once known."""
        if req.method == "ACK":
            return (
                False  # the ACK for a 2xx we sent to a re-INVITE; UDP retransmission not modelled
            )
        cached = self._responses.get(req)
        if cached is not None:
            resp, dest = cached
            self._out.send(resp, dest, now, retransmission=True)
            return False
        refusal = judge(
            req,
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=remote_tag,
            last_cseq=self._remote_cseq,
        )
        if refusal is not None:
            if refusal.note is not None:
                self._out.note(refusal.note)
            self._respond(req, addr, refusal.status, now)
            return False
        self._remote_cseq = req.cseq.number
        if req.method == "BYE":
            self._respond(req, addr, 200, now)
            return True
        if req.method == "REFER":
            self._on_refer(req, addr, now)
        elif req.method == "INVITE":
            self._on_reinvite(req, addr, now)
        elif req.method in ANSWERED_AT_ONCE:
            extra = (
                [("Allow", ALLOW), ("Accept", "application/sdp")] if req.method == "OPTIONS" else []
            )
            self._respond(req, addr, 200, now, extra=extra)
        else:
            self._out.note(f"unexpected {req.method} answered 501")
            self._respond(req, addr, 501, now, extra=[("Allow", ALLOW)])
        return False

    def _respond(
        self,
        req: SipRequest,
        addr: Address,
        status: int,
        now: float,
        *,
        extra: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        content_type: str | None = None,
    ) -> None:
        headers = [("Server", USER_AGENT), *extra]
        if 200 <= status < 300 and self.connected:
            headers.append(("Contact", self._requests.contact()))
        resp = build_response(
            req,
            status,
            to_tag=self.local_tag,
            extra=headers,
            body=body,
            content_type=content_type,
        )
        # responses go back where the request came from (RFC 3581 symmetric response)
        self._responses.put(req, resp, addr)
        self._out.send(resp, addr, now)

    def _on_reinvite(self, req: SipRequest, addr: Address, now: float) -> None:
        if req.body:
            media = self._media.read(req.body, "in re-INVITE")
            if media is None:
                self._respond(req, addr, 488, now)
                return
            update = self._media.apply(media)
            if update is not None:
                self._out.add(update)
        contact = req.contact
        if contact is not None:
            self._requests.remote_target = contact.uri
        body = self._media.new_offer()
        self._respond(req, addr, 200, now, body=body, content_type="application/sdp")

    def _on_refer(self, req: SipRequest, addr: Address, now: float) -> None:
        refer = read_refer(req, now, self.refer_status)
        if refer is None:
            self._out.note("REFER without Refer-To answered 400")
            self._respond(req, addr, 400, now)
            return
        self.refers.append(refer)
        contact = req.contact
        if contact is not None:
            self._requests.remote_target = contact.uri  # REFER is a target refresh request
        self._respond(req, addr, self.refer_status, now)
        self._out.add(ReferArrived(refer, 200 <= self.refer_status < 300))
