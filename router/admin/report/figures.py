"""The report as typed values: what `router report` found, for its text, JSON and picture.

`Report.as_json()` is the JSON output (schema `SCHEMA`, fields in docs/report.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "router-report/1"
"""The `schema` field of the JSON output; its fields are documented in docs/report.md."""


# --- the report, as typed values -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionCount:
    key: str
    """The keypad key as recorded (`1`, `*`, `#`)."""
    count: int
    """Times callers pressed it in this menu (invalid presses included: see `invalid`)."""
    share: float
    """`count` over every key pressed in this menu."""


@dataclass(frozen=True, slots=True)
class MenuReport:
    name: str
    entries: int
    """Times callers entered the menu (`router_menu_entries_total{menu}`)."""
    calls: int
    """Calls that entered it at least once."""
    options: tuple[OptionCount, ...]
    invalid: int
    """Invalid entries (`router_invalid_keys_total{menu}`)."""
    no_input: int
    """No-input time-outs (`router_timeouts_total{menu}`)."""
    limits: Mapping[str, int]
    """Limits reached here, by kind: invalid, no_input, transfers, keys, call_length."""
    ended: Mapping[str, int]
    """Calls that ended in this menu, by `end` (`router_calls_ended_total{menu,end}`)."""
    gave_up: int
    """Calls whose caller hung up (or was dropped) in this menu."""
    drop_off: float
    """`gave_up` over `calls`."""
    in_file: bool | None
    """Whether the menu file given with --menus has this menu; None without --menus."""


@dataclass(frozen=True, slots=True)
class DestinationReport:
    name: str
    """The destination's name, the directory entry, or the masked URI (as metrics name it)."""
    transfers: int
    outcomes: Mapping[str, int]
    """By `TransferOutcome`: succeeded, busy, no_answer, rejected, error, unfinished."""
    sip_statuses: Mapping[str, int]
    """Failed transfers by SIP status (`none` when the far end gave none)."""
    median_to_transfer_s: float | None
    """Median seconds from the call's start (`started_at`) to the transfer request."""


@dataclass(frozen=True, slots=True)
class PathCount:
    path: str
    """Menus in order, then where the call went: `main > support > support_desk: succeeded`."""
    calls: int
    share: float


@dataclass(frozen=True, slots=True)
class VersionCount:
    version: str
    calls: int
    first: str
    """`started_at` of its earliest call."""
    last: str


@dataclass(frozen=True, slots=True)
class Damaged:
    where: str
    """`file:line`."""
    why: str


@dataclass(frozen=True, slots=True)
class Report:
    files: tuple[str, ...]
    since: str | None
    until: str | None
    timezone: str
    """The zone of `hours`."""
    records: int
    """Lines read that were records (damaged ones apart)."""
    calls: int
    """Records within --since/--until: what every other figure counts."""
    outside: int
    """Records left out by --since/--until."""
    damaged: int
    damaged_lines: tuple[Damaged, ...]
    """The first `DAMAGED_NAMED` of them."""
    versions: tuple[VersionCount, ...]
    menu_file: str | None
    """The version of the --menus file, if given."""
    ends: Mapping[str, int]
    """Calls by `end` (`router_calls_total{end}`)."""
    keys: int
    """Keys acted on (`router_keys_total`; keys beyond a record's cap are not in it)."""
    menus: tuple[MenuReport, ...]
    destinations: tuple[DestinationReport, ...]
    paths: tuple[PathCount, ...]
    paths_exact: bool
    """False when the path table filled and was pruned: counts may then be low."""
    hours: tuple[int, ...]
    """Calls by hour of day (0-23) in `timezone`."""
    starts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Calls by number dialled (`default` for none) and first menu: the graph's entries."""
    languages: Mapping[str, int] = field(default_factory=dict)
    """Calls by the caller's language at the end (records of files with `languages`)."""

    def menu(self, name: str) -> MenuReport | None:
        return next((m for m in self.menus if m.name == name), None)

    def destination(self, name: str) -> DestinationReport | None:
        return next((d for d in self.destinations if d.name == name), None)

    def as_json(self) -> dict[str, Any]:
        """The documented JSON form (docs/report.md)."""
        return {
            "schema": SCHEMA,
            "files": list(self.files),
            "since": self.since,
            "until": self.until,
            "timezone": self.timezone,
            "records": self.records,
            "calls": self.calls,
            "outside": self.outside,
            "damaged": {
                "count": self.damaged,
                "lines": [{"where": d.where, "why": d.why} for d in self.damaged_lines],
            },
            "versions": [
                {"version": v.version, "calls": v.calls, "first": v.first, "last": v.last}
                for v in self.versions
            ],
            "menu_file": self.menu_file,
            "ends": dict(self.ends),
            "keys": self.keys,
            "menus": [
                {
                    "name": m.name,
                    "entries": m.entries,
                    "calls": m.calls,
                    "options": [
                        {"key": o.key, "count": o.count, "share": round(o.share, 4)}
                        for o in m.options
                    ],
                    "invalid": m.invalid,
                    "no_input": m.no_input,
                    "limits": dict(m.limits),
                    "ended": dict(m.ended),
                    "gave_up": m.gave_up,
                    "drop_off": round(m.drop_off, 4),
                    "in_file": m.in_file,
                }
                for m in self.menus
            ],
            "destinations": [
                {
                    "name": d.name,
                    "transfers": d.transfers,
                    "outcomes": dict(d.outcomes),
                    "sip_statuses": dict(d.sip_statuses),
                    "median_seconds_to_transfer": d.median_to_transfer_s,
                }
                for d in self.destinations
            ],
            "paths": [
                {"path": p.path, "calls": p.calls, "share": round(p.share, 4)} for p in self.paths
            ],
            "paths_exact": self.paths_exact,
            "hours": list(self.hours),
            "starts": {number: dict(menus) for number, menus in self.starts.items()},
            **({"languages": dict(self.languages)} if self.languages else {}),
        }
