"""Turning prompts into audio before any call needs them.

Every `Prompt` of a menu file is rendered once, when the file is loaded, into
ready-to-send `rtc.AudioFrame`s, so a call never waits for synthesis or decoding.
Text is spoken by espeak-ng, loaded from the `espeakng-loader` wheel (library and
voice data bundled, nothing to download, no account); a livekit-agents TTS plugin
can stand in for production voices. Audio files (wav, mp3, ogg...) are decoded
with PyAV, which livekit-agents already depends on.

Frames are shared by every call in the process and never mutated, which is what
lets the FFI read them while several calls play the same greeting.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from livekit import rtc

from router.core.errors import ConfigError, MenuFileError, RouterError
from router.core.model import MenuFile, Prompt
from router.core.voices import SpeechEngine
from router.runtime.audiofile import UnplayableAudio, decode_prompt, mono, unplayable

if TYPE_CHECKING:
    from livekit.agents import tts as agents_tts

__all__ = [
    "SAMPLE_RATE_HZ",
    "AgentsVoice",
    "EspeakSynthesizer",
    "PromptCache",
    "Rendered",
    "Voice",
    "voices_of",
    "voice_from_spec",
]

log = logging.getLogger(__name__)

_URL_QUERY = re.compile(r"\?[^\s'\"]+")
"""A URL's query in an error message: plugins put API keys there (never printed)."""

SAMPLE_RATE_HZ = 16_000
"""Telephone audio is 8 kHz at the far end; 16 kHz keeps quality and halves memory vs 48 kHz."""
FRAME_MS = 200
"""Size of one captured frame: large frames mean fewer FFI events, which every Room sees."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A prompt as audio, split into frames ready for `AudioSource.capture_frame`."""

    frames: tuple[rtc.AudioFrame, ...]
    duration: float


class Voice(Protocol):
    """Something that speaks text as 16-bit mono PCM."""

    name: str

    async def speak(self, text: str) -> tuple[bytes, int]:
        """(PCM s16le mono, sample rate)."""
        ...

    def with_voice(self, voice: str) -> Voice:
        """The same engine speaking with the voice a menu names (`voice:` in the file)."""
        ...


class EspeakSynthesizer:
    """espeak-ng through ctypes, in synchronous mode (no audio device, no threads of its own).

    The library keeps global state, so one lock serialises every synthesis in the process.
    """

    _lock = threading.Lock()
    _lib: ctypes.CDLL | None = None
    _rate = 0
    _current_voice: str | None = None
    _chunks: list[bytes] = []

    def __init__(self, voice: str = "en-us", *, words_per_minute: int = 165) -> None:
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.name = f"espeak:{voice}"

    @classmethod
    def _load(cls) -> ctypes.CDLL:
        if cls._lib is not None:
            return cls._lib
        try:
            import espeakng_loader  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - a packaging error
            raise ConfigError("espeak-ng is not installed (pip install espeakng-loader)") from exc
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_parent = os.path.dirname(espeakng_loader.get_data_path())
        rate = lib.espeak_Initialize(2, 0, data_parent.encode(), 0)  # 2 = synchronous output
        if rate <= 0:
            raise ConfigError("espeak-ng could not start (its voice data was not found)")
        lib.espeak_SetSynthCallback(_SYNTH_CALLBACK)
        cls._lib, cls._rate = lib, rate
        return lib

    def speak_sync(self, text: str) -> tuple[bytes, int]:
        with self._lock:
            lib = self._load()
            cls = type(self)
            if cls._current_voice != self.voice:
                if lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
                    raise ConfigError(f"espeak-ng has no voice named {self.voice!r}")
                cls._current_voice = self.voice
            lib.espeak_SetParameter(1, self.words_per_minute, 0)  # 1 = rate
            EspeakSynthesizer._chunks = []
            data = text.encode()
            # 1 = POS_CHARACTER, flags 1 = espeakCHARS_UTF8
            if lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None) != 0:
                raise RuntimeError(f"espeak-ng failed to speak {text[:40]!r}")
            pcm = b"".join(EspeakSynthesizer._chunks)
            EspeakSynthesizer._chunks = []
            return pcm, self._rate

    async def speak(self, text: str) -> tuple[bytes, int]:
        return await asyncio.to_thread(self.speak_sync, text)

    def with_voice(self, voice: str) -> EspeakSynthesizer:
        return EspeakSynthesizer(voice, words_per_minute=self.words_per_minute)


def _on_synth(wav: Any, samples: int, _events: Any) -> int:
    if wav and samples > 0:
        EspeakSynthesizer._chunks.append(ctypes.string_at(wav, samples * 2))
    return 0


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)(_on_synth)


