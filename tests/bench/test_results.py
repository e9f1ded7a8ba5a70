"""Every committed benchmark result reads through the shared schema (bench/schema.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.schema import AdminStartup, ResultError, RunResult, load

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_a_committed_result_reads_and_writes_back_unchanged(path: Path) -> None:
    result = load(path)
    assert result.to_json() == json.loads(path.read_text())
    if path.name.startswith("run-"):
        assert isinstance(result, RunResult)
        assert result.machine.cores > 0 and result.targets.calls_per_process > 0
    if path.name == "admin.json":
        assert isinstance(result, AdminStartup)
        assert {c.name for c in result.commands} >= {"check", "simulate", "graph", "schema", "test"}


def test_a_run_without_its_machine_is_refused_by_name(tmp_path: Path) -> None:
    run = json.loads(next(iter(sorted(RESULTS.glob("run-*.json")))).read_text())
    del run["machine"]
    path = tmp_path / "run-x.json"
    path.write_text(json.dumps(run))
    with pytest.raises(ResultError, match="run-x.json: missing 'machine'"):
        load(path)
