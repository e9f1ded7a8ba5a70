"""A ramp's figures (bench/capacity.py's `ramp`): per-call memory and CPU fitted over its
levels, the calls held (well, without failure), the transfer phase, and what each router
process wrote in its call records. Pure arithmetic over the levels' figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bench.common import read_records, slope, summary
from bench.ramp_callers import BILLING, Call

if TYPE_CHECKING:
    from bench.capacity import RampConfig


def by_process(calls: list[Call], new: list[Call], config: RampConfig) -> dict[str, Any]:
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


def ramp_result(
    kind: str,
    calls: list[Call],
    levels: list[dict[str, Any]],
    baseline: dict[str, Any],
    stop_reason: str,
    end_cpu: dict[str, Any],
    records: Sequence[Any],
    config: RampConfig,
) -> dict[str, Any]:
    """A ramp's result (a `Ramp` of bench/sections.py): its `levels` as `ramp` measured
    them, the calls held (`calls_held`, `calls_held_well` overall and per process,
    `calls_up_no_failure`), memory (MB) and CPU (ms per second, core seconds) per call
    fitted over the levels against each process's `baseline` (`Mem`), and the transfer
    phase; `router_records` when the router's call record files are given."""
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
        out["router_records"] = check_records(kind, calls, records)
    return out


def check_records(kind: str, calls: list[Call], record_files: Sequence[Any]) -> dict[str, Any]:
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
