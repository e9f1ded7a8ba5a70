"""What the soak's callers do, and what the router must make of each.

A `Behaviour` is one kind of caller: the SIP phone's script (`CallScript`, played by
the real phone through the SIP bridge) and the same call walked through the menu by
the core's simulated-call driver (`router.core.simulation.SimulatedCall`, what
`router simulate` runs), its notes fed to the router's own `CallRecorder`. So the
expected record is made by the code that makes real records, from the menu version
the real call was served with (its record's `menu_version`).

What is compared (`Expected.matches`), on the record read through `CallRecord.from_json`:
how the call ended (`end`), every transfer's target and outcome (its result and failure
kind), in order, and how many keys were acted on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from router.core.events import Effect, EndReason, Event, Note
from router.core.keys import Key
from router.core.model import MenuFile, TransferReason
from router.core.simulation import ScriptedTransfer, SimulatedCall
from router.runtime.outcomes import TransferOutcome
from router.runtime.records import CallRecord, CallRecorder
from router.stack.sipphone import CallScript, KeyPress

__all__ = ["STORM_KEYS", "Behaviour", "Expected", "expected", "options"]

STORM_KEYS = 50
"""Keys of a key storm, pressed 100 ms apart (40 ms tones), before the caller picks 1."""


class Behaviour(StrEnum):
    """One kind of caller (see `options` for its script)."""

    TRANSFER_OK = "transfer_ok"
    BUSY_486 = "busy_486"
    DECLINE_603 = "decline_603"
    REFER_403 = "refer_403"
    RING_OUT = "ring_out"
    HANGUP_IN_PROMPT = "hangup_in_prompt"
    HANGUP_IN_TRANSFER = "hangup_in_transfer"
    INVALID_TO_LIMIT = "invalid_to_limit"
    SILENCE_TO_LIMIT = "silence_to_limit"
    KEY_STORM = "key_storm"
    EXTENSION_HASH = "extension_hash"
    EXTENSION_PLAIN = "extension_plain"


def _storm() -> tuple[KeyPress, ...]:
    storm = tuple(KeyPress("89"[i % 2], 0.06 if i else None, 40) for i in range(STORM_KEYS))
    return (*storm, KeyPress("1", 1.0))


def _keys(text: str) -> tuple[KeyPress, ...]:
    return tuple(KeyPress(k) for k in text)


INVALID_GAP_S = 1.5
"""Between an invalid-key caller's presses (seconds after the end of the previous tone):
a caller who presses a wrong key hears "Not valid." (about 0.7 s) before pressing again.
The same key 0.66 s apart (the phone's default gap) was merged into one at load by the
router's repeat window (`KEY_REPEAT_WINDOW_S`, 80 ms at the router's arrival): a router
whose event loop stalls longer than the gap between two presses receives them together.
livekit-sip delivers one event per press (docs/reliability.md, finding 15), so the
window's copies come only from older bridges; the stall is the machine's load."""


def _spaced(text: str, gap_s: float) -> tuple[KeyPress, ...]:
    return tuple(KeyPress(k, None if i == 0 else gap_s) for i, k in enumerate(text))


_SCRIPTS: Mapping[Behaviour, dict[str, Any]] = {
    Behaviour.TRANSFER_OK: {"keys": _keys("1")},
    Behaviour.BUSY_486: {"keys": _keys("2"), "notify_status": 486},
    Behaviour.DECLINE_603: {"keys": _keys("2"), "notify_status": 603},
    Behaviour.REFER_403: {"keys": _keys("1"), "refer_status": 403},
    # no final NOTIFY: at the ringing timeout (the menu's 4 s) LiveKit gives up with no SIP
    # status, as livekit-sip does ("refer canceled", or the server's own deadline); the
    # router waits the margin for the caller to leave, then runs the no_answer policy
    Behaviour.RING_OUT: {"keys": _keys("2"), "notify_status": None},
    Behaviour.HANGUP_IN_PROMPT: {"hangup_after_audio_s": 0.8},
    Behaviour.HANGUP_IN_TRANSFER: {
        "keys": _keys("1"),
        "notify_status": None,
        "hangup_after_keys_s": 1.5,
    },
    Behaviour.INVALID_TO_LIMIT: {"keys": _spaced("777", INVALID_GAP_S)},
    Behaviour.SILENCE_TO_LIMIT: {},
    Behaviour.KEY_STORM: {"keys": _storm()},
    Behaviour.EXTENSION_HASH: {"keys": _keys("5001#")},
    Behaviour.EXTENSION_PLAIN: {"keys": _keys("5123")},
}


def options(behaviour: Behaviour, caller_id: str, *, timeout_s: float = 90.0) -> CallScript:
    """The SIP phone's script for one call of `behaviour` from `caller_id`."""
    script = {"notify_status": 200, "notify_delay_s": 0.3, **_SCRIPTS[behaviour]}
    return CallScript(caller_id=caller_id, timeout_s=timeout_s, bye_timeout_s=8.0, **script)


