"""Sections 3 to 5 of the report (calls per process, thread against process executor, two
processes under one agent name) and the sizing advice drawn from them."""

from __future__ import annotations

from typing import Any

from bench.report.cells import NA, greet, num, or_na, table
from bench.schema import RunResult
from bench.sections import CpuPerCall, Ramp

__all__ = ["best_thread", "capacity", "sizing", "two", "up_no_failure"]

_TITLES = {
    "thread_sip": "One router process, thread executor, SIP callers through the SIP bridge",
    "thread_rtc": "One router process, thread executor, rtc callers (no SIP bridge)",
    "process_sip": "One router, process executor (one process per call), SIP callers",
    "process_rtc": "One router, process executor (one process per call), rtc callers",
}


def up_no_failure(ramp: Ramp) -> int:
    """The highest level with every call up and none failed (older runs: from the levels)."""
    if ramp.calls_up_no_failure is not None:
        return ramp.calls_up_no_failure
    up = 0
    for lv in ramp.levels:
        if lv.failed:
            break
        up = lv.calls
    return up


def best_thread(cap: dict[str, Ramp]) -> tuple[str, Ramp] | None:
    """The thread-executor ramp that went furthest, with its name."""
    ramps = [(n, cap[n]) for n in ("thread_rtc", "thread_sip") if n in cap]
    if not ramps:
        return None
    return max(ramps, key=lambda nr: (up_no_failure(nr[1]), nr[1].calls_held))


def _router_cpu(ramp: Ramp) -> CpuPerCall:
    return ramp.cpu_per_call.get("router") or CpuPerCall()


def ramp_table(ramp: Ramp, names: list[str]) -> list[str]:
    """One row a level; `names` are the ramp's router processes."""
    rows = []
    for lv in ramp.levels:
        hold = lv.cpu_hold
        router_cores = sum(v for k, v in hold.items() if k.startswith("router:"))
        mem = lv.memory
        rss = " + ".join(num(mem[n].rss_mb, 0) for n in names)
        pss = (
            " + ".join(num(mem[n].pss_mb, 0) for n in names)
            if mem[names[0]].pss_mb is not None
            else NA
        )
        procs = sum(mem[n].processes for n in names)
        rows.append(
            [
                lv.calls,
                lv.failed,
                num(router_cores, 2),
                rss,
                pss,
                procs,
                num(hold.get("livekit"), 2),
                num(hold.get("sip"), 2),
                num(hold.get("bench", 0.0) + hold.get("callers", 0.0), 2),
                f"{num(hold['machine'], 2)} / {hold['machine_cores']}",
                greet(lv),
                "" if not lv.stopped else "stopped",
            ]
        )
    return table(
        [
            "calls",
            "failed",
            "router cores",
            "router RSS MB",
            "router PSS MB",
            "processes",
            "livekit-server",
            "SIP bridge",
            "callers",
            "machine busy",
            "new calls' wait for the greeting, ms p50 / p95",
            "",
        ],
        rows,
    )


def _ramp_summary(ramp: Ramp) -> list[str]:
    mem = ramp.memory_per_call["router"]
    cpu = _router_cpu(ramp)
    tp = ramp.transfer_phase
    lines = [
        f"- calls held: **{ramp.calls_held}** (highest level tried "
        f"{ramp.highest_level_tried}, all of it up with no call failed up to "
        f"{up_no_failure(ramp)}); stopped: {ramp.stop_reason}",
        f"- held with every new call greeted within 2 s (p95): **{or_na(ramp.calls_held_well)}**",
        f"- router memory: {num(mem.baseline_rss_mb, 0)} MB RSS with no call; "
        f"{num(mem.rss_mb_per_call_fit, 2)} MB per added call (least squares over the levels)"
        + (
            f"; PSS {num(mem.baseline_pss_mb, 0)} MB + "
            f"{num(mem.pss_mb_per_call_fit, 2)} MB per call"
            if mem.pss_mb_per_call_fit is not None
            else ""
        ),
        f"- router CPU: {num(cpu.idle_ms_per_s_per_call_at_top, 1)} ms per second per "
        f"call waiting in a menu (at the top level); "
        f"{num(cpu.start_core_seconds_per_call, 2)} CPU-seconds to start a call and play "
        f"its greeting (calls arriving at {ramp.rate_calls_per_s}/s)",
        (
            f"- the end: {tp.transferred} of {tp.calls} calls pressed 3, 1 and "
            "were transferred (REFER to billing, NOTIFY 200, BYE from the bridge)"
            if ramp.caller == "sip"
            else f"- the end: all {tp.calls} calls pressed 3, 1; with no SIP bridge in their "
            "rooms no transfer can complete, so what the router did is counted from its "
            "call records (below; calls still in a transfer when the ramp ended show as "
            "pending or have no record yet)"
        )
        + (f"; failures: {'; '.join(tp.failures[:3])}" if tp.failures else ""),
    ]
    top = ramp.levels[-1] if ramp.levels else None
    threads = top.router_threads_hold.get("router") if top else None
    if top and threads:
        total = sum(threads.values())
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in list(threads.items())[:6])
        lines.append(
            f"- where the router's CPU went at {top.calls} calls (cores by thread): "
            f"{parts} (total {total:.2f})"
        )
    rec = ramp.router_records
    if rec:
        lines.append(
            f"- router records: {rec.records} calls, keys 3 then 1 in "
            f"{rec.keys_3_1_recorded}, transfer to billing attempted in "
            f"{rec.transfer_attempts_to_billing} ("
            + ", ".join(f"{k}: {v}" for k, v in rec.transfer_results.items())
            + ")"
        )
    if ramp.router_log_errors:
        lines.append(
            f"- router log errors: {len(ramp.router_log_errors)} (first: "
            f"`{ramp.router_log_errors[0][:120]}`)"
        )
    return lines


