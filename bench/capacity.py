"""Calls per router process: a ramp of concurrent calls until the first failure or saturation.

Every call does what a routed call does: it is answered, hears the greeting, presses
two keys (`3`: a sub-menu; `1`: a transfer announced with "Connecting you to
billing."), and is transferred. The population grows level by level and every call
stays up (waiting quietly in the menu after its greeting) until the ramp ends; then
all of them press their keys, spread over a few seconds, and are transferred.

At each level, once every new call has heard its greeting and the greetings have
ended, the router's process tree is sampled for a hold window: CPU (cores), resident
memory (RSS; PSS too for the process executor, whose children share pages), and the
CPU of every other part (livekit-server, the SIP bridge, Redis, this process, which
runs the callers) and of the machine, so a saturated machine is told apart from a
saturated router.

Two kinds of caller:

- ``sip``: the scripted SIP phone through the SIP bridge (UDP SIP, PCMU, RFC 4733),
  the real path;
- ``rtc``: a plain rtc participant with a ``kind="sip"`` token and the SIP attributes,
  publishing an audio track (until the router has joined: the router never subscribes
  to it) and sending keys with ``publish_dtmf``, in a room the
  benchmark creates and dispatches the router into (agent dispatch API). No SIP bridge
  serves those rooms, so TransferSIPParticipant fails; the router's attempt is counted
  from its call records. It takes the SIP bridge and the Python SIP phone out of the
  machine's budget.

The callers themselves are bench/ramp_callers.py; the ramp's figures (per call, held,
the call records) bench/ramp_figures.py.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import (
    CpuWindow,
    ThreadCpu,
    log,
    memory,
    read_records,
    summary,
)
from bench.ramp_callers import Call, CallerPool, pooled_rtc_call, sip_call
from bench.ramp_figures import by_process, ramp_result
from router.stack.local import LocalStack

_run_ids = itertools.count(1)


@dataclass
class RampConfig:
    levels: Sequence[int]
    rate: float = 2.0
    """New calls per second while adding a level (100 calls of a minute each arrive at 1.7/s)."""
    settle_s: float = 6.0
    """After the last new call heard its greeting: let the greetings end."""
    hold_s: float = 8.0
    """Sampling window with every call of the level up and idle."""
    up_timeout_s: float = 90.0
    key_spread_s: float | None = None
    """Keys of all calls spread over this long at the end (default: calls / 25 s, >= 2 s)."""
    max_machine_busy: float = 0.95
    """Share of all cores busy over a hold window that counts as saturation."""
    max_greeting_ms: float = 5000.0
    """Median call-placed-to-greeting of a level's new calls above this: overloaded, stop."""
    good_greeting_ms: float = 2000.0
    """p95 call-placed-to-greeting at or below this: the level is served well."""
    pss: bool = False
    caller_processes: int = 4
    """rtc callers: how many child processes carry them (each Room sees every FFI event
    of every other Room in its process)."""


