"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.runtime.served import CALLS


@pytest.fixture(autouse=True)
def _fresh_served_calls() -> Iterator[None]:
    """Each test starts with no room or call served lately, as a fresh process does: the
    tests serve the same SIP call (`sip.callID`) again and again in one process, and a
    call that ended here is hung up on when dispatched again (router/runtime/served.py)."""
    CALLS.forget()
    yield
    CALLS.forget()
