"""docs/benchmarks.md from a results file (bench/report.py): the floor's figures in the
Summary and in section 8, rendered from a committed floor-only run."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import render

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
RUN = RESULTS / "floor-20261130T23-run2.json"


def _rows(doc: str, start: str) -> list[str]:
    return [line for line in doc.splitlines() if line.startswith(start)]


def test_the_summary_gives_both_floor_ratios_against_the_goal() -> None:
    raw = json.loads(RUN.read_text())
    ratio = raw["floor"]["ratio"]
    (row,) = _rows(render(raw, RUN), "| router / SDK floor, CPU per call")
    start, waiting = f"{ratio['start_cpu']:.2f}", f"{ratio['waiting_cpu_top_held']:.2f}"
    assert f"| {start}; {waiting} | <= 1.2 | met |" in row


def test_a_floor_ratio_over_the_goal_is_missed_in_the_summary() -> None:
    raw = json.loads(RUN.read_text())
    raw["floor"]["ratio"]["waiting_cpu_top_held"] = 1.25
    (row,) = _rows(render(raw, RUN), "| router / SDK floor, CPU per call")
    assert "met" not in row.rsplit("|", 2)[1]


def test_section_8_shows_the_last_held_level_only_where_the_ramp_stopped() -> None:
    raw = json.loads(RUN.read_text())
    assert raw["floor"]["ratio"]["top_held_calls"] == raw["floor"]["levels"][-1]["calls"]
    (row,) = _rows(render(raw, RUN), "| CPU while waiting, ms/s (at")
    assert "the last level held" not in row
    raw["floor"]["ratio"]["top_held_calls"] = 40
    rows = _rows(render(raw, RUN), "| CPU while waiting, ms/s (at")
    assert len(rows) == 2 and "at 40 calls, the last level held" in rows[1]
