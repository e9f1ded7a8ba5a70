"""The FFI's event fan-out alone: ``python -m bench.fanout [--rooms 10,50,100] [--events 40]``.

What one call's set-up costs the other calls of its process through the Python rtc
SDK's event queue, with no server and nothing else running: N real `rtc.Room`s, each in
a thread with its own event loop (as livekit-agents' thread executor runs calls),
subscribed to the SDK's process-wide `FfiQueue` as `Room.connect` subscribes them, their
`_listen_task` running; a thread standing in for the rtc library's puts each call's
set-up events (`--events` a call: its room's events and its greeting's
`capture_audio_frame` callbacks, about as many as one call's join and greeting send,
bench/findings.md) into the queue, call after call, and the process's CPU is read until
every Room has taken what it was given. Three ways per N: the SDK's filter, then
`router.runtime.fanout.narrow` (each Room takes its own room's events only), then the
SDK's filter with every Room in one loop (as bench/floor.py holds its Rooms).

The rooms' handles stand in for those a server's answer would carry (connecting needs a
server): the queue, the filters, the loops and the Rooms' own tasks are the SDK's.
Prints JSON: per N, CPU ms per call set up, each way, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

from livekit import rtc
from livekit.rtc._ffi_client import FfiClient
from livekit.rtc._proto import ffi_pb2

from bench.common import result_header
from router.runtime import fanout

CAPTURES = 21
"""A 4.2 s greeting in 200 ms frames: its `capture_audio_frame` callbacks."""


def setup_events(handle: int, events: int) -> list[Any]:
    """One call's set-up events: `CAPTURES` frame callbacks, the rest its room's events."""
    out = []
    for k in range(events):
        event = ffi_pb2.FfiEvent()
        if k < CAPTURES:
            event.capture_audio_frame.async_id = k
        else:
            event.room_event.room_handle = handle
            event.room_event.active_speakers_changed.SetInParent()
        out.append(event)
    return out


class LoopThread:
    """Rooms in a thread with its own event loop, listening as connected Rooms do."""

    def __init__(self, handles: list[int], narrow: bool) -> None:
        self.handles = handles
        self.narrow = narrow
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.rooms: list[rtc.Room] = []
        self.thread = threading.Thread(target=self._main, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        for handle in self.handles:
            room = rtc.Room(loop=self.loop)
            room._ffi_queue = FfiClient.instance.queue.subscribe(
                self.loop,
                filter_fn=lambda e: (
                    e.WhichOneof("message") not in ("audio_stream_event", "video_stream_event")
                ),
            )
            room._ffi_handle = SimpleNamespace(handle=handle)  # type: ignore[assignment]
            if self.narrow:
                assert fanout.narrow(room, env={})
            room._task = self.loop.create_task(room._listen_task())
            self.rooms.append(room)
        self.loop.call_soon(self.ready.set)
        self.loop.run_forever()

    def idle(self) -> bool:
        return all(room._ffi_queue.empty() for room in self.rooms)

    def close(self) -> None:
        for room in self.rooms:
            FfiClient.instance.queue.unsubscribe(room._ffi_queue)

        def stop() -> None:
            tasks = [room._task for room in self.rooms]
            for task in tasks:
                task.cancel()
            done = asyncio.gather(*tasks, return_exceptions=True)
            done.add_done_callback(lambda _: self.loop.stop())

        self.loop.call_soon_threadsafe(stop)
        self.thread.join(10)
        self.loop.close()


def measure(rooms: int, events: int, narrow: bool, one_loop: bool = False) -> float:
    """CPU ms of the whole process per call set up, with `rooms` Rooms in the process,
    each in a thread and loop of its own (livekit-agents' thread executor) or all in one
    loop (`one_loop`: bench/floor.py's shape)."""
    handles = [1000 + i for i in range(rooms)]
    if one_loop:
        threads = [LoopThread(handles, narrow)]
    else:
        threads = [LoopThread([h], narrow) for h in handles]
    batches = [setup_events(h, events) for h in handles]
    time.sleep(0.5)
    cpu0 = time.process_time()

    def library() -> None:
        for batch in batches:
            for event in batch:
                FfiClient.instance.queue.put(event)

    putter = threading.Thread(target=library)
    putter.start()
    putter.join()
    while not all(t.idle() for t in threads):
        time.sleep(0.01)
    time.sleep(0.05)  # the last events' listen-task steps
    spent = time.process_time() - cpu0
    for t in threads:
        t.close()
    return spent / rooms * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--rooms", default="10,50,100")
    parser.add_argument("--events", type=int, default=40, help="events per call set up")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median kept")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {
        **result_header("fanout", argv),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "events_per_call": args.events,
        "rooms": {},
    }
    for n in (int(x) for x in args.rooms.split(",")):
        runs: dict[str, list[float]] = {"sdk": [], "narrow": [], "sdk, one loop": []}
        for _ in range(args.repeat):  # interleaved, so all see the same machine
            runs["sdk"].append(measure(n, args.events, narrow=False))
            runs["narrow"].append(measure(n, args.events, narrow=True))
            runs["sdk, one loop"].append(measure(n, args.events, narrow=False, one_loop=True))
        med = {k: round(sorted(v)[len(v) // 2], 2) for k, v in runs.items()}
        out["rooms"][n] = {
            "cpu_ms_per_call_set_up": med,
            "runs": {k: [round(x, 2) for x in v] for k, v in runs.items()},
            "narrow_over_sdk": round(med["narrow"] / med["sdk"], 3) if med["sdk"] else None,
        }
        print(f"{n} rooms: {json.dumps(out['rooms'][n])}", file=sys.stderr)
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
