"""How long loading and checking a menu file takes, for 1,000 and 10,000 menus.

The target is 10,000 menus read, converted and checked in under a second on a
2-core machine, so a reload of even an absurdly large file never stalls the router.
The files are generated in a temporary folder: a tree of menus (three sub-menus
each), every menu with a greeting, a prompt, transfers, a message, back and hang-up,
twenty named destinations, a directory, a schedule and three dialled numbers.

    python -m bench.bench_loader [--repeat 5] [--sizes 1000 10000]

Prints the median times and writes them to bench/results/loader.json. Each run also
times two references on the same file, interleaved with the loads: libyaml alone
producing the file's events (the floor of any reader built on it), and PyYAML's
`yaml.load(text, CSafeLoader)` (no lines, no limits, no checks); the ratios to them
say how the loader fares whatever the machine's day (its load average is printed too).
A third interleaved run times a load's stages as `read_menu_text` runs them (text to node
tree, node tree to model, whole-file checks): the account of where a load goes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from router.core.checker import check
from router.core.loader import load_menu_file
from router.core.loader.document import MenuReader
from router.core.loader.source import compose_source

RESULTS = Path(__file__).resolve().parent / "results" / "loader.json"


def menu_file_text(menus: int) -> str:
    """A valid menu file with `menus` menus, all reachable, in the documented style."""
    lines = [
        "# yaml-language-server: $schema=./menus.schema.json",
        "version: 1",
        "defaults:",
        "  timeouts: {first_digit: 5s, inter_digit: 3s}",
        "  limits: {invalid: 3, no_input: 3}",
        '  on_limit: {transfer: operator, say: "Let me get you to someone who can help."}',
        "  transfer: {play_dialtone: true, ringing_timeout: 25s, headers: {X-Routed-By: bench}}",
        "  on_transfer_failure:",
        '    busy: {repeat: true, say: "That line is busy."}',
        "    no_answer: {transfer: voicemail}",
        "destinations:",
        '  operator: "tel:+15105550100"',
        '  voicemail: "sip:voicemail@pbx.example.com"',
    ]
    for d in range(20):
        lines.append(
            f'  team{d}: {{to: "sip:team{d}@pbx.example.com", say: "Connecting you to team {d}.",'
            f" headers: {{X-Team: t{d}}}}}"
        )
    lines += [
        "directories:",
        "  staff:",
        '    "5001": "sip:alice@pbx.example.com"',
        '    "5100-5199": "sip:{ext}@pbx.example.com"',
        '    "6xxx": {to: "tel:+1510555{ext}", ringing_timeout: 30s}',
        "schedules:",
        "  office:",
        "    timezone: America/New_York",
        '    hours: {mon-fri: "08:30-17:30", sat: ["10:00-12:00", "13:00-14:00"]}',
        "    holidays: [2026-12-25, 2027-01-01]",
        "numbers:",
        '  "+15105550150": {menu: m0, schedule: office, closed: m1}',
        '  "+15105550151": {menu: m2}',
        "  default: {menu: m0, schedule: office, closed: m1}",
        "menus:",
    ]
    for i in range(menus):
        children = [c for c in (3 * i + 1, 3 * i + 2, 3 * i + 3) if c < menus]
        lines += [
            f"  m{i}:",
            f'    greeting: "Menu {i}. For the first choice press 1, for the second press 2,'
            f' for the third press 3, for the team press 7, or 0 for the operator."',
            '    prompt: "Press 1, 2, 3, 7 or 0."',
        ]
        if i % 10 == 0:
            lines.append("    directory: staff")
        if i % 7 == 0:
            lines.append("    timeouts: {first_digit: 8s}")
        lines.append("    options:")
        for key, child in zip("123", children, strict=False):
            lines.append(f'      "{key}": {{menu: m{child}}}')
        lines += [
            f'      "7": {{transfer: team{i % 20}, say: "One moment please."}}',
            '      "8": {say: "We are at 1 Main Street."}',
            '      "0": {transfer: operator}',
            '      "*": back',
            '      "#": {hangup: "Goodbye."}',
        ]
    return "\n".join(lines) + "\n"


def libyaml_events(text: str) -> int:
    """The reference floor: libyaml turning the text into PyYAML's event objects."""
    parser = yaml.CSafeLoader(text)
    count = 0
    try:
        while parser.get_event() is not None:
            count += 1
    finally:
        parser.dispose()
    return count


