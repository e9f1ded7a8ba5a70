"""Callers' numbers are masked in call records.

Why: the call records kept for reporting must not become a list of customers' phone
numbers. (`router start` with wrong credentials, a real process: its one sentence
never shows the secret, tests/runtime/test_start_secrets.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.runtime.records import CallRecorder, RecordSink, mask_number

# --- call records ------------------------------------------------------------------------

CALLER = "+15105550123"


def _recorder(*, mask: bool, room: str = "call-7f3a", caller: str | None = CALLER) -> CallRecorder:
    return CallRecorder(
        call_id="SCL_abc",
        room=room,
        dialled="+15105550150",
        caller=caller,
        menu_version="v1",
        started_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
        started=0.0,
        mask_caller=mask,
    )


def _record(*, mask: bool, room: str = "call-7f3a", caller: str | None = CALLER) -> str:
    return json.dumps(_recorder(mask=mask, room=room, caller=caller).as_dict(ended=3.0))


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        (CALLER, "********0123"),
        ("15105550123", "*******0123"),
        ("+4930123456789", "**********6789"),
        ("1234", "****"),
        ("12", "**"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_number_keeps_at_most_four_digits(number: str | None, masked: str | None) -> None:
    assert mask_number(number) == masked


def test_records_mask_the_caller_unless_asked(tmp_path: Path) -> None:
    masked = _record(mask=True)
    assert CALLER not in masked and CALLER[1:] not in masked
    assert json.loads(masked)["caller"] == "********0123"
    assert json.loads(_record(mask=False))["caller"] == CALLER
    sink = RecordSink(str(tmp_path / "records.jsonl"))
    sink.write(_recorder(mask=True).record(ended=3.0))
    sink.close()
    assert CALLER not in (tmp_path / "records.jsonl").read_text()


def test_records_never_hold_the_whole_caller_number() -> None:
    record = _record(mask=True, room=f"call-_{CALLER}_Zx81Yq")
    assert CALLER not in record and CALLER[1:] not in record
