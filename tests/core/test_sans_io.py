"""The core is sans-I/O: importing every module of `router.core` brings in no event loop,
no LiveKit, no network client (docs/architecture.md; the style guide's first rule)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_IMPORT_ALL = """
import importlib, pkgutil, sys
import router.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "router.core.")]
for name in names:
    importlib.import_module(name)
print(len(names))
print(*sorted(sys.modules), sep="\\n")
"""

IO = ("asyncio", "livekit", "aiohttp", "socket", "subprocess")
"""Top-level modules the core must not import (threading is not among them: logging imports it)."""


def test_the_core_imports_no_event_loop_and_no_livekit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    count, *modules = done.stdout.split()
    assert int(count) > 40  # every module of the core, its packages' too
    assert [m for m in modules if m.split(".")[0] in IO] == []


def test_the_core_reads_no_environment() -> None:
    """Settings reach the core as arguments (the speech engine, chosen at the edges from
    router/settings.py), never from `os.environ`."""
    core = ROOT / "router" / "core"
    readers = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted(core.rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "os.environ" in line or "getenv(" in line
    ]
    assert readers == []
