"""The names a test file's expectations use, checked against the menu file it tests.

A destination or menu misspelt in an expectation would never pass, and the failure
would not say why: each is an error at its place, with the nearest name."""

from __future__ import annotations

from collections.abc import Mapping

from router.admin.menutest.cases import Expectation, TestFile
from router.core.errors import Location, Problem
from router.core.model import MenuFile
from router.core.suggest import did_you_mean

__all__ = ["check_names", "expectation_problems"]


def check_names(test_file: TestFile, menu_file: MenuFile) -> list[Problem]:
    """Names in expectations that the menu file does not have (a typo would never pass)."""
    return expectation_problems([case.expect for case in test_file.cases], menu_file)


def expectation_problems(expectations: list[Expectation], menu_file: MenuFile) -> list[Problem]:
    """The destinations and menus `expectations` name that `menu_file` does not have, each
    at its place in the test file, with the nearest name that exists."""
    problems: list[Problem] = []
    for expect in expectations:
        wanted = expect.transfer
        if wanted is not None and not wanted.is_uri:
            target = wanted.text
            if target not in menu_file.destinations:
                problems.append(
                    _unknown(
                        expect.where.get("transfer", expect.loc),
                        f"there is no destination named '{target}' in {menu_file.path}",
                        target,
                        menu_file.destinations,
                        "or write the URI: tel:+... or sip:...",
                    )
                )
        for name in expect.menus or ():
            if name not in menu_file.menus:
                problems.append(
                    _unknown(
                        expect.where.get(f"menus.{name}", expect.loc),
                        f"there is no menu named '{name}' in {menu_file.path}",
                        name,
                        menu_file.menus,
                        None,
                    )
                )
    return problems


def _unknown(
    loc: Location, message: str, name: str, known: Mapping[str, object], other: str | None
) -> Problem:
    hint = did_you_mean(name, known) or other
    return Problem(loc, message, hint=hint, code="test-file")
