"""`router report`: how callers used the menus, from the router's call records.

The records (JSON lines, docs/runtime.md "Call records") are read line by line and
folded into counters as they stream by; no record is kept, so memory is bounded by
the menu file (menus, keys, destinations, SIP statuses), not by the number of calls.
Two tallies could grow with the input and are capped: the most common paths (a table
of at most `PATH_TABLE` distinct paths, see `_Paths`) and the times to a transfer
(kept to a tenth of a second, so at most one entry per tenth of a second of call).

Every outcome is counted as the router's metrics count it (`router.runtime.outcomes`):
the report's figures for the same calls equal the Prometheus counters'.

Output: text for the terminal, JSON for scripts (schema in docs/report.md), and the
menu graph of `router graph` drawn with the calls on it (SVG or a self-contained HTML
page, `router.admin.report_html`).

This module imports neither LiveKit nor aiohttp: the command starts in a blink.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from router.core.events import EndReason
from router.core.model import MenuFile
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import CallRecord

__all__ = [
    "SCHEMA",
    "Damaged",
    "DestinationReport",
    "MenuReport",
    "OptionCount",
    "PathCount",
    "Report",
    "ReportBuilder",
    "VersionCount",
    "add_arguments",
    "read_records",
    "run",
]

SCHEMA = "router-report/1"
"""The `schema` field of the JSON output; its fields are documented in docs/report.md."""

PATH_TABLE = 10_000
"""Distinct paths counted at once; when the table fills, the less common half is dropped."""
PATH_STEPS = 8
"""Menus of a path kept; a longer path ends in `...`."""
DAMAGED_NAMED = 20
"""Damaged lines named (file:line); every one is counted."""
STARTS_TABLE = 1_000
"""Distinct (number dialled, first menu) pairs counted; more are lumped as `other`."""
PROGRESS_AFTER = 2.0
"""Seconds after which progress is shown on stderr (then about once a second)."""
PROGRESS_EVERY = 1.0

GAVE_UP_ENDS = (EndReason.CALLER_HANGUP.value, EndReason.DROPPED.value)


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
        }


# --- reading ---------------------------------------------------------------------------


def read_records(
    paths: Iterable[str], builder: ReportBuilder, *, progress: IO[str] | None = None
) -> None:
    """Stream every line of every file (`-`: stdin) into `builder`."""
    started = time.monotonic()
    shown = started
    lines = 0
    for path in paths:
        name = "stdin" if path == "-" else path
        size = 0 if path == "-" else os.path.getsize(path)
        source = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
        try:
            read = 0  # characters: about the bytes (a text file cannot tell() while iterated)
            for number, line in enumerate(source, 1):
                builder.line(name, number, line)
                lines += 1
                read += len(line)
                if progress is not None and lines % 8192 == 0:
                    now = time.monotonic()
                    if now - started >= PROGRESS_AFTER and now - shown >= PROGRESS_EVERY:
                        shown = now
                        done = f", {min(1.0, read / size):.0%} of {name}" if size else ""
                        print(
                            f"router report: {lines:,} lines read{done} ({now - started:.0f} s)",
                            file=progress,
                            flush=True,
                        )
        finally:
            if source is not sys.stdin:
                source.close()


# --- counting ----------------------------------------------------------------------------


class _Paths:
    """A bounded count of paths: exact until `PATH_TABLE` distinct paths are seen; then the
    less common half is dropped (their counts are lost, `exact` turns False) and counting
    goes on. A path common enough to matter stays in the table, with its count at most
    the number of times it was seen after its last drop lower than the truth."""

    def __init__(self, size: int = PATH_TABLE) -> None:
        self.size = size
        self.counts: Counter[str] = Counter()
        self.exact = True

    def add(self, path: str) -> None:
        self.counts[path] += 1
        if len(self.counts) > self.size:
            self.exact = False
            self.counts = Counter(dict(self.counts.most_common(self.size // 2)))


@dataclass
class _MenuTally:
    entries: int = 0
    calls: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    invalid: int = 0
    no_input: int = 0
    limits: Counter[str] = field(default_factory=Counter)
    ended: Counter[str] = field(default_factory=Counter)


@dataclass
class _DestinationTally:
    outcomes: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    times: Counter[float] = field(default_factory=Counter)
    """Seconds from the call's start to the request, to a tenth: a bounded median."""


