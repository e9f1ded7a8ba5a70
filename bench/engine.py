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


def _run(script: str, args: list[str], output: str) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out: dict[str, Any] = {
        "command": " ".join(["python", f"bench/{script}", *args]),
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
    log("menu engine: bench/bench_loader.py")
    loader = _run("bench_loader.py", ["--repeat", "3" if quick else "5"], "loader.json")
    log("menu engine: bench/bench_navigator.py")
    navigator = _run(
        "bench_navigator.py",
        ["--iterations", "10000" if quick else "50000"],
        "navigator.json",
    )
    return {"loader": loader, "navigator": navigator}
