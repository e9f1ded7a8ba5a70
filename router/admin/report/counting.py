"""Counting: records folded into bounded tallies as they stream by, then the `Report`.

Each line is read through the typed `CallRecord` (`CallRecord.from_json`: a damaged line
is named, not counted) and folded into counters; no record is kept, so memory is
bounded by the menu file (menus, keys, destinations, SIP statuses), not by the number
of calls. Two tallies could grow with the input and are capped: the most common paths
(a table of at most `PATH_TABLE` distinct paths, see `_Paths`) and the times to a
transfer (kept to a tenth of a second, so at most one entry per tenth of a second of
call). Every outcome is counted as the router's metrics count it
(`router.runtime.outcomes`): the report's figures for the same calls equal the
Prometheus counters'.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from router.admin.report.figures import (
    Damaged,
    DestinationReport,
    MenuReport,
    OptionCount,
    PathCount,
    Report,
    VersionCount,
)
from router.core.events import EndReason
from router.core.model import MenuFile
from router.runtime.outcomes import GAVE_UP, TransferOutcome
from router.runtime.records import CallRecord

PATH_TABLE = 10_000
"""Distinct paths counted at once; when the table fills, the less common half is dropped."""
PATH_STEPS = 8
"""Menus of a path kept; a longer path ends in `...`."""
DAMAGED_NAMED = 20
"""Damaged lines named (file:line); every one is counted."""
STARTS_TABLE = 1_000
"""Distinct (number dialled, first menu) pairs counted; more are lumped as `other`."""


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
    outcomes: Counter[TransferOutcome] = field(default_factory=Counter)
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
        self.languages: Counter[str] = Counter()

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
        if call.language is not None and (
            call.language in self.languages or len(self.languages) < STARTS_TABLE
        ):
            self.languages[call.language] += 1
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
            tally.outcomes[transfer.outcome] += 1
            if transfer.outcome.failure is not None:
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
            left = sum(tally.ended[end] for end in GAVE_UP)
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
                outcomes={o.value: t.outcomes[o] for o in TransferOutcome if t.outcomes[o]},
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
            languages=dict(self.languages.most_common()),
        )


_NEVER = datetime.max.replace(tzinfo=UTC)


def _path(menus: list[str], call: CallRecord) -> str:
    steps = menus[:PATH_STEPS]
    if len(menus) > PATH_STEPS:
        steps.append("...")
    last = call.transfer
    if call.end is EndReason.TRANSFERRED and last is not None:
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
