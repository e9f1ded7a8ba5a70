"""Prompt rendering: real espeak-ng speech, real audio files decoded, frames ready to send."""

from __future__ import annotations

import asyncio
import logging
import math
import re
import struct
import wave
from pathlib import Path

import pytest

from router.core.errors import ConfigError
from router.core.model import Prompt
from router.runtime.audiofile import decode_file
from router.runtime.prompts import (
    FRAME_MS,
    SAMPLE_RATE_HZ,
    EspeakSynthesizer,
    PromptCache,
    Rendered,
    voice_from_spec,
)
from tests.runtime.espeak_plugin import EspeakTTS


def rms(pcm: bytes) -> float:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def pcm_of(rendered: Rendered | None) -> bytes:
    assert rendered is not None
    return b"".join(bytes(f.data) for f in rendered.frames)


def write_tone(path: Path, seconds: float, rate: int, channels: int = 1) -> None:
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) * channels
        for i in range(n)
    )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def test_espeak_speaks_audible_speech() -> None:
    pcm, rate = EspeakSynthesizer("en-us").speak_sync("For sales, press one.")
    seconds = len(pcm) / 2 / rate
    assert 0.8 < seconds < 5
    assert rms(pcm) > 500


def test_an_unknown_espeak_voice_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no voice named"):
        EspeakSynthesizer("xx-nonexistent").speak_sync("hello")
    # and the library still works afterwards
    assert EspeakSynthesizer("en-us").speak_sync("hello")[0]


def test_voice_specs() -> None:
    assert voice_from_spec(None).name == "espeak:en-us"
    assert voice_from_spec("espeak:en-gb").name == "espeak:en-gb"
    with pytest.raises(ConfigError, match="module:Class"):
        voice_from_spec("nonsense")
    with pytest.raises(ConfigError, match="cannot load the TTS plugin"):
        voice_from_spec("no.such.module:TTS")
    with pytest.raises(ConfigError, match="cannot start the TTS plugin .*API_KEY must be set"):
        voice_from_spec("tests.runtime.espeak_plugin:KeyedTTS")


def test_wav_stereo_44k_is_decoded_to_mono(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    write_tone(path, 0.5, 44_100, channels=2)
    pcm, rate = decode_file(str(path), SAMPLE_RATE_HZ)
    assert rate == 44_100
    assert len(pcm) == int(0.5 * 44_100) * 2


@pytest.mark.parametrize(
    ("suffix", "codec", "rate"), [("ogg", "libopus", 48_000), ("mp3", "libmp3lame", 22_050)]
)
def test_compressed_files_are_decoded_and_resampled(
    tmp_path: Path, suffix: str, codec: str, rate: int
) -> None:
    import av

    src = tmp_path / "tone.wav"
    write_tone(src, 1.0, rate)
    out = tmp_path / f"tone.{suffix}"
    with av.open(str(src)) as inp, av.open(str(out), "w") as outp:
        stream = outp.add_stream(codec, rate=rate)
        for frame in inp.decode(audio=0):
            for packet in stream.encode(frame):
                outp.mux(packet)
        for packet in stream.encode(None):
            outp.mux(packet)
    pcm, rate = decode_file(str(out), SAMPLE_RATE_HZ)
    assert rate == SAMPLE_RATE_HZ
    assert 0.9 < len(pcm) / 2 / rate < 1.2
    assert rms(pcm) > 2000


async def test_cache_renders_once_and_frames_are_ready(tmp_path: Path) -> None:
    path = tmp_path / "chime.wav"
    write_tone(path, 0.3, 8_000)
    cache = PromptCache(EspeakSynthesizer())
    both = Prompt(text="Welcome.", audio=str(path))
    assert await cache.render_all([both, Prompt("Welcome."), both]) == 2
    rendered = cache.get(both)
    assert rendered is not None
    assert rendered is await cache.render(both), "the same frames are shared"
    assert rendered.duration > 0.3
    first = rendered.frames[0]
    assert first.sample_rate == SAMPLE_RATE_HZ and first.num_channels == 1
    assert first.samples_per_channel == SAMPLE_RATE_HZ * FRAME_MS // 1000
    assert await cache.render_all([both]) == 0


async def test_a_menu_voice_is_rendered_apart_from_the_default() -> None:
    cache = PromptCache(EspeakSynthesizer())
    hola = Prompt("Gracias por llamar.")
    assert await cache.render_all([hola], voices={None, "es"}) == 2
    assert pcm_of(cache.get(hola)) != pcm_of(cache.get(hola, "es"))


async def test_an_unknown_menu_voice_is_a_clear_error() -> None:
    cache = PromptCache(EspeakSynthesizer())
    with pytest.raises(ConfigError, match="no voice named 'zz-nope'"):
        await cache.render(Prompt("hello"), "zz-nope")


async def test_a_livekit_agents_tts_plugin_can_be_the_voice() -> None:
    spec = "tests.runtime.espeak_plugin:EspeakTTS"
    voice = voice_from_spec(spec)
    assert voice.name == spec
    cache = PromptCache(voice)
    hello = Prompt("For sales, press one.")
    await cache.render_all([hello], voices={None, "es"})
    english, spanish = cache.get(hello), cache.get(hello, "es")
    assert english is not None and spanish is not None
    assert 0.8 < english.duration < 5
    assert rms(pcm_of(english)) > 500
    assert pcm_of(english) != pcm_of(spanish)
    # still English after a menu asked for Spanish: plugins change their options in
    # place, so a voice of a menu must not share them with the default
    await cache.render_all([Prompt("For support, press two.")])
    assert EspeakTTS.spoken[-1] == ("en-us", "For support, press two.")


async def test_a_voice_that_fails_is_one_sentence_without_the_key() -> None:
    cache = PromptCache(voice_from_spec("tests.runtime.espeak_plugin:RefusedTTS"))
    with pytest.raises(ConfigError) as caught:
        await cache.render_all([Prompt("Welcome to Acme.")])
    message = str(caught.value)
    assert message.startswith(
        "the voice tests.runtime.espeak_plugin:RefusedTTS could not speak 'Welcome to Acme.': "
        "401 Unauthorized for https://tts.example.com/v1/speak?..."
    )
    assert "sk-live" not in message and "\n" not in message


class _Slow:
    """A voice that takes its time, as a cloud one does."""

    name = "slow"

    async def speak(self, text: str) -> tuple[bytes, int]:
        await asyncio.sleep(0.05)
        return b"\x01\x00" * 160, SAMPLE_RATE_HZ

    def with_voice(self, voice: str) -> _Slow:
        return self


async def test_long_rendering_shows_progress(caplog: pytest.LogCaptureFixture) -> None:
    # every other prompt in French: the progress names the voice of the prompt it is at
    codes = ("en", "fr")
    prompts = [Prompt(f"Prompt {i}.", language=codes[i % 2]) for i in range(12)]
    voices = {"en": "en-us", "fr": "fr"}
    with caplog.at_level(logging.INFO, logger="router.runtime.prompts"):
        cache = PromptCache(_Slow())
        assert await cache.render_all(prompts, report_every=0.15, languages=voices) == 12
    pattern = r"rendering prompts in voice (\S+) \(of en-us, fr\): (\d+) of 12 "
    seen = [
        (m.group(1), int(m.group(2)))
        for r in caplog.records
        if (m := re.match(pattern, r.getMessage()))
    ]
    counts = [count for _, count in seen]
    assert len(counts) >= 2 and counts == sorted(set(counts)) and 0 < counts[-1] < 12
    assert all(voice == voices[codes[count % 2]] for voice, count in seen)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="router.runtime.prompts"):
        await PromptCache(_Slow()).render_all(prompts[:2], report_every=0.15)
    assert not caplog.records, "a quick rendering is quiet"


