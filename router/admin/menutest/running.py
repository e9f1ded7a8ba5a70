"""Running a case: one call through `router simulate`'s machinery, compared with its expectation.

Each case is run by the same navigator a real call uses, with an instant player and
a clock that jumps to each time-out; a `_Follower` reads the path, the coverage and
what the caller heard from the navigator's typed notes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from router.admin.menutest.cases import Case, Expectation, WantedTransfer
from router.admin.menutest.coverage import Coverage
from router.admin.simulate import TIMEOUT, simulate
from router.core.events import (
    Disconnect,
    Effect,
    EndReason,
    Event,
    ExtensionDialled,
    InvalidEntry,
    KeyPressed,
    LanguageChosen,
    LimitReached,
    MenuEntered,
    NoInput,
    OptionChosen,
    Play,
    TransferConnected,
    TransferFailure,
    TransferTo,
)
from router.core.model import MenuFile, Prompt, TransferSettings

__all__ = ["CaseResult", "run_case"]


class _Follower:
    """Watches the navigator's events and effects: the path of the call, what it reached.

    The navigator's notes say what each key did (`OptionChosen`, `ExtensionDialled`),
    so coverage is read from them, never worked out again here.
    """

    def __init__(self, menu_file: MenuFile, coverage: Coverage) -> None:
        self.menu_file = menu_file
        self.coverage = coverage
        self.path: list[str] = []
        self.menus: list[str] = []
        self.menu: str | None = None
        self.target: str | None = None
        self.destination: str | None = None
        self.settings: TransferSettings | None = None
        self.end: EndReason | None = None
        self.heard: list[tuple[Prompt, str | None, str]] = []
        """Every prompt played, with the voice it was spoken in and the menu then."""
        self.language: str | None = None
        """The caller's language (a file with `languages`)."""

    def __call__(self, event: Event, effects: Sequence[Effect]) -> None:
        for effect in effects:
            self._show(effect)
        # the runtime speaks an event's prompts in their language's voice, else in the
        # voice of the menu the event leaves the call in (a `{menu: X, say: ...}` is X's)
        menu = self.menu_file.menus.get(self.menu or "")
        voice = menu.voice if menu is not None else None
        for effect in effects:
            if isinstance(effect, Play):
                self.heard += [
                    (p, self.menu_file.voice_for(p, voice), self.menu or "") for p in effect.prompts
                ]
            elif isinstance(effect, LanguageChosen):
                self.language = effect.language

    def _show(self, effect: Effect) -> None:
        match effect:
            case MenuEntered(menu=menu):
                self.menu = menu
                if menu is not None:
                    self.menus.append(menu)
                    self.coverage.menus.add(menu)
                    self.path.append(f"{'> ' if self.path else ''}{menu}")
            case KeyPressed(key=key):
                self.path.append(key.value)
            case OptionChosen(menu=menu, key=key) if menu is not None:
                self.coverage.options.add((menu, key))
            case ExtensionDialled(directory=directory, pattern=pattern):
                self.coverage.extensions.add((directory, pattern))
            case NoInput():
                self.path.append(TIMEOUT)
            case InvalidEntry(entry=entry):
                self.path.append(f"(invalid {entry})")
            case LimitReached(limit=limit):
                self.path.append(f"(limit: {limit.value})")
            case TransferTo(target=target, destination=destination, settings=settings):
                self.target, self.destination, self.settings = target, destination, settings
                if destination is not None:
                    self.coverage.destinations.add(destination)
                named = f"{destination} " if destination else ""
                self.path.append(f"> transfer {named}<{target}>")
            case TransferFailure(kind=kind, sip_status=status):
                self.path.append(
                    f"({kind.value} {status})" if status is not None else f"({kind.value})"
                )
            case TransferConnected():
                self.path.append("(ok)")
            case Disconnect(reason=reason):
                self.end = reason
                if reason is not EndReason.TRANSFERRED:
                    label = "" if reason is EndReason.HANGUP else f" ({reason.value})"
                    self.path.append(f"> hangup{label}")
            case _:
                pass

    def outcome(self) -> str:
        if self.end is EndReason.TRANSFERRED:
            if self.destination:
                return f"transfer {self.destination} <{self.target}>"
            return f"transfer {self.target}"
        if self.end is None or self.end is EndReason.HANGUP:
            return "hangup"
        return f"hangup ({self.end.value})"


def _named(menu_file: MenuFile, wanted: WantedTransfer) -> str:
    """A destination with its URI, a URI with the destination it belongs to, if any."""
    text = wanted.text
    if not wanted.is_uri:
        found = menu_file.destinations.get(text)
        return f"{text} <{found.target}>" if found is not None else text
    for name, transfer in menu_file.destinations.items():
        if transfer.target == text:
            return f"{name} <{text}>"
    return text


