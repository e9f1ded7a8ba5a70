"""`router simulate`: walk one call through the menus from the terminal, no phone needed.

The simulator is the navigator's simplest runtime: it feeds the same events a real
call would, with a clock of its own that only moves forward when something waits
(keys half a second apart at most, a time-out jumps to its deadline, every prompt
ends the moment it starts). So a script gives the same output on every run, and the
last line says where the call went: `transfer: <uri>` or `hangup`.
"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from router.admin.check import (
    aware_time,
    caller_argument,
    default_path,
    load_or_report,
    number_argument,
)
from router.core.events import (
    AnyNote,
    CallerMatched,
    CallFinished,
    CallStarted,
    CancelTimer,
    Disconnect,
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
    LimitReached,
    MenuEntered,
    NoInput,
    Note,
    OptionChosen,
    Play,
    StartTimer,
    StopPlayback,
    TimerFired,
    TimerKind,
    TransferConnected,
    TransferFailure,
    TransferStarted,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import MenuFile, Prompt, TransferSettings
from router.core.navigator import CallCaps
from router.core.simulation import Observer, ScriptedTransfer, SimulatedCall

__all__ = [
    "Observer",
    "ScriptedTransfer",
    "add_arguments",
    "note_words",
    "run",
    "simulate",
]


TIMEOUT = "."
"""In a key script, a time-out: the armed timer fires."""


def _results(text: str) -> list[ScriptedTransfer]:
    try:
        return [ScriptedTransfer.parse(part) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _keys(text: str) -> str:
    bad = sorted({c for c in text if c != TIMEOUT and not c.isspace() and Key.parse(c) is None})
    if bad:
        raise argparse.ArgumentTypeError(
            f"not keypad keys: {' '.join(bad)} (use 0-9 * # A-D, and . for a time-out)"
        )
    return "".join(c for c in text if not c.isspace())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", help="the menu file (default: $ROUTER_MENUS or ./menus.yaml)"
    )
    parser.add_argument(
        "--number",
        type=number_argument,
        metavar="E164",
        help="the number dialled, e.g. +15105550150 (default: the default entry)",
    )
    parser.add_argument(
        "--caller",
        type=caller_argument,
        metavar="E164",
        help="the caller's number, e.g. +15105550123, or anonymous (withheld); caller rules"
        " match it (default: a caller no rule names)",
    )
    parser.add_argument(
        "--language",
        metavar="CODE",
        help="the language the call starts in, one of the file's `languages` (default: the"
        " number's, a caller rule's, or the file's first)",
    )
    parser.add_argument(
        "--at",
        type=aware_time,
        metavar="ISO-8601",
        help="time of the call, with its zone, e.g. 2025-01-06T09:30+01:00 (default: now)",
    )
    parser.add_argument(
        "--keys",
        type=_keys,
        default="",
        help="keys the caller presses, in order; '.' waits for a time-out",
    )
    parser.add_argument(
        "--transfer-result",
        type=_results,
        default=[ScriptedTransfer(True)],
        metavar="STATUS",
        help="how transfers end: ok, error or a SIP status (486 busy, 408 no answer, "
        "603 rejected); a comma list applies in turn, the last one repeats (default: ok)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the router's bookkeeping (timers, prompts cut short, transfer steps)",
    )


def run(args: argparse.Namespace) -> int:
    path = args.path or default_path()
    menu_file = load_or_report(path, "simulate")
    if menu_file is None:
        return 1
    if args.language is not None and args.language not in menu_file.languages:
        declared = ", ".join(menu_file.languages) or "none"
        print(
            f"router simulate: --language {args.language} is not one of the file's languages"
            f" ({declared})",
            file=sys.stderr,
        )
        return 2
    interactive = _read_keys if sys.stdin.isatty() else None
    simulate(
        menu_file,
        number=args.number,
        caller=args.caller,
        language=args.language,
        at=args.at or datetime.now(UTC),
        keys=args.keys,
        results=args.transfer_result,
        out=sys.stdout,
        more_keys=interactive,
        verbose=args.verbose,
    )
    return 0


def _read_keys() -> str | None:
    """One line of keys from the terminal: an empty line waits for a time-out; None at EOF."""
    try:
        line = input("keys (. or Enter to wait, Ctrl-D to let it run)> ")
    except EOFError:
        return None
    try:
        return _keys(line) or TIMEOUT
    except argparse.ArgumentTypeError as exc:
        print(exc)
        return ""


def simulate(
    menu_file: MenuFile,
    *,
    number: str | None,
    at: datetime,
    caller: str | None = None,
    language: str | None = None,
    keys: str = "",
    results: list[ScriptedTransfer] | None = None,
    out: TextIO | None = sys.stdout,
    more_keys: Callable[[], str | None] | None = None,
    caps: CallCaps | None = None,
    observe: Observer | None = None,
    verbose: bool = True,
) -> str:
    """Run one call and print it; return the last line (`transfer: <uri>` or `hangup`).

    Plain (`verbose=False`): what the caller hears and presses and where the call goes;
    verbose: the router's bookkeeping too (timers, barge-in, each step of a transfer).
    `out=None` prints nothing: only `observe` follows the call (`router test` without
    `--transcript`, where formatting every line was half the time of its cases)."""
    call = _Call(
        menu_file, caps or CallCaps(), results or [ScriptedTransfer(True)], out, observe, verbose
    )
    number = None if number == "default" else number
    from_text = "" if caller is None else f" from {caller}"
    if out is not None:
        print(
            f"{menu_file.path} (version {menu_file.version}): a call{from_text} to "
            f"{number or 'the default entry'} at {at.isoformat()}",
            file=out,
        )
        if number is not None and menu_file.entry_for(number).number == "default":
            print(
                f"  {number} is not one of the numbers in the file: "
                "the call starts as the 'default' entry says",
                file=out,
            )
    script = deque(keys)
    call.feed(CallStarted(number, at, call.now, caller, language))
    while not call.ended:
        if not script and more_keys is not None:
            line = more_keys()
            if line is None:
                more_keys = None
            script.extend(line or "")
            continue
        call.press(script.popleft() if script else TIMEOUT)
    if out is not None:
        print(call.last_line, file=out)
    return call.last_line


class _Call:
    """The core's simulated call (`router.core.simulation`), printed as it goes."""

    def __init__(
        self,
        menu_file: MenuFile,
        caps: CallCaps,
        results: list[ScriptedTransfer],
        out: TextIO | None,
        observe: Observer | None = None,
        verbose: bool = True,
    ) -> None:
        self.call = SimulatedCall(menu_file, caps=caps, results=results, observe=self._observe)
        self.nav = self.call.nav
        self.verbose = verbose
        self.observe = observe
        self.out = out
        self.ended = False

    @property
    def now(self) -> float:
        return self.call.now

    @property
    def last_line(self) -> str:
        if self.call.hangup is EndReason.TRANSFERRED:
            return f"transfer: {self.call.target or ''}"
        return "hangup"

    def say(self, text: str) -> None:
        if self.out is not None:
            print(f"{self.now:8.1f}s  {text}", file=self.out)

    def press(self, symbol: str) -> None:
        if symbol == TIMEOUT:
            if self.call.wait() is None:  # cannot happen while the call lasts
                self.ended = True
                return
        else:
            key = Key.parse(symbol)
            assert key is not None
            self.call.press(key)
        self._check_end()

    def feed(self, first: Event) -> None:
        self.call.feed(first)
        self._check_end()

    def _check_end(self) -> None:
        if self.call.runaway and not self.ended:
            self.say("stopped: the call did not end")
        self.ended = self.call.ended

    def _observe(self, event: Event, effects: Sequence[Effect]) -> None:
        if isinstance(event, TimerFired):
            if self.verbose:
                self.say(f"time-out: {event.timer.value}")
            else:
                self.say(_SILENCE.get(event.timer, "silence"))
        if self.observe is not None:
            self.observe(event, effects)
        if self.out is not None:
            for effect in effects:
                self.show(effect)

    def _language(self) -> tuple[str, str] | None:
        """(the caller's language, the file's default) in a file with `languages`."""
        language, default = self.nav.language, self.nav.menu_file.default_language
        return None if language is None or default is None else (language, default)

    def show(self, effect: Effect) -> None:
        if not self.verbose:
            self.show_plain(effect)
            return
        match effect:
            case Play(prompts=prompts, loop=True):
                self.say(
                    "plays while the transfer rings (looped): "
                    + _prompts(prompts, self._language())
                )
            case Play(prompts=prompts, interruptible=interruptible):
                verb = "plays" if interruptible else "plays to the end"
                self.say(f"{verb}: " + _prompts(prompts, self._language()))
            case StopPlayback():
                self.say("prompt cut short")
            case StartTimer(timer=timer, deadline=deadline):
                self.say(f"timer {timer.value} armed, fires at {deadline:.1f}s")
            case CancelTimer(timer=timer):
                self.say(f"timer {timer.value} cancelled")
            case TransferTo(target=target, destination=destination, settings=settings):
                named = f" ({destination})" if destination else ""
                self.say(f"transfer to {target}{named} requested: {_settings(settings)}")
            case Note():
                text = _told(effect)
                if text is not None:
                    self.say(text)
            case Disconnect():
                pass  # the ENDED note just before it says why

    def show_plain(self, effect: Effect) -> None:
        """What the caller lives: menus (with their voice), what they hear, their keys,
        and where the call goes, in that order."""
        match effect:
            case Play(prompts=prompts, loop=True):
                self.say(
                    "hears while the transfer rings (looped): "
                    + _prompts(prompts, self._language())
                )
            case Play(prompts=prompts, interruptible=interruptible):
                verb = "hears" if interruptible else "hears (to the end)"
                self.say(f"{verb}: " + _prompts(prompts, self._language()))
            case TransferTo(target=target, destination=destination):
                named = f"{destination} <{target}>" if destination else target
                self.say(f"transfer to {named}")
            case CallerMatched(rule=rule):
                self.say(f"caller rule {rule}")
            case LanguageChosen(language=language):
                self.say(
                    f"language {language} (voice {self.nav.menu_file.languages[language].voice})"
                )
            case MenuEntered(menu=name):
                menu = self.nav.menu_file.menus.get(name or "")
                # with `languages`, the language's line names the voice instead
                own = menu is not None and not self.nav.menu_file.languages
                voice = menu.voice if own else None  # type: ignore[union-attr]
                self.say(f"menu {name}" + (f" (voice {voice})" if voice else ""))
            case KeyPressed(key=key):
                self.say(f"presses {key.value}")
            case KeyIgnored(key=key):
                self.say(f"presses {key.value} (ignored: the router is not listening)")
            case (
                InvalidEntry()
                | LimitReached()
                | TransferConnected()
                | TransferFailure()
                | CallFinished()
            ):
                self.say(_told(effect) or "")  # as -v words them
            case _:
                pass  # timers, barge-in: bookkeeping, shown with -v


