"""Jobs that arrive together each get a job runner (router/runtime/procpool.py).

livekit-agents' own pool (`ProcPool`, thread executor: real runners, no server needed)
with three jobs already waiting on its warmed queue, as in the soak's run 12 after the
livekit-server restart: each runner spawned for the fourth job goes to a job that waited
before it. livekit-agents 1.8.9 gives that job up after three such turns; the router's
pool gives it its turns again until a runner is its own.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit.agents import __version__ as agents_version
from livekit.agents.ipc.proc_pool import ProcPool
from livekit.agents.job import JobExecutorType

from router.runtime import procpool


def _nothing(_: Any) -> None:
    pass


async def _no_call(_: Any) -> None:
    pass


@pytest.fixture
async def pool() -> AsyncIterator[ProcPool]:
    assert procpool.install(), f"livekit-agents {agents_version} is not a version read"
    pool = ProcPool(
        initialize_process_fnc=_nothing,
        job_entrypoint_fnc=_no_call,
        session_end_fnc=None,
        simulation_end_fnc=None,
        num_idle_processes=0,
        initialize_timeout=10.0,
        close_timeout=5.0,
        session_end_timeout=5.0,
        inference_executor=None,
        job_executor_type=JobExecutorType.THREAD,
        mp_ctx=multiprocessing.get_context("spawn"),
        memory_warn_mb=0,
        memory_limit_mb=0,
        http_proxy=None,
        loop=asyncio.get_running_loop(),
    )
    await pool.start()
    yield pool
    await pool.aclose()


async def _behind_three_jobs(pool: ProcPool, acquire: Any) -> tuple[object, int]:
    """Acquire a runner for a job with three jobs waiting before it; what it got (or the
    error) and how many runners those three took."""
    waiting = [asyncio.ensure_future(pool._warmed_proc_queue.get()) for _ in range(3)]
    await asyncio.sleep(0)  # they are the queue's first getters
    pool._jobs_waiting_for_process += 1
    try:
        got: object = await acquire(pool, "AJ_fourth")
    except RuntimeError as exc:
        got = exc
    finally:
        pool._jobs_waiting_for_process -= 1
    taken = sum(w.done() and not w.cancelled() for w in waiting)
    for w in waiting:
        w.cancel()
    return got, taken


async def test_livekit_agents_alone_drops_a_job_whose_runners_others_took(pool: ProcPool) -> None:
    sdk_alone = ProcPool._acquire_proc.__wrapped__  # type: ignore[attr-defined]
    got, taken = await _behind_three_jobs(pool, sdk_alone)
    assert isinstance(got, RuntimeError), got
    assert "no process became available" in str(got) and taken == 3


async def test_the_routers_pool_gives_that_job_a_runner(pool: ProcPool) -> None:
    got, taken = await _behind_three_jobs(pool, ProcPool._acquire_proc)
    assert not isinstance(got, BaseException), got
    assert taken == 3 and got in pool.processes
