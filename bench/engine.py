"""The menu engine's own benchmarks, run as they are.

bench/bench_loader.py and bench/bench_navigator.py each write their figures to
bench/results/ (loader.json, navigator.json); this module runs them as child
processes and returns what they wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench.common import BENCH, ROOT, log

RESULTS = BENCH / "results"


def _run(module: str, args: list[str], output: str) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out: dict[str, Any] = {
        "command": " ".join(["python", "-m", module, *args]),
        "exit_status": proc.returncode,
        "seconds": round(time.monotonic() - started, 1),
        "stdout": proc.stdout.strip().splitlines()[-12:],
    }
    if proc.returncode != 0:
        out["stderr"] = proc.stderr.strip().splitlines()[-12:]
        return out
    try:
        out["results"] = json.loads((RESULTS / output).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        out["error"] = f"cannot read bench/results/{output}: {exc}"
    return out


def run(quick: bool) -> dict[str, Any]:
    log("menu engine: python -m bench.bench_loader")
    loader = _run("bench.bench_loader", ["--repeat", "3" if quick else "5"], "loader.json")
    log("menu engine: python -m bench.bench_navigator")
    navigator = _run(
        "bench.bench_navigator",
        ["--iterations", "10000" if quick else "50000"],
        "navigator.json",
    )
    return {"loader": loader, "navigator": navigator}
