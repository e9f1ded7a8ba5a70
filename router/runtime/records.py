"""A record of every call, one JSON line each, built from the navigator's notes.

The navigator already says everything worth recording (its typed notes,
`router.core.events.AnyNote`); the record is one typed schema (`CallRecord` and its
entries, frozen dataclasses written out as today's JSON by `as_dict()`), and the
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn

from router.core.errors import ConfigError
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
from router.runtime.outcomes import TransferOutcome

log = logging.getLogger(__name__)

__all__ = [
    "CallRecord",
    "CallRecorder",
    "KeyEntry",
    "LimitEntry",
    "MenuVisit",
    "RecordSink",
    "TransferEntry",
    "destination_label",
    "mask_digits",
    "mask_number",
]

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

    def write(self, record: CallRecord | Mapping[str, Any]) -> None:
        body = record.as_dict() if isinstance(record, CallRecord) else record
        line = json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n"
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


# --- the record, as typed values --------------------------------------------------------
# Typed, immutable rows (NamedTuple rather than the package's usual frozen dataclass):
# `router report` builds a million of them from JSON lines, and a frozen dataclass's
# __init__ sets each field through object.__setattr__ (6 us for a record's 22 fields,
# a NamedTuple 1 us; docs/benchmarks.md, router report).


class MenuVisit(NamedTuple):
    """`menus[]`: a menu entered, `t` seconds after the call started."""

    menu: str
    t: float

    def as_dict(self) -> dict[str, object]:
        return {"menu": self.menu, "t": self.t}


class KeyEntry(NamedTuple):
    """`keys[]`: a key acted on (with its menu), or ignored (`ignored: true`, no menu)."""

    key: str
    t: float
    menu: str | None = None
    ignored: bool = False

    def as_dict(self) -> dict[str, object]:
        if self.ignored:
            return {"key": self.key, "t": self.t, "ignored": True}
        return {"key": self.key, "t": self.t, "menu": self.menu}


class LimitEntry(NamedTuple):
    """`limits[]`: a limit reached (`router.core.events.Limit`) and where."""

    limit: str
    t: float
    menu: str | None

    def as_dict(self) -> dict[str, object]:
        return {"limit": self.limit, "t": self.t, "menu": self.menu}


class TransferEntry(NamedTuple):
    """`transfers[]`: one transfer. A pending one has only the first four fields; an
    answered one its `duration` and `sip_status` (200 for a success); a failed one also
    its `kind` and `detail` (`busy 486: what LiveKit said`)."""

    target: str
    destination: str
    """How metrics name it (`destination_label`)."""
    t: float
    result: str = TransferOutcome.UNFINISHED.result
    """`succeeded`, `failed` or `pending` (`TransferOutcome.result`)."""
    duration: float | None = None
    sip_status: int | None = None
    kind: str | None = None
    """The failure's kind (`FailureKind`), for a failed transfer."""
    detail: str | None = None

    @property
    def outcome(self) -> TransferOutcome:
        """How it ended, from `result` and `kind` as written (`TransferOutcome`)."""
        if self.result == "succeeded":
            return TransferOutcome.SUCCEEDED
        if self.result == "pending":
            return TransferOutcome.UNFINISHED
        if self.kind in _FAILURE_KINDS:
            return TransferOutcome(self.kind)
        return TransferOutcome.of_failure(self.kind, self.detail, self.sip_status)

    def answered(self, note: TransferConnected | TransferFailure, t: float) -> TransferEntry:
        """This transfer as its answer (the navigator's note) leaves it."""
        duration = round(t - self.t, 3)
        if isinstance(note, TransferConnected):
            result, _ = TransferOutcome.SUCCEEDED.labels
            return self._replace(result=result, duration=duration, sip_status=200)
        result, kind = TransferOutcome.of(note.kind).labels
        return self._replace(
            result=result,
            duration=duration,
            sip_status=note.sip_status,
            kind=kind,
            detail=note.summary,
        )

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "target": self.target,
            "destination": self.destination,
            "t": self.t,
            "result": self.result,
        }
        if self.result == TransferOutcome.UNFINISHED.result:
            return out
        out["duration"] = self.duration
        out["sip_status"] = self.sip_status
        if self.result != TransferOutcome.SUCCEEDED.result:
            out["kind"] = self.kind
            out["detail"] = self.detail
        return out


