"""What each menu can make its caller hear, and the rules about the voices that say it.

`spoken` lists, per menu, every text the menu can say in its voice (its prompts, the
router's own messages, announcements, failure messages); `languages` and the voice
rules read it. The voice rules apply to a file without `languages` (with them, each
language names its voice: `router.core.languages`):

    errors                                     warnings
    - a menu's voice the speech engine does    - a menu whose voice is not English
      not know (the router would refuse the      that could say the router's built-in
      file)                                      English words
                                               - one text of the file said in menus
                                                 whose voices speak different languages

Run by `router.core.checker.check`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from router.core.errors import Location
from router.core.findings import Findings
from router.core.model import (
    NOWHERE,
    Action,
    FailureKind,
    FailurePolicy,
    GoTo,
    Menu,
    MenuFile,
    Prompt,
    Transfer,
)
from router.core.voices import SpeechEngine, is_english, looks_like_language, voice_problem

__all__ = ["VoiceRules", "language_of", "spoken"]


class VoiceRules:
    """The voice rules of one menu file, reporting into `findings`; voices are judged as
    `engine` names them."""

    def __init__(self, menu_file: MenuFile, findings: Findings, engine: SpeechEngine) -> None:
        self.mf = menu_file
        self.report = findings.report
        self.engine = engine

    def voices(self) -> None:
        """A voice the speech engine does not know (the router would refuse the file); a
        menu whose voice is not English that could still say a built-in English text; and
        one text of the file said in menus whose voices speak different languages (a
        destination's announcement, a `defaults` message...). The last two read the same
        list: what each menu can make its caller hear (`spoken`)."""
        foreign: list[Menu] = []
        for menu in self.mf.menus.values():
            if menu.voice is None:
                continue
            where = menu.where.get("voice", menu.loc)
            problem = voice_problem(menu.voice, self.engine)
            if problem is not None:
                self.report(where, problem[0], hint=problem[1], code="unknown-voice")
            elif language_of(menu.voice) not in (None, "en"):
                foreign.append(menu)
        if not foreign:
            return  # every menu English (or unknown): no English words, no second language
        heard = spoken(self.mf)
        for menu in foreign:
            english: dict[str, str] = {}
            for what, prompt in heard.get(menu.name, ()):
                if prompt.loc == NOWHERE and prompt.text and what not in english:
                    english[what] = prompt.text
            if english:
                # every one named: an admin fixes them all at once, none hides behind
                # "and 2 more"; the hint names the sections they are set in
                said = "; ".join(f'{name} "{text}"' for name, text in english.items())
                sections = sorted({name.split(".")[0] for name in english})
                self.report(
                    menu.loc,
                    f"menu '{menu.name}' speaks {menu.voice} but could say the router's "
                    f"English words: {said}",
                    hint=f"set {' and '.join(sections)} in the menu, or once in the "
                    f"`defaults` of its number (numbers: ...: defaults: {sections[0]}: ...) "
                    "or of the file",
                    code="english-words",
                    warning=True,
                )
        self.shared_texts(heard)

    def shared_texts(self, heard: Mapping[str, list[tuple[str, Prompt]]]) -> None:
        """One text of the file, heard in menus whose voices speak different languages."""
        said_in: dict[tuple[Location, str | None, str | None], dict[str, str]] = {}
        for name, items in heard.items():
            menu = self.mf.menus[name]
            language = language_of(menu.voice)
            if language is None:
                continue  # a TTS plugin's voice name: its language is unknown
            for _, prompt in items:
                if prompt.loc == NOWHERE:
                    continue
                key = (prompt.loc, prompt.text, prompt.audio)
                said_in.setdefault(key, {}).setdefault(name, language)
        owners = self._destination_prompts()
        inherited = self._inheritable_prompts()
        # the same words written on several lines (a destination's four failure kinds)
        # and heard in the same menus are one finding, at the first of them
        grouped: dict[tuple[str | None, str | None, tuple[tuple[str, str], ...]], list[Location]]
        grouped = {}
        for (loc, text, audio), menus in said_in.items():
            if len(set(menus.values())) >= 2:
                grouped.setdefault((text, audio, tuple(sorted(menus.items()))), []).append(loc)
        for (text, audio, pairs), locs in grouped.items():
            locs.sort(key=lambda loc: (loc.line, loc.column))
            loc, menus = locs[0], dict(pairs)
            shown = f'"{_short(text)}"' if text else f"the recording '{audio}'"
            also = ", ".join(str(other.line) for other in locs[1:])
            if also:
                shown += f" (line {loc.line}, also line{'s' if len(locs) > 2 else ''} {also})"
            by_voice: dict[str | None, list[str]] = {}
            for name in sorted(menus, key=lambda m: (self.mf.menus[m].loc.line, m)):
                by_voice.setdefault(self.mf.menus[name].voice, []).append(name)
            listed = "; ".join(
                ", ".join(f"'{m}'" for m in names[:3])
                + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                + f" ({_voice_name(voice)})"
                for voice, names in by_voice.items()
            )
            destination = None if loc in inherited else owners.get(loc)
            if destination is not None:
                hint = (
                    f"give each language its own copy of destination '{destination}' "
                    f"(e.g. {destination}_{_other_language(menus)}, with the words in that "
                    f"language), or put the message on the option: "
                    f"{{transfer: {destination}, say: ...}}"
                )
            elif loc in inherited:
                hint = (
                    "set it once per line, in the `defaults` of each number "
                    "(numbers: ...: defaults: ...), or in the menus themselves"
                )
            else:
                hint = "write it once per language: a copy for each voice"
            self.report(
                loc,
                f"{shown} is said in menus with different voices: {listed}; callers of "
                "one of them hear it in the wrong language",
                hint=hint,
                code="mixed-language-text",
                warning=True,
            )

    def _inheritable_prompts(self) -> set[Location]:
        """Where the texts menus inherit (`messages`, `on_limit`, `on_transfer_failure`)
        were written: in `defaults` when menus of different voices share them."""
        out: set[Location] = set()
        for menu in self.mf.menus.values():
            m = menu.messages
            prompts: list[Prompt | None] = [
                m.invalid,
                m.no_input,
                m.transfer_limit,
                m.key_limit,
                m.call_limit,
            ]
            actions = list(menu.limit_actions)
            if menu.on_transfer_failure is not None:
                actions += [menu.on_transfer_failure.for_kind(k) for k in FailureKind]
            prompts += [getattr(a, "message", None) for a in actions]
            out.update(p.loc for p in prompts if p is not None and p.loc != NOWHERE)
        return out

    def _destination_prompts(self) -> dict[Location, str]:
        """Where each text a destination says (its `say`, its `on_failure`) was written."""
        out: dict[Location, str] = {}
        for name, transfer in self.mf.destinations.items():
            for _, prompt in _transfer_texts(transfer, transfer.on_failure, "", set()):
                if prompt.loc != NOWHERE:
                    out.setdefault(prompt.loc, name)
        return out


def spoken(menu_file: MenuFile) -> dict[str, list[tuple[str, Prompt]]]:
    """What each menu can make its caller hear, in its voice: `(what, prompt)` pairs by
    menu name, `what` naming the text as the file does (`messages.invalid`, `on_limit`,
    `the on_failure of option 1: busy`). Exact where it is cheap: `messages.invalid` only
    when a wrong key does not reach the limit at once (`limits.invalid` above 1), failure
    policies and `messages.transfer_limit` only in menus that can transfer. A message of
    `{menu: X, say: ...}` is heard in X's voice (the router speaks it on arrival)."""
    out: dict[str, list[tuple[str, Prompt]]] = {name: [] for name in menu_file.menus}
    for name, menu in menu_file.menus.items():
        mine = out[name]
        mine += [("greeting", menu.greeting), ("prompt", menu.prompt)]
        messages = menu.messages
        if menu.limits.invalid > 1:
            mine.append(("messages.invalid", messages.invalid))
        if menu.limits.no_input > 1:
            mine.append(("messages.no_input", messages.no_input))
        actions: list[tuple[str, Action]] = [
            (f"option {key.value}", action) for key, action in menu.options.items()
        ]
        actions += [("on_limit", action) for action in menu.limit_actions]
        directory = menu_file.directories.get(menu.directory or "")
        if directory is not None:
            actions += [(f"extension {entry.pattern}", entry.action) for entry in directory.entries]
        transfers = False
        seen: set[int] = set()
        for what, action in actions:
            for owner, said, prompt in _action_texts(action, what, menu, seen):
                out[owner if owner in out else name].append((said, prompt))
            transfers = transfers or isinstance(action, Transfer)
        if transfers:
            mine.append(("messages.transfer_limit", messages.transfer_limit))
        mine += [("messages.key_limit", messages.key_limit)]
        mine += [("messages.call_limit", messages.call_limit)]
    for items in out.values():
        items[:] = [(what, prompt) for what, prompt in items if prompt]
    return out


def _action_texts(
    action: Action, what: str, menu: Menu, seen: set[int]
) -> Iterator[tuple[str, str, Prompt]]:
    """(the menu whose voice says it, what it is, the text) for an action run in `menu`."""
    message = getattr(action, "message", None)
    if isinstance(action, GoTo):
        if message is not None:
            yield action.menu, what, message
        return
    if message is not None:
        yield menu.name, what, message
    if isinstance(action, Transfer):
        policy = action.on_failure or menu.on_transfer_failure
        name = f"the on_failure of {what}" if action.on_failure else "on_transfer_failure"
        for said, prompt in _transfer_texts(action, policy, name, seen):
            yield menu.name, said, prompt
        if policy is not None:
            for kind in FailureKind:
                then = policy.for_kind(kind)
                if isinstance(then, GoTo) and then.message is not None:
                    yield then.menu, f"{name}: {kind.value}", then.message
                elif isinstance(then, Transfer) and id(then) not in seen:
                    yield from _action_texts(then, f"{name}: {kind.value}", menu, seen)


def _transfer_texts(
    transfer: Transfer, policy: FailurePolicy | None, name: str, seen: set[int]
) -> Iterator[tuple[str, Prompt]]:
    """A transfer's announcement and its failure policy's messages (not the transfers it
    leads to: `_action_texts` follows those, once each)."""
    seen.add(id(transfer))
    if transfer.settings.announce is not None:
        yield "the announcement of a transfer", transfer.settings.announce
    if policy is None:
        return
    for kind in FailureKind:
        then = policy.for_kind(kind)
        message = getattr(then, "message", None)
        if message is not None and not isinstance(then, GoTo):
            yield f"{name}: {kind.value}" if name else kind.value, message


def language_of(voice: str | None) -> str | None:
    """The language a voice speaks, as its tag's first part (`es` for `es-419`); `en` for
    the router's own voice (None); None when the name is not a language tag (a TTS
    plugin's voice name, whose language the checker cannot know)."""
    if is_english(voice):
        return "en"
    assert voice is not None
    if not looks_like_language(voice):
        return None
    return voice.lower().replace("_", "-").split("-")[0]


def _voice_name(voice: str | None) -> str:
    return "the router's voice" if voice is None else f"voice {voice}"


def _other_language(menus: Mapping[str, str]) -> str:
    """A language of these menus that is not English (for a name like `front_desk_es`)."""
    return next((lang for lang in sorted(set(menus.values())) if lang != "en"), "es")


def _short(text: str | None, limit: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
