"""Playing rendered prompts into the call, with barge-in.

One `Player` per call owns the call's `rtc.AudioSource`. `play()` replaces whatever
is playing; `stop()` cuts it short and drops the audio already queued in the FFI,
so the caller stops hearing the prompt within one frame of pressing a key. When
every frame of a play has been heard (not merely queued), `on_finished(play_id)`
is called: the navigator starts its no-input timer from that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from livekit import rtc

from router.runtime.prompts import SAMPLE_RATE, Rendered

__all__ = ["Player"]

log = logging.getLogger(__name__)

QUEUE_MS = 1000
"""FFI-side buffer; with 200 ms frames this keeps five frames ahead of the wire."""


class Player:
    def __init__(self, on_finished: Callable[[int], None]) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=QUEUE_MS)
        self.track = rtc.LocalAudioTrack.create_audio_track("menu", self.source)
        self._on_finished = on_finished
        self._task: asyncio.Task[None] | None = None

    @property
    def playing(self) -> bool:
        return self._task is not None and not self._task.done()

    def play(self, play_id: int, items: Sequence[Rendered]) -> None:
        self.stop()
        self._task = asyncio.get_running_loop().create_task(
            self._run(play_id, items), name=f"play-{play_id}"
        )

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            self.source.clear_queue()

    async def _run(self, play_id: int, items: Sequence[Rendered]) -> None:
        for item in items:
            for frame in item.frames:
                await self.source.capture_frame(frame)
        await self.source.wait_for_playout()
        if self._task is asyncio.current_task():
            self._task = None
        self._on_finished(play_id)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.aclose()
