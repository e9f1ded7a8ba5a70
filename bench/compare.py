"""Two benchmark runs side by side: ``python -m bench.compare A.json B.json [--all]``.

Prints the headline figures of both runs (latency percentiles, calls held, memory
and CPU per call, the menu engine) with B's change against A. Lower is better for
times, memory and CPU; higher for calls held. ``--all`` prints every number the two
files share instead.

Both runs are read through the results' schema (bench/schema.py); a headline names its
figure by a dotted path of the typed run (`RunResult.get`), and every path is one the
schema declares (tests/bench/test_results.py), so a renamed figure fails a test instead
of printing `–`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.schema import ResultError, load_run

HEADLINES: list[tuple[str, str, bool]] = [
    # (label, dotted path, higher is better)
    ("key→REFER p50 ms", "key_to_refer.end_to_end_ms.p50", False),
    ("key→REFER p95 ms", "key_to_refer.end_to_end_ms.p95", False),
    ("key→REFER p99 ms", "key_to_refer.end_to_end_ms.p99", False),
    ("floor (key→listener) p50 ms", "key_to_refer.floor_key_to_listener_ms.p50", False),
    ("floor (key→listener) p99 ms", "key_to_refer.floor_key_to_listener_ms.p99", False),
    ("router key→request p50 ms", "key_to_refer.router_key_to_request_ms.p50", False),
    ("router key→request p99 ms", "key_to_refer.router_key_to_request_ms.p99", False),
    ("loaded: calls held", "key_to_refer_loaded.calls_held", True),
    ("loaded: key→REFER p50 ms", "key_to_refer_loaded.end_to_end_ms.p50", False),
    ("loaded: key→REFER p99 ms", "key_to_refer_loaded.end_to_end_ms.p99", False),
    (
        "loaded: router key→request p50 ms",
        "key_to_refer_loaded.router_key_to_request_ms.p50",
        False,
    ),
    (
        "loaded: router key→request p99 ms",
        "key_to_refer_loaded.router_key_to_request_ms.p99",
        False,
    ),
    ("answer→first audio p50 ms", "first_audio.answer_to_first_audio_ms.p50", False),
    ("answer→first audio p99 ms", "first_audio.answer_to_first_audio_ms.p99", False),
]
for ramp in ("thread_sip", "thread_rtc", "process_sip", "process_rtc"):
    HEADLINES += [
        (f"{ramp}: calls held", f"capacity.{ramp}.calls_held", True),
        (f"{ramp}: calls greeted within 2 s", f"capacity.{ramp}.calls_held_well", True),
        (
            f"{ramp}: MB RSS per call",
            f"capacity.{ramp}.memory_per_call.router.rss_mb_per_call_fit",
            False,
        ),
        (
            f"{ramp}: MB PSS per call",
            f"capacity.{ramp}.memory_per_call.router.pss_mb_per_call_fit",
            False,
        ),
        (
            f"{ramp}: ms CPU/s per waiting call",
            f"capacity.{ramp}.cpu_per_call.router.idle_ms_per_s_per_call_at_top",
            False,
        ),
        (
            f"{ramp}: CPU-s to start a call",
            f"capacity.{ramp}.cpu_per_call.router.start_core_seconds_per_call",
            False,
        ),
    ]
for who in ("router", "floor"):
    HEADLINES += [
        (
            f"floor phase: {who} calls greeted within 2 s",
            f"floor.calls_held_well_by_process.{who}",
            True,
        ),
        (
            f"floor phase: {who} ms CPU/s per waiting call",
            f"floor.cpu_per_call.{who}.idle_ms_per_s_per_call_at_top",
            False,
        ),
        (
            f"floor phase: {who} CPU-s to start a call",
            f"floor.cpu_per_call.{who}.start_core_seconds_per_call",
            False,
        ),
    ]
HEADLINES += [
    ("floor phase: router/floor CPU per waiting call", "floor.ratio.waiting_cpu_at_top", False),
    ("floor phase: router/floor CPU to start a call", "floor.ratio.start_cpu", False),
    ("two processes: calls held", "two_processes.calls_held", True),
    ("loader 10k menus median s", "engine.loader.results.results.1.median_s", False),
    (
        "navigator key→transfer median µs",
        "engine.navigator.results.steps.key_to_transfer.median_us",
        False,
    ),
]


def flatten(data: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "raw":
                continue
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}{i}."))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out[prefix.rstrip(".")] = float(data)
    return out


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
    return str(x)


def _change(a: Any, b: Any, higher_better: bool | None) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or a == 0:
        return ""
    pct = (b - a) / abs(a) * 100
    if abs(pct) < 0.05:
        return "="
    mark = ""
    if higher_better is not None and abs(pct) >= 10:
        better = (pct > 0) == higher_better
        mark = "  better" if better else "  WORSE"
    return f"{pct:+.0f}%{mark}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--all", action="store_true", help="every shared number, not headlines")
    args = parser.parse_args(argv)
    try:
        a, b = load_run(args.a), load_run(args.b)
    except ResultError as exc:
        print(f"python -m bench.compare: {exc}", file=sys.stderr)
        return 2
    print(f"A: {args.a}  {a.date}  {a.command}  load {list(a.machine.loadavg)}")
    print(f"B: {args.b}  {b.date}  {b.command}  load {list(b.machine.loadavg)}")
    for key in ("livekit_server", "livekit", "livekit_agents", "python", "git"):
        va, vb = getattr(a.versions, key), getattr(b.versions, key)
        if va != vb:
            print(f"   {key}: {va} -> {vb}")
    rows: list[tuple[str, Any, Any, bool | None]]
    if args.all:
        fa, fb = flatten(a.to_json()), flatten(b.to_json())
        rows = [(k, fa[k], fb[k], None) for k in sorted(fa.keys() & fb.keys())]
    else:
        rows = [(label, a.get(p), b.get(p), hb) for label, p, hb in HEADLINES]
        rows = [r for r in rows if r[1] is not None or r[2] is not None]
    width = max((len(r[0]) for r in rows), default=10)
    print()
    print(f"{'':{width}}  {'A':>10}  {'B':>10}  change")
    for label, va, vb, hb in rows:
        print(f"{label:{width}}  {_fmt(va):>10}  {_fmt(vb):>10}  {_change(va, vb, hb)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
