"""Sections 6 and 7 of the report: the menu engine, and the admin commands' start-up."""

from __future__ import annotations

from bench.common import BENCH
from bench.report.cells import num, ok, table
from bench.schema import AdminStartup, ResultError, RunResult, load

__all__ = ["ADMIN_RESULTS", "admin", "engine"]

ADMIN_RESULTS = BENCH / "results" / "admin.json"
"""`python -m bench.admin_startup`'s latest figures, shown in every report."""


def engine(r: RunResult) -> list[str]:
    e = r.engine
    if not e:
        return []
    lines = ["## 6. The menu engine", ""]
    lo = e.loader
    if lo and lo.results:
        results = lo.results.results
        # the references (libyaml's events, CSafeLoader's safe_load) are in newer results only
        refs = all(x.events_cpu_s is not None for x in results)
        rows = [
            [
                x.menus,
                num(x.bytes / 1e6, 2),
                num(x.median_s * 1000, 1),
                num(x.min_s * 1000, 1),
                num(x.median_cpu_s * 1000, 1),
                *(
                    [
                        num((x.events_cpu_s or 0) * 1000, 1),
                        num((x.safe_load_cpu_s or 0) * 1000, 1),
                        f"{x.cpu_per_events}x; {x.cpu_per_safe_load}x",
                    ]
                    if refs
                    else []
                ),
                x.repeat,
            ]
            for x in results
        ]
        ref_heads = ["libyaml events CPU ms", "safe_load CPU ms", "CPU / events; / safe_load"]
        load_1m = lo.results.load_average_1m
        lines += [
            f"`{lo.command}`: load, convert and check a menu file (target: 10,000 menus in "
            "under a second"
            + (
                f"; load average {load_1m} at the end of the run)." if load_1m is not None else ")."
            ),
            "",
            *table(
                [
                    "menus",
                    "MB",
                    "median ms",
                    "min ms",
                    "CPU median ms",
                    *(ref_heads if refs else []),
                    "runs",
                ],
                rows,
            ),
            "",
        ]
    elif lo:
        lines += [f"`{lo.command}` failed: {lo.stderr or lo.error}", ""]
    nv = e.navigator
    if nv and nv.results:
        res = nv.results
        steps = [
            [name, num(s.median_us, 2), num(s.p90_us, 2), num(s.p99_us, 2)]
            for name, s in res.steps.items()
        ]
        lines += [
            f"`{nv.command}`: one navigator step, a key in and effects out "
            f"(budget {res.budget_us} µs; within budget: {res.within_budget}).",
            "",
            *table(["step", "median µs", "p90 µs", "p99 µs"], steps),
            "",
        ]
    elif nv:
        lines += [f"`{nv.command}` failed: {nv.stderr or nv.error}", ""]
    return lines


def admin() -> list[str]:
    """The admin commands' start-up (bench/results/admin.json, `python -m bench.admin_startup`)."""
    try:
        result = load(ADMIN_RESULTS) if ADMIN_RESULTS.exists() else None
    except ResultError:
        result = None
    if not isinstance(result, AdminStartup):
        return []
    out = [
        "## 7. Admin command start-up",
        "",
        f"`python -m bench.admin_startup --runs {result.commands[0].runs}` on "
        f"{result.date}: each command started as an admin starts it (`python -m router ...`, "
        "a fresh interpreter each run) on `menus.yaml` / `menus.test.yaml`; median wall time "
        f"against the 0.25 s target. {result.cores} cores, load average "
        f"{list(result.loadavg_before)} before and {list(result.loadavg_after)} after; "
        f"`python -c pass` alone takes {result.interpreter_s:.3f} s. Raw figures in "
        "[`bench/results/admin.json`](../bench/results/admin.json).",
        "",
    ]
    rows = [
        [
            f"`{c.name}`",
            f"{c.median_s:.3f}",
            f"{c.min_s:.3f}",
            f"{c.max_s:.3f}",
            "" if c.cpu_s is None else f"{c.cpu_s:.3f}",
            ok(c.met),
        ]
        for c in result.commands
    ]
    out += table(["command", "median s", "min s", "max s", "CPU s", "under 0.25 s"], rows)
    return [*out, ""]
