"""The soak's figures of a few made-up calls (bench/soak/check.py), for the tests here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.soak.check import CallResult, check
from bench.soak.faults import MenuSaver, menu_versions
from bench.soak.scenarios import Behaviour


def refused(i: int, *, probe: bool = False) -> CallResult:
    """Call `i` (the soak's caller number), refused `503` by the bridge after 1 s."""
    call = CallResult(i, f"+155577{i:05d}", Behaviour.BUSY_486, 100.0 + i, probe=probe)
    call.ended_at, call.outcome, call.status = call.placed_at + 1.0, "rejected", 503
    return call


def figures_of(tmp_path: Path, calls: Sequence[CallResult], **kw: Any) -> dict[str, Any]:
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