class CallRecord(NamedTuple):
    """One call's record: docs/runtime.md, "Call records". `as_dict()` is the JSON line,
    with its keys in this order."""

    call_id: str
    room: str
    started_at: str
    """ISO 8601, UTC, to the millisecond."""
    ended_at: str
    answered: float | None
    """Seconds from `started_at` to the answer; None if the call was never answered."""
    dialled: str | None
    caller: str | None
    """Masked (last four digits) unless `--show-caller-numbers`."""
    menu_version: str
    menus: tuple[MenuVisit, ...]
    keys: tuple[KeyEntry, ...]
    keys_not_recorded: int
    duplicate_keys: int
    timeouts: int
    invalid: int
    invalid_in: Mapping[str, int] | None
    """Invalid entries per menu; None in records written before it was kept."""
    timeouts_in: Mapping[str, int] | None
    """No-input time-outs per menu; None in records written before it was kept."""
    limits: tuple[LimitEntry, ...]
    transfers: tuple[TransferEntry, ...]
    end: str | None
    """An `EndReason` value."""
    ended_in: str | None
    duration: float
    errors: tuple[str, ...]
    caller_rule: str | None = None
    """The caller rule that matched (its name, or `callers[N]`), if one did."""
    language: str | None = None
    """The caller's language at the end (a file with `languages`; None otherwise)."""

    @classmethod
    def from_json(cls, obj: object) -> CallRecord:
        """The record of a JSON line (`json.loads` of it), as any version of the router
        wrote it: what `router report` reads.

        The fields the report counts by are checked; a ValueError says in a few words
        which is wrong (`started_at`, an ISO time with its zone, and `end` are required).
        Records of older routers are read as they were meant: without `ended_in`, the
        last menu entered (none for a call that ended before one); without per-menu
        counts, None; a transfer without `destination` is named by its target, masked
        (`destination_label`), one without `kind` by its detail or SIP status
        (`TransferOutcome.of_record`). Other fields of the wrong type take their empty
        value. (No error class of its own: the package's errors are drawn in
        router/core/errors.py.)
        """
        # checks inline, `_wrong` only to word a failure: a million lines go through here
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        get = obj.get
        started = get("started_at")
        if not isinstance(started, str):
            _wrong(str, "started_at")
        try:
            at = datetime.fromisoformat(started)
        except ValueError:
            raise ValueError(f"`started_at` is not an ISO time: {started[:40]!r}") from None
        if at.tzinfo is None:
            raise ValueError("`started_at` has no time zone")
        end = get("end")
        if not isinstance(end, str):
            _wrong(str, "end")
        menus: list[MenuVisit] = []
        for m in _list(get("menus", _NONE), "menus"):
            name = m.get("menu") if isinstance(m, dict) else _wrong(dict, "menus[]")
            if not isinstance(name, str):
                _wrong(str, "menus[].menu")
            t = m.get("t")
            menus.append(MenuVisit(name, t if type(t) is float else _t(t)))
        keys: list[KeyEntry] = []
        for k in _list(get("keys", _NONE), "keys"):
            if not isinstance(k, dict):
                _wrong(dict, "keys[]")
            key = k.get("key")
            if k.get("ignored"):
                t = k.get("t")
                keys.append(KeyEntry(key if isinstance(key, str) else "", _t(t), None, True))
                continue
            if not isinstance(key, str):
                _wrong(str, "keys[].key")
            menu, t = k.get("menu"), k.get("t")
            keys.append(
                KeyEntry(
                    key,
                    t if type(t) is float else _t(t),
                    menu if isinstance(menu, str) else None,
                )
            )
        transfers: list[TransferEntry] = []
        for tr in _list(get("transfers", _NONE), "transfers"):
            if not isinstance(tr, dict):
                _wrong(dict, "transfers[]")
            outcome = TransferOutcome.of_record(tr)
            if outcome is None:
                raise ValueError(f"a transfer's `result` is {tr.get('result')!r}")
            target = tr.get("target")
            if not isinstance(target, str):
                _wrong(str, "transfers[].target")
            t = tr.get("t", 0.0)
            if not isinstance(t, int | float) or isinstance(t, bool):
                _wrong((int, float), "transfers[].t")
            result, kind = _ENTRY_LABELS.get(outcome) or ("failed", outcome.value)
            transfers.append(
                TransferEntry(
                    target,
                    destination_label(_text(tr.get("destination")), target),
                    float(t),
                    result,
                    _number(tr.get("duration")),
                    _integer(tr.get("sip_status")),
                    kind,
                    _text(tr.get("detail")),
                )
            )
        limits: list[LimitEntry] = []
        for lim in _list(get("limits", _NONE), "limits"):
            kind = lim.get("limit") if isinstance(lim, dict) else _wrong(dict, "limits[]")
            if not isinstance(kind, str):
                _wrong(str, "limits[].limit")
            limits.append(LimitEntry(kind, _t(lim.get("t")), _text(lim.get("menu"))))
        ended_in = get("ended_in", _UNSET)
        if ended_in is _UNSET:  # records before `ended_in`: the last menu entered
            ended_in = menus[-1].menu if menus and end not in _EARLY_ENDS else None
        invalid_in = _counts(get("invalid_in"), "invalid_in")
        timeouts_in = _counts(get("timeouts_in"), "timeouts_in")
        invalid = get("invalid", 0)
        if type(invalid) is not int:
            _wrong(int, "invalid")
        timeouts = get("timeouts", 0)
        if type(timeouts) is not int:
            _wrong(int, "timeouts")
        errors = get("errors")
        call_id, room, ended_at = get("call_id"), get("room"), get("ended_at")
        dialled, caller, version = get("dialled"), get("caller"), get("menu_version")
        return cls(
            call_id if isinstance(call_id, str) else "",
            room if isinstance(room, str) else "",
            started,
            ended_at if isinstance(ended_at, str) else "",
            _number(get("answered")),
            dialled if isinstance(dialled, str) else None,
            caller if isinstance(caller, str) else None,
            version if isinstance(version, str) else "unknown",
            tuple(menus),
            tuple(keys),
            _integer(get("keys_not_recorded")) or 0,
            _integer(get("duplicate_keys")) or 0,
            timeouts,
            invalid,
            invalid_in,
            timeouts_in,
            tuple(limits),
            tuple(transfers),
            end,
            _text(ended_in),
            _number(get("duration")) or 0.0,
            tuple(e for e in errors if isinstance(e, str)) if errors else (),
            _text(get("caller_rule")),
            _text(get("language")),
        )

    @property
    def started(self) -> datetime:
        """`started_at` as an aware datetime."""
        return datetime.fromisoformat(self.started_at)

    @property
    def transfer(self) -> TransferEntry | None:
        """The last transfer (`transfer` in the JSON line)."""
        return self.transfers[-1] if self.transfers else None

    def as_dict(self) -> dict[str, Any]:
        transfers = [t.as_dict() for t in self.transfers]
        out = {
            "call_id": self.call_id,
            "room": self.room,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "answered": self.answered,
            "dialled": self.dialled,
            "caller": self.caller,
            "menu_version": self.menu_version,
            "menus": [m.as_dict() for m in self.menus],
            "keys": [k.as_dict() for k in self.keys],
            "keys_not_recorded": self.keys_not_recorded,
            "duplicate_keys": self.duplicate_keys,
            "timeouts": self.timeouts,
            "invalid": self.invalid,
            "invalid_in": None if self.invalid_in is None else dict(self.invalid_in),
            "timeouts_in": None if self.timeouts_in is None else dict(self.timeouts_in),
            "limits": [lim.as_dict() for lim in self.limits],
            "transfer": transfers[-1] if transfers else None,
            "transfers": transfers,
            "end": self.end,
            "ended_in": self.ended_in,
            "duration": self.duration,
            "errors": list(self.errors),
        }
        # only when there is one: records of files without caller rules or languages
        # stay as they were, byte for byte
        if self.caller_rule is not None:
            out["caller_rule"] = self.caller_rule
        if self.language is not None:
            out["language"] = self.language
        return out