@dataclass
class _VersionTally:
    calls: int = 0
    first: datetime | None = None
    last: datetime | None = None


NOT_RECORDED = "(menu not recorded)"
"""Where counts of records older than per-menu fields go (`invalid_in`, `timeouts_in`)."""


class ReportBuilder:
    """Folds records into counters, one at a time; `report()` makes the `Report`."""

    def __init__(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        zone: tzinfo = UTC,
        menu_file: MenuFile | None = None,
    ) -> None:
        self.since = since
        self.until = until
        self.zone = zone
        self.menu_file = menu_file
        self.files: list[str] = []
        self.records = 0
        self.calls = 0
        self.outside = 0
        self.damaged = 0
        self.damaged_lines: list[Damaged] = []
        self.ends: Counter[str] = Counter()
        self.keys = 0
        self.menus: dict[str, _MenuTally] = {}
        self.destinations: dict[str, _DestinationTally] = {}
        self.paths = _Paths()
        self.hours = [0] * 24
        self.versions: dict[str, _VersionTally] = {}
        self.starts: Counter[tuple[str, str]] = Counter()

    def line(self, file: str, number: int, text: str) -> None:
        """One line of a file: a record, a blank line, or a damaged line."""
        if not self.files or self.files[-1] != file:
            self.files.append(file)
        if not text.strip():
            return
        try:
            call = CallRecord.from_json(json.loads(text))
        except json.JSONDecodeError as exc:
            self._damaged(file, number, f"not JSON ({exc.msg} at column {exc.colno})")
            return
        except ValueError as exc:
            self._damaged(file, number, str(exc))
            return
        self.add(call)

    def _damaged(self, file: str, number: int, why: str) -> None:
        self.damaged += 1
        if len(self.damaged_lines) < DAMAGED_NAMED:
            self.damaged_lines.append(Damaged(f"{file}:{number}", why))

    def record(self, record: Mapping[str, Any]) -> None:
        """One record already parsed (tests, scripts); a damaged one raises ValueError."""
        self.add(CallRecord.from_json(dict(record)))

    def add(self, call: CallRecord) -> None:
        self.records += 1
        started = call.started
        if (self.since is not None and started < self.since) or (
            self.until is not None and started >= self.until
        ):
            self.outside += 1
            return
        self.calls += 1
        self.ends[call.end or ""] += 1
        self.hours[started.astimezone(self.zone).hour] += 1
        version = self.versions.get(call.menu_version)
        if version is None:
            version = self.versions[call.menu_version] = _VersionTally()
        version.calls += 1
        if version.first is None or started < version.first:
            version.first = started
        if version.last is None or started > version.last:
            version.last = started
        menus = [visit.menu for visit in call.menus]
        for name in menus:
            self._menu(name).entries += 1
        for name in set(menus):
            self._menu(name).calls += 1
        if menus:
            dialled = call.dialled or "default"
            if (dialled, menus[0]) not in self.starts and len(self.starts) >= STARTS_TABLE:
                dialled = "other"
            self.starts[dialled, menus[0]] += 1
        for key in call.keys:
            if key.ignored:
                continue
            self.keys += 1
            self._menu(key.menu or NOT_RECORDED).keys[key.key] += 1
        if call.invalid_in is None:
            if call.invalid:
                self._menu(NOT_RECORDED).invalid += call.invalid
        else:
            for menu, n in call.invalid_in.items():
                self._menu(menu or NOT_RECORDED).invalid += n
        if call.timeouts_in is None:
            if call.timeouts:
                self._menu(NOT_RECORDED).no_input += call.timeouts
        else:
            for menu, n in call.timeouts_in.items():
                self._menu(menu or NOT_RECORDED).no_input += n
        for limit in call.limits:
            self._menu(limit.menu or NOT_RECORDED).limits[limit.limit] += 1
        if call.ended_in is not None:
            self._menu(call.ended_in).ended[call.end or ""] += 1
        for transfer in call.transfers:
            tally = self.destinations.get(transfer.destination)
            if tally is None:
                tally = self.destinations[transfer.destination] = _DestinationTally()
            tally.outcomes[transfer.outcome.value] += 1
            if transfer.result == "failed":
                status = transfer.sip_status
                tally.statuses["none" if status is None else str(status)] += 1
            tally.times[round(transfer.t, 1)] += 1
        self.paths.add(_path(menus, call))

    def _menu(self, name: str) -> _MenuTally:
        tally = self.menus.get(name)
        if tally is None:
            tally = self.menus[name] = _MenuTally()
        return tally

    def report(self, *, top_paths: int = 10) -> Report:
        known = set(self.menu_file.menus) if self.menu_file is not None else None
        order = list(self.menu_file.menus) if self.menu_file is not None else []
        names = sorted(
            self.menus,
            key=lambda n: (n not in order, order.index(n) if n in order else 0, n),
        )
        menus = []
        for name in names:
            tally = self.menus[name]
            pressed = sum(tally.keys.values())
            left = sum(tally.ended[end] for end in GAVE_UP_ENDS)
            menus.append(
                MenuReport(
                    name=name,
                    entries=tally.entries,
                    calls=tally.calls,
                    options=tuple(
                        OptionCount(key, n, n / pressed)
                        for key, n in sorted(tally.keys.items(), key=lambda kv: (-kv[1], kv[0]))
                    ),
                    invalid=tally.invalid,
                    no_input=tally.no_input,
                    limits=dict(sorted(tally.limits.items())),
                    ended=dict(tally.ended.most_common()),
                    gave_up=left,
                    drop_off=left / tally.calls if tally.calls else 0.0,
                    in_file=None if known is None else name in known,
                )
            )
        destinations = [
            DestinationReport(
                name=name,
                transfers=sum(t.outcomes.values()),
                outcomes={
                    o.value: t.outcomes[o.value] for o in TransferOutcome if t.outcomes[o.value]
                },
                sip_statuses=dict(t.statuses.most_common()),
                median_to_transfer_s=_median(t.times),
            )
            for name, t in sorted(
                self.destinations.items(), key=lambda kv: -sum(kv[1].outcomes.values())
            )
        ]
        paths = tuple(
            PathCount(path, n, n / self.calls if self.calls else 0.0)
            for path, n in self.paths.counts.most_common(top_paths)
        )
        starts: dict[str, dict[str, int]] = {}
        for (number, menu), n in sorted(self.starts.items()):
            starts.setdefault(number, {})[menu] = n
        return Report(
            files=tuple(self.files),
            since=self.since.isoformat() if self.since else None,
            until=self.until.isoformat() if self.until else None,
            timezone=str(self.zone),
            records=self.records,
            calls=self.calls,
            outside=self.outside,
            damaged=self.damaged,
            damaged_lines=tuple(self.damaged_lines),
            versions=tuple(
                VersionCount(
                    v,
                    t.calls,
                    t.first.isoformat() if t.first else "",
                    t.last.isoformat() if t.last else "",
                )
                for v, t in sorted(self.versions.items(), key=lambda kv: kv[1].first or _NEVER)
            ),
            menu_file=self.menu_file.version if self.menu_file is not None else None,
            ends=dict(self.ends.most_common()),
            keys=self.keys,
            menus=tuple(menus),
            destinations=tuple(destinations),
            paths=paths,
            paths_exact=self.paths.exact,
            hours=tuple(self.hours),
            starts=starts,
        )


