"""What every stack benchmark shares: the stack, the router process, clocks, samplers, stats.

The stack is `router.stack.local.LocalStack` with wider port ranges (a call takes
four ICE ports on livekit-server and one RTP port on the SIP bridge; the test stack's
ranges hold about fifteen calls). The router is `RouterProcess` (`router.stack.harness`),
the same child process `router local` and the end-to-end tests run, with the benchmark's menu file
and ``ROUTER_TRACE_KEYS=1`` so it logs its own key-to-transfer-request time
(``ROUTER_TRACE_SETUP=1``: its set-up steps, read by bench/setup_cost.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from router.stack.harness import RouterProcess
from router.stack.local import LocalStack, free_udp_range

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MENUS = BENCH / "menus.yaml"
NUMBER = "+15550100001"
"""The number the benchmark's trunk answers (the menu file's `default` entry serves it)."""

RTC_PORTS = 1400
"""livekit-server ICE UDP ports: four per call (two peer connections each side), with room."""
RTP_PORTS = 500
"""SIP bridge RTP ports: one per call."""


# ---------------------------------------------------------------- the stack


class BenchStack(LocalStack):
    """`LocalStack` with port ranges for a few hundred concurrent calls.

    Both ranges sit below Linux's ephemeral range (32768+), so the callers' own
    sockets never take a port the stack counts on.
    """

    def _choose_ports(self) -> None:
        super()._choose_ports()
        if not self.fixed_ports:
            self.rtc_ports = free_udp_range(RTC_PORTS, lo=20000, hi=32000)
            self.rtp_ports = free_udp_range(RTP_PORTS, lo=12000, hi=19500)


@contextmanager
def running_stack(workdir: Path, agent_name: str) -> Iterator[BenchStack]:
    """The benchmark's local stack under `workdir/stack`, its dispatch rule sending the
    benchmark number to `agent_name`; stopped on leaving, whatever happened."""
    with BenchStack(workdir=workdir / "stack", quiet=True, log_level="info") as stack:
        stack.provision(agent_name, [NUMBER])
        yield stack


@contextmanager
def running_router(
    stack: LocalStack,
    workdir: Path,
    name: str,
    agent_name: str,
    *,
    executor: str = "thread",
    max_calls: int = 1000,
    command: str = "start",
    env: dict[str, str] | None = None,
) -> Iterator[tuple[RouterProcess, Path]]:
    """A router process on the benchmark menu and its call-records file, the process
    stopped on leaving.

    `router start`, as an operator runs it (the health and metrics servers on free
    ports); `router dev` also serves the trial page's browser callers, which sends every
    call's state into its room (`router.trial.reporter`): more work per call than a
    deployment does."""
    menus = workdir / "menus.yaml"
    if not menus.exists():
        shutil.copy(MENUS, menus)
    records = workdir / f"{name}.calls.jsonl"
    router = RouterProcess(
        {**stack.env, "ROUTER_TRACE_KEYS": "1", "ROUTER_TRACE_SETUP": "1", **(env or {})},
        menus=menus,
        log_path=workdir / f"{name}.log",
        agent_name=agent_name,
        records=str(records),
        extra_args=[
            *("--max-calls", str(max_calls), "--executor", executor),
            *(("--health-port", "0", "--metrics-port", "0") if command == "start" else ()),
        ],
        command=command,
    )
    router.start(timeout_s=120)
    try:
        yield router, records
    finally:
        router.stop()


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


TRACE_RE = re.compile(
    r"call (\S+): key to transfer request ([0-9.]+) ms"
    r"(?: \(key at ([0-9.]+), request at ([0-9.]+)\))?"
)


@dataclass(frozen=True)
class Trace:
    """One `key to transfer request` line of the router (ROUTER_TRACE_KEYS=1)."""

    room: str
    ms: float
    key_at: float | None
    """The DTMF callback, CLOCK_MONOTONIC (the same clock as `time.monotonic()` here)."""
    request_at: float | None


def router_traces(log_text: str) -> list[Trace]:
    return [
        Trace(
            m.group(1),
            float(m.group(2)),
            float(m.group(3)) if m.group(3) else None,
            float(m.group(4)) if m.group(4) else None,
        )
        for m in TRACE_RE.finditer(log_text)
    ]


async def wait_for(predicate: Any, limit_s: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `limit_s` passes; its last value."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())


# ---------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return math.nan
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary(values: Iterable[float], digits: int = 3) -> dict[str, Any]:
    """n, median, p50/p95/p99, min, max, mean of `values` (same unit as given)."""
    v = sorted(values)
    if not v:
        return {"n": 0}
    r = lambda x: round(x, digits)  # noqa: E731
    return {
        "n": len(v),
        "median": r(statistics.median(v)),
        "p50": r(percentile(v, 50)),
        "p95": r(percentile(v, 95)),
        "p99": r(percentile(v, 99)),
        "min": r(v[0]),
        "max": r(v[-1]),
        "mean": r(statistics.fmean(v)),
    }


def slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys over xs (None with fewer than two distinct xs)."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    num = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mx) ** 2 for x in xs)
    return num / den


# ---------------------------------------------------------------- processes


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _cpu_s(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return t.user + t.system
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


@dataclass
class Mem:
    rss_mb: float
    pss_mb: float | None
    processes: int


def memory(pid: int, *, pss: bool = False) -> Mem:
    """Resident memory of `pid` and its descendants (RSS summed; PSS too if asked)."""
    rss = 0
    pss_total = 0
    procs = tree(pid)
    for p in procs:
        try:
            if pss:
                info = p.memory_full_info()
                rss += info.rss
                pss_total += info.pss
            else:
                rss += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return Mem(rss / 2**20, pss_total / 2**20 if pss else None, len(procs))


@dataclass
class CpuWindow:
    """CPU used by named process trees and by the whole machine over a window."""

    pids: dict[str, Any]
    """name -> a pid or a list of pids (each with its descendants)."""
    solo: frozenset[str] = frozenset({"bench"})
    """Names measured as one process, not a tree (this process is the parent of everything)."""
    started: float = 0.0
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _machine: Any = None

    def start(self) -> CpuWindow:
        self.started = time.monotonic()
        self._start = {n: {p.pid: _cpu_s(p) for p in self._procs(n)} for n in self.pids}
        self._machine = psutil.cpu_times()
        return self

    def _procs(self, name: str) -> list[psutil.Process]:
        pids = self.pids[name]
        out: list[psutil.Process] = []
        for pid in pids if isinstance(pids, list) else [pids]:
            out += tree(pid)[:1] if name in self.solo else tree(pid)
        return out

    def stop(self) -> dict[str, Any]:
        """Cores used on average by each tree (1.0 = one core busy), and by the machine."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        out: dict[str, Any] = {"window_s": round(elapsed, 2)}
        for name in self.pids:
            before = self._start.get(name, {})
            used = 0.0
            for p in self._procs(name):
                used += _cpu_s(p) - before.get(p.pid, 0.0)
            out[name] = round(used / elapsed, 3)
        m0, m1 = self._machine, psutil.cpu_times()
        busy0 = sum(m0) - m0.idle - getattr(m0, "iowait", 0.0)
        busy1 = sum(m1) - m1.idle - getattr(m1, "iowait", 0.0)
        out["machine"] = round((busy1 - busy0) / elapsed, 3)
        out["machine_cores"] = psutil.cpu_count()
        return out


