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

Its parts, a module each: the outbox of actions, trace and notes (``outbox``), the
SDP offer and answer (``negotiation``), the far end's requests answered (``inbound``),
the requests it sends (``requests``), its client transactions (``transaction``).

The call's states and what moves between them are one table, :data:`TRANSITIONS`
(``states``), and one method (``_fire``) changes the state, logging ``old -> new``::

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
from collections.abc import Sequence

from router.core.errors import RouterError
from router.stack.sipphone.actions import (
    Action,
    Answered,
    Ended,
    MediaStopped,
    Refer,
    Ringing,
    TransactionDone,
)
from router.stack.sipphone.inbound import ALLOW, InboundRequests
from router.stack.sipphone.message import (
    SipParseError,
    SipRequest,
    SipResponse,
    SipUri,
    new_call_id,
    new_tag,
    parse_message,
    reason_phrase,
)
from router.stack.sipphone.negotiation import MediaNegotiation
from router.stack.sipphone.outbox import Outbox
from router.stack.sipphone.report import (
    Address,
    CallOutcome,
    NotifySent,
    SipTraceEntry,
    format_address,
)
from router.stack.sipphone.requests import USER_AGENT, RequestBuilder
from router.stack.sipphone.states import TRANSITIONS, PhoneState, Trigger
from router.stack.sipphone.transaction import ClientTransaction, TimerResult, TransactionKey

__all__ = ["ALLOW", "USER_AGENT", "CallError", "Dialog"]

log = logging.getLogger(__name__)


