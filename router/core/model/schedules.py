"""Opening hours: a `Schedule` in one time zone, by `Weekday`, with holidays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum
from zoneinfo import ZoneInfo

from router.core.errors import Location
from router.core.model.locations import NO_PLACES, NOWHERE

__all__ = ["Schedule", "Weekday"]


class Weekday(IntEnum):
    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6


@dataclass(frozen=True, slots=True)
class Schedule:
    """Opening hours in one time zone; a holiday closes the whole day."""

    name: str
    timezone: str
    hours: Mapping[Weekday, tuple[tuple[time, time], ...]]
    """Open intervals per weekday, [start, end) in local time; a missing day is closed."""
    holidays: tuple[date, ...] = ()
    loc: Location = NOWHERE
    where: Mapping[str, Location] = field(default_factory=lambda: NO_PLACES)
    """Where parts of the schedule were written (`timezone`, `hours`, `holidays`)."""

    def is_open(self, at: datetime) -> bool:
        """Whether the schedule is open at an aware datetime."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(
            start <= now < end for start, end in self.hours.get(Weekday(local.weekday()), ())
        )
