"""The soak's count of calls cut by a fault: only those whose record says why.

A call up during an outage may end the outage's way (`FAULT_ENDS`) instead of the
simulated one; it counts as "cut by a fault" only if its record carries the fault's
reason (the router's `errors`, or what LiveKit answered a transfer), never silently.
The SIP bridge's goodbye is a caller's BYE to the router: its `end` is its reason.
"""

from __future__ import annotations

from typing import Any

from bench.soak.faults import fault_told


def _record(**fields: Any) -> dict[str, Any]:
    return {"end": "hangup", "transfers": [], "errors": [], **fields}


def test_a_call_cut_without_a_word_is_not_counted_as_cut_by_the_fault() -> None:
    assert not fault_told(_record(), {"redis"})
    assert not fault_told(_record(end="connection_lost"), {"livekit"})


def test_the_router_saying_it_lost_livekit_is_the_reason() -> None:
    record = _record(
        errors=["lost the connection to LiveKit at 12.3 s", "back on LiveKit at 15.9 s"]
    )
    assert fault_told(record, {"redis"})


def test_what_livekit_answered_a_failed_transfer_is_the_reason() -> None:
    failed = {
        "target": "tel:+15105550101",
        "result": "failed",
        "kind": "error",
        "detail": "error -: unknown: dial tcp 127.0.0.1:6379: connect: connection refused",
    }
    assert fault_told(_record(transfers=[failed]), {"redis"})
    pending = {"target": "tel:+15105550101", "result": "pending"}
    assert not fault_told(_record(transfers=[pending]), {"redis"})


def test_the_sip_bridges_goodbye_is_told_by_the_end_itself() -> None:
    assert fault_told(_record(end="caller_hangup"), {"sip"})


def test_a_success_the_router_only_inferred_is_the_sip_bridges_cut_when_it_says_so() -> None:
    # run 7: a ring-out cut by the SIP bridge's restart 2.6 s after LiveKit gave up was
    # recorded transferred; the record now says the success was taken from the departure
    inferred = {
        "target": "sip:support@pbx.example.com",
        "result": "succeeded",
        "sip_status": None,
        "detail": "no outcome from LiveKit (deadline_exceeded: twirp error unknown: request "
        "timed out); the caller left 2.6 s later: taken for the REFER completing late",
    }
    confirmed = {"target": "sip:support@pbx.example.com", "result": "succeeded", "sip_status": 200}
    assert fault_told(_record(end="transferred", transfers=[inferred]), {"sip"})
    assert not fault_told(_record(end="transferred", transfers=[confirmed]), {"sip"})
    assert not fault_told(_record(end="transferred", transfers=[inferred]), {"redis"})
