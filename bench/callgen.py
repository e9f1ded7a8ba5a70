"""Call records made the way the router makes them, without LiveKit.

Each call runs through the core's simulated call (the real `Navigator`) with the real
`CallRecorder` and, when
given, the real `Metrics`, fed exactly as `router.runtime.call.CallSession` feeds them:
every `Note` to the recorder and to `Metrics.note()`, each answered transfer to
`Metrics.transfer_ended()` and each ended call to `Metrics.call_ended()`. Only the
caller is made up: a seeded random caller who presses options, wrong keys, stays
silent or hangs up, and a far end that answers, is busy, does not answer or refuses.

Used by `router report`'s tests (the consistency test against the metrics) and by
`python -m bench.report_bench` (a million records, made from these by `amplify`).
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from router.core.events import (
    CallStarted,
    Effect,
    EndReason,
    Event,
    Note,
    Play,
    PlaybackFinished,
    TransferFailed,
    TransferSucceeded,
    TransferTo,
)
from router.core.keys import Key
from router.core.model import MenuFile
from router.core.simulation import SimulatedCall
from router.runtime.metrics import Metrics
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import CallRecorder, destination_label

__all__ = ["CallGenerator", "amplify"]

_ORDER = "1234567890*#ABCD"
"""Options in the order callers favour them: the first ones are taken most."""

_FAILURES = (
    (486, "Busy Here"),
    (480, "Temporarily Unavailable"),
    (403, "Forbidden"),
    (None, "twirp error: unavailable"),
)


class CallGenerator:
    """Seeded calls through one menu file; `call()` returns one record (a dict)."""

    def __init__(
        self,
        menu_file: MenuFile,
        *,
        seed: int = 15,
        metrics: Metrics | None = None,
        start: datetime = datetime(2026, 11, 24, tzinfo=UTC),
        days: float = 1.0,
    ) -> None:
        self.menu_file = menu_file
        self.rng = random.Random(seed)
        self.metrics = metrics
        self.start = start
        self.days = days
        self.numbers = [n for n in menu_file.entries if n != "default"] + ["default"]
        self.serial = 0

    def calls(self, n: int) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            yield self.call()

    def call(self) -> dict[str, Any]:
        rng = self.rng
        self.serial += 1
        day = self.start + timedelta(days=rng.randrange(max(1, int(self.days))))
        hour = rng.uniform(13, 23) if rng.random() < 0.8 else rng.uniform(0, 24)
        at = day + timedelta(hours=hour)
        number = rng.choice(self.numbers)
        dialled = None if number == "default" else number
        caller = f"+1415555{rng.randrange(10000):04d}"
        recorder = CallRecorder(
            call_id=f"SCL_gen{self.serial:07d}",
            room=f"call-{caller}_gen{self.serial}",
            dialled=dialled,
            caller=caller,
            menu_version=self.menu_file.version,
            started_at=at,
            started=0.0,
        )
        early = rng.random()
        if early < 0.02:  # the caller hung up before the answer
            recorder.end_reason = EndReason.LEFT_BEFORE_ANSWER
            return self._finish(recorder, rng.uniform(0.5, 4.0))
        recorder.answered = round(rng.uniform(0.2, 1.0), 3)
        call = _Driven(self, recorder)
        call.start(CallStarted(dialled, at, recorder.answered))
        steps = 0
        while not call.ended and steps < 40:
            steps += 1
            call.act()
        if not call.ended:
            call.call.now += 1.0
            call.call.hang_up()
        if recorder.end_reason is None:
            recorder.end_reason = EndReason.CALLER_HANGUP
        return self._finish(recorder, call.now + 0.5)

    def _finish(self, recorder: CallRecorder, ended: float) -> dict[str, Any]:
        assert recorder.end_reason is not None
        if self.metrics is not None:
            self.metrics.call_ended(recorder.end_reason)
        return recorder.as_dict(ended)


class _Driven:
    """One call: the core's simulated call (router/core/simulation.py) answered by hand:
    each prompt is heard half a second after it starts, each transfer is answered by a
    random far end 0.5-12 s after it is asked, in the order the navigator asked."""

    PROMPT_S = 0.5

    def __init__(self, gen: CallGenerator, recorder: CallRecorder) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.recorder = recorder
        self.call = SimulatedCall(gen.menu_file, instant=False, observe=self._observe)
        self.pending: deque[Event] = deque()
        """What the player and the far end will report, in the order they were asked."""

    @property
    def now(self) -> float:
        return self.call.now

    @property
    def ended(self) -> bool:
        return self.call.hangup is not None

    def act(self) -> None:
        rng, call = self.rng, self.call
        armed = call.nav.next_deadline()
        roll = rng.random()
        if roll < 0.07:
            call.now += rng.uniform(1, 6)
            call.hang_up()
        elif roll < 0.17 and armed is not None:
            call.wait()
        else:
            menu = self.gen.menu_file.menus.get(call.nav.menu or "")
            options = sorted(menu.options, key=lambda k: _ORDER.index(k.value)) if menu else []
            if roll < 0.22 or not options:
                key = rng.choice([k for k in (Key.D4, Key.D7, Key.STAR) if k not in options])
            else:
                weights = [len(options) - i for i in range(len(options))]
                key = rng.choices(options, weights)[0]
            call.press(key, gap_s=rng.uniform(1.0, 4.0))
        self._settle()

    def start(self, first: CallStarted) -> None:
        self.call.now = first.now
        self.call.feed(first)
        self._settle()

    def _settle(self) -> None:
        """Report what was asked for, in turn (what that starts is reported after it)."""
        while self.pending:
            event = self.pending.popleft()
            self.call.now = max(self.call.now, event.now)
            self.call.feed(event)

    def _observe(self, event: Event, effects: Sequence[Effect]) -> None:
        for effect in effects:
            match effect:
                case Note():
                    self.recorder.note(effect)
                    if self.gen.metrics is not None:
                        self.gen.metrics.note(effect)
                case Play():
                    self.pending.append(PlaybackFinished(effect.play_id, self.now + self.PROMPT_S))
                case TransferTo():
                    self.pending.append(self._far_end(effect))

    def _far_end(self, effect: TransferTo) -> TransferSucceeded | TransferFailed:
        rng = self.rng
        took = rng.uniform(0.5, 12.0)
        at = self.now + took
        if rng.random() < 0.7:
            result: TransferSucceeded | TransferFailed = TransferSucceeded(at)
            outcome = TransferOutcome.SUCCEEDED
        else:
            status, reason = rng.choice(_FAILURES)
            result = TransferFailed(status, reason, at)
            outcome = TransferOutcome.of(result.kind)
        if self.gen.metrics is not None:
            label = destination_label(effect.destination or effect.via, effect.target)
            self.gen.metrics.transfer_ended(label, outcome, took)
        return result


def amplify(records: list[dict[str, Any]], n: int, *, seed: int = 1) -> Iterator[str]:
    """`n` JSON lines made from `records` (real ones): each a copy with a new call id and a
    start time spread over 30 days, so a million lines hold the paths of the originals."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(n):
        record = dict(records[i % len(records)])
        started = base + timedelta(seconds=rng.uniform(0, 30 * 86400))
        record["call_id"] = f"SCL_amp{i:08d}"
        record["started_at"] = started.isoformat(timespec="milliseconds")
        duration = record.get("duration") or 0.0
        record["ended_at"] = (started + timedelta(seconds=duration)).isoformat(
            timespec="milliseconds"
        )
        yield json.dumps(record, separators=(",", ":"))