_NEVER = datetime.max.replace(tzinfo=UTC)


def _path(menus: list[str], call: CallRecord) -> str:
    steps = menus[:PATH_STEPS]
    if len(menus) > PATH_STEPS:
        steps.append("...")
    last = call.transfer
    if call.end == EndReason.TRANSFERRED.value and last is not None:
        tail = f"{last.destination}: {last.outcome.value}"
    else:
        tail = call.end or ""
    return " > ".join([*steps, tail]) if steps else tail


def _median(times: Counter[float]) -> float | None:
    total = sum(times.values())
    if not total:
        return None
    middle = (total - 1) / 2
    seen = 0
    low: float | None = None
    for value in sorted(times):
        seen += times[value]
        if low is None and seen > math.floor(middle):
            low = value
        if low is not None and seen > math.ceil(middle):
            return round((low + value) / 2, 1)
    assert low is not None
    return low


# --- text --------------------------------------------------------------------------------


def text(report: Report) -> str:
    """The report for a terminal."""
    out: list[str] = []
    w = out.append
    span = ""
    if report.since or report.until:
        span = f" from {report.since or 'the start'} until {report.until or 'the end'}"
    w(f"{report.calls:,} calls{span} in {', '.join(report.files) or 'no file'}")
    if report.outside:
        w(f"  ({report.outside:,} more records outside that time)")
    if report.damaged:
        w(f"  {report.damaged:,} damaged line(s) skipped:")
        for bad in report.damaged_lines:
            w(f"    {bad.where}: {bad.why}")
        if report.damaged > len(report.damaged_lines):
            w(f"    ... and {report.damaged - len(report.damaged_lines):,} more")
    if report.versions:
        w("")
        w("Menu file versions")
        for v in report.versions:
            current = " (the --menus file)" if v.version == report.menu_file else ""
            w(f"  {v.version}{current}: {v.calls:,} calls, {v.first[:16]} to {v.last[:16]}")
    if report.ends:
        w("")
        w("How calls ended")
        for end, n in report.ends.items():
            w(f"  {end:<20} {n:>9,}  {_pct(n, report.calls)}")
    gone = [m for m in report.menus if m.in_file is False]
    for m in report.menus:
        w("")
        note = ""
        if m.in_file is False:
            note = "  [not in the --menus file: from an older version]"
        w(f"Menu {m.name}{note}")
        w(
            f"  entered {m.entries:,} times by {m.calls:,} calls; "
            f"{m.gave_up:,} gave up here ({m.drop_off:.0%})"
        )
        for o in m.options:
            w(f"  key {o.key:<3} {o.count:>9,}  {o.share:6.1%}")
        w(f"  invalid entries {m.invalid:,}, no-input time-outs {m.no_input:,}")
        if m.limits:
            w("  limits reached: " + ", ".join(f"{k} {n:,}" for k, n in m.limits.items()))
        if m.ended:
            w("  ended here: " + ", ".join(f"{k} {n:,}" for k, n in m.ended.items()))
    if gone:
        w("")
        w(
            "Menus no longer in the --menus file (keys taken there are counted above): "
            + ", ".join(m.name for m in gone)
        )
    if report.destinations:
        w("")
        w("Transfers")
        for d in report.destinations:
            median = (
                ""
                if d.median_to_transfer_s is None
                else f", median {d.median_to_transfer_s:.1f} s after the call's start"
            )
            w(f"  {d.name}: {d.transfers:,}{median}")
            for outcome, n in d.outcomes.items():
                w(f"    {outcome.replace('_', ' '):<12} {n:>9,}  {_pct(n, d.transfers)}")
            if d.sip_statuses:
                w(
                    "    SIP statuses of failures: "
                    + ", ".join(f"{s} x{n:,}" for s, n in d.sip_statuses.items())
                )
    if report.paths:
        w("")
        exact = "" if report.paths_exact else " (approximate: too many distinct paths)"
        w(f"Most common paths{exact}")
        for p in report.paths:
            w(f"  {p.calls:>9,}  {p.share:6.1%}  {p.path}")
    if report.calls:
        w("")
        w(f"Calls by hour of day ({report.timezone})")
        top = max(report.hours) or 1
        for hour, n in enumerate(report.hours):
            bar = "#" * round(40 * n / top)
            w(f"  {hour:02d}  {n:>9,}  {bar}")
    return "\n".join(out) + "\n"