async def test_a_store_that_cannot_be_written_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "file").write_text("not a folder")
    cache = PromptCache(_Slow(), store=tmp_path / "file" / "store")
    with caplog.at_level(logging.WARNING, logger="router.runtime.prompts"):
        assert await cache.render_all([Prompt("One."), Prompt("Two.")], report_every=60) == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot keep rendered prompts in {tmp_path / 'file' / 'store'} (Not a directory); "
        "going on without"
    ]
    assert cache.get(Prompt("Two.")) is not None, "the calls still get their prompts"


def test_router_prompts_fails_when_it_cannot_fill_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from router.cli import main

    (tmp_path / "file").write_text("not a folder")
    store = tmp_path / "file" / "store"
    menus = Path(__file__).resolve().parents[2] / "menus.yaml"
    assert main(["prompts", "--cache", str(store), str(menus)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"router prompts: cannot keep rendered prompts in {store}: Not a directory"
    )


class _Mute:
    """A voice that must not be asked: everything should come from the disk store."""

    name = "espeak:en-us"

    async def speak(self, text: str) -> tuple[bytes, int]:
        raise AssertionError(f"synthesised {text!r} again")

    def with_voice(self, voice: str) -> _Mute:
        return self


async def test_the_prompt_store_survives_a_restart(tmp_path: Path) -> None:
    chime = tmp_path / "chime.wav"
    write_tone(chime, 0.3, 8_000)
    prompts = [Prompt("Welcome to Acme."), Prompt("Press one.", audio=str(chime))]
    first = PromptCache(EspeakSynthesizer(), store=tmp_path / "store")
    assert await first.render_all(prompts, voices={None, "es"}) == 4
    assert len(list((tmp_path / "store").glob("*.pcm"))) == 4

    again = PromptCache(_Mute(), store=tmp_path / "store")  # a restart: nothing synthesised
    await again.render_all(prompts, voices={None, "es"})
    for prompt in prompts:
        before, after = first.get(prompt, "es"), again.get(prompt, "es")
        assert before is not None and after is not None
        assert before.duration == after.duration

    write_tone(chime, 0.5, 8_000)  # an edited recording is rendered again, not served stale
    with pytest.raises(ConfigError, match="synthesised 'Press one.' again"):
        await PromptCache(_Mute(), store=tmp_path / "store").render(prompts[1])
    # also by a running process, on its next load of the menu file
    old = first.get(prompts[1])
    assert await first.render_all(prompts, voices={None, "es"}) == 2
    new = first.get(prompts[1])
    assert old is not None and new is not None and new.duration > old.duration + 0.15
