"""The call's prompt track, published: the audio the caller hears, sent cheaply.

Published at once, before the caller is found: the SIP bridge answers only once it can
subscribe. Opus DTX is on and its bitrate capped (`OPUS_MAX_BITRATE`), because a call
spends most of its time silent and libwebrtc's encoder runs every 20 ms for as long as
the call lasts (docs/benchmarks.md).
"""

from __future__ import annotations

from livekit import rtc

__all__ = ["OPUS_MAX_BITRATE", "publish_prompt_track"]

OPUS_MAX_BITRATE = 96_000
"""Opus bitrate cap of the prompt track. Above about 64 kb/s Opus codes speech in its CELT
mode, which costs libwebrtc's encoder half of what the SILK/hybrid mode below does while
a prompt plays, and a third during the silence between prompts (the encoder runs every
20 ms for as long as the call lasts); 96 kb/s leaves a margin. It costs bandwidth only
while a prompt plays (DTX in between). The caller hears 8 kHz G.711 either way."""


async def publish_prompt_track(room: rtc.Room, track: rtc.LocalAudioTrack) -> None:
    """Publish `track` as the room's microphone, DTX on, Opus capped at OPUS_MAX_BITRATE.

    With DTX, libwebrtc sends a packet every 400 ms of silence instead of every 20 ms,
    which cuts this process's per-call cost and livekit-server's and the SIP bridge's;
    the bitrate cap keeps Opus in its cheaper mode."""
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=True)
    options.audio_encoding.max_bitrate = OPUS_MAX_BITRATE
    await room.local_participant.publish_track(track, options)
