"""`router report` over a million call records: time, memory, progress.

The records are made from real ones: calls run through the real navigator, recorder
and metrics (`bench/callgen.py`), then copied with new ids and start times
(`callgen.amplify`) until there are N. The report is run as admins run it, in a
child process (`python -m router report`), and its peak memory (ru_maxrss) and
wall time are measured; then the same with a tenth of the lines, to show memory
does not grow with the input.

    python -m bench.report_bench [N] [--keep DIR]
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.callgen import CallGenerator, amplify
from router.core.loader import load_menu_file

ROOT = Path(__file__).resolve().parents[1]


def _run(path: Path, out: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS of the child (MB), and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "router",
            "report",
            str(path),
            "--menus",
            str(ROOT / "menus.yaml"),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return took, max(peak, before) / 1024, done.stderr


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
    menu_file = load_menu_file(ROOT / "menus.yaml").menu_file
    real = list(CallGenerator(menu_file, seed=15, days=7).calls(5_000))
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for size in (n // 10, n):
            path = Path(tmp) / f"calls-{size}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for line in amplify(real, size):
                    f.write(line + "\n")
            mb = path.stat().st_size / 1e6
            took, rss, err = _run(path, Path(tmp) / "report.json")
            report = json.loads((Path(tmp) / "report.json").read_text())
            assert report["calls"] == size, report["calls"]
            results.append((size, mb, took, rss))
            progress = [line for line in err.splitlines() if "lines read" in line]
            print(
                f"{size:>9,} records, {mb:7.1f} MB: {took:6.1f} s "
                f"({size / took:,.0f} records/s), peak RSS {rss:6.1f} MB, "
                f"{len(progress)} progress lines"
                + (f" (last: {progress[-1]})" if progress else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
