"""The per-process cap reaches LiveKit through the worker's load function.

livekit-server dispatches only to workers whose load is below its `agents.target_load`
(0.7 by default); tests/e2e/test_capacity.py shows the cap holding against the real server.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest
from livekit.agents import AgentServer, JobExecutorType

from router.core.errors import ConfigError
from router.runtime.worker import (
    WorkerConfig,
    _build_server,
    add_arguments,
    reported_load,
)


def config(**kw: object) -> WorkerConfig:
    base: dict[str, object] = {
        "menus": Path("menus.yaml"),
        "url": "ws://127.0.0.1:7880",
        "api_key": "k",
        "api_secret": "s",
    }
    return WorkerConfig(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize("target", [0.7, 0.5, 1.0])
@pytest.mark.parametrize("cap", [1, 4, 10, 100])
def test_the_server_dispatches_below_the_cap_and_not_at_it(cap: int, target: float) -> None:
    # the server's rule (agentservice.go JobRequestAffinity): affinity = target - load > 0
    for active in range(cap):
        assert target - reported_load(active, cap, target) > 0, f"{active} of {cap}"
    for active in (cap, cap + 1):
        assert target - reported_load(active, cap, target) <= 0, f"{active} of {cap}"
        assert reported_load(active, cap, target) == 1.0


def test_the_load_function_counts_the_active_calls() -> None:
    server = _build_server(config(max_calls=4))
    assert isinstance(server, AgentServer)
    assert server.load_fnc is not None
    loads = [
        server.load_fnc(SimpleNamespace(active_jobs=[object()] * n))  # type: ignore[call-arg, arg-type]
        for n in range(6)
    ]
    assert loads == pytest.approx([0.0, 0.175, 0.35, 0.525, 1.0, 1.0])


@pytest.mark.parametrize("cap", [1, 4, 50])
def test_the_worker_reports_itself_full_exactly_at_the_cap(cap: int) -> None:
    server = _build_server(config(max_calls=cap))
    threshold = server._load_threshold  # type: ignore[attr-defined]
    assert reported_load(cap - 1, cap, 0.7) < threshold <= reported_load(cap, cap, 0.7)
    # livekit-agents counts an accepted, not yet started call at the per-call load
    if cap > 1:
        per_call = reported_load(cap - 1, cap, 0.7) / (cap - 1)
        assert reported_load(cap - 1, cap, 0.7) + per_call >= threshold


def test_executor_choice() -> None:
    assert _build_server(config())._job_executor_type is JobExecutorType.THREAD  # type: ignore[attr-defined]
    process = _build_server(config(executor="process"))
    assert process._job_executor_type is JobExecutorType.PROCESS  # type: ignore[attr-defined]


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    add_arguments(parser, "start")
    return parser.parse_args(["start", *argv])


@pytest.fixture
def livekit_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:7880")
    monkeypatch.setenv("LIVEKIT_API_KEY", "k")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s")


@pytest.mark.usefixtures("livekit_env")
def test_target_load_defaults_to_livekits_and_can_be_set() -> None:
    assert WorkerConfig.from_args(_args()).target_load == 0.7
    assert WorkerConfig.from_args(_args("--target-load", "0.9")).target_load == 0.9


@pytest.mark.usefixtures("livekit_env")
@pytest.mark.parametrize("bad", ["0", "-0.5", "1.5"])
def test_a_target_load_out_of_range_is_one_clear_sentence(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^--target-load must be above 0 and at most 1"):
        WorkerConfig.from_args(_args("--target-load", bad))