_SILENCE = {
    TimerKind.FIRST_DIGIT: "silence: no key in time",
    TimerKind.INTER_DIGIT: "pause: the entry is complete",
    TimerKind.CALL_LIMIT: "the call has lasted too long",
}


def note_words(note: AnyNote) -> str:
    """A note in `router simulate -v`'s words, one line; the one rendering of notes (the
    engine's tests spell the notes they expect in these words too)."""
    match note:
        case CallerMatched(rule=rule):
            return f"caller rule {rule} matches"
        case LanguageChosen(language=language):
            return f"language {language}"
        case MenuEntered(menu=menu, how=how, dialled=dialled):
            how_text = f"start {dialled or 'default'}" if how is EnteredBy.START else how.value
            return f"menu {menu} ({how_text})"
        case KeyPressed(key=key):
            return f"key {key.value}"
        case OptionChosen(key=key):
            return f"option {key.value} chosen"
        case ExtensionDialled(digits=digits, directory=directory, pattern=pattern):
            return f"extension {digits} dialled ({directory}: {pattern})"
        case InvalidEntry(entry=entry):
            return f"invalid entry {entry}"
        case NoInput():
            return "no input"
        case LimitReached(limit=limit):
            return f"limit reached: {limit.value}"
        case TransferStarted(target=target):
            return f"transfer to {target} chosen (any announcement plays first)"
        case TransferFailure():
            return f"transfer failed: {note.summary}"
        case TransferConnected():
            return "transfer succeeded"
        case KeyIgnored(key=key):
            return f"key {key.value} ignored"
        case DuplicateKey(key=key):
            return f"key {key.value} dropped: a copy of the same key just before"
        case CallFinished(reason=reason):
            return f"call ends: {reason.value}"


