"""The rules a menu file must follow beyond its shape: what the loader cannot see locally.

The rules that judge one written value (`router.core.values`, `router.core.timezones`)
are applied by the loader as it reads each value, so a finding points at the exact
spot and is reported once, however many menus inherit the value. The rules here
need every menu at once:

    errors                                    warnings
    - a menu, destination, directory or       - a menu nothing reaches
      schedule that does not exist            - directory entries that are the start
    - an option key that is also a one-digit    of longer ones (callers must press #
      directory entry (the option wins, the     or wait)
      entry is unreachable)                   - an option key that starts longer
                                                entries (it waits inter_digit)
                                              - on_limit that keeps callers in the
    - a directory entry that an earlier one     menu (repeat, say)
      already covers entirely
    - menus that lead only to each other, with
      no option that transfers, hangs up or
      leaves (a loop with no way out; back,
      top, repeat, on_limit and failure
      policies are moves too)
    - an audio file that does not exist
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping

from router.core.errors import Location, Problem, Severity
from router.core.keys import Key
from router.core.model import (
    NOWHERE,
    Action,
    Back,
    CallerPattern,
    CallerRule,
    Directory,
    DirectoryEntry,
    FailureKind,
    FailurePolicy,
    GoTo,
    Menu,
    MenuFile,
    Prompt,
    Repeat,
    Say,
    Top,
    Transfer,
)
from router.core.voices import is_english, looks_like_language, voice_problem

__all__ = [
    "check",
    "language_of",
    "spoken",
]

# --- whole-file rules ----------------------------------------------------------------------


def check(
    menu_file: MenuFile,
    *,
    incomplete: frozenset[str] = frozenset(),
    base_dir: str | os.PathLike[str] | None = None,
) -> list[Problem]:
    """Every whole-file finding about `menu_file`, errors and warnings, in no particular order.

    `incomplete` names menus the loader could not read in full; rules that would only
    repeat the loader's finding in other words (unreachable, no way out) skip them.
    `base_dir` is the folder audio paths were resolved against (default: the file's
    folder); messages show paths relative to it, as the admin wrote them.
    """
    return _Checker(menu_file, incomplete, base_dir).run()


_ALL_DIGITS = (1 << 10) - 1
Product = tuple[int, ...]
"""A set of extensions of one length, as one bitmask of allowed digits per position."""


class _Checker:
    def __init__(
        self,
        menu_file: MenuFile,
        incomplete: frozenset[str],
        base_dir: str | os.PathLike[str] | None,
    ) -> None:
        self.mf = menu_file
        self.base_dir = os.fspath(base_dir) if base_dir is not None else None
        self.incomplete = incomplete
        self.problems: list[Problem] = []
        self._reported: set[tuple[Location, str]] = set()
        self._products: dict[str, list[Product]] = {}

    def report(
        self,
        loc: Location,
        message: str,
        *,
        hint: str | None = None,
        code: str,
        warning: bool = False,
    ) -> None:
        if (loc, message) in self._reported:  # inherited values are seen once per menu
            return
        self._reported.add((loc, message))
        severity = Severity.WARNING if warning else Severity.ERROR
        self.problems.append(Problem(loc, message, severity, hint, code))

    def run(self) -> list[Problem]:
        edges = self.references()
        self.unreachable(edges)
        for directory in self.mf.directories.values():
            self.directory_rules(directory)
        for menu in self.mf.menus.values():
            self.shadowing(menu)
        self.caller_rules()
        self.hold_audio()
        self.no_way_out()
        self.audio_files()
        if not self.mf.languages:  # else each language names its voice (`router.core.languages`)
            self.voices()
        return self.problems

    # -- references -------------------------------------------------------------------

    def _suggest(self, name: str, names: Mapping[str, object]) -> str | None:
        close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
        return f"did you mean '{close[0]}'?" if close else None

    def menu_ref(self, name: str, loc: Location, what: str) -> bool:
        if name in self.mf.menus:
            return True
        self.report(
            loc,
            f"{what} names menu '{name}', which does not exist"
            if what
            else f"there is no menu named '{name}'",
            hint=self._suggest(name, self.mf.menus),
            code="unknown-menu",
        )
        return False

    def references(self) -> dict[str, set[str]]:
        """Report dangling names; return, per menu, the menus it can lead to (any way)."""
        mf = self.mf
        for entry in mf.entries.values():
            what = "number 'default'" if entry.number == "default" else f"number {entry.number}"
            self.menu_ref(entry.menu, entry.where.get("menu", entry.loc), what)
            if entry.closed:
                self.menu_ref(entry.closed, entry.where.get("closed", entry.loc), what)
            if entry.schedule and entry.schedule not in mf.schedules:
                self.report(
                    entry.where.get("schedule", entry.loc),
                    f"{what} names schedule '{entry.schedule}', which does not exist",
                    hint=self._suggest(entry.schedule, mf.schedules),
                    code="unknown-schedule",
                )
        for rule in mf.callers:
            self.action_refs(rule.action, set())
        directory_targets: dict[str, set[str]] = {}
        for directory in mf.directories.values():
            found: set[str] = set()
            for item in directory.entries:
                self.action_refs(item.action, found)
            directory_targets[directory.name] = found
        for transfer in mf.destinations.values():
            self.action_refs(transfer, set())
        edges: dict[str, set[str]] = {}
        for menu in mf.menus.values():
            found = set()
            if menu.directory is not None:
                if menu.directory in mf.directories:
                    found |= directory_targets[menu.directory]
                else:
                    self.report(
                        menu.where.get("directory", menu.loc),
                        f"menu '{menu.name}' uses directory '{menu.directory}', "
                        "which does not exist",
                        hint=self._suggest(menu.directory, mf.directories),
                        code="unknown-directory",
                    )
            for action in menu.options.values():
                self.action_refs(action, found)
            self.action_refs(menu.on_limit, found)
            if menu.on_transfer_failure is not None:
                self.policy_refs(menu.on_transfer_failure, found)
            if isinstance(menu.on_limit, Repeat | Say):
                self.report(
                    menu.on_limit.loc,
                    f"on_limit '{type(menu.on_limit).__name__.lower()}' keeps callers "
                    "in the menu for ever",
                    hint="send them to a person (transfer) or end the call (hangup)",
                    code="on-limit-stays",
                    warning=True,
                )
            edges[menu.name] = found
        return edges

    def action_refs(self, action: Action | None, found: set[str]) -> None:
        if isinstance(action, GoTo):
            if self.menu_ref(action.menu, action.loc, ""):
                found.add(action.menu)
        elif isinstance(action, Transfer):
            if action.destination is not None and action.destination not in self.mf.destinations:
                self.report(
                    action.loc,
                    f"there is no destination named '{action.destination}'",
                    hint=self._suggest(action.destination, self.mf.destinations)
                    or "define it under `destinations`, or write a tel: or sip: URI",
                    code="unknown-destination",
                )
            if action.on_failure is not None:
                self.policy_refs(action.on_failure, found)

    def policy_refs(self, policy: FailurePolicy, found: set[str]) -> None:
        for action in (policy.busy, policy.no_answer, policy.rejected, policy.error):
            self.action_refs(action, found)

    def caller_rules(self) -> None:
        """Caller rules that can never match: every caller they name is caught by an
        earlier rule (an error), or some are (a warning naming the item)."""
        earlier: list[tuple[CallerPattern, CallerRule]] = []
        for rule in self.mf.callers:
            covered: list[tuple[CallerPattern, CallerPattern, CallerRule]] = []
            for pattern in rule.patterns:
                by = next(((q, r) for q, r in earlier if q.covers(pattern)), None)
                if by is not None:
                    covered.append((pattern, *by))
            if covered and len(covered) == len(rule.patterns):
                pattern, q, r = covered[0]
                self.report(
                    rule.loc,
                    f"caller rule '{rule.name}' can never match: '{q.text}' of rule "
                    f"'{r.name}' (line {q.loc.line}) comes first and catches "
                    + ("all its callers" if len(covered) > 1 else f"'{pattern.text}'"),
                    hint="the first matching rule wins; put exceptions above wider prefixes",
                    code="shadowed-caller-rule",
                )
            else:
                for pattern, q, r in covered:
                    self.report(
                        pattern.loc,
                        f"'{pattern.text}' in caller rule '{rule.name}' never matches: '{q.text}'"
                        f" of rule '{r.name}' (line {q.loc.line}) comes first and catches it",
                        hint="the first matching rule wins; remove it, or put it in a rule above",
                        code="shadowed-caller",
                        warning=True,
                    )
            earlier += [(p, rule) for p in rule.patterns]

    def hold_audio(self) -> None:
        """Hold audio with `play_dialtone: true`: LiveKit's dial tone mutes the room's
        audio to the caller in the SIP bridge, so the hold audio would never be heard."""
        for transfer in self.mf.values_of(Transfer):
            hold = transfer.settings.hold
            if hold and transfer.settings.play_dialtone:
                self.report(
                    hold.loc,
                    "this hold audio is never heard: play_dialtone is true for the transfers"
                    " that use it, and LiveKit's dial tone mutes the router's audio to the caller",
                    hint="set play_dialtone: false where the hold audio is set, or drop the"
                    " hold audio to keep the dial tone",
                    code="hold-with-dialtone",
                )

    # -- reachability -------------------------------------------------------------------

    def entry_menus(self) -> set[str]:
        out: set[str] = set()
        for entry in self.mf.entries.values():
            out.add(entry.menu)
            if entry.closed:
                out.add(entry.closed)
        for rule in self.mf.callers:
            found: set[str] = set()
            self.action_refs(rule.action, found)
            out |= found
            if rule.closed:  # a rule's own hours, read as a number's
                out.add(rule.closed)
        return out

    def unreachable(self, edges: Mapping[str, set[str]]) -> None:
        if self.incomplete or any(p.code == "unknown-menu" for p in self.problems):
            return  # a broken menu or reference cuts paths: fix the errors first
        seen = {m for m in self.entry_menus() if m in self.mf.menus}
        todo = list(seen)
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for menu in self.mf.menus.values():
            if menu.name not in seen and menu.name not in self.incomplete:
                self.report(
                    menu.loc,
                    f"menu '{menu.name}' is never reached: no number, option or limit leads to it",
                    hint="add an option {menu: " + menu.name + "} somewhere, or remove it",
                    code="unreachable",
                    warning=True,
                )

    # -- loops with no way out ----------------------------------------------------------

    def no_way_out(self) -> None:
        """Menus that only lead to each other: the caller is stuck in them.

        Every way a call moves between menus is an edge, not only `menu:`: `back` (to
        any menu that enters this one, or staying put in an entry menu), `top` (to the
        entry menus that reach this one), `repeat` and `say` (staying), and the same
        verbs in `on_limit` and in the failure policies of its transfers. A loop of
        menus is a trap unless one of its *options* (what a caller can choose) transfers,
        hangs up, dials an extension, or moves to a menu outside the loop; a limit
        reached is a way to be thrown out, not a way out.
        """
        menus = self.mf.menus
        entries = self.entry_menus() & menus.keys()
        moves = {name: self._moves(menu) for name, menu in menus.items()}
        entered_from: dict[str, set[str]] = {name: set() for name in menus}
        for name, actions in moves.items():
            for action, _ in actions:
                if isinstance(action, GoTo) and action.menu in menus:
                    entered_from[action.menu].add(name)
        tops = (
            self._entries_reaching(entries, moves)
            if any(isinstance(a, Top) for actions in moves.values() for a, _ in actions)
            else {}
        )

        def targets(name: str, action: Action) -> set[str]:
            if isinstance(action, GoTo):
                return {action.menu} if action.menu in menus else set()
            if isinstance(action, Back):
                return entered_from[name] | ({name} if name in entries else set())
            if isinstance(action, Top):
                return tops.get(name, set())
            if isinstance(action, Repeat | Say):
                return {name}
            return set()  # a transfer or a hang-up ends the menu part of the call

        graph = {
            name: sorted({t for action, _ in moves[name] for t in targets(name, action)})
            for name in menus
        }
        for component in _strongly_connected(graph):
            members = set(component)
            if members & self.incomplete:
                continue
            # a way out: an option that ends the menus (transfer, hang-up: no target),
            # one that leads out of the loop, or extensions to dial
            if any(
                not (found := targets(m, action)) or not found <= members
                for m in component
                for action, chosen in moves[m]
                if chosen
            ) or any(self._has_extensions(menus[m]) for m in component):
                continue
            first = min((menus[m] for m in component), key=lambda m: (m.loc.line, m.loc.column))
            if len(component) == 1:
                message = (
                    f"menu '{first.name}' has no way out: no option transfers, hangs up "
                    "or leads to another menu"
                )
            else:
                names = ", ".join(
                    f"'{m}'" for m in sorted(component, key=lambda m: menus[m].loc.line)
                )
                message = (
                    f"menus {names} lead only to each other: no option transfers, hangs up "
                    "or leads elsewhere"
                )
            self.report(
                first.loc,
                message,
                hint='give callers a way on, e.g. "0": {transfer: operator}',
                code="no-way-out",
            )

    def _moves(self, menu: Menu) -> list[tuple[Action, bool]]:
        """Every action that can run in `menu`, and whether the caller chose it (an option)
        or it happened to them (`on_limit`, a failure policy of a transfer made here)."""
        out: list[tuple[Action, bool]] = [(a, True) for a in menu.options.values()]
        out.append((menu.on_limit, False))
        seen: set[int] = set()
        todo = [a for a, _ in out if isinstance(a, Transfer)]
        while todo:
            transfer = todo.pop()
            policy = transfer.on_failure or menu.on_transfer_failure
            if policy is None or id(policy) in seen:
                continue
            seen.add(id(policy))
            for action in (policy.busy, policy.no_answer, policy.rejected, policy.error):
                out.append((action, False))
                if isinstance(action, Transfer):
                    todo.append(action)
        return out

    def _entries_reaching(
        self, entries: set[str], moves: Mapping[str, list[tuple[Action, bool]]]
    ) -> dict[str, set[str]]:
        """For each menu, the entry menus from which `menu:` steps reach it (where `top` goes)."""
        out: dict[str, set[str]] = {}
        for entry in entries:
            seen = {entry}
            todo = [entry]
            while todo:
                for action, _ in moves[todo.pop()]:
                    if isinstance(action, GoTo) and action.menu in moves:
                        if action.menu not in seen:
                            seen.add(action.menu)
                            todo.append(action.menu)
            for name in seen:
                out.setdefault(name, set()).add(entry)
        return out

    def _has_extensions(self, menu: Menu) -> bool:
        directory = self.mf.directories.get(menu.directory) if menu.directory else None
        return directory is not None and bool(directory.entries)

    # -- directories ----------------------------------------------------------------------

    def products(self, entry: DirectoryEntry) -> list[Product]:
        found = self._products.get(entry.pattern)
        if found is None:
            if "-" in entry.pattern:
                low, high = entry.pattern.split("-")
                found = _range_products(low, high)
            else:
                found = [tuple(_ALL_DIGITS if c == "x" else 1 << int(c) for c in entry.pattern)]
            self._products[entry.pattern] = found
        return found

    def directory_rules(self, directory: Directory) -> None:
        by_length: dict[int, list[DirectoryEntry]] = {}
        for entry in directory.entries:
            by_length.setdefault(entry.length, []).append(entry)
        # Same length: an entry wholly covered by an earlier one is never used (first match wins).
        for same in by_length.values():
            exact: dict[str, DirectoryEntry] = {}
            general: list[DirectoryEntry] = []
            for entry in same:
                shadow = exact.get(entry.pattern)
                if shadow is None:
                    mine = self.products(entry)
                    shadow = next(
                        (
                            g
                            for g in general
                            if all(any(_within(p, q) for q in self.products(g)) for p in mine)
                        ),
                        None,
                    )
                if shadow is not None:
                    self.report(
                        entry.loc,
                        f"extension '{entry.pattern}' in directory '{directory.name}' "
                        "is never used: "
                        f"'{shadow.pattern}' (line {shadow.loc.line}) comes first and covers it",
                        hint="the first matching entry wins; put exceptions above patterns",
                        code="covered-extension",
                    )
                    continue
                if entry.pattern.isdigit():
                    exact[entry.pattern] = entry
                else:
                    general.append(entry)
        # Different lengths: a shorter entry that starts a longer one makes callers wait.
        lengths = sorted(by_length)
        for i, short_len in enumerate(lengths):
            shorter = by_length[short_len]
            short_exact = {e.pattern: e for e in shorter if e.pattern.isdigit()}
            short_general = [e for e in shorter if not e.pattern.isdigit()]
            longer_of: dict[str, DirectoryEntry] = {}
            for long_len in lengths[i + 1 :]:
                for long in by_length[long_len]:
                    if long.pattern.isdigit():
                        hit = short_exact.get(long.pattern[:short_len])
                        if hit is not None:
                            longer_of.setdefault(hit.pattern, long)
                        candidates = short_general
                    else:
                        candidates = shorter
                    for short in candidates:
                        if short.pattern in longer_of:
                            continue
                        if self._starts(short, long):
                            longer_of[short.pattern] = long
            for short in shorter:
                first_long = longer_of.get(short.pattern)
                if first_long is not None:
                    self.report(
                        short.loc,
                        f"extension '{short.pattern}' in directory '{directory.name}' "
                        "is also the start of "
                        f"'{first_long.pattern}' (line {first_long.loc.line})",
                        hint=f"callers who dial {short.pattern} must then press # or wait",
                        code="extension-prefix",
                        warning=True,
                    )

    def _starts(self, short: DirectoryEntry, long: DirectoryEntry) -> bool:
        """Some extension of `short` is the beginning of some extension of `long`."""
        n = short.length
        return any(
            all(a & b for a, b in zip(p, q[:n], strict=True))
            for p in self.products(short)
            for q in self.products(long)
        )

    def shadowing(self, menu: Menu) -> None:
        """An option key that is also the first digit of extensions.

        A one-digit extension equal to an option can never be dialled: an error. A key
        that starts longer extensions works as every PBX auto attendant does (after the
        key, the router waits `inter_digit` for more digits; none: the option), so it is
        a warning that says how long the key waits.
        """
        if menu.directory is None:
            return
        directory = self.mf.directories.get(menu.directory)
        if directory is None:
            return
        for key in menu.options:
            if not key.is_digit:
                continue
            bit = 1 << int(key.value)
            starting = [e for e in directory.entries if any(p[0] & bit for p in self.products(e))]
            if not starting:
                continue
            loc = menu.where.get(f"options.{key.value}", menu.options[key].loc)
            same = next((e for e in starting if e.length == 1), None)
            if same is not None:
                self.report(
                    loc,
                    f"key {key.value} in menu '{menu.name}' is both an option and extension "
                    f"'{same.pattern}' of directory '{directory.name}' (line {same.loc.line}); "
                    "the option always wins, so the extension can never be dialled here",
                    hint=self._free_keys_hint(menu, directory),
                    code="shadowed-extension",
                )
                continue
            longer = starting[0]
            wait = _seconds(menu.timeouts.inter_digit)
            self.report(
                loc,
                f"key {key.value} in menu '{menu.name}' also starts extension "
                f"'{longer.pattern}' of directory '{directory.name}' (line {longer.loc.line}), "
                f"so after {key.value} the router waits {wait} (inter_digit) for more digits "
                "before acting on it",
                hint=f"{key.value} then # acts at once; for a key that never waits, "
                + self._free_keys_hint(menu, directory, short=True),
                code="option-starts-extension",
                warning=True,
            )

    def _free_keys_hint(self, menu: Menu, directory: Directory, *, short: bool = False) -> str:
        """Keys neither an option nor the start of an extension: the admin's choices."""
        used = 0
        for entry in directory.entries:
            for p in self.products(entry):
                used |= p[0]
        free = [
            str(d) for d in range(1, 10) if not used & (1 << d) and Key(str(d)) not in menu.options
        ]
        if not used & 1 and Key.D0 not in menu.options:
            free.append("0")
        free += [k.value for k in (Key.STAR, Key.POUND) if k not in menu.options]
        if not free:
            return "change the extensions so that none starts with an option's key"
        keys = ", ".join(free)
        if short:
            return f"use a free key ({keys}) or change the extensions"
        return f"use a free key ({keys}), or change the extensions"

    # -- voices and the router's own words ---------------------------------------------

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
            problem = voice_problem(menu.voice)
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
            actions = [menu.on_limit, menu.on_no_input_limit]
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

    # -- audio ------------------------------------------------------------------------------

    def audio_files(self) -> None:
        exists: dict[str, bool] = {}
        folder = self.base_dir or os.path.dirname(os.path.abspath(self.mf.path or "."))
        for prompt in self.mf.prompts():
            if prompt.audio is None:
                continue
            ok = exists.get(prompt.audio)
            if ok is None:
                ok = exists[prompt.audio] = os.path.isfile(prompt.audio)
            if not ok:
                shown = os.path.relpath(prompt.audio, folder) if folder else prompt.audio
                self.report(
                    prompt.loc,
                    f"audio file '{shown}' does not exist",
                    hint="paths are relative to the menu file's folder",
                    code="missing-audio",
                )


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
        if menu.on_no_input_limit is None:
            actions.append(("on_limit", menu.on_limit))
        else:
            actions += [("on_limit", menu.on_limit), ("on_limit", menu.on_no_input_limit)]
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


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _within(p: Product, q: Product) -> bool:
    return all(a & ~b == 0 for a, b in zip(p, q, strict=True))


def _range_products(low: str, high: str) -> list[Product]:
    """The extensions low..high (same length) as a few per-position digit sets."""
    n = len(low)
    if low == "0" * n and high == "9" * n:
        return [(_ALL_DIGITS,) * n]
    if n == 1:
        return [(sum(1 << d for d in range(int(low), int(high) + 1)),)]
    if low[0] == high[0]:
        head = 1 << int(low[0])
        return [(head, *p) for p in _range_products(low[1:], high[1:])]
    out = [(1 << int(low[0]), *p) for p in _range_products(low[1:], "9" * (n - 1))]
    middle = sum(1 << d for d in range(int(low[0]) + 1, int(high[0])))
    if middle:
        out.append((middle,) + (_ALL_DIGITS,) * (n - 1))
    out += [(1 << int(high[0]), *p) for p in _range_products("0" * (n - 1), high[1:])]
    return out


def _strongly_connected(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm without recursion (10,000 menus would overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            recurse = False
            while i < len(successors):
                nxt = successors[i]
                i += 1
                if nxt not in index:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out
