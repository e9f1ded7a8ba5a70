"""The findings of the whole-file rules, each reported once (`router.core.checker`).

The rules of `checker`, `extensions` and `spoken` report into one `Findings`: a value
that many menus inherit is seen once per menu, and said once."""

from __future__ import annotations

from router.core.errors import Location, Problem, Severity

__all__ = ["Findings"]


class Findings:
    """The problems found so far, in the order found; each (place, message) once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._reported: set[tuple[Location, str]] = set()

    def report(
        self,
        loc: Location,
        message: str,
        *,
        hint: str | None = None,
        code: str,
        warning: bool = False,
    ) -> None:
        """Add a finding (an error, or with `warning` a warning) unless already said."""
        if (loc, message) in self._reported:  # inherited values are seen once per menu
            return
        self._reported.add((loc, message))
        severity = Severity.WARNING if warning else Severity.ERROR
        self.problems.append(Problem(loc, message, severity, hint, code))
