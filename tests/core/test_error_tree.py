"""Every error class of the package is in the one tree drawn in router/core/errors.py."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import router
from router.core import errors
from router.core.errors import RouterError


def _error_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(router.__path__, "router."):
        if info.name.endswith("__main__"):  # runs a command when imported
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


def test_every_error_of_the_package_is_a_router_error_drawn_in_the_tree() -> None:
    classes = _error_classes()
    assert {c.__name__ for c in classes} >= {"MenuFileError", "InstallError", "SipParseError"}
    outside = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, RouterError)]
    assert outside == [], "errors outside RouterError"
    doc = errors.__doc__ or ""
    undrawn = [c.__name__ for c in classes if c.__name__ not in doc]
    assert undrawn == [], "errors missing from the tree in router/core/errors.py"


def test_the_module_drawn_beside_an_error_is_where_it_lives() -> None:
    # `Name   (core/yamlsafe) ...`: the place in parentheses is the module under router/
    drawn = dict(re.findall(r"(\w+)\s+\((\w+(?:/\w+)+)\)", errors.__doc__ or ""))
    assert len(drawn) >= 8, drawn
    lives = {c.__name__: c.__module__ for c in _error_classes()}
    wrong = {
        name: (place, lives.get(name))
        for name, place in drawn.items()
        if lives.get(name) != "router." + place.replace("/", ".")
    }
    assert wrong == {}, "drawn in one module, living in another (or gone)"
