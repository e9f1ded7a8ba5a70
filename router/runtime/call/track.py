"""The call's prompt track, published: the audio the caller hears, sent cheaply, and
watched until someone subscribes to it.

Published at once, before the caller is found: the SIP bridge answers only once it can
subscribe. Opus DTX is on and its bitrate capped (`OPUS_MAX_BITRATE`), because a call
spends most of its time silent and libwebrtc's encoder runs every 20 ms for as long as
the call lasts (docs/benchmarks.md).

A publication livekit-server never received the media of (soak runs 9 and 15-18: its
supervisor's "publish time out" 30 s later, no `mediaTrack published`) is one nobody can
subscribe to, so the bridge rings the caller until they give up (`480`). Nobody having
subscribed is not enough to tell it: at load the bridge subscribes 10 s and more after
the media arrived. livekit-server tells it: a participant's `ParticipantInfo` lists a
track only once its media arrived (v1.13.5 `pkg/rtc/participant.go`
`ToProtoWithVersion`: the published tracks, and of the pending ones only those migrating
from another node), so `watch_publication` asks it (`RoomService.GetParticipant`) and
says so when it does not hold the track.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol

from livekit import api, rtc

from router.runtime.transfer_watch import participant_on_server

__all__ = [
    "OPUS_MAX_BITRATE",
    "UNHEARD_CHECKS_S",
    "PromptTrack",
    "publish_prompt_track",
    "watch_publication",
]

log = logging.getLogger("router.runtime.call")

OPUS_MAX_BITRATE = 96_000
"""Opus bitrate cap of the prompt track. Above about 64 kb/s Opus codes speech in its CELT
mode, which costs libwebrtc's encoder half of what the SILK/hybrid mode below does while
a prompt plays, and a third during the silence between prompts (the encoder runs every
20 ms for as long as the call lasts); 96 kb/s leaves a margin. It costs bandwidth only
while a prompt plays (DTX in between). The caller hears 8 kHz G.711 either way."""

UNHEARD_CHECKS_S = (8.0, 11.0)
"""Seconds after publishing at which livekit-server is asked whether it holds the prompt
track's media, while nobody has subscribed to it; the publication is said lost only if
it holds it at neither (its media reaches the server within a second, up to about 5 s at
load, soak run 14)."""

ASK_TIMEOUT_S = 3.0
"""The longest one question to livekit-server may take; no answer is no evidence."""


async def publish_prompt_track(room: rtc.Room, track: rtc.LocalAudioTrack) -> None:
    """Publish `track` as the room's microphone, DTX on, Opus capped at OPUS_MAX_BITRATE.

    With DTX, libwebrtc sends a packet every 400 ms of silence instead of every 20 ms,
    which cuts this process's per-call cost and livekit-server's and the SIP bridge's;
    the bitrate cap keeps Opus in its cheaper mode."""
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=True)
    options.audio_encoding.max_bitrate = OPUS_MAX_BITRATE
    await room.local_participant.publish_track(track, options)


class PromptTrack:
    """The call's `track` on `room`: published (`publish`), whether anyone has subscribed
    to it (`heard`: livekit-server's TrackSubscribed, the rtc SDK's
    `local_track_subscribed`), and whether livekit-server holds its media (`held`)."""

    def __init__(self, room: rtc.Room, track: rtc.LocalAudioTrack, lkapi: api.LiveKitAPI) -> None:
        self._room = room
        self._track = track
        self._api = lkapi
        self.heard = asyncio.Event()
        room.on("local_track_subscribed", self._on_subscribed)

    def _on_subscribed(self, track: rtc.LocalTrack) -> None:
        if track.sid == self._track.sid:
            self.heard.set()

    async def publish(self) -> None:
        """Publish the track (`publish_prompt_track`); `PublishTrackError` if the server
        does not answer."""
        await publish_prompt_track(self._room, self._track)

    async def held(self) -> bool | None:
        """Whether livekit-server lists the track among this participant's tracks (its media
        arrived: module docstring); None when it could not say (no answer within
        `ASK_TIMEOUT_S`, this participant not found, or the room left)."""
        if not self._room.isconnected():
            return None
        room, identity = self._room.name, self._room.local_participant.identity
        info = await participant_on_server(self._api, room, identity, within_s=ASK_TIMEOUT_S)
        if info is None or info is False:
            log.info("room %s: livekit-server could not say whether it holds the track", room)
            return None
        return any(t.sid == self._track.sid for t in info.tracks)

    def close(self) -> None:
        self._room.off("local_track_subscribed", self._on_subscribed)


class Watched(Protocol):
    """What `watch_publication` needs of a prompt track (`PromptTrack` is one)."""

    heard: asyncio.Event

    async def held(self) -> bool | None: ...


async def watch_publication(
    track: Watched, *, label: str, checks_s: Sequence[float] = UNHEARD_CHECKS_S
) -> bool:
    """Whether `track`'s publication was lost: at every one of `checks_s` (seconds from
    now) nobody has subscribed to it and livekit-server answers that it does not hold it;
    said in a warning, for the operator (the SIP bridge will not answer such a call: the
    caller rings until the router greets nobody and hangs up, or gives up). Subscribed
    to, held by the server at any check (the bridge is late), or the server not answering
    (None): False. Run as a task while the call waits for its answer; cancelled with the
    call. Publishing the track again on the same connection did not bring its media
    (soak runs 16-18, docs/reliability.md finding 28), so nothing more is tried here."""
    waited = 0.0
    for at in checks_s:
        try:
            await asyncio.wait_for(track.heard.wait(), max(0.0, at - waited))
            return False
        except TimeoutError:
            waited = at
        held = await track.held()
        if held:
            log.info(
                "room %s: nobody has subscribed to the prompt track in %.0f s; livekit-server "
                "holds it: the bridge is late",
                label,
                at,
            )
        if held is not False:
            return False
    log.warning(
        "room %s: livekit-server has not received the prompt track's media in %.0f s; the "
        "SIP bridge cannot subscribe to it, and answers only once it can (a lost "
        "publication of LiveKit's)",
        label,
        waited,
    )
    return True
