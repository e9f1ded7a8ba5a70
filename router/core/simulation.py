"""One call through the navigator with no phone: the simulated-call driver.

A virtual clock that moves only when the caller does something or a timer fires,
prompts that end the moment they start, and a far end that answers transfers from a
script. `router simulate` prints such a call, `router test` follows it, the core tests
drive it a step at a time, and the navigator benchmark uses it to bring calls to the
point it times. Sans-I/O like the navigator: nothing sleeps, nothing is awaited.

    call = SimulatedCall(menu_file, results=[ScriptedTransfer.parse("486")])
    call.start("+15105550150", at)      # the greeting is heard at once
    call.press(Key.D2)                  # a key, a little later
    call.wait()                         # silence: the armed timer fires at its deadline

With `instant=False` nothing is answered by itself: `finish_prompt()` ends the last
prompt and `answer()` gives the transfer's outcome, so a test can stop between steps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from router.core.events import (
    AnyNote,
    CallEnded,
    CallStarted,
    DigitPressed,
    Disconnect,
    Effect,
    EndReason,
    Event,
    Note,
    Play,
    PlaybackFinished,
    TimerFired,
    TimerKind,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import MenuFile, TransferReason
from router.core.navigator import DEFAULT_CAPS, CallCaps, CallState, Navigator

__all__ = ["KEY_GAP_S", "MAX_EVENTS", "Observer", "SimulatedCall", "ScriptedTransfer"]

KEY_GAP_S = 1.0
"""Simulated seconds between two keys (less if a timer would fire first)."""
MAX_EVENTS = 100_000
"""A guard only: the navigator's caps end every call long before this."""

Observer = Callable[[Event, Sequence[Effect]], None]
"""Told every event fed to the navigator and the effects it answered, in order."""


@dataclass(frozen=True, slots=True)
class ScriptedTransfer:
    """How a simulated transfer ends: success, or a failure with a SIP status (or none)."""

    ok: bool
    sip_status: int | None = None
    reason: str = "simulated"
    """What the far end is said to have answered (a failure's `reason`)."""
    transfer_reason: TransferReason | None = None
    """LiveKit's own reason for a failure: `RINGING_TIMEOUT` is a ring-out (no final NOTIFY
    before the ringing timeout), which the router reads from LiveKit giving up."""

    @classmethod
    def parse(cls, text: str) -> ScriptedTransfer:
        """`ok`, `error` or a SIP status 300-699, as `router simulate` and test files write it."""
        word = text.strip().lower()
        if word in ("ok", "success", "succeeded", "200"):
            return cls(True)
        if word in ("error", "none", "fail", "failed"):
            return cls(False)
        if word.isdigit() and 300 <= int(word) <= 699:
            return cls(False, int(word))
        raise ValueError(f"not a transfer result: {text!r} (ok, error, or a SIP status 300-699)")

    def event(self, now: float) -> TransferSucceeded | TransferFailed:
        if self.ok:
            return TransferSucceeded(now)
        return TransferFailed(self.sip_status, self.reason, now, self.transfer_reason)


_OK = (ScriptedTransfer(True),)


