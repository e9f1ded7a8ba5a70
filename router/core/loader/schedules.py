"""Schedules: a time zone, opening hours per day, holidays."""

from __future__ import annotations

from datetime import date, time
from types import MappingProxyType
from typing import TYPE_CHECKING

from router.core import format as fmt
from router.core import values
from router.core.errors import Location
from router.core.loader.nodes import shape
from router.core.model import Schedule, Weekday
from router.core.patterns import compiled
from router.core.timezones import timezone_problem, timezone_warning
from router.core.yamlsafe import Node, Scalar, Seq

if TYPE_CHECKING:
    from router.core.loader.context import Context

__all__ = ["Schedules"]

_WEEKDAYS = {name: Weekday(i) for i, name in enumerate(fmt.DAY_NAMES)}
_DAY_GROUPS = {
    "daily": tuple(Weekday),
    "weekdays": tuple(Weekday)[:5],
    "weekends": (Weekday.SAT, Weekday.SUN),
}
_END_OF_DAY = time.max


class Schedules:
    """Reads the `schedules` block."""

    def __init__(self, ctx: Context) -> None:
        self.loc, self.error, self.warn = ctx.loc, ctx.error, ctx.warn
        self.keys, self.leaves = ctx.keys, ctx.leaves

    def schedules(self, node: Node | None) -> dict[str, Schedule]:
        out: dict[str, Schedule] = {}
        for key, value in self.keys.entries(node, "schedules"):
            name = self.leaves.name(key, "schedule")
            if name is None:
                continue
            what = f"schedule '{name}'"
            f = self.keys.fields(value, fmt.SCHEDULE, what)
            where: dict[str, Location] = {}
            timezone = "UTC"
            hours: dict[Weekday, tuple[tuple[time, time], ...]] = {}
            holidays: tuple[date, ...] = ()
            if f is not None:
                tz_node = f.get("timezone")
                if tz_node is not None:
                    where["timezone"] = self.loc(tz_node)
                    tz = self.leaves.text(tz_node, f"the timezone of {what}")
                    if tz is not None:
                        problem = timezone_problem(tz.strip())
                        if problem is not None:
                            self.error(tz_node, problem[0], hint=problem[1], code="bad-timezone")
                        else:
                            timezone = tz.strip()
                            fixed = timezone_warning(timezone)
                            if fixed is not None:
                                self.warn(tz_node, fixed[0], hint=fixed[1], code="fixed-timezone")
                if "hours" in f:
                    where["hours"] = self.loc(f["hours"])
                    hours = self.hours(f["hours"], what)
                if "holidays" in f:
                    where["holidays"] = self.loc(f["holidays"])
                    holidays = self.holidays(f["holidays"], what)
            out[name] = Schedule(
                name,
                timezone,
                MappingProxyType(hours),
                holidays,
                self.loc(key),
                MappingProxyType(where),
            )
        return out

    def hours(self, node: Node, what: str) -> dict[Weekday, tuple[tuple[time, time], ...]]:
        per_day: dict[Weekday, list[tuple[time, time, Scalar]]] = {}
        for key, value in self.keys.entries(node, f"the hours of {what}"):
            days = self.days(key, what)
            items = value.items if type(value) is Seq else [value]
            for item in items:
                if type(item) is Scalar and item.plain and item.value.strip().lower() == "closed":
                    continue
                span = self.interval(item, what)
                if span is None or days is None:
                    continue
                for day in days:
                    per_day.setdefault(day, []).append((*span, item))  # type: ignore[arg-type]
        out: dict[Weekday, tuple[tuple[time, time], ...]] = {}
        reported: set[tuple[int, int]] = set()
        for day in sorted(per_day):
            kept: list[tuple[time, time, Scalar]] = []
            for written in sorted(per_day[day], key=lambda s: (s[0], s[2].line, s[2].column)):
                if kept and written[0] < kept[-1][1]:
                    # report at whichever of the two was written later, once per pair
                    first, later = sorted(
                        (kept[-1][2], written[2]), key=lambda n: (n.line, n.column)
                    )
                    if (id(first), id(later)) not in reported:
                        reported.add((id(first), id(later)))
                        self.error(
                            later,
                            f"on {day.name.lower()}, {later.value.strip()} overlaps "
                            f"{first.value.strip()} (line {first.line + 1})",
                            hint="opening hours of one day must not overlap",
                            code="overlapping-hours",
                        )
                    continue
                kept.append(written)
            out[day] = tuple((start, end) for start, end, _ in kept)
        return out

    def days(self, node: Scalar, what: str) -> list[Weekday] | None:
        raw = node.value.strip().lower()
        if not compiled(values.DAYS_PATTERN).match(raw):
            self.error(
                node,
                f"'{node.value}' is not a day or range of days in {what}",
                hint="write mon ... sun, a range (mon-fri), a list (sat, sun), daily, weekdays "
                "or weekends",
                code="bad-days",
            )
            return None
        if raw in _DAY_GROUPS:
            return list(_DAY_GROUPS[raw])
        out: list[Weekday] = []
        for part in raw.split(","):
            ends = [_WEEKDAYS[p.strip()] for p in part.split("-")]
            day = ends[0]
            out.append(day)
            while day != ends[-1]:
                day = Weekday((day + 1) % 7)
                out.append(day)
        return out

    def interval(self, node: Node, what: str) -> tuple[time, time] | None:
        m = compiled(values.HOURS_PATTERN).match(node.value) if type(node) is Scalar else None
        if m is None:
            shown = node.value if type(node) is Scalar else shape(node)
            self.error(
                node,
                f"'{shown}' is not a time interval in {what}",
                hint="write HH:MM-HH:MM, e.g. 08:30-17:30 (quoted or not), or closed",
                code="bad-hours",
            )
            return None
        text = node.value.strip()  # type: ignore[attr-defined]
        h1, m1, h2, m2 = (int(part) for end in text.split("-") for part in end.split(":"))
        for h, mm in ((h1, m1), (h2, m2)):
            if h > 24 or mm > 59 or (h == 24 and mm != 0):
                self.error(
                    node,
                    f"{h:02d}:{mm:02d} in '{text}' is not a time of day",
                    hint="hours run from 00:00 to 24:00",
                    code="bad-hours",
                )
                return None
        if h1 == 24:
            self.error(
                node,
                f"'{text}' starts at 24:00, the end of the day",
                hint="start at 00:00",
                code="bad-hours",
            )
            return None
        start = time(h1, m1)
        end = _END_OF_DAY if h2 == 24 else time(h2, m2)
        if end <= start:
            self.error(
                node,
                f"'{text}' ends before it starts",
                hint=_backwards_hint(h1, m1, h2, m2),
                code="bad-hours",
            )
            return None
        return start, end

    def holidays(self, node: Node, what: str) -> tuple[date, ...]:
        if type(node) is not Seq:
            if type(node) is Scalar and node.is_null:
                return ()
            self.error(
                node,
                f"the holidays of {what} should be a list of dates, e.g. [2026-12-25]",
                code="bad-holiday",
            )
            return ()
        out: list[date] = []
        seen: dict[date, Node] = {}
        for item in node.items:
            if type(item) is not Scalar or not compiled(values.DATE_PATTERN).match(
                item.value.strip()
            ):
                shown = item.value if type(item) is Scalar else shape(item)
                self.error(
                    item,
                    f"'{shown}' is not a date",
                    hint="write YYYY-MM-DD, e.g. 2026-12-25",
                    code="bad-holiday",
                )
                continue
            try:
                day = date.fromisoformat(item.value.strip())
            except ValueError:
                self.error(item, f"{item.value.strip()} is not a real date", code="bad-holiday")
                continue
            if day in seen:
                self.warn(
                    item,
                    f"{day.isoformat()} is listed twice (first at line {seen[day].line + 1})",
                    code="duplicate-holiday",
                )
                continue
            seen[day] = item
            out.append(day)
        return tuple(sorted(out))


def _backwards_hint(h1: int, m1: int, h2: int, m2: int) -> str:
    """The fix for an interval that ends before it starts, from what it most likely meant.

    Both ends before 13:00 (`8:30-5:30`) is a 12-hour clock: the end is in the
    afternoon. An end of 00:00 is midnight, written 24:00. Anything else (`22:00-06:00`)
    is hours past midnight, which a day cannot hold.
    """
    start = f"{h1:02d}:{m1:02d}"
    if (h1, m1) == (h2, m2):
        return "an interval needs a length; for the whole day write 00:00-24:00"
    if (h2, m2) == (0, 0):
        return f"midnight at the end of a day is 24:00: did you mean {start}-24:00?"
    if h1 < 13 and h2 < 13 and (h2 + 12, m2) > (h1, m1) and (h2 + 12, m2) <= (24, 0):
        return f"times are on the 24-hour clock: did you mean {start}-{h2 + 12:02d}:{m2:02d}?"
    return "for hours past midnight, split them: fri: 22:00-24:00 and sat: 00:00-02:00"
