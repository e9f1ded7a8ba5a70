"""Recorded prompts: audio files decoded to PCM, and what to say when one cannot be.

wav is read with the standard library; everything else (mp3, ogg, flac, compressed
wav...) with PyAV, which livekit-agents already depends on. A file that exists but
cannot be played is a problem of the menu file, reported where the file is named,
so `router check`, a reload and a start all refuse it the same way.
"""

from __future__ import annotations

import os
import wave

from router.core.errors import Problem, RouterError
from router.core.model import Prompt

__all__ = [
    "MAX_RECORDING_S",
    "TooLong",
    "UnplayableAudio",
    "audio_problems",
    "decode_file",
    "decode_prompt",
    "mono",
    "unplayable",
]


class UnplayableAudio(RouterError):
    """An audio file that cannot be decoded, or that holds no sound; says why in one phrase."""

    hint = "use a wav, mp3 or ogg file with sound in it"


def mono(pcm: bytes, channels: int) -> bytes:
    if channels == 1:
        return pcm
    import numpy as np

    samples = np.frombuffer(pcm, dtype=np.int16).reshape(-1, channels)
    return bytes(samples.mean(axis=1).astype(np.int16).tobytes())


MAX_RECORDING_S = 600.0
"""The longest recording a message may be: ten minutes. A menu's recordings are
greetings and announcements of seconds to a minute or two; an hour-long file (a
podcast, hold music saved as the greeting) would be decoded into memory at every
load of the file, for every call's process."""


class TooLong(UnplayableAudio):
    """A recording longer than MAX_RECORDING_S; found before it is decoded whole."""

    hint = "cut it to what callers need to hear"


def _too_long(seconds: float) -> TooLong:
    return TooLong(
        f"it is {seconds / 60:.0f} minutes long; a recording may last at most "
        f"{MAX_RECORDING_S / 60:.0f} minutes"
    )


def decode_file(path: str, rate_hz: int) -> tuple[bytes, int]:
    """Mono s16 PCM and its rate (Hz): a 16-bit wav as written, anything else resampled to
    `rate_hz`.

    A recording over MAX_RECORDING_S raises `TooLong`: a wav from its header,
    anything else as soon as decoding passes the limit, so memory stays bounded.
    """
    if path.lower().endswith(".wav"):
        try:
            with wave.open(path, "rb") as w:
                if w.getsampwidth() == 2:
                    seconds = w.getnframes() / max(w.getframerate(), 1)
                    if seconds > MAX_RECORDING_S:
                        raise _too_long(seconds)
                    pcm = w.readframes(w.getnframes())
                    return mono(pcm, w.getnchannels()), w.getframerate()
        except wave.Error:
            pass  # e.g. a float or compressed wav: let PyAV try
    import av

    parts: list[bytes] = []
    limit = int(MAX_RECORDING_S * rate_hz)
    samples = 0
    with av.open(path) as container:
        if container.duration is not None and container.duration / 1e6 > MAX_RECORDING_S:
            raise _too_long(container.duration / 1e6)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate_hz)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                parts.append(bytes(out.planes[0])[: out.samples * 2])
                samples += out.samples
            if samples > limit:  # the header did not say (or lied): stop decoding here
                raise _too_long(samples / rate_hz)
        for out in resampler.resample(None):
            parts.append(bytes(out.planes[0])[: out.samples * 2])
    return b"".join(parts), rate_hz


def decode_prompt(path: str, rate_hz: int) -> tuple[bytes, int]:
    """`decode_file`, with every way a file can fail turned into `UnplayableAudio`."""
    try:
        pcm, got = decode_file(path, rate_hz)
    except TooLong:
        raise
    except Exception as exc:  # PyAV, wave, numpy and the OS each fail their own way
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UnplayableAudio(reason[:1].lower() + reason[1:]) from exc
    if not pcm:
        raise UnplayableAudio("it holds no sound")
    return pcm, got


def unplayable(prompt: Prompt, reason: str, hint: str = UnplayableAudio.hint) -> Problem:
    """The menu file's problem for a prompt whose audio file cannot be played."""
    assert prompt.audio is not None
    folder = os.path.dirname(os.path.abspath(prompt.loc.file))
    shown = os.path.relpath(prompt.audio, folder) if prompt.loc.file else prompt.audio
    return Problem(
        prompt.loc,
        f"audio file '{shown}' cannot be played: {reason}",
        hint=hint,
        code="bad-audio",
    )


def audio_problems(prompts: list[Prompt], rate_hz: int = 16_000) -> list[Problem]:
    """Decode every existing audio file once; a problem at each place that names a bad one.

    Missing files are the checker's to report (it needs no decoder).
    """
    reasons: dict[str, UnplayableAudio | None] = {}
    found: list[Problem] = []
    for prompt in prompts:
        path = prompt.audio
        if path is None or not os.path.isfile(path):
            continue
        if path not in reasons:
            try:
                decode_prompt(path, rate_hz)
                reasons[path] = None
            except UnplayableAudio as exc:
                reasons[path] = exc
        reason = reasons[path]
        if reason is not None:
            found.append(unplayable(prompt, str(reason), reason.hint))
    return found
