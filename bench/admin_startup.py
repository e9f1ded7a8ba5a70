"""How long the admin commands take, start to exit, on the small example.

Each of `check`, `simulate`, `graph`, `schema` and `test` runs as an admin runs it
(`python -m router ...`, a fresh interpreter each time) on the repository's
`menus.yaml` / `menus.test.yaml`, `--runs` times; the median wall time is held to
the target (0.25 s). The package's bytecode is compiled first, as `pip install` does
(with PYTHONDONTWRITEBYTECODE set, as in some shells here, every run would otherwise
compile the sources again, which no installed router does). `python -c pass` is timed
the same way: the interpreter's own floor, which no command can go under. The load
average before and after is kept, since a busy machine slows every start.

    python -m bench.admin_startup [--runs 9] [--imports 12]

Prints the table and writes bench/results/admin.json (bench/schema.py's AdminStartup).
`--imports N`: also, per command, the N costliest imports (`python -X importtime`, each
module's own time, the least of `--runs` runs; the router's modules by name, others by
package), where a command over target spends its start.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.schema import AdminCommand, AdminStartup

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "admin.json"
TARGET_S = 0.25

COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("check", "menus.yaml"),
    "simulate": (
        "simulate",
        "menus.yaml",
        "--number",
        "+15105550150",
        "--at",
        "2026-12-01T10:00-05:00",
        "--keys",
        "21",
    ),
    "graph": ("graph", "menus.yaml", "--number", "+15105550151", "-o", "{out}/es.svg"),
    "schema": ("schema",),
    "test": ("test", "menus.test.yaml"),
}
"""The commands timed, as the README shows them; `{out}` is a scratch folder."""


def _time(argv: list[str], runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall seconds of each run; with `cpu`, each run's CPU seconds (user + system) too."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if cpu is not None:
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1):  # `check` and `test` may exit 1 on findings
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return times


def measure(runs: int) -> AdminStartup:
    compileall.compile_dir(ROOT / "router", quiet=1)
    before = tuple(round(x, 2) for x in os.getloadavg())
    floor = statistics.median(_time([sys.executable, "-c", "pass"], runs))
    commands = []
    with tempfile.TemporaryDirectory() as out:
        for name, args in COMMANDS.items():
            argv = [a.replace("{out}", out) for a in args]
            cpu: list[float] = []
            times = _time([sys.executable, "-m", "router", *argv], runs, cpu)
            commands.append(
                AdminCommand(
                    name=name,
                    argv=tuple(args),
                    runs=runs,
                    median_s=round(statistics.median(times), 3),
                    min_s=round(min(times), 3),
                    max_s=round(max(times), 3),
                    target_s=TARGET_S,
                    cpu_s=round(statistics.median(cpu), 3),
                )
            )
    return AdminStartup(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        python=platform.python_version(),
        cores=os.cpu_count() or 0,
        loadavg_before=before,
        loadavg_after=tuple(round(x, 2) for x in os.getloadavg()),
        interpreter_s=round(floor, 3),
        commands=tuple(commands),
    )


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def import_costs(argv: list[str], runs: int) -> list[tuple[str, float]]:
    """(module, milliseconds) of `python -m router ARGV`'s imports, costliest first: each
    module's own import time (`-X importtime`'s "self"), the least over `runs` runs (a
    busy machine only adds); the router's modules by name, the others summed by package."""
    least: dict[str, float] = {}
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "router", *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        run: dict[str, float] = {}
        for line in done.stderr.splitlines():
            m = _IMPORT_LINE.match(line)
            if m is None:
                continue
            name = m[2] if m[2].startswith("router") else m[2].split(".")[0]
            run[name] = run.get(name, 0.0) + int(m[1]) / 1000
        for name, ms in run.items():
            least[name] = min(least.get(name, ms), ms)
    return sorted(least.items(), key=lambda item: -item[1])


def table(result: AdminStartup) -> str:
    lines = [
        f"{result.cores} cores, load {list(result.loadavg_before)} -> "
        f"{list(result.loadavg_after)}; python -c pass: {result.interpreter_s:.3f} s",
        f"{'command':10} {'median s':>9} {'min s':>7} {'max s':>7} {'cpu s':>6}  target",
    ]
    for c in result.commands:
        mark = "met" if c.met else "OVER"
        cpu = "" if c.cpu_s is None else f"{c.cpu_s:.3f}"
        lines.append(
            f"{c.name:10} {c.median_s:9.3f} {c.min_s:7.3f} {c.max_s:7.3f} {cpu:>6}  "
            f"{c.target_s:.2f} {mark}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.admin_startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--imports", type=int, default=0, metavar="N", help="each command's N costliest imports"
    )
    args = parser.parse_args(argv)
    result = measure(args.runs)
    print(table(result))
    with tempfile.TemporaryDirectory() as out:
        for name, words in COMMANDS.items() if args.imports else ():
            costs = import_costs([a.replace("{out}", out) for a in words], args.runs)
            total = sum(ms for _, ms in costs)
            shown = ", ".join(f"{module} {ms:.1f}" for module, ms in costs[: args.imports])
            print(f"{name}: imports {total:.0f} ms: {shown}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result.to_json(), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
