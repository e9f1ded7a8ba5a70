"""A test file as values: its cases and what each expects (docs/menu-tests.md).

Read by `router.admin.menutest.reading`, run by `.running`; frozen, so a case read
once is run as written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from router.admin.simulate import ScriptedTransfer
from router.core.errors import Location
from router.core.events import EndReason
from router.core.values import SCHEMES

__all__ = [
    "DEFAULT_MENU_FILE",
    "DEFAULT_TEST_FILE",
    "Case",
    "Expectation",
    "TestFile",
    "WantedTransfer",
]

DEFAULT_TEST_FILE = "menus.test.yaml"
"""What `router test` reads when no file is named."""
DEFAULT_MENU_FILE = "menus.yaml"
"""The menu file a test file tests when it names none, beside the test file."""


@dataclass(frozen=True, slots=True)
class WantedTransfer:
    """The transfer a case expects, as the test file wrote it: a `tel:`/`sip:` URI the call
    must reach, or the name of one of the menu file's destinations."""

    text: str
    """As written (`str()` gives it back): messages quote it."""
    is_uri: bool
    """A URI (compared with the transfer's target), not a destination's name (compared
    with the destination the menu named)."""

    @classmethod
    def of(cls, text: str) -> WantedTransfer:
        """`expect: {transfer: TEXT}` read once: a URI by its scheme
        (`router.core.values.SCHEMES`, as the menu file tells its targets), else a name."""
        return cls(text, text.startswith(SCHEMES))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Expectation:
    """Where a case's call must end up."""

    transfer: WantedTransfer | None = None
    """Where the call must be transferred to: a URI, or a destination's name."""
    hangup: bool = False
    """The call must end without a transfer."""
    reason: EndReason | None = None
    """With `hangup`: the exact way it ends (`transfer_limit`, `key_limit`, ...)."""
    menus: tuple[str, ...] | None = None
    """Every menu entered, in order (returns by `back` and `top` included), if given."""
    ringing_timeout_s: float | None = None
    """With `transfer`: the seconds the transfer lets the far end ring."""
    play_dialtone: bool | None = None
    """With `transfer`: whether the caller hears a ring tone while it is made."""
    headers: Mapping[str, str] | None = None
    """With `transfer`: SIP headers it must send, with these values (others may be sent too)."""
    hears: tuple[str, ...] = ()
    """Words the caller must hear: each a part of some prompt of the call (any case)."""
    voice: str | None = None
    """The voice every spoken prompt of the call must use (`default`: the router's own)."""
    language: str | None = None
    """The caller's language when the call ends (a file with `languages`)."""
    loc: Location = field(default_factory=lambda: Location("<none>"))
    where: Mapping[str, Location] = field(default_factory=dict)
    """Where `transfer` and each of `menus` were written, for errors found later."""

    def __str__(self) -> str:
        if self.transfer is not None:
            text = f"transfer {self.transfer}"
        else:
            text = "hangup" + (f" ({self.reason.value})" if self.reason else "")
        if self.menus is not None:
            text += f" via {' > '.join(self.menus) or '(no menu)'}"
        return text


@dataclass(frozen=True, slots=True)
class Case:
    """One expected call path."""

    name: str
    number: str | None
    """The number dialled; None is the menu file's `default` entry."""
    at: datetime
    keys: str
    """Keys in simulate's grammar: keypad symbols, `.` for a time-out."""
    results: tuple[ScriptedTransfer, ...]
    """How transfers end, in turn; the last one repeats."""
    expect: Expectation
    loc: Location
    caller: str | None = None
    """The caller's number (E.164, or `anonymous`); None: a caller no rule names."""
    language: str | None = None
    """The language the call starts in (None: the number's, a caller rule's, the file's)."""


@dataclass(frozen=True, slots=True)
class TestFile:
    """A whole test file: the menu file it tests and its cases."""

    path: str
    menu_file: str
    """Path of the menu file, resolved against the test file's folder."""
    cases: tuple[Case, ...]
