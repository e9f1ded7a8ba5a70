"""Benchmarks over the real stack: ``python -m bench [--quick]``.

Brings up the local stack (Redis, livekit-server v1.13.5, the SIP bridge) on free
loopback ports, runs the router as an operator would (`RouterProcess`), and measures:

1. key to REFER (end to end, its floor, the router's own share), 200+ presses;
2. answer to the greeting's first audio;
3. calls held by one router process (thread executor), with SIP callers and with
   plain rtc callers;
4. the same ramp with ``--executor process`` (one process per call);
5. two router processes under one agent name: how dispatch spreads calls;
6. the menu engine's own benchmarks (bench/bench_loader.py, bench/bench_navigator.py);
7. the floor: an rtc ramp whose calls alternate between the router and a bare rtc
   participant per room (bench/floor.py), and the ratios router / floor;
``--only rtc`` runs the rtc ramp of 3 alone.

Writes bench/results/run-<UTC date>[-quick].json and docs/benchmarks.md. ``--quick``
takes a minute or two (small ramps, fewer presses) for CI; the full run about twenty.
Compare two runs with ``python -m bench.compare A.json B.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from bench import engine
from bench.common import (
    BENCH,
    ROOT,
    SIP_BRIDGE,
    log,
    machine_info,
    now_iso,
    other_load,
    versions,
    wait_quiet,
)
from bench.phases import (
    phase_capacity,
    phase_floor,
    phase_latency,
    phase_process,
    phase_rtc,
    phase_two,
)
from bench.plan import PHASES, Plan, Workspace
from bench.schema import SCHEMA, TARGETS, RunResult


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a minute or two, for CI")
    parser.add_argument(
        "--only", default=",".join(PHASES), help=f"comma-separated phases of {', '.join(PHASES)}"
    )
    parser.add_argument("--out", type=Path, help="results file (default bench/results/run-*.json)")
    parser.add_argument(
        "--doc", type=Path, default=ROOT / "docs" / "benchmarks.md", help="report to write"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not write the report")
    parser.add_argument("--keep", action="store_true", help="keep the stack's and router's logs")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=None,
        metavar="S",
        help="before each phase, wait up to S seconds for the machine to be mostly idle "
        "(default 120, 20 with --quick)",
    )
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")

    wait = args.wait_quiet if args.wait_quiet is not None else (20.0 if args.quick else 120.0)
    plan = Plan(args.quick, wait)
    ws = Workspace(args.keep)
    started = time.monotonic()
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "date": now_iso(),
        "quick": args.quick,
        "command": shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)]),
        "phases": phases,
        "machine": machine_info(),
        "versions": versions(),
        "sip_bridge": SIP_BRIDGE,
        "targets": TARGETS.to_json(),
        "load": {"before": {"loadavg": machine_info()["loadavg"], "others": other_load([])}},
    }
    log(f"machine: {results['machine']['cores']} cores, load {results['machine']['loadavg']}")
    try:
        if "latency" in phases:
            results.update(phase_latency(plan, ws))
        if "capacity" in phases:
            results.setdefault("capacity", {}).update(phase_capacity(plan, ws))
        if "process" in phases:
            results.setdefault("capacity", {}).update(phase_process(plan, ws))
        if "two" in phases:
            results["two_processes"] = phase_two(plan, ws)
        if "floor" in phases:
            results["floor"] = phase_floor(plan, ws)
        if "rtc" in phases:
            results.setdefault("capacity", {}).update(phase_rtc(plan, ws))
        if "engine" in phases:
            quiet = wait_quiet(plan.wait_s)
            results["engine"] = engine.run(args.quick)
            results["engine"]["quiet"] = quiet
    finally:
        ws.close()
        results["load"]["after"] = {
            "loadavg": machine_info()["loadavg"],
            "others": other_load([os.getpid()]),
        }
        results["seconds"] = round(time.monotonic() - started, 1)
        out = args.out or BENCH / "results" / (
            f"run-{results['date'][:19].replace(':', '').replace('-', '')}"
            + ("-quick" if args.quick else "")
            + ".json"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")  # kept even if it reads wrong
        run = RunResult.from_json(results, str(out))  # the schema every reader shares
        log(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
        ratio = results.get("floor", {}).get("ratio") or {}
        if ratio:  # the figures the floor phase is for, on screen (docs/benchmarks.md, 8.)
            goal = results["floor"].get("target_ratio")
            log(
                f"router / floor: set-up {ratio.get('start_cpu')}, waiting "
                f"{ratio.get('waiting_cpu_top_held')} (goal <= {goal})"
            )
    if not args.no_doc:
        from bench import report

        report.write(run, out, args.doc)
        log(f"report: {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
