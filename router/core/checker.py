"""The rules a menu file must follow beyond its shape: what the loader cannot see locally.

The rules that judge one written value (`router.core.values`, `router.core.timezones`)
are applied by the loader as it reads each value, so a finding points at the exact
spot and is reported once, however many menus inherit the value. The rules here
need every menu at once:

    errors                                    warnings
    - a menu, destination, directory or       - a menu nothing reaches
      schedule that does not exist (a         - on_limit that keeps callers in the
      number's, a caller rule's)                menu (repeat, say)
    - menus that lead only to each other,     - a caller rule item an earlier rule
      with no option that transfers, hangs      catches
      up or leaves (a loop with no way out;
      back, top, repeat, on_limit and
      failure policies are moves too)
    - a caller rule an earlier one catches
      entirely
    - hold audio muted by the dial tone
    - an audio file that does not exist

`check` runs them with the rules of other concepts, each in its module: loops of menus
with no way out (`router.core.loops`), a directory's extensions
(`router.core.extensions`), the voices that say each menu's texts
(`router.core.spoken`) and the rules of `languages` (`router.core.languages`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from router.core.errors import Location, Problem
from router.core.extensions import ExtensionRules
from router.core.findings import Findings
from router.core.languages import LanguageRules
from router.core.loops import LoopRules
from router.core.model import (
    Action,
    CallerPattern,
    CallerRule,
    FailurePolicy,
    GoTo,
    MenuFile,
    Repeat,
    Say,
    Transfer,
)
from router.core.spoken import VoiceRules
from router.core.suggest import did_you_mean
from router.core.voices import SpeechEngine

__all__ = ["check"]

# --- whole-file rules ----------------------------------------------------------------------


def check(
    menu_file: MenuFile,
    *,
    incomplete: frozenset[str] = frozenset(),
    base_dir: str | os.PathLike[str] | None = None,
    engine: SpeechEngine = SpeechEngine.ESPEAK,
) -> list[Problem]:
    """Every whole-file finding about `menu_file`, errors and warnings, in no particular order.

    `incomplete` names menus the loader could not read in full; rules that would only
    repeat the loader's finding in other words (unreachable, no way out) skip them.
    `base_dir` is the folder audio paths were resolved against (default: the file's
    folder); messages show paths relative to it, as the admin wrote them. `engine` is what
    speaks the menus (the caller's `voice` setting, router/settings.py; default the
    built-in espeak-ng), whose voice names the menus' voices are judged against.
    """
    return _Checker(menu_file, incomplete, base_dir, engine).run()


class _Checker:
    def __init__(
        self,
        menu_file: MenuFile,
        incomplete: frozenset[str],
        base_dir: str | os.PathLike[str] | None,
        engine: SpeechEngine,
    ) -> None:
        self.mf = menu_file
        self.engine = engine
        self.base_dir = os.fspath(base_dir) if base_dir is not None else None
        self.incomplete = incomplete
        self.findings = Findings()
        self.problems = self.findings.problems
        self.report = self.findings.report
        self._policy_leads: dict[int, set[str]] = {}
        """The menus each failure policy (by identity) can lead to."""

    def run(self) -> list[Problem]:
        edges = self.references()
        self.unreachable(edges)
        extensions = ExtensionRules(self.mf, self.findings)
        for directory in self.mf.directories.values():
            extensions.directory_rules(directory)
        for menu in self.mf.menus.values():
            extensions.shadowing(menu)
        self.caller_rules()
        self.hold_audio()
        LoopRules(self.mf, self.findings).no_way_out(self.entry_menus(), self.incomplete)
        self.audio_files()
        if not self.mf.languages:  # else each language names its voice (`router.core.languages`)
            VoiceRules(self.mf, self.findings, self.engine).voices()
        LanguageRules(self.mf, self.findings, self.engine).languages()
        self.caller_hours()
        return self.problems

    # -- references -------------------------------------------------------------------

    def menu_ref(self, name: str, loc: Location, what: str) -> bool:
        if name in self.mf.menus:
            return True
        self.report(
            loc,
            f"{what} names menu '{name}', which does not exist"
            if what
            else f"there is no menu named '{name}'",
            hint=did_you_mean(name, self.mf.menus),
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
                    hint=did_you_mean(entry.schedule, mf.schedules),
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
                        hint=did_you_mean(menu.directory, mf.directories),
                        code="unknown-directory",
                    )
            for action in menu.options.values():
                self.action_refs(action, found)
            # the no-input limit's own action (`on_limit: {no_input: ...}`) is checked as
            # the other one is: it was not, and a menu it named that did not exist loaded
            for on_limit in menu.limit_actions:
                self.action_refs(on_limit, found)
                if isinstance(on_limit, Repeat | Say):
                    self.report(
                        on_limit.loc,
                        f"on_limit '{type(on_limit).__name__.lower()}' keeps callers "
                        "in the menu for ever",
                        hint="send them to a person (transfer) or end the call (hangup)",
                        code="on-limit-stays",
                        warning=True,
                    )
            if menu.on_transfer_failure is not None:
                self.policy_refs(menu.on_transfer_failure, found)
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
                    hint=did_you_mean(action.destination, self.mf.destinations)
                    or "define it under `destinations`, or write a tel: or sip: URI",
                    code="unknown-destination",
                )
            if action.on_failure is not None:
                self.policy_refs(action.on_failure, found)

    def policy_refs(self, policy: FailurePolicy, found: set[str]) -> None:
        # each policy followed once: most are shared (the file's defaults, in every menu)
        leads = self._policy_leads.get(id(policy))
        if leads is None:
            leads = self._policy_leads[id(policy)] = set()
            for action in (policy.busy, policy.no_answer, policy.rejected, policy.error):
                self.action_refs(action, leads)
        found |= leads

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

    def caller_hours(self) -> None:
        """A caller rule's `schedule` and `closed` name things that exist, as a number's do
        (`references`). Run after the other rules: a rule's unknown `closed` menu does not
        hide the menus nothing reaches (a menu a rule's `closed` names is an entry:
        `entry_menus`)."""
        for rule in self.mf.callers:
            what = f"caller rule '{rule.name}'"
            for kind, field_name, name, known in (
                ("schedule", "schedule", rule.schedule, self.mf.schedules),
                ("menu", "closed", rule.closed, self.mf.menus),
            ):
                if name is None or name in known:
                    continue
                self.report(
                    rule.where.get(field_name, rule.loc),
                    f"{what} names {kind} '{name}', which does not exist",
                    hint=did_you_mean(name, known) or f"add it under {kind}s",
                    code=f"unknown-{kind}",
                )

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
