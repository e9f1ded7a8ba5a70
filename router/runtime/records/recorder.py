"""One call's record built from the navigator's notes, by the `CallRecorder`.

The navigator already says everything worth recording (its typed notes,
`router.core.events.AnyNote`); the recorder only adds the call's identity and clock,
masks the caller's number, and gives the record when the call ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from router.core.events import (
    AnyNote,
    CallerMatched,
    CallFinished,
    DuplicateKey,
    EndReason,
    InvalidEntry,
    KeyIgnored,
    KeyPressed,
    LanguageChosen,
    LimitReached,
    MenuEntered,
    NoInput,
    TransferConnected,
    TransferFailure,
    TransferStarted,
)
from router.runtime.records.masking import destination_label, mask_number
from router.runtime.records.schema import CallRecord, KeyEntry, LimitEntry, MenuVisit, TransferEntry

__all__ = ["MAX_KEYS_RECORDED", "CallRecorder"]

MAX_KEYS_RECORDED = 200
"""Key entries kept in one record; a DTMF storm is counted, not written out key by key."""


@dataclass
class CallRecorder:
    """Collects one call's record from the navigator's notes; `record()` gives it."""

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
    menus: list[MenuVisit] = field(default_factory=list)
    keys: list[KeyEntry] = field(default_factory=list)
    timeouts: int = 0
    invalid: int = 0
    transfers: list[TransferEntry] = field(default_factory=list)
    end_reason: EndReason | None = None
    """How the call ended (`CallRecord.end`): always a member here; only the record's
    readers meet text (a newer router's reason)."""
    ended_in: str | None = None
    """The menu the call was in when the navigator ended it (metrics' `calls_ended{menu}`)."""
    invalid_in: dict[str, int] = field(default_factory=dict)
    timeouts_in: dict[str, int] = field(default_factory=dict)
    limits: list[LimitEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keys_dropped: int = 0
    """Keys beyond `MAX_KEYS_RECORDED`, counted and not written out."""
    duplicate_keys: int = 0
    """Copies of a key the bridge delivered within the repeat window, dropped unacted."""
    caller_rule: str | None = None
    """The caller rule that matched (`CallRecord.caller_rule`), if one did."""
    language: str | None = None
    """The caller's language at the end (`CallRecord.language`), in a file with languages."""

    def _t(self, now: float) -> float:
        return round(now - self.started, 3)

    def note(self, note: AnyNote) -> None:
        match note:
            case MenuEntered(menu=menu):
                self.menus.append(MenuVisit(menu or "", self._t(note.now)))
            case KeyPressed() | KeyIgnored() if len(self.keys) >= MAX_KEYS_RECORDED:
                self.keys_dropped += 1
            case KeyPressed(key=key, menu=menu):
                self.keys.append(KeyEntry(key.value, self._t(note.now), menu))
            case KeyIgnored(key=key):
                self.keys.append(KeyEntry(key.value, self._t(note.now), ignored=True))
            case DuplicateKey():
                self.duplicate_keys += 1
            case CallerMatched(rule=rule):
                self.caller_rule = rule
            case LanguageChosen(language=language):
                self.language = language
            case InvalidEntry(menu=menu):
                self.invalid += 1
                self.invalid_in[menu or ""] = self.invalid_in.get(menu or "", 0) + 1
            case NoInput(menu=menu):
                self.timeouts += 1
                self.timeouts_in[menu or ""] = self.timeouts_in.get(menu or "", 0) + 1
            case LimitReached(limit=limit, menu=menu) if len(self.limits) < MAX_KEYS_RECORDED:
                self.limits.append(LimitEntry(limit, self._t(note.now), menu))
            case TransferStarted(target=target, destination=destination):
                label = destination_label(destination, target)
                self.transfers.append(TransferEntry(target, label, self._t(note.now)))
            case TransferConnected() | TransferFailure() if self.transfers:
                self.transfers[-1] = self.transfers[-1].answered(note, self._t(note.now))
            case CallFinished(reason=reason, menu=menu):
                self.end_reason = reason
                self.ended_in = menu
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

    @property
    def masked_call_id(self) -> str:
        """The call id as records and logs show it (the caller's number masked in it)."""
        return self._hide_caller(self.call_id)

    def record(self, ended: float) -> CallRecord:
        """The record of the call, ended at monotonic time `ended`."""
        started_at = self.started_at.astimezone(UTC)
        ended_at = started_at + timedelta(seconds=max(0.0, ended - self.started))
        return CallRecord(
            call_id=self.masked_call_id,
            room=self._hide_caller(self.room),
            started_at=started_at.isoformat(timespec="milliseconds"),
            ended_at=ended_at.isoformat(timespec="milliseconds"),
            answered=None if self.answered is None else self._t(self.answered),
            dialled=self.dialled,
            caller=mask_number(self.caller) if self.mask_caller else self.caller,
            menu_version=self.menu_version,
            menus=tuple(self.menus),
            keys=tuple(self.keys),
            keys_not_recorded=self.keys_dropped,
            duplicate_keys=self.duplicate_keys,
            timeouts=self.timeouts,
            invalid=self.invalid,
            invalid_in=MappingProxyType(dict(self.invalid_in)),
            timeouts_in=MappingProxyType(dict(self.timeouts_in)),
            limits=tuple(self.limits),
            transfers=tuple(self.transfers),
            end=self.end_reason,
            ended_in=self.ended_in,
            duration=self._t(ended),
            errors=tuple(self.errors),
            caller_rule=self.caller_rule,
            language=self.language,
        )

    def as_dict(self, ended: float) -> dict[str, Any]:
        """`record(ended)` as its JSON object."""
        return self.record(ended).as_dict()