def safe_load(text: str) -> object:
    """The other reference: PyYAML's C loader into plain objects (no lines, no checks)."""
    return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - the C *safe* loader


def cpu_s(work: Callable[[], object]) -> float:
    """The process time `work` takes, its result freed outside the measurement."""
    start = time.process_time()
    result = work()
    spent = time.process_time() - start
    del result
    return spent


def stages_cpu_s(data: bytes, folder: Path) -> tuple[float, float, float]:
    """The process time of a load's stages, the collector off as `read_menu_text` runs
    them: the text to a node tree (decoding, libyaml's events, `yamlsafe.compose`), the
    node tree to a `MenuFile` (the readers), and the whole-file checks."""
    gc.disable()
    try:
        start = time.process_time()
        source = compose_source(data, "bench.yaml")
        composed = time.process_time()
        reader = MenuReader("bench.yaml", folder)
        assert source.root is not None
        menu_file = reader.read(source.root, "bench")
        read = time.process_time()
        del source, reader
        assert menu_file is not None
        problems = check(menu_file, base_dir=folder)
        checked = time.process_time()
        assert not problems, problems[:3]
    finally:
        gc.enable()
    return composed - start, read - composed, checked - read


def bench(menus: int, repeat: int, folder: Path) -> dict[str, float | int]:
    path = folder / f"menus-{menus}.yaml"
    text = menu_file_text(menus)
    path.write_text(text, encoding="utf-8")
    size = path.stat().st_size
    times: list[float] = []
    cpu: list[float] = []
    events_cpu: list[float] = []
    safe_cpu: list[float] = []
    stages: list[tuple[float, float, float]] = []
    for _ in range(repeat):
        events_cpu.append(cpu_s(lambda: libyaml_events(text)))
        safe_cpu.append(cpu_s(lambda: safe_load(text)))
        stages.append(stages_cpu_s(text.encode("utf-8"), folder))
        start, start_cpu = time.perf_counter(), time.process_time()
        loaded = load_menu_file(path, max_bytes=size + 1)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert len(loaded.menu_file.menus) == menus and not loaded.warnings, loaded.warnings[:3]
        del loaded
    median_cpu = statistics.median(cpu)
    return {
        "menus": menus,
        "bytes": size,
        "repeat": repeat,
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "median_cpu_s": round(median_cpu, 4),
        "events_cpu_s": round(statistics.median(events_cpu), 4),
        "safe_load_cpu_s": round(statistics.median(safe_cpu), 4),
        "cpu_per_events": round(median_cpu / statistics.median(events_cpu), 2),
        "cpu_per_safe_load": round(median_cpu / statistics.median(safe_cpu), 2),
        "compose_cpu_s": round(statistics.median(s[0] for s in stages), 4),
        "read_cpu_s": round(statistics.median(s[1] for s in stages), 4),
        "check_cpu_s": round(statistics.median(s[2] for s in stages), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results")
    args = parser.parse_args()
    rows = []
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        for menus in args.sizes:
            row = bench(menus, args.repeat, Path(tmp))
            rows.append(row)
            print(
                f"{menus:>6} menus {row['bytes'] / 1e6:6.2f} MB  load+check median "
                f"{row['median_s'] * 1000:7.1f} ms  (min {row['min_s'] * 1000:.1f}, "
                f"max {row['max_s'] * 1000:.1f}, n={args.repeat}; "
                f"cpu median {row['median_cpu_s'] * 1000:.1f} ms)\n"
                f"{'':13}references (cpu medians): libyaml events "
                f"{row['events_cpu_s'] * 1000:.1f} ms, CSafeLoader safe_load "
                f"{row['safe_load_cpu_s'] * 1000:.1f} ms; the load is "
                f"{row['cpu_per_events']}x the events, {row['cpu_per_safe_load']}x safe_load\n"
                f"{'':13}stages (cpu medians): text to nodes {row['compose_cpu_s'] * 1000:.1f} ms, "
                f"nodes to model {row['read_cpu_s'] * 1000:.1f} ms, "
                f"checks {row['check_cpu_s'] * 1000:.1f} ms"
            )
    load_after = round(os.getloadavg()[0], 2)
    print(f"load average (1 min): {load_before} before, {load_after} after")
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "benchmark": "load_menu_file (read, convert, check)",
                    "python": platform.python_version(),
                    "machine": platform.machine(),
                    "cpus": os.cpu_count(),
                    "load_average_1m": load_after,
                    "load_average_1m_before": load_before,
                    "results": rows,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
