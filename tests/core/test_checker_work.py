"""How much work loading and checking a file takes, counted, not timed.

The loader benchmark (`python -m bench.bench_loader`, docs/benchmarks.md §6) lost its
figure of 10,000 menus in under a second step by step: each new rule walked the whole
model again, and the voice rules listed everything each menu can say for files with no
second language (bench/findings.md). These tests count what would come back: whole-file
walks per load, the expensive list made when it cannot find anything, and work that
grows faster than the file (function calls counted by cProfile, not seconds).
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path
from typing import Any

import pytest

import router.core.model as model
import router.core.spoken as spoken_texts
from bench.bench_loader import menu_file_text
from router.core.loader import load_menu_file, read_menu_text
from router.core.walk import objects_in

REPO = Path(__file__).resolve().parents[2]


def _calls(menus: int) -> int:
    """Python function calls made reading, converting and checking a file of `menus`."""
    text = menu_file_text(menus)
    profile = cProfile.Profile()
    profile.enable()
    menu_file, problems = read_menu_text(text, filename="menus.yaml", base_dir=REPO)
    profile.disable()
    assert menu_file is not None and len(menu_file.menus) == menus and not problems
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_the_work_grows_with_the_file_not_faster() -> None:
    # twice the menus, about twice the calls: a rule that walks the file once per menu,
    # per reference or per prompt makes this 3-4x at these sizes
    small, large = _calls(150), _calls(300)
    assert large <= 2.5 * small, (small, large)


@pytest.mark.parametrize("path", ["menus.yaml", "bench/menus.yaml"])
def test_a_load_walks_the_model_once(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    walks: list[object] = []

    def counted(root: object, **kwargs: Any) -> list[object]:
        walks.append(root)
        return objects_in(root, **kwargs)

    monkeypatch.setattr("router.core.model.file.objects_in", counted)
    loaded = load_menu_file(REPO / path)
    assert len(walks) == 1, "every rule asks MenuFile.values_of, which walks once per file"
    assert walks[0] is loaded.menu_file
    list(loaded.menu_file.prompts())  # the runtime's list of prompts reuses the same walk
    assert len(walks) == 1


def test_what_menus_say_is_listed_only_when_a_menu_speaks_another_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed: list[object] = []
    spoken = spoken_texts.spoken

    def counted(menu_file: model.MenuFile) -> dict[str, list[tuple[str, model.Prompt]]]:
        listed.append(menu_file)
        return spoken(menu_file)

    monkeypatch.setattr(spoken_texts, "spoken", counted)
    english = menu_file_text(20)
    read_menu_text(english, filename="menus.yaml", base_dir=REPO)
    assert listed == [], "all English: no English words to find, no second language"
    spanish = english.replace(
        '    prompt: "Press 1, 2, 3, 7 or 0."\n',
        ('    prompt: "Press 1, 2, 3, 7 or 0."\n    voice: es\n'),
        1,
    )
    _, problems = read_menu_text(spanish, filename="menus.yaml", base_dir=REPO)
    assert len(listed) == 1
    assert any(p.code == "english-words" for p in problems)


def test_loops_are_looked_for_only_when_a_menu_has_no_option_that_ends_the_menus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every menu of the benchmark's file has a transfer (its operator key): no loop of
    # them can trap a caller, so no graph is built; one menu without: the graph is built
    import router.core.loops as loops

    graphs: list[object] = []
    components = loops._strongly_connected

    def counted(graph: Any) -> list[list[str]]:
        graphs.append(graph)
        return components(graph)

    monkeypatch.setattr("router.core.loops._strongly_connected", counted)
    menu_file, problems = read_menu_text(menu_file_text(40), filename="m.yaml", base_dir=REPO)
    assert menu_file is not None and not problems and graphs == []
    trapped = menu_file_text(40).replace(
        "  m39:\n", "  m39:\n    greeting: Stuck.\n    options: {'1': repeat}\n  m39_old:\n", 1
    )
    _, problems = read_menu_text(trapped, filename="m.yaml", base_dir=REPO)
    assert len(graphs) == 1
    assert "no-way-out" in {p.code for p in problems}


class _Leaf:
    __slots__ = ()


class _Holder:
    __slots__ = ("child", "name", "parts")

    def __init__(self, name: object, child: _Leaf | None, parts: tuple[_Leaf, ...]) -> None:
        self.name = name  # type: ignore[assignment]  # declared str: the test puts a value in
        self.child = child
        self.parts = parts

    name: str
    child: _Leaf | None
    parts: tuple[_Leaf, ...]


def test_the_walk_reads_the_slots_whose_declared_type_can_hold_values() -> None:
    child, item, hidden = _Leaf(), _Leaf(), _Leaf()
    found = objects_in(_Holder("a name", child, (item,)))
    assert [type(o) for o in found] == [_Holder, _Leaf, tuple, _Leaf]
    assert found[1] is child and found[3] is item
    # a slot declared to hold a string is not read, whatever it holds
    assert hidden not in objects_in(_Holder(hidden, None, ()))
