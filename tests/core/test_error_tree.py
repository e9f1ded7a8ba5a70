"""Every error class of the package is in the one tree drawn in router/core/errors.py."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

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
