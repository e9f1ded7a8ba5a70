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

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bench.hostile_files import HOSTILE, WORST_LEGAL, count_calls, laughs
from router.core.loader import MAX_BYTES, nodes, read_menu_text

ROOT = Path(__file__).resolve().parents[2]
CALLS_PER_BYTE = 3
"""Python calls a refusal may make per byte of the file, plus 1,000: what is bounded is
the work a file makes the reader do (no expansion of aliases, no walk past where it
goes wrong), counted, not timed; the times are in bench/hostile_files.py. The costliest
refusal, an alias repeating a list of 60,000 items, makes 2.5 per byte; expanding its
aliases would make about three times that."""
SMALL_PEAK = 16_000_000
"""Bytes of Python memory a refusal may use: a few times the 1 MB input, never its expansion."""


def _measure(data: str | bytes) -> tuple[int, int, list[str]]:
    """Tracemalloc peak bytes (traced run), Python calls made (untraced, after the traced
    run: first-use work such as patterns compiled is not the file's), and the problems."""
    tracemalloc.start()
    try:
        _, problems = read_menu_text(data, filename="evil.yaml", base_dir=Path("."))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    calls, _ = count_calls(lambda: read_menu_text(data, filename="evil.yaml", base_dir=Path(".")))
    return calls, peak, [str(p) for p in problems]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_files_are_refused_quickly_in_bounded_memory(kind: str) -> None:
    make, message = HOSTILE[kind]
    data = make()
    calls, peak, problems = _measure(data)
    assert calls < 1_000 + CALLS_PER_BYTE * len(data), f"{kind}: {calls:,} Python calls"
    assert peak < SMALL_PEAK + 2 * len(data), f"{kind}: peak {peak / 1e6:.1f} MB"
    errors = [p for p in problems if ": error: " in p]
    assert len(errors) == 1, problems[:5]
    assert message in errors[0], errors[0]


@pytest.fixture(scope="module")
def baseline_rss() -> int:
    """Peak RSS (KiB) of `router check` on the bundled example: the cost of the imports."""
    return _router("check", str(ROOT / "menus.yaml"))[2]


@pytest.mark.parametrize("kind", list(WORST_LEGAL))
def test_the_worst_file_within_the_limits_is_bounded(
    kind: str, tmp_path: Path, baseline_rss: int
) -> None:
    """No file the limits let through costs more than a few hundred MB, or more than a few
    Python calls per byte."""
    text = WORST_LEGAL[kind]()
    assert len(text.encode()) <= MAX_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(text)
    code, _, rss = _router("check", "--quiet", str(path))
    assert code == 1
    assert rss - baseline_rss < 300 * 1024, f"{kind}: {rss - baseline_rss} KiB over the baseline"
    # the work, counted in-process (the times: bench/hostile_files.py); about 2.7 calls a
    # byte: a search or a walk per key of all the others would be thousands
    calls, loaded = count_calls(
        lambda: read_menu_text(text, filename="big.yaml", base_dir=Path("."))
    )
    assert loaded[1]  # it loads, with problems
    assert calls < 5 * len(text), f"{kind}: {calls:,} Python calls"


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
    real = nodes.suggest

    def counting(*args: Any, **kwargs: Any) -> str | None:
        nonlocal searches
        searches += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(nodes, "suggest", counting)
    _, problems = read_menu_text(
        WORST_LEGAL["a megabyte of keys"](), filename="evil.yaml", base_dir=Path(".")
    )
    assert searches <= nodes.MAX_PROBLEMS
    hint = problems[0].hint or ""
    assert "did you mean 'version'?" in hint or "expected one of" in hint
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
    path.write_text(laughs())
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