def _told(note: AnyNote) -> str | None:
    """`note_words`, but None for the notes `-v` leaves out (what a key chose is seen in
    what follows)."""
    if isinstance(note, OptionChosen | ExtensionDialled):
        return None
    return note_words(note)


def _prompts(prompts: tuple[Prompt, ...], language: tuple[str, str] | None = None) -> str:
    return " + ".join(_prompt(p, language) for p in prompts)


def _prompt(prompt: Prompt, language: tuple[str, str] | None = None) -> str:
    """A prompt as heard; given (the caller's language, the default), `[en]` before one
    heard in another language than the caller's (a prompt the file does not give in it,
    or the router's own words, which are in the default language)."""
    parts = [prompt.audio] if prompt.audio else []
    if prompt.text:
        parts.append(f'"{prompt.text}"')
    heard = " + ".join(parts)
    if language is not None and (prompt.language or language[1]) != language[0]:
        heard = f"[{prompt.language or language[1]}] {heard}"
    return heard


def _settings(settings: TransferSettings) -> str:
    """The REFER's settings as the far end sees them: ringing time, dial tone, headers."""
    parts = [f"rings {settings.ringing_timeout_s:g}s"]
    if settings.play_dialtone:
        parts.append("dial tone")
    parts += [f"{name}: {value}" for name, value in sorted(settings.headers.items())]
    return ", ".join(parts)
