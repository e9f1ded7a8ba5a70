"""The menu file as typed, immutable values.

The loader turns `menus.yaml` into a `MenuFile`; everything after it (checker,
navigator, runtime, CLI) reads only these values. Defaults are already resolved
into each menu and destination, so no later stage needs to know about inheritance.
Every value that came from the file keeps its `Location`, so any later finding can
point at the line an admin must edit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from router.core.errors import Location
from router.core.keys import Key
from router.core.walk import objects_in

__all__ = [
    "Action",
    "Back",
    "CallerPattern",
    "CallerRule",
    "Directory",
    "DirectoryEntry",
    "Entry",
    "ExtensionIndex",
    "FailureKind",
    "FailurePolicy",
    "GoTo",
    "Hangup",
    "Language",
    "LanguageTurn",
    "language_after",
    "language_label",
    "Limits",
    "Match",
    "Menu",
    "MenuFile",
    "Messages",
    "Prompt",
    "Repeat",
    "Say",
    "Schedule",
    "Timeouts",
    "Top",
    "Transfer",
    "TransferReason",
    "TransferSettings",
    "Weekday",
    "NOWHERE",
    "caller_number",
]

_T = TypeVar("_T")

NOWHERE = Location("<builtin>", 0, 0)
"""The location of values that come from built-in defaults, not from the file."""

_EMPTY: Mapping[str, str] = MappingProxyType({})
_NO_PLACES: Mapping[str, Location] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something the caller hears: spoken text, a recorded file, or both (file, then text)."""

    text: str | None = None
    audio: str | None = None
    """Path of a wav/mp3/ogg file, resolved against the menu file's folder."""
    loc: Location = NOWHERE
    language: str | None = None
    """The language of this text (a code of the file's `languages`); None in a file that
    declares none (spoken in the menu's voice)."""
    versions: tuple[Prompt, ...] = ()
    """The prompt in each declared language it was given in (`{en: ..., es: ...}`), in
    the order of the file's `languages`, each with its `language`; then `text`, `audio`
    and `language` are those of the first version. Empty for a prompt in one language."""

    def __bool__(self) -> bool:
        return bool(self.text or self.audio)

    def in_language(self, language: str | None) -> Prompt:
        """What a caller in `language` hears: the version in that language, else the first
        version given (the default language's when there is one), else this prompt."""
        for version in self.versions:
            if version.language == language:
                return version
        return self.versions[0] if self.versions else self

    @property
    def languages(self) -> frozenset[str]:
        """The languages this prompt is given in (empty: a file without languages)."""
        if self.versions:
            return frozenset(v.language for v in self.versions if v.language)
        return frozenset((self.language,)) if self.language else frozenset()


@dataclass(frozen=True, slots=True)
class TransferSettings:
    """How a transfer is made; defaults < destination < option, merged by the loader."""

    play_dialtone: bool = False
    """Ask LiveKit to play a ring tone to the caller while the REFER is under way."""
    ringing_timeout_s: float = 30.0
    """Seconds the far end may ring before the transfer counts as unanswered."""
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
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


# --- actions: what a key (or a limit, or a failure) makes happen -----------------------


@dataclass(frozen=True, slots=True)
class Transfer:
    """Cold-transfer the caller to `target` (a `tel:+E164` or `sip:` URI)."""

    target: str
    destination: str | None = None
    """The named destination it came from, if any (for records and metrics)."""
    settings: TransferSettings = field(default_factory=TransferSettings)
    on_failure: FailurePolicy | None = None
    """Overrides the menu's policy for this transfer."""
    message: Prompt | None = None
    loc: Location = NOWHERE
    via: str | None = None
    """For an extension dialled: its directory and entry (`staff:6xxx`), a name for
    metrics that never holds the digits dialled (set by `DirectoryEntry.resolve`)."""


@dataclass(frozen=True, slots=True)
class LanguageTurn:
    """One pair of an option's `language: {en: fr, fr: en}`: a caller in `when` is switched
    to `to` (both codes the file must declare; `router.core.languages` checks them)."""

    when: str
    to: str
    when_loc: Location = NOWHERE
    to_loc: Location = NOWHERE


def language_after(
    fixed: str | None, turns: tuple[LanguageTurn, ...], current: str | None
) -> str | None:
    """The language an option switches a caller in `current` to: `fixed` (`language: fr`),
    else the turn for `current` (`language: {en: fr, fr: en}`); None: no change (no
    `language`, or a caller in a language the mapping does not list)."""
    if fixed is not None:
        return fixed
    return next((turn.to for turn in turns if turn.when == current), None)


