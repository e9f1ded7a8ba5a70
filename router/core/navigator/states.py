"""A call's states and which may follow which (h11's `_state.py`: the transitions as data).

    IDLE ─CallStarted─▶ PROMPTING ◀─── invalid, no input, say, repeat, goto, back, top
                          │ key (barge-in) or PlaybackFinished
                          ▼
                        WAITING ──digit that may start an extension──▶ COLLECTING
                          │ transfer                                    │ transfer
                          ▼                                             ▼
                        ANNOUNCING ──PlaybackFinished──▶ TRANSFERRING ──success──▶ ENDED
                                                           │ failure: the policy's action
                        CLOSING (goodbye playing) ─────────┴──────────────────────▶ ENDED

A caller rule (`MenuFile.callers`) is tried at `CallStarted` before the number's entry
menu: it starts the call in its menu, or goes from IDLE straight to ANNOUNCING or
TRANSFERRING (a transfer at once) or CLOSING (a block list's goodbye). Which events
each state acts on is the navigator's `HANDLERS` table (router/core/navigator/machine.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

__all__ = ["NEXT", "CallState"]


class CallState(StrEnum):
    """Where a call is; see the module docstring for the picture."""

    IDLE = "idle"
    """Created, `CallStarted` not yet seen."""
    PROMPTING = "prompting"
    """An interruptible prompt is playing; a key cuts it short (barge-in)."""
    WAITING = "waiting"
    """The prompt is over and FIRST_DIGIT is armed."""
    COLLECTING = "collecting"
    """Digits of an extension are being gathered and INTER_DIGIT is armed."""
    ANNOUNCING = "announcing"
    """An announcement that must be heard to the end is playing; the transfer follows it."""
    TRANSFERRING = "transferring"
    """`TransferTo` was asked for; waiting for `TransferSucceeded` or `TransferFailed`."""
    CLOSING = "closing"
    """A goodbye is playing (keys ignored); the call ends when it finishes."""
    ENDED = "ended"
    """Over: every later event is ignored."""


_LIVE = frozenset(CallState) - {CallState.IDLE}

NEXT: Mapping[CallState, frozenset[CallState]] = MappingProxyType(
    {
        # a caller rule may transfer the call at once, or end it
        CallState.IDLE: _LIVE - {CallState.COLLECTING},
        # a key (or a time-out) may run any action
        CallState.PROMPTING: _LIVE,
        CallState.WAITING: _LIVE,
        CallState.COLLECTING: _LIVE,
        CallState.ANNOUNCING: frozenset({CallState.TRANSFERRING, CallState.ENDED}),
        # a failure policy may run any action but a key's
        CallState.TRANSFERRING: _LIVE - {CallState.COLLECTING},
        CallState.CLOSING: frozenset({CallState.ENDED}),
        CallState.ENDED: frozenset(),
    }
)
"""Which states may follow each state (a state may always stay as it is)."""