async def ramp(
    kind: str,
    stack: LocalStack,
    routers: dict[str, int],
    config: RampConfig,
    *,
    agent_name: str | None,
    records: Sequence[Any] = (),
    caller_prefix: str = "40",
    others: dict[str, int] | None = None,
    on_join: Callable[[dict[str, Any]], None] | None = None,
    floor: str | None = None,
) -> dict[str, Any]:
    """Grow the population through `config.levels`; returns per-level figures and the end.

    `routers` maps a name to the pid of a router process (its tree is sampled);
    `others` names more process trees to sample (the stack's parts, this process).
    rtc callers with `agent_name` None dispatch no agent: `on_join` gets each room's
    join request instead (the floor participant of bench/floor.py). With `floor` (the
    name of the floor's process in `routers`, the other one a router) the calls alternate
    between the two, so both are measured side by side under the same load; each
    level's `by_process` and the per-call figures then count each process's own calls.
    """
    run = next(_run_ids)
    go = asyncio.Event()
    calls: list[Call] = []
    spread_s = config.key_spread_s
    rng = random.Random(run)
    levels_out: list[dict[str, Any]] = []
    stop_reason = "all levels held"
    baseline = {name: memory(pid, pss=config.pss) for name, pid in routers.items()}
    sample_pids = {**{f"router:{n}": p for n, p in routers.items()}, **(others or {})}
    pool = (
        await CallerPool(stack, config.caller_processes, on_join).start() if kind == "rtc" else None
    )
    if pool is not None:
        sample_pids["callers"] = pool.pids

    def spread() -> float:
        return rng.uniform(0, spread_s or 2.0)

    def launch(call: Call) -> None:
        if kind == "sip":
            coro: Awaitable[None] = sip_call(call, stack, go, spread)
        else:
            assert pool is not None
            call.room = f"bench-rtc-{run}-{call.i}"
            agent = agent_name
            if floor is not None:
                names = [n for n in routers if n != floor] + [floor]
                call.served_by = names[call.i % 2]
                agent = None if call.served_by == floor else agent_name
            coro = pooled_rtc_call(call, pool, agent, go, spread)
        call.task = asyncio.ensure_future(coro)
        call.task.add_done_callback(lambda _t, c=call: c.up.set())

    try:
        for level in config.levels:
            new = [Call(i, f"+1555{caller_prefix}{i:04d}") for i in range(len(calls), level)]
            log(f"{kind} ramp: level {level} (+{len(new)} calls)")
            add = CpuWindow(sample_pids).start()
            t0 = time.monotonic()
            for n, call in enumerate(new):
                calls.append(call)
                launch(call)
                await asyncio.sleep(max(0.0, t0 + (n + 1) / config.rate - time.monotonic()))
            await asyncio.wait(
                [asyncio.ensure_future(c.up.wait()) for c in new], timeout=config.up_timeout_s
            )
            add_cpu = add.stop()
            add_s = time.monotonic() - t0
            for c in new:
                if not c.up.is_set():
                    c.fail(f"not up within {config.up_timeout_s:.0f} s")
            await asyncio.sleep(config.settle_s)
            hold = CpuWindow(sample_pids).start()
            threads = {name: ThreadCpu(pid).start() for name, pid in routers.items()}
            await asyncio.sleep(config.hold_s)
            hold_cpu = hold.stop()
            hold_threads = {name: t.stop() for name, t in threads.items()}
            mem = {name: memory(pid, pss=config.pss) for name, pid in routers.items()}
            failed = [c for c in calls if c.failure]
            fa = [c.first_audio_ms for c in new if c.first_audio_ms is not None]
            ans = [c.answered_ms for c in new if c.answered_ms is not None]
            greet = summary([c.greeting_ms for c in new if c.greeting_ms is not None], 1)
            entry: dict[str, Any] = {
                "calls": level,
                "added": len(new),
                "add_seconds": round(add_s, 2),
                "failed": len(failed),
                "failures": sorted({c.failure for c in failed if c.failure})[:5],
                "new_calls_answer_ms": summary(ans, 1),
                "new_calls_first_audio_ms": summary(fa, 1),
                "new_calls_greeting_ms": greet,
                "served_well": bool(greet.get("n")) and greet["p95"] <= config.good_greeting_ms,
                "by_process": by_process(calls, new, config) if floor is not None else None,
                "cpu_hold": hold_cpu,
                "router_threads_hold": hold_threads,
                "cpu_add": add_cpu,
                "cpu_add_core_seconds": {
                    k: round(v * add_cpu["window_s"], 2)
                    for k, v in add_cpu.items()
                    if isinstance(v, float) and k not in ("window_s",)
                },
                "memory": {
                    name: {
                        "rss_mb": round(m.rss_mb, 1),
                        "pss_mb": round(m.pss_mb, 1) if m.pss_mb is not None else None,
                        "processes": m.processes,
                    }
                    for name, m in mem.items()
                },
            }
            levels_out.append(entry)
            router_cores = sum(v for k, v in hold_cpu.items() if k.startswith("router:"))
            log(
                f"{kind} ramp: {level} calls, {len(failed)} failed; router "
                f"{router_cores:.2f} cores, "
                + ", ".join(f"{n} {m.rss_mb:.0f} MB" for n, m in mem.items())
                + f"; machine {hold_cpu['machine']:.2f} of {hold_cpu['machine_cores']} cores"
            )
            busy = hold_cpu["machine"] / hold_cpu["machine_cores"]
            add_busy = add_cpu["machine"] / add_cpu["machine_cores"]
            if failed:
                stop_reason = f"first failure at {level} calls: {entry['failures'][0]}"
            elif busy >= config.max_machine_busy:
                stop_reason = f"saturated at {level} calls: machine {busy:.0%} busy while holding"
            elif greet.get("n") and greet["median"] > config.max_greeting_ms:
                stop_reason = (
                    f"saturated at {level} calls: the new calls waited {greet['median']:.0f} ms "
                    "(median) for their greeting"
                )
            if add_busy >= 0.99:
                entry["note"] = f"machine {add_busy:.0%} busy while adding calls"
            if stop_reason != "all levels held":
                entry["stopped"] = stop_reason
                break

        # the end: every call presses its two keys and is transferred
        held = [c for c in calls if c.up.is_set() and not c.failure]
        spread_s = config.key_spread_s or max(2.0, len(held) / 25)
        log(f"{kind} ramp: {len(held)} calls press 3, 1 and ask for a transfer")
        end_cpu = CpuWindow(sample_pids).start()
        go.set()
        tasks = [c.task for c in calls if c.task is not None]
        await asyncio.wait(tasks, timeout=spread_s + 90)
        end = end_cpu.stop()
        for c in calls:
            if c.task is not None and not c.task.done():
                c.task.cancel()
                c.fail("still running at the end")
        await asyncio.gather(*tasks, return_exceptions=True)
        if records:
            # a call's record is written when the router has seen it end
            recorded_by = {None, *(name for name, _path in records)}
            expected = {
                c.caller_id[-4:]
                for c in calls
                if c.answered_ms is not None and c.served_by in recorded_by
            }

            def written() -> bool:
                seen = {
                    str(r.get("caller") or "")[-4:]
                    for _n, path in records
                    for r in read_records(path)
                }
                return expected <= seen

            deadline = time.monotonic() + 90
            while not written() and time.monotonic() < deadline:  # noqa: ASYNC110 - a file
                await asyncio.sleep(0.5)
    finally:
        if pool is not None:
            await pool.close()

    return ramp_result(kind, calls, levels_out, baseline, stop_reason, end, records, config)
