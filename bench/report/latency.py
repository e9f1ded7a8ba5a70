"""Sections 1 and 2 of the report: key to REFER, and answer to first audio."""

from __future__ import annotations

from bench.report.cells import dist, num, table
from bench.schema import RunResult
from bench.sections import Distribution

__all__ = ["audio", "keys"]

_HEAD = ["ms", "n", "p50", "p95", "p99", "max", "mean"]


def _p50(s: Distribution | None) -> float:
    return s.p50 if s is not None and s.p50 is not None else 0


def keys(r: RunResult) -> list[str]:
    k = r.key_to_refer
    if not k:
        return []
    w = k.api_to_wire_ms
    fresh = w.fresh_session_ms if w else None
    lines = [
        "## 1. Key to REFER",
        "",
        f"{k.presses} presses of `1` (an unambiguous key with a direct transfer), three per",
        "call: the caller refuses each REFER with 403, the router plays the failure message",
        "and the menu again, and the next press barges in and causes the next REFER (three",
        "is the router's cap of transfer attempts per call). Two calls run at a time.",
        "",
        *table(
            _HEAD,
            [
                dist("caller sends the key → REFER at the caller", k.end_to_end_ms),
                dist(
                    "floor: caller sends the key → a listening rtc participant gets it",
                    k.floor_key_to_listener_ms,
                ),
                dist(
                    "inside the router: `sip_dtmf_received` → request handed to livekit-api",
                    k.router_key_to_request_ms,
                    3,
                ),
                dist(
                    "livekit-api → request at a local stub (fresh HTTP session, as per call)",
                    fresh,
                    3,
                ),
                dist("the same, warm session", w.warm_session_ms if w else None, 3),
            ],
        ),
        "",
    ]
    e, f, i = k.end_to_end_ms, k.floor_key_to_listener_ms, k.router_key_to_request_ms
    if e.n and f.n:
        rest = _p50(e) - _p50(f)
        lines += [
            f"Of the median {_p50(e):.1f} ms, {_p50(f):.1f} ms is the floor (the key's RTP",
            "packet → the SIP bridge → a data packet through livekit-server → a Python rtc",
            f"client). The other {rest:.1f} ms is the router's callback and navigator step "
            f"({_p50(i):.2f} ms),",
            f"livekit-api putting the request on the wire (about "
            f"{_p50(fresh):.2f} ms with a new connection), "
            "livekit-server",
            "handling TransferSIPParticipant and asking the SIP bridge over Redis (psrpc), and",
            "the bridge sending the REFER. The router's own share is the third row.",
            "",
        ]
    b = k.breakdown
    kl = r.key_to_refer_loaded
    if b and b.matched:
        lines += [
            "Per press, split with the router's own timestamps (its trace line gives the",
            "callback and request times on the same monotonic clock as the caller's):",
            "",
            *table(
                _HEAD,
                [
                    dist("key sent → router's DTMF callback", b.key_to_router_callback_ms),
                    dist(
                        "callback → request started (the router)",
                        b.router_callback_to_request_ms,
                        3,
                    ),
                    dist("request started → REFER at the caller", b.request_to_refer_at_caller_ms),
                ],
            ),
            "",
        ]
    if kl:
        bl = kl.breakdown
        cpu = kl.cpu
        lines += [
            f"### With {kl.calls_held} other calls held in the same router process",
            "",
            f"The same presses ({kl.presses}) while {kl.calls_held} other SIP calls "
            "wait in the menu of the same router",
            "process (and, through the SIP bridge, the same livekit-server). CPU over the",
            f"presses: router {num(cpu.get('router'), 2)}, livekit-server "
            f"{num(cpu.get('livekit'), 2)}, SIP bridge {num(cpu.get('sip'), 2)}, callers "
            f"{num(cpu.get('bench'), 2)}; the whole machine {num(cpu.get('machine'), 2)} of "
            f"{cpu.get('machine_cores')} cores.",
            "",
            *table(
                _HEAD,
                [
                    dist("caller sends the key → REFER at the caller", kl.end_to_end_ms),
                    dist("floor: → a listening rtc participant", kl.floor_key_to_listener_ms),
                    dist("inside the router: callback → request", kl.router_key_to_request_ms, 3),
                    dist(
                        "key sent → router's DTMF callback",
                        bl.key_to_router_callback_ms if bl else None,
                    ),
                    dist(
                        "request started → REFER at the caller",
                        bl.request_to_refer_at_caller_ms if bl else None,
                    ),
                ],
            ),
            "",
        ]
    if k.failures or k.listener_missed:
        lines += [
            f"Failures: {len(k.failures)} "
            + "; ".join(k.failures[:3])
            + f". Listener missed {len(k.listener_missed)} keys.",
            "",
        ]
    return lines


def audio(r: RunResult) -> list[str]:
    a = r.first_audio
    if not a:
        return []
    return [
        "## 2. Answer to first audio",
        "",
        "From the caller receiving 200 OK to the first RTP packet of the greeting above the",
        "caller's silence threshold (RMS 200 of 32768). The router publishes its track at",
        "once (the bridge answers only when it can subscribe to one), waits for",
        "`sip.callStatus` = `active`, and starts the greeting, already rendered, at once.",
        f"The greeting's own lead-in to its first loud 20 ms is "
        f"{num(a.greeting_lead_in_ms, 0, ' ms')}.",
        "",
        *table(
            _HEAD,
            [
                dist("answer → first audio (all calls)", a.answer_to_first_audio_ms, 1),
                dist("the same, short calls only", a.short_calls_ms, 1),
                dist(
                    "INVITE → answer (dispatch, the router joins and publishes)",
                    a.invite_to_answer_ms,
                    1,
                ),
            ],
        ),
        "",
    ]
