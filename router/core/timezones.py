"""Time zones as admins write them: the rules for a schedule's `timezone`.

An IANA name (`America/New_York`) is what opening hours need: the region's clock,
daylight saving time included. Abbreviations (`PST`) and fixed offsets (`UTC-5`,
`GMT+2`) are refused, or warned about when the zone database knows them, with the
regions that keep the offset the admin meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from router.core.patterns import compiled
from router.core.suggest import did_you_mean
from router.core.values import Finding

__all__ = ["regions_for", "timezone_problem", "timezone_warning"]


@lru_cache(maxsize=256)
def timezone_problem(name: str) -> Finding | None:
    """Why `name` is not an IANA time zone (`America/New_York`), if it is not.

    An abbreviation (`PST`) or a fixed offset (`UTC-5`, `GMT+2`) is refused with the
    region zones that keep the offset the admin meant (never difflib's nearest
    spelling: `PST` is not `MST`, `GMT+2` is not `GMT+0`).
    """
    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    meant = _meant_offset(name)
    if meant is not None:
        kind, offset = meant
        return Finding(
            f"'{name}' is {kind}, not a time zone name: opening hours need the name of "
            "the region, which also follows its daylight saving time",
            _region_hint(name, offset),
        )
    hint = did_you_mean(name, sorted(_zones())) or (
        "use an IANA name such as America/New_York or Europe/Paris"
    )
    return Finding(f"unknown time zone '{name}'", hint)


@lru_cache(maxsize=256)
def timezone_warning(name: str) -> Finding | None:
    """Why a zone the router knows is still probably not what an office schedule means.

    `EST`, `MST`, `HST`, `GMT` and `Etc/GMT+5` are real zone names, but fixed offsets:
    `EST` is UTC-5 all year, so an office in New York would open an hour late all
    summer. `UTC` is left alone: it is a deliberate choice (a line open around the
    clock), not a region's clock spelt short.
    """
    if name.upper() in ("UTC", "ETC/UTC", "UCT", "ETC/UCT", "ZULU", "ETC/ZULU", "UNIVERSAL"):
        return None
    meant = _meant_offset(name)
    if meant is None:
        return None
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    winter, summer = (datetime(2026, m, 15, 12, tzinfo=zone).utcoffset() for m in (1, 7))
    if winter != summer:
        return None  # CET, EST5EDT: the old names of rules that do change the clock
    kind, offset = meant
    return Finding(
        f"'{name}' is {kind} that stays at {_utc(offset)} all year: where the office changes "
        "its clocks, opening hours would be an hour off half the year",
        _region_hint(name, offset),
    )


_ABBREVIATIONS: Mapping[str, tuple[int, tuple[str, ...]]] = {
    # abbreviation: (the UTC offset it names, in minutes; the regions that use it)
    "ET": (-300, ("America/New_York",)),
    "EST": (-300, ("America/New_York",)),
    "EDT": (-240, ("America/New_York",)),
    "CT": (-360, ("America/Chicago",)),
    "CST": (-360, ("America/Chicago", "America/Mexico_City")),
    "CDT": (-300, ("America/Chicago",)),
    "MT": (-420, ("America/Denver", "America/Phoenix")),
    "MST": (-420, ("America/Denver", "America/Phoenix")),
    "MDT": (-360, ("America/Denver",)),
    "PT": (-480, ("America/Los_Angeles",)),
    "PST": (-480, ("America/Los_Angeles",)),
    "PDT": (-420, ("America/Los_Angeles",)),
    "AKST": (-540, ("America/Anchorage",)),
    "AKDT": (-480, ("America/Anchorage",)),
    "HST": (-600, ("Pacific/Honolulu",)),
    "AST": (-240, ("America/Halifax", "America/Puerto_Rico")),
    "ADT": (-180, ("America/Halifax",)),
    "NST": (-210, ("America/St_Johns",)),
    "NDT": (-150, ("America/St_Johns",)),
    "BRT": (-180, ("America/Sao_Paulo",)),
    "ART": (-180, ("America/Argentina/Buenos_Aires",)),
    "GMT": (0, ("Europe/London", "Europe/Dublin")),
    "BST": (60, ("Europe/London",)),
    "WET": (0, ("Europe/Lisbon",)),
    "WEST": (60, ("Europe/Lisbon",)),
    "CET": (60, ("Europe/Berlin", "Europe/Paris")),
    "CEST": (120, ("Europe/Berlin", "Europe/Paris")),
    "MEZ": (60, ("Europe/Berlin",)),
    "MESZ": (120, ("Europe/Berlin",)),
    "EET": (120, ("Europe/Athens", "Europe/Helsinki")),
    "EEST": (180, ("Europe/Athens", "Europe/Helsinki")),
    "MSK": (180, ("Europe/Moscow",)),
    "SAST": (120, ("Africa/Johannesburg",)),
    "WAT": (60, ("Africa/Lagos",)),
    "EAT": (180, ("Africa/Nairobi",)),
    "GST": (240, ("Asia/Dubai",)),
    "PKT": (300, ("Asia/Karachi",)),
    "IST": (330, ("Asia/Kolkata",)),
    "SGT": (480, ("Asia/Singapore",)),
    "HKT": (480, ("Asia/Hong_Kong",)),
    "AWST": (480, ("Australia/Perth",)),
    "JST": (540, ("Asia/Tokyo",)),
    "KST": (540, ("Asia/Seoul",)),
    "ACST": (570, ("Australia/Adelaide", "Australia/Darwin")),
    "ACDT": (630, ("Australia/Adelaide",)),
    "AEST": (600, ("Australia/Sydney", "Australia/Brisbane")),
    "AEDT": (660, ("Australia/Sydney",)),
    "NZST": (720, ("Pacific/Auckland",)),
    "NZDT": (780, ("Pacific/Auckland",)),
}
"""Abbreviations admins write for a zone. Where one names several offsets around the
world (CST is also China's, IST Ireland's and Israel's), the entry keeps the meaning
most callers of this router would have; the hint names the region, so an admin
elsewhere sees at once that it is not theirs."""

_REGIONS = (
    # one city for each way the clock runs (offset in winter / in summer), best known first
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Halifax",
    "America/Puerto_Rico", "America/St_Johns", "America/Mexico_City", "America/Bogota",
    "America/Sao_Paulo", "America/Noronha", "Atlantic/Azores", "Atlantic/Cape_Verde",
    "Europe/London", "Africa/Abidjan", "Europe/Berlin", "Africa/Lagos", "Europe/Athens",
    "Africa/Johannesburg", "Europe/Istanbul", "Africa/Nairobi", "Asia/Tehran", "Asia/Dubai",
    "Asia/Kabul", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka",
    "Asia/Yangon", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Australia/Darwin",
    "Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Pacific/Noumea",
    "Pacific/Auckland", "Pacific/Fiji", "Pacific/Tongatapu", "Pacific/Kiritimati",
    "Pacific/Pago_Pago", "Pacific/Marquesas", "Pacific/Gambier", "Pacific/Pitcairn",
    "America/Nuuk", "Pacific/Chatham", "Australia/Lord_Howe", "Asia/Kamchatka",
)  # fmt: skip

_OFFSET_NAME = (
    r"(?i)^(?:(?P<etc>ETC/)?(?P<base>UTC|GMT|UT)\s*)?(?P<sign>[+-])\s*(?P<h>[0-9]{1,2})"
    r"(?::?(?P<m>[0-9]{2}))?$"
)


def _meant_offset(name: str) -> tuple[str, int] | None:
    """(what `name` is, the UTC offset in minutes the admin meant) for an abbreviation
    or a fixed offset; None for anything else.

    `UTC-5`, `GMT+2` and `+02:00` mean what they say (ahead of UTC is +). The POSIX
    names `Etc/GMT+5` have the sign inverted: `Etc/GMT+5` is five hours *behind* UTC.
    """
    upper = name.strip().upper()
    if upper in _ABBREVIATIONS:
        return "an abbreviation", _ABBREVIATIONS[upper][0]
    m = compiled(_OFFSET_NAME).match(name.strip())
    if m is None:
        if upper in ("GMT0", "GMT+0", "GMT-0", "ETC/GMT", "ETC/GMT0", "ETC/GMT+0", "ETC/GMT-0"):
            return "a fixed offset", 0
        return None
    hours, minutes = int(m["h"]), int(m["m"] or 0)
    if hours > 14 or minutes >= 60:
        return None
    offset = (hours * 60 + minutes) * (1 if m["sign"] == "+" else -1)
    if m["etc"]:
        # POSIX: Etc/GMT+2 is UTC-2
        return "a fixed offset (Etc/ names count the other way)", -offset
    return "a fixed offset", offset


def _utc(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "") if minutes else "UTC"


@lru_cache(maxsize=1)
def _region_offsets() -> Mapping[str, tuple[int, int]]:
    """Each candidate region's UTC offset in minutes (standard time, daylight saving time),
    from the system's time-zone data (equal when the region does not change its clock)."""
    out: dict[str, tuple[int, int]] = {}
    named = (zone for _, zones in _ABBREVIATIONS.values() for zone in zones)
    for name in dict.fromkeys((*_REGIONS, *named)):
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        # the clock in winter is the earlier one, whatever the data calls standard time
        # (Europe/Dublin's standard time is its summer time, with a negative DST in winter)
        jan, jul = (
            int(datetime(2026, month, 15, 12, tzinfo=zone).utcoffset().total_seconds()) // 60  # type: ignore[union-attr]
            for month in (1, 7)
        )
        out[name] = (min(jan, jul), max(jan, jul))
    return out


def regions_for(offset: int, abbreviation: str | None = None) -> list[tuple[str, str]]:
    """Region zones that keep `offset` (minutes east of UTC), each with when it holds
    ("in winter", "all year", "in summer"): for an abbreviation, the regions it names;
    for an offset, up to one of each kind. Each shows the offset the admin meant for
    part of the year at least, so a suggestion never moves the clock they had in mind."""
    offsets = _region_offsets()
    named = _ABBREVIATIONS.get((abbreviation or "").upper(), (0, ()))[1]
    candidates = [n for n in named if n in offsets] if named else list(offsets)
    found: list[tuple[str, str]] = []
    for when in ("in winter", "all year", "in summer"):
        for name in candidates:
            standard, summer = offsets[name]
            fits = (
                standard == offset != summer
                if when == "in winter"
                else (standard == offset == summer if when == "all year" else summer == offset)
            )
            if fits and name not in (n for n, _ in found):
                found.append((name, when))
                if not named:
                    break  # one of each kind is enough to find one's own
    return found[:3]


def _region_hint(name: str, offset: int) -> str:
    found = regions_for(offset, name.strip())
    if not found:
        return f"use the IANA name of the office's region, e.g. America/New_York ({_utc(offset)})"
    if len(found) == 1:
        return f"did you mean {found[0][0]}?"
    if len({when for _, when in found}) == 1:
        shown = [zone for zone, _ in found]
    else:
        shown = [f"{zone} ({_utc(offset)} {when})" for zone, when in found]
    return "did you mean " + ", ".join(shown[:-1]) + " or " + shown[-1] + "?"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
