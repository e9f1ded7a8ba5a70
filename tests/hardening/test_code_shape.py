"""One module per concept, a few hundred lines at most (issue 13; docs/architecture.md):
every Python module of router/ and bench/ stays within MAX_MODULE_LINES, and one over
it is named.
(The SIP stand-in's Go files copy livekit-sip's and keep upstream's shape.)"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ROUTER = REPO / "router"
BENCH = REPO / "bench"

MAX_MODULE_LINES = 500
"""A module longer than this holds more than one concept: split it by concept."""


def modules_over(root: Path, limit: int) -> list[str]:
    """Every Python module under `root` with more than `limit` lines, as `path: N lines`."""
    return [
        f"{path.relative_to(root.parent)}: {count} lines"
        for path in sorted(root.rglob("*.py"))
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > limit
    ]


def test_every_module_of_the_router_is_within_the_limit() -> None:
    assert modules_over(ROUTER, MAX_MODULE_LINES) == []


def test_every_module_of_the_benchmarks_is_within_the_limit() -> None:
    assert modules_over(BENCH, MAX_MODULE_LINES) == []


def test_a_module_over_the_limit_is_named(tmp_path: Path) -> None:
    package = tmp_path / "router"
    (package / "core").mkdir(parents=True)
    (package / "core" / "small.py").write_text("x = 1\n" * 3)
    (package / "core" / "big.py").write_text("x = 1\n" * 4)
    assert modules_over(package, 3) == ["router/core/big.py: 4 lines"]
