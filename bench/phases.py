"""The phases of a benchmark run (`python -m bench`, bench/run.py), each over a stack of
its own: key to REFER and first audio, the ramps of calls per process (thread and
process executors, SIP and rtc callers), two processes under one agent name, and the
floor (a ramp shared by a router and a bare rtc participant, bench/floor.py). Each
returns its section of the run's results (bench/sections.py types them).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench import capacity, latency
from bench.common import (
    CpuWindow,
    log,
    machine_info,
    memory,
    read_records,
    router_traces,
    running_router,
    running_stack,
    stack_pids,
    summary,
    wait_quiet,
)
from bench.floor import ROUTER_AUDIO, FloorProcess
from bench.plan import Plan, Workspace
from bench.schema import FLOOR_TARGET_RATIO, TARGETS
from router.stack.harness import errors_in


def _keys_result(keys: dict[str, Any], traces: list[Any], cpu: dict[str, Any]) -> dict[str, Any]:
    timed = latency.breakdown(keys["presses"], traces)
    windows = [(p["sent"], p["refer"]) for p in keys["presses"]]
    mine = [t.ms for t in traces if t.key_at is None or any(a <= t.key_at <= b for a, b in windows)]
    return {
        "presses": len(keys["key_to_refer_ms"]),
        "end_to_end_ms": summary(keys["key_to_refer_ms"]),
        "floor_key_to_listener_ms": summary(keys["key_to_listener_ms"]),
        "router_key_to_request_ms": summary(mine, 4),
        "breakdown": timed,
        "failures": keys["failures"],
        "listener_missed": keys["listener_missed"],
        "cpu": cpu,
        "raw": {
            "end_to_end_ms": [round(x, 3) for x in keys["key_to_refer_ms"]],
            "floor_ms": [round(x, 3) for x in keys["key_to_listener_ms"]],
            "router_ms": mine,
        },
    }


def phase_latency(plan: Plan, ws: Workspace) -> dict[str, Any]:
    work = ws.dir("latency")
    agent = "bench-latency"
    with (
        running_stack(work, agent) as stack,
        running_router(stack, work, "router", agent) as (router, _records),
    ):
        assert router.proc is not None
        pids = {"router": router.proc.pid, **stack_pids(stack), "bench": os.getpid()}
        quiet = wait_quiet(plan.wait_s)
        log(f"key to REFER: {plan.presses} presses")
        window = CpuWindow(pids).start()
        keys = asyncio.run(latency.key_to_refer(stack, plan.presses))
        cpu_keys = window.stop()
        log(f"answer to first audio: {plan.first_audio_calls} calls")
        audio = asyncio.run(latency.first_audio(stack, plan.first_audio_calls))
        quiet_loaded = wait_quiet(plan.wait_s)
        log(f"key to REFER with {plan.loaded_calls} calls held: {plan.loaded_presses} presses")
        window = CpuWindow(pids).start()
        loaded = asyncio.run(
            latency.key_to_refer(stack, plan.loaded_presses, background=plan.loaded_calls)
        )
        cpu_loaded = window.stop()
        traces = router_traces(router.log())
        router_log = router.log()
    log(f"livekit-api to the wire: {plan.api_requests} requests to a local stub")
    wire = latency.api_to_wire(plan.api_requests)
    main = _keys_result(keys, traces, cpu_keys)
    main.update(
        {
            "api_to_wire_ms": wire,
            "quiet": quiet,
            "target_p99_ms": TARGETS.key_to_refer_p99_ms,
            "router_target_ms": TARGETS.router_key_to_request_ms,
        }
    )
    e2e, inside = main["end_to_end_ms"], main["router_key_to_request_ms"]
    main["met"] = bool(e2e.get("n")) and e2e["p99"] < TARGETS.key_to_refer_p99_ms
    main["router_met"] = bool(inside.get("n")) and inside["p99"] < TARGETS.router_key_to_request_ms
    under_load = _keys_result(loaded, traces, cpu_loaded)
    under_load["calls_held"] = loaded["background_calls_up"][0]
    under_load["quiet"] = quiet_loaded
    first = audio["answer_to_first_audio_ms"] + keys["first_audio_ms"]
    return {
        "key_to_refer": main,
        "key_to_refer_loaded": under_load,
        "first_audio": {
            "answer_to_first_audio_ms": summary(first),
            "short_calls_ms": summary(audio["answer_to_first_audio_ms"]),
            "invite_to_answer_ms": summary(audio["invite_to_answer_ms"]),
            "greeting_lead_in_ms": latency.prompt_lead_in_ms(),
            "failures": audio["failures"],
            "target_ms": TARGETS.answer_to_first_audio_ms,
            "met": bool(first) and summary(first)["p99"] < TARGETS.answer_to_first_audio_ms,
        },
        "router_log_errors": _errors(router_log),
    }


def _errors(text: str) -> list[str]:
    return errors_in(text)[:10]


def _ramp(
    plan: Plan,
    ws: Workspace,
    name: str,
    kind: str,
    levels: list[int],
    executor: str,
    rate: float | None = None,
) -> dict[str, Any]:
    work = ws.dir(name)
    agent = f"bench-{name}"
    with (
        running_stack(work, agent) as stack,
        running_router(stack, work, "router", agent, executor=executor) as (router, records),
    ):
        assert router.proc is not None
        time.sleep(3.0)  # let the idle job processes / threads settle before the baseline
        config = plan.ramp(levels, pss=executor == "process")
        if rate is not None:
            config.rate = rate
        others = {**stack_pids(stack), "bench": os.getpid()}
        quiet = wait_quiet(plan.wait_s)
        result = asyncio.run(
            capacity.ramp(
                kind,
                stack,
                {"router": router.proc.pid},
                config,
                agent_name=agent,
                records=[("router", records)],
                caller_prefix="41" if kind == "sip" else "42",
                others=others,
            )
        )
        time.sleep(2.0)
        after = memory(router.proc.pid, pss=executor == "process")
        result["router_memory_after_mb"] = round(after.rss_mb, 1)
        result["executor"] = executor
        result["quiet"] = quiet
        result["router_log_errors"] = _errors(router.log())
    return result


def phase_capacity(plan: Plan, ws: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["thread_sip"] = _ramp(plan, ws, "thread-sip", "sip", plan.thread_levels, "thread")
    if plan.rtc_levels:
        out["thread_rtc"] = _ramp(plan, ws, "thread-rtc", "rtc", plan.rtc_levels, "thread")
    return out


def phase_process(plan: Plan, ws: Workspace) -> dict[str, Any]:
    return {
        f"process_{plan.process_kind}": _ramp(
            plan, ws, "process", plan.process_kind, plan.process_levels, "process", rate=1.0
        )
    }


def phase_two(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """Two router processes under one agent name, rtc callers dispatched by the API.

    The same ramp as one process's: calls are spread by LiveKit's dispatch over two
    processes, each with `--max-calls` above its share, so what is shown is how the
    calls split and what two processes hold together on the same cores.
    """
    work = ws.dir("two")
    agent = "bench-two"
    cap = plan.two_max_calls
    with (
        running_stack(work, agent) as stack,
        running_router(stack, work, "router-a", agent, max_calls=cap) as (a, rec_a),
        running_router(stack, work, "router-b", agent, max_calls=cap) as (b, rec_b),
    ):
        assert a.proc is not None and b.proc is not None
        time.sleep(3.0)
        config = plan.ramp(plan.two_levels)
        quiet = wait_quiet(plan.wait_s)
        result = asyncio.run(
            capacity.ramp(
                "rtc",
                stack,
                {"a": a.proc.pid, "b": b.proc.pid},
                config,
                agent_name=agent,
                records=[("a", rec_a), ("b", rec_b)],
                caller_prefix="43",
                others={**stack_pids(stack), "bench": os.getpid()},
            )
        )
        # which process served the calls of each level
        bounds = [0, *plan.two_levels]
        split: dict[str, dict[str, int]] = {}
        for name, path in (("a", rec_a), ("b", rec_b)):
            for r in read_records(path):
                suffix = str(r.get("caller") or "")[-4:]
                if not suffix.isdigit():
                    continue
                i = int(suffix)
                for lo, hi in zip(bounds, bounds[1:], strict=False):
                    if lo <= i < hi:
                        split.setdefault(f"{lo + 1}-{hi}", {"a": 0, "b": 0})[name] += 1
        result["max_calls_per_process"] = cap
        result["split_by_level"] = split
        result["quiet"] = quiet
        result["router_log_errors"] = _errors(a.log() + b.log())
    return result


def _ratio(a: Any, b: Any) -> float | None:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    return round(a / b, 2) if numbers and b else None


def floor_ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Router / floor for each per-call figure of a floor ramp (`capacity.ramp` result)."""
    rc, fc = result["cpu_per_call"]["router"], result["cpu_per_call"]["floor"]
    rm, fm = result["memory_per_call"]["router"], result["memory_per_call"]["floor"]
    well = result["calls_held_well_by_process"]
    # the last level held: at a stopped level some calls may still be coming up
    held = next((lv for lv in reversed(result["levels"]) if not lv.get("stopped")), None)
    top = {
        name: round(
            held["cpu_hold"][f"router:{name}"] / held["by_process"][name]["calls"] * 1000, 2
        )
        if held
        else None
        for name in ("router", "floor")
    }
    return {
        "top_held_calls": held["calls"] if held else None,
        "waiting_ms_per_s_top_held": top,
        "waiting_cpu_at_top": _ratio(
            rc["idle_ms_per_s_per_call_at_top"], fc["idle_ms_per_s_per_call_at_top"]
        ),
        "waiting_cpu_top_held": _ratio(top["router"], top["floor"]),
        "waiting_cpu_fit": _ratio(
            rc["idle_ms_per_s_per_call_fit"], fc["idle_ms_per_s_per_call_fit"]
        ),
        "start_cpu": _ratio(rc["start_core_seconds_per_call"], fc["start_core_seconds_per_call"]),
        "rss_per_call": _ratio(rm["rss_mb_per_call_fit"], fm["rss_mb_per_call_fit"]),
        "calls_held_well": _ratio(well.get("router"), well.get("floor")),
    }