def other_load(exclude: Iterable[int]) -> list[dict[str, Any]]:
    """The busiest processes that are not ours over 1 s: what else shares the machine."""
    mine = set(exclude)
    procs = []
    for p in psutil.process_iter(["pid", "name", "cmdline"]):
        if p.pid in mine:
            continue
        try:
            p.cpu_percent(None)
            procs.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    time.sleep(1.0)
    busy = []
    for p in procs:
        try:
            c = p.cpu_percent(None)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if c >= 5.0:
            cmd = " ".join(p.info.get("cmdline") or [p.info.get("name") or "?"])
            busy.append({"pid": p.pid, "cpu_percent": round(c, 1), "cmd": cmd[:120]})
    return sorted(busy, key=lambda b: -b["cpu_percent"])[:8]


def our_pids(stack: LocalStack, routers: Iterable[RouterProcess]) -> list[int]:
    pids = [os.getpid()]
    for p in getattr(stack, "_procs", []):
        pids.append(p.popen.pid)
    for r in routers:
        if r.proc is not None:
            pids.extend(p.pid for p in tree(r.proc.pid))
    return pids


def stack_pids(stack: LocalStack) -> dict[str, int]:
    """pid of each stack part by name: livekit, sip, redis."""
    return {p.name: p.popen.pid for p in getattr(stack, "_procs", [])}


