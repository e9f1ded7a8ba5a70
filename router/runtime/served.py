"""The calls one router process is serving, and the rooms it served lately.

Shared by every job thread of the process (livekit-agents' thread executor), so behind
one lock. It serves `shut_down_all` (hang up every call at the drain's end) and "one call,
one record": livekit-server dispatches a room's agents whenever it creates the room on a
node (livekit/livekit `pkg/rtc/room.go`, `NewRoom`), also anew after its own restart, so a
second job may come for a call this process serves or has just served
(docs/reliability.md, finding 9).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["RECENT_ROOMS_S", "ServedCalls"]

RECENT_ROOMS_S = 120.0
"""How long this process remembers the room of a dispatched call it served: a job
dispatched to it again that finds no caller there is no call."""

S = TypeVar("S")


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

    def served_lately(self, name: str) -> bool:
        """Whether this process served a dispatched call in the room `name` lately."""
        with self._lock:
            at = self._recent.get(name)
        return bool(name) and at is not None and time.monotonic() - at <= RECENT_ROOMS_S
