"""A scripted SIP phone for end-to-end tests, benchmarks and people.

Why it exists: the stack's tests need a caller that dials LiveKit's SIP bridge
exactly like a desk phone would (UDP SIP, PCMU audio, RFC 4733 DTMF with a
fresh RTP timestamp per key, REFER accepted with NOTIFY sipfrags) and reports,
with monotonic timestamps, what happened.  Debian's sipp reuses DTMF
timestamps (LiveKit drops repeated keys) and needs root to play RTP, so this is
plain asyncio: no root, no third-party packages.

The package, one module per concept:

- ``message``: SIP message text, parsed and built (RFC 3261); ``sdp``: the offer
  and the answer (RFC 4566/3264); ``rtp``: packets, G.711 u-law, RFC 4733 keys.
- ``transaction``: client transactions (retransmission timers A/B/E/F) and the
  response cache, sans-I/O.
- ``dialog``: the call's SIP dialog, sans-I/O: events in, actions out, time passed
  in; its states and ``TRANSITIONS`` table in ``states``, what it asks of its shell
  in ``actions``, those actions with its SIP trace and notes queued in ``outbox``, the
  requests it sends (INVITE, headers, route set, NOTIFY, CANCEL, ACKs) in ``requests``,
  its SDP offer and answer (RFC 3264) in ``negotiation``, the far end's requests judged
  and answered (RFC 3261 12.2.2, REFER) in ``inbound``.
- ``media``: what received RTP sounded like (``AudioMeter``, ``WavRecorder``).
- ``report``: ``CallOutcome`` and ``CallReport``.
- ``script``: ``CallScript``, ``KeyPress``, ``parse_keys`` and the script runner.
- ``phone``: ``SipCall``, the asyncio shell (sockets, timers) and ``place_call``;
  ``stream``: its RTP both ways (the 20 ms clock, keys, the meter, the recorder).
- ``cli``: ``python -m router.stack.caller`` (or ``python -m router.stack.sipphone``).

Scripted use::

    report = await place_call("sip:+15105550000@127.0.0.1:5060", keys="1", notify_status=200)
    assert report.outcome is CallOutcome.REMOTE_BYE and report.refer_to

Interactive use, when a test needs to act on what it sees::

    async with SipCall("sip:+15105550000@127.0.0.1:5060") as call:
        await call.start()
        if await call.wait_answered(timeout_s=10):
            await call.wait_first_audio(timeout_s=10)
            await call.send_key("1")
            await call.wait_ended(timeout_s=15)
    report = call.report()

Command line: ``python -m router.stack.caller TARGET --keys 1 --notify 200 [--json]``.
"""

from __future__ import annotations

from router.stack.sipphone.cli import main
from router.stack.sipphone.dialog import CallError
from router.stack.sipphone.phone import SipCall, place_call
from router.stack.sipphone.report import (
    AudioStats,
    CallOutcome,
    CallReport,
    NotifySent,
    ReferReceived,
    SentKey,
    SipTraceEntry,
)
from router.stack.sipphone.script import CallScript, KeyPress, parse_keys
from router.stack.sipphone.states import PhoneState

__all__ = [
    "AudioStats",
    "CallError",
    "CallOutcome",
    "CallReport",
    "CallScript",
    "PhoneState",
    "KeyPress",
    "NotifySent",
    "ReferReceived",
    "SentKey",
    "SipCall",
    "SipTraceEntry",
    "main",
    "parse_keys",
    "place_call",
]
