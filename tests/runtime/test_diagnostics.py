"""The settings and diagnostic switches: every `ROUTER_*` variable the router reads is
declared once, with its one default.

Settings are rows of `SETTINGS` (the worker's, which admin commands read too) and
`COMMAND_SETTINGS` (every command's log format, the local stack's cache); switches for
benchmarks and investigations are rows of `DIAGNOSTICS`, all in router/settings.py.
Only that module reads such a variable with a default of its own: everywhere else a read
goes through its row (`value`, `flag_default`, `diagnostic`, the worker's config).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from router.settings import (
    COMMAND_SETTINGS,
    DIAGNOSTICS,
    SETTINGS,
    diagnostic,
    flag_default,
    speech_engine,
    value,
)

ROUTER = Path(__file__).resolve().parents[2] / "router"
TABLE = ROUTER / "settings.py"


def test_every_router_variable_read_is_declared() -> None:
    declared = {s.env for s in (*SETTINGS, *COMMAND_SETTINGS)} | {d.env for d in DIAGNOSTICS}
    found: dict[str, set[str]] = {}
    for path in ROUTER.rglob("*.py"):
        for name in re.findall(r"\bROUTER_[A-Z][A-Z_]*[A-Z]\b", path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROUTER.parent)))
    undeclared = {n: sorted(p) for n, p in found.items() if n not in declared}
    assert undeclared == {}
    # and the tables name nothing the router no longer reads outside them
    elsewhere = {n for n, paths in found.items() if paths != {"router/settings.py"}}
    assert {d.env for d in DIAGNOSTICS} <= elsewhere


def _environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of each `ROUTER_*` variable read by its literal name: `X.get("ROUTER_..")`
    (os.environ, an env mapping), `os.getenv("ROUTER_..")`, `X["ROUTER_.."]`."""
    reads = []
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv", "pop"):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = node.slice
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and key.value.startswith("ROUTER_")
        ):
            reads.append((key.lineno, key.value))
    return reads


def test_no_module_but_the_table_reads_a_router_variable_with_its_own_default() -> None:
    """A second `os.environ.get("ROUTER_MENUS", "menus.yaml")` is a second default that
    drifts from the table's: reads go through the table (`value`, `flag_default`, ...)."""
    found = {
        f"{path.relative_to(ROUTER.parent)}:{line}": name
        for path in sorted(ROUTER.rglob("*.py"))
        if path != TABLE
        for line, name in _environment_reads(ast.parse(path.read_text()))
    }
    assert found == {}


def test_the_scan_finds_the_reads_it_is_for() -> None:
    """The scan above would see each way a module reads a variable by name."""
    source = """
os.environ.get("ROUTER_MENUS", "menus.yaml")
env.get("ROUTER_VOICE")
os.getenv("ROUTER_LOG_FORMAT")
environ["ROUTER_RECORDS"]
os.environ.get("LIVEKIT_URL")
"""
    assert [name for _, name in _environment_reads(ast.parse(source))] == [
        "ROUTER_MENUS",
        "ROUTER_VOICE",
        "ROUTER_LOG_FORMAT",
        "ROUTER_RECORDS",
    ]


def test_a_setting_is_its_variable_else_its_default_per_command() -> None:
    assert flag_default("menus", env={}) == "menus.yaml"
    assert flag_default("menus", env={"ROUTER_MENUS": "/etc/router/menus.yaml"}) == (
        "/etc/router/menus.yaml"
    )
    assert flag_default("menus", env={"ROUTER_MENUS": " "}) == "menus.yaml"  # blank: default
    assert value("records", env={"ROUTER_RECORDS": ""}) == ""  # blank: no records
    assert value("metrics_port", "dev", env={}) == 0
    assert value("metrics_port", "start", env={}) == 9464
    assert value("mask_caller", env={"ROUTER_MASK_CALLER": "0"}) is False
    assert value("mask_caller", env={}) is True
    assert value("log_format", env={"ROUTER_LOG_FORMAT": ""}) == "text"
    assert value("stack_cache", env={"ROUTER_STACK_CACHE": "~/x"}) == Path.home() / "x"


@pytest.mark.parametrize(
    ("voice", "engine"),
    [
        (None, "espeak"),
        ("", "espeak"),
        ("espeak:es-419", "espeak"),
        ("livekit.plugins.cartesia:TTS", "plugin"),
    ],
)
def test_the_speech_engine_is_the_voice_settings(voice: str | None, engine: str) -> None:
    env = {} if voice is None else {"ROUTER_VOICE": voice}
    assert speech_engine(env=env).value == engine
    assert speech_engine(voice, env={"ROUTER_VOICE": "x:Y"}).value == (
        "plugin" if voice is None else engine
    )


@pytest.mark.parametrize(
    ("value_", "on"), [("1", True), ("yes", True), ("", False), ("0", False), ("off", False)]
)
def test_a_switch_reads_as_the_table_says(value_: str, on: bool) -> None:
    assert diagnostic("ROUTER_TRACE_KEYS", {"ROUTER_TRACE_KEYS": value_}) is on
    assert diagnostic("ROUTER_TRACE_KEYS", {}) is False


def test_the_memory_dump_is_a_folder() -> None:
    assert diagnostic("ROUTER_MEMORY_DUMP", {"ROUTER_MEMORY_DUMP": "/tmp/x"}) == "/tmp/x"
    assert diagnostic("ROUTER_MEMORY_DUMP", {}) == ""


def test_a_name_the_table_does_not_declare_is_refused() -> None:
    with pytest.raises(KeyError):
        diagnostic("ROUTER_TRACE_EVERYTHING", {})
