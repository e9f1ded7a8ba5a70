"""bench/rtc_memory.py's two child processes: the *subject* (measured: joins, publishes,
plays, listens and leaves as ``--steps`` says, then reports its RSS and object count after
a full collection) and the *peer* (the caller's side, not measured).

Both read commands on stdin and write events on stdout, one JSON object a line. The
subject may run under another venv's interpreter (``--python``): this module imports
nothing but the standard library at its top, and livekit (``rtc``, ``api``) inside the
functions, hence its own small token and tone helpers here.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import math
import os
import sys
from array import array
from typing import Any

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
