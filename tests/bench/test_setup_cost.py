"""bench/setup_cost.py's reading of its inputs: the router's trace lines, the callers'
timelines, py-spy's samples."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bench.setup_cost import attribute, greeted, medians, router_steps, timeline
from router.runtime import worker


class _Job:
    id = "AJ_abc123"


class _Info:
    received_at, accepted_at, assigned_at = 100.0, 100.01, 100.05


def test_the_routers_trace_line_is_read_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from livekit.agents import JobContext

    ctx = JobContext.__new__(JobContext)  # only what the trace reads: the job, its times
    ctx._info = _Info()  # type: ignore[assignment]
    monkeypatch.setattr(JobContext, "job", property(lambda _self: _Job()))
    with caplog.at_level(logging.INFO, logger="router.worker"):
        worker._trace_setup(ctx, entered=100.06, joined=100.3, published=100.4, cpu_ms=3.5)
    steps = router_steps("\n".join(r.getMessage() for r in caplog.records))
    assert steps == {
        "AJ_abc123": {
            "received": 100.0,
            "accepted": 100.01,
            "assigned": 100.05,
            "entered": 100.06,
            "joined": 100.3,
            "published": 100.4,
            "cpu_ms": 3.5,
        }
    }


def test_a_routers_timeline_in_milliseconds() -> None:
    at = {
        "dispatch": 99.9,
        "received": 100.0,
        "assigned": 100.05,
        "entered": 100.06,
        "joined": 100.3,
        "published": 100.4,
        "subscribed": 100.6,
        "first_audio": 100.65,
        "cpu_ms": 3.5,
    }
    got = timeline("router", at)
    assert got == {
        "dispatch": 100.0,
        "accept": 50.0,
        "job start": 10.0,
        "connect": 240.0,
        "publish": 100.0,
        "subscribed": 200.0,
        "first audio": 50.0,
        "total": 750.0,
        "job thread CPU": 3.5,
    }
    # a greeting never heard: no first audio, no total, the rest kept
    del at["first_audio"]
    assert "total" not in timeline("router", at) and "connect" in timeline("router", at)
    assert medians([{"connect": 1.0}, {"connect": 3.0, "publish": 2.0}, {"connect": 2.0}]) == {
        "connect": 2.0,
        "publish": 2.0,
    }


def test_pyspy_samples_of_waiting_threads_are_not_cpu(tmp_path: Path) -> None:
    raw = tmp_path / "x.txt"
    job = "thread (1): job_thread_runner;thread_main (agents/ipc/job_proc_lazy_main.py:622)"
    raw.write_text(
        "\n".join(
            [
                # a job loop asleep in epoll: waiting
                f"{job};_run_once (asyncio/base_events.py:1884);select (selectors.py:468);"
                "select_epoll_poll (selectmodule.c:1);epoll_wait (libc.so.6) 400",
                # the same loop running a Room event: CPU
                f"{job};_run_once (asyncio/base_events.py:1922);"
                "Room._on_room_event (livekit/rtc/room.py:900) 20",
                # the router's own code inside it, nearer the leaf than the loop
                f"{job};_run_once (asyncio/base_events.py:1922);"
                "Player._run (router/runtime/player.py:90);"
                "AudioSource.capture_frame (livekit/rtc/audio_source.py:150) 10",
                "thread (2): tokio-rt-worker;ffi_event_callback (livekit/rtc/_ffi_client.py:181);"
                "to_python_level (livekit/rtc/_ffi_client.py:214) 30",
            ]
        )
        + "\n"
    )
    got = attribute(raw, 100)
    assert got == {
        "rtc threads: FFI events into Python: log records": 0.3,
        "job threads: Room events": 0.2,
        "job threads: greeting: capture_frame": 0.1,
    }
    assert json.dumps(got)  # what the result file holds


def test_a_level_is_served_well_when_95_percent_are_greeted_within_2_s() -> None:
    got = greeted([400.0] * 19 + [2500.0], failed=0)
    assert got == {"calls": 20, "within_2s": 19, "p95_ms": 505.0, "served_well": True}
    # a call never greeted counts against the level, as a late one does
    assert greeted([400.0] * 19, failed=1)["served_well"] is True
    assert greeted([400.0] * 18, failed=2)["served_well"] is False
    assert greeted([], failed=3) == {
        "calls": 3,
        "within_2s": 0,
        "p95_ms": None,
        "served_well": False,
    }