def language_label(fixed: str | None, turns: tuple[LanguageTurn, ...]) -> str | None:
    """How transcripts and graphs name an option's switch: `fr`, or `en→fr, fr→en`."""
    if fixed is not None:
        return fixed
    return ", ".join(f"{t.when}→{t.to}" for t in turns) or None


@dataclass(frozen=True, slots=True)
class GoTo:
    """Enter another menu (it is pushed, so `back` returns here)."""

    menu: str
    message: Prompt | None = None
    loc: Location = NOWHERE
    language: str | None = None
    """`{menu: X, language: es}`: the caller's language changes first."""
    turns: tuple[LanguageTurn, ...] = ()
    """`{menu: X, language: {en: fr, fr: en}}`: the change by the caller's language."""


@dataclass(frozen=True, slots=True)
class Back:
    """Return to the menu that led here (the entry menu stays where it is)."""

    message: Prompt | None = None
    loc: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Top:
    """Return to the call's entry menu."""

    message: Prompt | None = None
    loc: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Repeat:
    """Play the current menu's greeting again."""

    message: Prompt | None = None
    loc: Location = NOWHERE
    language: str | None = None
    """`{language: es}`: the caller's language changes, then the greeting plays in it."""
    turns: tuple[LanguageTurn, ...] = ()
    """`{language: {en: fr, fr: en}}`: the change by the caller's language (a toggle)."""


@dataclass(frozen=True, slots=True)
class Say:
    """Play `message`, then the menu's prompt, and go on waiting for a key in the same menu."""

    message: Prompt
    loc: Location = NOWHERE
    then_prompt: bool = True
    """False (`then: wait`): after the message, wait for a key without the prompt."""


@dataclass(frozen=True, slots=True)
class Hangup:
    """End the call, after `message` (the goodbye) if there is one."""

    message: Prompt | None = None
    loc: Location = NOWHERE


Action = Transfer | GoTo | Back | Top | Repeat | Say | Hangup


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """What to do when a transfer fails, per kind of failure."""

    busy: Action
    no_answer: Action
    rejected: Action
    error: Action

    def for_kind(self, kind: FailureKind) -> Action:
        return {
            FailureKind.BUSY: self.busy,
            FailureKind.NO_ANSWER: self.no_answer,
            FailureKind.REJECTED: self.rejected,
            FailureKind.ERROR: self.error,
        }[kind]


# --- timing, limits, messages ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timeouts:
    first_digit: float = 5.0
    """Seconds of silence after a prompt ends before it counts as no input."""
    inter_digit: float = 3.0
    """Seconds between keys of a multi-digit entry before it is taken as finished."""


@dataclass(frozen=True, slots=True)
class Limits:
    invalid: int = 3
    """Invalid entries in one menu before `on_limit`."""
    no_input: int = 3
    """No-input time-outs in one menu before `on_limit`."""


@dataclass(frozen=True, slots=True)
class Messages:
    """The router's own words; each is settable (defaults < number's defaults < menu)."""

    invalid: Prompt = field(default_factory=lambda: Prompt("Sorry, that is not a valid choice."))
    no_input: Prompt = field(default_factory=lambda: Prompt("Sorry, I did not hear a choice."))
    transfer_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, we could not connect your call. Please call again later."
        )
    )
    """The goodbye when a call reaches the router's cap on transfers."""
    key_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, we cannot take any more keys on this call. Please call again. Goodbye."
        )
    )
    """The goodbye when a call reaches the router's cap on keys (100)."""
    call_limit: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, this call has reached its time limit. Please call again. Goodbye."
        )
    )
    """The goodbye when a call reaches the router's cap on its length (15 minutes)."""


# --- dial by extension -----------------------------------------------------------------


