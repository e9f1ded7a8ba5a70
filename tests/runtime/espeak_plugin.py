"""A real livekit-agents TTS plugin, offline: espeak-ng behind the plugin interface.

It lets the tests drive the router's plugin path (`--voice module:Class`) with the
same machinery a cloud plugin uses (ChunkedStream, AudioEmitter), without a network.
"""

from __future__ import annotations

import uuid

from livekit.agents import APIConnectOptions, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS

from router.runtime.prompts import EspeakVoice


class EspeakTTS(tts.TTS):
    def __init__(self, voice: str = "en-us") -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=22050, num_channels=1
        )
        self.voice = voice

    def update_options(self, *, voice: str) -> None:
        self.voice = voice

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _Stream(tts=self, input_text=text, conn_options=conn_options)


class _Stream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        assert isinstance(self._tts, EspeakTTS)
        pcm, rate = await EspeakVoice(self._tts.voice).speak(self._input_text)
        output_emitter.initialize(
            request_id=str(uuid.uuid4()), sample_rate=rate, num_channels=1, mime_type="audio/pcm"
        )
        output_emitter.push(pcm)
        output_emitter.flush()
