"""The voices the built-in speech engine (espeak-ng) knows, read from its data files.

`router check` verifies a menu's `voice:` against them without starting the engine
or importing anything of LiveKit: the `espeakng-loader` wheel ships espeak-ng's data,
and a voice is a small text file under `lang/` whose file name and `name` line are
what `espeak_SetVoiceByName` accepts (case-insensitively), and whose `language` lines
say which language tags it speaks (`es-419` speaks `es-mx`).

Which engine speaks is the caller's to say (`SpeechEngine`, chosen at the edges from the
`voice` setting, router/settings.py): the core reads no environment.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from functools import lru_cache

from router.core.patterns import compiled
from router.core.suggest import suggestions

__all__ = [
    "EspeakVoice",
    "SpeechEngine",
    "is_english",
    "known_voices",
    "looks_like_language",
    "voice_problem",
]

_LANGUAGE_TAG = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"


class SpeechEngine(enum.Enum):
    """What speaks the menus, which decides whose voice names a menu's `voice:` is in."""

    ESPEAK = "espeak"
    """The built-in espeak-ng (`--voice espeak[:VOICE]`): its voices are checked."""
    PLUGIN = "plugin"
    """A livekit-agents TTS plugin (`--voice module:Class`): its voice names are its own."""

    @classmethod
    def of(cls, spec: str) -> SpeechEngine:
        """The engine of a `--voice` / `ROUTER_VOICE` value (`espeak`, `espeak:es-419`,
        `livekit.plugins.cartesia:TTS`); blank is the built-in, as the setting's default."""
        spec = spec.strip()
        if not spec or spec == "espeak" or spec.startswith("espeak:"):
            return cls.ESPEAK
        return cls.PLUGIN


@dataclass(frozen=True, slots=True)
class EspeakVoice:
    file: str
    """The voice's file name: what menus usually write (`es-419`)."""
    name: str
    """Its `name` line (`Spanish (Latin America)`), also accepted."""
    languages: tuple[str, ...]
    """The language tags it speaks, lower case (`es-419`, `es-mx`)."""


@lru_cache(maxsize=1)
def _voice_files() -> tuple[tuple[str, str], ...] | None:
    """(file name, path) of each voice file under espeak-ng's `lang/`, or None when the
    engine is not installed. The data folder is found as `espeakng_loader.get_data_path()`
    finds it (upstream espeakng_loader/__init__.py: `espeak-ng-data` beside the package)
    without importing the package, which loads ctypes and platform for its library."""
    from importlib.util import find_spec

    try:
        spec = find_spec("espeakng_loader")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = os.path.join(list(spec.submodule_search_locations)[0], "espeak-ng-data", "lang")
    found = [
        (file, os.path.join(folder, file)) for folder, _, files in os.walk(root) for file in files
    ]
    return tuple(found) or None  # a wheel without data: the runtime says so itself


@lru_cache(maxsize=1)
def known_voices() -> tuple[EspeakVoice, ...] | None:
    """espeak-ng's voices, or None when the engine is not installed (nothing to check)."""
    files = _voice_files()
    if files is None:
        return None
    found: list[EspeakVoice] = []
    for file, path in files:
        name, languages = file, []
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and parts[0] == "name":
                        name = line.split(None, 1)[1].strip()
                    elif len(parts) >= 2 and parts[0] == "language":
                        languages.append(parts[1].lower())
        except OSError:
            continue
        found.append(EspeakVoice(file, name, tuple(languages)))
    return tuple(sorted(found, key=lambda v: v.file.lower())) or None


def looks_like_language(voice: str) -> bool:
    """`es`, `es-419`, `pt-BR`: a language tag, as espeak-ng voices are named."""
    return bool(compiled(_LANGUAGE_TAG).match(voice))


def is_english(voice: str | None) -> bool:
    """The router's own voice (None) and voices whose language is English."""
    return voice is None or voice.lower().replace("_", "-").split("-")[0] in ("en", "english")


def voice_problem(voice: str, engine: SpeechEngine) -> tuple[str, str | None] | None:
    """Why espeak-ng cannot speak with `voice`, with the voices it could mean; None if it can
    (or if espeak-ng is not installed, or `engine` is a TTS plugin, whose names are its own)."""
    if engine is not SpeechEngine.ESPEAK:
        return None
    files = _voice_files()
    if files is None:
        return None
    wanted = voice.strip().lower()
    if any(wanted == file.lower() for file, _ in files):
        return None  # a voice's file name, as most menus write it: no file needs reading
    voices = known_voices()
    if voices is None:
        return None
    if any(wanted in (v.file.lower(), v.name.lower()) for v in voices):
        return None
    tag = wanted.replace("_", "-")
    meant: list[str] = [v.file for v in voices if tag in v.languages]
    base = tag.split("-")[0]
    meant += [v.file for v in voices if v.file.lower() == base]
    meant += [v.file for v in voices if wanted in v.name.lower() and "(" in v.name]
    meant += [v.file for v in voices if v.name.lower() == wanted.split()[0]]
    if not meant:
        meant = suggestions(voice, [v.file for v in voices], 2)
    unique = list(dict.fromkeys(meant))[:3]
    hint = (
        "did you mean " + " or ".join(f"'{m}'" for m in unique) + "?"
        if unique
        else "espeak-ng voices are named like en-us, es, es-419, fr, de, pt-BR"
    )
    return f"espeak-ng has no voice '{voice}'", hint
