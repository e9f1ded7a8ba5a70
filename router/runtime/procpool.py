"""livekit-agents' pool of job runners, asked again when jobs arriving together race for one.

livekit-agents 1.8.9 gives a job three attempts at a runner (`ipc/proc_pool.py`,
`ProcPool._acquire_proc`). An attempt waits on the spawns in flight and counts as failed
when they have all finished and the warmed queue is empty, which is also what happens
when a spawn succeeded and a job that was waiting before this one took its runner (the
queue serves its getters in order). Three such turns take milliseconds, and the job is
then dropped: livekit-server already has it assigned to this worker, so no runner ever
joins the room, and the SIP bridge rings its caller until the caller gives up. The soak's
run 12 (docs/reliability.md, finding 29): five job requests within 10 ms as the bridge
brought its callers back after the livekit-server restart, "all in-flight spawns failed
to initialize, retrying" three times within 3 ms, "failed to acquire process for job
after 3 attempts", the caller rang 90 s.

`install()` wraps the method so that a job is given its three attempts again, while the
pool is open, for up to `ACQUIRE_WITHIN_S`: the pool's own task spawns runners for the
jobs waiting (`_main_task`), so a turn later one is free. Done only for the versions read
(`READ_VERSIONS`): the method is private; with another version the pool is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["ACQUIRE_WITHIN_S", "READ_VERSIONS", "install"]

log = logging.getLogger("router.worker")

READ_VERSIONS = frozenset({"1.8.9"})
"""livekit-agents versions whose `ProcPool._acquire_proc` this was read against."""

ACQUIRE_WITHIN_S = 10.0
"""How long a job may wait for a runner, in turns of three attempts, before it is given
up as livekit-agents gives it up (its `initialize_process_timeout` bounds one spawn)."""

_RETRY_S = 0.05
"""Between turns: the pool's own task looks for jobs waiting every 100 ms."""


def install() -> bool:
    """Wrap `ProcPool._acquire_proc` once per process; whether it is (or was) wrapped."""
    from livekit.agents import __version__
    from livekit.agents.ipc.proc_pool import ProcPool

    if getattr(ProcPool._acquire_proc, "_router_turns", False):
        return True
    if __version__ not in READ_VERSIONS:
        log.debug("livekit-agents %s: its job runner pool is left as it is", __version__)
        return False
    three_attempts = ProcPool._acquire_proc

    async def acquire(self: ProcPool, job_id: str) -> Any:
        deadline = self._loop.time() + ACQUIRE_WITHIN_S
        while True:
            try:
                return await three_attempts(self, job_id)
            except RuntimeError:
                if self._closed or self._loop.time() >= deadline:
                    raise
                log.info("no job runner free for a job yet (jobs arriving together); again")
                await asyncio.sleep(_RETRY_S)

    acquire._router_turns = True  # type: ignore[attr-defined]
    acquire.__wrapped__ = three_attempts  # type: ignore[attr-defined]
    ProcPool._acquire_proc = acquire  # type: ignore[method-assign]
    return True
