"""A stack provisioned for calls: the inbound trunk and the dispatch rule, over LiveKit's API.

Imports livekit only when called: the stack's launcher needs none of it to start.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Provisioned", "provision", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Provisioned:
    """What `LocalStack.provision` created."""

    trunk_id: str
    dispatch_rule_id: str
    numbers: tuple[str, ...]
    agent_name: str


async def provision(lk: Any, agent_name: str, numbers: Sequence[str]) -> Provisioned:
    """Create, through the API client `lk`, an inbound trunk for `numbers` (no auth, from
    127.0.0.1) and a dispatch rule (a room per call, prefix ``call-``) that dispatches the
    agent `agent_name`."""
    from livekit import api

    trunk = await lk.sip.create_inbound_trunk(
        api.CreateSIPInboundTrunkRequest(
            trunk=api.SIPInboundTrunkInfo(
                name=f"local {agent_name}",
                numbers=list(numbers),
                allowed_addresses=["127.0.0.1"],
            )
        )
    )
    rule = await lk.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(
            dispatch_rule=api.SIPDispatchRuleInfo(
                name=f"local {agent_name}",
                trunk_ids=[trunk.sip_trunk_id],
                rule=api.SIPDispatchRule(
                    dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call-")
                ),
                room_config=api.RoomConfiguration(
                    agents=[api.RoomAgentDispatch(agent_name=agent_name)]
                ),
            )
        )
    )
    return Provisioned(trunk.sip_trunk_id, rule.sip_dispatch_rule_id, tuple(numbers), agent_name)


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, in a private thread if a loop is running."""

    async def runner() -> T:
        return await factory()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(runner())
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(runner()))
        except BaseException as e:  # noqa: BLE001 - re-raised below
            error.append(e)

    t = threading.Thread(target=target, name="stack-provision")
    t.start()
    t.join()
    if error:
        raise error[0]
    return result[0]
