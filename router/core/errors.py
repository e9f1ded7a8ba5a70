"""Every error the router reports, and where it happened.

    RouterError                     base of everything the router raises on purpose
    ├── MenuFileError               the menu file cannot be used; carries every Problem found
    ├── ConfigError                 missing or wrong settings (credentials, paths, ports)
    ├── TooBig                      (core/yamlsafe) a file over a reader's limit; the loaders
    │                               turn it into a Problem
    ├── UnplayableAudio             (runtime/audiofile) a recording that cannot be played;
    │   └── TooLong                 one over the length limit; both become Problems
    ├── StackError                  the local LiveKit stack could not be installed or started
    │   ├── InstallError            (stack/install) a binary or package could not be had
    │   └── ImageError              (stack/image) the container image could not be built or run
    ├── ProtocolError               (also a ValueError) bytes the test phone cannot parse
    │   ├── SipParseError           (stack/sipphone/headers) a SIP message
    │   ├── SdpError                (stack/sipphone/sdp) an SDP body
    │   └── RtpError                (stack/sipphone/rtp) an RTP packet
    └── CallError                   (stack/sipphone/dialog) the test phone was asked the impossible

A `Problem` is one finding of the loader or checker: a severity, a message, an
optional hint, and the `Location` it points at. Problems are collected, never
raised one by one, so an admin sees all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "ConfigError",
    "Location",
    "MenuFileError",
    "Problem",
    "ProtocolError",
    "RouterError",
    "Severity",
    "StackError",
]


class Location(NamedTuple):
    """A place in a file; line and column count from 1, as editors show them.

    Immutable, ordered (file, line, column) and hashable like the frozen dataclass it
    was, but a tuple: made in half the instructions (2,900 against 5,600, callgrind), and a
    file of 10,000 menus keeps 120,000 of them (docs/benchmarks.md §6)."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(StrEnum):
    ERROR = "error"
    """The file is refused."""
    WARNING = "warning"
    """The file works, but something in it is probably not what the admin meant."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a menu file."""

    location: Location
    message: str
    severity: Severity = Severity.ERROR
    hint: str | None = None
    """A suggestion, e.g. "did you mean 'greeting'?"."""
    code: str = ""
    """A short stable identifier of the rule (e.g. "unknown-key"), for tests and tools."""

    def __post_init__(self) -> None:
        # A problem is one line wherever it is shown (terminal, log, editor): values
        # quoted from the file may span lines (a plain scalar continued on the next
        # line, a quoted "\n"), so their line breaks are folded as YAML folds them.
        for name in ("message", "hint"):
            text = getattr(self, name)
            if text is not None and text.splitlines() != [text]:
                object.__setattr__(self, name, " ".join(text.split()))

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity.value}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class RouterError(Exception):
    """Base of the router's own errors: a message meant for a person, not a traceback."""


class MenuFileError(RouterError):
    """The menu file was refused; `problems` holds every error (and warning) found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity is Severity.ERROR]
        first = errors[0] if errors else (problems[0] if problems else None)
        summary = f"{len(errors)} error(s) in the menu file" + (
            f"; first: {first}" if first else ""
        )
        super().__init__(summary)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]


class ConfigError(RouterError):
    """A setting is missing or wrong; the message names it."""


class StackError(RouterError):
    """A part of the local stack could not be installed or started; the message names it."""


class ProtocolError(RouterError, ValueError):
    """Bytes on the wire that the test phone cannot read (SIP, SDP, RTP); says what is wrong."""
