"""Ending a process that loaded the rtc library, without tearing its native runtime down.

livekit rtc (1.1.x) disposes of its Rust runtime from an `atexit` handler
(`livekit/rtc/_ffi_client.py`, `_dispose_lk_ffi` -> `livekit_ffi_dispose`). A tokio
worker still delivering an event at that moment can panic in an `extern "C"` callback,
which aborts the process (exit 134, "panic in a function that cannot unwind") after its
work is done: a worker that drained its calls and stopped cleanly looked like a crash to
its supervisor, and `--recycle-after` counts on exit 0 (CI: a cancelled join's process,
tests/e2e/test_join_cancelled.py). Nothing of the runtime needs tearing down at exit; the
kernel takes the process's memory and sockets back. tests/conftest.py ends the test
process the same way.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

from opentelemetry import trace

__all__ = ["exit_now"]


def exit_now(code: int) -> NoReturn:
    """End the process with `code`: the work of the exit handlers that matter done here
    (spans exported, log handlers flushed), the rtc library's own skipped. Plain
    `sys.exit` when the library was never started in this process."""
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    if ffi is None or getattr(ffi.FfiClient, "_instance", None) is None:
        sys.exit(code)
    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
    if callable(shutdown):
        shutdown()  # the batch of spans not yet exported (its own exit handler is skipped)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
