"""A benchmark run's measurement sections, typed: what the phases of a run (bench/phases.py) write.

Each class is one JSON object of bench/results/run-*.json (and floor-*.json), read and
written by pydantic (bench/result_model.py): a field's type is what the report and
bench/compare.py may rely on; a field with a default may be absent (older runs, a phase
that failed); anything else a phase writes stays in the object's `model_extra`, untouched.

    RunResult (bench/schema.py)
    ├── load: Load                      before / after: LoadSample
    ├── key_to_refer, key_to_refer_loaded: KeyToRefer     Distribution, Breakdown
    ├── first_audio: FirstAudio
    ├── capacity: {thread_sip, thread_rtc, process_sip, process_rtc}: Ramp
    │                                    levels: Level, memory_per_call, cpu_per_call
    ├── two_processes: TwoProcesses (a Ramp)
    ├── floor: Floor (a Ramp)           ratio: FloorRatio
    └── engine: Engine                  loader: LoaderRun, navigator: NavigatorRun

Units are in the names (`_ms`, `_s`, `_mb`, `_us`); CPU figures are cores (1.0 = one
core busy) unless named `_ms_per_s` (CPU milliseconds a second) or `core_seconds`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from bench.result_model import Items, Number, ResultModel

__all__ = [
    "FLOOR_TARGET_RATIO",
    "ApiToWire",
    "Breakdown",
    "CpuPerCall",
    "Distribution",
    "Engine",
    "FirstAudio",
    "Floor",
    "FloorRatio",
    "KeyToRefer",
    "Level",
    "Load",
    "LoadSample",
    "LoaderRun",
    "LoaderSize",
    "MemoryPerCall",
    "MemorySample",
    "NavigatorRun",
    "NavigatorStep",
    "OtherProcess",
    "ProcessLevel",
    "Ramp",
    "RouterRecords",
    "TransferPhase",
    "TwoProcesses",
]

FLOOR_TARGET_RATIO = 1.2
"""The floor phase's goal: the router's CPU per call at most this times the bare SDK's
(docs/benchmarks.md, section 8). Written into each floor section as `target_ratio`."""


class Distribution(ResultModel):
    """`bench.common.summary()` of some samples; only `n` when there were none."""

    n: int
    median: Number | None = None
    p50: Number | None = None
    p95: Number | None = None
    p99: Number | None = None
    min: Number | None = None
    max: Number | None = None
    mean: Number | None = None


class OtherProcess(ResultModel):
    """Someone else's process busy on the machine (above 5 % CPU)."""

    cmd: str


class LoadSample(ResultModel):
    loadavg: Items[Number]
    """1, 5 and 15 minute load averages."""
    others: Items[OtherProcess] = ()


class Load(ResultModel):
    """The machine's load when the run started and when it ended."""

    before: LoadSample | None = None
    after: LoadSample | None = None


class Breakdown(ResultModel):
    """Key-to-REFER split with the router's own timestamps (its trace lines)."""

    matched: int
    """Presses whose trace line was found."""
    key_to_router_callback_ms: Distribution | None = None
    router_callback_to_request_ms: Distribution | None = None
    request_to_refer_at_caller_ms: Distribution | None = None


class ApiToWire(ResultModel):
    """livekit-api's TransferSIPParticipant to a local stub."""

    fresh_session_ms: Distribution | None = None
    warm_session_ms: Distribution | None = None


class KeyToRefer(ResultModel):
    """Section 1: the caller's key to the REFER at the caller (and the same under load)."""

    presses: int
    end_to_end_ms: Distribution
    floor_key_to_listener_ms: Distribution
    router_key_to_request_ms: Distribution
    breakdown: Breakdown | None = None
    api_to_wire_ms: ApiToWire | None = None
    cpu: dict[str, Number] = Field(default_factory=dict)
    """Cores by process over the presses, and `machine` / `machine_cores`."""
    calls_held: int | None = None
    """The loaded run's other calls held in the same router process."""
    failures: Items[str] = ()
    listener_missed: Items[Any] = ()
    met: bool | None = None
    router_met: bool | None = None


class FirstAudio(ResultModel):
    """Section 2: the caller's 200 OK to the greeting's first loud RTP packet."""

    answer_to_first_audio_ms: Distribution
    short_calls_ms: Distribution
    invite_to_answer_ms: Distribution
    greeting_lead_in_ms: Number | None = None
    met: bool | None = None


class MemorySample(ResultModel):
    """One process tree's memory at a level."""

    rss_mb: Number
    pss_mb: Number | None = None
    processes: int


class ProcessLevel(ResultModel):
    """One process's share of a level (the floor phase: `router` and `floor`)."""

    calls: int
    new_calls_greeting_ms: Distribution | None = None


