"""bench/rtc_memory.py's arithmetic and its command line (the runs themselves need the stack:
`python -m bench.rtc_memory`, figures in docs/upstream/rtc-native-memory.md)."""

from __future__ import annotations

import pytest

from bench.rtc_memory import PRESETS, STEPS, figures, main


def _samples(kib_per_call: float, warmup_kib: float) -> list[dict[str, float]]:
    # a warm-up that grows faster (the library's pools filling), then a steady slope
    out = []
    for served in range(10, 210, 10):
        early = min(served, 50)
        rss = 80_000 + warmup_kib * early + kib_per_call * max(0, served - 50)
        out.append({"served": served, "rss_kb": rss, "objects": 40_000.0, "failed": 0})
    return out


def test_the_slope_is_taken_after_the_warm_up_and_objects_are_held_apart() -> None:
    out = figures(_samples(kib_per_call=150.0, warmup_kib=900.0), warmup=50)
    assert out["kib_per_call_after_warmup"] == 150.0
    assert out["python_objects_per_call"] == 0.0  # native growth: the objects stay flat
    assert out["rss_mb_at_warmup"] == round((80_000 + 900 * 50) / 1024, 1)
    assert out["failed_calls"] == 0


def test_every_preset_is_made_of_known_steps() -> None:
    for steps in PRESETS.values():
        assert set(steps) <= set(STEPS)


@pytest.mark.parametrize("bad", ["frames+fly", "nothing"])
def test_an_unknown_step_is_one_sentence(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--steps", bad])
    assert exit_.value.code == 2
    assert "--steps" in capsys.readouterr().err
