"""Setting a call up, the router against the SDK's floor: where the time and the CPU go.

``python -m bench.setup_cost [--levels 5,20,40] [--interval 0.5] [--pyspy DIR]``: one
stack, one router process and one floor process (bench/floor.py); rtc callers
(bench/rtc_callers.py) are added level by level, alternating between the two, one every
`--interval` seconds, until each process holds the level's calls. ``--sides
router,floor`` ramps each alone instead, one after the other in the same run (the
ramp to 100 calls of issue 16); ``--router-env NAME=VALUE`` sets a lever in the
router (``ROUTER_RTC_FANOUT=1``: the SDK's event fan-out, router/runtime/fanout.py).
Each level says how many of its new calls were greeted within 2 s (`greeted`). Each new caller
subscribes to the agent's track until its first audible frame, so every new call has a
timeline on one wall clock (one machine):

    dispatch   the caller asks for the agent -> the router's worker got the job request
               (floor: the benchmark's join command reached it)
    accept     job request -> accepted -> assigned (livekit-agents and the server; router)
    job start  assigned -> the entrypoint runs in its job thread (router)
    connect    -> `Room.connect` returned
    publish    -> `publish_track` returned
    subscribed -> the caller subscribed to that track (the server, the caller)
    first audio-> the greeting's first audible frame at the caller

The router's own steps come from its `ROUTER_TRACE_SETUP=1` log lines
(router/runtime/worker.py), the floor's from its join events. While a level's calls are
added, both processes' CPU is read by thread (/proc/PID/task); with ``--pyspy DIR``,
``py-spy record --native`` samples the router's Python threads over the first levels
(``--pyspy-levels``) and
`attribute` splits the samples into stages (py-spy on PATH or ``--pyspy-bin``).
Take ``flock /tmp/heavy.lock`` around it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CpuWindow,
    ThreadCpu,
    log,
    percentile,
    result_header,
    running_router,
    running_stack,
    stack_pids,
)
from bench.floor import ROUTER_AUDIO, RTC_LOGS, FloorProcess
from bench.ramp_callers import CallerPool

STEPS = {
    "router": [
        ("dispatch", "dispatch", "received"),
        ("accept", "received", "assigned"),
        ("job start", "assigned", "entered"),
        ("connect", "entered", "joined"),
        ("publish", "joined", "published"),
        ("subscribed", "published", "subscribed"),
        ("first audio", "subscribed", "first_audio"),
    ],
    "floor": [
        ("dispatch", "dispatch", "received"),
        ("connect", "received", "connected"),
        ("publish", "connected", "published"),
        ("subscribed", "published", "subscribed"),
        ("first audio", "subscribed", "first_audio"),
    ],
}
"""Per process: (stage, from step, to step) of a call's timeline."""

SETUP_LINE = re.compile(r"set-up of job (\S+): (\{.*\})")

WAITING = frozenset(
    {
        "epoll_wait",
        "pthread_cond_timedwait",
        "pthread_cond_wait",
        "pthread_mutex_lock",
        "PyThread_acquire_lock_timed",
        "sem_timedwait",
        "sem_wait",
        "poll",
        "select",
        "nanosleep",
        "clock_nanosleep",
        "recv",
        "read",
    }
)
"""Native frames of a thread that waits (for I/O, a lock, the interpreter lock): py-spy
--native counts such a thread as running; its sample is not CPU."""

ROLES = [
    # (who, a frame of the stack that says so), first match wins
    ("rtc threads: FFI events into Python", "ffi_event_callback"),
    ("job threads", "job_proc_lazy_main.py"),
    ("main thread: livekit-agents worker", "cli.py"),
    ("thread-pool threads", "concurrent/futures/thread.py"),
]

STAGES = [
    ("log records", "to_python_level"),
    ("fan-out to every Room's loop", "FfiQueue.put"),
    ("Room.connect", "Room.connect"),
    ("publish_track", "publish_track"),
    ("greeting: capture_frame", "capture_frame"),
    ("the router's own code", "(router/runtime/"),
    ("the router's own code", "(router/trial/"),
    ("Room events", "Room._"),
    ("job IPC (pings, start, logs)", "agents/ipc/"),
    ("the worker's websocket and status", "agents/worker.py"),
    ("event loop wake-ups", "_run_once ("),
]
"""(stage, a frame that puts a sample there): the frame nearest the stack's leaf decides,
so a Room event handled in a job thread is a Room event, not the job thread's loop."""


