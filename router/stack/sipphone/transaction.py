"""The SIP transaction layer over UDP, sans-I/O (RFC 3261 section 17).

A :class:`ClientTransaction` is one request we sent and its retransmission timers:
timer A/E doubling from T1 (E capped at T2), timer B/F giving up after 64*T1.  It is
told the time (``on_timer(now)``) and the responses that match it; it answers with
what to do (retransmit, time out) and never touches a socket.  An INVITE stops
retransmitting on its first provisional response: from then on the dialog's own
deadlines (the script's timeout, CANCEL) cover it.

:class:`ResponseCache` is the server side a phone needs: the response we gave to a
request, resent unchanged when the far end retransmits that request.
"""

from __future__ import annotations

import enum

from router.stack.sipphone.message import SipRequest, SipResponse
from router.stack.sipphone.report import Address

__all__ = [
    "T1",
    "T2",
    "TX_TIMEOUT_S",
    "ClientTransaction",
    "ResponseCache",
    "TimerResult",
    "TransactionKey",
]

T1 = 0.5
"""RFC 3261 round-trip estimate: first retransmission interval."""
T2 = 4.0
"""RFC 3261 cap on non-INVITE retransmission intervals."""
TX_TIMEOUT_S = 64 * T1
"""Timers B and F: give up on a transaction after 32 s."""

TransactionKey = tuple[str, str]
"""How a response finds its client transaction: the top Via branch and the CSeq method."""


class TimerResult(enum.Enum):
    """What a fired timer asks of the transport."""

    RETRANSMIT = "retransmit"
    """Send ``request`` again (timer A or E)."""
    TIMED_OUT = "timed_out"
    """No final response in time (timer B or F); the transaction is over."""


class ClientTransaction:
    """One request we sent (17.1.1 INVITE, 17.1.2 non-INVITE), time passed in."""

    def __init__(self, request: SipRequest, dest: Address, now: float) -> None:
        self.request = request
        self.dest = dest
        self.method = request.method
        self.branch = request.top_via.branch or ""
        self.invite = request.method == "INVITE"
        self.response: SipResponse | None = None
        """The first final response, once one arrived."""
        self.got_provisional = False
        self.terminated = False
        """A final response arrived, the transaction timed out, or it was stopped."""
        self.timed_out = False
        self.retransmissions = 0
        self._interval = T1
        self._next_send = now + T1
        self._give_up = now + TX_TIMEOUT_S

    @property
    def key(self) -> TransactionKey:
        return (self.branch, self.method)

    def next_deadline(self) -> float | None:
        """When :meth:`on_timer` has something to do; None when nothing is pending."""
        if self.terminated or (self.invite and self.got_provisional):
            return None
        return min(self._next_send, self._give_up)

    def on_timer(self, now: float) -> TimerResult | None:
        deadline = self.next_deadline()
        if deadline is None or now < deadline:
            return None
        if now >= self._give_up:
            self.terminated = True
            self.timed_out = True
            return TimerResult.TIMED_OUT
        self.retransmissions += 1
        if not self.invite and self.got_provisional:
            self._interval = T2
        elif self.invite:
            self._interval *= 2
        else:
            self._interval = min(self._interval * 2, T2)
        self._next_send = now + self._interval
        return TimerResult.RETRANSMIT

    def on_response(self, response: SipResponse) -> bool:
        """Take a matching response; True when it is the transaction's first final one."""
        if response.status < 200:
            self.got_provisional = True
            return False
        if self.terminated:
            return False
        self.response = response
        self.terminated = True
        return True

    def stop(self) -> None:
        """Give up without a final response (the call ended); later answers are late."""
        self.terminated = True


class ResponseCache:
    """Our answers to the far end's requests, by (branch, method, CSeq number)."""

    def __init__(self) -> None:
        self._sent: dict[tuple[str, str, int], tuple[SipResponse, Address]] = {}

    @staticmethod
    def _key(request: SipRequest) -> tuple[str, str, int]:
        return (request.top_via.branch or "", request.method, request.cseq.number)

    def get(self, request: SipRequest) -> tuple[SipResponse, Address] | None:
        """The answer already given to this request, if it is a retransmission."""
        return self._sent.get(self._key(request))

    def put(self, request: SipRequest, response: SipResponse, dest: Address) -> None:
        self._sent[self._key(request)] = (response, dest)