@dataclass(frozen=True, slots=True)
class CaseResult:
    """How one case went."""

    case: Case
    passed: bool
    path: str
    """The path taken, e.g. `main 2 > support 1 > transfer support_desk <sip:...> (ok)`."""
    got: str
    """Where the call ended: `transfer <uri>`, `hangup` or `hangup (<reason>)`."""
    menus: tuple[str, ...]
    mismatches: tuple[str, ...]
    transcript: str
    """`router simulate`'s printout of the call (empty when `run_case` was asked for none)."""


def run_case(
    menu_file: MenuFile,
    case: Case,
    coverage: Coverage | None = None,
    *,
    verbose: bool = False,
    transcript: bool = True,
) -> CaseResult:
    """Run one case through the simulator and compare the call with the expectation; the
    transcript is `router simulate`'s printout (`verbose`: with `-v`'s bookkeeping), or
    empty without `transcript` (the call is then not formatted at all)."""
    follower = _Follower(menu_file, coverage if coverage is not None else Coverage())
    printout = io.StringIO() if transcript else None
    expect = case.expect
    for code in (case.language, expect.language):
        if code is not None and code not in menu_file.languages:
            declared = ", ".join(menu_file.languages) or "none"
            problem = f"language {code} is not one of the menu file's languages ({declared})"
            return CaseResult(case, False, "", "", (), (problem,), "")
    simulate(
        menu_file,
        number=case.number,
        caller=case.caller,
        language=case.language,
        at=case.at,
        keys=case.keys,
        results=list(case.results),
        out=printout,
        observe=follower,
        verbose=verbose,
    )
    mismatches: list[str] = []
    if expect.language is not None and follower.language != expect.language:
        mismatches.append(f"expected the call in {expect.language}, got {follower.language}")
    transferred = follower.end is EndReason.TRANSFERRED
    if expect.transfer is not None:
        wanted = expect.transfer
        got_it = (
            transferred
            and (follower.target if wanted.is_uri else follower.destination) == wanted.text
        )
        if not got_it:
            mismatches.append(
                f"expected transfer {_named(menu_file, wanted)}, got {follower.outcome()}"
            )
    elif transferred or (expect.reason is not None and follower.end is not expect.reason):
        mismatches.append(
            f"expected {Expectation(hangup=True, reason=expect.reason)}, got {follower.outcome()}"
        )
    if transferred and follower.settings is not None:
        mismatches += _settings_mismatches(expect, follower.settings)
    mismatches += _heard_mismatches(expect, follower.heard)
    menus = tuple(follower.menus)
    if expect.menus is not None and menus != expect.menus:
        mismatches.append(
            f"expected menus {' > '.join(expect.menus)}, got {' > '.join(menus) or '(none)'}"
        )
    return CaseResult(
        case,
        not mismatches,
        " ".join(follower.path),
        follower.outcome(),
        menus,
        tuple(mismatches),
        printout.getvalue() if printout is not None else "",
    )


def _settings_mismatches(expect: Expectation, settings: TransferSettings) -> list[str]:
    out: list[str] = []
    wanted = expect.ringing_timeout_s
    if wanted is not None and abs(settings.ringing_timeout_s - wanted) > 1e-6:
        out.append(f"expected ringing_timeout {wanted:g}s, got {settings.ringing_timeout_s:g}s")
    if expect.play_dialtone is not None and settings.play_dialtone is not expect.play_dialtone:
        out.append(
            f"expected play_dialtone {str(expect.play_dialtone).lower()}, "
            f"got {str(settings.play_dialtone).lower()}"
        )
    sent = {name.lower(): (name, value) for name, value in settings.headers.items()}
    for name, value in (expect.headers or {}).items():
        got = sent.get(name.lower())
        if got is None:
            others = ", ".join(f"{n}: {v}" for n, v in sent.values()) or "none"
            out.append(f"expected header {name}: {value}, got no {name} (sent: {others})")
        elif got[1] != value:
            out.append(f"expected header {name}: {value}, got {got[0]}: {got[1]}")
    return out


def _heard_mismatches(
    expect: Expectation, heard: Sequence[tuple[Prompt, str | None, str]]
) -> list[str]:
    out: list[str] = []
    texts = [prompt.text for prompt, _, _ in heard if prompt.text]
    flat = [" ".join(text.split()).lower() for text in texts]
    for words in expect.hears:
        wanted = " ".join(words.split()).lower()
        if not any(wanted in text for text in flat):
            said = "; ".join(f'"{_short(t)}"' for t in dict.fromkeys(texts))
            out.append(f'expected to hear "{words}", but the caller heard: {said or "nothing"}')
    if expect.voice is not None:
        wanted_voice = _voice_key(None if expect.voice == "default" else expect.voice)
        for prompt, voice, menu in heard:
            if prompt.text and _voice_key(voice) != wanted_voice:
                spoken = "the router's voice" if voice is None else f"voice {voice}"
                out.append(
                    f'expected every prompt in voice {expect.voice}, but "{_short(prompt.text)}" '
                    f"was spoken in {spoken} (menu {menu})"
                )
                break
    return out


def _voice_key(voice: str | None) -> str:
    return "" if voice is None else voice.strip().lower().replace("_", "-")


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
