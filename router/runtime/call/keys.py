"""Key intake: the caller's DTMF as the navigator's keys, and the keys held while the menu
has not started.

A key reaches the router as a `SipDTMF` data packet (the SIP bridge's RFC 4733
telephone-event); the bridge's `active` (the call answered) comes by another way, and at
load the key came first by seconds (the soak's run 5: the first digit of `5001#` lost,
the rest dialled as menu keys). So keys before the menu starts are held
(`EARLY_KEYS_HELD`) and fed once it starts, in order, with the navigator's rule for a
key's copies kept (`KEY_REPEAT_WINDOW_S`).
"""

from __future__ import annotations

import logging
import time
from collections import deque

from livekit import rtc

from router.core.events import DigitPressed
from router.core.keys import Key
from router.core.navigator import KEY_REPEAT_WINDOW_S
from router.runtime.records import mask_digits

__all__ = ["EARLY_KEYS_HELD", "EarlyKeys", "arrival", "caller_key"]

log = logging.getLogger("router.runtime.call")  # the call's own lines, as before the split

EARLY_KEYS_HELD = 64
"""Keys from the caller held while the menu has not started (the bridge's `active` not
yet seen), fed in order once it starts; more are dropped (a storm before the answer)."""


def caller_key(dtmf: rtc.SipDTMF, caller: rtc.RemoteParticipant | None) -> Key | None:
    """The key `dtmf` carries when the tracked `caller` pressed it: by its RFC 4733 code,
    else its digit; None for nobody to serve yet, another participant, or an unknown code
    (logged, the other participant's identity masked)."""
    participant = dtmf.participant
    if caller is None or participant is None:
        return None  # nobody to serve yet
    if participant.identity != caller.identity:
        log.debug("ignoring DTMF from %s, not the caller", mask_digits(participant.identity))
        return None
    key = Key.from_code(dtmf.code) or Key.parse(dtmf.digit or "")
    if key is None:
        log.info("ignoring DTMF event with unknown code %s (%r)", dtmf.code, dtmf.digit)
    return key


def arrival(stamps: deque[float] | None, now: float) -> float | None:
    """When the DTMF packet being handled reached the process, in the loop's time `now`
    is in (never after it): its stamp (`time.monotonic()`, taken on the rtc library's
    thread by `fanout.keep_for`), the oldest of `stamps`, taken off; None without one."""
    if not stamps:
        return None
    return now - max(0.0, time.monotonic() - stamps.popleft())


class EarlyKeys:
    """The keys pressed before the menu started, at most `EARLY_KEYS_HELD`, each with the
    loop time (seconds) it came."""

    def __init__(self) -> None:
        self._held: list[tuple[Key, float]] = []

    def hold(self, key: Key, at: float) -> None:
        """Keep `key` for the menu's start; dropped beyond `EARLY_KEYS_HELD`."""
        if len(self._held) < EARLY_KEYS_HELD:
            self._held.append((key, at))

    def release(self, now: float) -> list[DigitPressed]:
        """The held keys as events to feed now, in order, and none held any more. Fed at
        once, two identical keys would be one (`KEY_REPEAT_WINDOW_S`): one that came that
        far after its twin is fed that far after it (the menu's clock, a fraction of a
        second ahead), one that came closer is fed with it, and dropped as a copy."""
        held, self._held = self._held, []
        events: list[DigitPressed] = []
        t = now
        previous: tuple[Key, float] | None = None
        for key, came in held:
            if previous is not None and key is previous[0]:
                t += KEY_REPEAT_WINDOW_S if came - previous[1] >= KEY_REPEAT_WINDOW_S else 0.0
            events.append(DigitPressed(key, t))
            previous = (key, came)
        return events
