"""A record of every call, one JSON line each, built from the navigator's notes.

The navigator already says everything worth recording (`Note` effects); the
recorder only adds the call's identity and clock, masks the caller's number, and
writes the line when the call ends. Sinks are shared by every call in the process,
so writes are serialised and each line is written whole.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from router.core.errors import ConfigError
from router.core.events import Note, NoteKind
from router.runtime.outcomes import TransferOutcome

log = logging.getLogger(__name__)

__all__ = ["CallRecorder", "RecordSink", "destination_label", "mask_digits", "mask_number"]

MAX_KEYS_RECORDED = 200
"""Key entries kept in one record; a DTMF storm is counted, not written out key by key."""

_PHONE_DIGITS = re.compile(r"\d{7,}")


def mask_number(number: str | None, *, keep: int = 4) -> str | None:
    """`+15105550123` -> `*******0123`: enough to recognise a call, not to dial back."""
    if not number:
        return number
    if keep <= 0:
        return "*" * len(number)
    if len(number) <= keep:
        return "*" * len(number)
    return "*" * (len(number) - keep) + number[-keep:]


def mask_digits(text: str) -> str:
    """Mask every run of 7+ digits (a phone number) in free text: identities, room names."""
    return _PHONE_DIGITS.sub(lambda m: mask_number(m.group()) or "", text)


def destination_label(destination: str | None, target: str) -> str:
    """How records, metrics and logs name a transfer, bounded by the menu file and free of
    dialled digits: the destination's name or directory entry (`staff:6xxx`), else the
    URI the file wrote with any phone number masked."""
    return destination or mask_digits(target)


class RecordSink:
    """Where call records go: a file (appended) or stdout; `None` path means stdout.

    The file is opened for each record: a rotated or deleted file is simply created
    again, and a write that fails (disk full, permissions changed) loses nothing: the
    record goes to the log instead.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def check(self) -> None:
        """Fail now, in one sentence, if records cannot be written: at start, not at the
        end of the first call."""
        if not self.path:
            return
        try:
            open(self.path, "a", encoding="utf-8").close()  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(
                f"cannot write call records to {self.path}: {exc.strerror or exc}"
            ) from None

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if not self.path:
                sys.stdout.write(line)
                sys.stdout.flush()
                return
            try:
                with open(self.path, "a", encoding="utf-8") as out:
                    out.write(line)
            except OSError as exc:
                log.error(
                    "cannot write a call record to %s (%s); the record: %s",
                    self.path,
                    exc.strerror or exc,
                    line.rstrip(),
                )

    def close(self) -> None:
        """Nothing stays open between records; kept for callers that close sinks."""


@dataclass
class CallRecorder:
    """Collects one call's record; `finish()` writes it."""

    call_id: str
    room: str
    dialled: str | None
    caller: str | None
    menu_version: str
    started_at: datetime
    started: float
    """Monotonic time the router got the call (joined its room), the zero of every `t`."""
    mask_caller: bool = True
    answered: float | None = None
    """Monotonic time the SIP bridge reported the call answered; None if it never did."""
    menus: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    timeouts: int = 0
    invalid: int = 0
    transfers: list[dict[str, Any]] = field(default_factory=list)
    end_reason: str | None = None
    ended_in: str | None = None
    """The menu the call was in when the navigator ended it (metrics' `calls_ended{menu}`)."""
    invalid_in: dict[str, int] = field(default_factory=dict)
    timeouts_in: dict[str, int] = field(default_factory=dict)
    limits: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keys_dropped: int = 0
    duplicate_keys: int = 0
    """Copies of a key the bridge delivered within the repeat window, dropped unacted."""

    def _t(self, now: float) -> float:
        return round(now - self.started, 3)

    def note(self, note: Note) -> None:
        t = self._t(note.now)
        match note.kind:
            case NoteKind.MENU_ENTERED:
                self.menus.append({"menu": note.menu or note.detail, "t": t})
            case NoteKind.KEY | NoteKind.IGNORED_KEY if len(self.keys) >= MAX_KEYS_RECORDED:
                self.keys_dropped += 1
            case NoteKind.KEY:
                self.keys.append({"key": note.detail, "t": t, "menu": note.menu})
            case NoteKind.IGNORED_KEY:
                self.keys.append({"key": note.detail, "t": t, "ignored": True})
            case NoteKind.DUPLICATE_KEY:
                self.duplicate_keys += 1
            case NoteKind.INVALID:
                self.invalid += 1
                menu = note.menu or ""
                self.invalid_in[menu] = self.invalid_in.get(menu, 0) + 1
            case NoteKind.NO_INPUT:
                self.timeouts += 1
                menu = note.menu or ""
                self.timeouts_in[menu] = self.timeouts_in.get(menu, 0) + 1
            case NoteKind.LIMIT_REACHED if len(self.limits) < MAX_KEYS_RECORDED:
                self.limits.append({"limit": note.detail, "t": t, "menu": note.menu})
            case NoteKind.TRANSFER_STARTED:
                self.transfers.append(
                    {
                        "target": note.detail,
                        "destination": destination_label(note.destination, note.detail),
                        "t": t,
                        "result": TransferOutcome.UNFINISHED.result,
                    }
                )
            case NoteKind.TRANSFER_SUCCEEDED | NoteKind.TRANSFER_FAILED:
                if self.transfers:
                    last = self.transfers[-1]
                    ok = note.kind is NoteKind.TRANSFER_SUCCEEDED
                    if ok:
                        outcome = TransferOutcome.SUCCEEDED
                    elif note.failure is not None:
                        outcome = TransferOutcome.of(note.failure)
                    else:  # a note made outside the navigator, without the kind
                        outcome = TransferOutcome.of_failure(None, note.detail, note.sip_status)
                    last["result"], kind = outcome.labels
                    last["duration"] = round(t - last["t"], 3)
                    last["sip_status"] = 200 if ok else note.sip_status
                    if not ok:
                        last["kind"] = kind
                        last["detail"] = note.detail
            case NoteKind.ENDED:
                self.end_reason = note.detail
                self.ended_in = note.menu
            case _:
                pass

    def _hide_caller(self, text: str) -> str:
        """Mask the caller's number inside other fields (room names carry it whole)."""
        if not (self.mask_caller and self.caller):
            return text
        digits = self.caller.lstrip("+")
        if len(digits) <= 4:
            return text
        return text.replace(digits, mask_number(digits) or "")

    def as_dict(self, ended: float) -> dict[str, Any]:
        started_at = self.started_at.astimezone(UTC)
        ended_at = started_at + timedelta(seconds=max(0.0, ended - self.started))
        return {
            "call_id": self._hide_caller(self.call_id),
            "room": self._hide_caller(self.room),
            "started_at": started_at.isoformat(timespec="milliseconds"),
            "ended_at": ended_at.isoformat(timespec="milliseconds"),
            "answered": None if self.answered is None else self._t(self.answered),
            "dialled": self.dialled,
            "caller": mask_number(self.caller) if self.mask_caller else self.caller,
            "menu_version": self.menu_version,
            "menus": self.menus,
            "keys": self.keys,
            "keys_not_recorded": self.keys_dropped,
            "duplicate_keys": self.duplicate_keys,
            "timeouts": self.timeouts,
            "invalid": self.invalid,
            "invalid_in": self.invalid_in,
            "timeouts_in": self.timeouts_in,
            "limits": self.limits,
            "transfer": self.transfers[-1] if self.transfers else None,
            "transfers": self.transfers,
            "end": self.end_reason,
            "ended_in": self.ended_in,
            "duration": self._t(ended),
            "errors": self.errors,
        }