class SimulatedCall:
    """The navigator with a virtual clock, an instant player and a scripted far end."""

    def __init__(
        self,
        menu_file: MenuFile,
        *,
        caps: CallCaps = DEFAULT_CAPS,
        results: Sequence[ScriptedTransfer] = _OK,
        instant: bool = True,
        observe: Observer | None = None,
    ) -> None:
        self.nav = Navigator(menu_file, caps=caps)
        self.now = 0.0
        """The virtual clock, in seconds."""
        self.results = tuple(results) or _OK
        """How transfers end, in turn; the last one repeats."""
        self.instant = instant
        """Prompts end and transfers are answered the moment they start."""
        self.observe = observe
        self.seen: list[Effect] = []
        """Every effect of the call, in order."""
        self.transfers = 0
        """Transfers the far end was asked for."""
        self.target: str | None = None
        """The target of the latest transfer."""
        self.hangup: EndReason | None = None
        """The reason of the navigator's `Disconnect`, once it asked for one."""
        self.events = 0
        self.runaway = False
        """The call went on for `MAX_EVENTS` events without ending (a guard only)."""
        self.playing: int | None = None
        """The latest prompt, while it has not been reported heard to its end."""
        self._latest_play: int | None = None

    @property
    def ended(self) -> bool:
        """The call is over (or was stopped for running away)."""
        return self.runaway or self.nav.state is CallState.ENDED

    # --- what happens to the call ----------------------------------------------------

    def start(
        self,
        dialled: str | None,
        at: datetime,
        caller: str | None = None,
        language: str | None = None,
    ) -> list[Effect]:
        """The call arrives: the number dialled, when, the caller's number (`anonymous`:
        withheld; None: no caller rule applies) and a language to start in (None: the
        file's, the number's or the caller rule's)."""
        return self.feed(CallStarted(dialled, at, self.now, caller, language))

    def press(self, key: Key, gap_s: float | None = None) -> list[Effect]:
        """A key, `gap_s` seconds on (by default `KEY_GAP_S`, or half the time left before
        the next timer fires, so that a key never comes after a time-out it beat)."""
        if gap_s is None:
            armed = self.nav.next_deadline()
            gap_s = KEY_GAP_S if armed is None else min(KEY_GAP_S, (armed[1] - self.now) / 2)
        self.now += gap_s
        return self.feed(DigitPressed(key, self.now))

    def fire(self, timer: TimerKind) -> list[Effect]:
        """This armed timer fires at its deadline (the clock jumps there if it is ahead)."""
        self.now = max(self.now, self.nav.timers[timer])
        return self.feed(TimerFired(timer, self.now))

    def wait(self) -> list[Effect] | None:
        """Silence: the clock jumps to the earliest armed timer, which fires; None if
        no timer is armed (never while a call lasts: CALL_LIMIT is)."""
        armed = self.nav.next_deadline()
        if armed is None:
            return None
        self.now = max(self.now, armed[1])
        return self.feed(TimerFired(armed[0], self.now))

    def finish_prompt(self) -> list[Effect]:
        """The latest prompt has been heard to its end."""
        assert self._latest_play is not None, "nothing was played"
        self.playing = None
        return self.feed(PlaybackFinished(self._latest_play, self.now))

    def answer(self, result: ScriptedTransfer) -> list[Effect]:
        """The far end answers the transfer that is out."""
        return self.feed(result.event(self.now))

    def hang_up(self, reason: EndReason = EndReason.CALLER_HANGUP) -> list[Effect]:
        """The call ends from outside (the caller hangs up, by default)."""
        return self.feed(CallEnded(self.now, reason))

    def feed(self, first: Event) -> list[Effect]:
        """Hand an event to the navigator and, when `instant`, answer the prompts and
        transfers it starts at once; return every effect, in order."""
        out: list[Effect] = []
        queue: deque[Event] = deque([first])
        while queue:
            if self.events >= MAX_EVENTS:
                self.runaway = True
                break
            self.events += 1
            event = queue.popleft()
            effects = self.nav.handle(event)
            self.seen += effects
            out += effects
            if self.observe is not None:
                self.observe(event, effects)
            for effect in effects:
                if isinstance(effect, Play):
                    if effect.loop:  # hold audio: it plays until the transfer's outcome
                        continue
                    self._latest_play = effect.play_id
                    if self.instant:
                        queue.append(PlaybackFinished(effect.play_id, self.now))
                    else:
                        self.playing = effect.play_id
                elif isinstance(effect, TransferTo):
                    result = self.results[min(self.transfers, len(self.results) - 1)]
                    self.transfers += 1
                    self.target = effect.target
                    if self.instant:
                        queue.append(result.event(self.now))
                elif isinstance(effect, Disconnect):
                    self.hangup = effect.reason
        return out

    # --- what it was ------------------------------------------------------------------

    def notes(self) -> Iterator[AnyNote]:
        return (e for e in self.seen if isinstance(e, Note))

    def last_play(self) -> Play:
        return [e for e in self.seen if isinstance(e, Play)][-1]
