"""docs/benchmarks.md from a results file: ``python -m bench.report bench/results/run-*.json``.

`python -m bench` calls `write()` at the end of a run; `python -m bench.report` rewrites the
report from a results file kept earlier (no stack needed). The report reads the run
through its typed schema (bench/schema.py, bench/sections.py); each module here writes
one part of the page:

    summary.py    the machine, the versions, the summary against the run's targets
    latency.py    1. key to REFER, 2. answer to first audio
    capacity.py   3. calls per process, 4. executors, 5. two processes, sizing
    engine.py     6. the menu engine, 7. admin command start-up
    floor.py      8. the SDK's floor
    cells.py      how a figure and a table are printed
"""

from __future__ import annotations

from pathlib import Path

from bench.report.capacity import capacity, sizing, two
from bench.report.engine import admin, engine
from bench.report.floor import floor
from bench.report.latency import audio, keys
from bench.report.summary import header, summary
from bench.schema import RunResult

__all__ = ["FINDINGS", "render", "write"]

FINDINGS = Path(__file__).resolve().parents[1] / "findings.md"
"""Hand-written findings, appended to every report as they are."""


def _findings() -> list[str]:
    if not FINDINGS.exists():
        return []
    return [FINDINGS.read_text().rstrip(), ""]


def render(run: RunResult, results_path: Path) -> str:
    """The whole page for `run`, read from `results_path` (named in its head)."""
    parts = [
        header(run, results_path),
        summary(run),
        keys(run),
        audio(run),
        capacity(run),
        two(run),
        engine(run),
        admin(),
        floor(run),
        sizing(run),
        _findings(),
    ]
    return "\n".join(line for part in parts for line in part).rstrip() + "\n"


def write(results: RunResult, results_path: Path, doc: Path) -> None:
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(results, results_path))
