"""The soak: many real SIP calls through one router process, with the faults of a day.

`soak(config)` starts the local stack (Redis, livekit-server, the SIP bridge) and one
router (`router start`, as deployed), then places `config.calls` calls of every
`Behaviour`, between `min_calls` and `max_calls` at a time (the number in progress
swings between the two), while the menu file is saved every `save_every_s` and each
part of the stack is stopped and started once (a fraction of the way through the
calls each). After a restart the soak places probe calls, one at a time, until one
is served to its end: the time from the restart to that answer is the recovery time.
The router gets SIGTERM while the last calls are up and must let them finish (drain).

Then every call is held to its record (`check`): one record per answered call, its
outcome the simulated one (or, for a call up during an outage, the outage's end), no
room left on the server, the router's RSS slope per call after warm-up, its file
descriptors and threads (sampled from /proc). Returns the figures, typed (`SoakFigures`).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import NUMBER, BenchStack, log, read_records, slope
from bench.soak import processes
from bench.soak.check import CallResult, check, per_call_ended
from bench.soak.faults import MenuSaver, Outage, menu_versions
from bench.soak.figures import SoakFigures
from bench.soak.scenarios import Behaviour, options
from router.stack.harness import RouterProcess
from router.stack.local import free_port
from router.stack.sipphone import CallOutcome, SipCall

__all__ = ["SoakConfig", "soak"]

AGENT = "menu-router-soak"
SETTLE_S = 4.0
"""Before a part is stopped, no new call for this long, so every call it cuts is up."""
PROBE_TIMEOUT_S = 15.0
"""A probe call after a restart that is not served within this is hung up; the next is placed."""
PROGRESS_EVERY = 100
"""A progress line every this many calls placed at most (every tenth of a shorter run)."""
IDLE_SETTLE_S = 10.0
"""At an idle moment, how long after the last call ended the router is sampled: its
sessions wait up to `CALLER_LEAVES_FIRST_S` (5 s) for the caller to go, then leave."""


@dataclass
class SoakConfig:
    calls: int = 1000
    min_calls: int = 10
    max_calls: int = 30
    swing_s: float = 240.0
    """Period of the swing of the number of calls in progress between min and max."""
    save_every_s: float = 30.0
    outages: Sequence[str] = ("redis", "livekit", "sip")
    """Parts stopped and started once each, in this order, spread over the run."""
    down_s: float = 5.0
    """How long a part stays stopped."""
    drain_s: float = 90.0
    """The router's --drain-timeout; the last calls are up when it gets SIGTERM."""
    warmup_calls: int = 100
    """Calls ended before the RSS slope is taken."""
    judge_growth: bool = True
    """Hold the RSS slope, descriptors and threads to their limits (a run of a few dozen
    calls reports them, but they are noise there)."""
    sample_s: float = 2.0
    seed: int = 18
    kinds: Sequence[Behaviour] = tuple(Behaviour)
    """The kinds of caller drawn from (all by default; one kind alone measures one way a
    call ends, e.g. the router's memory per call of each: bench/findings.md)."""
    router_env: Mapping[str, str] = field(default_factory=dict)
    """Added to the router's environment only (e.g. allocator settings such as
    MALLOC_ARENA_MAX or LD_PRELOAD), not to the soak's own or the stack's."""
    stack_log_level: str = "info"
    """livekit-server's and the SIP bridge's log level (`debug` to follow one call's
    negotiation through the server when examining a kind the soak found)."""


