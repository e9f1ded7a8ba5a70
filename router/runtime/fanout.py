"""A call's Room hears the FFI events of its own room only, not those of every call.

The Python rtc SDK (livekit 1.1.21, `livekit/rtc/_ffi_client.py`) has one queue for
every event of the native library: `FfiQueue.put`, on the library's thread, runs each
subscriber's `filter_fn` and then `loop.call_soon_threadsafe`s the event into that
subscriber's event loop. A connected `Room` subscribes with a filter that drops only
media-stream events (`room.py`, `Room.connect`), so every other event of the process
(every call's room events, `connect` and `capture_audio_frame` callbacks) is woken into
every Room's loop: one self-pipe write and one loop wake-up per Room, and in the loop
the Room's `_listen_task` steps once for it, compares the room handle, and forwards it
to its `_room_queue` (and waits for that queue to drain). Under the thread executor
each call has its own loop in its own thread, so a starting call's events wake every
call of the process: calls x events, growing with each call (bench/findings.md,
"Setting a call up").

What a Room's loop acts on, read in 1.1.21 (`room.py` `_listen_task`,
`participant.py`): an `rpc_method_invocation`, a `room_event` of its own room (by
handle), and the `publish_track` / `unpublish_track` callbacks its local participant
waits for through `_room_queue` (the only subscribers of that queue). `narrow` swaps
the Room's `filter_fn` for one that lets exactly those through, so the filtering happens
before the wake-up, on the library's thread, as the SDK's own filter does. Requests'
own short-lived subscriptions (`capture_frame`, `publish_dtmf`, ...) are the SDK's and
are left alone.

The same filter stamps each of the room's SIP DTMF packets with the time it reached the
process (`time.monotonic()`, on the library's thread, before any event loop): a call's
loop stalled by the process's load hands real presses over together, milliseconds
apart, and the repeat window (`KEY_REPEAT_WINDOW_S`) took the second of two identical
ones for a bridge's copy (the soak's run 7: `5001#` dialled as `501#`, twice). The call
reads the stamps in order, one per `sip_dtmf_received` (`CallSession._on_dtmf`).

`FfiQueue._subscribers` is private, so this is done only for the SDK versions read
(`READ_VERSIONS`); with another version `narrow` leaves the SDK's way. `ROUTER_RTC_FANOUT=1`
keeps the SDK's way too (to measure the difference, bench/setup_cost.py `--router-env`).
Both are decided once per process, as its first call joins (`applies`): neither the SDK
nor the environment a worker started with changes while it runs.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from livekit import rtc
from livekit.rtc._ffi_client import FfiClient

from router.settings import diagnostic

__all__ = ["READ_VERSIONS", "applies", "keep_for", "narrow"]

log = logging.getLogger(__name__)

READ_VERSIONS = frozenset({"1.1.21"})
"""livekit (rtc SDK) versions whose Room's use of the FFI queue `keep_for` was read against."""

_CALLBACKS = frozenset({"rpc_method_invocation", "publish_track", "unpublish_track"})
"""Non-room events a Room's loop acts on (the callbacks carry no room handle)."""


def keep_for(room_handle: int, key_arrivals: deque[float] | None = None) -> Callable[[Any], bool]:
    """The `filter_fn` for one Room: True for the `FfiEvent`s its loop acts on (above);
    each of the room's SIP DTMF packets also appends `time.monotonic()` (seconds) to
    `key_arrivals` when one is given (a bounded deque: a call that never reads them
    keeps the newest).

    Runs on the rtc library's thread for every event, as the SDK's own filter does:
    one `WhichOneof` and, for room events, one integer comparison (two more `WhichOneof`
    for a data packet of the room).
    """

    def keep(event: Any) -> bool:
        which = event.WhichOneof("message")
        if which == "room_event":
            mine = bool(event.room_event.room_handle == room_handle)
            if mine and key_arrivals is not None and _is_dtmf(event.room_event):
                key_arrivals.append(time.monotonic())
            return mine
        return which in _CALLBACKS

    return keep


def _is_dtmf(room_event: Any) -> bool:
    """A SIP DTMF data packet (`room.py` `_on_room_event`: `data_packet_received`, value
    `sip_dtmf`), the event the Room emits as `sip_dtmf_received`."""
    return bool(
        room_event.WhichOneof("message") == "data_packet_received"
        and room_event.data_packet_received.WhichOneof("value") == "sip_dtmf"
    )


def applies(env: Mapping[str, str] = os.environ) -> bool:
    """Whether `narrow` acts in a process with `env`: not when `ROUTER_RTC_FANOUT=1` asks
    for the SDK's way, nor when the SDK is not a version read (`READ_VERSIONS`)."""
    if diagnostic("ROUTER_RTC_FANOUT", env):
        return False
    if rtc.__version__ not in READ_VERSIONS:
        log.debug("livekit %s: the FFI fan-out is left as the SDK has it", rtc.__version__)
        return False
    return True


@functools.cache
def _applies_here() -> bool:
    """`applies()` for this process, decided once, as its first call joins."""
    return applies()


def narrow(
    room: rtc.Room, env: Mapping[str, str] | None = None, key_arrivals: deque[float] | None = None
) -> bool:
    """Make a connected `room`'s FFI subscription take its own room's events only, and
    stamp its DTMF packets' arrivals into `key_arrivals` (`keep_for`).

    Returns True if it did; False (the SDK's way kept) when `applies` says no (for this
    process, decided once; for `env` when one is given, as tests and bench/fanout.py
    do), or when the room is not connected or its subscription is not found. Never
    raises for any of those.
    """
    if not (_applies_here() if env is None else applies(env)):
        return False
    handle = getattr(room, "_ffi_handle", None)
    mine = getattr(room, "_ffi_queue", None)
    if handle is None or mine is None:
        return False
    queue = FfiClient.instance.queue
    with queue._lock:
        for i, (subscribed, loop, _filter) in enumerate(queue._subscribers):
            if subscribed is mine:
                queue._subscribers[i] = (
                    subscribed,
                    loop,
                    keep_for(handle.handle, key_arrivals),
                )
                return True
    return False
