"""The call's prompt track, published: the audio the caller hears, sent cheaply, and
published again when nobody subscribes to it.

Published at once, before the caller is found: the SIP bridge answers only once it can
subscribe. Opus DTX is on and its bitrate capped (`OPUS_MAX_BITRATE`), because a call
spends most of its time silent and libwebrtc's encoder runs every 20 ms for as long as
the call lasts (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import logging

from livekit import rtc

from router.runtime.player import Player

__all__ = ["OPUS_MAX_BITRATE", "UNHEARD_REPUBLISH_S", "PromptTrack", "publish_prompt_track"]

log = logging.getLogger("router.runtime.call")

OPUS_MAX_BITRATE = 96_000
"""Opus bitrate cap of the prompt track. Above about 64 kb/s Opus codes speech in its CELT
mode, which costs libwebrtc's encoder half of what the SILK/hybrid mode below does while
a prompt plays, and a third during the silence between prompts (the encoder runs every
20 ms for as long as the call lasts); 96 kb/s leaves a margin. It costs bandwidth only
while a prompt plays (DTX in between). The caller hears 8 kHz G.711 either way."""

UNHEARD_REPUBLISH_S = 8.0
"""How long a call waiting for its answer lets the prompt track go without a subscriber
before it publishes it again. The SIP bridge subscribes within a second or two, up to a
few at load (the soak); a track livekit-server never received stays unheard for good."""


async def publish_prompt_track(room: rtc.Room, track: rtc.LocalAudioTrack) -> None:
    """Publish `track` as the room's microphone, DTX on, Opus capped at OPUS_MAX_BITRATE.

    With DTX, libwebrtc sends a packet every 400 ms of silence instead of every 20 ms,
    which cuts this process's per-call cost and livekit-server's and the SIP bridge's;
    the bitrate cap keeps Opus in its cheaper mode."""
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=True)
    options.audio_encoding.max_bitrate = OPUS_MAX_BITRATE
    await room.local_participant.publish_track(track, options)


class PromptTrack:
    """The player's track on `room`: published (`publish`), whether anyone has subscribed
    to it (`heard`, from livekit-server's TrackSubscribed, the rtc SDK's
    `local_track_subscribed`), and published anew from the same source (`republish`).

    Soak run 9 (docs/reliability.md, "Open", call 773): livekit-server never received
    the media of one call's track (its supervisor's "publish time out" 30 s later), so
    the SIP bridge, which answers only once it subscribes, never answered; the caller
    rang for 38 s and was refused `480`."""

    def __init__(self, room: rtc.Room, player: Player) -> None:
        self._room = room
        self._player = player
        self.heard = asyncio.Event()
        room.on("local_track_subscribed", self._on_subscribed)

    def _on_subscribed(self, track: rtc.LocalTrack) -> None:
        if track.sid == self._player.track.sid:
            self.heard.set()

    async def publish(self) -> None:
        """Publish the player's track (`publish_prompt_track`); `PublishTrackError` if the
        server does not answer."""
        await publish_prompt_track(self._room, self._player.track)

    async def republish(self) -> None:
        """Unpublish the track nobody heard and publish a new one on the player's source
        (what it plays goes to the new one). A failure is one warning: the call goes on."""
        old = self._player.track
        try:
            await self._room.local_participant.unpublish_track(old.sid)
            self._player.track = rtc.LocalAudioTrack.create_audio_track("menu", self._player.source)
            await self.publish()
        except Exception as exc:  # noqa: BLE001 - the call goes on with what it has
            log.warning("could not publish the prompt track again: %s", exc)

    def close(self) -> None:
        self._room.off("local_track_subscribed", self._on_subscribed)
