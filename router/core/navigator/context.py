"""One call's bookkeeping, the ground the navigator's transitions stand on.

Where the call is (its state, the menus on its way, the menu it hears, its language),
what it counted (keys, transfers, wrong entries and silences in a row), its timers and
the prompt playing; and the few effects that touch only these: a state changed (the one
place: `_set_state`, h11's idea), a timer armed or cancelled, prompts played, the call
closed with a goodbye or ended. What a key, a timer or a transfer's outcome does is the
navigator's (machine.py). Sans-I/O like the rest of the core: the time is the event's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

from router.core.events import (
    CallFinished,
    Disconnect,
    Effect,
    EndReason,
    Play,
    StopPlayback,
    TimerKind,
)
from router.core.model import Menu, MenuFile, Prompt, Transfer
from router.core.navigator.caps import DEFAULT_CAPS, CallCaps
from router.core.navigator.copies import KeyCopies
from router.core.navigator.states import NEXT, CallState
from router.core.navigator.timers import Timers

__all__ = ["NO_MENU", "CallContext"]

log = logging.getLogger("router.navigator")

NO_MENU = Menu(name="", greeting=Prompt(), prompt=Prompt(), options=MappingProxyType({}))
"""The menu of a call before its first one (a caller rule's transfer, say)."""


class CallContext:
    """One call's bookkeeping and the effects that touch only it; its subclass
    `Navigator` (machine.py) adds the transitions: what each event does in each state."""

    def __init__(self, menu_file: MenuFile, *, caps: CallCaps = DEFAULT_CAPS) -> None:
        self.menu_file = menu_file
        """The version the call started with; kept for the whole call, even after a reload."""
        self.caps = caps
        self._state = CallState.IDLE
        self._now = 0.0
        self._out: list[Effect] = []
        self._stack: list[str] = []
        self._menu = NO_MENU
        self._timers = Timers()
        self._play_seq = 0
        self._playing: int | None = None
        self._digits = ""
        self._dead = False
        """The digits being collected can no longer name anything: they make one wrong
        entry, ended by `#` or the inter-digit time-out."""
        self._invalid = 0
        self._no_input = 0
        self._keys = 0
        self._transfers = 0
        self._pending: Transfer | None = None
        self._closing = EndReason.HANGUP
        self._end_reason: EndReason | None = None
        self._entry = ""
        """The dialled number's entry menu (a caller rule's transfer failing lands there)."""
        self._dialled: str | None = None
        self._language: str | None = None
        """The caller's language (None: a file without `languages`); every prompt played
        is its version in this language (`Prompt.in_language`)."""
        self._copies = KeyCopies()
        """The last key the call delivered and when, to drop its copies (KEY_REPEAT_WINDOW_S)."""

    # --- what the call's owner reads ---------------------------------------------------

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def menu(self) -> str | None:
        """The current menu's name (None before the call starts)."""
        return self._stack[-1] if self._stack else None

    @property
    def language(self) -> str | None:
        """The caller's language now (None: the file declares no `languages`)."""
        return self._language

    @property
    def end_reason(self) -> EndReason | None:
        """Why the call ended (the reason `CallEnded` gave, if so); None while it goes on."""
        return self._end_reason

    @property
    def timers(self) -> Mapping[TimerKind, float]:
        """The armed timers and their deadlines."""
        return self._timers.deadlines

    def next_deadline(self) -> tuple[TimerKind, float] | None:
        """The armed timer that fires first, as aioquic's `get_timer()`; None if none."""
        return self._timers.first()

    # --- small helpers -----------------------------------------------------------------

    def _set_state(self, new: CallState) -> None:
        old = self._state
        if new is old:
            return
        if new not in NEXT[old]:
            log.error("unexpected transition %s -> %s", old, new)
        log.debug("%s -> %s", old, new)
        self._state = new

    def _arm(self, timer: TimerKind, delay_s: float) -> None:
        self._out.append(self._timers.arm(timer, self._now + delay_s))

    def _disarm(self, timer: TimerKind) -> None:
        cancel = self._timers.disarm(timer)
        if cancel is not None:
            self._out.append(cancel)

    def _play(
        self, prompts: tuple[Prompt | None, ...], *, interruptible: bool, loop: bool = False
    ) -> bool:
        """Ask for the non-empty prompts to be played; False if there was nothing to play."""
        heard = tuple(p.in_language(self._language) for p in prompts if p)
        if not heard:
            return False
        self._play_seq += 1
        self._playing = self._play_seq
        self._out.append(Play(heard, self._play_seq, interruptible, loop))
        return True

    def _stop_hold(self) -> None:
        """The transfer has its outcome: the hold audio stops at once."""
        if self._playing is not None:
            self._out.append(StopPlayback())
            self._playing = None

    def _prompt_then_wait(self, *prompts: Prompt | None) -> None:
        if self._play(prompts, interruptible=True):
            self._set_state(CallState.PROMPTING)
        else:
            self._wait()

    def _wait(self) -> None:
        self._arm(TimerKind.FIRST_DIGIT, self._menu.timeouts.first_digit_s)
        self._set_state(CallState.WAITING)

    def _end(self, reason: EndReason) -> None:
        self._out.extend(self._timers.disarm_all())
        self._out.append(CallFinished(self._now, self.menu, reason))
        self._out.append(Disconnect(reason))
        self._end_reason = reason
        self._set_state(CallState.ENDED)

    def _close(self, reason: EndReason, goodbye: Prompt | None) -> None:
        """Play the goodbye to the end, then hang up (at once if there is none)."""
        self._disarm(TimerKind.FIRST_DIGIT)
        self._disarm(TimerKind.INTER_DIGIT)
        if self._play((goodbye,), interruptible=False):
            self._closing = reason
            self._set_state(CallState.CLOSING)
        else:
            self._end(reason)
