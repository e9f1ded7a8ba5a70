"""Where the rtc library's own log records go: its stderr logger, not one Python callback each.

The Python rtc SDK (livekit 1.1.x, `livekit/rtc/_ffi_client.py`) starts its native
library with `capture_logs` on: every record of the Rust side, libwebrtc's debug lines
included, is sent to Python as an event of its own (livekit-ffi's
`server/logger.rs` flushes after each record), parsed there under the interpreter lock
and, below INFO, dropped. The native side logs at every level (`server/mod.rs` sets
`log::set_max_level(Trace)`), so that is about 2,800 records for one call's join,
greeting and leave, and 100-170 ms of CPU per call set up of about 400
(bench/findings.md, "Setting a call up"). With `capture_logs` off, the native side's
own `env_logger` decides, in Rust, from `RUST_LOG`: warnings and errors go to stderr
(`RUST_LOG=warn` unless the operator sets it), the rest costs nothing.

`ROUTER_RTC_LOGS=1` keeps the SDK's way (its records in the router's Python log, e.g.
with `LIVEKIT_RTC_DEBUG=1` to see its debug lines).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from router.settings import diagnostic

__all__ = ["RUST_LOG_DEFAULT", "keep_native", "native_level"]

RUST_LOG_DEFAULT = "warn"
"""The native side's level when the operator sets no `RUST_LOG`: what the SDK's own
forwarding showed at the router's default level (INFO records of the rtc library are
its connection steps, one a second per call at most, and stay out)."""


def native_level(env: Mapping[str, str] = os.environ) -> None:
    """Set the native side's level (`RUST_LOG`, `RUST_LOG_DEFAULT` unless set) without
    starting the library: call it before the library's first use, `keep_native` later.
    Starting the library early has a cost at exit: a process that ends on an error
    after its start may abort in the library's own disposal (SIGABRT), so `router
    start` checks the operator's input first (found by the records test under load)."""
    if not diagnostic("ROUTER_RTC_LOGS", env):
        os.environ.setdefault("RUST_LOG", RUST_LOG_DEFAULT)


def keep_native(env: Mapping[str, str] = os.environ) -> bool:
    """Tell the rtc library to keep its log records on its own side; True if it did.

    Must run before the library's first use in the process for `RUST_LOG` to count
    (its logger reads it once, when the library starts); calling it again is harmless.
    The library is told through `livekit_ffi_initialize`, its C entry point
    (`livekit_ffi.h`), which the SDK calls once with `capture_logs` on; a second call
    only replaces the callback (the same) and the flag (livekit-ffi `FfiServer::setup`).
    """
    if diagnostic("ROUTER_RTC_LOGS", env):
        return False
    native_level(env)
    from livekit.rtc import __version__
    from livekit.rtc._ffi_client import FfiClient, ffi_event_callback

    FfiClient.instance._ffi_lib.livekit_ffi_initialize(
        ffi_event_callback, False, b"python", __version__.encode("ascii")
    )
    return True
