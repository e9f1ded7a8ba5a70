"""The soak's figures of a few made-up calls (bench/soak/check.py), for the tests here,
and call records made with the router's own `CallRecord`, as it writes them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.soak.check import CallResult, check
from bench.soak.faults import MenuSaver, menu_versions
from bench.soak.figures import SoakFigures
from bench.soak.scenarios import Behaviour
from router.core.events import EndReason
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import (
    CallRecord,
    KeyEntry,
    MenuVisit,
    TransferEntry,
    destination_label,
)


def refused(i: int, *, probe: bool = False) -> CallResult:
    """Call `i` (the soak's caller number), refused `503` by the bridge after 1 s."""
    call = CallResult(i, f"+155577{i:05d}", Behaviour.BUSY_486, 100.0 + i, probe=probe)
    call.ended_at, call.outcome, call.status = call.placed_at + 1.0, "rejected", 503
    return call


def transfer(target: str, outcome: TransferOutcome, detail: str | None = None) -> TransferEntry:
    """A transfer as a record keeps it, 2 s into the call (answered 1 s later unless
    unfinished)."""
    done = outcome is not TransferOutcome.UNFINISHED
    return TransferEntry(
        target,
        destination_label(None, target),
        2.0,
        outcome,
        1.0 if done else None,
        200 if outcome is TransferOutcome.SUCCEEDED and detail is None else None,
        detail,
    )


def call_record(
    caller_id: str = "+15557700001",
    *,
    version: str = "v1",
    end: EndReason | str = EndReason.HANGUP,
    transfers: Sequence[TransferEntry] = (),
    keys: int = 0,
    errors: Sequence[str] = (),
) -> CallRecord:
    """The record of a 25 s call from `caller_id` (masked to its last four digits, as the
    router writes it), with `keys` presses of 1 acted on in the main menu."""
    masked = f"+*******{caller_id[-4:]}"
    return CallRecord(
        call_id="SCL_soak",
        room=f"call-_{masked}_soak",
        started_at="2026-12-01T02:00:00.000+00:00",
        ended_at="2026-12-01T02:00:25.000+00:00",
        answered=0.5,
        dialled="+15550100001",
        caller=masked,
        menu_version=version,
        menus=(MenuVisit("main", 0.5),),
        keys=tuple(KeyEntry("1", 1.0 + i, "main") for i in range(keys)),
        keys_not_recorded=0,
        duplicate_keys=0,
        timeouts=0,
        invalid=0,
        invalid_in={},
        timeouts_in={},
        limits=(),
        transfers=tuple(transfers),
        end=end,
        ended_in="main",
        duration=25.0,
        errors=tuple(errors),
    )


def figures_of(tmp_path: Path, calls: Sequence[CallResult], **kw: Any) -> SoakFigures:
    """`check` of `calls`, by default with no records, outages, samples or rooms left;
    `kw` gives those or adds to them (`records=`, `outages=`, `saver=`, ...)."""
    versions = menu_versions(tmp_path)
    given: dict[str, Any] = {
        "versions": versions,
        "saver": MenuSaver(tmp_path / "menus.yaml", versions),
        "outages": [],
        "samples": [],
        "warmup_calls": 0,
        "judge_growth": False,
        "rooms_left": [],
        "router_log": "",
        "router_exit": 0,
        "wall_s": 10.0,
        "slope": lambda xs, ys: 0.0,
    }
    records = kw.pop("records", [])
    return check(calls, records, **(given | kw))
