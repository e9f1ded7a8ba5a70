"""The diagnostic switches: every `ROUTER_*` variable the router reads is declared once.

Operator settings are rows of `SETTINGS`, switches for benchmarks and investigations
rows of `DIAGNOSTICS` (router/runtime/config.py); a name read anywhere else is one of
the few said here, with why it is not the worker's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.runtime.config import DIAGNOSTICS, SETTINGS, TRIAL_ENV, diagnostic

ROUTER = Path(__file__).resolve().parents[2] / "router"

NOT_THE_WORKERS = {
    "ROUTER_AGENT_NAME": "the agent name's own order, after livekit-agents' (config.agent_name)",
    "ROUTER_LOG_FORMAT": "every command's log lines, not only the worker's (router/logs.py)",
    "ROUTER_STACK_CACHE": "where the local stack's binaries are built (router/stack/install.py)",
}


def test_every_router_variable_read_is_declared() -> None:
    declared = {s.env for s in SETTINGS} | {d.env for d in DIAGNOSTICS} | {TRIAL_ENV}
    found: dict[str, set[str]] = {}
    for path in ROUTER.rglob("*.py"):
        for name in re.findall(r"\bROUTER_[A-Z][A-Z_]*[A-Z]\b", path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROUTER.parent)))
    undeclared = {
        n: sorted(p) for n, p in found.items() if n not in declared | set(NOT_THE_WORKERS)
    }
    assert undeclared == {}
    # and the table names nothing the router no longer reads
    assert {d.env for d in DIAGNOSTICS} <= set(found)


@pytest.mark.parametrize(
    ("value", "on"), [("1", True), ("yes", True), ("", False), ("0", False), ("off", False)]
)
def test_a_switch_reads_as_the_table_says(value: str, on: bool) -> None:
    assert diagnostic("ROUTER_TRACE_KEYS", {"ROUTER_TRACE_KEYS": value}) is on
    assert diagnostic("ROUTER_TRACE_KEYS", {}) is False


def test_the_memory_dump_is_a_folder() -> None:
    assert diagnostic("ROUTER_MEMORY_DUMP", {"ROUTER_MEMORY_DUMP": "/tmp/x"}) == "/tmp/x"
    assert diagnostic("ROUTER_MEMORY_DUMP", {}) == ""


def test_a_name_the_table_does_not_declare_is_refused() -> None:
    with pytest.raises(KeyError):
        diagnostic("ROUTER_TRACE_EVERYTHING", {})
