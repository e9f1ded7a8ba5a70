"""A benchmark run's plan (`python -m bench`, bench/run.py): its phases, how big each is
(full or ``--quick``), and the scratch directory the stacks and routers write in.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench import capacity
from bench.common import log

PHASES = ("latency", "capacity", "process", "two", "engine", "floor", "rtc")


class Plan:
    """How big each phase is, full or quick."""

    def __init__(self, quick: bool, wait_s: float = 120.0) -> None:
        self.quick = quick
        self.wait_s = wait_s
        """How long to wait for other people's work on the machine to calm down, per phase."""
        self.presses = 24 if quick else 210
        self.first_audio_calls = 6 if quick else 100
        self.api_requests = 50 if quick else 300
        self.loaded_calls = 8 if quick else 30
        self.loaded_presses = 9 if quick else 60
        if quick:
            self.thread_levels = [5, 10]
            self.rtc_levels: list[int] = []
            self.process_levels = [2, 4]
            self.process_kind = "sip"
            self.two_levels = [3, 6]
            self.two_max_calls = 5
            self.settle_s, self.hold_s = 4.5, 3.0
            self.floor_levels = [6, 12]
        else:
            self.thread_levels = [10, 25, 50, 75, 100, 125, 150]
            self.rtc_levels = [10, 25, 50, 75, 100, 125, 150]
            self.process_levels = [5, 10, 20, 30, 40, 60, 80, 100]
            self.process_kind = "rtc"
            self.two_levels = [50, 75, 100]
            self.two_max_calls = 60
            self.settle_s, self.hold_s = 6.0, 8.0
            self.floor_levels = [10, 20, 40, 60]

    def floor_ramp(self, levels: list[int]) -> capacity.RampConfig:
        """The floor phase compares two processes level by level: the machine's being busy
        (other people's work on a shared machine) and slow greetings do not stop it
        early, a failed call does."""
        return self.ramp(levels, max_machine_busy=float("inf"), max_greeting_ms=float("inf"))

    def ramp(self, levels: list[int], **kw: Any) -> capacity.RampConfig:
        return capacity.RampConfig(levels=levels, settle_s=self.settle_s, hold_s=self.hold_s, **kw)


class Workspace:
    def __init__(self, keep: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="router-bench-"))
        self.keep = keep

    def dir(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def close(self) -> None:
        if self.keep:
            log(f"logs kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