class AgentsVoice:
    """A livekit-agents TTS plugin (e.g. `livekit.plugins.cartesia:TTS`) as a router voice."""

    def __init__(self, make: Callable[[], agents_tts.TTS[Any]], name: str) -> None:
        self._make = make
        self.name = name
        try:
            self._tts = make()
        except Exception as exc:  # a plugin's own check, e.g. a missing API key
            raise ConfigError(f"cannot start the TTS plugin {name}: {exc}") from exc

    def with_voice(self, voice: str) -> AgentsVoice:
        """Plugins name voices their own way: set it through `update_options(voice=...)`.

        On an instance of its own: plugins keep their options in one object that
        `update_options` changes in place, which a copy would share with the default.
        """
        if not hasattr(self._tts, "update_options"):
            raise ConfigError(f"the TTS plugin {self.name} cannot change its voice to {voice!r}")

        def make() -> agents_tts.TTS[Any]:
            tts = self._make()
            getattr(tts, "update_options")(voice=voice)  # noqa: B009 - not on the base class
            return tts

        return AgentsVoice(make, f"{self.name}[{voice}]")

    async def speak(self, text: str) -> tuple[bytes, int]:
        parts: list[bytes] = []
        rate = self._tts.sample_rate
        async with self._tts.synthesize(text) as stream:
            async for chunk in stream:
                frame = chunk.frame
                rate = frame.sample_rate
                parts.append(mono(bytes(frame.data), frame.num_channels))
        return b"".join(parts), rate


def voice_from_spec(spec: str | None) -> Voice:
    """`espeak[:VOICE]` (the default) or `package.module:Class` of a livekit-agents TTS plugin."""
    spec = (spec or "").strip()
    if SpeechEngine.of(spec) is SpeechEngine.ESPEAK:
        return EspeakSynthesizer(spec.partition(":")[2] or "en-us")
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise ConfigError(f"voice {spec!r} is neither 'espeak[:VOICE]' nor 'module:Class'")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load the TTS plugin {spec!r}: {exc}") from exc
    return AgentsVoice(cls, spec)