def _pct(n: int, total: int) -> str:
    return f"{n / total:6.1%}" if total else ""


# --- the command -----------------------------------------------------------------------

FORMATS = ("text", "json", "svg", "html")
EXTENSIONS = {".txt": "text", ".json": "json", ".svg": "svg", ".html": "html", ".htm": "html"}


def _when(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no time zone; add one, e.g. {value}+01:00 or {value}Z"
        )
    return at


def _zone(value: str) -> tzinfo:
    if value.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"not a time zone: {value!r} (an IANA name, e.g. America/New_York)"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="CALLS.jsonl", help="call records, JSON lines (- for stdin)"
    )
    parser.add_argument(
        "--since", type=_when, metavar="ISO-8601", help="only calls started at or after this time"
    )
    parser.add_argument(
        "--until", type=_when, metavar="ISO-8601", help="only calls started before this time"
    )
    parser.add_argument(
        "--menus",
        metavar="PATH",
        help="the menu file: draws the picture, names menus that are no longer in it",
    )
    parser.add_argument(
        "--tz", type=_zone, default=UTC, metavar="ZONE", help="zone of the hours of day (UTC)"
    )
    parser.add_argument(
        "--paths", type=int, default=10, metavar="N", help="most common paths shown (10)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="text (the default), json (docs/report.md), svg or html (need --menus for the "
        "graph); wins over the extension of -o",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (format from its extension)"
    )


def run(args: argparse.Namespace) -> int:
    fmt: str | None = args.format
    if fmt is None and args.output:
        fmt = EXTENSIONS.get(os.path.splitext(args.output)[1].lower())
        if fmt is None:
            print(
                f"router report: cannot tell the format from {args.output!r}: end its name in "
                ".txt, .json, .svg or .html, or give --format.",
                file=sys.stderr,
            )
            return 2
    fmt = fmt or "text"
    if args.since and args.until and args.until <= args.since:
        print("router report: --until must be later than --since.", file=sys.stderr)
        return 2
    menu_file: MenuFile | None = None
    if args.menus:
        from router.admin.check import load_or_report

        menu_file = load_or_report(args.menus, "report")
        if menu_file is None:
            return 1
    if fmt == "svg" and menu_file is None:
        print(
            "router report: the picture is the menu graph: give the menu file with --menus.",
            file=sys.stderr,
        )
        return 2
    missing = [p for p in args.files if p != "-" and not os.path.isfile(p)]
    if missing:
        print(f"router report: no such file: {missing[0]}", file=sys.stderr)
        return 1
    builder = ReportBuilder(since=args.since, until=args.until, zone=args.tz, menu_file=menu_file)
    read_records(args.files, builder, progress=sys.stderr)
    report = builder.report(top_paths=args.paths)
    if builder.records == 0 and builder.damaged:
        print(
            f"router report: no call records in {', '.join(builder.files)}: "
            f"{builder.damaged:,} damaged line(s), the first at {builder.damaged_lines[0].where}.",
            file=sys.stderr,
        )
        return 1
    output: str | bytes
    if fmt == "json":
        output = json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "text":
        output = text(report)
    else:
        from router.admin import report_html

        picture = report_html.svg(report, menu_file) if menu_file is not None else None
        if fmt == "svg":
            if picture is None:
                return 1
            output = picture
        else:
            output = report_html.page(report, picture)
    if report.damaged and fmt != "text":
        print(
            f"router report: {report.damaged:,} damaged line(s) skipped, the first at "
            f"{report.damaged_lines[0].where} ({report.damaged_lines[0].why})",
            file=sys.stderr,
        )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(output)
    else:
        sys.stdout.write(output)
    return 0
