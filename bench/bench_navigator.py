"""How long one navigator step takes: a key that opens a sub-menu, a key that transfers.

Each step is timed on its own with `time.perf_counter_ns` on a fresh call already
waiting in the main menu (set up outside the timed region), so the figure is the
navigator's work between a DTMF event and its effects, the part of key-to-REFER
latency this process adds. The budget is 20 microseconds per step.

    python -m bench.bench_navigator [--iterations N]

Writes bench/results/navigator.json and prints the same figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from router.core.events import (
    DigitPressed,
    Effect,
    Play,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import (
    Back,
    Directory,
    DirectoryEntry,
    Entry,
    GoTo,
    Menu,
    MenuFile,
    Prompt,
    Repeat,
    Transfer,
    TransferSettings,
)
from router.core.navigator import CallState, Navigator
from router.core.simulation import SimulatedCall

BUDGET_US = 20.0
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "navigator.json"
AT = datetime(2025, 1, 6, 12, tzinfo=UTC)


def menu_file(extensions: int = 0) -> MenuFile:
    """A main menu of the usual size: eight options and a directory of extensions
    (patterns and ranges, plus `extensions` exact ones, as a large company lists them)."""
    sales = Transfer(
        "sip:sales@pbx.example.com",
        destination="sales",
        settings=TransferSettings(headers=MappingProxyType({"X-Department": "sales"})),
    )
    staff = Directory(
        "staff",
        (
            DirectoryEntry("5001", Transfer("sip:alice@pbx.example.com")),
            DirectoryEntry("5100-5199", Transfer("sip:{ext}@pbx.example.com")),
            DirectoryEntry("6xxx", Transfer("tel:+1510555{ext}")),
            *(
                DirectoryEntry(str(7000 + i), Transfer(f"sip:{7000 + i}@pbx.example.com"))
                for i in range(extensions)
            ),
        ),
    )
    main = Menu(
        name="main",
        greeting=Prompt("Welcome. For sales press 2, for support press 1."),
        prompt=Prompt("2 sales, 1 support."),
        options=MappingProxyType(
            {
                Key.D1: GoTo("support"),
                Key.D2: sales,
                Key.D3: Transfer("tel:+15105550103", destination="billing"),
                Key.D4: GoTo("support"),
                Key.D8: GoTo("support"),
                Key.D0: Transfer("tel:+15105550100", destination="operator"),
                Key.STAR: Repeat(),
                Key.POUND: Back(),
            }
        ),
        directory="staff",
    )
    support = Menu(
        name="support",
        greeting=Prompt("Support. Star to go back."),
        prompt=Prompt("Star to go back."),
        options=MappingProxyType({Key.STAR: Back()}),
    )
    return MenuFile(
        path="bench.yaml",
        version="bench",
        menus={"main": main, "support": support},
        entries={"default": Entry("default", "main")},
        directories={"staff": staff},
    )


def waiting_call(file: MenuFile) -> Navigator:
    """A call whose greeting has been heard (the core's simulated call: prompts end at
    once): its navigator waits for a key."""
    call = SimulatedCall(file)
    call.start(None, AT)
    assert call.nav.state is CallState.WAITING
    return call.nav


def measure(
    file: MenuFile, key: Key, check: Callable[[list[Effect]], bool], iterations: int
) -> list[int]:
    calls = [waiting_call(file) for _ in range(iterations)]
    event = DigitPressed(key, 2.0)
    timings = [0] * iterations
    clock = time.perf_counter_ns
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        for i, nav in enumerate(calls):
            start = clock()
            effects = nav.handle(event)
            timings[i] = clock() - start
            if i == 0:
                assert check(effects), effects
    finally:
        if gc_was_on:
            gc.enable()
    return timings


def clock_overhead_ns() -> float:
    """What two back-to-back clock reads cost: included in every figure above."""
    clock = time.perf_counter_ns
    gaps = []
    for _ in range(10_000):
        start = clock()
        gaps.append(clock() - start)
    return statistics.median(gaps)


def summary(timings: list[int]) -> dict[str, float]:
    ordered = sorted(timings)
    q = statistics.quantiles(ordered, n=100)
    return {
        "median_us": round(statistics.median(ordered) / 1000, 3),
        "p90_us": round(q[89] / 1000, 3),
        "p99_us": round(q[98] / 1000, 3),
        "mean_us": round(statistics.fmean(ordered) / 1000, 3),
        "min_us": round(ordered[0] / 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    file = menu_file()
    large = menu_file(extensions=500)
    steps = {
        "key_to_submenu": measure(
            file, Key.D1, lambda fx: any(isinstance(e, Play) for e in fx), args.iterations
        ),
        "key_to_transfer": measure(
            file, Key.D2, lambda fx: any(isinstance(e, TransferTo) for e in fx), args.iterations
        ),
        "first_digit_of_extension": measure(file, Key.D5, lambda fx: bool(fx), args.iterations),
        "key_to_submenu_500_extensions": measure(
            large, Key.D1, lambda fx: any(isinstance(e, Play) for e in fx), args.iterations
        ),
    }
    summaries = {name: summary(t) for name, t in steps.items()}
    worst = max(s["median_us"] for s in summaries.values())
    results: dict[str, object] = {
        "benchmark": "navigator step (Navigator.handle of one DigitPressed)",
        "iterations": args.iterations,
        "budget_us": BUDGET_US,
        "clock_overhead_ns": clock_overhead_ns(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "steps": summaries,
        "within_budget": worst < BUDGET_US,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if worst < BUDGET_US else 1


if __name__ == "__main__":
    sys.exit(main())
