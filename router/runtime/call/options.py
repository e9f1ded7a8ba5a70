"""What a call's session is given: how to serve the call (`SessionOptions`), and who
watches it from the side (`CallObserver`, the trial page's reporter)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from router.core.events import Effect
from router.core.navigator import CallCaps, Navigator

__all__ = ["CallObserver", "SessionOptions"]


@dataclass(frozen=True, slots=True)
class SessionOptions:
    """How this router serves one call: caps, masking, and how long it waits for the caller."""

    caps: CallCaps = CallCaps()
    mask_caller: bool = True
    answer_timeout_s: float = 20.0
    """How long to wait for the SIP bridge to report the call answered before greeting anyway."""
    caller_timeout_s: float = 30.0
    """How long to wait for a SIP participant to appear in the room (`router connect`)."""
    dispatched: bool = False
    """LiveKit dispatched this call: the caller's SIP participant created the room, so it is
    there when the router joins unless it has already hung up. The router then waits only
    `JOIN_GRACE_S` for it, and records a caller gone by then (`left_before_join`)."""
    trial_callers: bool = False
    """Also serve a browser caller (`router.trial.caller`): only when started for trying."""


class CallObserver(Protocol):
    """Watches a call from the side (the trial page's reporter); changes nothing."""

    def call_started(self, dialled: str | None, at: datetime, now: float) -> None: ...

    def effect(self, effect: Effect, now: float, navigator: Navigator) -> None:
        """Every effect, as it is carried out."""
