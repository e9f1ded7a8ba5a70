"""Calls the stack refused with every part up, told apart by the SIP bridge's own log.

A call the bridge answers `503` never reaches the router. With every part up, the soak's
runs 2-7 saw one cause for nearly all of them, in the bridge's log:
`rejecting inbound, auth check failed` or `rejecting inbound, dispatch rule evaluation
failed`, error `no response from servers`. That is psrpc's server selection: a request
is sent to every livekit-server that serves the RPC, and a server must claim it within
the client's selection timeout, `DefaultAffinityTimeout` (1 s; livekit/psrpc `client.go`,
applied in `pkg/client/options.go` `getClientOpts`, `selectServer` in
`pkg/client/rpc.go` returns `ErrNoResponse` when nobody claimed it), whatever the
request's own deadline. Upstream livekit-sip builds its client with no selection option
(livekit/sip `cmd/livekit-sip/main.go`, `rpc.NewIOInfoClient(bus, otelpsrpc...)`) and
asks both RPCs with the call's context and no request option (`pkg/service/psrpc.go`,
`GetAuthCredentials`, `DispatchCall`), so it gives livekit-server the same 1 s as the
stand-in does: a loaded livekit-server refuses calls this way with a real bridge too.
The soak counts such a call as the stack's refusal (reliability.md, finding 24), not
as a wrong outcome; any other refusal with every part up still is one.

A call whose router's prompt track livekit-server never received is refused too: the
bridge answers only once it can subscribe to a track (livekit/sip `pkg/sip/inbound.go`),
so it rings until the router, having greeted nobody, hangs up (`480` after about 40 s;
reliability.md, finding 28, "Open"). livekit-server says which: its participant
supervisor's "publish time out" for the router's (`agent-`) participant, 30 s after the
publication (v1.13.5 `pkg/rtc/supervisor/participant_supervisor.go`), and the router
logs it at 11 s (`router/runtime/call/track.py` `watch_publication`). The soak counts
such a call apart (`unpublished_callers`): LiveKit lost the router's media, with every
part up.

The same 1 s drops a dispatch: livekit-server sends a room's job request once
(livekit/livekit v1.13.5 `pkg/agent/client.go` `LaunchJob`: one `JobRequest`, its
failure only logged, "failed to send job request", `JT_ROOM`), and the bridge then
rings its caller until the caller gives up, no router ever told (runs 9 and 11: one
call each). The server's line does not name the room; a room created within
`UNDISPATCHED_WITHIN_S` before such a line that no job was ever assigned to is taken
for it (`undispatched_callers`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime

__all__ = [
    "UNCLAIMED",
    "UNDISPATCHED_WITHIN_S",
    "unclaimed_callers",
    "undispatched_callers",
    "unpublished_callers",
]

UNCLAIMED = "no response from servers"
"""psrpc's `ErrNoResponse`: no livekit-server claimed the request within 1 s."""

_REJECTING = "rejecting inbound"
"""The stand-in's log line for an INVITE it refused (router/stack/sipstandin/service.go)."""


def unclaimed_callers(bridge_log: Iterable[str]) -> frozenset[str]:
    """The calling numbers (`from`, as the soak places them: `+155577NNNNN`) whose INVITE
    the SIP bridge refused because no livekit-server claimed its psrpc request in time.

    `bridge_log` is the stand-in's log, one JSON-tailed line each (zap's console format:
    tab-separated, its fields last). Lines that are not such refusals are skipped."""
    found: set[str] = set()
    for line in bridge_log:
        if _REJECTING not in line or UNCLAIMED not in line:
            continue
        fields_at = line.find("{")
        if fields_at < 0:
            continue
        try:
            fields = json.loads(line[fields_at:])
        except ValueError:
            continue
        if isinstance(fields, dict) and fields.get("error") == UNCLAIMED and fields.get("from"):
            found.add(str(fields["from"]))
    return frozenset(found)


UNDISPATCHED_WITHIN_S = 5.0
"""How soon after a room's creation livekit-server's failed job request is taken for it
(it is sent as the room is created; psrpc gives up after 1 s, more at load)."""

_CALLER_ROOM = re.compile(r'"room": "call-_(\+\d+)_[A-Za-z0-9]+"')


def undispatched_callers(server_log: Iterable[str]) -> frozenset[str]:
    """The calling numbers whose room livekit-server created but never dispatched: no job
    assigned for it (`assigned job to worker`, `JT_ROOM`), and a failed `JT_ROOM` job
    request ("failed to send job request") within `UNDISPATCHED_WITHIN_S` after it was
    created (`selected node for room`). `server_log` is livekit-server's log (zap's
    console format, the time first)."""
    created: dict[str, float] = {}
    dispatched: set[str] = set()
    failures: list[float] = []
    for line in server_log:
        if "selected node for room" in line or "assigned job to worker" in line:
            found = _CALLER_ROOM.search(line)
            if found is None:
                continue
            if "assigned job to worker" in line:
                dispatched.add(found.group(1))
            elif (at := _time(line)) is not None:
                created.setdefault(found.group(1), at)
        elif "failed to send job request" in line and "JT_ROOM" in line:
            if (at := _time(line)) is not None:
                failures.append(at)
    return frozenset(
        caller
        for caller, at in created.items()
        if caller not in dispatched and any(0 <= f - at <= UNDISPATCHED_WITHIN_S for f in failures)
    )


def unpublished_callers(server_log: Iterable[str]) -> frozenset[str]:
    """The calling numbers whose room livekit-server says the router's track media never
    reached: its supervisor's "publish time out" for an `agent-` participant there.
    `server_log` is livekit-server's log (zap's console format)."""
    found: set[str] = set()
    for line in server_log:
        if "publish time out" in line and '"participant": "agent-' in line:
            room = _CALLER_ROOM.search(line)
            if room is not None:
                found.add(room.group(1))
    return frozenset(found)


def _time(line: str) -> float | None:
    try:
        return datetime.fromisoformat(line.split("\t", 1)[0].replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
