"""The real local stack (Redis, livekit-server, SIP stand-in), one per test module.

The stack is built by router.stack.install on first use (minutes when cold) and fails
loudly when it cannot start: these end-to-end tests are never skipped.
Set ROUTER_STACK_KEEP_LOGS=1 to keep the stack's temp dir (configs and logs).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from router.stack.local import LocalStack, Provisioned  # noqa: E402

AGENT = "stack-test-agent"
NUMBER = "+15550100"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


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
