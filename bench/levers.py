"""Levers on the waiting call: what each way of feeding the prompt track costs.

``python -m bench.levers [--calls N] [--audio a,b,..] [--quick]``: one stack; for each
`bench.floor.AUDIO` variant, one floor process (bench/floor.py) joins N rooms, greets
each, and is then sampled while every call waits silently (CPU by thread: where the
per-track work goes), then while every call hears the greeting again after the pause.
No caller subscribes, so this is the publisher's own cost; what a caller hears with a
lever is checked by the e2e tests over the SIP bridge. Writes a JSON file of figures
(``--out``) and prints a table; take ``flock /tmp/heavy.lock`` around it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CpuWindow,
    ThreadCpu,
    log,
    memory,
    result_header,
    running_stack,
)
from bench.floor import AUDIO, ROUTER_AUDIO, FloorProcess


def _per_call(cores: dict[str, float], calls: int) -> dict[str, float]:
    return {name: round(c / calls * 1000, 2) for name, c in cores.items()}


async def measure(env: dict[str, str], audio: str, calls: int, hold_s: float) -> dict[str, Any]:
    """One variant: N rooms greeted, then CPU while they wait and while they hear it again."""
    floor = await FloorProcess(env, audio).start()
    try:
        base_rss = memory(floor.pid).rss_mb
        run = f"lever-{audio}-{int(time.time())}"
        add = CpuWindow({"floor": floor.pid}).start()
        t0 = time.monotonic()
        for i in range(calls):
            floor.send({"op": "join", "i": i, "room": f"{run}-{i}"})
            await asyncio.sleep(max(0.0, t0 + (i + 1) / 4.0 - time.monotonic()))
        up = await floor.collect(calls, 120)
        add_cpu = add.stop()
        failed = [e for e in up if e.get("ev") != "idle"] + [{}] * (calls - len(up))
        await asyncio.sleep(2.0)
        wait = CpuWindow({"floor": floor.pid}).start()
        threads = ThreadCpu(floor.pid).start()
        await asyncio.sleep(hold_s)
        wait_cpu, wait_threads = wait.stop(), threads.stop()
        rss = memory(floor.pid).rss_mb
        # the greeting again after the pause: what a prompt costs with this lever
        play = CpuWindow({"floor": floor.pid}).start()
        play_threads = ThreadCpu(floor.pid).start()
        for i in range(calls):
            floor.send({"op": "play", "i": i})
        again = await floor.collect(calls, 60)
        play_cpu, play_thr = play.stop(), play_threads.stop()
        greeting_s = [e["greeting_s"] for e in again if e.get("ev") == "idle"]
    finally:
        await floor.close()
    return {
        "audio": audio,
        "calls": calls,
        "failed": len(failed),
        "waiting_ms_per_s_per_call": round(wait_cpu["floor"] / calls * 1000, 2),
        "waiting_by_thread_ms_per_s_per_call": _per_call(wait_threads, calls),
        "playing_ms_per_s_per_call": round(play_cpu["floor"] / calls * 1000, 2),
        "playing_by_thread_ms_per_s_per_call": _per_call(play_thr, calls),
        "greeting_s_median": sorted(greeting_s)[len(greeting_s) // 2] if greeting_s else None,
        "start_core_seconds_per_call": round(add_cpu["floor"] * add_cpu["window_s"] / calls, 3),
        "rss_mb_per_call": round((rss - base_rss) / calls, 2),
        "machine_busy_waiting": round(wait_cpu["machine"] / wait_cpu["machine_cores"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.levers", description=__doc__)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--hold", type=float, default=8.0, help="seconds sampled while waiting")
    parser.add_argument("--audio", default=",".join(AUDIO), help="variants, comma-separated")
    parser.add_argument("--quick", action="store_true", help="10 calls, 3 s windows")
    parser.add_argument("--out", type=Path, help="write the figures here (JSON)")
    args = parser.parse_args(argv)
    calls, hold = (10, 3.0) if args.quick else (args.calls, args.hold)
    variants = [a.strip() for a in args.audio.split(",") if a.strip()]
    unknown = set(variants) - set(AUDIO)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="router-levers-"))
    results: dict[str, Any] = {
        **result_header("levers", argv),
        "calls": calls,
        "hold_s": hold,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "variants": [],
    }
    with running_stack(work, "bench-levers") as stack:
        for audio in variants:
            log(f"levers: {audio}, {calls} calls (load {os.getloadavg()[0]:.2f})")
            row = asyncio.run(measure(stack.env, audio, calls, hold))
            row["loadavg_1m"] = round(os.getloadavg()[0], 2)
            results["variants"].append(row)
            log(json.dumps(row))
    base = next((r for r in results["variants"] if r["audio"] == ROUTER_AUDIO.name), None)
    print(f"\n{'audio':14} waiting ms/s/call  playing ms/s/call  start cs/call  load")
    for r in results["variants"]:
        rel = (
            f" ({r['waiting_ms_per_s_per_call'] / base['waiting_ms_per_s_per_call']:.2f}x)"
            if base and base["waiting_ms_per_s_per_call"]
            else ""
        )
        print(
            f"{r['audio']:14} {r['waiting_ms_per_s_per_call']:8.2f}{rel:10} "
            f"{r['playing_ms_per_s_per_call']:10.2f} {r['start_core_seconds_per_call']:12.3f} "
            f"{r['loadavg_1m']:6.2f}"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
