"""The real local stack (Redis, livekit-server, SIP stand-in), one per test module.

The stack is built by router.stack.install on first use (minutes when cold) and fails
loudly when it cannot start: these end-to-end tests are never skipped.
Set ROUTER_STACK_KEEP_LOGS=1 to keep the stack's temp dir (configs and logs).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from router.stack.local import LocalStack, Provisioned

AGENT = "stack-test-agent"
NUMBER = "+15550100"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    s = LocalStack(quiet=False)
    s.start()
    try:
        yield s
    finally:
        s.stop()
        if not os.environ.get("ROUTER_STACK_KEEP_LOGS"):
            s.remove_workdir()


@pytest.fixture(scope="module")
def provisioned(stack: LocalStack) -> Provisioned:
    return stack.provision(AGENT, [NUMBER])
