"""The rtc library's log records stay on its side (`router.runtime.rtclogs`).

Run in a child process: the library's logger reads RUST_LOG once, when it starts, and
what is sent to Python is a setting of the whole process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import logging, os, time
    from livekit.rtc._ffi_client import FfiClient
    from livekit.rtc._proto import ffi_pb2
    from router.runtime.rtclogs import keep_native

    got = []

    class Keep(logging.Handler):
        def emit(self, record):
            got.append(record.getMessage())

    logging.getLogger("livekit").addHandler(Keep())

    def fail():  # an empty request: the library logs an error ("message is empty")
        try:
            FfiClient.instance.request(ffi_pb2.FfiRequest())
        except AssertionError:
            pass
        time.sleep(1.5)  # the library sends its records within its 1 s flush
        return sum("message is empty" in m for m in got)

    before = fail()
    kept = keep_native()
    print(before, kept, fail() - before, os.environ.get("RUST_LOG"))
    """
)


def _child(env: dict[str, str]) -> tuple[list[str], str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("RUST_LOG", "ROUTER_RTC_LOGS")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.split(), out.stderr


def test_records_stay_native_and_errors_still_show() -> None:
    (before, kept, since, rust_log), stderr = _child({})
    assert before == "1"  # the SDK's way: the record became a Python callback
    assert kept == "True"
    assert since == "0"  # not since: the library wrote it itself
    assert "ERROR livekit_ffi" in stderr and "message is empty" in stderr
    assert rust_log == "warn"


def test_router_rtc_logs_keeps_the_sdks_way() -> None:
    (before, kept, since, rust_log), stderr = _child({"ROUTER_RTC_LOGS": "1"})
    assert (before, kept, since, rust_log) == ("1", "False", "1", "None")
    assert "ERROR livekit_ffi" not in stderr


def test_an_operators_rust_log_is_kept() -> None:
    (*_, rust_log), _ = _child({"RUST_LOG": "error"})
    assert rust_log == "error"