class Match(IntEnum):
    """How a run of digits relates to a directory."""

    NONE = 0
    """No entry starts with these digits: an invalid entry."""
    PARTIAL = 1
    """Some entry could still match if more digits come."""
    AMBIGUOUS = 2
    """An entry matches, but a longer one could too: wait for `#` or the inter-digit timeout."""
    COMPLETE = 3
    """An entry matches and nothing longer could: act at once."""


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """One line of a directory: an exact extension, a pattern (`1xx`) or a range (`200-249`).

    `action.target` may contain `{ext}`, replaced by the digits dialled; since the
    pattern admits digits only, the result can never leave the shape the file wrote.
    """

    pattern: str
    action: Transfer
    loc: Location = NOWHERE

    @property
    def length(self) -> int:
        return len(self.pattern.split("-")[0])

    def matches(self, digits: str) -> bool:
        """True if `digits` is exactly one of the extensions this entry stands for."""
        if len(digits) != self.length or not digits.isdigit():
            return False
        if "-" in self.pattern:
            low, high = self.pattern.split("-")
            return int(low) <= int(digits) <= int(high)
        return all(p == "x" or p == d for p, d in zip(self.pattern, digits, strict=True))

    def could_start(self, digits: str) -> bool:
        """True if `digits` is a proper prefix of some extension of this entry."""
        if len(digits) >= self.length or not digits.isdigit():
            return False
        if "-" in self.pattern:
            low, high = self.pattern.split("-")
            n = len(digits)
            # some number in [low, high] with this prefix: compare against padded bounds
            return int(digits + "0" * (self.length - n)) <= int(high) and int(
                digits + "9" * (self.length - n)
            ) >= int(low)
        return all(p == "x" or p == d for p, d in zip(self.pattern, digits, strict=False))

    def resolve(self, digits: str, directory: str = "") -> Transfer:
        """The transfer for an extension this entry matches, `{ext}` filled in, `via`
        naming the entry (`directory:pattern`)."""
        from dataclasses import replace

        return replace(
            self.action,
            target=self.action.target.replace("{ext}", digits),
            via=f"{directory}:{self.pattern}" if directory else self.pattern,
        )


class ExtensionIndex:
    """`Directory.lookup`, answered from an index built once, when the directory is made.

    Large directories are mostly lists of exact extensions; scanning all of them on
    every key (twice: for a match and for a longer one) would cost a 200-entry
    directory about 200 microseconds per key. Exact extensions go in a dict and a
    set of their prefixes; only the patterns (`1xx`) and ranges that can start with
    the first digit dialled are still scanned, with the entries' own `matches` and
    `could_start`, so the answers are `Directory.lookup`'s (a property test holds
    them equal).
    """

    __slots__ = ("entries", "exact", "name", "patterns", "prefixes")

    def __init__(self, name: str, entries: tuple[DirectoryEntry, ...]) -> None:
        self.name = name
        self.entries = entries
        self.exact: dict[str, int] = {}
        self.prefixes: set[str] = set()
        self.patterns: dict[str, list[tuple[int, DirectoryEntry]]] = {}
        """Patterns and ranges, by the first digits of the extensions they stand for."""
        for i, entry in enumerate(entries):
            pattern = entry.pattern
            if pattern.isdigit():
                self.exact.setdefault(pattern, i)
                self.prefixes.update(pattern[:n] for n in range(1, len(pattern)))
                continue
            for first in "0123456789":
                if entry.matches(first) or entry.could_start(first):
                    self.patterns.setdefault(first, []).append((i, entry))

    def lookup(self, digits: str) -> tuple[Match, Transfer | None]:
        match, entry = self.entry(digits)
        return match, (entry.resolve(digits, self.name) if entry is not None else None)

    def entry(self, digits: str) -> tuple[Match, DirectoryEntry | None]:
        """As `lookup`, giving the entry that matches rather than its transfer (built only
        when the extension is chosen)."""
        first = self.exact.get(digits)  # the file's first entry that matches wins
        candidates = self.patterns.get(digits[:1], ())
        for i, entry in candidates:
            if first is not None and i > first:
                break
            if entry.matches(digits):
                first = i
                break
        longer = digits in self.prefixes or any(e.could_start(digits) for _, e in candidates)
        if first is not None:
            return (Match.AMBIGUOUS if longer else Match.COMPLETE), self.entries[first]
        return (Match.PARTIAL if longer else Match.NONE), None