def capacity(r: RunResult) -> list[str]:
    cap = r.capacity
    lines: list[str] = []
    if any(k.startswith("thread") for k in cap):
        lines += [
            "## 3. Calls per router process",
            "",
            "The population of calls grows level by level; every call is answered, hears the",
            "greeting, then waits in the menu (the benchmark's menu has a 10-minute no-input",
            "timeout), so at each level all calls are up at once. At each level the router's",
            "process tree is sampled over a hold window once the greetings have ended:",
            "`router cores` is the CPU it used (1.0 = one core busy), RSS/PSS its resident",
            "memory. The other columns say where the rest of the machine went. At the end",
            "every call presses `3` (a sub-menu), then `1` (a transfer announced with a",
            "message) and is transferred. New calls arrive at a steady rate (below). A level",
            "counts as held when no call failed and the machine was not saturated (< 95 % busy",
            "over the hold window, and the new calls' median wait for their greeting under",
            "5 s); it is held *well* when 95 % of its new calls were greeted within 2 s of",
            "being placed (SIP: INVITE sent → first audio; rtc: dispatch asked → the router's",
            'track published). rtc callers are plain rtc participants with a `kind="sip"`',
            "token and the SIP attributes, in rooms the benchmark creates and dispatches the",
            "router into (spread over four processes: a Room sees every FFI event of its process);",
            "they publish an audio track until the router has joined, then send keys with",
            "`publish_dtmf`. With no SIP bridge in those rooms `TransferSIPParticipant` fails,",
            "so the router's attempt is counted from its call records.",
            "",
        ]
    for key in ("thread_sip", "thread_rtc"):
        if key in cap:
            lines += [f"### {_TITLES[key]}", "", *ramp_table(cap[key], ["router"]), ""]
            lines += [*_ramp_summary(cap[key]), ""]
    proc = [k for k in ("process_sip", "process_rtc") if k in cap]
    if proc:
        lines += [
            "## 4. Thread executor against process executor",
            "",
            "The same ramp with `--executor process`: livekit-agents' default, one process",
            "per call. Memory is summed over the router's process tree (RSS double-counts",
            "pages the processes share; PSS divides them fairly).",
            "",
        ]
        for key in proc:
            lines += [f"### {_TITLES[key]}", "", *ramp_table(cap[key], ["router"]), ""]
            lines += [*_ramp_summary(cap[key]), ""]
            twin = cap.get(key.replace("process", "thread"))
            if twin:
                lines += _ratio(twin, cap[key])
    return lines


def _ratio(thread: Ramp, process: Ramp) -> list[str]:
    th, pr = thread.calls_held, process.calls_held
    tm = thread.memory_per_call["router"].rss_mb_per_call_fit
    pm = process.memory_per_call["router"].rss_mb_per_call_fit
    pp = process.memory_per_call["router"].pss_mb_per_call_fit
    tc, pc = _router_cpu(thread), _router_cpu(process)
    rows: list[list[Any]] = [
        ["calls held", th, pr, num(th / pr, 1) + "×" if pr else "∞"],
        [
            "memory per added call (RSS sum, MB)",
            num(tm, 2),
            num(pm, 1),
            num(pm / tm, 0) + "× less" if tm and pm else NA,
        ],
        [
            "memory per added call (PSS sum, MB)",
            num(tm, 2),
            num(pp, 1),
            num(pp / tm, 0) + "× less" if tm and pp else NA,
        ],
        [
            "CPU-seconds to start a call",
            num(tc.start_core_seconds_per_call, 2),
            num(pc.start_core_seconds_per_call, 2),
            NA,
        ],
        [
            "CPU per waiting call, ms/s",
            num(tc.idle_ms_per_s_per_call_at_top, 1),
            num(pc.idle_ms_per_s_per_call_at_top, 1),
            NA,
        ],
    ]
    return [*table(["", "thread executor", "process executor", "thread is"], rows), ""]


