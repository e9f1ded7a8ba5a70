"""Every committed benchmark result reads through the shared schema (bench/schema.py,
bench/sections.py) and writes back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.compare import HEADLINES
from bench.compare import main as compare_main
from bench.report.__main__ import main as report_main
from bench.schema import (
    FLOOR_TARGET_RATIO,
    TARGETS,
    AdminCommand,
    AdminStartup,
    ResultError,
    RunResult,
    declared_path,
    load,
    load_run,
)
from bench.sections import Distribution, Floor, Level, LoadSample, MemoryPerCall, Ramp

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_a_committed_result_reads_and_writes_back_unchanged(path: Path) -> None:
    result = load(path)
    assert result.to_json() == json.loads(path.read_text())
    if path.name.startswith("run-"):
        assert isinstance(result, RunResult)
        assert result.machine.cores > 0 and result.targets.calls_per_process > 0
    if path.name == "admin.json":
        assert isinstance(result, AdminStartup)
        assert {c.name for c in result.commands} >= {"check", "simulate", "graph", "schema", "test"}


def test_a_run_without_its_machine_is_refused_by_name(tmp_path: Path) -> None:
    run = json.loads(next(iter(sorted(RESULTS.glob("run-*.json")))).read_text())
    del run["machine"]
    path = tmp_path / "run-x.json"
    path.write_text(json.dumps(run))
    with pytest.raises(ResultError, match="^[^ ]*run-x.json: machine: Field required$"):
        load(path)


RUNS = sorted(RESULTS.glob("run-*.json")) + sorted(RESULTS.glob("floor*.json"))


@pytest.mark.parametrize("path", RUNS, ids=lambda p: p.name)
def test_a_stored_run_reads_into_the_typed_schema_and_writes_back_byte_for_byte(
    path: Path,
) -> None:
    run = load_run(path)
    for ramp in [*run.capacity.values(), run.two_processes, run.floor]:
        if ramp is not None:
            assert isinstance(ramp, Ramp) and all(isinstance(lv, Level) for lv in ramp.levels)
            assert all(isinstance(m, MemoryPerCall) for m in ramp.memory_per_call.values())
    if run.key_to_refer is not None:
        assert isinstance(run.key_to_refer.end_to_end_ms, Distribution)
        assert run.get("key_to_refer.end_to_end_ms.p99") == run.key_to_refer.end_to_end_ms.p99
    assert json.dumps(run.to_json(), indent=1) + "\n" == path.read_text()


def test_a_figure_of_the_wrong_type_is_refused_by_its_path(tmp_path: Path) -> None:
    run = json.loads((RESULTS / "run-20261126T114549.json").read_text())
    run["capacity"]["thread_sip"]["levels"][2]["memory"]["router"]["rss_mb"] = "lots"
    path = tmp_path / "run-y.json"
    path.write_text(json.dumps(run))
    with pytest.raises(
        ResultError,
        match=r"run-y.json: capacity: thread_sip: levels\[2\]: "
        r"memory: router: rss_mb: Input should be a number, not str$",
    ):
        load(path)


def test_a_whole_number_where_a_float_is_declared_stays_an_int() -> None:
    read = Distribution.from_json({"n": 2, "p50": 2, "p99": 2.5}, "d.json")
    assert type(read.p50) is int and type(read.p99) is float
    assert json.dumps(read.to_json()) == '{"n": 2, "p50": 2, "p99": 2.5}'


def test_nan_and_infinity_are_written_back_as_json_dumps_wrote_them() -> None:
    text = '{"n": 1, "p99": NaN, "max": Infinity}'
    assert json.dumps(Distribution.from_json(json.loads(text), "d.json").to_json()) == text


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"n": "+15550100"}, "d.json: n: Input should be a valid integer, not str"),
        ({"n": True}, "d.json: n: Input should be a valid integer, not bool"),
        ({"n": 2.5}, "d.json: n: Input should be a valid integer, not float"),
        ({"n": 1, "p99": "2"}, "d.json: p99: Input should be a number, not str"),
        ({"n": 1, "p99": False}, "d.json: p99: Input should be a number, not bool"),
        ({"p99": []}, "d.json: n: Field required (and 1 more)"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_in_one_sentence_without_the_value(
    data: dict[str, object], said: str
) -> None:
    with pytest.raises(ResultError) as refused:
        Distribution.from_json(data, "d.json")
    assert str(refused.value) == said


def test_a_json_list_reads_into_a_tuple_of_checked_items_and_text_is_no_list() -> None:
    assert LoadSample.from_json({"loadavg": [1, 0.5]}, "s").loadavg == (1, 0.5)
    with pytest.raises(ResultError, match=r"^s: loadavg\[1\]: Input should be a number, not str$"):
        LoadSample.from_json({"loadavg": [1, "0.5"]}, "s")
    with pytest.raises(ResultError, match=r"^s: loadavg: Input should be a valid tuple, not str$"):
        LoadSample.from_json({"loadavg": "1 0.5"}, "s")


def test_a_result_built_in_code_writes_every_field_in_declared_order() -> None:
    built = AdminStartup(
        date="2026-12-01T02:00:00+00:00",
        python="3.11.7",
        cores=2,
        loadavg_before=(1.5, 1, 0.5),
        loadavg_after=(2, 1, 0.5),
        interpreter_s=0.01,
        commands=(
            AdminCommand(
                name="check",
                argv=("check",),
                runs=3,
                median_s=0.2,
                min_s=0.1,
                max_s=0.3,
                target_s=0.25,
            ),
        ),
    )
    written = built.to_json()
    assert list(written) == ["benchmark", *list(AdminStartup.model_fields)[1:]]
    assert written["commands"] == [
        {
            "name": "check",
            "argv": ["check"],
            "runs": 3,
            "median_s": 0.2,
            "min_s": 0.1,
            "max_s": 0.3,
            "target_s": 0.25,
            "cpu_s": None,
            "met": True,
        }
    ]
    assert AdminStartup.from_json(json.loads(json.dumps(written)), "a").to_json() == written


def test_a_figure_the_schema_does_not_declare_is_kept_where_it_was() -> None:
    raw = json.loads((RESULTS / "run-20261126T114549.json").read_text())
    raw["first_audio"] = {"new_figure_ms": 3, **raw["first_audio"]}
    run = RunResult.from_json(raw)
    assert run.first_audio is not None and run.first_audio.model_extra is not None
    assert run.first_audio.model_extra["new_figure_ms"] == 3
    assert list(run.to_json()["first_audio"]) == list(raw["first_audio"])


@pytest.mark.parametrize("headline", HEADLINES, ids=lambda h: h[1])
def test_every_headline_of_compare_is_a_path_the_schema_declares(
    headline: tuple[str, str, bool],
) -> None:
    assert declared_path(RunResult, headline[1])


def test_a_path_the_schema_does_not_declare_is_told_apart() -> None:
    assert not declared_path(RunResult, "key_to_refer.end_to_end_ms.p98")
    assert not declared_path(RunResult, "capacity.thread_sip.calls_hold")


def test_the_runner_writes_the_targets_declared_once_in_the_schema() -> None:
    assert (
        TARGETS.to_json()
        == json.loads((RESULTS / "run-20261126T114549.json").read_text())["targets"]
    )
    assert Floor.model_fields["target_ratio"].default == FLOOR_TARGET_RATIO


def test_compare_and_report_refuse_a_broken_file_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "run-z.json"
    broken.write_text('{"schema": 1}')
    good = RESULTS / "floor.json"
    said = f"{broken}: date: Field required (and 7 more)\n"
    assert compare_main([str(broken), str(good)]) == 2
    assert capsys.readouterr().err == f"python -m bench.compare: {said}"
    assert report_main([str(broken), "--doc", str(tmp_path / "doc.md")]) == 2
    assert capsys.readouterr().err == f"python -m bench.report: {said}"
    assert not (tmp_path / "doc.md").exists()
