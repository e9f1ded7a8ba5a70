"""A soak's figures, typed: what `check` returns and bench/results/soak-*.json holds.

Each class is one JSON object of a soak's results file, a frozen pydantic model
(bench/result_model.py: strict, `Number`, `Items`, keys a class does not declare kept in
`model_extra`); `bench.schema.SoakResult` adds the run's envelope (`started`, `command`,
`machine`, `versions`). The keys are docs/reliability.md's table "The results file".
A field with a default is one older soaks did not write (`probes`, `interrupted`,
`refused_unclaimed`, ...): read from such a file it stays absent, and writes back so.

    SoakFigures
    ├── outages: OutageFigures, one per part stopped
    ├── rss_kb, fds, threads, fds_when_idle, threads_when_idle: Spread
    ├── fds_threads_per_1000_calls: GrowthPer1000Calls
    ├── samples: Sample, one every 2 s (and one at each idle moment)
    └── processes: ProcessFigures (bench/soak/processes.py)

Units are in the names: `_s` seconds, `_kb` KiB, `_mb` MiB.
"""

from __future__ import annotations

from bench.result_model import Items, Number, ResultModel

__all__ = [
    "GrowthPer1000Calls",
    "OutageFigures",
    "ProcessFigures",
    "Sample",
    "SoakFigures",
    "Spread",
]


class Spread(ResultModel):
    """One figure of the router process over some samples: the first, the last, the
    least and the most."""

    first: Number
    last: Number
    min: Number
    max: Number


class OutageFigures(ResultModel):
    """One part of the stack stopped and started again (`bench.soak.faults.Outage`)."""

    part: str
    """`redis`, `livekit` or `sip`."""
    down_at_s: Number
    """From the first call placed to the stop."""
    calls_up: int
    """Calls in progress when it was stopped."""
    down_s: Number
    """From the stop to the part healthy again."""
    recovered_s: Number | None
    """From the part healthy again to the answer of the first call then served to its end;
    None if none was within 180 s."""
    probes: int
    """Probe calls placed after the restart until one was served."""


class GrowthPer1000Calls(ResultModel):
    """Descriptors and threads gained per 1,000 calls ended after warm-up, by the fit
    (`check.per_call_ended`; informative: the idle moments are what is judged)."""

    fds: Number | None
    threads: Number | None


class Sample(ResultModel):
    """The router process every 2 s (bench/soak/run.py `_sample`), from /proc; its whole
    process tree beside it (bench/soak/processes.py `tree_figures`; not in older soaks
    nor in an idle moment's sample)."""

    t: Number
    """Seconds since the soak's first call."""
    ended: int
    """Calls ended so far."""
    up: int
    """Calls in progress."""
    rss_kb: Number
    threads: Number
    fds: Number
    idle: int | None = None
    """1 for a sample of the soak's idle moments (every call ended, then settled)."""
    children: Number | None = None
    children_rss_kb: Number | None = None
    child_rss_max_kb: Number | None = None
    child_uss_max_kb: Number | None = None
    tree_rss_kb: Number | None = None
    tree_pss_kb: Number | None = None
    tree_cpu_s: Number | None = None


class ProcessFigures(ResultModel):
    """The router's whole process tree (bench/soak/processes.py `summary`)."""

    tree_pss_kb_per_call_after_warmup: Number | None
    tree_pss_mb_max: Number
    tree_rss_mb_max: Number
    children_max: int
    children_rss_mb_max: Number
    child_rss_mb_max: Number
    child_uss_mb_max: Number
    cpu_s_per_call_ended_after_warmup: Number | None
    """CPU seconds (user + system) of the tree per call ended after warm-up."""


class SoakFigures(ResultModel):
    """What a soak measured and what did not hold (bench/soak/check.py `check`)."""

    calls: int
    """Calls placed (probes apart)."""
    probes: int | None = None
    """Probe calls placed after the restarts (older soaks counted them among `calls`)."""
    interrupted: bool = False
    """Ctrl-C ended the run before its calls were placed."""
    answered: int
    wall_s: Number
    """From the router's start to its exit."""
    call_seconds_median: Number | None
    """The median answered call; None with none answered."""
    behaviours: dict[str, int]
    """Calls placed by kind of caller (`scenarios.Behaviour`)."""
    outcomes: dict[str, int]
    """Calls by how they were judged (`as simulated`, `cut by a fault, with its reason`,
    `wrong outcome`, `records missing or doubled`, `refused by the stack`)."""
    cut_by_outages: dict[str, int]
    """Calls cut by each outage, by `PART: END` (or `PART: keys lost`)."""
    refused_unclaimed: int | None = None
    """Refused with every part up: psrpc's 1 s server selection (bench/soak/refusals.py)."""
    refused_undispatched: int | None = None
    """Rooms livekit-server never dispatched, with every part up (refusals.py)."""
    refused_unpublished: int | None = None
    """Calls the bridge never answered because livekit-server never received the router's
    track media ("publish time out"), with every part up (refusals.py)."""
    duplicate_keys: int | None = None
    """Keys the router dropped as a bridge's copy, summed over the records."""
    outages: Items[OutageFigures]
    menu_saves: int
    broken_saves_refused: int
    """Refusals of a changed menu file in the router's log."""
    rooms_left: int
    """Rooms on the server 60 s after the run."""
    rooms_left_by_the_stack: int
    """Of them, those the stack's own outages left."""
    router_exit: int | None
    """The router's exit status after SIGTERM; None if it did not exit."""
    rss_kb_per_call_after_warmup: Number | None
    rss_kb: Spread | None
    """After warm-up."""
    fds_when_idle: Spread | None = None
    """At the soak's idle moments (else any sample with no call up, else the last)."""
    threads_when_idle: Spread | None = None
    fds_threads_per_1000_calls: GrowthPer1000Calls
    fds: Spread | None
    """After warm-up."""
    threads: Spread | None
    failures: Items[str]
    """Every check that did not hold, one sentence each; empty when everything held."""
    samples: Items[Sample] = ()
    each_call: Items[str]
    """One line per call: kind, start, length, the phone's outcome, the record's `end`."""
    processes: ProcessFigures | None = None
    """None in older soaks, and when the tree was never sampled."""
