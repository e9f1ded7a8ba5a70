"""A call's timers: which are armed and their deadlines, as aioquic's `get_timer()`.

The navigator owns no clock: arming a timer gives the `StartTimer` effect the runtime
(or the simulator) carries out, and a `TimerFired` event is taken only while its timer
is armed and due, so a late or cancelled timer is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from router.core.events import CancelTimer, StartTimer, TimerKind

__all__ = ["EARLY_FIRE_SLACK_S", "Timers"]

EARLY_FIRE_SLACK_S = 0.02
"""Seconds a timer may fire before its deadline and still count (event loops round)."""


class Timers:
    """The armed timers of one call, each with its deadline (seconds, the call's clock)."""

    __slots__ = ("_deadlines", "deadlines")

    def __init__(self) -> None:
        self._deadlines: dict[TimerKind, float] = {}
        self.deadlines: Mapping[TimerKind, float] = MappingProxyType(self._deadlines)
        """A read-only view of the armed timers and their deadlines."""

    def arm(self, kind: TimerKind, deadline: float) -> StartTimer:
        """Arm (or re-arm) `kind` for `deadline`; the effect that starts it."""
        self._deadlines[kind] = deadline
        return StartTimer(kind, deadline)

    def disarm(self, kind: TimerKind) -> CancelTimer | None:
        """The effect that cancels `kind`; None if it was not armed."""
        if self._deadlines.pop(kind, None) is None:
            return None
        return CancelTimer(kind)

    def disarm_all(self) -> list[CancelTimer]:
        """Cancel every armed timer (the call is over)."""
        cancels = [CancelTimer(kind) for kind in self._deadlines]
        self._deadlines.clear()
        return cancels

    def fired(self, kind: TimerKind, now: float) -> bool:
        """True if `kind` is armed and due at `now` (`EARLY_FIRE_SLACK_S` allowed); it is
        then no longer armed. False for a stale timer: cancelled, re-armed later, early."""
        deadline = self._deadlines.get(kind)
        if deadline is None or now < deadline - EARLY_FIRE_SLACK_S:
            return False
        del self._deadlines[kind]
        return True

    def first(self) -> tuple[TimerKind, float] | None:
        """The armed timer that fires first and its deadline; None if none is armed."""
        if not self._deadlines:
            return None
        kind = min(self._deadlines, key=self._deadlines.__getitem__)
        return kind, self._deadlines[kind]