def stage_of(stack: str) -> str:
    """`who: what` for one py-spy stack (frames root first, `;`-separated)."""
    who = next((name for name, frame in ROLES if frame in stack), "other threads")
    for frame in reversed(stack.split(";")):
        if frame.startswith(("run (router/runtime/worker.py", "_serve (router/runtime/")):
            continue  # the main thread's own root, not work of the router's
        what = next((name for name, marker in STAGES if marker in frame), None)
        if what is not None:
            return f"{who}: {what}"
    return f"{who}: other"


def attribute(raw: Path, rate_hz: int) -> dict[str, float]:
    """CPU-seconds per stage from a `py-spy record --native -f raw` file (`stack count`
    lines); samples of a waiting thread are left out."""
    seconds: dict[str, float] = {}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        leaf = [frame.split(" (")[0] for frame in stack.split(";")[-4:]]
        if WAITING.isdisjoint(leaf):
            stage = stage_of(stack)
            seconds[stage] = seconds.get(stage, 0.0) + int(count) / rate_hz
    return dict(sorted(seconds.items(), key=lambda kv: -kv[1]))


def router_steps(log_text: str) -> dict[str, dict[str, float]]:
    """Job id -> the router's set-up times (its `ROUTER_TRACE_SETUP` lines)."""
    return {m[1]: json.loads(m[2]) for m in SETUP_LINE.finditer(log_text)}


def timeline(who: str, at: dict[str, float]) -> dict[str, float]:
    """Stage -> milliseconds for one call; stages with a missing end are left out."""
    out = {}
    for stage, a, b in STEPS[who]:
        if a in at and b in at:
            out[stage] = round((at[b] - at[a]) * 1000, 1)
    if "dispatch" in at and "first_audio" in at:
        out["total"] = round((at["first_audio"] - at["dispatch"]) * 1000, 1)
    if "cpu_ms" in at:  # the router's job thread, entrypoint to published (CPU, not wall)
        out["job thread CPU"] = round(at["cpu_ms"], 1)
    return out


def medians(rows: list[dict[str, float]]) -> dict[str, float]:
    """Stage -> the median over the calls that have it, in the order of the timeline."""
    keys = [k for k in [*(s for r in rows for s in r)] if k]
    return {
        k: round(statistics.median(r[k] for r in rows if k in r), 1) for k in dict.fromkeys(keys)
    }


def _seconds(rates: dict[str, float], window_s: float) -> dict[str, float]:
    return {k: v * window_s for k, v in rates.items()}


def _minus(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: a.get(k, 0.0) - b.get(k, 0.0) for k in a.keys() | b.keys()}


GOOD_MS = 2000.0
"""A call is greeted well when its greeting is heard within this of the dispatch request
(the issue's bar; bench/capacity.py's `good_greeting_ms` for the ramp of `python -m bench`)."""

SIDES = {
    "both": ("router", "floor"),
    "router": ("router",),
    "floor": ("floor",),
}
"""`--sides`: which processes take a level's new calls, alternating between them."""


def greeted(totals: list[float], failed: int) -> dict[str, Any]:
    """A level's new calls of one process: how many were greeted within `GOOD_MS`, the
    p95 of request -> greeting heard (ms, calls never heard count as failed), and
    whether 95 % of them were greeted within `GOOD_MS` (`served_well`)."""
    calls = len(totals) + failed
    within = sum(1 for t in totals if t <= GOOD_MS)
    p95 = round(percentile(sorted(totals), 95), 1) if totals else None
    return {
        "calls": calls,
        "within_2s": within,
        "p95_ms": p95,
        "served_well": calls > 0 and within >= 0.95 * calls,
    }


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    agent = "bench-setup"
    env = {"ROUTER_RTC_LOGS": "1"} if args.rtc_logs == "sdk" else {}
    env.update(args.router_env)
    out: dict[str, Any] = {"router_env": args.router_env}
    with (
        running_stack(work, agent) as stack,
        running_router(stack, work, "router", agent, command=args.command, env=env) as (
            router,
            _records,
        ),
    ):
        assert router.proc is not None
        pids = {"router": router.proc.pid}
        floor = await FloorProcess(stack.env, ROUTER_AUDIO.name, args.rtc_logs).start()
        pids["floor"] = floor.pid
        try:
            for n, sides in enumerate(args.sides):
                key = "levels" if sides == "both" else f"levels_{sides}_alone"
                out[key], spied = await _ramp(
                    args, stack, router, floor, pids, SIDES[sides], n == 0
                )
                out["pyspy_calls"] = out.get("pyspy_calls") or spied
        finally:
            await floor.close()
        if args.pyspy and (args.pyspy / "router-setup.txt").exists():
            out["router_python_cpu_ms_per_call_by_stage"] = {
                k: round(v / max(out["pyspy_calls"], 1) * 1000, 1)
                for k, v in attribute(args.pyspy / "router-setup.txt", args.rate).items()
            }
        out["router_log_errors"] = [
            line for line in router.log().splitlines() if " ERROR " in line
        ][:10]
    return out


