"""The SDK's floor: a bare rtc participant per room that publishes one track and greets.

``python -m bench.floor [--audio NAME]`` runs in a child process of the benchmark, as a
router process would, and joins the rooms it is told to (no livekit-agents, no
navigator, no call records): it connects with an agent token, publishes one audio track
with the router's publish options, plays the benchmark's greeting (rendered once, the
frames shared by every room, as the router's are), then waits silently until the
caller leaves. What it costs is what any rtc participant that greets a caller costs:
the ratio router / floor is the router's own overhead.

Commands on stdin, events on stdout, one JSON object a line:

    {"op": "join", "i": 7, "room": "bench-rtc-1-7"}
        -> {"ev": "idle", "i": 7, "greeting_s": .., "times": {"received": .., "connected": ..,
            "published": .., "greeting": ..}}  (wall clock, `time.time()` seconds)
    {"op": "play", "i": 7}      -> {"ev": "idle", ...}  (the greeting again, after a pause)
    {"op": "quit"}

``--audio`` picks one of `AUDIO` (the levers of bench/levers.py); the default is what
the router does (`ROUTER_AUDIO`). ``--rtc-logs sdk`` leaves the rtc library's log
records forwarded to Python one by one, the SDK's default; by default they stay native,
as the router keeps them (router/runtime/rtclogs.py), so that the ratio router / floor
is the router's own overhead and not a setting both could have.

Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from livekit import api, rtc

from bench.common import ROOT
from router.runtime.call import OPUS_MAX_BITRATE
from router.runtime.player import QUEUE_MS
from router.runtime.prompts import FRAME_MS, SAMPLE_RATE_HZ
from router.runtime.rtclogs import keep_native

RTC_LOGS = ("native", "sdk")


@dataclass(frozen=True)
class Audio:
    """How a participant's prompt track is fed (one lever of bench/levers.py each)."""

    name: str
    sample_rate_hz: int = SAMPLE_RATE_HZ
    frame_ms: int = FRAME_MS
    queue_ms: int = QUEUE_MS
    """The AudioSource's FFI queue; 0 = no queue and no capture thread: frames go straight
    to the encoder, so the caller of `capture_frame` paces them, and the SDK takes only
    10 ms frames then ("direct capture requires 10ms frames")."""
    mute_idle: bool = False
    """Mute the track once a prompt has been heard, unmute before the next."""
    dtx: bool = True
    max_bitrate: int | None = OPUS_MAX_BITRATE


AUDIO = {
    a.name: a
    for a in (
        Audio("router"),
        Audio("sdk-defaults", dtx=False, max_bitrate=None),
        Audio("mute-idle", mute_idle=True),
        Audio("8khz", sample_rate_hz=8000),
        Audio("48khz", sample_rate_hz=48000),
        Audio("frames-1000ms", frame_ms=1000, queue_ms=2000),
        Audio("no-queue", queue_ms=0, frame_ms=10),
    )
}
ROUTER_AUDIO = AUDIO["router"]


def render_greeting(audio: Audio) -> tuple[rtc.AudioFrame, ...]:
    """The benchmark menu's greeting, as the router renders it (espeak-ng), in frames."""
    import yaml

    from bench.common import MENUS
    from router.runtime.prompts import EspeakSynthesizer

    text = yaml.safe_load(MENUS.read_text())["menus"]["main"]["greeting"]
    pcm, rate = EspeakSynthesizer().speak_sync(text)
    if rate != audio.sample_rate_hz:
        resampler = rtc.AudioResampler(rate, audio.sample_rate_hz, num_channels=1)
        out = [f.data.tobytes() for f in resampler.push(bytearray(pcm))]
        out += [f.data.tobytes() for f in resampler.flush()]
        pcm = b"".join(out)
    step = audio.sample_rate_hz * audio.frame_ms // 1000 * 2
    return tuple(
        rtc.AudioFrame(pcm[i : i + step], audio.sample_rate_hz, 1, len(pcm[i : i + step]) // 2)
        for i in range(0, len(pcm), step)
        if len(pcm[i : i + step]) == step
    )


def publish_options(audio: Audio) -> rtc.TrackPublishOptions:
    options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE, dtx=audio.dtx)
    if audio.max_bitrate:
        options.audio_encoding.max_bitrate = audio.max_bitrate
    return options


