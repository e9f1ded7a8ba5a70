"""docs/benchmarks.md from a results file (bench/report/): the floor's figures in the
Summary and in section 8, rendered from a committed floor-only run read through the
results' schema; and the report of a stored run unchanged by the schema's reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import render
from bench.schema import RunResult

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
RUN = RESULTS / "floor-20261130T23-run2.json"


def _render(raw: dict[str, Any]) -> str:
    return render(RunResult.from_json(raw, RUN.name), RUN)


def _rows(doc: str, start: str) -> list[str]:
    return [line for line in doc.splitlines() if line.startswith(start)]


def test_the_summary_gives_both_floor_ratios_against_the_goal() -> None:
    raw = json.loads(RUN.read_text())
    ratio = raw["floor"]["ratio"]
    (row,) = _rows(_render(raw), "| router / SDK floor, CPU per call")
    start, waiting = f"{ratio['start_cpu']:.2f}", f"{ratio['waiting_cpu_top_held']:.2f}"
    assert f"| {start}; {waiting} | <= 1.2 | met |" in row


def test_a_floor_ratio_over_the_goal_is_missed_in_the_summary() -> None:
    raw = json.loads(RUN.read_text())
    raw["floor"]["ratio"]["waiting_cpu_top_held"] = 1.25
    (row,) = _rows(_render(raw), "| router / SDK floor, CPU per call")
    assert "met" not in row.rsplit("|", 2)[1]


def test_section_8_shows_the_last_held_level_only_where_the_ramp_stopped() -> None:
    raw = json.loads(RUN.read_text())
    assert raw["floor"]["ratio"]["top_held_calls"] == raw["floor"]["levels"][-1]["calls"]
    (row,) = _rows(_render(raw), "| CPU while waiting, ms/s (at")
    assert "the last level held" not in row
    raw["floor"]["ratio"]["top_held_calls"] = 40
    rows = _rows(_render(raw), "| CPU while waiting, ms/s (at")
    assert len(rows) == 2 and "at 40 calls, the last level held" in rows[1]


def test_a_full_run_reports_every_section_from_its_typed_values() -> None:
    path = RESULTS / "run-20261126T114549.json"  # the run docs/benchmarks.md cites
    doc = render(RunResult.from_json(json.loads(path.read_text()), path.name), path)
    for title in (
        "## Summary",
        "## 1. Key to REFER",
        "## 2. Answer to first audio",
        "## 3. Calls per router process",
        "## 4. Thread executor",
        "## 5. Two router processes",
        "## 6. The menu engine",
        "## 8. The SDK's floor",
        "## Sizing a deployment",
    ):
        assert title in doc, title
    (row,) = _rows(doc, "| key to REFER, end to end (p99)")
    assert row == "| key to REFER, end to end (p99) | 15.0 ms | < 60.0 ms | met |"


def test_the_summary_holds_a_run_to_the_targets_it_was_run_with() -> None:
    path = RESULTS / "run-20261126T114549.json"
    raw = json.loads(path.read_text())
    raw["targets"]["key_to_refer_p99_ms"] = 10.0
    raw["key_to_refer_loaded"]["end_to_end_ms"]["p99"] = 41.5
    doc = render(RunResult.from_json(raw, path.name), path)
    (row,) = _rows(doc, "| the same with 30 calls held in the process: end to end")
    assert row.endswith("| 41.5 ms | < 10.0 ms | **missed** |")
