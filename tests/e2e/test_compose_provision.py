"""compose.yaml's one-shot `provision` script, run against the local stack's livekit-server.

The file's shape and its agreement with the local stack are checked without any server
in tests/deploy/test_compose.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from router.stack import local
from tests.deploy.test_compose import SERVICES


def test_the_provision_script_provisions_once(tmp_path: Path) -> None:
    """Run it against the local stack's livekit-server, twice: one trunk, one rule."""
    script = SERVICES["provision"]["command"][0]
    with local.LocalStack(quiet=True) as stack:
        env = {
            **os.environ,
            **stack.env,
            "ROUTER_NUMBERS": SERVICES["provision"]["environment"]["ROUTER_NUMBERS"],
        }
        for _ in range(2):
            done = subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, done.stderr
            assert "calls go to menu-router" in done.stdout

        async def inspect() -> tuple[list[Any], list[Any]]:
            from livekit import api

            async with stack.api() as lk:
                trunks = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
                rules = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
            return list(trunks.items), list(rules.items)

        trunks, rules = asyncio.run(inspect())
    assert [t.name for t in trunks] == ["menu-router"]
    assert list(trunks[0].numbers) == ["+15105550150", "+15105550151"]
    assert [r.name for r in rules] == ["menu-router"]
    assert [a.agent_name for a in rules[0].room_config.agents] == ["menu-router"]
    assert rules[0].rule.dispatch_rule_individual.room_prefix == "call-"