_UNSET = object()
_ENTRY_LABELS: Mapping[TransferOutcome, tuple[str, None]] = {
    TransferOutcome.SUCCEEDED: ("succeeded", None),
    TransferOutcome.UNFINISHED: ("pending", None),
}
"""(`result`, `kind`) of an entry that did not fail; a failed one is ("failed", its kind)."""
_FAILURE_KINDS = frozenset(o.value for o in TransferOutcome if o.failure is not None)
_NO_COUNTS: Mapping[str, int] = MappingProxyType({})
_NONE: list[Any] = []
"""A list field a record does not have (older records): nothing of it; never changed."""
_EARLY_ENDS = frozenset({EndReason.LEFT_BEFORE_JOIN.value, EndReason.LEFT_BEFORE_ANSWER.value})
"""Ends before any menu (`EndReason`): such a record has no `ended_in`."""
_KIND_NAMES: dict[object, str] = {
    str: "a string",
    list: "a list",
    dict: "an object",
    int: "a number",
    (int, float): "a number",
}


def _need(value: object, kind: type | tuple[type, ...], name: str) -> Any:
    """`value` if it is of `kind` (a bool is not a number); else ValueError naming it."""
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        _wrong(kind, name)
    return value


def _wrong(kind: type | tuple[type, ...], name: str) -> NoReturn:
    """The ValueError of a field `name` that is not of `kind`."""
    raise ValueError(f"`{name}` is not {_KIND_NAMES.get(kind, 'valid')}")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _t(t: object) -> float:
    """An entry's `t` (a float as written; an int from a hand-made line; else 0)."""
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) else 0.0


