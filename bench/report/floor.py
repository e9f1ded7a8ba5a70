"""Section 8 of the report: the router against a bare rtc participant (bench/floor.py)."""

from __future__ import annotations

from typing import Any

from bench.common import BENCH
from bench.report.cells import NA, greet, num, ok, table
from bench.schema import ResultError, RunResult, load_run
from bench.sections import Floor

__all__ = ["FLOOR_RESULTS", "floor", "floor_section"]

FLOOR_RESULTS = BENCH / "results" / "floor.json"
"""A run of the floor phase alone (`python -m bench --only floor --out ... --no-doc`), shown
when the run being reported has no floor section of its own."""


def floor_section(r: RunResult) -> tuple[Floor | None, RunResult]:
    """The floor section to report, and the run it comes from (`r` or FLOOR_RESULTS)."""
    if r.floor:
        return r.floor, r
    try:
        other = load_run(FLOOR_RESULTS) if FLOOR_RESULTS.exists() else None
    except ResultError:
        other = None
    if other is None or other.floor is None:
        return None, r
    return other.floor, other


def floor(r: RunResult) -> list[str]:
    f, run = floor_section(r)
    if f is None:
        return []
    ratio = f.ratio
    rc, fc = f.cpu_per_call["router"], f.cpu_per_call["floor"]
    rm, fm = f.memory_per_call["router"], f.memory_per_call["floor"]
    well = f.calls_held_well_by_process
    where = "" if run is r else f" (`bench/results/{FLOOR_RESULTS.name}`, {run.date[:16]})"
    target = f.target_ratio
    lines = [
        "## 8. The SDK's floor: the router against a bare rtc participant",
        "",
        f"One rtc ramp{where} whose calls alternate between a router",
        "process and the floor (`bench/floor.py`): one process holding a bare rtc",
        "participant per room that publishes one audio track with the router's publish",
        "options, plays the same rendered greeting and then waits (no livekit-agents, no",
        "navigator, no records). The benchmark asks the floor into a room where it",
        "dispatches the router. Both serve their calls at the same time, so the machine's",
        "load is the same for both; figures are per",
        "call of each process's own calls, and router / floor is the router's own overhead.",
        "",
    ]
    rows = []
    for lv in f.levels:
        by = lv.by_process or {}
        ro, fl = by.get("router"), by.get("floor")
        rows.append(
            [
                f"{ro.calls if ro else NA} + {fl.calls if fl else NA}",
                f"{lv.cpu_hold.get('router:router', 0):.2f} / "
                f"{lv.cpu_hold.get('router:floor', 0):.2f}",
                f"{lv.memory['router'].rss_mb:.0f} / {lv.memory['floor'].rss_mb:.0f}",
                f"{greet(ro)}; {greet(fl)}",
                f"{lv.cpu_hold['machine']:.2f}",
            ]
        )
    lines += table(
        [
            "calls: router + floor",
            "cores: router / floor",
            "RSS MB: router / floor",
            "new calls' greeting wait ms p50 / p95: router; floor",
            "machine busy (of 2)",
        ],
        rows,
    )

    def met(x: Any) -> str:
        return ok(x <= target) if isinstance(x, int | float) else NA

    last = f.levels[-1] if f.levels else None
    top_calls = last.calls if last else NA
    top_note = (
        ", where the ramp stopped: some calls still greeting" if last and last.stopped else ""
    )
    held = ratio.waiting_ms_per_s_top_held
    lines += [
        "",
        *table(
            ["per call", "router", "floor", "router / floor", f"<= {target}"],
            [
                [
                    f"CPU while waiting, ms/s (at {top_calls} calls{top_note})",
                    num(rc.idle_ms_per_s_per_call_at_top, 1),
                    num(fc.idle_ms_per_s_per_call_at_top, 1),
                    num(ratio.waiting_cpu_at_top, 2),
                    met(ratio.waiting_cpu_at_top),
                ],
                *(
                    []
                    if ratio.top_held_calls == top_calls
                    else [
                        [
                            f"CPU while waiting, ms/s (at {ratio.top_held_calls} calls, "
                            "the last level held)",
                            num(held.get("router"), 1),
                            num(held.get("floor"), 1),
                            num(ratio.waiting_cpu_top_held, 2),
                            met(ratio.waiting_cpu_top_held),
                        ]
                    ]
                ),
                [
                    "CPU while waiting, ms/s (slope over all levels)",
                    num(rc.idle_ms_per_s_per_call_fit, 1),
                    num(fc.idle_ms_per_s_per_call_fit, 1),
                    num(ratio.waiting_cpu_fit, 2),
                    met(ratio.waiting_cpu_fit),
                ],
                [
                    "CPU-seconds to set a call up",
                    num(rc.start_core_seconds_per_call, 3),
                    num(fc.start_core_seconds_per_call, 3),
                    num(ratio.start_cpu, 2),
                    met(ratio.start_cpu),
                ],
                [
                    "RSS MB per added call",
                    num(rm.rss_mb_per_call_fit, 2),
                    num(fm.rss_mb_per_call_fit, 2),
                    num(ratio.rss_per_call, 2),
                    NA,
                ],
                [
                    "its calls greeted within 2 s (p95) up to",
                    well.get("router", NA),
                    well.get("floor", NA),
                    num(ratio.calls_held_well, 2),
                    NA,
                ],
            ],
        ),
        "",
        f"- load average (1, 5, 15 min): before {_listed(f.load_before)}, "
        f"after {_listed(f.load_after)}; stopped: {f.stop_reason}",
    ]
    for name in ("router", "floor"):
        threads = last.router_threads_hold.get(name) if last else None
        if threads:
            parts = ", ".join(f"{n} {c:.2f}" for n, c in list(threads.items())[:6])
            lines.append(f"- the {name}'s CPU at the top level (cores by thread): {parts}")
    return [*lines, ""]


def _listed(loadavg: tuple[float, ...] | None) -> Any:
    return NA if loadavg is None else list(loadavg)
