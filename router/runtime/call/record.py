"""One call, one record: the call's record written once, whether its menu ran or the call
ended before it started (unanswered).

The recorder (router/runtime/records) builds a record from the navigator's notes; this
module gives a call its recorder, and writes the record once to the sink, counting the
call's end in the metrics. A call that ended before its menu started (the caller hung
up before the router joined or before the answer, the bridge dropped it, the router lost
LiveKit or stopped meanwhile) gets a record too, with the reason named
(`left_before_join`, `left_before_answer` ...), and a log line saying it in words.
"""

from __future__ import annotations

import logging
from datetime import datetime

from livekit import rtc

from router.core.events import EndReason
from router.runtime.metrics import Metrics
from router.runtime.records import CallRecord, CallRecorder, RecordSink

__all__ = ["OneRecord"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split

_UNANSWERED = {
    EndReason.LEFT_BEFORE_JOIN: "the caller hung up before the router joined",
    EndReason.LEFT_BEFORE_ANSWER: "the caller hung up before the call was answered",
    EndReason.DROPPED: "the SIP bridge dropped the call before it was answered",
    EndReason.CONNECTION_LOST: "LiveKit was lost before the call was answered",
    EndReason.SHUTDOWN: "the router stopped before the call was answered",
}
"""Log lines of the calls that end before their menu starts."""


class OneRecord:
    """The record of one call: its recorder made, its line written once (`written`).

    `received_at` (wall clock) and `received_s` (loop time, seconds) are when the router
    got the call; `label` is the room as logs name it (masked); `mask_caller` keeps the
    caller's number out of the record.
    """

    def __init__(
        self,
        *,
        sink: RecordSink | None,
        metrics: Metrics,
        label: str,
        menu_version: str,
        received_at: datetime,
        received_s: float,
        mask_caller: bool,
    ) -> None:
        self.sink = sink
        """Where the record's line goes (None: nowhere, the record only returned)."""
        self._metrics = metrics
        self._label = label
        self._menu_version = menu_version
        self._received_at = received_at
        self._received_s = received_s
        self._mask_caller = mask_caller
        self.written: CallRecord | None = None
        """The call's record once written: one call, one record (`write`)."""

    def recorder_for(
        self, caller: rtc.RemoteParticipant | None, *, answered_s: float | None
    ) -> CallRecorder:
        """A recorder for the call of `caller` (None: nobody came), answered at loop time
        `answered_s` (None: not answered)."""
        attrs = caller.attributes if caller is not None else {}
        return CallRecorder(
            call_id=attrs.get("sip.callID") or self._label,
            room=self._label,
            dialled=attrs.get("sip.trunkPhoneNumber") or None,
            caller=attrs.get("sip.phoneNumber") or None,
            menu_version=self._menu_version,
            started_at=self._received_at,
            started=self._received_s,
            mask_caller=self._mask_caller,
            answered=answered_s,
        )

    def write(self, recorder: CallRecorder, ended_s: float) -> CallRecord:
        """Write the record `recorder` holds, the call ended at loop time `ended_s`; its
        `end_reason` must be set. Counted in the metrics (`call_ended`). Returns the record
        as typed values (the sink alone turns it into its JSON line)."""
        assert recorder.end_reason is not None
        self._metrics.call_ended(recorder.end_reason)
        record = recorder.record(ended_s)
        if self.sink is not None:
            self.sink.write(record)
        self.written = record
        return record

    def unanswered(
        self,
        caller: rtc.RemoteParticipant | None,
        reason: EndReason | None,
        *,
        answered_s: float | None,
        ended_s: float,
    ) -> CallRecord:
        """The record of a call that ended before its menu started, for `reason` (None or
        `CALLER_HANGUP`: named by whether the caller had come, `caller`); the one already
        written, if any."""
        if self.written is not None:
            return self.written
        recorder = self.recorder_for(caller, answered_s=answered_s)
        reason = reason or EndReason.CALLER_HANGUP
        if reason is EndReason.CALLER_HANGUP:
            reason = EndReason.LEFT_BEFORE_JOIN if caller is None else EndReason.LEFT_BEFORE_ANSWER
        recorder.end_reason = reason
        log.info(
            "call %s: %s, after %.1f s",
            recorder.call_id,
            _UNANSWERED.get(reason, reason.value),
            ended_s - self._received_s,
        )
        return self.write(recorder, ended_s)
