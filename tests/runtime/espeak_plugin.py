"""A real livekit-agents TTS plugin, offline: espeak-ng behind the plugin interface.

It lets the tests drive the router's plugin path (`--voice module:Class`) with the
same machinery a cloud plugin uses (ChunkedStream, AudioEmitter), without a network.
Like the cloud plugins, it keeps its options in one object that `update_options`
changes in place.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from livekit.agents import APIConnectOptions, APIStatusError, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS

from router.runtime.prompts import EspeakSynthesizer


@dataclass
class _Options:
    voice: str


class EspeakTTS(tts.TTS):
    spoken: list[tuple[str, str]] = []
    """(voice, text) of every synthesis, for tests to see which voice spoke."""

    def __init__(self, voice: str = "en-us") -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=22050, num_channels=1
        )
        self._opts = _Options(voice)

    def update_options(self, *, voice: str) -> None:
        self._opts.voice = voice

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _Stream(tts=self, input_text=text, conn_options=conn_options)


class _Stream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        assert isinstance(self._tts, EspeakTTS)
        voice = self._tts._opts.voice
        EspeakTTS.spoken.append((voice, self._input_text))
        pcm, rate = await EspeakSynthesizer(voice).speak(self._input_text)
        output_emitter.initialize(
            request_id=str(uuid.uuid4()), sample_rate=rate, num_channels=1, mime_type="audio/pcm"
        )
        output_emitter.push(pcm)
        output_emitter.flush()


class KeyedTTS(EspeakTTS):
    """Like the cloud plugins, refuses to start without its API key."""

    def __init__(self) -> None:
        if not os.environ.get("ESPEAK_TEST_API_KEY"):
            raise ValueError("ESPEAK_TEST_API_KEY must be set")
        super().__init__()


class RefusedTTS(EspeakTTS):
    """A plugin whose service refuses every request, as a cloud one with a revoked key."""

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        raise APIStatusError(
            "401 Unauthorized for https://tts.example.com/v1/speak?api_key=sk-live-0123456789",
            status_code=401,
        )
