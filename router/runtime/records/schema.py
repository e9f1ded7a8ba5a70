"""The call record as typed values: its entries, `CallRecord`, its JSON line and back.

One schema for the writer (the recorder) and the readers (`router report`, the soak):
docs/runtime.md, "Call records".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from router.core.events import EndReason, Limit, TransferConnected, TransferFailure
from router.core.model import FailureKind
from router.runtime.outcomes import TransferOutcome, TransferResult
from router.runtime.records.fields import (
    counts_field,
    entry_time,
    int_or_none,
    list_field,
    number_or_none,
    text_or_none,
    wrong,
)
from router.runtime.records.masking import destination_label

__all__ = ["CallRecord", "KeyEntry", "LimitEntry", "MenuVisit", "TransferEntry"]

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
    """`limits[]`: a limit reached and where."""

    limit: Limit | str
    """A `Limit`; text only for a limit this router does not know (a newer router's record,
    read back by `CallRecord.from_json`)."""
    t: float
    menu: str | None

    def as_dict(self) -> dict[str, object]:
        return {"limit": str(self.limit), "t": self.t, "menu": self.menu}


class TransferEntry(NamedTuple):
    """`transfers[]`: one transfer. A pending one has only the first four fields; an
    answered one its `duration` and `sip_status` (200 for a success LiveKit answered); a
    failed one also its `kind` and `detail` (`busy 486: what LiveKit said`); a success the
    router only inferred (LiveKit gave no outcome) no `sip_status` and, as `detail`, why it
    was taken for one."""

    target: str
    destination: str
    """How metrics name it (`destination_label`)."""
    t: float
    outcome: TransferOutcome = TransferOutcome.UNFINISHED
    """How it ended: the JSON line's `result` and `kind` are its two halves
    (`TransferOutcome.labels`), so they cannot disagree."""
    duration: float | None = None
    sip_status: int | None = None
    detail: str | None = None

    @property
    def result(self) -> TransferResult:
        """The JSON line's `result`."""
        return self.outcome.result

    @property
    def kind(self) -> FailureKind | None:
        """The failure's kind, for a failed transfer: the JSON line's `kind`."""
        return self.outcome.failure

    def answered(self, note: TransferConnected | TransferFailure, t: float) -> TransferEntry:
        """This transfer as its answer (the navigator's note) leaves it."""
        duration = round(t - self.t, 3)
        if isinstance(note, TransferConnected):
            done = TransferOutcome.SUCCEEDED
            if note.inferred is not None:  # nobody said 200: say what it was taken from
                return self._replace(outcome=done, duration=duration, detail=note.inferred)
            return self._replace(outcome=done, duration=duration, sip_status=200)
        return self._replace(
            outcome=TransferOutcome.of(note.kind),
            duration=duration,
            sip_status=note.sip_status,
            detail=note.summary,
        )

    def as_dict(self) -> dict[str, object]:
        outcome = self.outcome
        out: dict[str, object] = {
            "target": self.target,
            "destination": self.destination,
            "t": self.t,
            "result": outcome.result.value,
        }
        if outcome is TransferOutcome.UNFINISHED:
            return out
        out["duration"] = self.duration
        out["sip_status"] = self.sip_status
        failure = outcome.failure
        if failure is not None:
            out["kind"] = failure.value
            out["detail"] = self.detail
        elif self.detail is not None:
            out["detail"] = self.detail
        return out


