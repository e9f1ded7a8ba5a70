"""The Prometheus endpoint counts what the calls did."""

from __future__ import annotations

import asyncio
import re
import urllib.request

from router.stack.sipphone import place_call
from tests.e2e.conftest import Stack, new_caller_id


def scrape(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
        if m:
            samples[m.group(1)] = float(m.group(2))
    return samples


async def test_metrics_count_calls_transfers_and_invalid_keys(e2e: Stack) -> None:
    before = await asyncio.to_thread(scrape, e2e.metrics_url)
    caller_id = new_caller_id()
    report = await place_call(e2e.uri(), keys="9 2s 2", caller_id=caller_id, timeout_s=40)
    assert report.refer is not None
    await asyncio.to_thread(e2e.record_for, caller_id)
    after = await asyncio.to_thread(scrape, e2e.metrics_url)

    def grew(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert grew('router_calls_total{end="transferred"}') >= 1
    assert grew('router_transfers_total{destination="support",kind="",result="succeeded"}') >= 1
    assert grew('router_invalid_keys_total{menu="main"}') >= 1
    assert grew("router_keys_total") >= 2
    assert grew("router_transfer_seconds_count") >= 1
    assert after["router_active_calls"] >= 0
    # a funnel: entries per menu, and where calls ended and how
    assert grew('router_menu_entries_total{menu="main"}') >= 1
    assert grew('router_calls_ended_total{end="transferred",menu="main"}') >= 1
    assert any(name.startswith('router_build_info{version="') for name in after)
    assert after["process_resident_memory_bytes"] > 10e6
    assert any(name.startswith("python_gc_collections_total") for name in after)


async def test_a_failed_transfer_is_counted_with_its_kind(e2e: Stack) -> None:
    before = await asyncio.to_thread(scrape, e2e.metrics_url)
    caller_id = new_caller_id()
    report = await place_call(
        e2e.uri(),
        keys="1",
        caller_id=caller_id,
        notify_status=486,
        hangup_after_notify_s=2.0,
        timeout_s=40,
    )
    assert report.refer is not None
    await asyncio.to_thread(e2e.record_for, caller_id)
    after = await asyncio.to_thread(scrape, e2e.metrics_url)
    name = 'router_transfers_total{destination="sales",kind="busy",result="failed"}'
    assert after.get(name, 0.0) - before.get(name, 0.0) == 1


def test_livekit_agents_health_endpoints_answer_for_the_connected_worker(e2e: Stack) -> None:
    import json

    from tests.e2e.conftest import AGENT

    with urllib.request.urlopen(e2e.health_url + "/", timeout=5) as response:
        assert response.status == 200 and response.read() == b"OK"
    with urllib.request.urlopen(e2e.health_url + "/worker", timeout=5) as response:
        worker = json.loads(response.read())
    assert worker["agent_name"] == AGENT
