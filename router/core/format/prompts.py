"""What callers hear, and in which language: prompts, messages by language, `languages`."""

from __future__ import annotations

from router.core.format.spec import TEXT, Field, ListOf, MapOf, Obj, OneOf, Text
from router.core.values import LANGUAGE_PATTERN

__all__ = [
    "BY_LANGUAGE",
    "LANGUAGE",
    "LANGUAGES",
    "PROMPT",
    "PROMPT_LONG",
    "SAID",
    "SWITCH_LANGUAGE",
]

PROMPT_LONG = Obj(
    (
        Field("say", TEXT, "Text spoken to the caller."),
        Field(
            "audio",
            TEXT,
            "A recording (wav, mp3, ogg), relative to this file's folder; played before the text.",
        ),
    ),
    doc="Text, a recording, or both (the recording first).",
    min_fields=1,
)
BY_LANGUAGE = MapOf(
    LANGUAGE_PATTERN,
    OneOf((Text(doc="Text spoken to the caller."), PROMPT_LONG)),
    doc='The prompt in each of the file\'s `languages`: `{en: "...", es: {audio: x.wav}}`.',
    key_doc="A language declared under `languages`.",
    min_entries=1,
)
PROMPT = OneOf(
    (Text(doc="Text spoken to the caller."), PROMPT_LONG, BY_LANGUAGE),
    doc="Something the caller hears.",
)
SAID = OneOf(
    (Text(doc="Text spoken to the caller."), BY_LANGUAGE),
    doc="Text spoken to the caller, or one per language (`{en: ..., es: ...}`).",
)
LANGUAGE = Text(
    pattern=LANGUAGE_PATTERN,
    doc="A language declared under `languages`.",
    examples=("en", "es"),
)
SWITCH_LANGUAGE = OneOf(
    (
        LANGUAGE,
        MapOf(
            LANGUAGE_PATTERN,
            LANGUAGE,
            doc="By the caller's language now (a toggle: `{en: fr, fr: en}`); a caller in a"
            " language not listed keeps it.",
            key_doc="A language declared under `languages`: the caller's language now.",
            min_entries=1,
        ),
    ),
    doc="A language declared under `languages`, or one per language the caller is in.",
)
LANGUAGES = OneOf(
    (
        ListOf(LANGUAGE, doc="Language codes; each is spoken in the voice of its own name."),
        MapOf(
            LANGUAGE_PATTERN,
            Obj(
                (
                    Field(
                        "voice",
                        Text(examples=("en-us", "es", "es-419")),
                        "The voice that speaks this language (default: its code).",
                    ),
                ),
            ),
            key_doc="A language code: `en`, `es`, `es-419`.",
            min_entries=1,
        ),
    ),
    doc="The languages prompts are given in; the first is the default. Each prompt is then"
    " a mapping by language (`greeting: {en: ..., es: ...}`).",
)