class CallRecord(NamedTuple):
    """One call's record: docs/runtime.md, "Call records". `as_dict()` is the JSON line,
    with its keys in this order, its values plain JSON (each enum as its text, `str()`)."""

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
    end: EndReason | str | None
    """How the call ended. Text only for a reason this router does not name (a newer
    router's record read back by `from_json`, or an older one's `unknown`: this router
    writes an `EndReason`); None only in a record taken before its call ended
    (`CallRecorder`)."""
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
        (`TransferOutcome.of_record`). An `end` or a limit this router does not know (a
        newer router's) is kept as its text, not refused: the report counts it by that
        name, as it counts the known ones. Other fields of the wrong type take their
        empty value. (No error class of its own: the package's errors are drawn in
        router/core/errors.py.)
        """
        # checks inline, `wrong` only to word a failure: a million lines go through here
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        get = obj.get
        started = get("started_at")
        if not isinstance(started, str):
            wrong(str, "started_at")
        try:
            at = datetime.fromisoformat(started)
        except ValueError:
            raise ValueError(f"`started_at` is not an ISO time: {started[:40]!r}") from None
        if at.tzinfo is None:
            raise ValueError("`started_at` has no time zone")
        text = get("end")
        if not isinstance(text, str):
            wrong(str, "end")
        end = _END_REASONS.get(text, text)  # a dict lookup: no try/except per line
        menus: list[MenuVisit] = []
        for m in list_field(get("menus", _NONE), "menus"):
            name = m.get("menu") if isinstance(m, dict) else wrong(dict, "menus[]")
            if not isinstance(name, str):
                wrong(str, "menus[].menu")
            t = m.get("t")
            menus.append(MenuVisit(name, t if type(t) is float else entry_time(t)))
        keys: list[KeyEntry] = []
        for k in list_field(get("keys", _NONE), "keys"):
            if not isinstance(k, dict):
                wrong(dict, "keys[]")
            key = k.get("key")
            if k.get("ignored"):
                t = k.get("t")
                keys.append(
                    KeyEntry(key if isinstance(key, str) else "", entry_time(t), None, True)
                )
                continue
            if not isinstance(key, str):
                wrong(str, "keys[].key")
            menu, t = k.get("menu"), k.get("t")
            keys.append(
                KeyEntry(
                    key,
                    t if type(t) is float else entry_time(t),
                    menu if isinstance(menu, str) else None,
                )
            )
        transfers: list[TransferEntry] = []
        for tr in list_field(get("transfers", _NONE), "transfers"):
            if not isinstance(tr, dict):
                wrong(dict, "transfers[]")
            outcome = TransferOutcome.of_record(tr)
            if outcome is None:
                raise ValueError(f"a transfer's `result` is {tr.get('result')!r}")
            target = tr.get("target")
            if not isinstance(target, str):
                wrong(str, "transfers[].target")
            t = tr.get("t", 0.0)
            if not isinstance(t, int | float) or isinstance(t, bool):
                wrong((int, float), "transfers[].t")
            transfers.append(
                TransferEntry(
                    target,
                    destination_label(text_or_none(tr.get("destination")), target),
                    float(t),
                    outcome,
                    number_or_none(tr.get("duration")),
                    int_or_none(tr.get("sip_status")),
                    text_or_none(tr.get("detail")),
                )
            )
        limits: list[LimitEntry] = []
        for lim in list_field(get("limits", _NONE), "limits"):
            kind = lim.get("limit") if isinstance(lim, dict) else wrong(dict, "limits[]")
            if not isinstance(kind, str):
                wrong(str, "limits[].limit")
            limits.append(
                LimitEntry(
                    _LIMITS.get(kind, kind), entry_time(lim.get("t")), text_or_none(lim.get("menu"))
                )
            )
        ended_in = get("ended_in", _UNSET)
        if ended_in is _UNSET:  # records before `ended_in`: the last menu entered
            ended_in = menus[-1].menu if menus and end not in _EARLY_ENDS else None
        invalid_in = counts_field(get("invalid_in"), "invalid_in")
        timeouts_in = counts_field(get("timeouts_in"), "timeouts_in")
        invalid = get("invalid", 0)
        if type(invalid) is not int:
            wrong(int, "invalid")
        timeouts = get("timeouts", 0)
        if type(timeouts) is not int:
            wrong(int, "timeouts")
        errors = get("errors")
        call_id, room, ended_at = get("call_id"), get("room"), get("ended_at")
        dialled, caller, version = get("dialled"), get("caller"), get("menu_version")
        return cls(
            call_id=call_id if isinstance(call_id, str) else "",
            room=room if isinstance(room, str) else "",
            started_at=started,
            ended_at=ended_at if isinstance(ended_at, str) else "",
            answered=number_or_none(get("answered")),
            dialled=dialled if isinstance(dialled, str) else None,
            caller=caller if isinstance(caller, str) else None,
            menu_version=version if isinstance(version, str) else "unknown",
            menus=tuple(menus),
            keys=tuple(keys),
            keys_not_recorded=int_or_none(get("keys_not_recorded")) or 0,
            duplicate_keys=int_or_none(get("duplicate_keys")) or 0,
            timeouts=timeouts,
            invalid=invalid,
            invalid_in=invalid_in,
            timeouts_in=timeouts_in,
            limits=tuple(limits),
            transfers=tuple(transfers),
            end=end,
            ended_in=text_or_none(ended_in),
            duration=number_or_none(get("duration")) or 0.0,
            errors=tuple(e for e in errors if isinstance(e, str)) if errors else (),
            caller_rule=text_or_none(get("caller_rule")),
            language=text_or_none(get("language")),
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
            "end": None if self.end is None else str(self.end),
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
_END_REASONS: Mapping[str, EndReason] = {r.value: r for r in EndReason}
_LIMITS: Mapping[str, Limit] = {lim.value: lim for lim in Limit}
_NONE: list[Any] = []
"""A list field a record does not have (older records): nothing of it; never changed."""
_EARLY_ENDS = frozenset({EndReason.LEFT_BEFORE_JOIN, EndReason.LEFT_BEFORE_ANSWER})
"""Ends before any menu (`EndReason`): such a record has no `ended_in`."""
