"""The soak's leak figure: growth per call ended, apart from the calls in progress.

The number of calls up swings between 10 and 30 during a soak, and each call up holds
its own memory: a plain slope over the calls ended reads that swing as growth (or as
shrinking). `per_call_ended` fits both at once.
"""

from __future__ import annotations

import random

from bench.common import slope
from bench.soak.check import per_call_ended


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
