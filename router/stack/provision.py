"""LiveKit's API on a stack: an API client, access tokens, the trunk and dispatch rule.

Imports livekit only when called: the stack's launcher needs none of it to start.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Provisioned", "access_token", "livekit_api", "provision", "run_sync"]

T = TypeVar("T")


@dataclass(frozen=True)
class Provisioned:
    """What `LocalStack.provision` created."""

    trunk_id: str
    dispatch_rule_id: str
    numbers: tuple[str, ...]
    agent_name: str


def livekit_api(http_url: str, api_key: str, api_secret: str) -> Any:
    """A `livekit.api.LiveKitAPI` (use ``async with``; needs a running loop)."""
    from livekit import api

    return api.LiveKitAPI(url=http_url, api_key=api_key, api_secret=api_secret)


def access_token(
    api_key: str,
    api_secret: str,
    identity: str,
    room: str,
    *,
    name: str | None = None,
    kind: str | None = None,
    attributes: dict[str, str] | None = None,
    agent: bool = False,
) -> str:
    """An access token to join `room` (``kind="sip"`` makes a fake SIP participant)."""
    from livekit import api

    t = (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_grants(
            api.VideoGrants(room_join=True, room=room, can_update_own_metadata=True, agent=agent)
        )
    )
    if kind:
        t = t.with_kind(kind)  # type: ignore[arg-type]
    if attributes:
        t = t.with_attributes(attributes)
    return t.to_jwt()


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
