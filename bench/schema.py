"""The benchmark results' schema: what bench/results/*.json hold, as frozen pydantic models.

One module for the runner (bench/run.py writes a `RunResult`), the report
(bench/report/ reads one), bench/compare.py (reads two), the admin start-up benchmark
(bench/admin_startup.py writes an `AdminStartup`) and the test that loads every
committed result (tests/bench/test_results.py).

A run is typed end to end: its envelope (date, command, machine, versions, targets) here,
its measurement sections (key to REFER, first audio, capacity, two processes, the floor,
the engine) in bench/sections.py, all of them pydantic models (bench/result_model.py).
`to_json()` gives back the JSON read, key for key and in the file's order, so old files
stay readable and rewriting one changes nothing.

    RunResult      bench/results/run-*.json, floor-*.json   (schema 1)
    EngineResult   bench/results/loader.json, navigator.json
    AdminStartup   bench/results/admin.json
    SoakResult     bench/results/soak-*.json
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import Field, computed_field, model_validator

from bench.result_model import Items, Number, ResultError, ResultModel
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
from bench.soak.figures import SoakFigures

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
        if isinstance(data, ResultModel):
            data = getattr(data, part, None) if part in type(data).model_fields else None
        elif isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list | tuple) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def declared_path(cls: type[ResultModel], path: str) -> bool:
    """Whether the schema declares a dotted path from `cls` (a key or index of a
    `dict` or `tuple` field matches any name): a typo in a path read by name is a
    test's failure, not a figure silently missing."""
    kind: Any = cls
    for part in path.split("."):
        kind = _bare(kind)
        if isinstance(kind, type) and issubclass(kind, ResultModel):
            declared = kind.model_fields.get(part)
            kind = declared.annotation if declared else None
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        elif get_origin(kind) is tuple and part.isdigit():
            kind = get_args(kind)[0]
        else:
            return kind is Any
        if kind is None:
            return False
    return True


def _bare(kind: Any) -> Any:
    """A field's type without `Annotated[...]` (`Number`, `Items`) and without `| None`."""
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, UnionType):
            (kind,) = (k for k in get_args(kind) if k is not type(None))
        else:
            return kind


class Machine(ResultModel):
    """The machine a run was measured on."""

    cores: int
    """Logical cores."""
    physical_cores: int | None = None
    cpu_model: str | None = None
    memory_gb: Number
    kernel: str
    loadavg: Items[Number]
    """1, 5 and 15 minute load averages when the run started."""


class Versions(ResultModel):
    """What was measured: the router's and its dependencies' versions."""

    git: str
    router: str
    python: str
    livekit: str
    livekit_agents: str
    livekit_api: str
    livekit_server: str


class Targets(ResultModel):
    """The figures a run is held to (docs/benchmarks.md)."""

    key_to_refer_p99_ms: Number
    router_key_to_request_ms: Number
    answer_to_first_audio_ms: Number
    calls_per_process: int
    rss_mb_per_call: Number


TARGETS = Targets(
    key_to_refer_p99_ms=60.0,
    router_key_to_request_ms=2.0,
    answer_to_first_audio_ms=150.0,
    calls_per_process=100,
    rss_mb_per_call=3.0,
)
"""The targets a run is held to: declared here only; bench/run.py writes them into each
run, and the report reads them from the run it reports."""


class RunResult(ResultModel):
    """One run of `python -m bench`: bench/results/run-<date>[-quick].json. A section is
    None (or `capacity` empty) when its phase did not run."""

    schema_version: int = Field(alias="schema")
    """`SCHEMA` (the file's `schema`; pydantic's `BaseModel.schema` holds the name)."""
    date: str
    """UTC, ISO 8601."""
    quick: bool
    command: str
    phases: Items[str]
    machine: Machine
    versions: Versions
    sip_bridge: str
    targets: Targets
    seconds: Number | None = None
    """How long the whole run took."""
    load: Load | None = None
    key_to_refer: KeyToRefer | None = None
    key_to_refer_loaded: KeyToRefer | None = None
    first_audio: FirstAudio | None = None
    capacity: dict[str, Ramp] = Field(default_factory=dict)
    """`thread_sip`, `thread_rtc`, `process_sip`, `process_rtc`."""
    two_processes: TwoProcesses | None = None
    engine: Engine | None = None
    floor: Floor | None = None
    router_log_errors: Items[str] = ()

    @classmethod
    def from_json(cls, data: Any, where: str | None = None) -> RunResult:
        if isinstance(data, Mapping) and data.get("schema", SCHEMA) != SCHEMA:
            said = f"schema {data['schema']}, this reader knows {SCHEMA}"
            raise ResultError(f"{where or cls.__name__}: {said}")
        return super().from_json(data, where)

    def get(self, path: str) -> Any:
        """A figure by dotted path (`key_to_refer.end_to_end_ms.p99`), or None."""
        return get(self, path)


class EngineResult(ResultModel):
    """One menu-engine benchmark: bench/results/loader.json or navigator.json (its
    figures stay in `model_extra`, as the benchmark wrote them)."""

    benchmark: str
    """`loader` or `navigator`."""
    python: str
    machine: str


class AdminCommand(ResultModel):
    """One admin command's start-to-exit wall time, over `runs` runs."""

    name: str
    """`check`, `simulate`, `graph`, `schema`, `test`."""
    argv: Items[str]
    """The arguments after `python -m router`."""
    runs: int
    median_s: Number
    min_s: Number
    max_s: Number
    target_s: Number
    cpu_s: Number | None = None
    """Median CPU time of the run (user + system, seconds): what the command itself costs,
    which a busy machine changes far less than the wall time. None in older results."""

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def met(self) -> bool:
        """Written for readers of the file; read back, it is worked out again."""
        return self.median_s <= self.target_s

    @model_validator(mode="before")
    @classmethod
    def _met_is_worked_out(cls, data: Any) -> Any:
        return {k: v for k, v in data.items() if k != "met"} if isinstance(data, dict) else data


class AdminStartup(ResultModel):
    """The admin commands' wall times on the small example: bench/results/admin.json."""

    benchmark: Literal["admin_startup"] = "admin_startup"
    date: str
    python: str
    cores: int
    loadavg_before: Items[Number]
    loadavg_after: Items[Number]
    interpreter_s: Number
    """Median wall time of `python -c pass`: the floor under every command."""
    commands: Items[AdminCommand]


class _SoakRun(ResultModel):
    """A soak's envelope: when, how and where it ran."""

    benchmark: Literal["soak"] = "soak"
    started: str
    """UTC, ISO 8601."""
    command: str
    machine: Machine
    versions: Versions


class SoakResult(SoakFigures, _SoakRun):
    """One soak (`python -m bench.soak`): bench/results/soak-<date>.json, its envelope
    then its figures (bench/soak/figures.py; docs/reliability.md, "The results file")."""


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
