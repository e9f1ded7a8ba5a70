"""Is the router's memory per call the rtc SDK's own? Bare rtc participants, RSS per call.

``python -m bench.rtc_memory [--calls 200] [--at-once 5] [--warmup 50] [--steps ...] [--wrap CMD]
[--python PYTHON] [--out FILE]``

One process (the *subject*) serves calls in batches of ``--at-once`` over the local
stack (Redis, livekit-server v1.13.5; bench/common.py's `BenchStack`), as the floor
(bench/floor.py) does, with the livekit rtc SDK alone: no livekit-agents, no navigator,
no router code. For each call it joins a room of its own (``rtc.Room.connect``), and,
as ``--steps`` says (comma-separated, cumulative presets in `PRESETS`):

- ``publish``: creates an `rtc.AudioSource` and publishes its track (the router's options:
  microphone, DTX, 32 kbit/s at most);
- ``frames``: plays a greeting into it (1 s of a 440 Hz tone, 20 ms frames, then
  `wait_for_playout`);
- ``peer``: a second participant (the *peer*, a process of its own, livekit 1.1.21: the
  caller's side, not measured) is in the room first, publishing a track of silence;
  ``peer_bare``: the same participant, publishing nothing; ``peer_leaves``: the peer
  leaves first and the subject waits to see it go (otherwise the subject leaves first);
- ``subscribe``: the subject subscribes to the peer's track and reads 0.5 s of it
  (`rtc.AudioStream`);
- ``dtmf``: the peer sends three DTMF keys (`publish_dtmf`), the subject waits for them
  (``sip_dtmf_received``);

then leaves (``Room.disconnect``, ``AudioSource.aclose``). After each batch the subject
runs a full `gc.collect()` (the SDK's objects sit in reference cycles: router finding 11)
and reports its RSS (``VmRSS``, /proc/self/status) and the number of Python objects
(`gc.get_objects`): growth of RSS with a flat object count is native memory.

The subject runs under ``--python`` (default: this interpreter), so another livekit
release is measured from its own venv: it imports nothing but the standard library and
livekit (``rtc``, ``api``), hence its own small token and tone helpers here.

Result (stdout, and ``--out``): per call after ``--warmup`` calls, the least-squares
slope of RSS over calls served (KiB per call), RSS at warm-up and at the end (MB), the
object counts, the versions and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import shlex
import sys
import time
from typing import Any

from bench.rtc_memory_children import WAIT_S, peer, subject

PRESETS = {
    "connect": (),
    "publish": ("publish",),
    "greet": ("publish", "frames"),
    "floor": ("publish", "frames", "peer"),
    "call": ("publish", "frames", "peer", "subscribe", "dtmf"),
    "listen": ("peer", "subscribe", "dtmf"),
    "peer": ("peer",),
    "bare-peer": ("peer_bare",),
    "greet-bare-peer": ("publish", "frames", "peer_bare"),
    "peer-leaves-first": ("peer", "peer_leaves"),
}
"""Named `--steps`: `floor` is what bench/floor.py does in a call, `call` adds what a
router that listened to its caller would do, `listen` the same without publishing; `peer`
and `bare-peer` only join, with a peer that publishes or not."""
STEPS = ("publish", "frames", "peer", "peer_bare", "peer_leaves", "subscribe", "dtmf")


# ---------------------------------------------------------------- the driver


def _child_class() -> type:
    from bench.floor import FloorProcess

    class Child(FloorProcess):
        """A `python -m bench.rtc_memory --role ...` child, driven as bench/floor.py's is."""

        def __init__(self, env: dict[str, str], argv: list[str], rtc_logs: str) -> None:
            super().__init__(env, audio="", rtc_logs=rtc_logs)
            self._argv = argv

        def argv(self) -> list[str]:
            return self._argv

        async def ask(self, cmd: dict[str, Any], ev: str, limit_s: float = 120.0) -> dict[str, Any]:
            """Send `cmd`, return the first event named `ev` (others are dropped)."""
            self.send(cmd)
            deadline = time.monotonic() + limit_s
            while True:
                msg = await asyncio.wait_for(self.events.get(), deadline - time.monotonic())
                if msg.get("ev") == ev:
                    return msg

    return Child


