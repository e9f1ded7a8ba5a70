"""The benchmark results' schema: what bench/results/*.json hold, as frozen dataclasses.

One module for the runner (bench/run.py writes a `RunResult`), the report
(bench/report/ reads one), bench/compare.py (reads two), the admin start-up benchmark
(bench/admin_startup.py writes an `AdminStartup`) and the test that loads every
committed result (tests/bench/test_results.py).

A run is typed end to end: its envelope (date, command, machine, versions, targets) here,
its measurement sections (key to REFER, first audio, capacity, two processes, the floor,
the engine) in bench/sections.py, read and written by bench/typed_json.py. `to_json()`
gives back exactly the JSON read, so old files stay readable and rewriting one changes
nothing.

    RunResult      bench/results/run-*.json, floor-*.json   (schema 1)
    EngineResult   bench/results/loader.json, navigator.json
    AdminStartup   bench/results/admin.json
    SoakResult     bench/results/soak-*.json
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import Any, get_args, get_origin

from bench.sections import (
    FLOOR_TARGET_RATIO,
    Engine,
    FirstAudio,
    Floor,
    KeyToRefer,
    Load,
    Ramp,
    TwoProcesses,
)
from bench.typed_json import JsonObject, ResultError, declared

__all__ = [
    "FLOOR_TARGET_RATIO",
    "SCHEMA",
    "TARGETS",
    "AdminCommand",
    "AdminStartup",
    "EngineResult",
    "Machine",
    "ResultError",
    "RunResult",
    "SoakResult",
    "Targets",
    "Versions",
    "declared_path",
    "get",
    "load",
    "load_run",
]

SCHEMA = 1
"""The version of the run files this module reads and writes."""


def get(data: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c`) of JSON or of typed results (a field, a
    key, an index), or None when any step is missing."""
    for part in path.split("."):
        if isinstance(data, JsonObject):
            data = getattr(data, part, None) if part in declared(type(data)) else None
        elif isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def declared_path(cls: type[JsonObject], path: str) -> bool:
    """Whether the schema declares a dotted path from `cls` (a key or index of a
    `dict` or `tuple` field matches any name): a typo in a path read by name is a
    test's failure, not a figure silently missing."""
    kind: Any = cls
    for part in path.split("."):
        if get_origin(kind) is UnionType:  # X | None
            (kind,) = (k for k in get_args(kind) if k is not type(None))
        if isinstance(kind, type) and issubclass(kind, JsonObject):
            kind = declared(kind).get(part)
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        elif get_origin(kind) is tuple and part.isdigit():
            kind = get_args(kind)[0]
        else:
            return kind is Any
        if kind is None:
            return False
    return True


@dataclass(frozen=True, kw_only=True)
class Machine(JsonObject):
    """The machine a run was measured on."""

    cores: int
    """Logical cores."""
    physical_cores: int | None = None
    cpu_model: str | None = None
    memory_gb: float
    kernel: str
    loadavg: tuple[float, ...]
    """1, 5 and 15 minute load averages when the run started."""


@dataclass(frozen=True, kw_only=True)
class Versions(JsonObject):
    """What was measured: the router's and its dependencies' versions."""

    git: str
    router: str
    python: str
    livekit: str
    livekit_agents: str
    livekit_api: str
    livekit_server: str


@dataclass(frozen=True, kw_only=True)
class Targets(JsonObject):
    """The figures a run is held to (docs/benchmarks.md)."""

    key_to_refer_p99_ms: float
    router_key_to_request_ms: float
    answer_to_first_audio_ms: float
    calls_per_process: int
    rss_mb_per_call: float


TARGETS = Targets(
    key_to_refer_p99_ms=60.0,
    router_key_to_request_ms=2.0,
    answer_to_first_audio_ms=150.0,
    calls_per_process=100,
    rss_mb_per_call=3.0,
)
"""The targets a run is held to: declared here only; bench/run.py writes them into each
run, and the report reads them from the run it reports."""