async def _ramp(
    args: argparse.Namespace,
    stack: Any,
    router: Any,
    floor: FloorProcess,
    pids: dict[str, int],
    sides: tuple[str, ...],
    first: bool,
) -> tuple[list[dict[str, Any]], int]:
    """One ramp through `args.levels`, its new calls alternating over `sides`, with its
    own callers (hung up at its end, so the next ramp starts from no call); its levels,
    and how many router calls the py-spy recording (first ramp, `--pyspy`) covers."""
    agent = "bench-setup"
    floor_events: dict[int, dict[str, Any]] = {}
    pool = await CallerPool(
        stack,
        4,
        on_join=lambda m: floor.send({"op": "join", "i": m["i"], "room": m["room"]}),
    ).start()
    sample = {**pids, **stack_pids(stack), "callers": pool.pids, "bench": os.getpid()}
    levels: list[dict[str, Any]] = []
    await asyncio.sleep(3.0)
    # each process's CPU by thread (cores) while its calls wait, taken off the next
    # level's window (what the calls already up cost meanwhile); before the first
    # level, with no call, what it costs idle (livekit-agents' worker loop, its idle
    # job threads)
    idle = {name: ThreadCpu(pid).start() for name, pid in pids.items()}
    await asyncio.sleep(args.hold)
    waiting = {name: t.stop() for name, t in idle.items()}
    n = 0
    held = 0
    spy: asyncio.subprocess.Process | None = None
    spied = 0
    pyspy = args.pyspy if first else None
    try:
        for li, level in enumerate(args.levels):
            new = list(range(n, n + len(sides) * (level - held)))
            n += len(new)
            added = len(new) // len(sides)
            log(f"setup: level {level} per process of {'+'.join(sides)} (+{len(new)} calls)")
            if pyspy and li == 0:  # one recording over the first --pyspy-levels
                pyspy.mkdir(parents=True, exist_ok=True)
                spy = await asyncio.create_subprocess_exec(
                    *(args.pyspy_bin, "record", "--native", "-r", str(args.rate)),
                    *("-p", str(pids["router"]), "-f", "raw", "--threads"),
                    *("-o", str(pyspy / "router-setup.txt")),
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                )
                await asyncio.sleep(1.0)
            add = CpuWindow(sample).start()
            threads = {name: ThreadCpu(pid).start() for name, pid in pids.items()}
            t0 = time.monotonic()
            asks = []
            for k, i in enumerate(new):
                who = sides[i % len(sides)]
                cmd = {
                    "op": "call",
                    "caller_id": f"+155548{i:04d}",
                    "room": f"bench-setup-{'-'.join(sides)}-{i}",
                    "agent": agent if who == "router" else None,
                    "timeline": True,
                }
                asks.append((i, who, asyncio.ensure_future(pool.ask(i, cmd, 120))))
                await asyncio.sleep(max(0.0, t0 + (k + 1) * args.interval - time.monotonic()))
            got = [(i, who, await task) for i, who, task in asks]
            # the floor says "idle" once its greeting has played; so does the router's
            # caller, about then: both processes' windows end after their greetings
            await asyncio.sleep(args.settle)
            window_s = time.monotonic() - t0
            add_cpu = add.stop()
            add_threads = {name: t.stop() for name, t in threads.items()}
            if spy is not None and li + 1 == args.pyspy_levels:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                await asyncio.wait_for(spy.wait(), 60)
                spied = sum(lv["added_per_process"] for lv in levels) + added
            while not floor.events.empty():
                ev = floor.events.get_nowait()
                floor_events[ev.get("i", -1)] = ev
            steps = router_steps(router.log())
            rows: dict[str, list[dict[str, float]]] = {who: [] for who in sides}
            failed = []
            for i, who, ev in got:
                if ev.get("ev") != "up" or not ev.get("timeline"):
                    failed.append(f"{who} {i}: {ev.get('why')}")
                    continue
                at = dict(ev["timeline"])
                agent_id = at.pop("agent", None) or ""
                if who == "router":
                    job = next((j for j in steps if j in agent_id), None)
                    at.update(steps.get(job, {}) if job else {})
                else:
                    at.update((floor_events.get(i) or {}).get("times", {}))
                rows[who].append(timeline(who, at))
            per_call = {}
            for name in sides:
                spent = _minus(
                    _seconds(add_threads[name], window_s), _seconds(waiting[name], window_s)
                )
                per_call[name] = {
                    k: round(v / added * 1000, 1)
                    for k, v in sorted(spent.items(), key=lambda kv: -kv[1])
                    if abs(v / added * 1000) >= 0.5
                }
                per_call[name]["total"] = round(sum(spent.values()) / added * 1000, 1)
            # the calls wait: what they cost by thread, for the next level's window
            await asyncio.sleep(2.0)
            hold = {name: ThreadCpu(pid).start() for name, pid in pids.items()}
            hold_all = CpuWindow(sample).start()
            await asyncio.sleep(args.hold)
            waiting = {name: t.stop() for name, t in hold.items()}
            hold_cpu = hold_all.stop()
            entry = {
                "level_per_process": level,
                "added_per_process": added,
                "window_s": round(window_s, 1),
                "failed": failed,
                "greeted": {
                    who: greeted(
                        [r["total"] for r in rows[who] if "total" in r],
                        sum(1 for r in rows[who] if "total" not in r)
                        + sum(1 for f in failed if f.startswith(who)),
                    )
                    for who in sides
                },
                "timeline_ms_median": {w: medians(r) for w, r in rows.items()},
                "timeline_ms_max": {
                    w: {k: max(x[k] for x in r if k in x) for k in medians(r)}
                    for w, r in rows.items()
                    if r
                },
                "setup_cpu_ms_per_call_by_thread": per_call,
                "cpu_add_cores": add_cpu,
                "cpu_hold_cores": hold_cpu,
                "waiting_ms_per_s_per_call": {
                    name: round(sum(waiting[name].values()) / level * 1000, 1) for name in sides
                },
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
            levels.append(entry)
            log(json.dumps({k: entry[k] for k in ("level_per_process", "greeted")}))
            log(json.dumps(entry["timeline_ms_median"]))
            log(json.dumps(per_call))
            held = level
            if args.stop_ms and all(
                (entry["greeted"][w]["p95_ms"] or float("inf")) > args.stop_ms for w in sides
            ):
                entry["stopped"] = f"every process's p95 above {args.stop_ms:.0f} ms"
                break
    finally:
        if spy is not None and spy.returncode is None:
            spy.send_signal(signal.SIGINT)
            await asyncio.wait_for(spy.wait(), 60)
            spied = spied or sum(lv["added_per_process"] for lv in levels)
        await pool.close()
        await asyncio.sleep(5.0)  # the processes see their callers leave
    return levels, spied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.setup_cost", description=__doc__)
    parser.add_argument("--levels", default="5,20,40", help="calls per process, comma-separated")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between new calls")
    parser.add_argument("--settle", type=float, default=6.0, help="after the last call is up")
    parser.add_argument("--hold", type=float, default=5.0, help="waiting window, seconds")
    parser.add_argument("--pyspy", type=Path, help="sample the router's first level into DIR")
    parser.add_argument("--pyspy-bin", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument("--pyspy-levels", type=int, default=2, help="levels sampled")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples a second")
    parser.add_argument("--command", choices=("start", "dev"), default="start")
    parser.add_argument(
        "--rtc-logs", choices=RTC_LOGS, default=RTC_LOGS[0], help="both processes' (floor.py)"
    )
    parser.add_argument(
        "--sides",
        default="both",
        help="comma-separated ramps, one after the other in this run: both (the new calls "
        "alternate between the router and the floor), router or floor (that one alone)",
    )
    parser.add_argument(
        "--router-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="in the router's environment (a lever off or on, e.g. ROUTER_RTC_FANOUT=1)",
    )
    parser.add_argument(
        "--stop-ms",
        type=float,
        default=0.0,
        help="end a ramp after a level whose p95 greeting wait is above this for every "
        "process in it (0: never)",
    )
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args(argv)
    args.levels = [int(x) for x in args.levels.split(",") if x.strip()]
    args.sides = [x.strip() for x in args.sides.split(",") if x.strip()]
    if not set(args.sides) <= SIDES.keys():
        parser.error(f"--sides takes {', '.join(SIDES)}")
    args.router_env = dict(kv.split("=", 1) for kv in args.router_env)
    work = Path(tempfile.mkdtemp(prefix="router-setup-"))
    result: dict[str, Any] = {
        **result_header("setup_cost", argv),
        "router_command": args.command,
        "rtc_logs": args.rtc_logs,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        result.update(asyncio.run(run(args, work)))
    finally:
        result["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=1) + "\n"
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
