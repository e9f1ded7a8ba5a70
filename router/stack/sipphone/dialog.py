"""One outgoing call's SIP dialog, sans-I/O: events in, actions out, time passed in.

The :class:`Dialog` never touches a socket or a clock.  The asyncio shell
(:mod:`router.stack.sipphone.phone`) feeds it datagrams (``receive_datagram(data,
addr, now)``), fires its timers (``next_deadline()`` / ``handle_timer(now)``) and
passes on the user's wishes (``hangup(now)``); every call returns the
:data:`Action` objects to carry out: messages to send, media to start or stop,
the call answered or ended.  It is aioquic's shape, for one SIP dialog.

RFC 3261 UAC behaviour sufficient for a test phone: INVITE with timer A
retransmission, ACK for 2xx (through the Record-Route set) and for non-2xx finals,
CANCEL while ringing, BYE both ways, and in-dialog REFER, NOTIFY, OPTIONS, INFO and
re-INVITE handled as a phone would.

The call's states and what moves between them are one table, :data:`TRANSITIONS`,
and one method (``_fire``) changes the state, logging ``old -> new``::

    IDLE --start--> CALLING --provisional--> PROCEEDING --cancel--> CANCELLING
    CALLING / PROCEEDING --accepted (2xx)--> CONFIRMED --bye--> TERMINATING
    CANCELLING --accepted (2xx raced the CANCEL: ACK, then BYE)--> TERMINATING
    CALLING / PROCEEDING / CANCELLING --rejected (non-2xx final)--> ENDED
    CONFIRMED / TERMINATING / ... --remote BYE--> ENDED
    TERMINATING --BYE answered--> ENDED;  timers out --no answer--> ENDED
    any but ENDED --give up (closed, network down, hung up before a provisional)--> ENDED
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Sequence

from router.core.errors import RouterError
from router.stack.sipphone.actions import (
    Action,
    Answered,
    Ended,
    MediaStopped,
    MediaUpdated,
    Refer,
    ReferArrived,
    Ringing,
    Send,
    TransactionDone,
)
from router.stack.sipphone.inbound import ALLOW, ANSWERED_AT_ONCE, judge, read_refer
from router.stack.sipphone.message import (
    NameAddr,
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    build_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
    reason_phrase,
)
from router.stack.sipphone.report import (
    Address,
    CallOutcome,
    NotifySent,
    SipTraceEntry,
    format_address,
)
from router.stack.sipphone.requests import USER_AGENT, RequestBuilder
from router.stack.sipphone.sdp import SdpError, SdpMedia, build_offer, parse_sdp
from router.stack.sipphone.states import TRANSITIONS, CallState, Trigger
from router.stack.sipphone.transaction import (
    ClientTransaction,
    ResponseCache,
    TimerResult,
    TransactionKey,
)

__all__ = ["ALLOW", "USER_AGENT", "CallError", "Dialog"]

log = logging.getLogger(__name__)


class CallError(RouterError):
    """An action that the call's state does not allow (a key before the answer ...)."""


# =========================================================================== the dialog


