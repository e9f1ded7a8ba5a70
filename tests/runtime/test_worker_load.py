"""The per-process cap reaches LiveKit through the worker's load function."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from livekit.agents import AgentServer, JobExecutorType

from router.runtime.worker import WorkerConfig, _build_server

pytestmark = pytest.mark.runtime


def config(**kw: object) -> WorkerConfig:
    base: dict[str, object] = {
        "menus": Path("menus.yaml"),
        "url": "ws://127.0.0.1:7880",
        "api_key": "k",
        "api_secret": "s",
    }
    return WorkerConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(("active", "load"), [(0, 0.0), (1, 0.25), (3, 0.75), (4, 1.0), (9, 1.0)])
def test_load_is_active_calls_over_the_cap(active: int, load: float) -> None:
    server = _build_server(config(max_calls=4))
    assert isinstance(server, AgentServer)
    fake_server = SimpleNamespace(active_jobs=[object()] * active)
    assert server.load_fnc is not None
    assert server.load_fnc(fake_server) == pytest.approx(load)  # type: ignore[call-arg, arg-type]


def test_the_worker_reports_itself_full_exactly_at_the_cap() -> None:
    server = _build_server(config(max_calls=4))
    threshold = server._load_threshold  # type: ignore[attr-defined]
    assert 3 / 4 < threshold < 4 / 4, "available at 3 calls, full at 4"


def test_executor_choice() -> None:
    assert _build_server(config())._job_executor_type is JobExecutorType.THREAD  # type: ignore[attr-defined]
    process = _build_server(config(executor="process"))
    assert process._job_executor_type is JobExecutorType.PROCESS  # type: ignore[attr-defined]
