"""A call whose room the server will not let the router into, or publish in (the soak).

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
from livekit.agents.utils import http_context
from livekit.rtc.participant import PublishTrackError

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


async def test_a_publication_the_server_never_answers_is_one_masked_line_too(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """In, but the menu's track never published (livekit-server going away, the soak's
    Redis outage): `PublishTrackError`, the same one line and the job ends."""
    ended: list[str] = []

    class Refused:  # the call as far as it gets: the server never answers the publication
        def __init__(self, *_args: object, **_kw: object) -> None:
            pass

        async def publish(self) -> None:
            raise PublishTrackError("engine: internal error: track publication timed out")

    async def connect(self: JobContext, **_kw: object) -> None:
        return None

    monkeypatch.setattr(JobContext, "connect", connect)
    monkeypatch.setattr(JobContext, "shutdown", lambda self, reason="": ended.append(reason))
    monkeypatch.setattr(worker, "CallSession", Refused)
    state = SimpleNamespace(
        store=SimpleNamespace(current=None),
        mask_caller=True,
        config=SimpleNamespace(trial_callers=False),
        cache=None,
        sink=None,
    )
    monkeypatch.setattr(worker.ProcessState, "get", classmethod(lambda cls: state))
    ctx = object.__new__(JobContext)
    ctx._info = SimpleNamespace(  # type: ignore[attr-defined]
        job=SimpleNamespace(room=SimpleNamespace(name="call-_+15105550123_AbCd"), dispatch_id="x")
    )
    ctx._room = None  # type: ignore[attr-defined]
    ctx.__dict__["api"] = None
    # the call's API client (failover off): not used before the publication
    monkeypatch.setattr(worker, "call_api", lambda _session: None)
    monkeypatch.setattr(http_context, "http_session", lambda: None)
    with caplog.at_level(logging.INFO):
        await worker.serve_call(ctx)
    assert ended == ["could not publish the menu's audio in the room"]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "router.worker"]
    assert "track publication timed out" in line and "5105550123" not in line
