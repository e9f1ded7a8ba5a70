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
    "AnyNote",
    "CallEnded",
    "CallerMatched",
    "CallFinished",
    "DuplicateKey",
    "EnteredBy",
    "ExtensionDialled",
    "InvalidEntry",
    "KeyIgnored",
    "KeyPressed",
    "LanguageChosen",
    "Limit",
    "LimitReached",
    "MenuEntered",
    "NoInput",
    "OptionChosen",
    "TransferConnected",
    "TransferFailure",
    "TransferStarted",
    "CallStarted",
    "CancelTimer",
    "DigitPressed",
    "Disconnect",
    "Effect",
    "EndReason",
    "Event",
    "Note",
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
    """The longest a call may last (`CallCaps.max_call_s`)."""


# --- events in ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted:
    dialled: str | None
    """The number the caller dialled (`sip.trunkPhoneNumber`), if known."""
    at: datetime
    """Wall-clock time of the call, aware, for opening hours."""
    now: float
    caller: str | None = None
    """The caller's number (`sip.phoneNumber`) as the bridge gave it, matched against the
    file's caller rules: `anonymous` (or empty) for a withheld number; None when there is
    no phone caller to judge (a browser caller, a test that does not say): no rule
    applies."""
    language: str | None = None
    """The language to start in, over the caller rule's and the number's (`router simulate
    --language`, a test case's `language:`); the runtime leaves it None."""


@dataclass(frozen=True, slots=True)
class DigitPressed:
    key: Key
    now: float
    arrived: float | None = None
    """When the key reached the process, on the same clock as `now` and not after it, if
    the runtime knows it earlier than `now` (the rtc library's thread, `fanout.py`): a
    key's copies are told by it, so presses that a stalled event loop hands over
    together stay presses (reliability.md, finding 23). None: `now`."""


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
    inferred: str | None = None
    """Why the runtime takes the transfer for a success when LiveKit gave no outcome (the
    caller left after LiveKit stopped waiting: maybe the REFER completing late, maybe the
    caller's leg cut some other way); None when LiveKit answered success."""


@dataclass(frozen=True, slots=True)
class TransferFailed:
    sip_status: int | None
    """The final SIP status the far end gave, if any."""
    reason: str
    """What LiveKit said, in a few words (for records and logs)."""
    now: float
    transfer_reason: TransferReason | None = None
    """LiveKit's own reason (servers v1.13.6 and later), if it gave one."""
    leg_closed: bool = False
    """The SIP bridge refused the REFER because the caller's dialog is gone: it is hanging
    up (livekit/sip `pkg/sip/inbound.go` `newReferReq`: "can't transfer non established
    call" once the BYE has dropped the INVITE; the router transfers answered calls only)."""

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
    loop: bool = False
    """Play the prompts again and again until stopped (hold audio while a transfer
    rings); `PlaybackFinished` never comes."""


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
class Disconnect:
    """End the call: the runtime removes the caller (the SIP bridge sends BYE), after any
    goodbye has been played and reported finished. The menu action that leads here is
    `router.core.model.Hangup`; this is the effect, named as telephony names the act."""

    reason: EndReason


# --- notes: what happened, for whoever keeps count ------------------------------------


@dataclass(frozen=True, slots=True)
class Note:
    """Something worth recording about the call; changes nothing (records, metrics,
    traces, the trial page, `router simulate` and `router test` read them).

    Every note is one of the frozen dataclasses below (the `AnyNote` union), each
    carrying the time and the menu the call was in, and its own typed fields:

        Note(now, menu)
        ├── CallerMatched(rule)              a caller rule decides the start
        ├── LanguageChosen(language)         the call's language, at the start or a switch
        ├── MenuEntered(how, dialled)        a menu's visit starts
        ├── KeyPressed(key)                  a key the menu acts on
        ├── OptionChosen(key)                ... that ran one of the menu's options
        ├── ExtensionDialled(digits, directory, pattern)   an entry of a directory
        ├── InvalidEntry(entry)              a key or an entry that names nothing
        ├── NoInput()                        silence until FIRST_DIGIT fired
        ├── LimitReached(limit)              a menu's limit or a cap of the call
        ├── KeyIgnored(key)                  a key while the router is not listening
        ├── DuplicateKey(key)                a bridge's copy of the last key, dropped
        ├── TransferStarted(target, destination)
        ├── TransferConnected(target)        the answer `TransferSucceeded`
        ├── TransferFailure(kind, sip_status, reason)   the answer `TransferFailed`
        └── CallFinished(reason)             the end, whoever ended it
    """

    now: float
    menu: str | None
    """The menu the call was in when it happened (None before the first one)."""


