"""What the sans-I/O dialog asks its shell to do: one frozen dataclass per action.

:class:`router.stack.sipphone.dialog.Dialog` returns a list of :data:`Action` from every
input; :mod:`router.stack.sipphone.phone` carries them out (sockets, RTP, timers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.stack.sipphone.message import SipRequest, SipResponse
from router.stack.sipphone.report import Address, CallOutcome, NotifySent, ReferReceived
from router.stack.sipphone.sdp import SdpMedia
from router.stack.sipphone.transaction import TransactionKey

__all__ = [
    "Action",
    "Answered",
    "Ended",
    "MediaStopped",
    "MediaUpdated",
    "Refer",
    "ReferArrived",
    "Ringing",
    "Send",
    "TransactionDone",
]


@dataclass(frozen=True)
class Send:
    """Put this message on the SIP socket."""

    message: SipRequest | SipResponse
    dest: Address
    retransmission: bool = False


@dataclass(frozen=True)
class Ringing:
    """The first 180 or 183 arrived."""

    at: float


@dataclass(frozen=True)
class Answered:
    """The call is confirmed (2xx received and ACKed)."""

    at: float


@dataclass(frozen=True)
class MediaUpdated:
    """The far end's media is (now) known: start sending RTP, or follow the change."""

    media: SdpMedia
    remote_rtp: Address
    event_payload_type: int


@dataclass(frozen=True)
class MediaStopped:
    """Stop sending RTP (BYE sent, or the call ended)."""


@dataclass(frozen=True)
class ReferArrived:
    """An in-dialog REFER was answered; when accepted, NOTIFYs are the shell's to time."""

    refer: Refer
    accepted: bool


@dataclass(frozen=True)
class TransactionDone:
    """A client transaction ended: its final response, or None (timed out)."""

    key: TransactionKey
    response: SipResponse | None


@dataclass(frozen=True)
class Ended:
    """The call is over."""

    outcome: CallOutcome
    detail: str


Action = (
    Send | Ringing | Answered | MediaUpdated | MediaStopped | ReferArrived | TransactionDone | Ended
)


@dataclass
class Refer:
    """A REFER as received, and the NOTIFYs sent for it so far."""

    received_at: float
    refer_to: str
    referred_by: str | None
    x_headers: dict[str, str]
    headers: tuple[tuple[str, str], ...]
    cseq: int
    response_status: int
    notifies: list[NotifySent] = field(default_factory=list)

    def freeze(self) -> ReferReceived:
        return ReferReceived(
            received_at=self.received_at,
            refer_to=self.refer_to,
            referred_by=self.referred_by,
            x_headers=dict(self.x_headers),
            headers=self.headers,
            cseq=self.cseq,
            response_status=self.response_status,
            notifies=tuple(self.notifies),
        )
