"""Two router processes under one agent name share the calls through LiveKit's dispatch."""

from __future__ import annotations

import asyncio
from pathlib import Path

from router.stack.harness import RouterProcess
from router.stack.sipphone import place_call
from tests.e2e.conftest import AGENT, Stack, new_caller_id, written_records


def callers_in(records: Path) -> set[str]:
    # a caller who hung up before the router joined has no number in its record
    return {(record["caller"] or "")[-4:] for record in written_records(records)}


async def test_two_workers_side_by_side_both_take_calls(e2e: Stack, tmp_path: Path) -> None:
    second_records = tmp_path / "second.jsonl"
    second = RouterProcess(
        e2e.stack.env,
        menus=e2e.menus,
        log_path=tmp_path / "second.log",
        agent_name=AGENT,
        records=str(second_records),
    )
    await asyncio.to_thread(second.start)
    try:
        callers = [new_caller_id() for _ in range(8)]
        reports = await asyncio.gather(
            *(
                place_call(e2e.uri(), keys="1", caller_id=c, timeout_s=40, first_key_delay_s=3.0)
                for c in callers
            )
        )
        assert all(r.refer is not None for r in reports), [r.detail for r in reports]
        await asyncio.sleep(1.0)  # records are written as each call ends
    finally:
        await asyncio.to_thread(second.stop)
    mine = {c[-4:] for c in callers}
    first_took = callers_in(e2e.records) & mine
    second_took = callers_in(second_records) & mine
    assert first_took | second_took == mine, "every call was served by one of the workers"
    assert not first_took & second_took, "no call was served twice"
    assert first_took and second_took, (
        f"dispatch did not spread the calls: first {len(first_took)}, second {len(second_took)}"
    )
    assert "Traceback" not in second.log()
