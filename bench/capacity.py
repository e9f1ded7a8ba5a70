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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import (
    NUMBER,
    ROOT,
    CpuWindow,
    ThreadCpu,
    log,
    memory,
    read_records,
    slope,
    summary,
)
from router.stack.local import LocalStack
from router.stack.sipphone import CallOutcome, CallScript, SipCall

BILLING = "sip:billing@pbx.example.com"

_run_ids = itertools.count(1)


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


# ---------------------------------------------------------------- callers


async def _sip_call(
    call: Call, stack: LocalStack, go: asyncio.Event, spread: Callable[[], float]
) -> None:
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


async def _pooled_rtc_call(
    call: Call,
    pool: CallerPool,
    agent_name: str | None,
    go: asyncio.Event,
    spread: Callable[[], float],
) -> None:
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


# ---------------------------------------------------------------- the ramp


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
            coro: Awaitable[None] = _sip_call(call, stack, go, spread)
        else:
            assert pool is not None
            call.room = f"bench-rtc-{run}-{call.i}"
            agent = agent_name
            if floor is not None:
                names = [n for n in routers if n != floor] + [floor]
                call.served_by = names[call.i % 2]
                agent = None if call.served_by == floor else agent_name
            coro = _pooled_rtc_call(call, pool, agent, go, spread)
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
                "by_process": _by_process(calls, new, config) if floor is not None else None,
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

    return _result(kind, calls, levels_out, baseline, stop_reason, end, records, config)


def _by_process(calls: list[Call], new: list[Call], config: RampConfig) -> dict[str, Any]:
    """Per process of a ramp with a floor: its calls up, added, and their greeting waits."""
    out: dict[str, Any] = {}
    for name in sorted({c.served_by for c in calls if c.served_by}):
        mine = [c for c in new if c.served_by == name]
        greet = summary([c.greeting_ms for c in mine if c.greeting_ms is not None], 1)
        out[name] = {
            "calls": sum(1 for c in calls if c.served_by == name),
            "added": len(mine),
            "failed": sum(1 for c in calls if c.served_by == name and c.failure),
            "new_calls_greeting_ms": greet,
            "served_well": bool(greet.get("n")) and greet["p95"] <= config.good_greeting_ms,
        }
    return out


def _own(lv: dict[str, Any], name: str, key: str = "calls") -> Any:
    """A level's figure for one process: its own share in a ramp with a floor."""
    mine = (lv.get("by_process") or {}).get(name)
    return mine[key] if mine else lv[key]


