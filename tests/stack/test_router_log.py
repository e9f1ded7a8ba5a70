"""What the tests read of a router they run: the errors in its log (router/stack/harness.py
`errors_in`, also the benchmarks' check) and the call records it has written whole
(tests/e2e/conftest.py `written_records`)."""

from __future__ import annotations

from pathlib import Path

from router.stack.harness import errors_in
from tests.e2e.conftest import written_records

NOISE = "failed to send dc_event buffer_amount_change: SendError { .. }"
CLEAN = f"""\
2026-11-30 22:41:50,242 INFO livekit.agents: received job request
2026-11-30 22:41:51,002 WARNING router.runtime: the caller left before the menu ended
[2026-11-30T22:41:51Z WARN  livekit::rtc_engine] signal client closed
[2026-11-30T22:41:51Z ERROR livekit::rtc_engine::rtc_session] {NOISE}
2026-11-30 22:41:52,000 INFO router.calls: the word ERROR inside a message is not a record's level
"""


def test_a_clean_log_has_no_errors_even_with_the_rtc_librarys_close_time_noise() -> None:
    assert errors_in(CLEAN) == []


def test_the_routers_own_error_records_and_tracebacks_are_errors() -> None:
    log = CLEAN + (
        "2026-11-30 22:41:53,000 ERROR router.runtime: the transfer could not be sent\n"
        "Traceback (most recent call last):\n"
        "2026-11-30 22:41:54,000 CRITICAL livekit.agents: worker failed\n"
    )
    found = errors_in(log)
    assert len(found) == 3
    assert " ERROR router.runtime" in found[0]
    assert found[1].startswith("Traceback")
    assert " CRITICAL livekit.agents" in found[2]


def test_other_native_error_lines_are_errors() -> None:
    native = "[2026-11-30T22:41:55Z ERROR livekit::room] failed to connect: timeout\n"
    assert errors_in(CLEAN + native) == [native.strip()]


def test_a_record_being_written_is_not_read_until_its_line_is_whole(tmp_path: Path) -> None:
    records = tmp_path / "calls.jsonl"
    records.write_text('{"caller": "********1014", "end": "hangup"}\n{"caller": "****')
    assert written_records(records) == [{"caller": "********1014", "end": "hangup"}]
    assert written_records(tmp_path / "none.jsonl") == []
