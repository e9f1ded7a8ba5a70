"""Hostile menu files are refused quickly, in bounded memory, with one clear message.

tests/core/test_loader.py already pins the refusals themselves (the message and the
time for deep nesting, a billion laughs, binary junk, non-UTF-8, oversized files).
What this adds: **memory** (tracemalloc peaks, and the whole process's maximum RSS
for the commands), hostile shapes the loader tests lack (merge-key bombs, an alias
repeating a large list, block nesting, NUL bytes past the start, one 1 MB line), the
worst a file *within* the size limit can cost, and the same files through
`router check` and `router start` as an admin would run them: one message, exit 1,
no traceback.
"""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from router.core.loader import MAX_BYTES, nodes, read_menu_text

ROOT = Path(__file__).resolve().parents[2]
FAST = 0.5
"""CPU seconds to refuse a hostile file (typically milliseconds). CPU time, not wall-clock
time: what is bounded is the work a file makes the reader do (no expansion of aliases),
and on a machine shared with other jobs the wall clock also counts their turns."""
SMALL_PEAK = 16_000_000
"""Bytes of Python memory a refusal may use: a few times the 1 MB input, never its expansion."""


def _laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb() -> str:
    """Merge keys (`<<`) that each pull in ten copies of the previous mapping."""
    text = "m0: &m0 {k: v}\n"
    for i in range(1, 10):
        text += f"m{i}: &m{i}\n  <<: [{', '.join([f'*m{i - 1}'] * 10)}]\n  k{i}: v\n"
    return text


HOSTILE: dict[str, tuple[Callable[[], str | bytes], str]] = {
    "deep flow nesting": (
        lambda: "x: " + "[" * 450_000 + "]" * 450_000,
        "nested more than 64 levels deep",
    ),
    "deep block nesting": (
        lambda: "".join(f"{' ' * i}k{i}:\n" for i in range(1_000)),
        "nested more than 64 levels deep",
    ),
    "billion laughs": (_laughs, "aliases expand this file beyond 100,000 extra values"),
    "merge-key bomb": (_merge_bomb, "aliases expand this file beyond 100,000 extra values"),
    "an alias repeating a large list": (
        lambda: "a: &a [" + ",".join(["1"] * 60_000) + "]\nb: *a\nc: *a\n",
        "aliases expand this file beyond 100,000 extra values",
    ),
    "recursive alias": (lambda: "a: &a [*a]\n", "refers to a node that contains it"),
    "binary junk": (lambda: os.urandom(900_000), "binary data"),
    "a NUL byte after text": (
        lambda: "version: 1\n" * 1000 + "\x00" + "menus: {}\n",
        "this is not a text file (it contains binary data)",
    ),
    "non-UTF-8 (Latin-1)": (
        lambda: ("version: 1\n" + "# caf\xe9\n" * 50_000).encode("latin-1"),
        "the file is not UTF-8 text (byte 0xE9 here)",
    ),
    "UTF-16": (lambda: ("version: 1\n" * 1000).encode("utf-16"), "UTF-16, not UTF-8"),
    "over the size limit": (lambda: "#" * (MAX_BYTES + 1), "menu files are limited"),
    "a Python object tag": (
        lambda: (
            "version: 1\nmenus: !!python/object/apply:os.system\n"
            '  {m: {greeting: hi, options: {"#": hangup}}}\n'
        ),
        "custom YAML tag",
    ),
}


def _measure(data: str | bytes) -> tuple[float, int, list[str]]:
    """CPU seconds (untraced), tracemalloc peak bytes (traced run), and the problems."""
    start = time.process_time()
    read_menu_text(data, filename="evil.yaml", base_dir=Path("."))
    seconds = time.process_time() - start
    tracemalloc.start()
    try:
        _, problems = read_menu_text(data, filename="evil.yaml", base_dir=Path("."))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return seconds, peak, [str(p) for p in problems]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_files_are_refused_quickly_in_bounded_memory(kind: str) -> None:
    make, message = HOSTILE[kind]
    data = make()
    seconds, peak, problems = _measure(data)
    assert seconds < FAST, f"{kind}: {seconds:.2f} s"
    assert peak < SMALL_PEAK + 2 * len(data), f"{kind}: peak {peak / 1e6:.1f} MB"
    errors = [p for p in problems if ": error: " in p]
    assert len(errors) == 1, problems[:5]
    assert message in errors[0], errors[0]


