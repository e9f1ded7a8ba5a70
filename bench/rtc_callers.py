"""rtc callers in a child process: ``python -m bench.rtc_callers`` (driven by bench.capacity).

Every rtc.Room in a process is handed every FFI event of every other Room in it, so a
hundred callers in the benchmark's own process would cost it a hundred times a hundred
wake-ups; the ramp spreads them over a few of these processes instead. Commands come
in on stdin and events go out on stdout, one JSON object a line:

    {"op": "call", "i": 7, "caller_id": "+15554200007", "room": "bench-rtc-1-7",
     "agent": "bench-thread-rtc"}          -> {"ev": "up", "i": 7, ...} | {"ev": "fail", ...}
    (with "agent": null no agent is dispatched: {"ev": "join", "i": 7, "room": ...} asks
     the benchmark to send its floor participant, bench/floor.py, into the room)
    (with "timeline": true the caller also subscribes to the agent's track until its first
     audible frame, and "up" carries "timeline": wall-clock times of each step, see
     `Timeline`)
    {"op": "go", "i": 7, "delay": 1.3}     -> {"ev": "done", "i": 7} | {"ev": "fail", ...}
    {"op": "quit"}

Environment: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET (the stack's), and
BENCH_NUMBER (the dialled number put in the SIP attributes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from typing import Any

from livekit import api, rtc

AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT

AUDIBLE = 64
"""A 16-bit sample above this (of 32767) is the greeting, not Opus' comfort noise."""

HEAR_WITHIN_S = 20.0
"""How long a timeline caller listens for the greeting once subscribed (seconds)."""


class Timeline:
    """Wall-clock times (`time.time()`, seconds) of one call's set-up as the caller saw them,
    comparable with the router's and the floor's own (one machine, one clock)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {"start": time.time()}
        self.agent: str | None = None
        """The agent participant's identity (livekit-agents: `agent-<job id>`)."""

    def mark(self, step: str) -> None:
        self.at.setdefault(step, time.time())

    async def listen(self, pub: rtc.RemoteTrackPublication, room: rtc.Room) -> None:
        """Subscribe to the agent's track until its first audible frame, then let it go:
        decoding every call's greeting would cost this process more than the router."""
        subscribed: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

        def on_subscribed(track: rtc.Track, p: rtc.RemoteTrackPublication, *_: object) -> None:
            if p.sid == pub.sid and not subscribed.done():
                subscribed.set_result(track)

        room.on("track_subscribed", on_subscribed)
        pub.set_subscribed(True)
        try:
            track = await asyncio.wait_for(subscribed, HEAR_WITHIN_S)
            self.mark("subscribed")
            stream = rtc.AudioStream(track, sample_rate=16000)
            try:
                # bounded: a greeting that ended before the subscription is never heard
                await asyncio.wait_for(self._first_audio(stream), HEAR_WITHIN_S)
            except TimeoutError:
                pass
            finally:
                await stream.aclose()
        finally:
            room.off("track_subscribed", on_subscribed)
            pub.set_subscribed(False)

    async def _first_audio(self, stream: rtc.AudioStream) -> None:
        async for event in stream:
            self.mark("first_frame")
            if max(map(abs, event.frame.data), default=0) > AUDIBLE:
                self.mark("first_audio")
                return


