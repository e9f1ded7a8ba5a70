"""How a transfer is made (`TransferSettings`) and how its failure is named: LiveKit's
`TransferReason` and the admin's `FailureKind` (grouped from the SIP status)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from router.core.model.locations import EMPTY
from router.core.model.prompts import Prompt

__all__ = ["FailureKind", "TransferReason", "TransferSettings"]


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """How a transfer is made; defaults < destination < option, merged by the loader."""

    play_dialtone: bool = False
    """Ask LiveKit to play a ring tone to the caller while the REFER is under way."""
    ringing_timeout_s: float = 30.0
    """Seconds the far end may ring before the transfer counts as unanswered."""
    headers: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    """Extra SIP headers sent with the REFER; only `X-` headers are accepted."""
    announce: Prompt | None = None
    """Played to the end before the transfer starts (never cut short by a key)."""
    hold: Prompt | None = None
    """Played to the caller, looped, from the REFER until the transfer's outcome (then
    stopped at once); heard only without `play_dialtone`, whose dial tone mutes it."""


class TransferReason(StrEnum):
    """Why LiveKit says a transfer ended without a SIP status to tell it.

    LiveKit's `SIPTransferReason` (livekit/protocol `livekit_sip.proto`), reported by
    livekit-server v1.13.6 and later in `TransferSIPParticipantResponse.reason` or in the
    `sip_transfer_reason` metadata of an error. Older servers never report one.
    """

    UNSPECIFIED = "unspecified"
    COMPLETED = "completed"
    CALL_ENDED = "call_ended"
    """The caller's call ended before the transfer completed (BYE, room deleted)."""
    REJECTED = "rejected"
    RINGING_TIMEOUT = "ringing_timeout"
    SUBSCRIPTION_TERMINATED = "subscription_terminated"
    """The far end stopped reporting progress (NOTIFY) without a final status."""
    CANCELED = "canceled"


class FailureKind(StrEnum):
    """How a transfer ended without success, grouped the way admins think of it."""

    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    ERROR = "error"

    @classmethod
    def from_sip_status(cls, status: int | None) -> FailureKind:
        """Group a SIP final status (None: no status, e.g. an API error or a time-out)."""
        return cls.classify(status, None)

    @classmethod
    def classify(cls, status: int | None, reason: TransferReason | None) -> FailureKind:
        """The one grouping of a failed transfer, whichever way LiveKit reported it.

        The far end's SIP final status decides when there is one (RFC 3261 section 21;
        486 and 600 busy, 408/480/487 unanswered); otherwise LiveKit's transfer reason
        does: a ringing time-out is no answer, a rejection without a status is a
        rejection. Anything else (no status, no reason: an API error, a bridge that
        reports neither, as livekit-sip v1.0.0 does) is an error.
        """
        if status in (486, 600):
            return cls.BUSY
        if status in (408, 480, 487):
            return cls.NO_ANSWER
        if status in (403, 404, 405, 410, 484, 488, 501, 603, 604):
            return cls.REJECTED
        if status is None and reason is TransferReason.RINGING_TIMEOUT:
            return cls.NO_ANSWER
        if status is None and reason is TransferReason.REJECTED:
            return cls.REJECTED
        return cls.ERROR