class CallError(RouterError):
    """An action that the call's state does not allow (a key before the answer ...)."""


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
        self._out = Outbox(self.call_id)
        self._requests = RequestBuilder(
            self.target_uri,
            call_id=self.call_id,
            caller_id=caller_id,
            local_host=local_host,
            note=self.note,
        )
        self.media = MediaNegotiation(local_host, self.note)
        """The call's SDP: our offer, the far end's answer, where RTP goes."""
        self._inbound = InboundRequests(
            call_id=self.call_id,
            local_tag=self.local_tag,
            refer_status=refer_status,
            requests=self._requests,
            media=self.media,
            outbox=self._out,
        )

        self.state = PhoneState.IDLE
        self._connected = False

        self._txs: dict[TransactionKey, ClientTransaction] = {}
        self._invite_tx: ClientTransaction | None = None
        self._invite_req: SipRequest | None = None
        self._cancel_tx: ClientTransaction | None = None
        self._bye_tx: ClientTransaction | None = None
        self._ack: tuple[SipRequest, Address] | None = None
        self._notify_of: dict[TransactionKey, tuple[Refer, int]] = {}

        self._hangup_outcome = CallOutcome.LOCAL_BYE
        self._hangup_detail = ""
        self._hangup_deadline: float | None = None

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

    @property
    def local_sip(self) -> Address:
        """The SIP socket's address (port 0 until `connect`)."""
        return self._requests.local_sip

    @property
    def target_addr(self) -> Address | None:
        """Where the INVITE went (None until `connect`)."""
        return self._requests.target_addr

    @property
    def refers(self) -> list[Refer]:
        """The REFERs received, in order, with the NOTIFYs sent for each."""
        return self._inbound.refers

    @property
    def errors(self) -> list[str]:
        """Protocol errors and oddities noted for the report."""
        return self._out.errors

    @property
    def trace(self) -> list[SipTraceEntry]:
        """Every SIP message in and out, with its time."""
        return self._out.trace

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
        if not self._fire(trigger) or self.state is not PhoneState.ENDED:
            return
        self.outcome = outcome
        self.detail = detail
        self.ended_at = now
        self._hangup_deadline = None
        if self._invite_tx is not None:
            self._invite_tx.stop()
        self._out.add(MediaStopped())
        self._out.add(Ended(outcome, detail))

    def _flush(self) -> list[Action]:
        return self._out.flush()

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
        build.local_sip, self.media.local_rtp, build.target_addr = local_sip, local_rtp, target
        self._connected = self._inbound.connected = True
        req = build.invite(
            local_tag=self.local_tag,
            display_name=self.display_name,
            extra=[("Allow", ALLOW), *self.invite_headers],
            body=self.media.offer(),
        )
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
        self._out.received(msg, addr, now)
        try:
            if isinstance(msg, SipResponse):
                self._on_response(msg, now)
            elif self._inbound.handle(msg, addr, now, remote_tag=self.remote_tag):
                self.remote_bye_at = now
                self._end(Trigger.REMOTE_BYE, CallOutcome.REMOTE_BYE, "the far end sent BYE", now)
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
                self._out.send(tx.request, tx.dest, now, retransmission=True)
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
        if self.state is PhoneState.CONFIRMED:
            self._fire(Trigger.BYE)
            self._out.add(MediaStopped())
            self._hangup_outcome, self._hangup_detail = outcome, detail or "we sent BYE"
            req, dest = self._requests.in_dialog("BYE")
            self._bye_tx = self._start_tx(req, dest, now)
            self._hangup_deadline = now + self.bye_timeout_s
        elif self.state in (PhoneState.CALLING, PhoneState.PROCEEDING):
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
            if self.state is PhoneState.CONFIRMED:
                req, dest = self._requests.in_dialog("BYE")
                self._out.send(req, dest, now)
            elif (
                self.state in (PhoneState.CALLING, PhoneState.PROCEEDING)
                and self._invite_tx is not None
                and self._invite_tx.got_provisional
            ):
                self._out.send(self._requests.cancel(self._invite()), self.target_addr, now)
        self._end(Trigger.GIVE_UP, CallOutcome.ERROR, "closed before the call ended", now)
        return self._flush()

    def notify(
        self, refer: Refer, status: int, subscription_state: str, now: float
    ) -> tuple[list[Action], TransactionKey]:
        """Send a NOTIFY with a sipfrag of ``status`` for ``refer`` (RFC 3515)."""
        frag = f"SIP/2.0 {status} {reason_phrase(status)}"
        req, dest = self._requests.notify(refer.cseq, frag, subscription_state)
        tx = self._start_tx(req, dest, now)
        refer.notifies.append(NotifySent(frag, status, subscription_state, now, None))
        self._notify_of[tx.key] = (refer, len(refer.notifies) - 1)
        return self._flush(), tx.key

    def note(self, text: str) -> None:
        """Record a protocol error or oddity for the report."""
        self._out.note(text)

    @property
    def invite_retransmissions(self) -> int:
        return self._invite_tx.retransmissions if self._invite_tx else 0

    def pending_transactions(self) -> list[TransactionKey]:
        """Non-INVITE client transactions still waiting for an answer."""
        return [k for k, tx in self._txs.items() if not tx.invite and not tx.terminated]

    # ------------------------------------------------------------------ sending
    def _start_tx(self, req: SipRequest, dest: Address, now: float) -> ClientTransaction:
        tx = ClientTransaction(req, dest, now)
        self._txs[tx.key] = tx
        self._out.send(req, dest, now)
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
        self._out.add(TransactionDone(tx.key, resp))
        if tx is self._invite_tx:
            if resp is None and not tx.got_provisional and self.state is not PhoneState.ENDED:
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
            if self.state is PhoneState.TERMINATING:
                self._end(Trigger.BYE_ANSWERED, self._hangup_outcome, self._hangup_detail, now)

    def _hangup_timed_out(self, now: float) -> None:
        if self.state is PhoneState.TERMINATING:
            self.note("no answer to our BYE")
            self._end(Trigger.NO_ANSWER, self._hangup_outcome, self._hangup_detail, now)
        elif self.state is PhoneState.CANCELLING:
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
            self._out.add(Ringing(now))
        if resp.body and resp.content_type == "application/sdp":
            self.media.provisional(resp.status, resp.body)

    def _on_invite_final(self, resp: SipResponse, *, first: bool, now: float) -> None:
        invite = self._invite_req
        assert invite is not None and self.target_addr is not None
        if resp.status >= 300:
            # RFC 3261 17.1.1.3: ACK in the same transaction, for every retransmission too
            ack = self._requests.ack_for_failure(invite, resp)
            self._out.send(ack, self.target_addr, now, retransmission=not first)
            if first:
                self.status, self.reason = resp.status, resp.reason
                answered = f"INVITE answered {resp.status} {resp.reason}"
                if self.state is PhoneState.CANCELLING:
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
                self._out.send(ack, dest, now, retransmission=True)
            return
        self.status, self.reason = resp.status, resp.reason
        self.remote_tag = to_tag
        if to_tag is None:
            self.note("2xx without a To tag")
        ack, dest = self._requests.confirm(resp)
        self._ack = (ack, dest)
        self._out.send(ack, dest, now)

        if self.state is PhoneState.CANCELLING:
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
        update = self.media.final(resp.body)
        if update is not None:
            self._out.add(update)
        self._out.add(Answered(now))
