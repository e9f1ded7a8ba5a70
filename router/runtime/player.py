"""Playing rendered prompts into the call, with barge-in.

One `Player` per call owns the call's `rtc.AudioSource`. `play()` replaces whatever
is playing; `stop()` cuts it short and drops the audio already queued in the FFI,
so the caller stops hearing the prompt within one frame of pressing a key. When
every frame of a play has been heard (not merely queued), `on_finished(play_id)`
is called: the navigator starts its no-input timer from that moment. A looped play
(hold audio while a transfer rings) starts again at its end until it is stopped, and
never reports itself finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from livekit import rtc

from router.runtime.prompts import SAMPLE_RATE_HZ, Rendered

__all__ = ["Player"]

log = logging.getLogger(__name__)

QUEUE_MS = 1000
"""FFI-side buffer; with 200 ms frames this keeps five frames ahead of the wire."""


class Player:
    """Plays one call's prompts; at most one capture is ever in flight in the FFI.

    A play is never cancelled in the middle of `capture_frame` (the FFI would still
    hold the frame, and refuses the next capture while it does): stopping bumps a
    generation number and clears the FFI queue, the old play returns after its
    in-flight frame, and the next play starts only once the old one has returned.
    """

    def __init__(self, on_finished: Callable[[int], None]) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE_HZ, 1, queue_size_ms=QUEUE_MS)
        self.track = rtc.LocalAudioTrack.create_audio_track("menu", self.source)
        self._on_finished = on_finished
        self._task: asyncio.Task[None] | None = None
        self._generation = 0
        self._active = False
        self._clear_pending = False

    @property
    def playing(self) -> bool:
        return self._active

    @property
    def clear_pending(self) -> bool:
        """A `stop(clear=False)` left audio in the FFI queue for `clear()` to drop."""
        return self._clear_pending

    def play(self, play_id: int, items: Sequence[Rendered], *, loop: bool = False) -> None:
        self.stop()  # clears what is queued, also what a stop(clear=False) left
        self._generation += 1
        self._active = True
        previous = self._task
        self._task = asyncio.get_running_loop().create_task(
            self._run(self._generation, previous, play_id, items, loop), name=f"play-{play_id}"
        )

    def stop(self, *, clear: bool = True) -> None:
        """Stop the current play. With ``clear=False`` the audio already queued in the FFI
        is dropped only by a later `clear()` (or the next `play()`): the FFI call can wait
        for the GIL, and a key's transfer request should not wait behind it."""
        if self._active:
            self._generation += 1
            self._active = False
            self._clear_pending = True
        if clear:
            self.clear()

    def clear(self) -> None:
        """Drop the audio a stopped play left queued in the FFI."""
        if self._clear_pending:
            self._clear_pending = False
            self.source.clear_queue()

    async def _run(
        self,
        generation: int,
        previous: asyncio.Task[None] | None,
        play_id: int,
        items: Sequence[Rendered],
        loop: bool = False,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])
        try:
            while True:
                for item in items:
                    for frame in item.frames:
                        if generation != self._generation:
                            return
                        await self.source.capture_frame(frame)
                if not loop or not any(item.frames for item in items):
                    break  # a loop goes on with its first frame: capture waits on the queue
            if generation != self._generation:
                return
            await self.source.wait_for_playout()
        except Exception as exc:
            if generation != self._generation:
                return  # stopped while a frame was in flight: expected
            # the caller must not be left waiting in silence: report the play as finished
            log.warning("playback %d failed: %s", play_id, exc)
        if generation != self._generation:
            return
        self._active = False
        self._on_finished(play_id)

    async def aclose(self) -> None:
        self.stop()
        self._generation += 1
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.source.aclose()
