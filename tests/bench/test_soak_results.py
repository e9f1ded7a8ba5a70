"""The soak's figures typed (bench/soak/figures.py) and its records read through the router's
record schema (`CallRecord.from_json`, bench/soak/check.py).

A reviewer found every figure of a soak in pydantic's `model_extra` and the records read
as raw dicts. Here: every stored soak file reads into typed fields, none left over, and
writes back as it was; what `check` returns is what the results file holds; a record
that does not read is its call's one failure sentence, not a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.schema import Machine, SoakResult, Versions, load
from bench.soak.check import CallResult
from bench.soak.faults import Outage, menu_versions
from bench.soak.figures import OutageFigures, Sample, SoakFigures, Spread
from bench.soak.scenarios import Behaviour, Expected, expected
from router.core.events import EndReason
from router.runtime.outcomes import TransferOutcome
from tests.bench.soak_figures import call_record, figures_of, refused, transfer

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
SOAKS = sorted(RESULTS.glob("soak-*.json"))


def _leftovers(result: SoakResult) -> list[str]:
    """Keys of the file no class declares, anywhere in it."""
    objects = [result, *result.outages, *result.samples]
    objects += [x for x in (result.processes, result.rss_kb, result.fds_when_idle) if x]
    return [key for o in objects for key in (o.model_extra or {})]


@pytest.mark.parametrize("path", SOAKS, ids=lambda p: p.name)
def test_a_stored_soak_reads_into_typed_figures_and_writes_back_as_it_was(path: Path) -> None:
    result = load(path)
    assert isinstance(result, SoakResult)
    assert _leftovers(result) == []
    assert all(isinstance(o, OutageFigures) for o in result.outages)
    assert all(isinstance(s, Sample) for s in result.samples)
    assert result.rss_kb is None or isinstance(result.rss_kb, Spread)
    assert result.to_json() == json.loads(path.read_text())


def test_an_older_soak_without_the_later_figures_reads_them_as_absent() -> None:
    older = load(RESULTS / "soak-20261130T114709.json")  # run 1
    assert isinstance(older, SoakResult)
    assert (older.probes, older.refused_undispatched, older.processes) == (None, None, None)
    assert "probes" not in older.to_json() and "interrupted" not in older.to_json()


def _answered(i: int, behaviour: Behaviour) -> CallResult:
    call = CallResult(i, f"+155577{i:05d}", behaviour, 100.0 + i)
    call.answered, call.answered_at = True, call.placed_at + 1.0
    call.ended_at, call.outcome = call.placed_at + 20.0, "remote_bye"
    return call


def test_what_check_returns_is_what_the_results_file_holds(tmp_path: Path) -> None:
    versions = menu_versions(tmp_path)
    call = _answered(7, Behaviour.TRANSFER_OK)
    want = expected(call.behaviour, versions.files[versions.version_a])
    record = call_record(
        call.caller_id,
        version=versions.version_a,
        end=EndReason.TRANSFERRED,
        transfers=[transfer(target, outcome) for target, outcome in want.transfers],
        keys=want.keys,
    )
    outage = Outage("redis", down_at=150.0, up_at=160.0, calls_up=3, recovered_s=4.5, probes=1)
    sample = {"t": 1.0, "ended": 0, "up": 1, "rss_kb": 9e4, "threads": 20.0, "fds": 31.0}
    figures = figures_of(
        tmp_path,
        [call, refused(8)],
        records=[record.as_dict()],
        outages=[outage],
        samples=[sample, sample | {"idle": 1}],
        planned=2,
    )
    assert isinstance(figures, SoakFigures)
    assert figures.outcomes == {"as simulated": 1, "refused by the stack": 1}
    assert figures.outages[0].down_at_s == 43.0 and figures.outages[0].recovered_s == 4.5
    assert figures.fds_when_idle == Spread(first=31.0, last=31.0, min=31.0, max=31.0)
    assert figures.samples[1].idle == 1 and "idle" not in figures.samples[0].to_json()
    machine = Machine(cores=2, memory_gb=23.5, kernel="6.1", loadavg=(1.0, 0.5, 0.2))
    versions_run = Versions(
        git="d6a09db",
        router="0.1",
        python="3.11.7",
        livekit="1",
        livekit_agents="1.8.9",
        livekit_api="1",
        livekit_server="1.13.5",
    )
    result = SoakResult(
        started="2026-12-01T03:00:00+00:00",
        command="python -m bench.soak --calls 2",
        machine=machine,
        versions=versions_run,
        **dict(figures),
    )
    written = json.loads(json.dumps(result.to_json()))
    assert list(written)[:6] == ["benchmark", "started", "command", "machine", "versions", "calls"]
    assert written["outages"][0]["part"] == "redis"
    assert SoakResult.from_json(written, "soak-x.json").to_json() == written


def test_a_record_that_does_not_read_is_its_calls_one_failure_sentence(tmp_path: Path) -> None:
    call = _answered(12, Behaviour.TRANSFER_OK)
    line = call_record(call.caller_id).as_dict()
    del line["started_at"]
    figures = figures_of(tmp_path, [call], records=[line])
    assert figures.failures == ("call 12: its record does not read: `started_at` is not a string",)
    assert figures.outcomes == {"records missing or doubled": 1}
    assert figures.each_call[0].endswith("-> unreadable")


def test_the_expected_record_and_the_read_one_compare_as_enum_members(tmp_path: Path) -> None:
    versions = menu_versions(tmp_path)
    want = expected(Behaviour.BUSY_486, versions.files[versions.version_a])
    assert want.end is EndReason.HANGUP
    assert [outcome for _, outcome in want.transfers] == [TransferOutcome.BUSY]
    busy = [transfer(target, TransferOutcome.BUSY) for target, _ in want.transfers]
    told = call_record(end=EndReason.HANGUP, transfers=busy, keys=want.keys)
    assert want.matches(told)
    # the same call whose transfer was rejected, not busy: another outcome, not a match
    rejected = [transfer(target, TransferOutcome.REJECTED) for target, _ in want.transfers]
    got = Expected.of_record(told._replace(transfers=tuple(rejected)))
    assert got != want and "rejected" in str(got)
