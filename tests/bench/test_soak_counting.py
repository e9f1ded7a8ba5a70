"""What the soak counts as its calls, and what Ctrl-C leaves (bench/soak/run.py, check.py).

A newcomer's run counted the probes placed after each restart among the `--calls` asked
for, and Ctrl-C left nothing behind. Here: probes are counted apart; an interrupted run
says so among its failures (exit 1) and not as "the router gone"; the first Ctrl-C stops
placing calls and the second stops at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.soak.run import SoakConfig, _on_interrupt, _Run
from tests.bench.soak_figures import figures_of, refused


def test_probes_are_counted_apart_from_the_calls_asked_for(tmp_path: Path) -> None:
    calls = [refused(0), refused(1, probe=True), refused(2, probe=True)]
    figures = figures_of(tmp_path, calls, planned=3)
    assert (figures["calls"], figures["probes"]) == (1, 2)
    assert "the soak stopped after 1 of 3 calls (router gone)" in figures["failures"]
    assert figures["interrupted"] is False


def test_an_interrupted_run_says_so_and_not_that_the_router_went(tmp_path: Path) -> None:
    figures = figures_of(tmp_path, [refused(0), refused(1)], planned=1000, interrupted=True)
    assert figures["interrupted"] is True
    assert "interrupted (Ctrl-C) after 2 of 1000 calls" in figures["failures"]
    assert not any("router gone" in f for f in figures["failures"])


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
