"""The call record's JSON stays what it was: records built from the navigator's notes
are compared, byte for byte, with records written before the notes were typed
(`data/records.golden.jsonl`), and `router report` reads them back through the same
schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.callgen import CallGenerator
from router.core.events import (
    CallEnded,
    CallStarted,
    DigitPressed,
    EndReason,
    Event,
    Limit,
    Note,
    Play,
    PlaybackFinished,
    TimerFired,
    TransferFailed,
    TransferSucceeded,
)
from router.core.keys import Key
from router.core.loader import load_menu_file
from router.core.model import MenuFile, TransferReason
from router.core.navigator import CallCaps, Navigator
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import (
    CallRecord,
    CallRecorder,
    KeyEntry,
    LimitEntry,
    MenuVisit,
    TransferEntry,
)

GOLDEN = Path(__file__).parent / "data" / "records.golden.jsonl"
AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Tuesday: open


def _menus() -> MenuFile:
    # a copy of menus.yaml as it was when the golden records were written: edits of the
    # example file must not change them
    return load_menu_file(Path(__file__).parent / "data" / "records.menus.yaml").menu_file


def _scripted(
    menu_file: MenuFile,
    dialled: str | None,
    script: list[tuple[float, str]],
    *,
    caps: CallCaps | None = None,
    mask: bool = True,
) -> CallRecord:
    """One call driven by hand: `(time, what)` steps, where `what` is a key, `.` (the
    armed timer fires), `~` (the playing prompt ends), `ok`, a SIP status or `error`
    (the transfer's answer), `gone` (the caller hangs up) or `answer`."""
    recorder = CallRecorder(
        call_id="SCL_golden",
        room=f"call-+14155550123_{dialled}",
        dialled=dialled,
        caller="+14155550123",
        menu_version=menu_file.version,
        started_at=AT,
        started=100.0,
        mask_caller=mask,
        answered=100.4,
    )
    nav = Navigator(menu_file, caps=caps or CallCaps())
    playing: list[int] = []

    def feed(event: Event) -> None:
        for effect in nav.handle(event):
            if isinstance(effect, Note):
                recorder.note(effect)
            elif isinstance(effect, Play):
                playing.append(effect.play_id)

    feed(CallStarted(dialled, AT, 100.5))
    now = 100.5
    for t, what in script:
        now = 100.5 + t
        if what == ".":
            armed = nav.next_deadline()
            assert armed is not None
            now = armed[1]
            feed(TimerFired(armed[0], now))
        elif what == "~":
            feed(PlaybackFinished(playing[-1], now))
        elif what == "ok":
            feed(TransferSucceeded(now))
        elif what == "error":
            feed(TransferFailed(None, "twirp error: unavailable", now))
        elif what == "timeout":
            feed(TransferFailed(None, "no answer", now, TransferReason.RINGING_TIMEOUT))
        elif what.isdigit() and len(what) == 3:
            feed(TransferFailed(int(what), f"SIP {what}", now))
        elif what == "gone":
            feed(CallEnded(now, EndReason.CALLER_HANGUP))
        else:
            key = Key.parse(what)
            assert key is not None
            feed(DigitPressed(key, now))
    if recorder.end_reason is None:
        recorder.end_reason = EndReason.CALLER_HANGUP
    return recorder.record(now + 0.25)


def records() -> list[dict[str, Any]]:
    """Every kind of thing a record holds: generated calls and a few scripted ones."""
    generated = list(CallGenerator(_menus(), seed=13).calls(250))
    return generated + [r.as_dict() for r in scripted()]


def scripted() -> list[CallRecord]:
    """Calls driven by hand through what the generated ones rarely reach, as typed records."""
    acme = _menus()
    main = "+15105550150"
    return [
        # an option, a sub-menu, a wrong key, an extension with its announcement
        _scripted(
            acme,
            main,
            [(0, "~"), (1, "2"), (1.5, "~"), (2, "9"), (2.5, "~"), (3, "*"), (3.5, "~")]
            + [(4, "5"), (4.5, "0"), (4.7, "0"), (4.9, "1"), (5, "~"), (5.5, "3"), (6, "ok")],
        ),
        # copies of a key (dropped), keys during an announcement (ignored), failures
        _scripted(
            acme,
            main,
            [(0, "~"), (1, "1"), (1.02, "1"), (1.5, "4"), (2, "~"), (3, "486"), (3.5, "~")]
            + [(4, "1"), (4.5, "~"), (5, "timeout"), (6, "~"), (7, "error"), (8, "~")],
            mask=False,
        ),
        # silence until the limit, then the operator does not answer
        _scripted(
            acme,
            None,
            [(0, "~"), (1, "."), (2, "~"), (3, "."), (4, "~"), (5, ".")]
            + [(6, "~"), (7, "408"), (8, "~"), (9, "gone")],
        ),
        # the key cap and the transfer cap
        _scripted(
            acme,
            main,
            [(0, "~")] + [(1 + i * 0.5, "9") for i in range(6)] + [(5, "~")],
            caps=CallCaps(max_keys=2),
        ),
        _scripted(
            acme,
            main,
            [(0, "~"), (1, "0"), (2, "486"), (2.5, "~"), (3, "0"), (4, "603"), (4.5, "~")]
            + [(5, "0"), (5.5, "~")],
            caps=CallCaps(max_transfers=2),
        ),
        # the call-length cap while a prompt plays; a transfer out when the call ends
        _scripted(acme, main, [(0, "~"), (1, "1"), (1.5, "~"), (2, "gone")]),
        _scripted(acme, main, [(0, "."), (2, "~")], caps=CallCaps(max_call_s=0.5)),
    ]


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def test_records_are_written_as_before() -> None:
    lines = [_line(r) for r in records()]
    golden = GOLDEN.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(golden)
    for i, (line, before) in enumerate(zip(lines, golden, strict=True)):
        assert line == before, f"record {i} differs"


def test_a_record_read_back_from_its_line_is_the_same_typed_record() -> None:
    generated = [CallRecord.from_json(r) for r in CallGenerator(_menus(), seed=13).calls(250)]
    for i, record in enumerate(generated + scripted()):
        line = json.dumps(record.as_dict())
        assert CallRecord.from_json(json.loads(line)) == record, f"record {i}"
        # the enums themselves, not their text: what readers compare with `is`
        assert isinstance(record.end, EndReason), record.end
        assert all(isinstance(lim.limit, Limit) for lim in record.limits)
        assert all(isinstance(t.outcome, TransferOutcome) for t in record.transfers)
    seen = {t.outcome for r in scripted() for t in r.transfers}
    assert {TransferOutcome.SUCCEEDED, TransferOutcome.BUSY, TransferOutcome.UNFINISHED} <= seen


def test_every_field_read_back_lands_in_its_own_field() -> None:
    # every field a distinct value (no two ints, strings or counts alike): a field read
    # into its neighbour's place would differ below
    values: dict[str, Any] = {
        "call_id": "SCL_every",
        "room": "call-every",
        "started_at": "2026-12-01T15:00:00.000+00:00",
        "ended_at": "2026-12-01T15:00:42.000+00:00",
        "answered": 0.75,
        "dialled": "+15105550150",
        "caller": "*******0123",
        "menu_version": "v-every",
        "menus": (MenuVisit("main", 1.25), MenuVisit("sales", 2.5)),
        "keys": (KeyEntry("1", 2.0, "main"), KeyEntry("#", 3.0, ignored=True)),
        "keys_not_recorded": 3,
        "duplicate_keys": 4,
        "timeouts": 5,
        "invalid": 6,
        "invalid_in": {"main": 7},
        "timeouts_in": {"sales": 8},
        "limits": (LimitEntry(Limit.NO_INPUT, 9.5, "sales"),),
        "transfers": (
            TransferEntry(
                "sip:desk@example.com", "desk", 11.0, TransferOutcome.BUSY, 12.5, 486, "busy"
            ),
        ),
        "end": EndReason.DROPPED,
        "ended_in": "sales-end",
        "duration": 42.0,
        "errors": ("one error",),
        "caller_rule": "vip",
        "language": "es",
    }
    assert set(values) == set(CallRecord._fields), "give the new field a value here"
    record = CallRecord(**values)
    back = CallRecord.from_json(json.loads(json.dumps(record.as_dict())))
    for name in CallRecord._fields:
        assert getattr(back, name) == values[name], name


def test_an_end_and_a_limit_this_router_does_not_know_are_kept_as_written() -> None:
    # a newer router's record: read, not refused, and written back as it came
    line = scripted()[0].as_dict()
    line["end"] = "sent_to_voicemail"
    line["limits"] = [{"limit": "minutes_on_hold", "t": 1.0, "menu": "main"}]
    record = CallRecord.from_json(line)
    assert (record.end, record.limits[0].limit) == ("sent_to_voicemail", "minutes_on_hold")
    assert not isinstance(record.end, EndReason) and not isinstance(record.limits[0].limit, Limit)
    assert record.as_dict() == line


def test_a_current_record_s_failures_are_read_by_their_kind_never_their_detail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `TransferOutcome.of_failure` (the kind taken from `detail`) is for records written
    # before the `kind` field only
    def older_records_only(*_: object) -> TransferOutcome:
        raise AssertionError("a current record's failure read from its detail")

    monkeypatch.setattr(TransferOutcome, "of_failure", classmethod(older_records_only))
    read = [CallRecord.from_json(r) for r in records()]
    failures = {t.outcome for r in read for t in r.transfers if t.kind is not None}
    assert {TransferOutcome.BUSY, TransferOutcome.NO_ANSWER, TransferOutcome.ERROR} <= failures


if __name__ == "__main__":  # write the golden file (only from a tree known to be right)
    GOLDEN.write_text("".join(_line(r) + "\n" for r in records()), encoding="utf-8")
