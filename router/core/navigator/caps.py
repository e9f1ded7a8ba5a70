"""Per-call safety limits: whatever the menu file says, no call loops forever."""

from __future__ import annotations

from dataclasses import dataclass, field

from router.core.model import Prompt

__all__ = ["DEFAULT_CAPS", "CallCaps"]


@dataclass(frozen=True, slots=True)
class CallCaps:
    """Per-call safety limits, whatever the menu file says: no call loops forever."""

    max_keys: int = 100
    """Keys acted on in one call; one more ends the call (KEY_LIMIT)."""
    max_transfers: int = 3
    """Transfer attempts in one call; one more plays the menu's `messages.transfer_limit`
    (heard to the end) and ends the call (TRANSFER_LIMIT)."""
    max_call_s: float = 900.0
    """Length of a call, measured from CallStarted by the CALL_LIMIT timer."""
    apology: Prompt = field(
        default_factory=lambda: Prompt(
            "Sorry, we could not connect your call. Please call again later."
        )
    )
    """Played at the transfer cap only in place of an empty `messages.transfer_limit`, the
    fallback of navigator/machine.py. A loaded file never has one (the loader refuses an
    empty message, and the built-in default says these very words), so callers never hear
    it; it serves menus built in code."""
    max_goodbye_s: float = 60.0
    """How long the goodbye of the call-length cap may play before the call is hung up
    anyway: the cap stays a cap, whatever the file's message."""


DEFAULT_CAPS = CallCaps()
