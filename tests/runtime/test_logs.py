"""Logs: text for people, livekit-agents' JSON lines for pipelines, each call's fields."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from router.logs import CallFields, log_level, setup
from tests.runtime.test_call_offline import FakeLiveKitAPI, fake, start_call

__all__ = ["fake"]  # the Twirp fake fixture, shared with the call tests


ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, sys
from router.logs import bind_call, setup
setup(log_format=sys.argv[1])
log = logging.getLogger("router.runtime.call")
log.info("before any call")
bind_call(call_id="SCL_abc", room="call-_*******9876_x", menu_version="a52fe0abdb1c")
log.warning("call %s: transfer to %s failed", "call-_*******9876_x", "operator")
log.debug("not shown at info")
"""


def run(log_format: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, log_format],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_json_logs_are_one_object_a_line_with_the_calls_fields() -> None:
    first, second = (json.loads(line) for line in run("json"))
    assert first["message"] == "before any call" and first["level"] == "INFO"
    assert "call_id" not in first
    assert second["level"] == "WARNING" and second["name"] == "router.runtime.call"
    assert second["message"] == "call call-_*******9876_x: transfer to operator failed"
    assert (second["call_id"], second["room"], second["menu_version"]) == (
        "SCL_abc",
        "call-_*******9876_x",
        "a52fe0abdb1c",
    )
    assert "timestamp" in second


def test_livekit_log_level_is_honoured_and_text_stays_the_default_shape() -> None:
    lines = run("text", LIVEKIT_LOG_LEVEL="debug")
    assert len(lines) == 3 and lines[-1].endswith("router.runtime.call: not shown at info")
    assert " WARNING router.runtime.call: call call-_" in lines[1]
    assert len(run("text", LIVEKIT_LOG_LEVEL="error")) == 0


def test_log_level_order() -> None:
    assert log_level(True, {"LIVEKIT_LOG_LEVEL": "error"}) == logging.DEBUG
    assert log_level(False, {"LIVEKIT_LOG_LEVEL": "WARN"}) == logging.WARNING
    assert log_level(False, {"LIVEKIT_LOG_LEVEL": "nonsense"}) == logging.INFO
    assert log_level(False, {}) == logging.INFO


def test_setup_reads_the_level_from_the_env_it_is_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as a command starts: nothing configured
    monkeypatch.setattr(root, "level", root.level)  # put back after the test
    monkeypatch.setenv("LIVEKIT_LOG_LEVEL", "debug")  # the process's, not the one given
    setup(env={"LIVEKIT_LOG_LEVEL": "error"})
    assert root.level == logging.ERROR
    setup(env={"LIVEKIT_LOG_LEVEL": "loud"})
    assert root.level == logging.INFO
    said = capsys.readouterr().err
    assert "LIVEKIT_LOG_LEVEL='loud' is not a log level" in said


async def test_a_calls_log_lines_name_the_call(
    fake: FakeLiveKitAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(CallFields())
    caplog.set_level(logging.INFO, logger="router.runtime.call")
    call = await start_call(fake)
    call.hang_up()
    await call.record()
    lines = [r for r in caplog.records if r.name == "router.runtime.call"]
    assert lines, "the call logs its start"
    assert all(getattr(r, "call_id", None) == "SCL_test" for r in lines)
    assert all(getattr(r, "menu_version", None) == "testversion" for r in lines)
    assert all("9876" not in str(getattr(r, "room", "")) or "*" in r.room for r in lines)


def test_a_bad_log_format_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "router", "check", str(ROOT / "menus.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ROUTER_LOG_FORMAT": "xml"},
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip().splitlines()[-1].endswith("ROUTER_LOG_FORMAT must be one of text, json")
    )
