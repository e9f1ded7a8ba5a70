"""Session-wide settings of the test suite."""

from __future__ import annotations

import os
import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End the test process at once when livekit rtc's native runtime was loaded in it.

    The rtc SDK disposes its Rust runtime from an `atexit` handler; a tokio worker still
    delivering an event at that moment can panic in an `extern "C"` callback, which aborts
    the process (exit 134, "panic in a function that cannot unwind") after every test
    has passed and been reported. The results are final here, so the exit status is
    pytest's own, and the native runtime is not torn down under the interpreter.
    """
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    if ffi is None or getattr(ffi.FfiClient, "_instance", None) is None:
        return
    status = getattr(config, "_router_exitstatus", None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._router_exitstatus = exitstatus  # type: ignore[attr-defined]