class Caller:
    def __init__(self, lk: api.LiveKitAPI, out: asyncio.Queue[dict[str, Any]]) -> None:
        self.lk = lk
        self.out = out
        self.rooms: dict[int, rtc.Room] = {}
        self.left: dict[int, asyncio.Event] = {}

    def token(self, identity: str, room: str, attributes: dict[str, str]) -> str:
        return (
            api.AccessToken()
            .with_identity(identity)
            .with_name(identity)
            .with_kind("sip")
            .with_attributes(attributes)
            .with_grants(api.VideoGrants(room_join=True, room=room))
            .to_jwt()
        )

    async def call(self, cmd: dict[str, Any]) -> None:
        i = cmd["i"]
        room_name = cmd["room"]
        room = rtc.Room()
        router_audio = asyncio.Event()
        left = asyncio.Event()
        self.rooms[i] = room
        self.left[i] = left
        timeline = Timeline() if cmd.get("timeline") else None
        heard: list[asyncio.Task[None]] = []

        def on_published(pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
            if p.kind == AGENT_KIND:
                router_audio.set()
                if timeline is not None:
                    timeline.mark("published")
                    timeline.agent = p.identity
                    heard.append(asyncio.ensure_future(timeline.listen(pub, room)))

        def on_joined(p: rtc.RemoteParticipant) -> None:
            if p.kind == AGENT_KIND and timeline is not None:
                timeline.mark("joined")

        room.on("track_published", on_published)
        room.on("participant_connected", on_joined)
        room.on("disconnected", lambda *_: left.set())
        started = time.monotonic()
        try:
            await self.lk.room.create_room(api.CreateRoomRequest(name=room_name, empty_timeout=60))
            token = self.token(
                cmd["caller_id"].replace("+", "sip_+"),
                room_name,
                {
                    "sip.callStatus": "active",
                    "sip.phoneNumber": cmd["caller_id"],
                    "sip.trunkPhoneNumber": os.environ.get("BENCH_NUMBER", ""),
                    "sip.callID": f"SCL_bench_{room_name}",
                },
            )
            await room.connect(
                os.environ["LIVEKIT_URL"], token, rtc.RoomOptions(auto_subscribe=False)
            )
            source = rtc.AudioSource(16000, 1)
            track = rtc.LocalAudioTrack.create_audio_track("caller", source)
            await room.local_participant.publish_track(
                track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            )
            if timeline is not None:
                timeline.mark("dispatch")
            if cmd.get("agent"):
                await self.lk.agent_dispatch.create_dispatch(
                    api.CreateAgentDispatchRequest(agent_name=cmd["agent"], room=room_name)
                )
            else:  # the floor (bench/floor.py): the benchmark tells it to join, no dispatch
                await self.out.put({"ev": "join", "i": i, "room": room_name})
            answered = time.monotonic()
            if timeline is not None:
                timeline.mark("dispatched")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(router_audio.wait(), 60)
            if not router_audio.is_set():
                raise RuntimeError("the router did not join and publish")
            up = time.monotonic()
            # the router never subscribes to the caller's audio: once it has joined, the
            # caller's own track only costs this process (libwebrtc encodes its silence)
            await room.local_participant.unpublish_track(track.sid)
            await source.aclose()
            if heard:
                with contextlib.suppress(Exception):
                    await heard[0]
            await self.out.put(
                {
                    "ev": "up",
                    "i": i,
                    "answered_ms": (answered - started) * 1000,
                    "first_audio_ms": (up - answered) * 1000,
                    "greeting_ms": (up - started) * 1000,
                    "timeline": {**timeline.at, "agent": timeline.agent} if timeline else None,
                }
            )
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            await self.out.put({"ev": "fail", "i": i, "why": f"caller error: {exc!r}"})
            await self.hang_up(i)

    async def go(self, cmd: dict[str, Any]) -> None:
        i = cmd["i"]
        room = self.rooms.get(i)
        if room is None:
            return
        try:
            if self.left[i].is_set():
                raise RuntimeError("dropped while held")
            await asyncio.sleep(cmd.get("delay", 0.0))
            await room.local_participant.publish_dtmf(code=3, digit="3")
            await asyncio.sleep(1.0)
            await room.local_participant.publish_dtmf(code=1, digit="1")
            # "Connecting you to billing." (about 1.5 s), then the transfer attempt, which
            # fails (no SIP bridge); the router's records tell what happened
            await asyncio.sleep(8.0)
            await self.out.put({"ev": "done", "i": i})
        except Exception as exc:  # noqa: BLE001
            await self.out.put({"ev": "fail", "i": i, "why": str(exc)})
        finally:
            await self.hang_up(i)

    async def hang_up(self, i: int) -> None:
        room = self.rooms.pop(i, None)
        if room is not None:
            with contextlib.suppress(Exception):
                await room.disconnect()


async def main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def writer() -> None:
        while True:
            msg = await out.get()
            sys.stdout.write(json.dumps(msg) + "\n")
            sys.stdout.flush()
            out.task_done()

    write_task = asyncio.ensure_future(writer())
    tasks: set[asyncio.Task[None]] = set()
    async with api.LiveKitAPI() as lk:
        caller = Caller(lk, out)
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            coro = caller.call(cmd) if cmd["op"] == "call" else caller.go(cmd)
            task = asyncio.ensure_future(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        for i in list(caller.rooms):
            await caller.hang_up(i)
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await out.join()
    write_task.cancel()


if __name__ == "__main__":
    asyncio.run(main())