def _result(
    kind: str,
    calls: list[Call],
    levels: list[dict[str, Any]],
    baseline: dict[str, Any],
    stop_reason: str,
    end_cpu: dict[str, Any],
    records: Sequence[Any],
    config: RampConfig,
) -> dict[str, Any]:
    held = 0
    for lv in levels:
        if lv.get("stopped"):
            break
        held = lv["calls"]
    # memory per call: slope of the router's memory over the levels
    per_call: dict[str, Any] = {}
    for name, base in baseline.items():
        xs = [0.0] + [float(_own(lv, name)) for lv in levels]
        rss = [base.rss_mb] + [lv["memory"][name]["rss_mb"] for lv in levels]
        fit = slope(xs, rss)
        top = levels[-1] if levels else None
        per_call[name] = {
            "baseline_rss_mb": round(base.rss_mb, 1),
            "rss_mb_per_call_fit": round(fit, 3) if fit is not None else None,
            "rss_mb_per_call_at_top": round(
                (top["memory"][name]["rss_mb"] - base.rss_mb) / _own(top, name), 3
            )
            if top
            else None,
        }
        if config.pss:
            pss = [base.pss_mb] + [lv["memory"][name]["pss_mb"] for lv in levels]
            fitp = slope(xs, pss)
            per_call[name]["baseline_pss_mb"] = round(base.pss_mb, 1)
            per_call[name]["pss_mb_per_call_fit"] = round(fitp, 3) if fitp is not None else None
    cpu_fit: dict[str, Any] = {}
    for name in baseline:
        key = f"router:{name}"
        xs = [float(_own(lv, name)) for lv in levels]
        ys = [lv["cpu_hold"].get(key, 0.0) for lv in levels]
        fit = slope(xs, ys)
        # what adding a level cost beyond what the calls already up cost meanwhile,
        # over the levels that were held (a saturated level's figures are queueing)
        added = 0
        add_cs = 0.0
        before = 0.0
        for lv in levels:
            if lv.get("stopped"):
                break
            window = lv["cpu_add"]["window_s"]
            add_cs += lv["cpu_add_core_seconds"].get(key, 0.0) - before * window
            added += _own(lv, name, "added")
            before = lv["cpu_hold"].get(key, 0.0)
        cpu_fit[name] = {
            "idle_ms_per_s_per_call_fit": round(fit * 1000, 2) if fit is not None else None,
            "idle_ms_per_s_per_call_at_top": round(ys[-1] / xs[-1] * 1000, 2) if xs else None,
            "start_core_seconds_per_call": round(add_cs / added, 3) if added else None,
        }
    up_no_failure = 0
    for lv in levels:
        if lv["failed"]:
            break
        up_no_failure = lv["calls"]
    well = 0
    for lv in levels:
        if lv["failed"] or not lv.get("served_well"):
            break
        well = lv["calls"]
    well_by: dict[str, int] = {}
    for name in baseline:
        well_by[name] = 0
        for lv in levels:
            if _own(lv, name, "failed") or not _own(lv, name, "served_well"):
                break
            well_by[name] = _own(lv, name)
    out: dict[str, Any] = {
        "caller": kind,
        "calls_held_well": well,
        "calls_held_well_by_process": well_by,
        "calls_up_no_failure": up_no_failure,
        "rate_calls_per_s": config.rate,
        "cpu_per_call": cpu_fit,
        "levels": levels,
        "stop_reason": stop_reason,
        "calls_held": held,
        "highest_level_tried": levels[-1]["calls"] if levels else 0,
        "memory_per_call": per_call,
        "transfer_phase": {
            "calls": len(calls),
            "transferred": sum(c.transferred for c in calls),
            "failed": sum(1 for c in calls if c.failure),
            "failures": sorted({c.failure for c in calls if c.failure})[:8],
            "cpu": end_cpu,
        },
    }
    if records:
        out["router_records"] = _check_records(kind, calls, records)
    return out


def _check_records(kind: str, calls: list[Call], record_files: Sequence[Any]) -> dict[str, Any]:
    """What each router process wrote: calls per process, and (rtc) the transfer attempts."""
    per_process: dict[str, int] = {}
    by_suffix: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, path in record_files:
        recs = read_records(path)
        per_process[name] = 0
        for r in recs:
            caller = str(r.get("caller") or "")
            by_suffix[caller[-4:]] = (name, r)
    ours = {c.caller_id[-4:]: c for c in calls}
    matched = {s: v for s, v in by_suffix.items() if s in ours}
    for name, _r in matched.values():
        per_process[name] += 1
    attempts = 0
    keys_ok = 0
    results: dict[str, int] = {}
    for _name, r in matched.values():
        keys = [k.get("key") for k in r.get("keys", []) if not k.get("ignored")]
        if keys[:2] == ["3", "1"]:
            keys_ok += 1
        transfers = [t for t in r.get("transfers", []) if t.get("target") == BILLING]
        if transfers:
            attempts += 1
            res = f"{transfers[0].get('result')} (SIP {transfers[0].get('sip_status')})"
            results[res] = results.get(res, 0) + 1
    return {
        "records": len(matched),
        "calls_per_process": per_process,
        "keys_3_1_recorded": keys_ok,
        "transfer_attempts_to_billing": attempts,
        "transfer_results": results,
    }
