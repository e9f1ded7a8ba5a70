"""The whole menu file, read in dependency order: destinations before what names them."""

from __future__ import annotations

from dataclasses import replace

from router.core import format as fmt
from router.core.loader.callers import Callers
from router.core.loader.directories import Directories
from router.core.loader.menus import BUILTIN_ON_LIMIT, _Inherited
from router.core.loader.nodes import Fields, shape
from router.core.loader.numbers import Numbers
from router.core.loader.schedules import Schedules
from router.core.loader.transfers import BUILTIN_FAILURE_POLICY, policy_with
from router.core.model import Language, Limits, Menu, MenuFile, Messages, Timeouts
from router.core.yamlsafe import Node, Scalar, Seq

__all__ = ["MenuReader"]


class MenuReader(Numbers, Callers, Directories, Schedules):
    """One conversion of one file's node tree into a `MenuFile`."""

    def read(self, root: Node, version: str) -> MenuFile | None:
        """The whole file, in dependency order: destinations before anything that names them."""
        f = self.fields(root, fmt.FILE, "the menu file")
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
        self.languages = self.declared_languages(f.get("languages"))
        self.language = next(iter(self.languages), None)

        defaults = self.fields(f.get("defaults"), fmt.DEFAULTS, "defaults") or Fields()
        self.settings = self.transfer_settings(defaults.get("transfer"))
        destinations = self.destinations(f.get("destinations"))
        self.policy = policy_with(
            BUILTIN_FAILURE_POLICY,
            self.failure_partial(
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
            self.languages[self.language].voice if self.language else None,
        )
        inherited = self.inherited(defaults, builtin, self.policy, "defaults")

        directories = self.directories(f.get("directories"))
        schedules = self.schedules(f.get("schedules"))
        menus: dict[str, Menu] = {}
        menu_nodes: dict[str, tuple[Node, Node]] = {}
        for key, node in self.entries(menus_node, "menus"):
            name = self.name(key, "menu")
            if name is None:
                continue
            self._menu = name
            menus[name] = self.menu(name, key, node, inherited)
            menu_nodes[name] = (key, node)
            self._menu = None
        if menus_node is not None and not menus and not self.problems:
            self.error(menus_node, "there are no menus", code="no-menus")
        entries = self.numbers(f.get("numbers"), f.key_nodes.get("numbers"), menus, inherited)
        self.number_defaults(entries, menus, menu_nodes)
        callers = self.callers(f.get("callers"))
        for name, dest in self.dests.items():
            partial = self.dest_failure(dest)
            if partial:
                destinations[name] = replace(
                    dest.transfer, on_failure=policy_with(self.policy, partial)
                )
        return MenuFile(
            path=self.file,
            version=version,
            menus=menus,
            entries=entries,
            destinations=destinations,
            directories=directories,
            schedules=schedules,
            callers=callers,
            languages=self.languages,
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
            items = list(self.entries(node, "languages"))
        for key, value in items:
            code = self.language_ref(key, "a language")
            if code is None:
                continue
            if code in out:
                self.error(key, f"language '{code}' is declared twice", code="duplicate-name")
                continue
            voice = code
            if value is not None and not (type(value) is Scalar and value.is_null):
                own = self.fields(value, fmt.LANGUAGES.options[1].value, f"language {code}")  # type: ignore[attr-defined]
                if own and "voice" in own:
                    voice = self.text(own["voice"], f"the voice of language {code}") or code
            out[code] = Language(code, voice.strip(), self.loc(key))
        if type(node) is Seq and not node.items:
            self.error(node, "languages is empty", hint="list them: [en, es]", code="empty-value")
        return out
