"""What must hold after a soak, as figures: each call against its record, and the router.

`check` returns the figures, typed (`SoakFigures`, bench/soak/figures.py), `failures`
among them (sentences; empty when everything held). Each record is read through the
router's own schema (`CallRecord.from_json`) and compared by its typed fields; a record
that does not read is its call's failure, said in one sentence. A call the SIP bridge
never answered has no record to hold it to; it counts as refused, which is only allowed
while a part of the stack was down or coming back.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.soak.faults import (
    FAULT_ENDS,
    FAULT_MARGIN_S,
    MenuSaver,
    MenuVersions,
    Outage,
    fault_told,
)
from bench.soak.figures import (
    GrowthPer1000Calls,
    OutageFigures,
    ProcessFigures,
    Sample,
    SoakFigures,
    Spread,
)
from bench.soak.refusals import unclaimed_callers, undispatched_callers, unpublished_callers
from bench.soak.scenarios import Behaviour, Expected, expected
from router.core.events import EndReason
from router.runtime.records import CallRecord

__all__ = ["CallResult", "check", "judged_growth", "per_call_ended"]

RSS_SLOPE_LIMIT_KB = 50.0
"""The most RSS per call (KiB) the router may gain after warm-up: more is a leak."""
FLAT_PER_1000_CALLS = 20.0
"""File descriptors or threads the router may gain per 1,000 calls after warm-up (a
leak of one per call would show as 1,000); the number in progress moves them meanwhile."""
IDLE_SPAN_CALLS = 200
"""Calls ended between the first and the last moment with no call up after warm-up for
descriptors and threads to be judged by those moments rather than by the fit."""


def judged_growth(
    late: Sequence[Mapping[str, float]], what: str, fitted: float | None
) -> tuple[float | None, str]:
    """How much `what` (descriptors, threads) grew per call ended after warm-up, and how
    that was judged: between the first and the last idle moment (the soak lets every call
    end and samples the router, `run._idle_moment`) when they are `IDLE_SPAN_CALLS`
    apart, else the fit (`fitted`, `per_call_ended`).

    A call holds 20-40 descriptors while it sets up and fewer after, and the sessions
    waiting out an outage's grace are not among the calls up: the fit swings by hundreds
    per 1,000 calls either way (run 8: +240, with the same 31 descriptors when idle
    mid-run and at the end); with nothing up, what is left is what leaks."""
    idle = [s for s in late if s.get("idle")]
    if len(idle) > 1 and idle[-1]["ended"] - idle[0]["ended"] >= IDLE_SPAN_CALLS:
        span = idle[-1]["ended"] - idle[0]["ended"]
        return (
            idle[-1][what] - idle[0][what]
        ) / span, f"between idle moments {span:.0f} calls apart"
    return fitted, "after warm-up"


@dataclass
class CallResult:
    """One call as the caller saw it."""

    i: int
    caller_id: str
    behaviour: Behaviour
    placed_at: float
    probe: bool = False
    ended_at: float = 0.0
    answered: bool = False
    answered_at: float | None = None
    """Monotonic, as `placed_at`: the bridge's 200 OK (it comes after the router joined)."""
    outcome: str | None = None
    status: int | None = None
    refers: tuple[str, ...] = ()
    remote_bye: bool = False
    error: str | None = None


_ROOM_CALLER = re.compile(r"_\+[\d*]*(\d{4})_")
"""The caller's last four digits in a dispatched call's room name (`call-_+*******0042_...`),
for a record made before the caller was seen (`left_before_join`: no `caller`)."""


@dataclass(frozen=True)
class Unread:
    """A record line `CallRecord.from_json` refused."""

    why: str
    """Its ValueError's few words (`started_at is not a string`)."""


def _whose(caller: object, room: object) -> str:
    """The last four digits of the caller a record is of: its `caller`, else its room's."""
    found = _ROOM_CALLER.search(room if isinstance(room, str) else "")
    return (caller if isinstance(caller, str) else "")[-4:] or (found.group(1) if found else "")


