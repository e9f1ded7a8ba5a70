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
import functools
import gc
import json
import math
import os
import shlex
import sys
import time
from array import array
from typing import Any

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
SAMPLE_RATE_HZ = 16000
FRAME_MS = 20
GREETING_S = 1.0
DTMF_KEYS = "123"
WAIT_S = 10.0
"""The most a call waits for a track or the peer's keys (seconds): a lost event is a
failed call, counted, not a hang."""


# ---------------------------------------------------------------- both children


def _token(identity: str, room: str, kind: str) -> str:
    from livekit import api

    return (
        api.AccessToken()
        .with_identity(identity)
        .with_kind(kind)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


def _tone(seconds: float, hz: float = 440.0) -> list[Any]:
    """`seconds` of a sine at `hz`, 16 kHz mono, in 20 ms `rtc.AudioFrame`s."""
    from livekit import rtc

    n = SAMPLE_RATE_HZ * FRAME_MS // 1000
    frames = []
    for k in range(int(seconds * 1000) // FRAME_MS):
        pcm = array(
            "h",
            (
                int(8000 * math.sin(2 * math.pi * hz * (k * n + i) / SAMPLE_RATE_HZ))
                for i in range(n)
            ),
        )
        frames.append(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE_HZ, 1, n))
    return frames


def _rss_kb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return math.nan


async def _lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def _say(msg: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- the subject (measured)


async def _subject_call(room_name: str, steps: frozenset[str], frames: list[Any]) -> None:
    from livekit import rtc

    room = rtc.Room()
    keys: asyncio.Queue[str] = asyncio.Queue()
    track_q: asyncio.Queue[Any] = asyncio.Queue()
    room.on("sip_dtmf_received", lambda ev: keys.put_nowait(ev.digit))
    room.on("track_subscribed", lambda track, *_: track_q.put_nowait(track))
    alone = asyncio.Event()
    room.on("participant_disconnected", lambda *_: alone.set())
    source = None
    try:
        url = os.environ["LIVEKIT_URL"]
        opts = rtc.RoomOptions(auto_subscribe="subscribe" in steps)
        await room.connect(url, _token(f"subject-{room_name}", room_name, "agent"), opts)
        if "publish" in steps:
            source = rtc.AudioSource(SAMPLE_RATE_HZ, 1, queue_size_ms=200)
            track = rtc.LocalAudioTrack.create_audio_track("menu", source)
            options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=True)
            options.audio_encoding.max_bitrate = 32000
            await room.local_participant.publish_track(track, options)
        if "frames" in steps and source is not None:
            for frame in frames:
                await source.capture_frame(frame)
            await source.wait_for_playout()
        if "subscribe" in steps:
            remote = await asyncio.wait_for(track_q.get(), WAIT_S)
            stream = rtc.AudioStream(remote, sample_rate=SAMPLE_RATE_HZ)
            try:
                heard = 0
                async with asyncio.timeout(WAIT_S):
                    async for _ in stream:
                        heard += 1
                        if heard >= 500 // FRAME_MS:
                            break
            finally:
                await stream.aclose()
        if "dtmf" in steps:
            _say({"ev": "listening", "room": room_name})
            async with asyncio.timeout(WAIT_S):
                for _ in DTMF_KEYS:
                    await keys.get()
        if "peer_leaves" in steps:
            _say({"ev": "waiting", "room": room_name})
            await asyncio.wait_for(alone.wait(), WAIT_S)
    finally:
        await room.disconnect()
        if source is not None:
            await source.aclose()


async def subject(steps: frozenset[str], rtc_logs: str) -> None:
    """Serve the driver's batches: ``{"op": "batch", "rooms": [...]}`` -> ``{"ev":
    "done", "rss_kb", "objects", "failed", "why"}`` after a full collection."""
    if rtc_logs == "native":
        _keep_native()
    import livekit.rtc

    frames = _tone(GREETING_S)
    reader = await _lines()
    _say({"ev": "ready", "livekit": livekit.rtc.__version__, "rss_kb": _rss_kb()})
    samples_said = 0
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        results = await asyncio.gather(
            *(_subject_call(r, steps, frames) for r in cmd["rooms"]), return_exceptions=True
        )
        if not samples_said:  # the library is loaded by now: say where, once
            print(f"rtc_memory: liblivekit_ffi.so mapped at {_ffi_base()}", file=sys.stderr)
        samples_said += 1
        failed = [repr(r) for r in results if isinstance(r, BaseException)]
        gc.collect()
        await asyncio.sleep(cmd.get("settle_s", 0.0))
        gc.collect()
        _say(
            {
                "ev": "done",
                "rss_kb": _rss_kb(),
                "objects": len(gc.get_objects()),
                "failed": len(failed),
                "why": failed[:1],
            }
        )


def _ffi_base() -> str:
    """Where liblivekit_ffi.so is mapped (its first mapping, file offset 0), so that the
    addresses of a heaptrack report become offsets into the wheel's stripped library,
    which upstream can symbolize with its own build."""
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if (
                len(fields) >= 6
                and fields[5].endswith("liblivekit_ffi.so")
                and int(fields[2], 16) == 0
            ):
                return f"0x{fields[0].split('-')[0]}"
    return "not loaded"


def _keep_native() -> None:
    """The rtc library's log records kept native, as the router keeps them
    (router/runtime/rtclogs.py, not imported: the subject may run in another venv);
    best effort: a release whose FFI client differs keeps the SDK's way."""
    os.environ.setdefault("RUST_LOG", "warn")
    try:
        from livekit.rtc import __version__
        from livekit.rtc._ffi_client import FfiClient, ffi_event_callback

        FfiClient.instance._ffi_lib.livekit_ffi_initialize(
            ffi_event_callback, False, b"python", __version__.encode("ascii")
        )
    except (ImportError, AttributeError, TypeError) as exc:
        print(f"rtc logs: the SDK's way ({exc!r})", file=sys.stderr)


# ---------------------------------------------------------------- the peer (not measured)


async def peer() -> None:
    """The caller's side: ``{"op": "join"|"dtmf"|"leave", "rooms": [...]}`` -> ``{"ev": op}``
    (``"publish": false`` with a join: the peer publishes no track)."""
    from livekit import rtc

    rooms: dict[str, tuple[Any, Any, asyncio.Task[None]]] = {}
    silence = rtc.AudioFrame(bytes(640), SAMPLE_RATE_HZ, 1, 320)

    async def feed(source: Any) -> None:
        while True:
            await source.capture_frame(silence)

    async def join(name: str, publish: bool) -> None:
        room = rtc.Room()
        await room.connect(
            os.environ["LIVEKIT_URL"],
            _token(f"peer-{name}", name, "sip"),
            rtc.RoomOptions(auto_subscribe=False),
        )
        if not publish:
            rooms[name] = (room, None, None)
            return
        source = rtc.AudioSource(SAMPLE_RATE_HZ, 1)
        track = rtc.LocalAudioTrack.create_audio_track("caller", source)
        await room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        rooms[name] = (room, source, asyncio.ensure_future(feed(source)))

    async def dtmf(name: str) -> None:
        room = rooms[name][0]
        for digit in DTMF_KEYS:
            await room.local_participant.publish_dtmf(code=int(digit), digit=digit)
            await asyncio.sleep(0.1)

    async def leave(name: str) -> None:
        room, source, feeding = rooms.pop(name)
        if feeding is not None:
            feeding.cancel()
        await room.disconnect()
        if source is not None:
            await source.aclose()

    reader = await _lines()
    _say({"ev": "ready"})
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        ops = {"join": functools.partial(join, publish=cmd.get("publish", True))}
        ops |= {"dtmf": dtmf, "leave": leave}
        results = await asyncio.gather(
            *(ops[cmd["op"]](r) for r in cmd["rooms"]), return_exceptions=True
        )
        _say({"ev": cmd["op"], "failed": sum(isinstance(r, BaseException) for r in results)})


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