class FloorCall:
    """One room: join, publish, greet, then wait until the caller leaves."""

    def __init__(self, audio: Audio, frames: tuple[rtc.AudioFrame, ...]) -> None:
        self.audio = audio
        self.frames = frames
        self.room = rtc.Room()
        self.source = rtc.AudioSource(audio.sample_rate_hz, 1, queue_size_ms=audio.queue_ms)
        self.track = rtc.LocalAudioTrack.create_audio_track("menu", self.source)
        self.gone = asyncio.Event()
        self.times = {"received": time.time()}
        """Wall-clock set-up steps, the router's `ROUTER_TRACE_SETUP` line's counterparts."""

    async def join(self, url: str, token: str) -> None:
        self.room.on("participant_disconnected", lambda *_: self._left())
        self.room.on("disconnected", lambda *_: self.gone.set())
        await self.room.connect(url, token, rtc.RoomOptions(auto_subscribe=False))
        self.times["connected"] = time.time()
        await self.room.local_participant.publish_track(self.track, publish_options(self.audio))
        self.times["published"] = time.time()

    def _left(self) -> None:
        if not self.room.remote_participants:
            self.gone.set()

    async def greet(self) -> float:
        started = time.monotonic()
        self.times.setdefault("greeting", time.time())
        if self.audio.mute_idle and self.track.muted:
            self.track.unmute()
        if self.audio.queue_ms:
            for frame in self.frames:
                await self.source.capture_frame(frame)
            await self.source.wait_for_playout()
        else:  # no FFI queue: the SDK takes 10 ms frames only; pace them 20 ms ahead
            t0 = time.monotonic()
            for n, frame in enumerate(self.frames):
                await self.source.capture_frame(frame)
                await asyncio.sleep(max(0.0, t0 + (n - 1) * frame.duration - time.monotonic()))
        if self.audio.mute_idle:
            self.track.mute()
        return time.monotonic() - started

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.room.disconnect()
        with contextlib.suppress(Exception):
            await self.source.aclose()


def token(identity: str, room: str) -> str:
    return (
        api.AccessToken()
        .with_identity(identity)
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


async def serve(audio: Audio, rtc_logs: str = "native") -> None:
    if rtc_logs == "native":
        keep_native()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    frames = render_greeting(audio)
    url = os.environ["LIVEKIT_URL"]
    calls: dict[int, FloorCall] = {}
    tasks: set[asyncio.Task[None]] = set()

    def say(msg: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()

    async def run(i: int, room: str) -> None:
        call = calls[i] = FloorCall(audio, frames)
        try:
            await call.join(url, token(f"floor-{i}", room))
            greeting_s = await call.greet()
            say({"ev": "idle", "i": i, "greeting_s": greeting_s, "times": call.times})
            await call.gone.wait()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            say({"ev": "fail", "i": i, "why": repr(exc)})
        finally:
            calls.pop(i, None)
            await call.close()

    async def again(i: int) -> None:
        call = calls.get(i)
        if call is not None:
            say({"ev": "idle", "i": i, "greeting_s": await call.greet()})

    say({"ev": "ready"})
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        coro = run(cmd["i"], cmd["room"]) if cmd["op"] == "join" else again(cmd["i"])
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    for call in list(calls.values()):
        call.gone.set()
    await asyncio.gather(*tasks, return_exceptions=True)


class FloorProcess:
    """A `python -m bench.floor` child: joins rooms on request, reports each greeting."""

    def __init__(self, env: dict[str, str], audio: str, rtc_logs: str = RTC_LOGS[0]) -> None:
        self.env = env
        self.audio = audio
        self.rtc_logs = rtc_logs
        self.proc: asyncio.subprocess.Process | None = None
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    def argv(self) -> list[str]:
        """The child's command line (bench/rtc_memory.py's children override it)."""
        return [sys.executable, "-m", "bench.floor", "--audio", self.audio]

    async def start(self) -> FloorProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv(),
            "--rtc-logs",
            self.rtc_logs,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1"},
            cwd=str(ROOT),
        )
        self._reader = asyncio.ensure_future(self._read())
        ready = await asyncio.wait_for(self.events.get(), 60)
        assert ready.get("ev") == "ready", ready
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                self.events.put_nowait(json.loads(line))
            except json.JSONDecodeError:
                continue

    def send(self, cmd: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def collect(self, n: int, limit_s: float) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + limit_s
        while len(out) < n and time.monotonic() < deadline:
            try:
                out.append(await asyncio.wait_for(self.events.get(), deadline - time.monotonic()))
            except TimeoutError:
                break
        return out

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.send({"op": "quit"})
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--audio", choices=sorted(AUDIO), default=ROUTER_AUDIO.name)
    parser.add_argument("--rtc-logs", choices=RTC_LOGS, default=RTC_LOGS[0])
    args = parser.parse_args()
    asyncio.run(serve(AUDIO[args.audio], args.rtc_logs))


if __name__ == "__main__":
    main()
