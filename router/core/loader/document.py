"""The whole menu file, read in dependency order: destinations before what names them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from router.core import format as fmt
from router.core.loader.callers import Callers
from router.core.loader.context import Context
from router.core.loader.directories import Directories
from router.core.loader.menus import BUILTIN_ON_LIMIT, Menus, _Inherited
from router.core.loader.nodes import Fields, shape
from router.core.loader.numbers import Numbers
from router.core.loader.schedules import Schedules
from router.core.loader.transfers import BUILTIN_FAILURE_POLICY, policy_with
from router.core.model import Language, Limits, Menu, MenuFile, Messages, Timeouts
from router.core.yamlsafe import Node, Scalar, Seq

__all__ = ["MenuReader"]


class MenuReader:
    """One conversion of one file's node tree into a `MenuFile`: each concept read by its
    own reader, all on one `Context` (the problems found are `ctx.problems`)."""

    def __init__(self, file: str, base_dir: Path) -> None:
        ctx = self.ctx = Context.build(file, base_dir)
        self.loc, self.error = ctx.loc, ctx.error
        self.keys, self.leaves, self.transfers = ctx.keys, ctx.leaves, ctx.transfers
        self.menus = Menus(ctx)
        self.numbers = Numbers(ctx, self.menus)
        self.callers = Callers(ctx)
        self.directories = Directories(ctx)
        self.schedules = Schedules(ctx)

    def read(self, root: Node, version: str) -> MenuFile | None:
        """The whole file, in dependency order: destinations before anything that names them."""
        f = self.keys.fields(root, fmt.FILE, "the menu file")
        if f is None:
            return None
        version_node = f.get("version")  # when missing, fields() has said so
        if version_node is not None and not (
            type(version_node) is Scalar and version_node.value.strip() == "1"
        ):
            shown = version_node.value if type(version_node) is Scalar else shape(version_node)
            self.error(
                version_node,
                f"version '{shown}' is not supported",
                hint="this router reads version: 1",
                code="bad-version",
            )
        menus_node = f.get("menus")
        self.ctx.languages = self.declared_languages(f.get("languages"))
        self.ctx.language = next(iter(self.ctx.languages), None)

        defaults = self.keys.fields(f.get("defaults"), fmt.DEFAULTS, "defaults") or Fields()
        self.transfers.settings = self.transfers.transfer_settings(defaults.get("transfer"))
        destinations = self.transfers.destinations(f.get("destinations"))
        self.transfers.policy = policy_with(
            BUILTIN_FAILURE_POLICY,
            self.transfers.failure_partial(
                defaults.get("on_transfer_failure"),
                "defaults: on_transfer_failure",
                BUILTIN_FAILURE_POLICY,
            )
            or {},
        )
        builtin = _Inherited(
            Timeouts(),
            Limits(),
            Messages(),
            (BUILTIN_ON_LIMIT, BUILTIN_ON_LIMIT),
            # the router's own (English) words are spoken in the default language's voice
            self.ctx.languages[self.ctx.language].voice if self.ctx.language else None,
        )
        inherited = self.menus.inherited(defaults, builtin, self.transfers.policy, "defaults")

        directories = self.directories.directories(f.get("directories"))
        schedules = self.schedules.schedules(f.get("schedules"))
        menus: dict[str, Menu] = {}
        menu_nodes: dict[str, tuple[Node, Node]] = {}
        for key, node in self.keys.entries(menus_node, "menus"):
            name = self.leaves.name(key, "menu")
            if name is None:
                continue
            self.ctx.part = name
            menus[name] = self.menus.menu(name, key, node, inherited)
            menu_nodes[name] = (key, node)
            self.ctx.part = None
        if menus_node is not None and not menus and not self.ctx.problems:
            self.error(menus_node, "there are no menus", code="no-menus")
        entries = self.numbers.numbers(
            f.get("numbers"), f.key_nodes.get("numbers"), menus, inherited
        )
        self.numbers.number_defaults(entries, menus, menu_nodes)
        callers = self.callers.callers(f.get("callers"))
        for name, dest in self.transfers.dests.items():
            partial = self.transfers.dest_failure(dest)
            if partial:
                destinations[name] = replace(
                    dest.transfer, on_failure=policy_with(self.transfers.policy, partial)
                )
        return MenuFile(
            path=self.ctx.file,
            version=version,
            menus=menus,
            entries=entries,
            destinations=destinations,
            directories=directories,
            schedules=schedules,
            callers=callers,
            languages=self.ctx.languages,
        )

    def declared_languages(self, node: Node | None) -> dict[str, Language]:
        """`languages: [en, es]` or `{en: {voice: en-us}, es: {voice: es}}`, the default
        first; a language's voice is its own code unless it names one."""
        out: dict[str, Language] = {}
        if node is None:
            return out
        if type(node) is Seq:
            items: list[tuple[Node, Node | None]] = [(item, None) for item in node.items]
        else:
            items = list(self.keys.entries(node, "languages"))
        for key, value in items:
            code = self.leaves.language_ref(key, "a language")
            if code is None:
                continue
            if code in out:
                self.error(key, f"language '{code}' is declared twice", code="duplicate-name")
                continue
            voice = code
            if value is not None and not (type(value) is Scalar and value.is_null):
                own = self.keys.fields(value, fmt.LANGUAGES.options[1].value, f"language {code}")  # type: ignore[attr-defined]
                if own and "voice" in own:
                    voice = self.leaves.text(own["voice"], f"the voice of language {code}") or code
            out[code] = Language(code, voice.strip(), self.loc(key))
        if type(node) is Seq and not node.items:
            self.error(node, "languages is empty", hint="list them: [en, es]", code="empty-value")
        return out