class Level(ResultModel):
    """One level of a ramp: every call up at once, sampled over a hold window."""

    calls: int
    failed: int
    cpu_hold: dict[str, Number]
    """Cores by process (`router:NAME`, `livekit`, `sip`, `callers`, ...), `machine` and
    `machine_cores`."""
    memory: dict[str, MemorySample]
    """By router process name."""
    new_calls_greeting_ms: Distribution | None = None
    stopped: str | None = None
    """Why the ramp stopped here, if it did."""
    router_threads_hold: dict[str, dict[str, Number]] = Field(default_factory=dict)
    """Cores by thread name, by router process name."""
    by_process: dict[str, ProcessLevel] | None = None


class MemoryPerCall(ResultModel):
    """A router process's memory against its calls (least squares over the levels)."""

    baseline_rss_mb: Number
    rss_mb_per_call_fit: Number | None
    baseline_pss_mb: Number | None = None
    pss_mb_per_call_fit: Number | None = None


class CpuPerCall(ResultModel):
    idle_ms_per_s_per_call_at_top: Number | None = None
    """CPU of a call waiting in a menu, at the top level."""
    idle_ms_per_s_per_call_fit: Number | None = None
    start_core_seconds_per_call: Number | None = None
    """CPU to set a call up and play its greeting."""


class TransferPhase(ResultModel):
    """The ramp's end: every call presses 3, 1 and is transferred."""

    calls: int
    transferred: int
    failures: Items[str] = ()


class RouterRecords(ResultModel):
    """What the routers' call records say of the ramp's calls."""

    records: int
    keys_3_1_recorded: int
    transfer_attempts_to_billing: int
    transfer_results: dict[str, int]
    calls_per_process: dict[str, int] = Field(default_factory=dict)


class Ramp(ResultModel):
    """Sections 3 to 5 and 8: a population of calls grown level by level."""

    caller: str
    """`sip` or `rtc`."""
    calls_held: int
    highest_level_tried: int
    stop_reason: str
    levels: Items[Level]
    memory_per_call: dict[str, MemoryPerCall]
    transfer_phase: TransferPhase
    cpu_per_call: dict[str, CpuPerCall] = Field(default_factory=dict)
    calls_held_well: int | None = None
    """The highest level whose new calls were 95 % greeted within 2 s."""
    calls_up_no_failure: int | None = None
    rate_calls_per_s: Number | None = None
    router_records: RouterRecords | None = None
    router_log_errors: Items[str] = ()


class TwoProcesses(Ramp):
    """Section 5: two router processes under one agent name."""

    max_calls_per_process: int
    split_by_level: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Calls served by each process, by range of calls placed (`1-50`)."""


class FloorRatio(ResultModel):
    """The router's figures over the bare SDK's, per call."""

    start_cpu: Number | None = None
    waiting_cpu_at_top: Number | None = None
    waiting_cpu_fit: Number | None = None
    waiting_cpu_top_held: Number | None = None
    waiting_ms_per_s_top_held: dict[str, Number] = Field(default_factory=dict)
    top_held_calls: int | None = None
    rss_per_call: Number | None = None
    calls_held_well: Number | None = None


class Floor(Ramp):
    """Section 8: the router against a bare rtc participant, calls alternating."""

    ratio: FloorRatio
    target_ratio: Number = FLOOR_TARGET_RATIO
    calls_held_well_by_process: dict[str, int] = Field(default_factory=dict)
    load_before: Items[Number] | None = None
    load_after: Items[Number] | None = None


class LoaderSize(ResultModel):
    """bench/bench_loader.py at one size of file."""

    menus: int
    bytes: int
    median_s: Number
    min_s: Number
    median_cpu_s: Number
    repeat: int
    events_cpu_s: Number | None = None
    """libyaml's events alone (newer results only), and CSafeLoader's `safe_load`."""
    safe_load_cpu_s: Number | None = None
    cpu_per_events: Number | None = None
    cpu_per_safe_load: Number | None = None


class LoaderResults(ResultModel):
    results: Items[LoaderSize]
    load_average_1m: Number | None = None


class _ChildRun(ResultModel):
    """One engine benchmark run as a child process (bench/engine.py)."""

    command: str
    stderr: Any = None
    """The last lines it printed, when it failed."""
    error: str | None = None
    """Why its results could not be read."""


class LoaderRun(_ChildRun):
    results: LoaderResults | None = None


class NavigatorStep(ResultModel):
    median_us: Number
    p90_us: Number
    p99_us: Number


class NavigatorResults(ResultModel):
    steps: dict[str, NavigatorStep]
    budget_us: Number | None = None
    within_budget: bool | None = None


class NavigatorRun(_ChildRun):
    results: NavigatorResults | None = None


class Engine(ResultModel):
    """Section 6: the menu engine's own benchmarks, run as child processes."""

    loader: LoaderRun | None = None
    navigator: NavigatorRun | None = None
