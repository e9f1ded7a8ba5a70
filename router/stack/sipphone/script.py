"""The call script: what a scripted call does (keys, REFER answers, hangup triggers).

:class:`CallScript` and :class:`KeyPress` say it as data; :func:`parse_keys` reads
the key grammar of the CLI (``"1,2"``, ``"4s 1 3s 2"``); :func:`follow_script`
plays it on a live :class:`~router.stack.sipphone.phone.SipCall`.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from router.stack.sipphone.dialog import CallError
from router.stack.sipphone.report import CallOutcome
from router.stack.sipphone.rtp import event_for_digit
from router.stack.sipphone.states import PhoneState

if TYPE_CHECKING:
    from router.stack.sipphone.phone import SipCall

__all__ = ["CallScript", "KeyPress", "follow_script", "parse_keys", "wait_any"]

_KEY_CHARS = frozenset("0123456789*#ABCDabcd")
_PAUSE_RE = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)s$", re.IGNORECASE)


@dataclass(frozen=True)
class KeyPress:
    """One key of a script.

    ``delay_before_s`` counts from the answer for the first key and from the
    end of the previous key otherwise; ``None`` takes the script default
    (``first_key_delay_s`` / ``key_gap_s``).  The default first delay is a few
    seconds because LiveKit may lose digits sent while its data channel comes up.
    """

    digit: str
    delay_before_s: float | None = None
    duration_ms: int = 160

    def __post_init__(self) -> None:
        event_for_digit(self.digit)  # raises ValueError for anything but 0-9 * # A-D
        if len(self.digit) != 1:
            raise ValueError(f"one key per KeyPress, got {self.digit!r}")
        if self.delay_before_s is not None and (
            self.delay_before_s < 0 or not math.isfinite(self.delay_before_s)
        ):
            raise ValueError(f"delay_before_s must be >= 0, got {self.delay_before_s}")
        if self.duration_ms < 40:
            raise ValueError(f"duration_ms must be >= 40, got {self.duration_ms}")


def parse_keys(spec: str, *, duration_ms: int = 160) -> tuple[KeyPress, ...]:
    """Turn a key string into presses.

    Tokens are separated by commas or spaces.  Key characters (``0-9 * # A-D``)
    are pressed one after another with the default gaps; a token like ``3s`` or
    ``1.5s`` sets the pause before the next key explicitly (from the answer for
    the first key).  ``"1"``, ``"1,2"``, ``"12#"``, ``"4s 1 3s 2"``.
    """
    keys: list[KeyPress] = []
    pause_s: float | None = None
    for token in re.split(r"[,\s]+", spec.strip()):
        if not token:
            continue
        m = _PAUSE_RE.match(token)
        if m:
            pause_s = (pause_s or 0.0) + float(m.group(1))
            continue
        for ch in token:
            if ch not in _KEY_CHARS:
                raise ValueError(f"bad key {ch!r} in {spec!r} (allowed: 0-9 * # A-D, pauses as 2s)")
            keys.append(KeyPress(ch.upper(), pause_s, duration_ms))
            pause_s = None
    return tuple(keys)


@dataclass(frozen=True)
class CallScript:
    """Everything a scripted call does; the defaults behave like a patient phone user."""

    keys: tuple[KeyPress, ...] = ()
    first_key_delay_s: float = 2.5
    """Pause between the answer and the first key (LiveKit may drop earlier digits)."""
    key_gap_s: float = 0.5
    """Pause between the end of one key and the next when the script gives none."""
    refer_status: int = 202
    """Answer to an incoming REFER; a non-2xx (403 ...) refuses it and sends no NOTIFY."""
    notify_trying: bool = True
    """Send a ``SIP/2.0 100 Trying`` NOTIFY right after accepting a REFER."""
    notify_status: int | None = 200
    """Final sipfrag status to report (200 = transferred); None sends no final NOTIFY."""
    notify_delay_s: float = 0.5
    """Pause between accepting the REFER and the final NOTIFY."""
    hangup_after_s: float | None = None
    """Hang up this long after the answer."""
    cancel_after_ringing_s: float | None = None
    """Hang up (CANCEL) this long after the first 180/183, if the call is not answered by then."""
    hangup_after_audio_s: float | None = None
    """Hang up this long after the first non-silent audio arrived (mid-prompt tests)."""
    hangup_after_keys_s: float | None = None
    """Hang up this long after the last scripted key was sent."""
    hangup_after_notify_s: float | None = None
    """Hang up this long after the final NOTIFY of a REFER was answered."""
    timeout_s: float = 60.0
    """Overall limit; then BYE (or CANCEL).  place_call returns by timeout_s + bye_timeout_s."""
    bye_timeout_s: float = 4.0
    """How long to wait for the answer to our BYE or CANCEL."""
    record_to: str | Path | None = None
    """Write received audio (8 kHz mono 16-bit WAV) here when the call ends."""
    caller_id: str = "+15105550100"
    """User part of From (what LiveKit reports as ``sip.phoneNumber``)."""
    display_name: str | None = None
    local_host: str = "127.0.0.1"
    """Address to bind (ephemeral ports) and to advertise in Via, Contact and SDP."""
    invite_headers: tuple[tuple[str, str], ...] = ()
    """Extra INVITE headers (``X-...``), in order."""
    audio_threshold_rms: float = 200.0
    """Per-packet RMS (16-bit scale) above which received audio counts as not silent."""
    send_audio: bool = True
    """Send 20 ms PCMU silence packets from the answer on, as a phone does; False sends no
    RTP but the keys' (with no keys, none at all: a phone whose media never arrives)."""


async def follow_script(call: SipCall) -> None:
    """Place the call and follow ``call.options`` until it ends (the caller closes it).

    The overall ``timeout_s`` hangs up (BYE, or CANCEL while ringing).
    """
    opts = call.options
    try:
        async with asyncio.timeout(opts.timeout_s):
            await call.start()
            if opts.cancel_after_ringing_s is not None:
                call._spawn(_cancel_while_ringing(call, opts.cancel_after_ringing_s))
            if await call.wait_answered():
                if opts.keys:
                    call._spawn(_run_keys(call))
                call._spawn(_run_hangup_triggers(call))
            await call.wait_ended()
    except TimeoutError:
        await call.hangup(
            outcome=CallOutcome.TIMEOUT, detail=f"overall timeout of {opts.timeout_s}s"
        )


async def _run_keys(call: SipCall) -> None:
    opts = call.options
    prev = call.answered_at or time.monotonic()
    for i, kp in enumerate(opts.keys):
        delay = kp.delay_before_s
        if delay is None:
            delay = opts.first_key_delay_s if i == 0 else opts.key_gap_s
        await asyncio.sleep(max(0.0, prev + delay - time.monotonic()))
        if call.state is not PhoneState.CONFIRMED:
            return
        try:
            sent = await call.send_key(kp.digit, duration_ms=kp.duration_ms)
        except CallError:
            return
        prev = sent.finished_at
    call._keys_done.set()


async def _cancel_while_ringing(call: SipCall, wait: float) -> None:
    await wait_any([call._ringing, call._answered, call._ended], None)
    if call.ringing_at is None or call.answered or call.ended:
        return
    await asyncio.sleep(max(0.0, call.ringing_at + wait - time.monotonic()))
    if call.state is PhoneState.PROCEEDING:
        await call.hangup(detail=f"cancelled {wait}s after ringing")


async def _run_hangup_triggers(call: SipCall) -> None:
    opts = call.options
    answered = call.answered_at or time.monotonic()
    triggers: list[Awaitable[str]] = []

    async def after(
        ev: asyncio.Event | None, stamp: Callable[[], float | None], wait: float, why: str
    ) -> str:
        if ev is not None:
            await ev.wait()
        t = stamp() or time.monotonic()
        await asyncio.sleep(max(0.0, t + wait - time.monotonic()))
        return why

    if opts.hangup_after_s is not None:
        triggers.append(
            after(
                None,
                lambda: answered,
                opts.hangup_after_s,
                f"{opts.hangup_after_s}s after answer",
            )
        )
    if opts.hangup_after_audio_s is not None:
        triggers.append(
            after(
                call._first_audio,
                lambda: call._stream.meter.first_audio_at,
                opts.hangup_after_audio_s,
                f"{opts.hangup_after_audio_s}s after first audio",
            )
        )
    if opts.hangup_after_keys_s is not None and opts.keys:
        triggers.append(
            after(
                call._keys_done,
                lambda: call._stream.keys_sent[-1].finished_at if call._stream.keys_sent else None,
                opts.hangup_after_keys_s,
                f"{opts.hangup_after_keys_s}s after the last key",
            )
        )
    if opts.hangup_after_notify_s is not None:
        triggers.append(
            after(
                call._notify_done,
                lambda: None,
                opts.hangup_after_notify_s,
                f"{opts.hangup_after_notify_s}s after the final NOTIFY",
            )
        )
    if not triggers:
        return
    tasks = [asyncio.ensure_future(t) for t in triggers]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    why = next(iter(done)).result()
    await call.hangup(detail=f"hung up {why}")


async def wait_any(events: Sequence[asyncio.Event], timeout_s: float | None) -> None:
    """Return when any event is set or the timeout passes."""
    if any(e.is_set() for e in events):
        return
    tasks = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