def phase_floor(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """One rtc ramp whose calls alternate between a router and the floor (bench/floor.py).

    Both serve their calls at the same time on the same stack, so the machine's load
    (shared with other people's work) is the same for both; the ratios router / floor
    are per call of each process's own calls.
    """
    work = ws.dir("floor")
    agent = "bench-floor"
    levels = plan.floor_levels
    with (
        running_stack(work, agent) as stack,
        running_router(stack, work, "router", agent) as (router, records),
    ):
        assert router.proc is not None
        router_pid = router.proc.pid

        async def run() -> dict[str, Any]:
            floor = await FloorProcess(stack.env, ROUTER_AUDIO.name).start()
            try:
                await asyncio.sleep(3.0)
                return await capacity.ramp(
                    "rtc",
                    stack,
                    {"router": router_pid, "floor": floor.pid},
                    plan.floor_ramp(levels),
                    agent_name=agent,
                    records=[("router", records)],
                    caller_prefix="44",
                    others={**stack_pids(stack), "bench": os.getpid()},
                    on_join=lambda m: floor.send({"op": "join", "i": m["i"], "room": m["room"]}),
                    floor="floor",
                )
            finally:
                await floor.close()

        quiet = wait_quiet(plan.wait_s)
        load_before = machine_info()["loadavg"]
        result = asyncio.run(run())
        result["quiet"] = quiet
        result["load_before"] = load_before
        result["router_log_errors"] = _errors(router.log())
    result["load_after"] = machine_info()["loadavg"]
    result["ratio"] = floor_ratios(result)
    result["target_ratio"] = FLOOR_TARGET_RATIO
    return result


def phase_rtc(plan: Plan, ws: Workspace) -> dict[str, Any]:
    """The rtc ramp of section 3 alone (one router process, thread executor)."""
    return {
        "thread_rtc": _ramp(plan, ws, "thread-rtc", "rtc", plan.rtc_levels or [5, 10], "thread")
    }
