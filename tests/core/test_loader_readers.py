"""The loader's readers are composed, not inherited (issue 13, item 3).

Each concept (leaves, transfers, actions, menus, numbers, callers, directories,
schedules) is a reader of its own on one `Context`; no reader extends another. The
problem sink is the one base class they may share (`Sink`: the context itself, and
`NodeReader` for the test-file reader).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import router.core.loader as loader_package
from router.core.loader.context import Context
from router.core.loader.document import MenuReader
from router.core.loader.nodes import Sink
from router.core.loader.source import compose_source


def _loader_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(loader_package.__path__):
        module = importlib.import_module(f"{loader_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                found.append(cls)
    return found


def test_no_reader_extends_another() -> None:
    classes = _loader_classes()
    assert {"Leaves", "Transfers", "Actions", "Menus", "Numbers", "Callers"} <= {
        c.__name__ for c in classes
    }
    for cls in classes:
        inherited = [
            base
            for base in cls.__mro__[1:]
            if base.__module__.startswith(loader_package.__name__) and base is not Sink
        ]
        assert inherited == [], f"{cls.__name__} extends {inherited}"


def test_every_reader_of_a_file_shares_its_context() -> None:
    reader = MenuReader("menus.yaml", Path("."))
    ctx = reader.ctx
    assert isinstance(ctx, Context)
    readers = [
        ctx.leaves,
        ctx.transfers,
        ctx.actions,
        reader.menus,
        reader.numbers,
        reader.callers,
        reader.directories,
        reader.schedules,
    ]
    for each in readers:
        assert each.error.__self__ is ctx  # type: ignore[attr-defined]
    assert ctx.transfers.leaves is ctx.leaves and ctx.actions.transfers is ctx.transfers


def test_problems_from_every_reader_reach_the_one_sink() -> None:
    text = b"""version: 1
destinations:
  desk: "tel:12"
schedules:
  office: {timezone: Mars/Base, hours: {mon: "09:00-17:00"}}
menus:
  main:
    greeting: "Hi"
    options:
      "1": {menu: main, transfer: desk}
      "2": {tranfser: desk}
"""
    source = compose_source(text, "menus.yaml")
    assert source.root is not None
    reader = MenuReader("menus.yaml", Path("."))
    reader.read(source.root, "v")
    codes = [p.code for p in reader.ctx.problems]
    # a destination (transfers), a schedule (schedules), two actions (actions)
    assert codes == ["bad-target", "bad-timezone", "two-verbs", "no-verb"], codes
    assert reader.ctx.incomplete == {"main"}
