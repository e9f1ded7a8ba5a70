"""The callers of a ramp (bench/capacity.py): one call as the caller side sees it, the
scripted SIP phone's call, and rtc callers carried by child processes (bench/rtc_callers.py).

Every call is answered, hears the greeting, waits until told to go, presses `3` then
`1`, and is transferred to `BILLING`; a failure is recorded on the `Call`, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import NUMBER, ROOT
from router.stack.local import LocalStack
from router.stack.sipphone import CallOutcome, CallScript, SipCall

BILLING = "sip:billing@pbx.example.com"


@dataclass
class Call:
    """One call of a ramp, as the caller side saw it."""

    i: int
    caller_id: str
    up: asyncio.Event = field(default_factory=asyncio.Event)
    failure: str | None = None
    started_at: float = 0.0
    answered_ms: float | None = None
    """SIP: INVITE -> 200 OK. rtc: the dispatch request made (the call is in the room)."""
    first_audio_ms: float | None = None
    """SIP: 200 OK -> the greeting's first audio. rtc: dispatch -> the router's track."""
    greeting_ms: float | None = None
    """Call placed -> greeting heard (SIP) or the router publishing its track (rtc)."""
    transferred: bool = False
    room: str | None = None
    served_by: str | None = None
    """With a floor in the ramp: which of `routers` serves the call."""
    task: asyncio.Task[None] | None = None

    def fail(self, why: str) -> None:
        if self.failure is None:
            self.failure = why
        self.up.set()


async def sip_call(
    call: Call, stack: LocalStack, go: asyncio.Event, spread: Callable[[], float]
) -> None:
    """`call` by the scripted SIP phone through the SIP bridge: up once its greeting is
    heard; when `go` is set, after `spread()` seconds, keys 3 and 1 and the REFER to
    `BILLING`, then the bridge's BYE. Its times and any failure are set on `call`."""
    options = CallScript(
        caller_id=call.caller_id, timeout_s=3600.0, notify_delay_s=0.2, bye_timeout_s=8.0
    )
    sip = SipCall(stack.sip_uri(NUMBER), options)
    try:
        async with sip:
            call.started_at = time.monotonic()
            await sip.start()
            if not await sip.wait_answered(60):
                call.fail(f"not answered ({sip.state})")
                return
            assert sip.answered_at is not None
            call.answered_ms = (sip.answered_at - call.started_at) * 1000
            first = await sip.wait_first_audio(30)
            if first is None:
                call.fail("no greeting heard")
                return
            call.first_audio_ms = (first - sip.answered_at) * 1000
            call.greeting_ms = (first - call.started_at) * 1000
            call.up.set()
            go_wait = asyncio.ensure_future(go.wait())
            end_wait = asyncio.ensure_future(sip.wait_ended())
            await asyncio.wait({go_wait, end_wait}, return_when=asyncio.FIRST_COMPLETED)
            go_wait.cancel()
            end_wait.cancel()
            if sip.ended:
                call.fail("dropped while held")
                return
            await asyncio.sleep(spread())
            await sip.send_key("3")
            await asyncio.sleep(1.0)
            await sip.send_key("1")
            refer = await sip.wait_refer(30)
            if refer is None:
                call.fail("no REFER after the keys")
                return
            if BILLING not in refer.refer_to:
                call.fail(f"REFER to {refer.refer_to}, expected {BILLING}")
                return
            await sip.wait_ended(20)
        report = sip.report()
        if report.outcome is not CallOutcome.REMOTE_BYE:
            call.fail(f"ended {report.outcome.value} after the REFER, not by the bridge's BYE")
            return
        call.transferred = True
    except Exception as exc:  # noqa: BLE001 - a failed call is a result
        call.fail(f"caller error: {exc!r}")


class CallerPool:
    """rtc callers spread over child processes (bench/rtc_callers.py), a few dozen each."""

    def __init__(
        self,
        stack: LocalStack,
        processes: int,
        on_join: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.stack = stack
        self.n = processes
        self.on_join = on_join
        """Called with a caller's `join` event (no agent dispatched: the floor's turn)."""
        self.procs: list[asyncio.subprocess.Process] = []
        self.events: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> CallerPool:
        env = {**os.environ, **self.stack.env, "BENCH_NUMBER": NUMBER, "PYTHONUNBUFFERED": "1"}
        for _ in range(self.n):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.rtc_callers",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
                cwd=str(ROOT),
            )
            self.procs.append(proc)
            self._readers.append(asyncio.ensure_future(self._read(proc)))
        return self

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            line = await proc.stdout.readline()
            if not line:
                return
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("ev") == "join":
                if self.on_join is not None:
                    self.on_join(msg)
                continue
            queue = self.events.get(msg.get("i"))
            if queue is not None:
                queue.put_nowait(msg)

    async def ask(self, i: int, cmd: dict[str, Any], limit_s: float) -> dict[str, Any]:
        queue = self.events.setdefault(i, asyncio.Queue())
        proc = self.procs[i % self.n]
        assert proc.stdin is not None
        proc.stdin.write((json.dumps({**cmd, "i": i}) + "\n").encode())
        await proc.stdin.drain()
        try:
            return await asyncio.wait_for(queue.get(), limit_s)
        except TimeoutError:
            return {"ev": "fail", "why": f"no answer from the caller within {limit_s:.0f} s"}

    async def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None and proc.returncode is None:
                with contextlib.suppress(Exception):
                    proc.stdin.write(b'{"op": "quit"}\n')
                    await proc.stdin.drain()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 20)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for task in self._readers:
            task.cancel()


async def pooled_rtc_call(
    call: Call,
    pool: CallerPool,
    agent_name: str | None,
    go: asyncio.Event,
    spread: Callable[[], float],
) -> None:
    """`call` by an rtc caller of `pool` in `call.room` (`agent_name` dispatched to it,
    or none: the floor's turn): up once it hears the router; when `go` is set, its keys
    after `spread()` seconds (no SIP bridge serves the room: the router's transfer
    attempt is counted from its call records). Failures are set on `call`."""
    call.started_at = time.monotonic()
    got = await pool.ask(
        call.i,
        {"op": "call", "caller_id": call.caller_id, "room": call.room, "agent": agent_name},
        90,
    )
    if got.get("ev") != "up":
        call.fail(got.get("why", "the caller failed"))
        return
    call.answered_ms = got["answered_ms"]
    call.first_audio_ms = got["first_audio_ms"]
    call.greeting_ms = got["greeting_ms"]
    call.up.set()
    await go.wait()
    got = await pool.ask(call.i, {"op": "go", "delay": spread()}, 60)
    if got.get("ev") != "done":
        call.fail(got.get("why", "the caller failed"))