@dataclass
class _Run:
    config: SoakConfig
    stack: BenchStack
    uri: str
    results: list[CallResult] = field(default_factory=list)
    in_flight: int = 0
    ended: int = 0
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while new calls may be placed (cleared during an outage and its probes)."""
    samples: list[dict[str, float]] = field(default_factory=list)
    tasks: set[asyncio.Task[CallResult]] = field(default_factory=set)
    serial: itertools.count[int] = field(default_factory=itertools.count)
    router_pid: int | None = None
    started: float = field(default_factory=time.monotonic)
    """Monotonic: the time base of the samples' `t`."""
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)
    """Set by Ctrl-C: no new call; the router drains the calls up and the figures of the
    calls placed so far are written, marked interrupted."""

    @property
    def placed(self) -> int:
        """Calls of the soak placed so far; the probes after a restart are not counted."""
        return sum(1 for r in self.results if not r.probe)

    def router_alive(self) -> bool:
        return self.router_pid is None or os.path.exists(f"/proc/{self.router_pid}/fd")

    def caller_id(self, i: int) -> str:
        # records show the last four digits: unique while there are fewer than 10,000 calls
        return f"+155577{i:05d}"

    async def call(self, behaviour: Behaviour, *, probe: bool = False) -> CallResult:
        i = next(self.serial)
        result = CallResult(i, self.caller_id(i), behaviour, time.monotonic(), probe=probe)
        self.results.append(result)
        self.in_flight += 1
        # a probe gives up sooner: a call LiveKit could not dispatch rings until it does
        script = options(behaviour, result.caller_id, timeout_s=PROBE_TIMEOUT_S if probe else 90.0)
        try:
            report = await SipCall(self.uri, script).run_script()
            result.outcome = report.outcome.value
            result.status = report.status
            result.answered = report.answered_at is not None
            result.answered_at = report.answered_at
            result.refers = tuple(r.refer_to for r in report.refers)
            result.remote_bye = report.outcome is CallOutcome.REMOTE_BYE
        except Exception as exc:  # noqa: BLE001 - a failed call is a result
            result.error = repr(exc)
        finally:
            result.ended_at = time.monotonic()
            self.in_flight -= 1
            self.ended += 1
        return result

    def launch(self, behaviour: Behaviour) -> None:
        task = asyncio.ensure_future(self.call(behaviour))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def target(self, t: float) -> int:
        c = self.config
        swing = 0.5 - 0.5 * math.cos(2 * math.pi * t / c.swing_s)
        return round(c.min_calls + (c.max_calls - c.min_calls) * swing)


