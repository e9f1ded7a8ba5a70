"""The rules of a file's `languages`: one menu tree spoken in several languages.

A file that declares `languages` gives each prompt per language (`greeting: {en: ...,
es: ...}`); a caller hears every prompt in the language of the call (the number's, a
caller rule's, or the last one an option switched to), in that language's voice.
These rules need the whole file, so the checker runs them (`LanguageRules`, reporting
into its `Findings` as the other whole-file rules do):

    errors                                     warnings
    - a language's voice the speech engine     - a prompt with text, not given in one
      does not know                              of the languages (callers in it hear
    - a number, caller rule or option that       the default language's text, in its
      names a language the file does not        voice): at the prompt's line
      declare (each key and value of a         - the router's own words (messages.*,
      toggle `{en: fr, fr: en}`), or any          the built-in goodbyes) left in English
      `language:` in a file without              for a language that is not English
      `languages`                              - a toggle that leaves out a declared
    - a `voice:` (defaults, a number's           language (its callers keep theirs)
      defaults, a menu) beside `languages`,
      where each language names its voice

A missing version is a warning, not an error: the call still works (the default
language's words, spoken in its own voice, never silence), and an admin adding a
language can ship the menus as they are translated; `router check` lists each line
still to do. A recording without text (`{audio: music.wav}`) has no language.
"""

from __future__ import annotations

from router.core.errors import Location
from router.core.findings import Findings
from router.core.model import NOWHERE, GoTo, MenuFile, Prompt, Repeat
from router.core.spoken import language_of, spoken
from router.core.voices import SpeechEngine, voice_problem

__all__ = ["LanguageRules", "missing_languages"]


def missing_languages(prompt: Prompt, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The declared languages a prompt with text is not given in (in declared order); none
    for a recording alone, which has no language."""
    versions = prompt.versions or (prompt,)
    if not any(v.text for v in versions):
        return ()
    given = prompt.languages
    return tuple(code for code in languages if code not in given)


class LanguageRules:
    """The rules of one menu file's languages, reporting into `findings`; voices are judged
    as `engine` names them (the caller's setting; default the built-in)."""

    def __init__(
        self, menu_file: MenuFile, findings: Findings, engine: SpeechEngine = SpeechEngine.ESPEAK
    ) -> None:
        self.mf = menu_file
        self.report = findings.report
        self.engine = engine

    def languages(self) -> None:
        """Every finding about the file's languages (see the module docstring)."""
        self.references()
        if not self.mf.languages:
            return
        self.toggles()
        self.voices()
        self.missing()
        self.builtin_words()

    def references(self) -> None:
        """Languages named by numbers, caller rules and options, that the file must declare."""
        named: list[tuple[Location, str, str]] = [
            (entry.where.get("language", entry.loc), entry.language, f"number {entry.number}")
            for entry in self.mf.entries.values()
            if entry.language
        ]
        named += [
            (rule.loc, rule.language, f"caller rule '{rule.name}'")
            for rule in self.mf.callers
            if rule.language
        ]
        switches: list[GoTo | Repeat] = list(self.mf.values_of(GoTo | Repeat))  # type: ignore[arg-type]
        named += [
            (action.loc, action.language, "this option") for action in switches if action.language
        ]
        for action in switches:
            for turn in action.turns:
                named.append((turn.when_loc, turn.when, "this option"))
                named.append((turn.to_loc, turn.to, "this option"))
        for loc, code, what in named:
            if not self.mf.languages:
                self.report(
                    loc,
                    f"{what} switches to language '{code}', but the file declares no languages",
                    hint="declare them at the top:"
                    f" languages: {{en: {{voice: en-us}}, {code}: ...}}",
                    code="unknown-language",
                )
            elif code not in self.mf.languages:
                self.report(
                    loc,
                    f"{what} names language '{code}', which is not one of this file's languages"
                    f" ({', '.join(self.mf.languages)})",
                    hint="declare it under `languages`, or use one of those",
                    code="unknown-language",
                )

    def toggles(self) -> None:
        """A `language: {en: fr, fr: en}` that leaves out a declared language: its callers keep
        their language (the option only moves them on), most likely a language added since."""
        seen: set[Location] = set()
        for action in self.mf.values_of(GoTo | Repeat):  # type: ignore[arg-type]
            if not action.turns or action.turns[0].when_loc in seen:
                continue
            seen.add(action.turns[0].when_loc)
            listed = {turn.when for turn in action.turns}
            left = [code for code in self.mf.languages if code not in listed]
            if left:
                self.report(
                    action.turns[0].when_loc,
                    f"this option switches no caller in {', '.join(left)}: they keep their"
                    " language",
                    hint="add " + ", ".join(f"{code}: ..." for code in left) + " to its language",
                    code="language-not-switched",
                    warning=True,
                )

    def voices(self) -> None:
        for language in self.mf.languages.values():
            problem = voice_problem(language.voice, self.engine)
            if problem is not None:
                self.report(language.loc, problem[0], hint=problem[1], code="unknown-voice")
        written = {menu.where["voice"] for menu in self.mf.menus.values() if "voice" in menu.where}
        for loc in sorted(written, key=lambda at: (at.line, at.column)):
            self.report(
                loc,
                "with languages, each language names its voice: this voice would only speak"
                " the router's own words",
                hint="remove it, and set the voice under languages: (es: {voice: es-419})",
                code="voice-with-languages",
            )

    def missing(self) -> None:
        codes = tuple(self.mf.languages)
        seen: set[Location] = set()
        for prompt in self.mf.values_of(Prompt):
            if prompt.loc == NOWHERE or prompt.loc in seen:
                continue
            seen.add(prompt.loc)
            missing = missing_languages(prompt, codes)
            if not missing:
                continue
            heard = prompt.in_language(missing[0])
            names = ", ".join(missing)
            self.report(
                prompt.loc,
                f"this prompt is not given in {names}: callers in {names} hear it in"
                f" {heard.language or codes[0]}",
                hint="write it per language: {" + ", ".join(f"{c}: ..." for c in codes) + "}",
                code="missing-language",
                warning=True,
            )

    def builtin_words(self) -> None:
        """The router's own words the file leaves as they are (English), in a call that can be
        in another language: named once, at the languages' line."""
        foreign = [c for c in self.mf.languages if language_of(c) not in (None, "en")]
        if not foreign:
            return
        english: dict[str, str] = {}
        for items in spoken(self.mf).values():
            for what, prompt in items:
                if prompt.loc == NOWHERE and prompt.text and not prompt.versions:
                    english.setdefault(what, prompt.text)
        if not english:
            return
        said = "; ".join(f'{name} "{text}"' for name, text in english.items())
        per_language = ", ".join(f"{c}: ..." for c in self.mf.languages)
        self.report(
            next(iter(self.mf.languages.values())).loc,
            f"callers in {', '.join(foreign)} could hear the router's English words: {said}",
            hint=f"give them per language ({{{per_language}}}), once in `defaults` or where the"
            " file sets them",
            code="english-words",
            warning=True,
        )
