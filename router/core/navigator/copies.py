"""Copies of one key press, as SIP bridges deliver them, dropped before they count."""

from __future__ import annotations

from router.core.keys import Key

__all__ = ["KEY_REPEAT_WINDOW_S", "KeyCopies"]

KEY_REPEAT_WINDOW_S = 0.08
"""Seconds within which the same key again is taken as a copy of the first, and dropped.

No person presses a key twice in 80 ms, but SIP bridges have delivered one press
twice: RFC 4733 sends a digit's end packet three times (at the sender's packet
interval, 20-50 ms), and a receiver that reports each copy, or both an RTP event
and a SIP INFO for the same press, turns one key into two, milliseconds apart
(livekit/sip has fixed such a bug: it deduplicated on the RTP timestamp alone).
80 ms is the shortest press-and-pause a keypad may send at all (ITU-T Q.24: a tone
of 40 ms and a pause of 40 ms), so a real second press is never lost. The window
slides: a train of copies (0, 40, 80 ms) is one key."""


class KeyCopies:
    """Remembers the last key a call delivered, to tell a bridge's copy from a press."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[Key, float] | None = None

    def is_copy(self, key: Key, now: float) -> bool:
        """The same key as the last one, within KEY_REPEAT_WINDOW_S of it (`now` in
        seconds): a copy. Every key, copy or not, becomes the last one (the window slides)."""
        last, self._last = self._last, (key, now)
        return last is not None and last[0] is key and 0 <= now - last[1] < KEY_REPEAT_WINDOW_S
