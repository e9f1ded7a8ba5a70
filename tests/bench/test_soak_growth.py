"""The soak's leak figure: growth per call ended, apart from the calls in progress.

The number of calls up swings between 10 and 30 during a soak, and each call up holds
its own memory: a plain slope over the calls ended reads that swing as growth (or as
shrinking). `per_call_ended` fits both at once.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bench.common import slope
from bench.soak.check import FLAT_PER_1000_CALLS, judged_growth, per_call_ended

RUN_8 = Path(__file__).resolve().parents[2] / "bench/results/soak-20261130T230433.json"


def _samples(leak_kb: float) -> list[dict[str, float]]:
    rng = random.Random(18)
    out = []
    for i in range(300):
        up = 10 + 20 * abs((i % 80) - 40) / 40  # the swing
        ended = 3.0 * i
        rss = 500_000 + 800 * up + leak_kb * ended + rng.uniform(-50, 50)
        out.append({"ended": ended, "up": up, "rss_kb": rss})
    return out


def test_the_swing_of_calls_up_is_not_read_as_growth() -> None:
    samples = _samples(leak_kb=0.0)
    fit = per_call_ended(samples, "rss_kb", slope)
    assert fit is not None and abs(fit) < 1.0
    # what a plain slope would have said for the same samples
    plain = slope([s["ended"] for s in samples], [s["rss_kb"] for s in samples])
    assert plain is not None and abs(plain) > abs(fit)


def test_a_leak_of_60_kib_per_call_is_found_through_the_swing() -> None:
    fit = per_call_ended(_samples(leak_kb=60.0), "rss_kb", slope)
    assert fit is not None and 59.0 < fit < 61.0


def test_too_few_samples_give_no_figure() -> None:
    assert per_call_ended(_samples(0.0)[:2], "rss_kb", slope) is None


def _late(run: dict) -> list[dict[str, float]]:
    """Run 8's samples after warm-up; its moments with no call up (call 0, before the
    calls, and call 501, after the livekit-server restart, both 31 descriptors) taken as
    the soak's idle moments, which it has made since."""
    idle = {0, 501}
    return [
        s | {"idle": 1} if s["up"] == 0 and s["ended"] in idle else s
        for s in run["samples"]
        if s["ended"] >= 0
    ]


def test_descriptors_are_judged_between_idle_moments_not_by_the_swinging_fit() -> None:
    # run 8: the fit said +240 descriptors per 1,000 calls, while the router held 31
    # both when idle after the livekit-server restart (call 501) and at the end
    late = _late(json.loads(RUN_8.read_text()))
    fitted = per_call_ended(late, "fds", slope)
    assert fitted is not None and fitted * 1000 > FLAT_PER_1000_CALLS
    judged, how = judged_growth(late, "fds", fitted)
    assert judged is not None and abs(judged * 1000) < FLAT_PER_1000_CALLS
    assert how.startswith("between idle moments")


def test_a_descriptor_leaked_per_call_shows_between_idle_moments() -> None:
    late = _late(json.loads(RUN_8.read_text()))
    leaking = [{**s, "fds": s["fds"] + s["ended"]} for s in late]
    judged, _ = judged_growth(leaking, "fds", per_call_ended(leaking, "fds", slope))
    assert judged is not None and 0.99 < judged < 1.01


def test_without_two_idle_moments_far_apart_the_fit_is_judged() -> None:
    late = [s for s in _late(json.loads(RUN_8.read_text())) if s["up"] > 0]
    assert judged_growth(late, "fds", 0.5) == (0.5, "after warm-up")
