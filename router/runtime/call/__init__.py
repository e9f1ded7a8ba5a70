"""One call: the LiveKit room's events in, the navigator's effects out.

By concept, a module each: `session` (`CallSession`: the shell between the room and the
navigator, the one place events meet it, effects carried out), `options` (what a session
is given: `SessionOptions`, the `CallObserver`), `admission` (whether a dispatched
session serves its room's call: the caller and the answer waited for, a dispatch after
the call ended here), `presence` (which participant is the caller, and whether it is
still there across LiveKit's outages), `track` (the prompt track published cheaply),
`keys` (the caller's DTMF as keys, those before the menu starts held), `record` (one
call, one record: answered or not), `hangup` (the caller removed, the room deleted,
asked again while LiveKit fails). The calls a process serves, and the claim that keeps
one session per call, are `router.runtime.served`'s.
"""

from __future__ import annotations

from router.runtime.call.options import CallObserver, SessionOptions
from router.runtime.call.presence import SIP, caller_number_of, find_sip_caller
from router.runtime.call.session import CallFactory, CallSession
from router.runtime.call.track import OPUS_MAX_BITRATE
from router.runtime.served import shut_down_all

__all__ = [
    "OPUS_MAX_BITRATE",
    "SIP",
    "CallFactory",
    "CallObserver",
    "CallSession",
    "SessionOptions",
    "caller_number_of",
    "find_sip_caller",
    "shut_down_all",
]
