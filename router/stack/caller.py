"""``python -m router.stack.caller``: the scripted SIP phone's command line.

The phone itself is the package :mod:`router.stack.sipphone`; this module keeps
the documented command and re-exports the phone's public names.
"""

from __future__ import annotations

import sys

from router.stack.sipphone import (
    AudioStats,
    CallError,
    CallOptions,
    CallOutcome,
    CallReport,
    CallState,
    KeyPress,
    NotifySent,
    ReferReceived,
    SentKey,
    SipCall,
    SipTraceEntry,
    main,
    parse_keys,
    place_call,
)

__all__ = [
    "AudioStats",
    "CallError",
    "CallOptions",
    "CallOutcome",
    "CallReport",
    "CallState",
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

if __name__ == "__main__":
    sys.exit(main())