def _list(value: object, name: str) -> list[Any]:
    if isinstance(value, list):
        return value
    return _need(value, list, name)  # type: ignore[no-any-return]


def _counts(value: object, name: str) -> Mapping[str, int] | None:
    if value is None:
        return None
    if not value and isinstance(value, dict):
        return _NO_COUNTS
    counts: dict[str, int] = {}
    for menu, n in _need(value, dict, name).items():
        counts[str(menu)] = _need(n, int, f"{name}{{}}")
    return counts


# --- building it from the notes ---------------------------------------------------------


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
    end_reason: str | None = None
    ended_in: str | None = None
    """The menu the call was in when the navigator ended it (metrics' `calls_ended{menu}`)."""
    invalid_in: dict[str, int] = field(default_factory=dict)
    timeouts_in: dict[str, int] = field(default_factory=dict)
    limits: list[LimitEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    keys_dropped: int = 0
    duplicate_keys: int = 0
    caller_rule: str | None = None
    language: str | None = None
    """Copies of a key the bridge delivered within the repeat window, dropped unacted."""

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
                self.limits.append(LimitEntry(limit.value, self._t(note.now), menu))
            case TransferStarted(target=target, destination=destination):
                label = destination_label(destination, target)
                self.transfers.append(TransferEntry(target, label, self._t(note.now)))
            case TransferConnected() | TransferFailure() if self.transfers:
                self.transfers[-1] = self.transfers[-1].answered(note, self._t(note.now))
            case CallFinished(reason=reason, menu=menu):
                self.end_reason = reason.value
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