def _by_caller(records: Sequence[Mapping[str, Any]]) -> dict[str, list[CallRecord | Unread]]:
    """The records (JSON lines, as `json.loads` gives them) read, by `_whose` call."""
    out: dict[str, list[CallRecord | Unread]] = {}
    for raw in records:
        try:
            record = CallRecord.from_json(raw)
        except ValueError as exc:  # told as the call's failure (`check`), not raised
            out.setdefault(_whose(raw.get("caller"), raw.get("room")), []).append(Unread(str(exc)))
            continue
        out.setdefault(_whose(record.caller, record.room), []).append(record)
    return out


def per_call_ended(
    samples: Sequence[Mapping[str, float]],
    what: str,
    slope: Callable[[Sequence[float], Sequence[float]], float | None],
) -> float | None:
    """How much `what` grows per call ended, the calls in progress held apart: a least-
    squares fit of `what` on both (the number in progress swings between 10 and 30, and
    each call up holds its own memory, threads and descriptors); the plain slope on calls
    ended when the number in progress did not change. None with too few samples."""
    if len(samples) < 3:
        return None
    xs = [s["ended"] for s in samples]
    ups = [s["up"] for s in samples]
    ys = [s[what] for s in samples]
    mx, mu, my = (statistics.fmean(v) for v in (xs, ups, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    suu = sum((u - mu) ** 2 for u in ups)
    sxu = sum((x - mx) * (u - mu) for x, u in zip(xs, ups, strict=True))
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    suy = sum((u - mu) * (y - my) for u, y in zip(ups, ys, strict=True))
    det = sxx * suu - sxu**2
    if suu == 0 or abs(det) < 1e-9 * max(sxx * suu, 1.0):
        return slope(xs, ys)
    return (sxy * suu - suy * sxu) / det


def _keys_lost_to(parts: set[str], record: CallRecord, want: Expected) -> bool:
    """Whether `record` is `want` less keys a livekit-server or Redis outage (the way
    keys reach the router) kept from it, and says the router lost LiveKit meanwhile."""
    got = Expected.of_record(record)
    return (
        bool(parts & {"livekit", "redis"})
        and bool(record.errors)
        and (got.end, got.transfers) == (want.end, want.transfers)
        and got.keys < want.keys
    )


def _answered_as_the_bridge_stopped(call: CallResult, during: Sequence[Outage]) -> bool:
    """Whether the SIP bridge answered `call` (its 200 OK) at most `FAULT_MARGIN_S` before
    it was stopped: its `sip.callStatus` `active` may then never reach the router, which
    sees the caller leave unanswered (the bridge's goodbye, as a caller's: `SAID_BY_THE_END`).
    Run 14's call 747: answered 45 ms before the bridge's SIGTERM, recorded
    `left_before_answer`. An answer longer before is no fault's: the router missed it."""
    return call.answered_at is not None and any(
        o.part == "sip" and call.answered_at >= o.down_at - FAULT_MARGIN_S for o in during
    )


def _spread(values: list[float]) -> Spread | None:
    if not values:
        return None
    return Spread(first=values[0], last=values[-1], min=min(values), max=max(values))


def check(
    calls: Sequence[CallResult],
    records: Sequence[Mapping[str, Any]],
    *,
    versions: MenuVersions,
    saver: MenuSaver,
    outages: Sequence[Outage],
    samples: Sequence[Mapping[str, float]],
    warmup_calls: int,
    rooms_left: Sequence[str],
    judge_growth: bool = True,
    planned: int = 0,
    interrupted: bool = False,
    router_log: str,
    router_exit: int | None,
    wall_s: float,
    slope: Callable[[Sequence[float], Sequence[float]], float | None],
    bridge_log: Sequence[str] = (),
    server_log: Sequence[str] = (),
    processes: ProcessFigures | None = None,
) -> SoakFigures:
    """The figures of a soak (module docstring): `calls` as placed, `records` the router's
    JSON lines as `json.loads` gave them. `bridge_log`, the SIP bridge's log lines, tells
    the stack's refusals at load apart from other refusals (`unclaimed_callers`), and
    `server_log`, livekit-server's, the calls it never dispatched (`undispatched_callers`);
    `processes`, the router's process tree (bench/soak/processes.py), is passed through.
    Raises nothing for a record that does not read: its call's failure says so."""
    failures: list[str] = []
    unclaimed = unclaimed_callers(bridge_log)
    refused_unclaimed = 0
    undispatched = undispatched_callers(server_log)
    refused_undispatched = 0
    unpublished = unpublished_callers(server_log)
    refused_unpublished = 0
    index = _by_caller(records)
    by_caller = dict(index)
    cache: dict[tuple[Behaviour, str], Expected] = {}
    outcomes: Counter[str] = Counter()
    cut: Counter[str] = Counter()
    wrong: list[str] = []
    verdicts: dict[int, str] = {}
    for call in calls:
        mine = by_caller.pop(call.caller_id[-4:], [])
        during = [o for o in outages if o.cut(call.placed_at, call.ended_at)]
        verdicts[call.i] = (
            ",".join(str(r.end) if isinstance(r, CallRecord) else "unreadable" for r in mine)
            or "no record"
        )
        if not call.answered:
            outcomes["refused by the stack"] += 1
            if not during and not call.probe and call.caller_id in unclaimed:
                refused_unclaimed += 1  # livekit-server claimed no psrpc request in 1 s
            elif not during and not call.probe and call.caller_id in undispatched:
                refused_undispatched += 1  # its one job request lost the same way
            elif not during and not call.probe and call.caller_id in unpublished:
                refused_unpublished += 1  # the router's track media never reached the server
            elif not during and not call.probe:
                wrong.append(
                    f"call {call.i} ({call.behaviour}): not answered ({call.outcome}, "
                    f"{call.status}, {call.error}) with every part up"
                )
            if len(mine) > 1:
                wrong.append(f"call {call.i}: never answered, yet {len(mine)} records")
            continue
        if len(mine) != 1:
            wrong.append(f"call {call.i} ({call.behaviour}): {len(mine)} records, not one")
            outcomes["records missing or doubled"] += 1
            continue
        record = mine[0]
        if isinstance(record, Unread):
            wrong.append(f"call {call.i}: its record does not read: {record.why}")
            outcomes["records missing or doubled"] += 1  # none to hold the call to
            continue
        version = record.menu_version
        if version not in versions.files:
            wrong.append(f"call {call.i}: served with version {version}, neither A nor B")
            continue
        key = (call.behaviour, version)
        if key not in cache:
            cache[key] = expected(call.behaviour, versions.files[version])
        if cache[key].matches(record):
            outcomes["as simulated"] += 1
            continue
        ends = frozenset().union(*(FAULT_ENDS[o.part] for o in during))
        parts = {o.part for o in during}
        if record.end in ends and fault_told(record, parts):
            cut[f"{'+'.join(o.part for o in during)}: {record.end}"] += 1
            outcomes["cut by a fault, with its reason"] += 1
            continue
        if record.end is EndReason.LEFT_BEFORE_ANSWER and _answered_as_the_bridge_stopped(
            call, during
        ):
            cut[f"{'+'.join(o.part for o in during)}: {record.end}"] += 1
            outcomes["cut by a fault, with its reason"] += 1
            continue
        if _keys_lost_to(parts, record, cache[key]):
            # the call went as simulated, less keys pressed while LiveKit was away (they
            # never reached the router), and its record says it lost LiveKit (runs 8, 11)
            cut[f"{'+'.join(o.part for o in during)}: keys lost"] += 1
            outcomes["cut by a fault, with its reason"] += 1
            continue
        outcomes["wrong outcome"] += 1
        wrong.append(
            f"call {call.i} ({call.behaviour}, version {version[:6]}"
            f"{', during ' + '+'.join(o.part for o in during) if during else ''}): "
            f"expected {cache[key]}, got {Expected.of_record(record)}"
        )
    strays = sum(len(v) for v in by_caller.values())
    if strays:
        wrong.append(f"{strays} records of calls the soak did not place")
    failures += wrong[:40]
    if len(wrong) > 40:
        failures.append(f"... and {len(wrong) - 40} more")

    # the menu file: the broken save refused, the last good version kept
    refused = router_log.count("changed but was refused")
    broken_saves = sum(1 for s in saver.saves if s.version is None)
    if refused != broken_saves:
        failures.append(f"{broken_saves} broken saves, {refused} refusals in the router's log")
    # the router takes the version current when LiveKit dispatches the call: between
    # the INVITE and the bridge's 200 OK (which waits for the router), with 2.5 s for
    # the router to see a save; at load the dispatch came up to 4 s after the INVITE
    stale: list[str] = []
    for call in calls:
        read = [r for r in index.get(call.caller_id[-4:], []) if isinstance(r, CallRecord)]
        took_by = call.answered_at if call.answered_at is not None else call.placed_at
        if read and read[0].menu_version not in saver.good_versions_between(
            call.placed_at - 2.5, took_by + 2.5
        ):
            stale.append(str(call.i))
    if stale:
        failures.append(
            f"{len(stale)} calls served with a version that was not the current good one "
            f"(calls {', '.join(stale[:10])})"
        )

    # the router process: RSS slope after warm-up, descriptors and threads flat
    late = [s for s in samples if s["ended"] >= warmup_calls]
    growth_failures: list[str] = []
    rss_slope = per_call_ended(late, "rss_kb", slope)
    if rss_slope is None:
        growth_failures.append("too few samples after warm-up for an RSS slope")
    elif rss_slope >= RSS_SLOPE_LIMIT_KB:
        growth_failures.append(f"RSS grows {rss_slope:.1f} KiB per call after warm-up")
    # the soak's own idle moments; else any sample with no call up (its sessions may
    # still be leaving), else the last
    idle = [s for s in late if s.get("idle")] or [s for s in late if s["up"] == 0] or late[-1:]
    growth: dict[str, float | None] = {}
    for what in ("fds", "threads"):
        per_call = per_call_ended(late, what, slope)
        growth[what] = round(per_call * 1000, 1) if per_call is not None else None
        judged, how = judged_growth(late, what, per_call)
        if judged is not None and judged * 1000 >= FLAT_PER_1000_CALLS:
            growth_failures.append(f"{what} grow by {judged * 1000:.1f} per 1000 calls {how}")
    if judge_growth:
        failures += growth_failures
    # a room is the router's to end once it served the call (it deletes it); a room the
    # server lost in its own restart, or one of a call it never dispatched, is the stack's
    served = {c.caller_id[-4:]: c for c in calls if index.get(c.caller_id[-4:])}
    stack_rooms: list[str] = []
    for name in rooms_left:
        found = _ROOM_CALLER.search(name)
        owner = served.get(found.group(1)) if found else None
        if owner is None or any(
            o.part == "livekit" and o.cut(owner.placed_at, owner.ended_at) for o in outages
        ):
            stack_rooms.append(name)
        else:
            failures.append(f"the room of call {owner.i} ({owner.behaviour}) was left")
    if stack_rooms:
        failures.append(
            f"{len(stack_rooms)} rooms left on the server by its outages (of calls the router "
            f"never served, or cut by the livekit-server restart): {', '.join(stack_rooms[:5])}"
        )
    if router_exit != 0:
        failures.append(f"the router exited with {router_exit} after SIGTERM")
    panics = [line for line in router_log.splitlines() if line.startswith("FFI Panic")]
    if panics:
        # livekit's rtc library SIGTERMs its own process on a panic: the router drains and exits
        failures.append(f"the router's rtc library panicked ({len(panics)}): {panics[0]}")
    placed = sum(1 for c in calls if not c.probe)
    if interrupted:
        failures.append(f"interrupted (Ctrl-C) after {placed} of {planned} calls")
    elif placed < planned:
        failures.append(f"the soak stopped after {placed} of {planned} calls (router gone)")
    if "Traceback" in router_log:
        failures.append("the router logged a traceback")
    # an outage Ctrl-C cut short, or never reached, says nothing of the stack's recovery
    outages = [o for o in outages if o.down_at]
    for o in outages:
        if o.recovered_s is None and not interrupted:
            failures.append(f"no call served within 180 s of restarting {o.part}")
    durations = [c.ended_at - c.placed_at for c in calls if c.answered]
    t0 = min((c.placed_at for c in calls), default=0.0)
    every_read = [r for rs in index.values() for r in rs if isinstance(r, CallRecord)]
    return SoakFigures(
        calls=placed,
        probes=len(calls) - placed,
        interrupted=interrupted,
        answered=sum(c.answered for c in calls),
        wall_s=round(wall_s, 1),
        call_seconds_median=round(statistics.median(durations), 1) if durations else None,
        behaviours=dict(Counter(str(c.behaviour) for c in calls)),
        outcomes=dict(outcomes),
        cut_by_outages=dict(cut),
        # refused with every part up because no livekit-server claimed the bridge's psrpc
        # request within psrpc's 1 s, as upstream livekit-sip gives it (refusals.py)
        refused_unclaimed=refused_unclaimed,
        # never dispatched: livekit-server's one job request for the room found no agent
        # service within psrpc's 1 s (refusals.py); the caller rang until they gave up
        refused_undispatched=refused_undispatched,
        # refused with every part up because livekit-server never received the router's
        # prompt track media ("publish time out"; finding 28, "Open")
        refused_unpublished=refused_unpublished,
        # keys dropped as a bridge's copy (`KEY_REPEAT_WINDOW_S`): with livekit-sip's one
        # event per press, each is a real press merged by a stalled router (reliability.md)
        duplicate_keys=sum(r.duplicate_keys for r in every_read),
        outages=tuple(
            OutageFigures(
                part=o.part,
                down_at_s=round(o.down_at - t0, 1),
                calls_up=o.calls_up,
                down_s=round(o.up_at - o.down_at, 1),
                recovered_s=o.recovered_s,
                probes=o.probes,
            )
            for o in outages
        ),
        menu_saves=len(saver.saves),
        broken_saves_refused=refused,
        rooms_left=len(rooms_left),
        rooms_left_by_the_stack=len(stack_rooms),
        router_exit=router_exit,
        rss_kb_per_call_after_warmup=round(rss_slope, 2) if rss_slope is not None else None,
        rss_kb=_spread([s["rss_kb"] for s in late]),
        fds_when_idle=_spread([s["fds"] for s in idle]),
        threads_when_idle=_spread([s["threads"] for s in idle]),
        fds_threads_per_1000_calls=GrowthPer1000Calls(fds=growth["fds"], threads=growth["threads"]),
        fds=_spread([s["fds"] for s in late]),
        threads=_spread([s["threads"] for s in late]),
        failures=tuple(failures),
        # each as sampled: a sample of the main process alone keeps no tree figures
        samples=tuple(Sample.from_json(dict(s), "a sample") for s in samples),
        each_call=tuple(
            f"{c.i} {c.behaviour}{' probe' if c.probe else ''} at {c.placed_at - t0:.1f} s "
            f"for {c.ended_at - c.placed_at:.1f} s: {c.outcome} {c.status or ''} "
            f"{c.error or ''} -> {verdicts.get(c.i)}"
            for c in calls
        ),
        processes=processes,
    )
