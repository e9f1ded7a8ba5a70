"""The call record sink: records survive a rotated file and a failed write."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.core.errors import ConfigError
from router.core.events import CallerMatched, CallFinished, EndReason, LanguageChosen
from router.runtime.records import CallRecord, CallRecorder, RecordSink
from tests.runtime.test_worker_config import UNREACHABLE, router


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _ended(call_id: str) -> CallRecord:
    """A typed record of a call `call_id` the menu transferred (what a sink is given)."""
    recorder = CallRecorder(
        call_id, "room", None, None, "v1", datetime(2026, 12, 1, tzinfo=UTC), 0.0
    )
    recorder.note(CallFinished(1.0, "main", EndReason.TRANSFERRED))
    return recorder.record(1.0)


def test_a_rotated_file_is_created_again(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    sink = RecordSink(str(path))
    sink.write(_ended("a"))
    path.rename(tmp_path / "calls.jsonl.1")  # logrotate's move
    sink.write(_ended("b"))
    assert _lines(tmp_path / "calls.jsonl.1") == [_ended("a").as_dict()]
    assert _lines(path) == [_ended("b").as_dict()]


def test_a_record_that_cannot_be_written_goes_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    path = folder / "calls.jsonl"
    sink = RecordSink(str(path))
    sink.check()
    path.unlink()
    folder.rmdir()  # the records' folder went away (an unmounted volume, a clean-up)
    with caplog.at_level(logging.ERROR, logger="router.runtime.records"):
        sink.write(_ended("c"))
    (message,) = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"cannot write a call record to {path} (No such file")
    line = json.dumps(_ended("c").as_dict(), separators=(",", ":"))
    assert message.endswith(f"the record: {line}"), "the line as it would have been written"


def test_records_that_cannot_be_written_stop_the_start_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write call records to .*: No such file"):
        RecordSink(str(tmp_path / "missing" / "calls.jsonl")).check()
    result = router(
        "start", "--records", str(tmp_path / "missing" / "calls.jsonl"), env=UNREACHABLE
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("calls.jsonl: No such file or directory")
    assert "Traceback" not in result.stderr


def test_a_record_names_the_caller_rule_and_the_caller_s_language() -> None:
    def recorder() -> CallRecorder:
        at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        return CallRecorder("SCL_x", "call-x", None, "+525555550123", "v1", at, 100.0)

    plain = recorder()
    plain.note(CallFinished(101.0, "main", EndReason.HANGUP))
    assert "language" not in plain.as_dict(101.0)  # a file without languages: as before
    assert "caller_rule" not in plain.as_dict(101.0)
    spoken = recorder()
    spoken.note(CallerMatched(100.0, None, "spanish_speaking"))
    spoken.note(LanguageChosen(100.0, None, "es"))
    spoken.note(LanguageChosen(103.0, "main", "en"))  # a switch key: the last one counts
    record = spoken.as_dict(104.0)
    assert (record["caller_rule"], record["language"]) == ("spanish_speaking", "en")
