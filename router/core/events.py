"""What the navigator is told (events) and what it asks for (effects).

The navigator never does anything itself: the runtime (or the simulator, or a test)
feeds it events with the current time and carries out the effects it returns, in
order. Time is a float of seconds on any monotonic clock the caller chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from router.core.keys import Key
from router.core.model import FailureKind, Prompt, TransferReason, TransferSettings

__all__ = [
    "CallEnded",
    "CallStarted",
    "CancelTimer",
    "DigitPressed",
    "Effect",
    "EndReason",
    "Event",
    "Hangup",
    "Note",
    "NoteKind",
    "Play",
    "PlaybackFinished",
    "StartTimer",
    "StopPlayback",
    "TimerFired",
    "TimerKind",
    "TransferFailed",
    "TransferSucceeded",
    "TransferTo",
]


class TimerKind(StrEnum):
    """The navigator's timers; at most one of each kind is armed at a time."""

    FIRST_DIGIT = "first_digit"
    """Silence after a prompt ends: no input."""
    INTER_DIGIT = "inter_digit"
    """Silence between keys of an extension: the entry is finished."""
    CALL_LIMIT = "call_limit"
    """The longest a call may last (`CallCaps.max_call_seconds`)."""


# --- events in ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted:
    dialled: str | None
    """The number the caller dialled (`sip.trunkPhoneNumber`), if known."""
    at: datetime
    """Wall-clock time of the call, aware, for opening hours."""
    now: float


@dataclass(frozen=True, slots=True)
class DigitPressed:
    key: Key
    now: float


@dataclass(frozen=True, slots=True)
class TimerFired:
    timer: TimerKind
    now: float


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    play_id: int
    """The id of the `Play` effect whose prompts have all been heard."""
    now: float


@dataclass(frozen=True, slots=True)
class TransferSucceeded:
    now: float


@dataclass(frozen=True, slots=True)
class TransferFailed:
    sip_status: int | None
    """The final SIP status the far end gave, if any."""
    reason: str
    """What LiveKit said, in a few words (for records and logs)."""
    now: float
    transfer_reason: TransferReason | None = None
    """LiveKit's own reason (servers v1.13.6 and later), if it gave one."""

    @property
    def kind(self) -> FailureKind:
        """Which of the file's failure policies runs (`FailureKind.classify`)."""
        return FailureKind.classify(self.sip_status, self.transfer_reason)


class EndReason(StrEnum):
    TRANSFERRED = "transferred"
    HANGUP = "hangup"
    """The menu hung up (a hangup option, a limit, a failure policy)."""
    CALLER_HANGUP = "caller_hangup"
    LEFT_BEFORE_JOIN = "left_before_join"
    """The caller had hung up before the router joined the call's room."""
    LEFT_BEFORE_ANSWER = "left_before_answer"
    """The caller hung up before the SIP bridge reported the call answered."""
    DROPPED = "dropped"
    """The SIP bridge ended the call without the caller hanging up (livekit-sip: no RTP
    from the caller within its media timeout)."""
    CONNECTION_LOST = "connection_lost"
    """The router lost LiveKit (server gone, network down) and could not get it back."""
    SHUTDOWN = "shutdown"
    """The router stopped before the call ended (after its drain time)."""
    CALL_LIMIT = "call_limit"
    KEY_LIMIT = "key_limit"
    TRANSFER_LIMIT = "transfer_limit"


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over from outside the menu (the caller hung up, the room or LiveKit went
    away, the router is stopping); nothing more can be played."""

    now: float
    reason: EndReason = EndReason.CALLER_HANGUP


Event = (
    CallStarted
    | DigitPressed
    | TimerFired
    | PlaybackFinished
    | TransferSucceeded
    | TransferFailed
    | CallEnded
)


# --- effects out ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Play these prompts in order; report `PlaybackFinished(play_id)` when all are heard."""

    prompts: tuple[Prompt, ...]
    play_id: int
    interruptible: bool = True
    """False for announcements that must be heard to the end (keys are then ignored)."""


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """Cut the current prompt short (barge-in)."""


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)arm a timer; an armed timer of the same kind is replaced."""

    timer: TimerKind
    deadline: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer: TimerKind


@dataclass(frozen=True, slots=True)
class TransferTo:
    """Ask LiveKit to cold-transfer the caller; answer with TransferSucceeded/Failed."""

    target: str
    settings: TransferSettings
    destination: str | None = None
    via: str | None = None
    """For an extension: the directory entry it was dialled through (`staff:6xxx`)."""


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call (after any goodbye has been played and reported finished)."""

    reason: EndReason


class NoteKind(StrEnum):
    MENU_ENTERED = "menu_entered"
    KEY = "key"
    INVALID = "invalid"
    NO_INPUT = "no_input"
    LIMIT_REACHED = "limit_reached"
    TRANSFER_STARTED = "transfer_started"
    TRANSFER_FAILED = "transfer_failed"
    TRANSFER_SUCCEEDED = "transfer_succeeded"
    IGNORED_KEY = "ignored_key"
    DUPLICATE_KEY = "duplicate_key"
    """The same key again within `KEY_REPEAT_WINDOW`: a copy from the bridge, dropped."""
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth recording about the call; changes nothing (call records, metrics, logs)."""

    kind: NoteKind
    now: float
    detail: str = ""
    """Human-readable specifics: the key, the entry, the target, the limit, the end reason."""
    menu: str | None = None
    """The menu the call was in when it happened."""
    sip_status: int | None = None
    """For TRANSFER_FAILED: the final SIP status, if the far end gave one."""
    destination: str | None = None
    """For TRANSFER_STARTED: the destination's name or the directory entry (`staff:6xxx`)
    the transfer came from, if any: how records and metrics name it."""
    failure: FailureKind | None = None
    """For TRANSFER_FAILED: the failure's kind (`FailureKind.classify`)."""


Effect = Play | StopPlayback | StartTimer | CancelTimer | TransferTo | Hangup | Note