def two(r: RunResult) -> list[str]:
    t = r.two_processes
    if not t:
        return []
    per = t.router_records.calls_per_process if t.router_records else {}
    one = r.capacity.get("thread_rtc")
    lines = [
        "## 5. Two router processes under one agent name",
        "",
        "Two router processes (thread executor) registered as the same agent, each with",
        f"`--max-calls {t.max_calls_per_process}`, on the same two cores; the same ramp with "
        "rtc callers, each",
        "call dispatched through LiveKit's agent dispatch API, which picks the process.",
        "Which process served which call comes from each process's own call records.",
        "",
        *ramp_table(t, ["a", "b"]),
        "",
        *table(
            ["calls placed", "served by a", "served by b"],
            [[k, v.get("a", 0), v.get("b", 0)] for k, v in t.split_by_level.items()]
            + [["all", per.get("a", 0), per.get("b", 0)]],
        ),
        "",
        f"- held: **{t.calls_held}** (highest level tried {t.highest_level_tried}); "
        f"greeted within 2 s (p95): **{or_na(t.calls_held_well)}**; stopped: "
        f"{t.stop_reason}",
    ]
    if one:
        lines.append(
            f"- one process on the same cores (section 3): held {one.calls_held}, "
            f"greeted within 2 s up to {or_na(one.calls_held_well)}"
        )
    lines.append("")
    return lines


def sizing(r: RunResult) -> list[str]:
    best = best_thread(r.capacity)
    if not best:
        return []
    name, ramp = best
    cpu = _router_cpu(ramp)
    idle, start = cpu.idle_ms_per_s_per_call_at_top, cpu.start_core_seconds_per_call
    mem = ramp.memory_per_call["router"]
    well = ramp.calls_held_well
    lines = ["## Sizing a deployment", ""]
    if idle and start:
        per_call_60 = start + idle / 1000 * 55
        lines += [
            f"- **CPU.** In these runs a call cost the router about {start:.2f} CPU-seconds to",
            "  set up (dispatch, join, publish, the greeting) and then about "
            f"{idle:.0f} ms of CPU per",
            "  second while it waited in a menu (more while a prompt plays). A one-minute",
            f"  call is then about {per_call_60:.1f} CPU-seconds: one core carries about "
            f"**{60 / per_call_60:.0f}**",
            f"  concurrent one-minute calls, and sets up at most about {1 / start:.0f} new calls "
            "a second.",
            "  livekit-server and the SIP bridge come on top (their columns in section 3).",
        ]
    lines += [
        f"- **Memory.** A router process starts at about {mem.baseline_rss_mb:.0f} MB and adds",
        f"  about {mem.rss_mb_per_call_fit:.1f} MB per concurrent call (thread executor); the",
        "  process executor costs a process per call instead (section 4).",
        "- **Calls per process.** A waiting call keeps its prompt track's encoder and",
        "  capture timer busy in the rtc library (native threads; the interpreter lock was",
        "  held under half the time even at 100 calls): new calls come up later once the",
        "  machine's cores are busy. On this",
        f"  machine one process served new calls well (95 % greeted within 2 s) up to **{well}**",
        f"  calls ({name.replace('_', ' ')}); see where it stopped in section 3.",
        "- **`--max-calls`** (default 50) is exact: the router reports its load so that it",
        "  reaches LiveKit's `agents.target_load` (0.7 unless the server says otherwise;",
        "  `--target-load`) at the cap, then reports itself full, and new calls go to another",
        "  process under the same agent name (section 5). Set it at or below the level a",
        "  process serves well on your machines (the figure above, measured the same way),",
        "  and run one process per core or two. Leave headroom across processes: when every",
        "  process is full, LiveKit does not queue the call (with SIP it rings until the",
        "  trunk gives up), and a freed place reaches LiveKit only with the worker's next",
        "  status report (every 2.5 s).",
        "- **Latency** does not limit a process: the router's own share of key-to-REFER is",
        "  a fraction of a millisecond even with calls held; an overloaded machine shows",
        "  first as a late greeting for new calls.",
        "",
    ]
    return lines
