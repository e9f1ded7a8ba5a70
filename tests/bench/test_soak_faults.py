"""The soak's count of calls cut by a fault: only those whose record says why.

A call up during an outage may end the outage's way (`FAULT_ENDS`) instead of the
simulated one; it counts as "cut by a fault" only if its record carries the fault's
reason (the router's `errors`, or what LiveKit answered a transfer), never silently.
The SIP bridge's goodbye is a caller's BYE to the router: its `end` is its reason.
"""

from __future__ import annotations

from bench.soak.faults import fault_told
from router.core.events import EndReason
from router.runtime.outcomes import TransferOutcome
from tests.bench.soak_figures import call_record, transfer

LIVEKIT_LOST = ("lost the connection to LiveKit at 12.3 s", "back on LiveKit at 15.9 s")
TO_SALES = "tel:+15105550101"
TO_SUPPORT = "sip:support@pbx.example.com"


def test_a_call_cut_without_a_word_is_not_counted_as_cut_by_the_fault() -> None:
    assert not fault_told(call_record(), {"redis"})
    assert not fault_told(call_record(end=EndReason.CONNECTION_LOST), {"livekit"})


def test_the_router_saying_it_lost_livekit_is_the_reason() -> None:
    assert fault_told(call_record(errors=LIVEKIT_LOST), {"redis"})


def test_what_livekit_answered_a_failed_transfer_is_the_reason() -> None:
    failed = transfer(
        TO_SALES,
        TransferOutcome.ERROR,
        "error -: unknown: dial tcp 127.0.0.1:6379: connect: connection refused",
    )
    assert fault_told(call_record(transfers=[failed]), {"redis"})
    pending = transfer(TO_SALES, TransferOutcome.UNFINISHED)
    assert not fault_told(call_record(transfers=[pending]), {"redis"})


def test_the_sip_bridges_goodbye_is_told_by_the_end_itself() -> None:
    assert fault_told(call_record(end=EndReason.CALLER_HANGUP), {"sip"})


def test_a_success_the_router_only_inferred_is_the_sip_bridges_cut_when_it_says_so() -> None:
    # run 7: a ring-out cut by the SIP bridge's restart 2.6 s after LiveKit gave up was
    # recorded transferred; the record now says the success was taken from the departure
    inferred = transfer(
        TO_SUPPORT,
        TransferOutcome.SUCCEEDED,
        "no outcome from LiveKit (deadline_exceeded: twirp error unknown: request "
        "timed out); the caller left 2.6 s later: taken for the REFER completing late",
    )
    confirmed = transfer(TO_SUPPORT, TransferOutcome.SUCCEEDED)
    transferred = EndReason.TRANSFERRED
    assert fault_told(call_record(end=transferred, transfers=[inferred]), {"sip"})
    assert not fault_told(call_record(end=transferred, transfers=[confirmed]), {"sip"})
    assert not fault_told(call_record(end=transferred, transfers=[inferred]), {"redis"})
