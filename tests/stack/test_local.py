"""LocalStack details that need no call: port races, clear start-up errors, clean stop."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest

from router.stack.local import LocalStack, StackError


def test_a_port_taken_meanwhile_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        orig = LocalStack._choose_ports
        rounds = []

        def choose(self: LocalStack) -> None:
            orig(self)
            rounds.append(1)
            if len(rounds) == 1:
                self.redis_port = taken  # as if another process bound it after we chose

        monkeypatch.setattr(LocalStack, "_choose_ports", choose)
        with LocalStack(quiet=True) as s:
            assert len(rounds) == 2
            assert s.redis_port != taken
            pids = [p.popen.pid for p in s._procs]
        s.remove_workdir()
    for pid in pids:  # every process of the stack is gone
        assert subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode != 0


def test_a_part_that_cannot_start_is_named_with_its_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalStack, "_choose_ports", lambda self: None)  # all ports 0
    monkeypatch.setattr(LocalStack, "_start_redis", lambda self, b: None)
    s = LocalStack(quiet=True, startup_timeout_s=5)
    with pytest.raises(StackError) as ei:
        s.start()
    msg = str(ei.value)
    assert msg.startswith("livekit-server (port 0)")
    assert "last lines of" in msg
    assert s._procs == []
    s.remove_workdir()


async def test_trunks_and_dispatch_rules_outlive_a_redis_restart(tmp_path: Path) -> None:
    """Redis holds livekit-server's SIP trunks and dispatch rules: a stop and start of
    Redis (an outage, as the soak makes one) must not lose them, or every later call is
    refused (`404`) until someone provisions again."""
    from livekit import api

    stack = LocalStack(workdir=tmp_path, quiet=True)
    await asyncio.to_thread(stack.start)
    try:
        made = await stack.aprovision("redis-restart", ["+15550100077"])
        await asyncio.to_thread(stack.stop_part, "redis")
        await asyncio.to_thread(stack.start_part, "redis")
        async with stack.api() as lk:
            trunks = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
            rules = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
        assert made.trunk_id in [t.sip_trunk_id for t in trunks.items]
        assert made.dispatch_rule_id in [r.sip_dispatch_rule_id for r in rules.items]
    finally:
        await asyncio.to_thread(stack.stop)
