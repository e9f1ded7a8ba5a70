"""What the soak counts as its calls, and what Ctrl-C leaves (bench/soak/run.py, check.py).

A newcomer's run counted the probes placed after each restart among the `--calls` asked
for, and Ctrl-C left nothing behind. Here: probes are counted apart; an interrupted run
says so among its failures (exit 1) and not as "the router gone"; the first Ctrl-C stops
placing calls and the second stops at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.soak.check import CallResult
from bench.soak.faults import MenuSaver, Outage, SaveEntry, menu_versions
from bench.soak.run import SoakConfig, _on_interrupt, _Run
from bench.soak.scenarios import Behaviour, Expected, expected
from router.core.events import EndReason
from tests.bench.soak_figures import call_record, figures_of, refused, transfer


def test_probes_are_counted_apart_from_the_calls_asked_for(tmp_path: Path) -> None:
    calls = [refused(0), refused(1, probe=True), refused(2, probe=True)]
    figures = figures_of(tmp_path, calls, planned=3)
    assert (figures.calls, figures.probes) == (1, 2)
    assert "the soak stopped after 1 of 3 calls (router gone)" in figures.failures
    assert figures.interrupted is False


def test_an_interrupted_run_says_so_and_not_that_the_router_went(tmp_path: Path) -> None:
    figures = figures_of(tmp_path, [refused(0), refused(1)], planned=1000, interrupted=True)
    assert figures.interrupted is True
    assert "interrupted (Ctrl-C) after 2 of 1000 calls" in figures.failures
    assert not any("router gone" in f for f in figures.failures)


def test_outages_an_interruption_cut_short_or_never_reached_fail_nothing(
    tmp_path: Path,
) -> None:
    # a newcomer's Ctrl-C during the livekit-server probes: "no call served within 180 s"
    # of it and of the SIP bridge's outage never begun, at `down_at_s` -69501.5
    probing = Outage("livekit", down_at=100.0, up_at=110.0)
    never = Outage("sip")
    figures = figures_of(
        tmp_path, [refused(0)], planned=60, interrupted=True, outages=[probing, never]
    )
    assert [o.part for o in figures.outages] == ["livekit"]
    assert not any("no call served within" in f for f in figures.failures)
    whole = figures_of(tmp_path, [refused(0)], planned=1, outages=[probing])
    assert "no call served within 180 s of restarting livekit" in whole.failures


async def test_the_first_ctrl_c_stops_new_calls_and_the_second_stops_at_once() -> None:
    run = _Run(SoakConfig(), stack=None, uri="sip:x@127.0.0.1")  # type: ignore[arg-type]
    main = asyncio.ensure_future(asyncio.sleep(60))
    _on_interrupt(run, main)
    assert run.interrupted.is_set() and run.gate.is_set()
    await asyncio.sleep(0)
    assert not main.cancelled()
    _on_interrupt(run, main)
    await asyncio.sleep(0)
    assert main.cancelled()


def _record(
    caller_id: str, version: str, want: Expected, *, keys: int, errors: list[str]
) -> dict[str, Any]:
    """The JSON line of a call record saying `want`, with `keys` keys acted on."""
    assert want.end is not None
    return call_record(
        caller_id,
        version=version,
        end=want.end,
        transfers=[transfer(target, outcome) for target, outcome in want.transfers],
        keys=keys,
        errors=errors,
    ).as_dict()


def _answered(
    i: int, behaviour: Behaviour, placed_at: float, answered_after_s: float
) -> CallResult:
    call = CallResult(i, f"+155577{i:05d}", behaviour, placed_at)
    call.answered, call.answered_at = True, placed_at + answered_after_s
    call.ended_at, call.outcome, call.remote_bye = placed_at + 25.0, "remote_bye", True
    return call


def test_keys_pressed_while_livekit_was_away_are_the_outages_when_the_record_says_so(
    tmp_path: Path,
) -> None:
    versions = menu_versions(tmp_path)
    version = versions.version_a
    want = expected(Behaviour.KEY_STORM, versions.files[version])
    outage = Outage("livekit", down_at=105.0, up_at=118.0)
    told = _answered(494, Behaviour.KEY_STORM, 100.0, 1.0)
    silent = _answered(495, Behaviour.KEY_STORM, 100.5, 1.0)
    records = [
        _record(told.caller_id, version, want, keys=want.keys - 2, errors=["lost LiveKit"]),
        _record(silent.caller_id, version, want, keys=want.keys - 2, errors=[]),
    ]
    figures = figures_of(tmp_path, [told, silent], records=records, outages=[outage])
    assert figures.cut_by_outages == {"livekit: keys lost": 1}
    assert figures.outcomes["wrong outcome"] == 1, "keys lost silently are wrong"


def test_a_version_saved_after_the_invite_but_before_the_answer_is_the_current_one(
    tmp_path: Path,
) -> None:
    versions = menu_versions(tmp_path)
    saver = MenuSaver(tmp_path / "menus.yaml", versions)
    saver.saves.append(SaveEntry(at=103.0, version=versions.version_b))
    slow = _answered(1, Behaviour.TRANSFER_OK, 100.0, 4.0)  # dispatched late, at load
    early = _answered(2, Behaviour.TRANSFER_OK, 90.0, 1.0)  # long before the save
    records = [
        _record(
            c.caller_id,
            versions.version_b,
            expected(c.behaviour, versions.files[versions.version_b]),
            keys=1,
            errors=[],
        )
        for c in (slow, early)
    ]
    figures = figures_of(tmp_path, [slow, early], records=records, saver=saver)
    stale = [f for f in figures.failures if "not the current good one" in f]
    assert stale == ["1 calls served with a version that was not the current good one (calls 2)"]


def test_a_call_the_bridge_answered_as_it_was_stopped_is_its_cut_and_no_other(
    tmp_path: Path,
) -> None:
    # run 14's call 747: the bridge's 200 OK 45 ms before its SIGTERM; the router never saw
    # `sip.callStatus` `active`, only the bridge's goodbye, and recorded `left_before_answer`
    versions = menu_versions(tmp_path)
    version = versions.version_a
    outage = Outage("sip", down_at=110.0, up_at=116.0)
    cut = _answered(747, Behaviour.KEY_STORM, 100.0, 9.95)
    missed = _answered(748, Behaviour.KEY_STORM, 100.0, 3.0)  # answered 7 s before the stop
    records = [
        call_record(c.caller_id, version=version, end=EndReason.LEFT_BEFORE_ANSWER).as_dict()
        for c in (cut, missed)
    ]
    figures = figures_of(tmp_path, [cut, missed], records=records, outages=[outage])
    assert figures.cut_by_outages == {"sip: left_before_answer": 1}
    assert figures.outcomes["wrong outcome"] == 1
    assert any(f.startswith("call 748 (key_storm") for f in figures.failures)
    elsewhere = figures_of(
        tmp_path, [cut], records=records[:1], outages=[Outage("redis", 110.0, 116.0)]
    )
    assert elsewhere.outcomes.get("cut by a fault, with its reason", 0) == 0