async def measure(
    env: dict[str, str],
    steps: frozenset[str],
    *,
    calls: int,
    at_once: int,
    python: str,
    rtc_logs: str = "native",
    settle_s: float = 0.5,
    label: str = "",
    wrap: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Serve `calls` calls in batches of `at_once` in one subject process; its samples:
    ``{"served", "rss_kb", "objects", "failed"}`` after each batch."""
    child = _child_class()
    me = [sys.executable, "-m", "bench.rtc_memory"]
    subject_argv = [
        *wrap,
        python,
        "-m",
        "bench.rtc_memory",
        "--role",
        "subject",
        "--steps",
        ",".join(steps),
    ]
    subj = await child(env, subject_argv, rtc_logs).start()
    peers = steps & {"peer", "peer_bare"}
    caller = await child(env, [*me, "--role", "peer"], "sdk").start() if peers else None
    samples: list[dict[str, Any]] = []
    try:
        for b in range(math.ceil(calls / at_once)):
            rooms = [f"mem-{label}-{b}-{k}" for k in range(min(at_once, calls - b * at_once))]
            if caller is not None:
                join = {"op": "join", "rooms": rooms, "publish": "peer" in steps}
                await caller.ask(join, "join")
            subj.send({"op": "batch", "rooms": rooms, "settle_s": settle_s})
            if caller is not None and "dtmf" in steps:
                for _ in rooms:  # each call says when it listens; a failed one never does
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_next(subj, "listening"), WAIT_S * 2)
                await caller.ask({"op": "dtmf", "rooms": rooms}, "dtmf")
            if caller is not None and "peer_leaves" in steps:
                for _ in rooms:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(_next(subj, "waiting"), WAIT_S * 2)
                await caller.ask({"op": "leave", "rooms": rooms}, "leave")
            done = await asyncio.wait_for(_next(subj, "done"), 180)
            if caller is not None and "peer_leaves" not in steps:
                await caller.ask({"op": "leave", "rooms": rooms}, "leave")
            served = b * at_once + len(rooms)
            samples.append(
                {"served": served, **{k: done[k] for k in ("rss_kb", "objects", "failed")}}
            )
            if done["failed"]:
                _log(f"{label}: {done['failed']} calls failed in batch {b}: {done['why']}")
    finally:
        await subj.close()
        if caller is not None:
            await caller.close()
    return samples


async def _next(child: Any, ev: str) -> dict[str, Any]:
    while True:
        msg = await child.events.get()
        if msg.get("ev") == ev:
            return msg


def _log(msg: str) -> None:
    from bench.common import log

    log(f"rtc_memory: {msg}")


def figures(samples: list[dict[str, Any]], warmup: int) -> dict[str, Any]:
    """KiB per call after `warmup` calls (least squares), RSS and objects at both ends."""
    from bench.common import slope

    late = [s for s in samples if s["served"] >= warmup] or samples
    per_call = slope([s["served"] for s in late], [s["rss_kb"] for s in late])
    objects = slope([s["served"] for s in late], [s["objects"] for s in late])
    return {
        "kib_per_call_after_warmup": round(per_call, 1) if per_call is not None else None,
        "rss_mb_at_warmup": round(late[0]["rss_kb"] / 1024, 1),
        "rss_mb_at_end": round(late[-1]["rss_kb"] / 1024, 1),
        "python_objects_per_call": round(objects, 2) if objects is not None else None,
        "failed_calls": sum(s["failed"] for s in samples),
    }


def _livekit_version(python: str) -> str:
    import subprocess

    out = subprocess.run(
        [python, "-c", "import livekit.rtc; print(livekit.rtc.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or f"unknown ({out.stderr.strip()[-200:]})"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from bench.common import BenchStack, machine_info, result_header

    header = result_header("rtc_memory", args.argv)
    load_before = machine_info()["loadavg"]
    stack = BenchStack(workdir=Path(tempfile.mkdtemp(prefix="rtc-memory-")), quiet=True)
    await asyncio.to_thread(stack.start)
    variants: dict[str, Any] = {}
    try:
        for name in args.steps:
            steps = frozenset(PRESETS.get(name, name.split("+") if name != "connect" else ()))
            _log(f"{name} ({', '.join(sorted(steps)) or 'connect only'}): {args.calls} calls")
            samples = await measure(
                stack.env,
                steps,
                calls=args.calls,
                at_once=args.at_once,
                python=args.python,
                rtc_logs=args.rtc_logs,
                label=name.replace("+", "-"),
                wrap=tuple(shlex.split(args.wrap)),
            )
            variants[name] = {"steps": sorted(steps), **figures(samples, args.warmup)}
            variants[name]["samples"] = samples
            _log(
                f"{name}: {json.dumps({k: v for k, v in variants[name].items() if k != 'samples'})}"
            )
    finally:
        await asyncio.to_thread(stack.stop)
    return {
        **header,
        "livekit": _livekit_version(args.python),
        "python_of_subject": args.python,
        "calls": args.calls,
        "at_once": args.at_once,
        "warmup": args.warmup,
        "rtc_logs": args.rtc_logs,
        "wrap": args.wrap,
        "loadavg": {"start": load_before, "end": machine_info()["loadavg"]},
        "variants": variants,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rtc_memory", description=__doc__)
    parser.add_argument("--role", choices=("driver", "subject", "peer"), default="driver")
    parser.add_argument(
        "--steps",
        default="floor",
        help=f"comma-separated presets ({', '.join(PRESETS)}) or steps joined by + "
        f"({'+'.join(STEPS)}), one subject process each",
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--at-once", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--python", default=sys.executable, help="the subject's interpreter")
    parser.add_argument("--rtc-logs", choices=("native", "sdk"), default="native")
    parser.add_argument(
        "--wrap",
        default="",
        help="a command the subject runs under, e.g. 'heaptrack -o /tmp/rtc' (its own "
        "output lines are skipped: only JSON lines are read)",
    )
    parser.add_argument("--out", help="write the result here too (JSON)")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]
    if args.role == "peer":
        asyncio.run(peer())
        return 0
    if args.role == "subject":
        steps = frozenset(s for s in args.steps.split(",") if s)
        if unknown := steps - set(STEPS):
            parser.error(f"--steps: no step named {', '.join(sorted(unknown))}")
        asyncio.run(subject(steps, args.rtc_logs))
        return 0
    args.steps = [s for s in args.steps.split(",") if s]
    for name in args.steps:
        if name not in PRESETS and not set(name.split("+")) <= set(STEPS):
            parser.error(f"--steps: {name!r} is neither a preset nor steps joined by +")
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    summary = {
        k: {f: v for f, v in r.items() if f != "samples"} for k, r in result["variants"].items()
    }
    print(
        json.dumps(
            {"livekit": result["livekit"], "loadavg": result["loadavg"], **summary}, indent=2
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
