"""The navigator: one call through the menus, as a pure state machine (events in, effects out).

`Navigator` (machine.py) is fed `handle(event)` and returns effects; its parts are a
module each: the call's bookkeeping (context.py), the call's states and their
transitions (states.py), the per-call caps (caps.py), the timers (timers.py), a key's
copies dropped (copies.py), what the digits dialled name (dialling.py), the action
after a failed transfer (transfers.py). No asyncio, no LiveKit, time passed in
(aioquic's shape; docs/architecture.md).
"""

from __future__ import annotations

from router.core.navigator.caps import DEFAULT_CAPS, CallCaps
from router.core.navigator.copies import KEY_REPEAT_WINDOW_S
from router.core.navigator.machine import Navigator
from router.core.navigator.states import CallState

__all__ = ["DEFAULT_CAPS", "KEY_REPEAT_WINDOW_S", "CallCaps", "CallState", "Navigator"]
