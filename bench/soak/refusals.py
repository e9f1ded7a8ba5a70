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
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["UNCLAIMED", "unclaimed_callers"]

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
