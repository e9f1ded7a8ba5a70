"""A call whose room the server will not let the router into (found by the soak).

livekit-server answers the join of a dispatched job with `500` while its Redis is
down; the SDK retries three times and raises `rtc.ConnectError`. The router must say
so in one line (the caller's number masked) and end the job, not leave a traceback.
The server's refusal is faked at the SDK's `JobContext.connect`: a real one needs a
Redis outage timed to the instant a job arrives, which a test cannot arrange (the soak
meets it: bench/soak).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from livekit import rtc
from livekit.agents import JobContext

from router.runtime import worker


async def test_a_refused_join_is_one_masked_log_line_and_the_job_ends(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ended: list[str] = []

    async def refuse(self: JobContext, **_kw: object) -> None:
        raise rtc.ConnectError("engine: signal failure: handshake error: 500 Internal Server Error")

    monkeypatch.setattr(JobContext, "connect", refuse)
    monkeypatch.setattr(JobContext, "shutdown", lambda self, reason="": ended.append(reason))
    state = SimpleNamespace(store=SimpleNamespace(current=None), mask_caller=True)
    monkeypatch.setattr(worker.ProcessState, "get", classmethod(lambda cls: state))
    ctx = object.__new__(JobContext)
    ctx._info = SimpleNamespace(  # type: ignore[attr-defined]
        job=SimpleNamespace(room=SimpleNamespace(name="call-_+15105550123_AbCd"))
    )
    with caplog.at_level(logging.INFO):
        await worker.serve_call(ctx)
    assert ended == ["could not join the room"]
    lines = [r.getMessage() for r in caplog.records if r.name == "router.worker"]
    assert len(lines) == 1, lines
    assert "could not join the room of a call" in lines[0]
    assert "500 Internal Server Error" in lines[0]
    assert "5105550123" not in lines[0] and "0123" in lines[0]
