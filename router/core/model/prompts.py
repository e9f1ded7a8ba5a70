"""What a caller hears: a `Prompt` (text, a recording, or both), in one language or several."""

from __future__ import annotations

from dataclasses import dataclass

from router.core.errors import Location
from router.core.model.locations import NOWHERE

__all__ = ["Prompt"]


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something the caller hears: spoken text, a recorded file, or both (file, then text)."""

    text: str | None = None
    audio: str | None = None
    """Path of a wav/mp3/ogg file, resolved against the menu file's folder."""
    loc: Location = NOWHERE
    language: str | None = None
    """The language of this text (a code of the file's `languages`); None in a file that
    declares none (spoken in the menu's voice)."""
    versions: tuple[Prompt, ...] = ()
    """The prompt in each declared language it was given in (`{en: ..., es: ...}`), in
    the order of the file's `languages`, each with its `language`; then `text`, `audio`
    and `language` are those of the first version. Empty for a prompt in one language."""

    def __bool__(self) -> bool:
        return bool(self.text or self.audio)

    def in_language(self, language: str | None) -> Prompt:
        """What a caller in `language` hears: the version in that language, else the first
        version given (the default language's when there is one), else this prompt."""
        for version in self.versions:
            if version.language == language:
                return version
        return self.versions[0] if self.versions else self

    @property
    def languages(self) -> frozenset[str]:
        """The languages this prompt is given in (empty: a file without languages)."""
        if self.versions:
            return frozenset(v.language for v in self.versions if v.language)
        return frozenset((self.language,)) if self.language else frozenset()
