"""Hold audio in the player: a looped play goes on until stopped and never reports
itself finished; the real `rtc.AudioSource` plays out in real time, no server."""

from __future__ import annotations

import asyncio

from livekit import rtc

from router.runtime.player import Player
from router.runtime.prompts import SAMPLE_RATE_HZ, Rendered

FRAME_SAMPLES = SAMPLE_RATE_HZ // 10  # 100 ms


def tone(frames: int) -> Rendered:
    samples = b"\x10\x27" * FRAME_SAMPLES  # a constant level: not silence
    frame = rtc.AudioFrame(samples, SAMPLE_RATE_HZ, 1, FRAME_SAMPLES)
    return Rendered(tuple(frame for _ in range(frames)), frames * 0.1)


class Finished:
    """`on_finished` of a player: the play ids, and an event per id."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.events: dict[int, asyncio.Event] = {}

    def __call__(self, play_id: int) -> None:
        self.ids.append(play_id)
        self.event(play_id).set()

    def event(self, play_id: int) -> asyncio.Event:
        return self.events.setdefault(play_id, asyncio.Event())


async def test_a_looped_play_goes_on_until_stopped() -> None:
    finished = Finished()
    player = Player(finished)
    try:
        player.play(1, [tone(2)], loop=True)  # 200 ms, looped
        await asyncio.sleep(1.6)  # the queue holds 1 s: past it, the loop must have wrapped
        assert player.playing and not finished.ids, "a loop never reports itself finished"
        player.stop()
        await asyncio.sleep(0.3)
        assert not player.playing and not finished.ids
        # the next play (the failure policy's message) starts and finishes as usual
        player.play(2, [tone(2)])
        await asyncio.wait_for(finished.event(2).wait(), 5)
        assert finished.ids == [2]
    finally:
        await player.aclose()


async def test_a_play_without_loop_reports_its_end() -> None:
    finished = Finished()
    player = Player(finished)
    try:
        player.play(7, [tone(3)])
        await asyncio.wait_for(finished.event(7).wait(), 5)
        assert finished.ids == [7]
    finally:
        await player.aclose()
