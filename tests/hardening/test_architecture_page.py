"""docs/architecture.md stays complete (issue 13): every Python module of router/ and bench/
is named on the page, so a contributor finds where each concept lives.

A module is named when the page gives its path from the repository's root
(`router/core/durations.py`), or when one cell of the page's tables names it beside its
directory: after a module of the same directory, by its file name
(`router/runtime/prompts.py`, `player.py`), or after its package, by its bare name
(`router/core/loader/` (`loading`, `document`)). A package's `__init__.py` and
`__main__.py` are named with the package (its directory on the page).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "architecture.md"
PACKAGES = ("router", "bench")

_CODE = re.compile(r"`([^`]+)`")
_DUNDER = frozenset({"__init__.py", "__main__.py"})


def named_in_cells(page: str) -> set[str]:
    """The modules the page's table cells name beside their directory, as repository paths
    (`router/runtime/player.py`); a path names its directory for the names after it."""
    named: set[str] = set()
    for line in page.splitlines():
        if not line.startswith("|"):
            continue
        for cell in line.split("|"):
            where: str | None = None  # the directory the cell's last path named
            for code in _CODE.findall(cell):
                if code.endswith("/"):
                    where = code
                elif "/" in code and code.endswith(".py"):
                    where = code.rsplit("/", 1)[0] + "/"
                elif where is not None and re.fullmatch(r"\w+(\.py)?", code):
                    named.add(where + code.removesuffix(".py") + ".py")
    return named


def unnamed_modules(repo: Path, page: str) -> list[str]:
    """Every module under `PACKAGES` of `repo` that `page` does not name (see the module's
    docstring for what names one), as repository paths, sorted."""
    in_cells = named_in_cells(page)
    out = []
    for top in PACKAGES:
        for path in sorted((repo / top).rglob("*.py")):
            module = path.relative_to(repo).as_posix()
            directory = module.rsplit("/", 1)[0] + "/"
            if module in page or module in in_cells:
                continue
            if path.name in _DUNDER and directory in page:
                continue
            out.append(module)
    return sorted(out)


def test_every_module_of_router_and_bench_is_named_on_the_architecture_page() -> None:
    missing = unnamed_modules(REPO, PAGE.read_text(encoding="utf-8"))
    assert missing == [], "docs/architecture.md does not name: " + ", ".join(missing)


def test_a_module_the_page_does_not_name_is_listed(tmp_path: Path) -> None:
    for module in ("router/core/a.py", "router/core/b.py", "router/x/c.py", "router/x/d.py"):
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).write_text("")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "__main__.py").write_text("")
    page = (
        "The engine is `router/core/a.py`.\n\n"
        "| concept | module |\n|---|---|\n"
        "| x | `router/x/` (`c`) |\n"
        "| `d` alone, in a cell without its directory | y |\n"
    )
    assert unnamed_modules(tmp_path, page) == [
        "bench/__main__.py",
        "router/core/b.py",
        "router/x/d.py",
    ]


def test_names_after_a_path_or_a_package_belong_to_its_directory() -> None:
    cells = named_in_cells(
        "| a | `router/runtime/prompts.py`, `player.py` | `router/core/loader/` (`loading`) |"
    )
    assert cells == {"router/runtime/player.py", "router/core/loader/loading.py"}