# ---------------------------------------------------------------- the machine


def _pkg_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": psutil.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "cpu_model": cpu_model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, Any]:
    from router.stack.install import ensure_stack

    server = None
    try:
        binaries = ensure_stack(quiet=True)
        out = subprocess.run(
            [str(binaries.livekit_server), "--version"], capture_output=True, text=True, timeout=20
        )
        server = (out.stdout or out.stderr).strip().split()[-1]
    except Exception as exc:  # noqa: BLE001 - a version is informative only
        server = f"unknown ({exc})"
    return {
        "livekit_server": server,
        "livekit": _pkg_version("livekit"),
        "livekit_api": _pkg_version("livekit-api"),
        "livekit_agents": _pkg_version("livekit-agents"),
        "python": platform.python_version(),
        "router": _pkg_version("livekit-menu-router"),
        "git": _git_head(),
    }


def _git_head() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or None
    except OSError:
        return None


SIP_BRIDGE = (
    "stand-in (router/stack/sipstandin: real SIP/RTP/RFC 4733 and REFER over the real psrpc "
    "bus; livekit-sip itself cannot be built here)"
)


def result_header(benchmark: str, argv: list[str] | None) -> dict[str, Any]:
    """The first fields of a `python -m bench.NAME` result, which bench/schema.py reads as
    an EngineResult: the benchmark, Python, the machine in words, the date, the command."""
    info = machine_info()
    return {
        "benchmark": benchmark,
        "python": sys.version.split()[0],
        "machine": f"{info['cores']} cores ({info['cpu_model']}), {info['kernel']}",
        "date": now_iso(),
        "command": f"python -m bench.{benchmark} " + " ".join(argv or sys.argv[1:]),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_quiet(max_wait_s: float, busy_below: float = 0.3) -> dict[str, Any]:
    """Wait (up to `max_wait_s`) until the machine is mostly idle; say how it went.

    The machine is shared: other people's test runs land on the same cores and would
    be measured as ours. `busy_below` is the share of all cores busy over 2 s.
    """
    started = time.monotonic()
    busy = psutil.cpu_percent(interval=2.0) / 100
    first = busy
    while busy >= busy_below and time.monotonic() - started < max_wait_s:
        busy = psutil.cpu_percent(interval=2.0) / 100
    waited = time.monotonic() - started
    if busy >= busy_below:
        log(f"machine still {busy:.0%} busy after {waited:.0f} s; measuring anyway")
    elif waited > 3:
        log(f"waited {waited:.0f} s for the machine to quieten ({first:.0%} -> {busy:.0%} busy)")
    return {
        "busy_at_start": round(first, 2),
        "busy_when_started": round(busy, 2),
        "waited_s": round(waited, 1),
    }


def _thread_times(pid: int) -> dict[tuple[int, int], tuple[str, float]]:
    out: dict[tuple[int, int], tuple[str, float]] = {}
    for p in tree(pid):
        try:
            threads = p.threads()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        for t in threads:
            try:
                name = Path(f"/proc/{p.pid}/task/{t.id}/comm").read_text().strip()
            except OSError:
                name = "?"
            out[(p.pid, t.id)] = (_thread_group(name), t.user_time + t.system_time)
    return out


def _thread_group(name: str) -> str:
    """libwebrtc and tokio name their threads; Python threads are all called `python`."""
    name = re.sub(r"\s*\d+$", "", name)
    return {"python": "python (the router's and livekit-agents' threads)"}.get(name, name)


class ThreadCpu:
    """CPU by thread name over a window, for a process tree: where a process's time goes."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._start: dict[tuple[int, int], tuple[str, float]] = {}
        self._t0 = 0.0

    def start(self) -> ThreadCpu:
        self._t0 = time.monotonic()
        self._start = _thread_times(self.pid)
        return self

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        by_name: dict[str, float] = {}
        for key, (name, t) in _thread_times(self.pid).items():
            before = self._start.get(key, (name, 0.0))[1]
            by_name[name] = by_name.get(name, 0.0) + (t - before) / elapsed
        top = sorted(by_name.items(), key=lambda kv: -kv[1])[:10]
        return {name: round(cores, 4) for name, cores in top if cores > 0.0005}
