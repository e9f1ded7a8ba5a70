"""One call through the menus, as a pure state machine: the navigator.

Shaped like aioquic's `QuicConnection`: no I/O, no clock, no asyncio. The runtime (or
the simulator, or a test) feeds `handle()` events stamped with the time and carries
out the effects it returns, in order; timers are effects too (`StartTimer`), so a
test drives a whole call, time-outs included, without sleeping.

States are explicit, as in h11: `HANDLERS` (at the end) says which events each state
acts on (anything else is ignored, never raised), `states.NEXT` which states may follow
which, and `_set_state()` is the one place the state changes. Its parts: the call's
bookkeeping and the effects that touch only it (`context.py`), the states
(`states.py`), the caps (`caps.py`), the timers (`timers.py`), a key's copies
(`copies.py`), what dialled digits name (`dialling.py`), the action after a failed
transfer (`transfers.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, assert_never

from router.core.events import (
    CallEnded,
    CallerMatched,
    CallFinished,
    CallStarted,
    DigitPressed,
    DuplicateKey,
    Effect,
    EndReason,
    EnteredBy,
    Event,
    ExtensionDialled,
    InvalidEntry,
    KeyIgnored,
    KeyPressed,
    LanguageChosen,
    Limit,
    LimitReached,
    MenuEntered,
    NoInput,
    OptionChosen,
    PlaybackFinished,
    StopPlayback,
    TimerFired,
    TimerKind,
    TransferConnected,
    TransferFailed,
    TransferFailure,
    TransferStarted,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import (
    Action,
    Back,
    DirectoryEntry,
    GoTo,
    Hangup,
    Match,
    Prompt,
    Repeat,
    Say,
    Top,
    Transfer,
    language_after,
)
from router.core.navigator.context import NO_MENU, CallContext
from router.core.navigator.dialling import NOTHING, classify
from router.core.navigator.states import CallState
from router.core.navigator.transfers import after_failure

__all__ = ["HANDLERS", "Navigator"]

log = logging.getLogger("router.navigator")


class Navigator(CallContext):
    """Routes one call through one version of the menu file; feed it with `handle()`.

    Its bookkeeping and the effects that touch only it are `CallContext`'s (context.py)."""

    def handle(self, event: Event) -> list[Effect]:
        """Take one event; return the effects to carry out, in order. Never raises for
        an event that does not fit the state: it is ignored and `[]` returned."""
        handler = HANDLERS[self._state].get(type(event))
        if handler is None:
            log.debug("ignored %s in state %s", type(event).__name__, self._state)
            return []
        self._now = event.now
        out: list[Effect] = []
        self._out = out
        if type(event) is DigitPressed and self._copies.is_copy(
            event.key, event.now if event.arrived is None else event.arrived
        ):
            out.append(DuplicateKey(event.now, self.menu, event.key))
            return out
        handler(self, event)
        return out

    # --- menus and actions -------------------------------------------------------------

    def _enter(
        self, name: str, how: EnteredBy, message: Prompt | None, dialled: str | None = None
    ) -> None:
        """Start a new visit of a menu: fresh counters, its greeting (after `message`)."""
        menu = self.menu_file.menus.get(name)
        if menu is None:  # the loader refuses such files; never crash a live call over it
            log.error("menu %r is not in %s", name, self.menu_file.path)
            self._close(EndReason.HANGUP, None)
            return
        self._menu = menu
        self._invalid = self._no_input = 0
        self._digits = ""
        self._dead = False
        self._out.append(MenuEntered(self._now, name, how, dialled))
        self._prompt_then_wait(message, menu.greeting)

    def _choose_language(self, language: str | None) -> None:
        """From now on the call speaks `language` (a code the file declares; anything else,
        which the checker refuses, leaves it as it is)."""
        if language is None or language not in self.menu_file.languages:
            return
        self._language = language
        self._out.append(LanguageChosen(self._now, self.menu, language))

    def _run(self, action: Action) -> None:
        if isinstance(action, GoTo | Repeat):
            self._choose_language(language_after(action.language, action.turns, self._language))
        self._disarm(TimerKind.FIRST_DIGIT)
        self._disarm(TimerKind.INTER_DIGIT)
        self._digits = ""
        self._dead = False
        stack = self._stack
        match action:
            case GoTo(menu=name, message=message):
                # going to a menu already on the way here unwinds to it, so that
                # `back` never leads in circles and the stack stays as deep as the tree
                if name in stack:
                    del stack[stack.index(name) + 1 :]
                else:
                    stack.append(name)
                self._enter(name, EnteredBy.GOTO, message)
            case Back(message=message):
                if len(stack) > 1:
                    stack.pop()
                self._enter(stack[-1], EnteredBy.BACK, message)
            case Top(message=message):
                del stack[1:]
                self._enter(stack[0], EnteredBy.TOP, message)
            case Repeat(message=message):
                self._prompt_then_wait(message, self._menu.greeting)
            case Say(message=message, then_prompt=then_prompt):
                # information, then the menu's choices again (unless the file says `then: wait`)
                menu = self._menu
                self._prompt_then_wait(
                    message, (menu.prompt or menu.greeting) if then_prompt else None
                )
            case Hangup(message=message):
                self._close(EndReason.HANGUP, message)
            case Transfer():
                self._transfer(action)
            case _:  # a new verb: mypy names every match that must learn it
                assert_never(action)

    def _transfer(self, transfer: Transfer) -> None:
        self._transfers += 1
        if self._transfers > self.caps.max_transfers:
            self._out.append(LimitReached(self._now, self.menu, Limit.TRANSFERS))
            self._close(
                EndReason.TRANSFER_LIMIT, self._menu.messages.transfer_limit or self.caps.apology
            )
            return
        self._pending = transfer
        self._out.append(
            TransferStarted(
                self._now, self.menu, transfer.target, transfer.destination or transfer.via
            )
        )
        if self._play((transfer.message, transfer.settings.announce), interruptible=False):
            self._set_state(CallState.ANNOUNCING)
        else:
            self._send_transfer(transfer)

    def _send_transfer(self, transfer: Transfer) -> None:
        self._out.append(
            TransferTo(transfer.target, transfer.settings, transfer.destination, transfer.via)
        )
        self._set_state(CallState.TRANSFERRING)
        # after the request, never before it: the REFER is not held up by the audio
        self._play((transfer.settings.hold,), interruptible=False, loop=True)

    def _invalid_entry(self, entry: str) -> None:
        self._invalid += 1
        self._out.append(InvalidEntry(self._now, self.menu, entry))
        menu = self._menu
        if self._invalid >= menu.limits.invalid:
            self._limit(Limit.INVALID)
        else:
            self._prompt_then_wait(menu.messages.invalid, menu.prompt or menu.greeting)

    def _no_input_timeout(self) -> None:
        self._no_input += 1
        self._out.append(NoInput(self._now, self.menu))
        menu = self._menu
        if self._no_input >= menu.limits.no_input:
            self._limit(Limit.NO_INPUT)
        else:
            self._prompt_then_wait(menu.messages.no_input, menu.prompt or menu.greeting)

    def _limit(self, limit: Limit) -> None:
        """A limit is reached: its action runs and the counts start afresh, so a caller
        brought back to a menu (a failed fallback transfer, say) gets every chance again."""
        self._out.append(LimitReached(self._now, self.menu, limit))
        self._invalid = self._no_input = 0
        self._run(self._menu.limit_action(limit))

    # --- keys and dial by extension ----------------------------------------------------

    def _choose(self, digits: str, option: Action | None, entry: DirectoryEntry | None) -> None:
        """Run what an entry named: the menu's option, or the directory entry's transfer."""
        if entry is not None:
            directory = self.menu_file.directories[self._menu.directory or ""].name
            self._out.append(
                ExtensionDialled(self._now, self.menu, digits, directory, entry.pattern)
            )
            self._run(entry.resolve(digits, directory))
        elif option is not None:
            self._out.append(OptionChosen(self._now, self.menu, Key(digits)))
            self._run(option)

    def _collect(self, digits: str) -> None:
        match, option, entry = (
            NOTHING if self._dead else classify(self.menu_file, self._menu, digits)
        )
        if match is Match.COMPLETE and (option is not None or entry is not None):
            self._choose(digits, option, entry)
        elif match is Match.NONE and len(digits) == 1:
            self._disarm(TimerKind.INTER_DIGIT)
            self._digits = ""
            self._invalid_entry(digits)
        else:
            # a dead prefix (`25` where only 200-249 exist) keeps the digits that follow
            # until `#` or the time-out: a mistyped extension is one wrong entry, not two
            self._dead = match is Match.NONE
            self._digits = digits
            self._arm(TimerKind.INTER_DIGIT, self._menu.timeouts.inter_digit_s)
            self._set_state(CallState.COLLECTING)

    def _finish_entry(self) -> None:
        """`#` or the inter-digit time-out: take what was dialled, if it names anything."""
        digits = self._digits
        dead, self._digits, self._dead = self._dead, "", False
        self._disarm(TimerKind.INTER_DIGIT)
        match, option, entry = NOTHING if dead else classify(self.menu_file, self._menu, digits)
        if match >= Match.AMBIGUOUS and (option is not None or entry is not None):
            self._choose(digits, option, entry)
        else:
            self._invalid_entry(digits)

    def _key(self, key: Key) -> None:
        self._keys += 1
        if self._keys > self.caps.max_keys:
            # the goodbye is heard to the end (keys are ignored while it plays), then the
            # call ends; CALL_LIMIT stays armed, so the goodbye cannot keep the call going
            self._out.append(LimitReached(self._now, self.menu, Limit.KEYS))
            self._close(EndReason.KEY_LIMIT, self._menu.messages.key_limit)
            return
        self._out.append(KeyPressed(self._now, self.menu, key))
        self._no_input = 0  # silences are counted in a row: a key shows the caller is there
        self._disarm(TimerKind.FIRST_DIGIT)
        menu = self._menu
        if self._state is CallState.COLLECTING:
            if key is Key.POUND:
                self._finish_entry()
                return
            if key.is_digit:
                self._collect(self._digits + key.value)
                return
            # any other key gives up the entry and counts on its own
            self._disarm(TimerKind.INTER_DIGIT)
            self._digits = ""
            self._dead = False
        elif key.is_digit and menu.directory:
            self._collect(key.value)
            return
        option = menu.options.get(key)
        if option is not None:
            self._out.append(OptionChosen(self._now, menu.name, key))
            self._run(option)
        else:
            self._invalid_entry(key.value)

    # --- event handlers, one per (state, event) pair in HANDLERS ----------------------

    def _on_start(self, event: CallStarted) -> None:
        entry = self.menu_file.start_menu(event.dialled, event.at)
        self._entry, self._dialled = entry, event.dialled
        self._arm(TimerKind.CALL_LIMIT, self.caps.max_call_s)
        rule = self.menu_file.caller_rule(event.caller)
        if rule is not None:
            # the caller's number decides before the number dialled
            self._out.append(CallerMatched(self._now, None, rule.name))
        self._choose_language(
            event.language
            or (rule.language if rule is not None else None)
            or self.menu_file.entry_for(event.dialled).language
            or self.menu_file.default_language
        )
        closed = self.menu_file.closed_menu(rule.schedule, rule.closed, event.at) if rule else None
        if closed is not None:  # the rule's own opening hours: closed now, its callers start there
            self._stack = [closed]
            self._enter(closed, EnteredBy.CALLER, None, event.dialled)
            return
        if rule is None or rule.action is None:
            self._stack = [entry]
            self._enter(entry, EnteredBy.START, None, event.dialled)
            return
        match rule.action:
            case GoTo(menu=name, message=message):
                self._stack = [name]
                self._enter(name, EnteredBy.CALLER, message, event.dialled)
            case Transfer():
                # no menu yet: the entry menu's words and failure policy apply
                self._menu = self.menu_file.menus.get(entry, NO_MENU)
                self._transfer(rule.action)
            case _:
                self._run(rule.action)

    def _on_digit(self, event: DigitPressed) -> None:
        self._key(event.key)

    def _on_digit_barge_in(self, event: DigitPressed) -> None:
        self._out.append(StopPlayback())
        self._playing = None
        self._key(event.key)

    def _on_digit_ignored(self, event: DigitPressed) -> None:
        self._out.append(KeyIgnored(self._now, self.menu, event.key))

    def _on_timer(self, event: TimerFired) -> None:
        if not self._timers.fired(event.timer, event.now):
            log.debug("stale timer %s ignored", event.timer)
            return
        if event.timer is TimerKind.CALL_LIMIT:
            self._call_limit()
        elif event.timer is TimerKind.FIRST_DIGIT and self._state is CallState.WAITING:
            self._no_input_timeout()
        elif event.timer is TimerKind.INTER_DIGIT and self._state is CallState.COLLECTING:
            self._finish_entry()

    def _call_limit(self) -> None:
        """The call has lasted too long: a goodbye, unless a transfer is under way (the
        caller is leaving) or a goodbye already plays, then the end. The goodbye has
        `max_goodbye_s` (CALL_LIMIT armed again) before the call ends regardless."""
        if self._state is CallState.CLOSING and self._closing is EndReason.CALL_LIMIT:
            self._end(EndReason.CALL_LIMIT)  # the goodbye played too long
            return
        self._out.append(LimitReached(self._now, self.menu, Limit.CALL_LENGTH))
        if self._state not in (CallState.PROMPTING, CallState.WAITING, CallState.COLLECTING):
            self._end(EndReason.CALL_LIMIT)
            return
        if self._state is CallState.PROMPTING:
            self._out.append(StopPlayback())
            self._playing = None
        self._close(EndReason.CALL_LIMIT, self._menu.messages.call_limit)
        if self._end_reason is None:  # the goodbye plays
            self._arm(TimerKind.CALL_LIMIT, self.caps.max_goodbye_s)

    def _is_current(self, event: PlaybackFinished) -> bool:
        if event.play_id != self._playing:
            log.debug("stale playback %s ignored", event.play_id)
            return False
        self._playing = None
        return True

    def _on_prompt_done(self, event: PlaybackFinished) -> None:
        if self._is_current(event):
            self._wait()

    def _on_announcement_done(self, event: PlaybackFinished) -> None:
        if self._is_current(event) and self._pending is not None:
            self._send_transfer(self._pending)

    def _on_goodbye_done(self, event: PlaybackFinished) -> None:
        if self._is_current(event):
            self._end(self._closing)

    def _on_transfer_succeeded(self, event: TransferSucceeded) -> None:
        self._stop_hold()
        target = self._pending.target if self._pending else ""
        self._pending = None
        self._out.append(TransferConnected(self._now, self.menu, target, event.inferred))
        self._end(EndReason.TRANSFERRED)

    def _on_transfer_failed(self, event: TransferFailed) -> None:
        self._stop_hold()
        transfer, self._pending = self._pending, None
        kind = event.kind
        self._out.append(
            TransferFailure(self._now, self.menu, kind, event.sip_status, event.reason)
        )
        action = after_failure(transfer, self._menu, kind)
        if not self._stack:  # a caller rule's transfer, before any menu
            if isinstance(action, GoTo):
                self._stack = [action.menu]
                self._enter(action.menu, EnteredBy.GOTO, action.message)
                return
            if isinstance(action, Repeat | Say | Back | Top):
                self._stack = [self._entry]
                self._enter(self._entry, EnteredBy.START, action.message, self._dialled)
                return
        self._run(action)

    def _on_call_ended(self, event: CallEnded) -> None:
        """The call is over from outside: nothing to play or hang up, only timers to cancel."""
        self._out.extend(self._timers.disarm_all())
        self._end_reason = event.reason
        self._out.append(CallFinished(self._now, self.menu, event.reason))
        self._set_state(CallState.ENDED)