@dataclass(frozen=True, kw_only=True)
class RunResult(JsonObject):
    """One run of `python -m bench`: bench/results/run-<date>[-quick].json. A section is
    None (or `capacity` empty) when its phase did not run."""

    schema: int
    date: str
    """UTC, ISO 8601."""
    quick: bool
    command: str
    phases: tuple[str, ...]
    machine: Machine
    versions: Versions
    sip_bridge: str
    targets: Targets
    seconds: float | None = None
    """How long the whole run took."""
    load: Load | None = None
    key_to_refer: KeyToRefer | None = None
    key_to_refer_loaded: KeyToRefer | None = None
    first_audio: FirstAudio | None = None
    capacity: dict[str, Ramp] = field(default_factory=dict)
    """`thread_sip`, `thread_rtc`, `process_sip`, `process_rtc`."""
    two_processes: TwoProcesses | None = None
    engine: Engine | None = None
    floor: Floor | None = None
    router_log_errors: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Any, where: str = "run") -> RunResult:
        if isinstance(data, Mapping) and data.get("schema", SCHEMA) != SCHEMA:
            raise ResultError(f"{where}: schema {data['schema']}, this reader knows {SCHEMA}")
        return super().from_json(data, where)

    def get(self, path: str) -> Any:
        """A figure by dotted path (`key_to_refer.end_to_end_ms.p99`), or None."""
        return get(self, path)


@dataclass(frozen=True, kw_only=True)
class EngineResult(JsonObject):
    """One menu-engine benchmark: bench/results/loader.json or navigator.json (its
    figures stay in `extra`, as the benchmark wrote them)."""

    benchmark: str
    """`loader` or `navigator`."""
    python: str
    machine: str


@dataclass(frozen=True, kw_only=True)
class AdminCommand(JsonObject):
    """One admin command's start-to-exit wall time, over `runs` runs."""

    name: str
    """`check`, `simulate`, `graph`, `schema`, `test`."""
    argv: tuple[str, ...]
    """The arguments after `python -m router`."""
    runs: int
    median_s: float
    min_s: float
    max_s: float
    target_s: float
    cpu_s: float | None = None
    """Median CPU time of the run (user + system, seconds): what the command itself costs,
    which a busy machine changes far less than the wall time. None in older results."""

    @property
    def met(self) -> bool:
        return self.median_s <= self.target_s

    def to_json(self) -> dict[str, Any]:
        """The fields, and `met` (written for readers of the file; read back, it is
        worked out again)."""
        return {**super().to_json(), "met": self.met}


@dataclass(frozen=True, kw_only=True)
class AdminStartup(JsonObject):
    """The admin commands' wall times on the small example: bench/results/admin.json."""

    date: str
    python: str
    cores: int
    loadavg_before: tuple[float, ...]
    loadavg_after: tuple[float, ...]
    interpreter_s: float
    """Median wall time of `python -c pass`: the floor under every command."""
    commands: tuple[AdminCommand, ...]

    @classmethod
    def from_json(cls, data: Any, where: str = "admin") -> AdminStartup:
        if isinstance(data, Mapping) and data.get("benchmark") != "admin_startup":
            raise ResultError(f"{where}: not an admin start-up result")
        return super().from_json(data, where)

    def to_json(self) -> dict[str, Any]:
        return {"benchmark": "admin_startup", **super().to_json()}


@dataclass(frozen=True, kw_only=True)
class SoakResult(JsonObject):
    """One soak (`python -m bench.soak`): bench/results/soak-<date>.json (its figures stay
    in `extra`; docs/reliability.md reads them)."""

    started: str
    """UTC, ISO 8601."""
    command: str
    machine: Machine
    versions: Versions
    calls: int
    failures: tuple[str, ...]
    """What did not hold (sentences); empty when everything did."""

    @classmethod
    def from_json(cls, data: Any, where: str = "soak") -> SoakResult:
        return super().from_json(data, where)


def load(path: Path) -> RunResult | EngineResult | AdminStartup | SoakResult:
    """Any committed result file, read through its schema (ResultError names the file)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ResultError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ResultError(f"{path}: not a JSON object")
    if data.get("benchmark") == "admin_startup":
        return AdminStartup.from_json(data, str(path))
    if data.get("benchmark") == "soak":
        return SoakResult.from_json(data, str(path))
    if "benchmark" in data:
        return EngineResult.from_json(data, str(path))
    return RunResult.from_json(data, str(path))


def load_run(path: Path) -> RunResult:
    """A run file (`python -m bench`), read through the schema."""
    result = load(path)
    if not isinstance(result, RunResult):
        raise ResultError(f"{path}: not a benchmark run")
    return result
