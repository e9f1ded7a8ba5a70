"""A prompt track's publication is said lost only when livekit-server does not hold its
media (router/runtime/call/track.py `watch_publication`).

Soak runs 9 and 15-18: livekit-server never received one call's track media (its
supervisor's "publish time out"), the SIP bridge never subscribed, and the caller was
refused `480` after about 40 s. Nobody having subscribed is no evidence: at load the
bridge subscribes 10 s and more late (finding 28's first remedy took such tracks from
under it, soak run 14). Here the decision itself, on a track whose answers are given
(livekit-server cannot be made to lose a publication on demand);
tests/e2e/test_prompt_track_held.py asks the real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from router.runtime.call.track import watch_publication

CHECKS_S = (0.05, 0.1)


class Track:
    """A prompt track whose server answers `held` in turn."""

    def __init__(self, answers: Iterable[bool | None]) -> None:
        self.heard = asyncio.Event()
        self.answers = list(answers)
        self.asked = 0

    async def held(self) -> bool | None:
        self.asked += 1
        return self.answers.pop(0)


async def test_a_track_the_server_never_held_is_said_lost(
    caplog: pytest.LogCaptureFixture,
) -> None:
    track = Track([False, False])
    assert await watch_publication(track, label="room-1", checks_s=CHECKS_S)
    assert track.asked == 2
    assert "has not received the prompt track's media" in caplog.text
    assert "room-1" in caplog.text


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param([True], id="held at once: the bridge is late, not the media"),
        pytest.param([False, True], id="held by the second check"),
        pytest.param([None], id="the server not answering is no evidence"),
        pytest.param([False, None], id="nor at the second check"),
    ],
)
async def test_a_track_the_server_holds_or_may_hold_is_not_said_lost(
    answers: list[bool | None], caplog: pytest.LogCaptureFixture
) -> None:
    track = Track(answers)
    assert not await watch_publication(track, label="room-1", checks_s=CHECKS_S)
    assert track.asked == len(answers)
    assert "has not received" not in caplog.text


async def test_a_track_someone_subscribed_to_is_never_asked_about() -> None:
    track = Track([])
    track.heard.set()
    assert not await watch_publication(track, label="room-1", checks_s=CHECKS_S)
    assert track.asked == 0


async def test_a_subscription_between_the_checks_ends_the_watch() -> None:
    track = Track([False])
    asyncio.get_running_loop().call_later(0.07, track.heard.set)
    assert not await watch_publication(track, label="room-1", checks_s=CHECKS_S)
    assert track.asked == 1