def _resample(pcm: bytes, rate: int) -> bytes:
    """`pcm` at SAMPLE_RATE_HZ, pushed through the resampler a second at a time: one frame of
    the whole prompt would be copied into the FFI at once (minutes of audio, twice over)."""
    if rate == SAMPLE_RATE_HZ or not pcm:
        return pcm
    resampler = rtc.AudioResampler(rate, SAMPLE_RATE_HZ, num_channels=1)
    out = bytearray()
    view = memoryview(pcm)
    step = rate * 2  # one second of s16 mono
    for start in range(0, len(pcm) - len(pcm) % 2, step):
        piece = view[start : start + step]
        for f in resampler.push(rtc.AudioFrame(piece, rate, 1, len(piece) // 2)):
            out += f.data.cast("B")
    for f in resampler.flush():
        out += f.data.cast("B")
    return bytes(out)


def _stamp(audio: str | None) -> str | None:
    """An audio file's size and time ("" for text alone; None if it cannot be read)."""
    if audio is None:
        return ""
    try:
        st = os.stat(audio)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}"


def _frames(pcm: bytes) -> tuple[rtc.AudioFrame, ...]:
    step = SAMPLE_RATE_HZ * FRAME_MS // 1000 * 2
    return tuple(
        rtc.AudioFrame(pcm[i : i + step], SAMPLE_RATE_HZ, 1, len(pcm[i : i + step]) // 2)
        for i in range(0, len(pcm), step)
    )


def _voices_for(
    prompt: Prompt, voices: tuple[str | None, ...], languages: Mapping[str, str]
) -> tuple[str | None, ...]:
    """A prompt in a declared language is heard in its voice only; any other in every voice."""
    voice = languages.get(prompt.language or "")
    return voices if voice is None else (voice,)


def voices_of(menu_file: MenuFile) -> set[str | None]:
    """The voices a file's menus and languages name (None: the router's configured voice)."""
    languages = {language.voice for language in menu_file.languages.values()}
    return {menu.voice for menu in menu_file.menus.values()} | languages | {None}


class PromptCache:
    """Rendered prompts by (voice, text, audio file); shared by every call in the process.

    With a `store` folder, rendered audio is also kept on disk, keyed by the voice
    engine, the voice, the text and the audio file's size and time, so a restart (or
    a container built with its prompts rendered) does not synthesise again: with a
    cloud TTS plugin that is start-up time and money.
    """

    def __init__(self, voice: Voice, store: str | os.PathLike[str] | None = None) -> None:
        self.voice = voice
        self.store = Path(store) if store else None
        self._voices: dict[str | None, Voice] = {None: voice}
        self.store_error: str | None = None
        """Why the last prompt could not be kept in `store`, once one could not."""
        self._rendered: dict[tuple[str | None, str | None, str | None], Rendered] = {}
        self._stamps: dict[tuple[str | None, str | None, str | None], str | None] = {}
        """The audio file's size and time when each prompt was rendered."""

    def _stored(self, prompt: Prompt, voice: str | None, stamp: str | None) -> Path | None:
        if self.store is None or stamp is None:
            return None
        key = "\0".join(
            (self.voice.name, voice or "", prompt.text or "", prompt.audio or "", stamp)
        )
        return self.store / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.pcm"

    def _load(self, path: Path | None) -> bytes | None:
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _save(self, path: Path | None, pcm: bytes) -> None:
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pcm)
            tmp.replace(path)
        except OSError as exc:  # a read-only store still serves what it has
            if self.store_error is None:
                self.store_error = str(exc.strerror or exc)
                log.warning(
                    "cannot keep rendered prompts in %s (%s); going on without",
                    self.store,
                    self.store_error,
                )

    def get(self, prompt: Prompt, voice: str | None = None) -> Rendered | None:
        return self._rendered.get((voice, prompt.text, prompt.audio))

    def _fresh(self, prompt: Prompt, voice: str | None) -> Rendered | None:
        """The rendered prompt, unless its audio file changed since (a new recording)."""
        key = (voice, prompt.text, prompt.audio)
        found = self._rendered.get(key)
        if found is not None and self._stamps.get(key) != _stamp(prompt.audio):
            return None
        return found

    def _voice(self, name: str | None) -> Voice:
        found = self._voices.get(name)
        if found is None:
            assert name is not None
            found = self._voices[name] = self.voice.with_voice(name)
        return found

    async def _speak(self, voice: str | None, text: str) -> tuple[bytes, int]:
        engine = self._voice(voice)
        try:
            return await engine.speak(text)
        except RouterError:
            raise
        except Exception as exc:  # a plugin's network, account or quota error (no traceback:
            # its URLs and headers may hold the API key)
            said = getattr(exc, "message", None) or str(exc)  # livekit-agents APIError
            reason = " ".join(_URL_QUERY.sub("?...", str(said)).split())[:200] or type(exc).__name__
            raise ConfigError(
                f"the voice {engine.name} could not speak {text[:40]!r}: {reason}"
            ) from None

    async def render(self, prompt: Prompt, voice: str | None = None) -> Rendered:
        key = (voice, prompt.text, prompt.audio)
        stamp = _stamp(prompt.audio)  # before decoding: a change meanwhile renders again
        found = self._rendered.get(key)
        if found is not None and self._stamps.get(key) == stamp:
            return found
        stored = self._stored(prompt, voice, stamp)
        pcm = await asyncio.to_thread(self._load, stored)
        if pcm is None:
            parts: list[bytes] = []
            if prompt.audio:
                try:
                    data, rate = await asyncio.to_thread(
                        decode_prompt, prompt.audio, SAMPLE_RATE_HZ
                    )
                except UnplayableAudio as exc:
                    raise MenuFileError([unplayable(prompt, str(exc), exc.hint)]) from None
                parts.append(await asyncio.to_thread(_resample, data, rate))
                del data  # one copy of the audio at a time: prompts may be minutes long
            if prompt.text:
                data, rate = await self._speak(voice, prompt.text)
                parts.append(await asyncio.to_thread(_resample, data, rate))
                del data
            pcm = parts[0] if len(parts) == 1 else b"".join(parts)
            del parts
            await asyncio.to_thread(self._save, stored, pcm)
        rendered = Rendered(_frames(pcm), len(pcm) / 2 / SAMPLE_RATE_HZ)
        self._rendered[key], self._stamps[key] = rendered, stamp
        return rendered

    async def render_file(self, menu_file: MenuFile) -> int:
        """`render_all` for every prompt of a menu file, in the voices it can be heard in:
        each language's versions in that language's voice only (`MenuFile.voice_for`)."""
        languages = {code: language.voice for code, language in menu_file.languages.items()}
        return await self.render_all(
            list(menu_file.prompts()), voices_of(menu_file), languages=languages
        )

    async def render_all(
        self,
        prompts: Iterable[Prompt],
        voices: Iterable[str | None] = (None,),
        *,
        languages: Mapping[str, str] | None = None,
        report_every: float = 2.0,
    ) -> int:
        """Render, in every voice given, what is not cached yet or whose audio file changed;
        returns how many were rendered. A failure keeps what was rendered before. A prompt
        whose language `languages` names (language -> voice) is rendered in that voice only.

        A cloud voice can take minutes for a large file: past `report_every` seconds,
        progress is logged that often.
        """
        voices = tuple(voices)
        languages = languages or {}
        todo = {
            (v, p.text, p.audio): (p, v)
            for p in prompts
            for v in _voices_for(p, voices, languages)
            if self._fresh(p, v) is None
        }
        started = last = time.monotonic()
        for done, (prompt, voice) in enumerate(todo.values()):
            if time.monotonic() - last >= report_every:
                last = time.monotonic()
                # the voice of the prompt now, so an admin sees each language in its own
                log.info(
                    "rendering prompts in voice %s (of %s): %d of %d (%.0f s)",
                    voice or self.voice.name,
                    ", ".join(sorted({v or self.voice.name for v, _, _ in todo})),
                    done,
                    len(todo),
                    last - started,
                )
            await self.render(prompt, voice)
        return len(todo)
