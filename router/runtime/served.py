"""The calls one router process is serving, and the rooms it served lately.

Shared by every job thread of the process (livekit-agents' thread executor), so behind
one lock. It serves `shut_down_all` (hang up every call at the drain's end) and "one call,
one record": livekit-server dispatches a room's agents whenever it creates the room on a
node (livekit/livekit `pkg/rtc/room.go`, `NewRoom`), also anew after its own restart, so a
second job may come for a call this process serves or has just served
(docs/reliability.md, finding 9). `CALLS` is the process's table; a call takes its
place in it with `ServedCalls.claim`, which makes such a second job wait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from router.core.events import EndReason

__all__ = ["CALLS", "RECENT_ROOMS_S", "STOPPING", "ServedCall", "ServedCalls", "shut_down_all"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split

RECENT_ROOMS_S = 120.0
"""How long this process remembers the room of a dispatched call it served: a job
dispatched to it again that finds no caller there is no call."""

CLAIM_POLL_S = 0.25
"""How often a second dispatch looks whether the session serving its call is over: that
session runs on its own loop (a job thread), so its state is polled, not awaited."""


class ServedCall(Protocol):
    """What the table knows of a call being served (`router.runtime.call.CallSession`)."""

    @property
    def room_name(self) -> str:
        """The call's room ("" before it is joined)."""

    @property
    def caller_identity(self) -> str | None:
        """The identity of the caller it serves, once known."""

    @property
    def over(self) -> bool:
        """The call has ended (safe to read from another thread)."""

    @property
    def end_reason(self) -> EndReason | None: ...

    def shut_down_threadsafe(self) -> None:
        """Hang up on its caller, from any thread (on the call's own loop)."""


S = TypeVar("S", bound=ServedCall)


class ServedCalls(Generic[S]):
    """The live sessions (`S`) of this process, and its rooms served within `RECENT_ROOMS_S`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[S] = set()
        self._recent: dict[str, float] = {}  # room name -> time served (monotonic seconds)

    def add_unless(self, session: S, serving: Callable[[list[S]], S | None]) -> S | None:
        """Add `session` unless `serving(live sessions)`, called under the lock, names
        another session already serving its call; returns that other one, or None once
        added."""
        with self._lock:
            other = serving(list(self._live))
            if other is None:
                self._live.add(session)
            return other

    def discard(self, session: S) -> None:
        with self._lock:
            self._live.discard(session)

    def sessions(self) -> list[S]:
        """The live sessions now (a copy: each runs on its own job thread)."""
        with self._lock:
            return list(self._live)

    def remember_room(self, name: str) -> None:
        """Note that a dispatched call in room `name` was served here (now); forgets rooms
        older than `RECENT_ROOMS_S` on the way, so the table stays bounded."""
        if not name:
            return
        now = time.monotonic()
        with self._lock:
            for old in [n for n, at in self._recent.items() if now - at > RECENT_ROOMS_S]:
                del self._recent[old]
            self._recent[name] = now

    def serving_room(self, name: str, besides: S) -> bool:
        """Whether a live session other than `besides` is serving a call in room `name`.

        livekit-server creates a room anew when the first of its participants comes back
        after a restart and dispatches the router to it: when the router's own rejoin
        comes first, the new job finds no caller yet. Recorded `left_before_join` and
        deleting the room, it cut the serving session off, and the bridge's return
        created the room a third time (CI's soak: three records of one call)."""
        with self._lock:
            live = list(self._live)
        return bool(name) and any(
            other is not besides and other.room_name == name and not other.over for other in live
        )

    def in_room(self, name: str, besides: S) -> bool:
        """Whether a session other than `besides` is in this process's table for room
        `name`, over or not: a session leaves the table only after it remembered its room
        (`remember_room`), so with `served_lately` this has no gap."""
        with self._lock:
            live = list(self._live)
        return bool(name) and any(o is not besides and o.room_name == name for o in live)

    def forget(self) -> None:
        """Forget the rooms and calls served lately, as a fresh process starts (the live
        sessions stay): for tests that serve the same call again in one process."""
        with self._lock:
            self._recent.clear()

    def remember_call(self, call_id: str | None) -> None:
        """Note that the call `call_id` (the SIP bridge's `sip.callID`) ended here, its
        record written (now); forgotten after `RECENT_ROOMS_S`, as rooms are."""
        if call_id:
            self.remember_room(f"call:{call_id}")

    def ended_lately(self, call_id: str | None) -> bool:
        """Whether the call `call_id` ended here lately, its record written."""
        return bool(call_id) and self.served_lately(f"call:{call_id}")

    def served_lately(self, name: str) -> bool:
        """Whether this process served a dispatched call in the room `name` lately."""
        with self._lock:
            at = self._recent.get(name)
        return bool(name) and at is not None and time.monotonic() - at <= RECENT_ROOMS_S

    async def claim(
        self, session: S, caller_identity: str, *, dispatched: bool, label: str
    ) -> bool:
        """Take the call of `caller_identity` for `session` (it joins the live sessions);
        False if another session of this process serves the same caller in the same room
        and keeps the call.

        livekit-server dispatches a room's agents whenever it creates the room on a node
        (livekit/livekit `pkg/rtc/room.go`, `NewRoom` calls `launchRoomAgents`), and it
        creates it anew when participants come back after its restart (the soak); the
        session already serving the call rejoins the same room. One call, one record:
        this session waits while the other serves, and takes the call only if the other
        lost LiveKit for good with the caller still here (never leave a caller alone
        with nobody serving). Only dispatched calls in a named room (a room not joined
        has no name to compare)."""

        def serving(live: list[S]) -> S | None:
            if not (dispatched and session.room_name):
                return None
            for other in live:
                if (
                    other is not session
                    and other.room_name == session.room_name
                    and other.caller_identity == caller_identity
                    and not other.over
                ):
                    return other
            return None

        while True:
            other = self.add_unless(session, serving)
            if other is None:
                return True
            log.warning(
                "call %s: LiveKit dispatched the router again to a call it is serving "
                "(the room was created anew, as after a server restart); waiting while "
                "the session serving it goes on",
                label,
            )
            while not (other.over or session.over):  # noqa: ASYNC110 (another loop's state)
                await asyncio.sleep(CLAIM_POLL_S)
            if session.over or other.end_reason is not EndReason.CONNECTION_LOST:
                return False


CALLS: ServedCalls[ServedCall] = ServedCalls()
"""The calls of this process being served (job threads included), for `shut_down_all`
and one session per call (`ServedCalls.claim`), and the rooms it served lately."""


STOPPING = threading.Event()
"""Set once this process is stopping (the worker's drain, `shut_down_all`): from then on a
job livekit-agents ends is the router's own stop, never a call to keep serving
(`router.runtime.jobend`)."""


def shut_down_all() -> int:
    """Hang up every call this process is serving, each on its own loop; returns how many.

    For a worker stopping after its drain time: the callers are told by a hang-up
    instead of silence, and every call keeps its record (`end: shutdown`).
    """
    STOPPING.set()
    sessions = CALLS.sessions()
    for session in sessions:
        session.shut_down_threadsafe()
    return len(sessions)