WORST_LEGAL: dict[str, Callable[[], str]] = {
    "a megabyte of keys": lambda: "".join(f"k{i}: v\n" for i in range(130_000))[:MAX_BYTES],
    "a megabyte of empty lists": lambda: "x: [" + "[]," * 333_000 + "]\n",
    "a megabyte of anchors": lambda: "".join(f"a{i}: &x{i} v\n" for i in range(70_000))[:MAX_BYTES],
}


@pytest.fixture(scope="module")
def baseline_rss() -> int:
    """Peak RSS (KiB) of `router check` on the bundled example: the cost of the imports."""
    return _router("check", str(ROOT / "menus.yaml"))[2]


@pytest.mark.parametrize("kind", list(WORST_LEGAL))
def test_the_worst_file_within_the_limits_is_bounded(
    kind: str, tmp_path: Path, baseline_rss: int
) -> None:
    """No file the limits let through costs more than seconds and a few hundred MB."""
    text = WORST_LEGAL[kind]()
    assert len(text.encode()) <= MAX_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(text)
    start = time.monotonic()
    code, _, rss = _router("check", "--quiet", str(path))
    seconds = time.monotonic() - start
    assert code == 1
    assert seconds < 20.0, f"{kind}: {seconds:.1f} s"
    assert rss - baseline_rss < 300 * 1024, f"{kind}: {rss - baseline_rss} KiB over the baseline"


def test_a_file_of_many_mistakes_gives_a_bounded_report() -> None:
    _, problems = read_menu_text(
        WORST_LEGAL["a megabyte of keys"](), filename="evil.yaml", base_dir=Path(".")
    )
    assert len(problems) <= 1_000


def test_did_you_mean_is_sought_only_for_the_problems_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A megabyte of unknown keys took 30 s of `router check`: a difflib search for each
    of 100,000 keys whose problems are never shown. Counted, not timed."""
    searches = 0
    real = difflib.get_close_matches

    def counting(*args: Any, **kwargs: Any) -> list[str]:
        nonlocal searches
        searches += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(nodes.difflib, "get_close_matches", counting)
    _, problems = read_menu_text(
        WORST_LEGAL["a megabyte of keys"](), filename="evil.yaml", base_dir=Path(".")
    )
    assert searches <= nodes.MAX_PROBLEMS
    assert "did you mean 'version'?" in problems[0].hint or "expected one of" in problems[0].hint
    assert problems[-1].message.startswith("... and ")  # the rest counted in one line


# --- through the commands, as an admin runs them -----------------------------------------

_RSS = (
    "import sys\n"
    "from router.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print('maxrss', hwm, file=sys.stderr)\n"
    "sys.exit(code)\n"
)
"""Runs the CLI and adds its own peak RSS (KiB) as the last line of stderr. VmHWM, not
`ru_maxrss`: Linux carries the latter over from the parent across fork and exec, so
in a child of a large pytest process it would measure pytest."""


def _router(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], int]:
    done = subprocess.run(
        [sys.executable, "-c", _RSS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    lines = done.stderr.strip().splitlines()
    rss = int(lines.pop().split()[1])
    return done.returncode, lines + done.stdout.strip().splitlines(), rss


@pytest.mark.parametrize("kind", ["billion laughs", "binary junk"])
def test_router_check_says_one_thing_and_stays_small(
    kind: str, tmp_path: Path, baseline_rss: int
) -> None:
    make, message = HOSTILE[kind]
    data = make()
    path = tmp_path / "evil.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    code, lines, rss = _router("check", str(path))
    assert code == 1
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{path}:") and message in lines[0]
    assert lines[1] == f"{path}: 1 error, 0 warnings; the file cannot be used"
    assert rss < baseline_rss + 64 * 1024, f"{rss} KiB, {baseline_rss} KiB for the example"


def test_router_start_refuses_a_hostile_file_before_connecting(tmp_path: Path) -> None:
    path = tmp_path / "menus.yaml"
    path.write_text(_laughs())
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:9",
        "LIVEKIT_API_KEY": "APIkey",
        "LIVEKIT_API_SECRET": "unused-secret-unused-secret-unused",
        "ROUTER_METRICS_PORT": "0",
    }
    code, lines, _ = _router("start", "--menus", str(path), env=env)
    assert code == 1
    assert len(lines) == 2, lines
    assert "aliases expand this file beyond 100,000 extra values" in lines[0]
    assert lines[1] == (f"router start: the menu file {path} has errors; fix them and start again")
    assert "unused-secret" not in "\n".join(lines)