@dataclass(frozen=True)
class Expected:
    """What a call's record must say: its `end`, its transfers `(target, outcome)` in
    order, and the number of keys acted on. Typed as `CallRecord` reads them: `end` an
    `EndReason` (text only for a reason this router does not name), each outcome a
    `TransferOutcome` (a record's `result` and `kind` in one)."""

    end: EndReason | str | None
    transfers: tuple[tuple[str, TransferOutcome], ...]
    keys: int

    @classmethod
    def of_record(cls, record: CallRecord) -> Expected:
        """The same three things, as a call record says them."""
        return cls(
            record.end,
            tuple((t.target, t.outcome) for t in record.transfers),
            sum(1 for k in record.keys if not k.ignored),
        )

    def matches(self, record: CallRecord) -> bool:
        return Expected.of_record(record) == self

    def __str__(self) -> str:
        """`end hangup, transfers tel:+15105550101 busy, 1 keys` (for a failure's sentence)."""
        transfers = "; ".join(f"{target} {outcome}" for target, outcome in self.transfers)
        return f"end {self.end}, transfers {transfers or 'none'}, {self.keys} keys"


def _settle(call: SimulatedCall) -> None:
    """Let every prompt that plays be heard to its end."""
    while call.playing is not None and not call.ended:
        call.finish_prompt()


def _press(call: SimulatedCall, keys: str, gap: float | None = None) -> None:
    for k in keys:
        if call.ended:
            return
        call.press(Key(k), gap)


def _answer(call: SimulatedCall, result: ScriptedTransfer) -> None:
    if not call.ended:
        call.answer(result)
        _settle(call)


_RESULT = {
    Behaviour.BUSY_486: ScriptedTransfer(False, 486),
    Behaviour.DECLINE_603: ScriptedTransfer(False, 603),
    Behaviour.REFER_403: ScriptedTransfer(False, 403),
    # the record a ring-out gets: failed, no SIP status, LiveKit's ringing timeout
    # (router/runtime/transfer_watch.py, `_outcome_from_caller`): kind no_answer
    Behaviour.RING_OUT: ScriptedTransfer(
        False, None, "ringing timeout", TransferReason.RINGING_TIMEOUT
    ),
}


def _walk(behaviour: Behaviour) -> Callable[[SimulatedCall], None]:
    """The call after its greeting was heard, as the simulator does it."""

    def walk(call: SimulatedCall) -> None:
        keys = "".join(k.digit for k in _SCRIPTS[behaviour].get("keys", ()))
        if behaviour is Behaviour.HANGUP_IN_PROMPT:
            call.hang_up()
            return
        if behaviour is Behaviour.KEY_STORM:
            _press(call, keys[:-1], 0.1)
            _settle(call)
            keys = keys[-1]
        _press(call, keys)
        if behaviour is Behaviour.HANGUP_IN_TRANSFER:
            call.hang_up()
            return
        _settle(call)
        if call.target is not None:
            _answer(call, _RESULT.get(behaviour, ScriptedTransfer(True)))
        while not call.ended:  # silence: each time-out fires, its prompt is heard
            call.wait()
            _settle(call)

    return walk


def expected(behaviour: Behaviour, menu_file: MenuFile) -> Expected:
    """The record a call of `behaviour` gets from `menu_file`, by the simulated call."""
    recorder = CallRecorder(
        call_id="soak",
        room="soak",
        dialled=None,
        caller=None,
        menu_version=menu_file.version,
        started_at=datetime.now(UTC),
        started=0.0,
    )

    def observe(_event: Event, effects: Sequence[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Note):
                recorder.note(effect)

    call = SimulatedCall(menu_file, instant=False, observe=observe)
    call.start(None, datetime.now(UTC))
    _settle(call)
    _walk(behaviour)(call)
    if not call.ended:
        raise AssertionError(f"the simulated {behaviour} call did not end")
    if recorder.end_reason is None:
        recorder.end_reason = EndReason.CALLER_HANGUP
    return Expected.of_record(recorder.record(call.now))