def _proc_figures(pid: int) -> dict[str, float]:
    """RSS (KiB), threads and open file descriptors of one process, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss_kb"] = float(line.split()[1])
            elif line.startswith("Threads:"):
                out["threads"] = float(line.split()[1])
    out["fds"] = float(len(os.listdir(f"/proc/{pid}/fd")))
    return out


async def _sample(run: _Run, pid: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            figures = _proc_figures(pid)
        except OSError:
            return
        if len(figures) < 3:  # exiting: /proc/PID/status no longer shows its memory
            return
        run.samples.append(
            {"t": round(time.monotonic() - run.started, 1), "ended": run.ended, "up": run.in_flight}
            | figures
            # job processes too (`--executor process`); off the loop: smaps takes ~20 ms each
            | await asyncio.to_thread(processes.tree_figures, pid)
        )
        try:
            await asyncio.wait_for(stop.wait(), run.config.sample_s)
        except TimeoutError:
            pass


async def _idle_moment(run: _Run, pid: int) -> None:
    """Let every call end, wait `IDLE_SETTLE_S`, and sample the router (marked idle)."""
    log(f"soak: an idle moment after {run.placed} calls placed: letting {run.in_flight} end")
    while run.in_flight:  # noqa: ASYNC110 (a counter the call tasks keep)
        await asyncio.sleep(0.2)
    await asyncio.sleep(IDLE_SETTLE_S)
    try:
        figures = _proc_figures(pid)
    except OSError:
        return
    run.samples.append(
        {"t": round(time.monotonic() - run.started, 1), "ended": run.ended, "up": 0, "idle": 1}
        | figures
    )
    log(
        f"soak: idle after {run.ended} calls: {figures.get('fds')} descriptors, "
        f"{figures.get('threads')} threads"
    )


async def _outage(run: _Run, outage: Outage) -> None:
    """Stop a part with calls up, start it again, then probe until a call is served."""
    run.gate.clear()
    await asyncio.sleep(SETTLE_S)  # the calls placed last are answered: all are up
    outage.calls_up = run.in_flight
    log(f"soak: stopping {outage.part} with {run.in_flight} calls up")
    outage.down_at = time.monotonic()
    await asyncio.to_thread(run.stack.stop_part, outage.part)
    await asyncio.sleep(run.config.down_s)
    await asyncio.to_thread(run.stack.start_part, outage.part)
    outage.up_at = time.monotonic()
    log(f"soak: {outage.part} is back; probing")
    while (
        time.monotonic() - outage.up_at < 180
        and run.router_alive()
        and not run.interrupted.is_set()
    ):
        outage.probes += 1
        probe = await run.call(Behaviour.TRANSFER_OK, probe=True)
        if probe.answered and probe.remote_bye and probe.refers:
            outage.recovered_s = round(probe.placed_at - outage.up_at, 1)
            break
        await asyncio.sleep(1.0)
    if outage.recovered_s is not None:
        log(f"soak: {outage.part}: served again {outage.recovered_s} s after its restart")
    else:
        log(f"soak: {outage.part}: no call served again after its restart (yet)")
    run.gate.set()


async def _rooms_left(stack: BenchStack, within_s: float) -> list[str]:
    """Rooms still on the server, polled until none or `within_s` (the server closes an
    emptied room after its departure timeout)."""
    from livekit import api

    deadline = time.monotonic() + within_s
    while True:
        async with stack.api() as lk:
            rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
        if not rooms or time.monotonic() > deadline:
            return [r.name for r in rooms]
        await asyncio.sleep(2.0)


async def _drive(run: _Run, router: RouterProcess, saver: MenuSaver) -> list[Outage]:
    c = run.config
    rng = random.Random(c.seed)
    kinds = list(c.kinds)
    outages = [Outage(part) for part in c.outages]
    due = [(round(c.calls * (k + 1) / (len(outages) + 1)), o) for k, o in enumerate(outages)]
    # two moments with no call up, after warm-up and before the last calls, at which the
    # router's descriptors and threads are held flat (`check.judged_growth`)
    quiet = sorted({c.warmup_calls, c.calls - c.max_calls} - {0}) if c.judge_growth else []
    run.gate.set()
    t0 = time.monotonic()
    progress_every = max(1, min(PROGRESS_EVERY, c.calls // 10))
    next_progress = progress_every
    assert router.proc is not None
    while run.placed < c.calls and not run.interrupted.is_set():
        await run.gate.wait()
        if router.proc.poll() is not None:  # nothing left to call: check what there is
            log(f"soak: the router exited ({router.proc.returncode}); stopping the soak")
            break
        if quiet and run.placed >= quiet[0]:
            quiet.pop(0)
            await _idle_moment(run, router.proc.pid)
            continue
        if due and run.placed >= due[0][0] and run.in_flight >= c.min_calls:
            await _outage(run, due.pop(0)[1])  # with calls up, as in a real outage
            continue
        if run.in_flight >= run.target(time.monotonic() - t0):
            await asyncio.sleep(0.2)
            continue
        run.launch(rng.choice(kinds))
        await asyncio.sleep(0.1)  # the call task has counted itself placed
        if run.placed >= next_progress:
            _progress(run, time.monotonic() - t0)
            next_progress += progress_every
    # the last calls are up: stop the router, which must let them finish
    await asyncio.sleep(3.0)
    if router.proc.poll() is None:
        log(f"soak: SIGTERM to the router with {run.in_flight} calls up")
        os.killpg(router.proc.pid, signal.SIGTERM)
    if run.tasks:
        await asyncio.wait(set(run.tasks), timeout=c.drain_s + 120)
    return outages


def _progress(run: _Run, elapsed_s: float) -> None:
    """One line: calls placed of the run's, ended, up, the router's RSS when last sampled."""
    rss = run.samples[-1].get("rss_kb") if run.samples else None
    memory = f", router RSS {rss / 1024:.0f} MiB" if rss else ""
    log(
        f"soak: {run.placed} of {run.config.calls} calls placed in {elapsed_s / 60:.1f} min, "
        f"{run.ended} ended, {run.in_flight} up{memory}"
    )


def _on_interrupt(run: _Run, main: asyncio.Task[Any]) -> None:
    """Ctrl-C: the first stops placing calls (the figures so far are written), the second
    stops at once (no figures)."""
    if run.interrupted.is_set():
        log("soak: stopping at once (no figures)")
        main.cancel()
        return
    run.interrupted.set()
    run.gate.set()  # out of an outage's probing too
    log(
        f"soak: interrupted after {run.placed} calls placed; the router drains the "
        f"{run.in_flight} calls up, then the figures are written (Ctrl-C again: stop at once)"
    )


def _log_lines(path: Path) -> list[str]:
    """A part's log lines (empty when it wrote none): the refusals' reasons."""
    try:
        return path.read_text(errors="replace").splitlines()
    except OSError:
        return []


async def soak(config: SoakConfig, workdir: Path) -> SoakFigures:
    """Run the soak in `workdir` (stack, router log, records, menu file); the figures."""
    stack = BenchStack(workdir=workdir / "stack", quiet=True, log_level=config.stack_log_level)
    await asyncio.to_thread(stack.start)
    router: RouterProcess | None = None
    stop = asyncio.Event()
    try:
        await stack.aprovision(AGENT, [NUMBER])
        versions = menu_versions(workdir)
        menus = workdir / "menus.yaml"
        saver = MenuSaver(menus, versions, config.save_every_s)
        menus.write_text(versions.a)
        records = workdir / "calls.jsonl"
        router = RouterProcess(
            {**stack.env, **config.router_env},
            menus=menus,
            log_path=workdir / "router.log",
            agent_name=AGENT,
            records=str(records),
            command="start",
            extra_args=[
                "--drain-timeout",
                str(config.drain_s),
                "--metrics-port",
                "0",
                "--health-port",
                str(free_port()),
                "--max-calls",
                str(config.max_calls * 2),
            ],
        )
        await asyncio.to_thread(router.start, 120)
        assert router.proc is not None
        run = _Run(config, stack, stack.sip_uri(NUMBER), router_pid=router.proc.pid)
        main = asyncio.current_task()
        assert main is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, _on_interrupt, run, main)
        sampler = asyncio.ensure_future(_sample(run, router.proc.pid, stop))
        saving = asyncio.ensure_future(saver.run(stop))
        started = time.monotonic()
        outages = await _drive(run, router, saver)
        stop.set()
        await asyncio.gather(sampler, saving)
        exit_code = await asyncio.to_thread(router.proc.wait, config.drain_s + 30)
        wall_s = time.monotonic() - started
        rooms = await _rooms_left(stack, 60)
        return check(
            run.results,
            read_records(records),
            versions=versions,
            saver=saver,
            outages=outages,
            samples=run.samples,
            warmup_calls=config.warmup_calls,
            judge_growth=config.judge_growth,
            planned=config.calls,
            interrupted=run.interrupted.is_set(),
            rooms_left=rooms,
            router_log=router.log(),
            bridge_log=_log_lines(stack.log_paths["sip"]),
            server_log=_log_lines(stack.log_paths["livekit"]),
            router_exit=exit_code,
            wall_s=wall_s,
            slope=slope,
            processes=processes.summary(
                run.samples, config.warmup_calls, lambda s, what: per_call_ended(s, what, slope)
            ),
        )
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)
        stop.set()
        if router is not None:
            await asyncio.to_thread(router.stop)
        await asyncio.to_thread(stack.stop)
