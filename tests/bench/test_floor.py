"""The floor phase's arithmetic (bench/ramp_figures.py, bench/phases.py): per-process figures count
each process's own calls, and the ratios come from the last level held."""

from __future__ import annotations

from typing import Any

from bench.capacity import RampConfig
from bench.common import Mem
from bench.phases import floor_ratios
from bench.ramp_callers import Call
from bench.ramp_figures import ramp_result


def _level(calls: int, router_cores: float, floor_cores: float, **extra: Any) -> dict[str, Any]:
    half = calls // 2
    own = {"calls": half, "added": 5, "failed": 0, "served_well": True}
    return {
        "calls": calls,
        "added": 10,
        "failed": 0,
        "served_well": True,
        "cpu_hold": {"router:router": router_cores, "router:floor": floor_cores},
        "cpu_add": {"window_s": 10.0},
        "cpu_add_core_seconds": {"router:router": 4.0, "router:floor": 2.0},
        "memory": {
            "router": {"rss_mb": 400.0 + 2 * half, "pss_mb": None, "processes": 1},
            "floor": {"rss_mb": 80.0 + 3 * half, "pss_mb": None, "processes": 1},
        },
        "by_process": {"router": dict(own), "floor": dict(own)},
        **extra,
    }


def _ramp(levels: list[dict[str, Any]]) -> dict[str, Any]:
    baseline = {"router": Mem(400.0, None, 1), "floor": Mem(80.0, None, 1)}
    calls = [Call(i, f"+1555440{i:03d}") for i in range(levels[-1]["calls"])]
    end = {"window_s": 1.0, "machine": 0.0, "machine_cores": 2}
    return ramp_result("rtc", calls, levels, baseline, "held", end, (), RampConfig(levels=[]))


def test_a_process_s_figures_count_its_own_calls_not_the_ramp_s() -> None:
    result = _ramp([_level(10, 0.10, 0.05), _level(20, 0.20, 0.10)])
    # 10 router calls at 0.2 cores: 20 ms/s each (not 10, as over all 20 calls)
    assert result["cpu_per_call"]["router"]["idle_ms_per_s_per_call_at_top"] == 20.0
    assert result["cpu_per_call"]["floor"]["idle_ms_per_s_per_call_at_top"] == 10.0
    assert result["memory_per_call"]["router"]["rss_mb_per_call_fit"] == 2.0
    assert result["memory_per_call"]["floor"]["rss_mb_per_call_fit"] == 3.0
    # set-up: the second level's 5 calls of each, beyond what the first level's used
    assert result["cpu_per_call"]["router"]["start_core_seconds_per_call"] == 0.7
    assert result["calls_held_well_by_process"] == {"router": 10, "floor": 10}


def test_the_ratios_skip_a_level_where_the_ramp_stopped() -> None:
    stopped = _level(30, 0.30, 0.60, stopped="first failure")
    result = _ramp([_level(10, 0.10, 0.05), _level(20, 0.22, 0.20), stopped])
    ratios = floor_ratios(result)
    assert ratios["top_held_calls"] == 20
    assert ratios["waiting_ms_per_s_top_held"] == {"router": 22.0, "floor": 20.0}
    assert ratios["waiting_cpu_top_held"] == 1.1
    assert ratios["waiting_cpu_at_top"] == 0.5  # the stopped level, kept for the record