@dataclass(frozen=True, slots=True)
class Directory:
    """A named list of extensions that callers may dial; nothing outside it is reachable."""

    name: str
    entries: tuple[DirectoryEntry, ...]
    loc: Location = NOWHERE
    index: ExtensionIndex = field(init=False, repr=False, compare=False)
    """The entries indexed for `ExtensionIndex.lookup`, built with the directory: what a
    call asks on every key it presses."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", ExtensionIndex(self.name, self.entries))

    def lookup(self, digits: str) -> tuple[Match, Transfer | None]:
        """Classify `digits`; the transfer is given for AMBIGUOUS and COMPLETE.

        The reference answer, by scanning every entry; calls ask `index.lookup`, which
        answers the same from an index.
        """
        found: Transfer | None = None
        for entry in self.entries:
            if entry.matches(digits):
                found = entry.resolve(digits, self.name)
                break
        longer = any(entry.could_start(digits) for entry in self.entries)
        if found is not None:
            return (Match.AMBIGUOUS if longer else Match.COMPLETE), found
        return (Match.PARTIAL if longer else Match.NONE), None


# --- menus -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Menu:
    """One menu, with every inherited setting already filled in from `defaults`."""

    name: str
    greeting: Prompt
    """Played on entering the menu."""
    prompt: Prompt
    """The shorter version played on repeats (after no input or an invalid key)."""
    options: Mapping[Key, Action]
    directory: str | None = None
    """Name of a directory whose extensions may be dialled in this menu."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = field(default_factory=Limits)
    messages: Messages = field(default_factory=Messages)
    on_limit: Action = field(default_factory=Hangup)
    """What happens when the invalid limit is reached (typically the operator), and the
    no-input limit too unless `on_no_input_limit` says otherwise."""
    on_no_input_limit: Action | None = None
    """What happens when the no-input limit is reached (None: `on_limit`)."""
    on_transfer_failure: FailurePolicy | None = None
    voice: str | None = None
    """The voice for this menu's text (None: the router's configured voice)."""
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: _NO_PLACES)
    """Where parts of the menu were written, for findings that point inside it: field
    names (`greeting`, `prompt`, `directory`) and `options.<key>` (the key itself)."""

    def limit_action(self, kind: str) -> Action:
        """The action for a limit reached: `invalid` or `no_input`."""
        if kind == "no_input" and self.on_no_input_limit is not None:
            return self.on_no_input_limit
        return self.on_limit


# --- schedules and entry points --------------------------------------------------------


class Weekday(IntEnum):
    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


@dataclass(frozen=True, slots=True)
class Schedule:
    """Opening hours in one time zone; a holiday closes the whole day."""

    name: str
    timezone: str
    hours: Mapping[Weekday, tuple[tuple[time, time], ...]]
    """Open intervals per weekday, [start, end) in local time; a missing day is closed."""
    holidays: tuple[date, ...] = ()
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: _NO_PLACES)
    """Where parts of the schedule were written (`timezone`, `hours`, `holidays`)."""

    def is_open(self, at: datetime) -> bool:
        """Whether the schedule is open at an aware datetime."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(
            start <= now < end for start, end in self.hours.get(Weekday(local.weekday()), ())
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a call to one dialled number starts."""

    number: str
    """The dialled number (E.164), or `default`."""
    menu: str
    schedule: str | None = None
    closed: str | None = None
    """The menu used when `schedule` is closed."""
    language: str | None = None
    """The language calls to this number start in (None: the file's default language)."""
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: _NO_PLACES)
    """Where `menu`, `schedule` and `closed` were written."""


_WITHHELD = frozenset(
    {"", "anonymous", "withheld", "restricted", "private", "unknown", "unavailable"}
)
"""What SIP bridges and carriers put where a withheld caller's number would be."""


def caller_number(raw: str | None) -> str | None:
    """The caller's number as rules compare it: `+` and digits for anything that is a
    phone number (`15105550150`, `+1 510 555 0150`), None for a withheld caller (no
    number, `anonymous`, `restricted` ...), anything else as it is (a SIP user name)."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _WITHHELD:
        return None
    digits = "".join(c for c in text if c not in " ().-")
    if digits.lstrip("+").isdigit():
        return "+" + digits.lstrip("+")
    return text


@dataclass(frozen=True, slots=True)
class CallerPattern:
    """One item of a caller rule's `from`: a number, a prefix (`+1510*`) or `anonymous`."""

    text: str
    loc: Location = NOWHERE

    @property
    def withheld(self) -> bool:
        return self.text == "anonymous"

    @property
    def prefix(self) -> str | None:
        """The digits a prefix stands for (`+1510`), None for a number or `anonymous`."""
        return self.text[:-1] if self.text.endswith("*") else None

    def matches(self, caller: str | None) -> bool:
        """Whether a caller's number (`caller_number`'s answer) is one this item stands for."""
        if self.withheld:
            return caller is None
        if caller is None:
            return False
        prefix = self.prefix
        return caller.startswith(prefix) if prefix is not None else caller == self.text

    def covers(self, other: CallerPattern) -> bool:
        """Whether every caller `other` stands for is one this item stands for too."""
        if self.withheld or other.withheld:
            return self.withheld and other.withheld
        prefix = self.prefix
        if prefix is None:
            return other.text == self.text
        return (other.prefix or other.text).startswith(prefix)


