"""The soak, short (bench/soak): a few dozen real calls, one fault of each kind.

Thirty calls of every kind of caller through one router (`router start`) on a stack of
its own, 4 to 8 at a time, while the menu file is saved every 10 s (once broken), and
Redis, livekit-server and the SIP bridge are each stopped and started once with calls
up; SIGTERM at the end, with calls up. Every call must have one record whose outcome is
the simulated one (or, if an outage cut it, that outage's end), every part must serve
new calls again after its restart, the broken save must be refused, the router must
drain and exit 0 without a traceback, and no room the router served may be left.

What the short run does not judge: memory, descriptors and threads per call (a slope
over thirty calls is noise: the long run, `python -m bench.soak`, holds them; see
docs/reliability.md), and rooms livekit-server itself loses across its own restart
(listed in the figures; docs/reliability.md says what and why).
"""

from __future__ import annotations

from pathlib import Path

from bench.soak.run import SoakConfig, soak


async def test_thirty_calls_through_one_fault_of_each_kind(tmp_path: Path) -> None:
    config = SoakConfig(
        calls=30, min_calls=4, max_calls=8, save_every_s=10.0, warmup_calls=0, judge_growth=False
    )
    figures = await soak(config, tmp_path)
    router_faults = [f for f in figures.failures if "by its outages" not in f]
    assert router_faults == [], "\n".join(router_faults + list(figures.each_call))
    assert figures.broken_saves_refused == 1
    assert figures.menu_saves >= 3
    assert [o.part for o in figures.outages] == ["redis", "livekit", "sip"]
    assert all(o.recovered_s is not None for o in figures.outages)
    assert figures.outcomes.get("as simulated", 0) >= 15, figures.outcomes
    assert figures.router_exit == 0
