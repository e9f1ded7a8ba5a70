"""What the dialog has to say after each input: the actions for its shell, the SIP trace
(every message in and out, with its time), and the notes on protocol errors and oddities
for the report. Sans-I/O: the shell sends what `flush` returns.
"""

from __future__ import annotations

import logging

from router.stack.sipphone.actions import Action, Send
from router.stack.sipphone.message import SipRequest, SipResponse
from router.stack.sipphone.report import Address, SipTraceEntry, format_address

__all__ = ["Outbox"]

log = logging.getLogger("router.stack.sipphone.dialog")  # the dialog's lines, as before


class Outbox:
    """One call's outbox: actions queued until `flush`, and its `trace` and `errors` kept
    for the report; `call_id` names the call in log lines."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.trace: list[SipTraceEntry] = []
        self.errors: list[str] = []
        self._actions: list[Action] = []

    def add(self, action: Action) -> None:
        self._actions.append(action)

    def send(
        self,
        msg: SipRequest | SipResponse,
        dest: Address,
        now: float,
        *,
        retransmission: bool = False,
    ) -> None:
        """Put `msg` on the SIP socket to `dest` (a `Send`), and in the trace."""
        cseq = msg.header("CSeq") or "?"
        line = f"{msg.start_line} [{cseq}]" + (" (retransmission)" if retransmission else "")
        self.trace.append(SipTraceEntry(now, ">", format_address(dest), line))
        self._actions.append(Send(msg, dest, retransmission))

    def received(self, msg: SipRequest | SipResponse, addr: Address, now: float) -> None:
        """`msg` came from `addr`: in the trace."""
        cseq = msg.header("CSeq") or "?"
        self.trace.append(
            SipTraceEntry(now, "<", format_address(addr), f"{msg.start_line} [{cseq}]")
        )

    def note(self, text: str) -> None:
        """Record a protocol error or oddity for the report."""
        log.warning("%s: %s", self.call_id, text)
        self.errors.append(text)

    def flush(self) -> list[Action]:
        """The actions queued since the last flush, in order; none queued any more."""
        out, self._actions = self._actions, []
        return out