class Dialog:
    """The SIP side of one outgoing call (see the module docstring)."""

    def __init__(
        self,
        target: str,
        *,
        caller_id: str = "+15105550100",
        display_name: str | None = None,
        local_host: str = "127.0.0.1",
        invite_headers: Sequence[tuple[str, str]] = (),
        refer_status: int = 202,
        bye_timeout_s: float = 4.0,
    ) -> None:
        self.target = target
        self.target_uri = SipUri.parse(target)
        transport = self.target_uri.param("transport")
        if transport is not None and transport.lower() != "udp":
            raise ValueError(f"only UDP is supported, target says transport={transport}")
        self.caller_id = caller_id
        self.display_name = display_name
        self.local_host = local_host
        self.invite_headers = tuple(invite_headers)
        self.refer_status = refer_status
        self.bye_timeout_s = bye_timeout_s

        self.call_id = new_call_id(local_host)
        self.local_tag = new_tag()
        self.remote_tag: str | None = None
        self._requests = RequestBuilder(
            self.target_uri,
            call_id=self.call_id,
            caller_id=caller_id,
            local_host=local_host,
            note=self.note,
        )
        self._remote_cseq: int | None = None
        self._session_id = secrets.randbelow(2**31)
        self._sdp_version = 1
        self.event_payload_type = 101

        self.state = CallState.IDLE
        self.local_rtp: Address = (local_host, 0)
        self._connected = False

        self._txs: dict[TransactionKey, ClientTransaction] = {}
        self._invite_tx: ClientTransaction | None = None
        self._invite_req: SipRequest | None = None
        self._cancel_tx: ClientTransaction | None = None
        self._bye_tx: ClientTransaction | None = None
        self._ack: tuple[SipRequest, Address] | None = None
        self._responses = ResponseCache()
        self.remote_media: SdpMedia | None = None
        self.early_media: SdpMedia | None = None
        self.remote_rtp: Address | None = None
        self.refers: list[Refer] = []
        self._notify_of: dict[TransactionKey, tuple[Refer, int]] = {}

        self._hangup_outcome = CallOutcome.LOCAL_BYE
        self._hangup_detail = ""
        self._hangup_deadline: float | None = None

        self.errors: list[str] = []
        self.trace: list[SipTraceEntry] = []
        self.provisional: list[int] = []
        self.started_at: float | None = None
        self.ringing_at: float | None = None
        self.answered_at: float | None = None
        self.ended_at: float | None = None
        self.remote_bye_at: float | None = None
        self.outcome: CallOutcome | None = None
        self.status: int | None = None
        self.reason = ""
        self.detail = ""
        self.bye_status: int | None = None
        self._out: list[Action] = []

    @property
    def local_sip(self) -> Address:
        """The SIP socket's address (port 0 until `connect`)."""
        return self._requests.local_sip

    @property
    def target_addr(self) -> Address | None:
        """Where the INVITE went (None until `connect`)."""
        return self._requests.target_addr

    # ------------------------------------------------------------------ state
    def _fire(self, trigger: Trigger) -> bool:
        """The one place the state changes; False (and nothing changes) if not allowed."""
        new = TRANSITIONS[self.state].get(trigger)
        if new is None:
            log.debug("%s: %s ignored in state %s", self.call_id, trigger.value, self.state)
            return False
        if new is not self.state:
            log.debug("%s: %s -> %s (%s)", self.call_id, self.state, new, trigger.value)
            self.state = new
        return True

    def _end(self, trigger: Trigger, outcome: CallOutcome, detail: str, now: float) -> None:
        if not self._fire(trigger) or self.state is not CallState.ENDED:
            return
        self.outcome = outcome
        self.detail = detail
        self.ended_at = now
        self._hangup_deadline = None
        if self._invite_tx is not None:
            self._invite_tx.stop()
        self._out.append(MediaStopped())
        self._out.append(Ended(outcome, detail))

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ inputs
    def start(self, now: float) -> None:
        """The call begins (before the sockets exist): IDLE -> CALLING."""
        if not self._fire(Trigger.START):
            raise CallError("call already started")
        self.started_at = now

    def fail(self, text: str, detail: str, now: float) -> list[Action]:
        """A local failure (name resolution, sockets) ends the call."""
        self.note(text)
        self._end(Trigger.GIVE_UP, CallOutcome.ERROR, detail, now)
        return self._flush()

    def connect(
        self, local_sip: Address, local_rtp: Address, target: Address, now: float
    ) -> list[Action]:
        """The sockets are bound: send the INVITE."""
        build = self._requests
        build.local_sip, self.local_rtp, build.target_addr = local_sip, local_rtp, target
        self._connected = True
        local = NameAddr(
            uri=str(SipUri(host=build.host_for_uri(), user=self.caller_id)),
            display=self.display_name,
            params=(("tag", self.local_tag),),
        )
        build.from_hdr = str(local)
        t = self.target_uri
        build.to_hdr = str(NameAddr(uri=str(SipUri(host=t.host, user=t.user, port=t.port))))
        body = self._offer()
        uri = str(dataclasses.replace(t, headers=""))
        hb = build.base_headers("INVITE", build.invite_cseq, build.to_hdr, new_branch())
        hb.add("Contact", build.contact())
        hb.add("Allow", ALLOW)
        hb.extend(list(self.invite_headers))
        hb.add("Content-Type", "application/sdp")
        req = SipRequest(method="INVITE", uri=uri, headers=hb.build(), body=body)
        self._invite_req = req
        self._invite_tx = self._start_tx(req, target, now)
        return self._flush()

    def receive_datagram(self, data: bytes, addr: Address, now: float) -> list[Action]:
        """One datagram from the SIP socket."""
        if not data.strip():
            return []  # CRLF keep-alive
        try:
            msg = parse_message(data)
        except SipParseError as exc:
            self.note(f"unparsable SIP from {format_address(addr)}: {exc}")
            return []
        cseq = msg.header("CSeq") or "?"
        self.trace.append(
            SipTraceEntry(now, "<", format_address(addr), f"{msg.start_line} [{cseq}]")
        )
        try:
            if isinstance(msg, SipResponse):
                self._on_response(msg, now)
            else:
                self._on_request(msg, addr, now)
        except SipParseError as exc:
            self.note(f"malformed {msg.start_line!r}: {exc}")
        return self._flush()

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`handle_timer` has work; None when nothing waits."""
        times = [t for tx in self._txs.values() if (t := tx.next_deadline()) is not None]
        if self._hangup_deadline is not None:
            times.append(self._hangup_deadline)
        return min(times) if times else None

    def handle_timer(self, now: float) -> list[Action]:
        for tx in list(self._txs.values()):
            result = tx.on_timer(now)
            if result is TimerResult.RETRANSMIT:
                self._send(tx.request, tx.dest, now, retransmission=True)
            elif result is TimerResult.TIMED_OUT:
                self._tx_done(tx, None, now)
        if self._hangup_deadline is not None and now >= self._hangup_deadline:
            self._hangup_deadline = None
            self._hangup_timed_out(now)
        return self._flush()

    def hangup(
        self, now: float, *, outcome: CallOutcome = CallOutcome.LOCAL_BYE, detail: str = ""
    ) -> list[Action]:
        """BYE when answered, CANCEL while ringing, give up before any provisional.

        Waiting for the answer is the shell's: the call ends on it, or on the
        dialog's own deadline ``bye_timeout_s`` later.
        """
        if self.state is CallState.CONFIRMED:
            self._fire(Trigger.BYE)
            self._out.append(MediaStopped())
            self._hangup_outcome, self._hangup_detail = outcome, detail or "we sent BYE"
            req, dest = self._requests.in_dialog("BYE")
            self._bye_tx = self._start_tx(req, dest, now)
            self._hangup_deadline = now + self.bye_timeout_s
        elif self.state in (CallState.CALLING, CallState.PROCEEDING):
            if outcome is CallOutcome.LOCAL_BYE:
                outcome = CallOutcome.CANCELLED
            invite_tx = self._invite_tx
            if invite_tx is None or not invite_tx.got_provisional:
                # CANCEL needs a provisional first (RFC 3261 9.1)
                if outcome is CallOutcome.TIMEOUT and not self.provisional:
                    outcome = CallOutcome.NO_RESPONSE
                    self.note(f"no response to the INVITE from {self.target}")
                self._end(
                    Trigger.GIVE_UP,
                    outcome,
                    detail or "gave up before any provisional response",
                    now,
                )
            else:
                self._fire(Trigger.CANCEL)
                self._hangup_outcome, self._hangup_detail = outcome, detail
                assert self.target_addr is not None
                self._cancel_tx = self._start_tx(
                    self._requests.cancel(self._invite()), self.target_addr, now
                )
                self._hangup_deadline = now + self.bye_timeout_s
        return self._flush()

    def abandon(self, now: float) -> list[Action]:
        """Closing mid-call: one BYE or CANCEL, not waited for, and the call ends.

        Leaves the far end no half-open call to time out, without making a
        cancelled caller wait.
        """
        if self._connected and self.target_addr is not None:
            if self.state is CallState.CONFIRMED:
                req, dest = self._requests.in_dialog("BYE")
                self._send(req, dest, now)
            elif (
                self.state in (CallState.CALLING, CallState.PROCEEDING)
                and self._invite_tx is not None
                and self._invite_tx.got_provisional
            ):
                self._send(self._requests.cancel(self._invite()), self.target_addr, now)
        self._end(Trigger.GIVE_UP, CallOutcome.ERROR, "closed before the call ended", now)
        return self._flush()

    def notify(
        self, refer: Refer, status: int, subscription_state: str, now: float
    ) -> tuple[list[Action], TransactionKey]:
        """Send a NOTIFY with a sipfrag of ``status`` for ``refer`` (RFC 3515)."""
        frag = f"SIP/2.0 {status} {reason_phrase(status)}"
        req, dest = self._requests.in_dialog(
            "NOTIFY",
            extra=[
                ("Event", f"refer;id={refer.cseq}"),
                ("Subscription-State", subscription_state),
            ],
            body=(frag + "\r\n").encode("ascii"),
            content_type="message/sipfrag;version=2.0",
        )
        tx = self._start_tx(req, dest, now)
        refer.notifies.append(NotifySent(frag, status, subscription_state, now, None))
        self._notify_of[tx.key] = (refer, len(refer.notifies) - 1)
        return self._flush(), tx.key

    def note(self, text: str) -> None:
        """Record a protocol error or oddity for the report."""
        log.warning("%s: %s", self.call_id, text)
        self.errors.append(text)

    @property
    def invite_retransmissions(self) -> int:
        return self._invite_tx.retransmissions if self._invite_tx else 0

    def pending_transactions(self) -> list[TransactionKey]:
        """Non-INVITE client transactions still waiting for an answer."""
        return [k for k, tx in self._txs.items() if not tx.invite and not tx.terminated]

    # ------------------------------------------------------------------ building messages
    def _offer(self) -> bytes:
        return build_offer(
            self.local_host,
            self.local_rtp[1],
            session_id=self._session_id,
            version=self._sdp_version,
            event_payload_type=self.event_payload_type,
        )

    def _send(
        self,
        msg: SipRequest | SipResponse,
        dest: Address,
        now: float,
        *,
        retransmission: bool = False,
    ) -> None:
        cseq = msg.header("CSeq") or "?"
        line = f"{msg.start_line} [{cseq}]" + (" (retransmission)" if retransmission else "")
        self.trace.append(SipTraceEntry(now, ">", format_address(dest), line))
        self._out.append(Send(msg, dest, retransmission))

    def _start_tx(self, req: SipRequest, dest: Address, now: float) -> ClientTransaction:
        tx = ClientTransaction(req, dest, now)
        self._txs[tx.key] = tx
        self._send(req, dest, now)
        return tx

    def _invite(self) -> SipRequest:
        invite = self._invite_req
        assert invite is not None
        return invite

    # ------------------------------------------------------------------ responses
    def _on_response(self, resp: SipResponse, now: float) -> None:
        via = resp.top_via
        cseq = resp.cseq
        tx = self._txs.get((via.branch or "", cseq.method))
        if tx is None or resp.call_id != self.call_id:
            self.note(f"response matches no transaction: {resp.start_line} [{cseq}]")
            return
        if resp.status < 200:
            was_over = tx.terminated
            tx.on_response(resp)
            if tx.invite and not was_over:
                self._on_invite_provisional(resp, now)
            return
        first = tx.on_response(resp)
        if first:
            self._tx_done(tx, resp, now)
        if tx.invite:
            self._on_invite_final(resp, first=first, now=now)

    def _tx_done(self, tx: ClientTransaction, resp: SipResponse | None, now: float) -> None:
        self._out.append(TransactionDone(tx.key, resp))
        if tx is self._invite_tx:
            if resp is None and not tx.got_provisional and self.state is not CallState.ENDED:
                self.note(f"no response to the INVITE from {self.target} (timer B)")
                self._end(
                    Trigger.NO_ANSWER,
                    CallOutcome.NO_RESPONSE,
                    "no response to INVITE (timer B)",
                    now,
                )
            return
        notified = self._notify_of.get(tx.key)
        if notified is not None and resp is not None:
            refer, index = notified
            refer.notifies[index] = dataclasses.replace(
                refer.notifies[index], response_status=resp.status
            )
        if tx is self._bye_tx and resp is not None:
            self.bye_status = resp.status
            if self.state is CallState.TERMINATING:
                self._end(Trigger.BYE_ANSWERED, self._hangup_outcome, self._hangup_detail, now)

    def _hangup_timed_out(self, now: float) -> None:
        if self.state is CallState.TERMINATING:
            self.note("no answer to our BYE")
            self._end(Trigger.NO_ANSWER, self._hangup_outcome, self._hangup_detail, now)
        elif self.state is CallState.CANCELLING:
            if self._cancel_tx is not None and self._cancel_tx.response is None:
                self.note("no answer to our CANCEL")
            self.note("no final response to the INVITE after CANCEL")
            self._end(
                Trigger.NO_ANSWER,
                self._hangup_outcome,
                self._hangup_detail or "CANCEL sent, no final response",
                now,
            )

    def _on_invite_provisional(self, resp: SipResponse, now: float) -> None:
        self.provisional.append(resp.status)
        self._fire(Trigger.PROVISIONAL)
        if resp.status in (180, 183) and self.ringing_at is None:
            self.ringing_at = now
            self._out.append(Ringing(now))
        if resp.body and resp.content_type == "application/sdp":
            try:
                self.early_media = parse_sdp(resp.body)
            except SdpError as exc:
                self.note(f"bad SDP in {resp.status}: {exc}")

    def _on_invite_final(self, resp: SipResponse, *, first: bool, now: float) -> None:
        invite = self._invite_req
        assert invite is not None and self.target_addr is not None
        if resp.status >= 300:
            # RFC 3261 17.1.1.3: ACK in the same transaction, for every retransmission too
            ack = self._requests.ack_for_failure(invite, resp)
            self._send(ack, self.target_addr, now, retransmission=not first)
            if first:
                self.status, self.reason = resp.status, resp.reason
                answered = f"INVITE answered {resp.status} {resp.reason}"
                if self.state is CallState.CANCELLING:
                    if resp.status != 487:
                        self.note(f"CANCEL answered by {resp.status}, expected 487")
                    outcome, detail = self._hangup_outcome, self._hangup_detail or answered
                else:
                    outcome, detail = CallOutcome.REJECTED, answered
                self._end(Trigger.REJECTED, outcome, detail, now)
            return
        # 2xx: the dialog (RFC 3261 13.2.2.4); ACK each retransmission (13.2.2.4 too)
        to_tag = resp.to.tag
        if not first or (self.remote_tag is not None and to_tag != self.remote_tag):
            if self.remote_tag is not None and to_tag != self.remote_tag:
                self.note(f"2xx from a second fork (To tag {to_tag}) ignored")
            elif self._ack is not None:
                ack, dest = self._ack
                self._send(ack, dest, now, retransmission=True)
            return
        self.status, self.reason = resp.status, resp.reason
        self.remote_tag = to_tag
        if to_tag is None:
            self.note("2xx without a To tag")
        build = self._requests
        build.to_hdr = resp.require("To")
        contact = resp.contact
        if contact is None:
            self.note("2xx without Contact; sending in-dialog requests to the target")
            build.remote_target = str(self.target_uri)
        else:
            build.remote_target = contact.uri
        build.route_set = list(reversed(resp.header_values("Record-Route")))
        ack, dest = build.ack_for_2xx()
        self._ack = (ack, dest)
        self._send(ack, dest, now)

        if self.state is CallState.CANCELLING:
            # 200 raced our CANCEL: the call exists, end it with a BYE
            self._fire(Trigger.ACCEPTED)
            self._hangup_detail = self._hangup_detail or "we sent BYE"
            req, bye_dest = self._requests.in_dialog("BYE")
            self._bye_tx = self._start_tx(req, bye_dest, now)
            self._hangup_deadline = now + self.bye_timeout_s
            return
        if not self._fire(Trigger.ACCEPTED):
            return
        self.answered_at = now
        media: SdpMedia | None = None
        if resp.body:
            try:
                media = parse_sdp(resp.body)
            except SdpError as exc:
                self.note(f"bad SDP answer: {exc}")
        elif self.early_media is not None:
            media = self.early_media
        else:
            self.note("2xx without SDP answer")
        self._apply_remote_media(media)
        self._out.append(Answered(now))

    def _apply_remote_media(self, media: SdpMedia | None) -> None:
        self.remote_media = media
        if media is None:
            return
        if media.port == 0:
            self.note("audio stream rejected (port 0) in the answer")
            return
        if media.payload_type_for("PCMU") is None:
            self.note(f"answer does not accept PCMU: payload types {media.payload_types}")
        ev = media.payload_type_for("telephone-event")
        if ev is None:
            self.note("answer has no telephone-event: RFC 4733 keys may be ignored")
        else:
            self.event_payload_type = ev
        self.remote_rtp = (media.address, media.port)
        self._out.append(MediaUpdated(media, self.remote_rtp, self.event_payload_type))

    # ------------------------------------------------------------------ requests
    def _on_request(self, req: SipRequest, addr: Address, now: float) -> None:
        if req.method == "ACK":
            return  # the ACK for a 2xx we sent to a re-INVITE; UDP retransmission not modelled
        cached = self._responses.get(req)
        if cached is not None:
            resp, dest = cached
            self._send(resp, dest, now, retransmission=True)
            return
        refusal = judge(
            req,
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=self.remote_tag,
            last_cseq=self._remote_cseq,
        )
        if refusal is not None:
            if refusal.note is not None:
                self.note(refusal.note)
            self._respond(req, addr, refusal.status, now)
            return
        self._remote_cseq = req.cseq.number
        if req.method == "BYE":
            self.remote_bye_at = now
            self._respond(req, addr, 200, now)
            self._end(Trigger.REMOTE_BYE, CallOutcome.REMOTE_BYE, "the far end sent BYE", now)
            return
        if req.method == "REFER":
            self._on_refer(req, addr, now)
            return
        if req.method == "INVITE":
            self._on_reinvite(req, addr, now)
            return
        if req.method in ANSWERED_AT_ONCE:
            extra = (
                [("Allow", ALLOW), ("Accept", "application/sdp")] if req.method == "OPTIONS" else []
            )
            self._respond(req, addr, 200, now, extra=extra)
            return
        self.note(f"unexpected {req.method} answered 501")
        self._respond(req, addr, 501, now, extra=[("Allow", ALLOW)])

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
        if 200 <= status < 300 and self._connected:
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
        self._send(resp, addr, now)

    def _on_reinvite(self, req: SipRequest, addr: Address, now: float) -> None:
        if req.body:
            try:
                media = parse_sdp(req.body)
            except SdpError as exc:
                self.note(f"bad SDP in re-INVITE: {exc}")
                self._respond(req, addr, 488, now)
                return
            self._apply_remote_media(media)
        contact = req.contact
        if contact is not None:
            self._requests.remote_target = contact.uri
        self._sdp_version += 1
        self._respond(req, addr, 200, now, body=self._offer(), content_type="application/sdp")

    def _on_refer(self, req: SipRequest, addr: Address, now: float) -> None:
        refer = read_refer(req, now, self.refer_status)
        if refer is None:
            self.note("REFER without Refer-To answered 400")
            self._respond(req, addr, 400, now)
            return
        self.refers.append(refer)
        contact = req.contact
        if contact is not None:
            self._requests.remote_target = contact.uri  # REFER is a target refresh request
        self._respond(req, addr, self.refer_status, now)
        self._out.append(ReferArrived(refer, 200 <= self.refer_status < 300))