_Handler = Callable[[Navigator, Any], None]

_COMMON: dict[type[Any], _Handler] = {
    TimerFired: Navigator._on_timer,
    CallEnded: Navigator._on_call_ended,
}

HANDLERS: Mapping[CallState, Mapping[type[Any], _Handler]] = MappingProxyType(
    {
        CallState.IDLE: {CallStarted: Navigator._on_start, CallEnded: Navigator._on_call_ended},
        CallState.PROMPTING: {
            **_COMMON,
            DigitPressed: Navigator._on_digit_barge_in,
            PlaybackFinished: Navigator._on_prompt_done,
        },
        CallState.WAITING: {**_COMMON, DigitPressed: Navigator._on_digit},
        CallState.COLLECTING: {**_COMMON, DigitPressed: Navigator._on_digit},
        CallState.ANNOUNCING: {
            **_COMMON,
            DigitPressed: Navigator._on_digit_ignored,
            PlaybackFinished: Navigator._on_announcement_done,
        },
        CallState.TRANSFERRING: {
            **_COMMON,
            DigitPressed: Navigator._on_digit_ignored,
            TransferSucceeded: Navigator._on_transfer_succeeded,
            TransferFailed: Navigator._on_transfer_failed,
        },
        CallState.CLOSING: {
            **_COMMON,
            DigitPressed: Navigator._on_digit_ignored,
            PlaybackFinished: Navigator._on_goodbye_done,
        },
        CallState.ENDED: {},
    }
)
"""What each state acts on; an event missing here is ignored (h11's transition table)."""
