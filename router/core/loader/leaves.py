"""The leaves of a menu file: names, words, numbers, durations, prompts, headers."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from router.core import format as fmt
from router.core import values
from router.core.durations import MAX_DURATION_S, parse_duration
from router.core.errors import Location
from router.core.loader.nodes import Fields, shape
from router.core.model import Prompt
from router.core.patterns import compiled
from router.core.suggest import did_you_mean, suggest
from router.core.values import header_name_problem, header_value_problem
from router.core.yamlsafe import Map, Node, Scalar

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["HINTS", "MAX_PROMPT_CHARS", "REQUIRED_HINTS", "Leaves"]

MAX_PROMPT_CHARS = 5_000
"""Characters of text in one message. Spoken at about 1,000 characters a minute, that is
five minutes: more than any menu's greeting, terms or address (a long one is 1,000).
Far beyond it, a message is a pasted document: 51 KB of text rendered for 12 s in
1.5 GB of memory into an hour of speech, at every load of the file."""
_EMPTY_PROMPT_HINT = 'write the text to say ("...") or {audio: file.wav}'
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})
_INT = r"^[+-]?[0-9]+$"


HINTS: Mapping[str, str] = {
    "announce": "say",
    "announcement": "say",
    "message": "say",
    "text": "say",
    "goto": "menu",
    "go_to": "menu",
    "submenu": "menu",
    "timeout": "timeouts",
    "dialtone": "play_dialtone",
    "ring_timeout": "ringing_timeout",
    "tz": "timezone",
    "time_zone": "timezone",
    "welcome": "greeting",
    "extensions": "directory",
    "keys": "options",
    "choices": "options",
    "target": "to",
    "uri": "to",
    "hang_up": "hangup",
    "on_transfer_failed": "on_transfer_failure",
    "on_fail": "on_failure",
}
REQUIRED_HINTS: Mapping[str, str] = {
    "version": "add 'version: 1' at the top of the file",
    "menus": "add a 'menus:' section with at least one menu",
    "greeting": "add 'greeting: \"...\"' saying the choices",
    "to": "add 'to: \"tel:+15105550100\"' (or a sip: URI)",
    "timezone": "add e.g. 'timezone: America/New_York'",
    "hours": "add e.g. 'hours: {mon-fri: \"09:00-17:00\"}'",
    "menu": "add 'menu: main'",
}


class Leaves:
    """One value of the menu file at a time: the value readers every concept shares."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loc, self.error, self.warn = ctx.loc, ctx.error, ctx.warn
        self.fields, self.entries, self.pairs = ctx.keys.fields, ctx.keys.entries, ctx.keys.pairs
        self._audio_cache: dict[str, str] = {}
        self._names: set[str] = set()
        """Values found to be usable names: a menu's name is matched once, not again at
        every option that goes to it (a regular expression costs as much as a prompt)."""

    def usable_name(self, value: str) -> bool:
        """Whether `value` is a usable name (`values.NAME_PATTERN`)."""
        if value in self._names:
            return True
        if compiled(values.NAME_PATTERN).match(value):
            self._names.add(value)
            return True
        return False

    def text(self, node: Node, what: str, *, empty_ok: bool = False) -> str | None:
        if type(node) is Scalar:
            if node.is_null:
                self.error(node, f"{what} is empty", code="empty-value")
                return None
            value: str = node.value
            if not empty_ok and not value.strip():
                self.error(node, f"{what} is empty", code="empty-value")
                return None
            return value
        self.error(node, f"{what} should be text, not a {shape(node)}", code="not-text")
        return None

    def name(self, node: Scalar, what: str) -> str | None:
        if self.usable_name(node.value):
            return node.value
        self.error(
            node,
            f"'{node.value}' is not a usable {what} name",
            hint="use letters, digits, _ and -, starting with a letter (e.g. after_hours)",
            code="bad-name",
        )
        return None

    def word(self, node: Node, words: tuple[str, ...], what: str) -> str | None:
        """One of a few words (`then: prompt | wait`)."""
        value = self.text(node, what)
        if value is None:
            return None
        if value.strip().lower() in words:
            return value.strip().lower()
        self.error(
            node,
            f"'{value}' is not one of: {', '.join(words)}",
            hint=did_you_mean(value.lower(), words),
            code="bad-value",
        )
        return None

    def opening_hours(
        self, f: Fields, what: str, where: dict[str, Location]
    ) -> tuple[str | None, str | None]:
        """`schedule: NAME` and `closed: MENU`, given both or neither: the same on a number's
        entry and on a caller rule. Records where each was written in `where`."""
        refs: dict[str, str | None] = {}
        for field_name in ("schedule", "closed"):
            if field_name in f:
                where[field_name] = self.loc(f[field_name])
                refs[field_name] = self.ref(f[field_name], f"the {field_name} of {what}")
        if ("schedule" in f) != ("closed" in f):
            missing, given = ("closed", "schedule") if "schedule" in f else ("schedule", "closed")
            self.error(
                f.key_nodes[given],
                f"{what} has a {given} but no {missing}",
                hint="give both: the schedule, and the menu for when it is closed",
                code="schedule-closed",
            )
        return refs.get("schedule"), refs.get("closed")

    def ref(self, node: Node, what: str) -> str | None:
        """The name of a menu, directory or schedule (existence is the checker's job)."""
        value = self.text(node, what)
        if value is None:
            return None
        if not self.usable_name(value):
            self.error(
                node,
                f"'{value}' is not a usable name for {what}",
                hint="names use letters, digits, _ and -, starting with a letter",
                code="bad-name",
            )
            return None
        return value

    def boolean(self, node: Node, what: str) -> bool | None:
        if type(node) is Scalar and node.plain:
            word = node.value.lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        self.error(node, f"{what} should be true or false", code="not-boolean")
        return None

    def integer(self, node: Node, what: str, minimum: int) -> int | None:
        if type(node) is Scalar and compiled(_INT).match(node.value):
            value = int(node.value)
            if value < minimum:
                self.error(
                    node, f"{what} must be at least {minimum}, not {value}", code="bad-limit"
                )
                return None
            return value
        self.error(node, f"{what} should be a whole number", code="not-integer")
        return None

    def duration(self, node: Node, what: str) -> float | None:
        if type(node) is not Scalar or node.is_null:
            self.error(
                node, f"{what} should be a duration like 5s, 1.5s, 500ms or 2m", code="bad-duration"
            )
            return None
        text: str = node.value
        seconds = parse_duration(text)
        if seconds is None:
            if text.strip().startswith("-"):
                self.error(node, f"{what} must be more than 0, not {text}", code="bad-duration")
            else:
                self.error(
                    node,
                    f"'{text}' is not a duration",
                    hint="write 5s, 1.5s, 500ms, 2m, or a number of seconds",
                    code="bad-duration",
                )
            return None
        if seconds <= 0:
            self.error(node, f"{what} must be more than 0", code="bad-duration")
            return None
        if seconds > MAX_DURATION_S:
            self.error(
                node,
                f"{what} of {text} is more than 10 minutes",
                hint="did you mean seconds (s) rather than minutes (m)?",
                code="bad-duration",
            )
            return None
        return seconds

    def audio(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        resolved = self._audio_cache.get(value)
        if resolved is None:
            resolved = str(self.ctx.base_dir / value) if not os.path.isabs(value) else value
            self._audio_cache[value] = resolved
        return resolved

    def prompt(self, node: Node, what: str) -> Prompt | None:
        """Text, or `{say: ..., audio: ...}`.

        Every empty form (`""`, `null`, `{}`, `{say: ""}`) is one error: the caller would
        hear silence, then "Sorry, I did not hear a choice."
        """
        if type(node) is Scalar:
            text = node.value
            if node.is_null or not text.strip():
                self._empty_prompt(node, what)
                return None
            if not self._short_enough(node, text, what):
                return None
            return Prompt(text, None, self.loc(node), self.ctx.language)
        if type(node) is Map and _by_language(node):
            if self.ctx.languages:
                return self.by_language(node, what)
            codes = [k.value for k, _ in node.pairs if type(k) is Scalar]
            if codes and all(
                compiled(values.LANGUAGE_PATTERN).match(code)
                and suggest(code, fmt.MESSAGE_MODIFIERS) is None
                for code in codes
            ):  # not `sey:`, which is a `say:` mistyped
                self.error(
                    node,
                    f"{what} is given by language ({', '.join(codes)}), but the file declares"
                    " no languages",
                    hint=f"declare them at the top: languages: [{', '.join(codes)}]",
                    code="unknown-language",
                )
                return None
        f = self.fields(node, fmt.PROMPT_LONG, what)
        if f is None:
            return None
        if type(node) is Map and not self.pairs(node):
            self._empty_prompt(node, what)
            return None
        return self.message(f, node, what)

    def by_language(self, node: Map, what: str) -> Prompt | None:
        """`{en: ..., es: {audio: ...}}`: one version per declared language, in the order
        of `languages`; the first is what code that knows no languages reads."""
        found: dict[str, Prompt] = {}
        for key, value in self.entries(node, what):
            code = key.value.strip()
            if code not in self.ctx.languages:
                self.error(
                    key,
                    f"'{code}' is not one of this file's languages "
                    f"({', '.join(self.ctx.languages)})",
                    hint="declare it under `languages`, or use one of those",
                    code="unknown-language",
                )
                continue
            if type(value) is Map and _by_language(value):
                self.error(
                    value,
                    f"the {code} of {what} is a prompt, not more languages",
                    code="bad-prompt",
                )
                continue
            version = self.prompt(value, f"the {code} of {what}")
            if version is not None:
                found[code] = Prompt(version.text, version.audio, version.loc, code)
        versions = tuple(found[code] for code in self.ctx.languages if code in found)
        if not versions:
            return None
        first = versions[0]
        return Prompt(first.text, first.audio, self.loc(node), first.language, versions)

    def _short_enough(self, node: Node, text: str, what: str) -> bool:
        """False (and said) for text too long to be a message (`MAX_PROMPT_CHARS`)."""
        if len(text) <= MAX_PROMPT_CHARS:
            return True
        self.error(
            node,
            f"{what} is {len(text):,} characters long, about {len(text) // 1_000} minutes "
            f"of speech; a message may have at most {MAX_PROMPT_CHARS:,}",
            hint="shorten it; callers hang up long before the end",
            code="prompt-too-long",
        )
        return False

    def _empty_prompt(self, node: Node, what: str) -> None:
        self.error(node, f"{what} is empty", hint=_EMPTY_PROMPT_HINT, code="empty-value")

    def message(self, f: Mapping[str, Node], node: Node, what: str) -> Prompt | None:
        """The `say` and `audio` keys of a mapping, as one prompt (None if neither is there)."""
        say_node = f.get("say")
        audio_node = f.get("audio")
        if say_node is None and audio_node is None:
            return None
        if type(say_node) is Map and self.ctx.languages:
            if audio_node is not None:
                self.error(
                    audio_node,
                    f"{what} gives its text per language, so its recording goes there too",
                    hint="write {es: {say: ..., audio: file.wav}} for each language",
                    code="audio-with-languages",
                )
            return self.by_language(say_node, f"the 'say' of {what}")
        text = None
        if type(say_node) is Scalar:
            if say_node.is_null or not say_node.value.strip():
                self._empty_prompt(say_node, f"the 'say' of {what}")
            elif self._short_enough(say_node, say_node.value, what):
                text = say_node.value
        elif say_node is not None:
            self.text(say_node, f"the 'say' of {what}")  # says it is no text
        audio = None if audio_node is None else self.audio(audio_node, f"the 'audio' of {what}")
        if text is None and audio is None:
            return None
        # located at the file, the part of a prompt that can be wrong after loading
        return Prompt(
            text,
            audio,
            self.loc(audio_node if audio_node is not None else say_node),  # type: ignore[arg-type]
            self.ctx.language,
        )

    def language_ref(self, node: Node, what: str) -> str | None:
        """A language code a number, a caller rule or an option switches to (whether the
        file declares it is `router.core.languages`'s to say, with the other language rules)."""
        value = self.text(node, what)
        if value is None:
            return None
        if not compiled(values.LANGUAGE_PATTERN).match(value.strip()):
            self.error(
                node,
                f"'{value}' is not a language code",
                hint=f"write one of this file's languages: {', '.join(self.ctx.languages)}"
                if self.ctx.languages
                else "write a language code, like en or es",
                code="bad-language",
            )
            return None
        return value.strip()

    def headers(self, node: Node, what: str) -> dict[str, str] | None:
        out: dict[str, str] = {}
        for key, value in self.entries(node, f"the headers of {what}"):
            name = key.value
            if type(value) is not Scalar or value.is_null:
                self.error(value, f"the value of header '{name}' should be text", code="bad-header")
                continue
            problem = header_name_problem(name)
            if problem is not None:
                self.error(key, problem.message, hint=problem.hint, code="bad-header")
                continue
            problem = header_value_problem(name, value.value)
            if problem is not None:
                self.error(value, problem.message, hint=problem.hint, code="bad-header")
                continue
            out[name] = value.value
        return out


def _by_language(node: Map) -> bool:
    """Whether a prompt's mapping is keyed by language (anything but `say` and `audio`)."""
    return any(type(k) is Scalar and k.value not in fmt.MESSAGE_MODIFIERS for k, _ in node.pairs)