class EnteredBy(StrEnum):
    """How a menu was entered."""

    START = "start"
    """The call's first menu (`MenuEntered.dialled` says for which number)."""
    CALLER = "caller"
    """The first menu, chosen by a caller rule (`CallerMatched` just before)."""
    GOTO = "goto"
    BACK = "back"
    TOP = "top"


class Limit(StrEnum):
    """The limits and caps a call can reach (`LimitReached.limit`; `limits[].limit` in
    call records)."""

    INVALID = "invalid"
    """The menu's `limits.invalid` wrong entries in a row."""
    NO_INPUT = "no_input"
    """The menu's `limits.no_input` silences in a row."""
    TRANSFERS = "transfers"
    """`CallCaps.max_transfers`."""
    KEYS = "keys"
    """`CallCaps.max_keys`."""
    CALL_LENGTH = "call_length"
    """`CallCaps.max_call_s`."""


@dataclass(frozen=True, slots=True)
class CallerMatched(Note):
    """A caller rule matched the caller's number; its action (menu, transfer, hangup)
    follows. Names the rule, never the caller's digits."""

    rule: str
    """The rule's name, or `callers[N]`."""


@dataclass(frozen=True, slots=True)
class LanguageChosen(Note):
    """The caller's language from now on (a file with `languages` only): at the start
    (the default, the number's, or a caller rule's) and at each switch by an option."""

    language: str


@dataclass(frozen=True, slots=True)
class MenuEntered(Note):
    """`menu` is the menu entered."""

    how: EnteredBy
    dialled: str | None = None
    """For the first menu: the number dialled (None: the default entry)."""


@dataclass(frozen=True, slots=True)
class KeyPressed(Note):
    """A key the menu acts on (counted against `CallCaps.max_keys`)."""

    key: Key


@dataclass(frozen=True, slots=True)
class OptionChosen(Note):
    """The key ran the menu's option for it (after its `KeyPressed`, or at the end of
    an entry in a menu with a directory)."""

    key: Key


@dataclass(frozen=True, slots=True)
class ExtensionDialled(Note):
    """The digits dialled name an entry of the menu's directory; its transfer follows."""

    digits: str
    directory: str
    pattern: str
    """The entry, as the file writes it (`5001`, `5100-5199`, `6xxx`)."""


@dataclass(frozen=True, slots=True)
class InvalidEntry(Note):
    entry: str
    """The key, or the digits of an entry, that named nothing."""


@dataclass(frozen=True, slots=True)
class NoInput(Note):
    """FIRST_DIGIT fired: no key after the prompt."""


@dataclass(frozen=True, slots=True)
class LimitReached(Note):
    limit: Limit


@dataclass(frozen=True, slots=True)
class KeyIgnored(Note):
    """A key while an announcement or a goodbye plays, or a transfer is out."""

    key: Key


@dataclass(frozen=True, slots=True)
class DuplicateKey(Note):
    """The same key again within `KEY_REPEAT_WINDOW_S`: a copy from the bridge, dropped."""

    key: Key


@dataclass(frozen=True, slots=True)
class TransferStarted(Note):
    """A transfer was chosen (any announcement plays before `TransferTo` goes out)."""

    target: str
    destination: str | None = None
    """The destination's name or the directory entry (`staff:6xxx`) the transfer came
    from, if any: how records and metrics name it."""


@dataclass(frozen=True, slots=True)
class TransferConnected(Note):
    """The transfer succeeded (the event `TransferSucceeded`)."""

    target: str
    inferred: str | None = None
    """`TransferSucceeded.inferred`: a success nobody confirmed, and why it was taken for one."""


@dataclass(frozen=True, slots=True)
class TransferFailure(Note):
    """The transfer failed (the event `TransferFailed`); the policy for `kind` runs."""

    kind: FailureKind
    sip_status: int | None
    """The far end's final SIP status, if it gave one."""
    reason: str
    """What LiveKit said, in a few words."""

    @property
    def summary(self) -> str:
        """`busy 486: what LiveKit said` (`-` for no status): a call record's `detail`."""
        status = "-" if self.sip_status is None else str(self.sip_status)
        return f"{self.kind.value} {status}: {self.reason}"


@dataclass(frozen=True, slots=True)
class CallFinished(Note):
    """The call is over: the navigator ended it, or `CallEnded` said it was."""

    reason: EndReason


AnyNote = (
    CallerMatched
    | LanguageChosen
    | MenuEntered
    | KeyPressed
    | OptionChosen
    | ExtensionDialled
    | InvalidEntry
    | NoInput
    | LimitReached
    | KeyIgnored
    | DuplicateKey
    | TransferStarted
    | TransferConnected
    | TransferFailure
    | CallFinished
)
"""Every kind of note; consumers `match` on it."""


Effect = Play | StopPlayback | StartTimer | CancelTimer | TransferTo | Disconnect | AnyNote