@dataclass(frozen=True, slots=True)
class CallerRule:
    """A rule on the caller's number, tried before the dialled number's entry menu."""

    name: str
    """The rule's `name`, or `callers[N]` (N from 1): how notes and records name it,
    never with the caller's digits."""
    patterns: tuple[CallerPattern, ...]
    action: Action | None
    """A `GoTo` (the call starts in that menu), a `Transfer` (at once) or a `Hangup`; None
    for a rule that only sets the language (the call goes on to the number's entry)."""
    loc: Location = NOWHERE
    language: str | None = None
    """The language the call starts in (before the number's own)."""
    schedule: str | None = None
    closed: str | None = None
    """The menu the rule's calls start in while `schedule` is closed (read as a number's
    entry reads them); a rule without them applies at every hour."""
    where: Mapping[str, Location] = field(default_factory=lambda: _NO_PLACES)
    """Where `schedule` and `closed` were written."""

    def matches(self, caller: str | None) -> bool:
        return any(p.matches(caller) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Language:
    """One language of the file's `languages`: its code and the voice that speaks it."""

    code: str
    """As the file writes it (`en`, `es`, `es-419`): the keys of prompts in several languages."""
    voice: str
    """The voice its text is spoken in (an espeak-ng voice, or the TTS plugin's)."""
    loc: Location = NOWHERE


_UNFOLLOWED = frozenset({"where", "loc"})
"""Slots the walk of `values_of` does not look into: where parts were written (locations
made when asked for), and a value's own location (one per object, never a value)."""


@dataclass(frozen=True, slots=True)
class MenuFile:
    """A whole, loaded menu file: one version of the router's behaviour."""

    path: str
    version: str
    """A short digest of the file's bytes; a call keeps the version it started with."""
    menus: Mapping[str, Menu]
    entries: Mapping[str, Entry]
    """By dialled number; the key `default` is always present."""
    destinations: Mapping[str, Transfer] = field(default_factory=dict)
    directories: Mapping[str, Directory] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    callers: tuple[CallerRule, ...] = ()
    """Rules on the caller's number, in file order; the first that matches wins."""
    languages: Mapping[str, Language] = field(default_factory=dict)
    """The declared languages by code, the default first; empty: one language, unnamed."""
    _objects: list[object] = field(default_factory=list, init=False, repr=False, compare=False)
    """Every object of the file, made on the first `values_of` (a cache, not a value)."""

    @property
    def default_language(self) -> str | None:
        """The language calls start in unless a number or a caller rule says otherwise."""
        return next(iter(self.languages), None)

    def voice_for(self, prompt: Prompt, menu_voice: str | None) -> str | None:
        """The voice a prompt is spoken in: its language's, else the menu's (None: the
        router's configured voice)."""
        language = self.languages.get(prompt.language or "")
        return language.voice if language is not None else menu_voice

    def caller_rule(self, caller: str | None) -> CallerRule | None:
        """The first rule the caller's number (as the bridge gave it: `anonymous` or empty
        when withheld) matches, if any; None (no phone caller to judge) matches none."""
        if caller is None:
            return None
        number = caller_number(caller)
        return next((rule for rule in self.callers if rule.matches(number)), None)

    def entry_for(self, dialled: str | None) -> Entry:
        """The entry for a dialled number, tolerant of a missing `+`; else the default."""
        if dialled:
            for candidate in (dialled, "+" + dialled.lstrip("+")):
                if candidate in self.entries:
                    return self.entries[candidate]
        return self.entries["default"]

    def prompts(self) -> Iterator[Prompt]:
        """Every prompt a call on this file could play (each language's version of a prompt
        given in several), found by walking the model's values (`values_of`)."""
        for prompt in self.values_of(Prompt):
            if prompt.versions:
                yield from prompt.versions
            elif prompt:
                yield prompt

    def values_of(self, kind: type[_T]) -> Iterator[_T]:
        """Every value of `kind` in the file (prompts, actions, transfers ...), each object
        once, in file order, also those inside another (a failure policy's transfers),
        found by walking the model's values (`router.core.walk`): a new kind of action or
        setting that holds one is found without a change here. A prompt is not looked
        inside: its versions are parts of it (`prompts` lists them). The file is walked
        once, on the first call, and the list kept: every rule of the checker asks."""
        if not self._objects:
            found = objects_in(self, opaque=(Prompt,), ignored=(Location,), unfollowed=_UNFOLLOWED)
            self._objects.extend(found)
        return (value for value in self._objects if isinstance(value, kind))

    def start_menu(self, dialled: str | None, at: datetime) -> str:
        """The menu a call starts in, given the number dialled and the time of the call."""
        entry = self.entry_for(dialled)
        return self.closed_menu(entry.schedule, entry.closed, at) or entry.menu

    def closed_menu(self, schedule: str | None, closed: str | None, at: datetime) -> str | None:
        """`closed` when `schedule` is closed at `at` (an aware datetime), else None: a
        number's entry and a caller rule follow their opening hours alike."""
        if schedule and closed and not self.schedules[schedule].is_open(at):
            return closed
        return None
