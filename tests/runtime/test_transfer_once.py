"""A transfer request is sent once, even to a LiveKit Cloud host.

livekit-api's region failover replays a request that failed with HTTP 5xx when the host
is LiveKit Cloud's (`*.livekit.cloud`); a failed transfer without a SIP status comes back
as Twirp `unknown` (HTTP 500) from livekit-server v1.13.11, so a replay is a second REFER.
The fake is the recorded Twirp server of tests/runtime/twirp_fake.py on 127.0.0.1, reached
under a Cloud name through a resolver that sends every name to loopback: the client and
its failover run for real, only the name's address is ours.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver
from livekit import api

from router.core.events import TransferFailed, TransferTo
from router.core.model import TransferSettings
from router.runtime.transfer import SipTransferrer, call_api
from tests.runtime.twirp_fake import FakeLiveKitAPI

TRANSFER = "livekit.SIP/TransferSIPParticipant"
UNKNOWN = (
    500,
    json.dumps({"code": "unknown", "msg": "twirp error unknown: transfer failed"}).encode(),
)
"""v1.13.11's answer to a REFER that failed without a SIP status (Twirp `unknown`)."""
SECRET = "a-test-secret-of-thirty-two-bytes-or-more"


class _Loopback(AbstractResolver):
    """Every name resolves to 127.0.0.1 (the fake), so the client sees a Cloud host."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[dict[str, Any]]:
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def cloud() -> AsyncIterator[tuple[FakeLiveKitAPI, aiohttp.ClientSession, str]]:
    """(the fake, a session that reaches it by any name, its URL under a Cloud name)."""
    fake = FakeLiveKitAPI()
    fake.answer(TRANSFER, UNKNOWN)
    await fake.start()
    port = fake.url.rsplit(":", 1)[1]
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_Loopback()))
    try:
        yield fake, session, f"http://project.livekit.cloud:{port}"
    finally:
        await session.close()
        await fake.close()


async def _transfer(lkapi: api.LiveKitAPI) -> object:
    effect = TransferTo("sip:sales@pbx.example.com", TransferSettings(ringing_timeout_s=20.0))
    return await SipTransferrer(lkapi, "call-1").transfer("sip_caller", effect, now=0.0)


async def test_livekit_api_replays_a_failed_transfer_to_a_cloud_host(
    cloud: tuple[FakeLiveKitAPI, aiohttp.ClientSession, str],
) -> None:
    """Why the router turns failover off: with livekit-api's default, one transfer that
    failed with a 500 reaches the server three times (three REFERs)."""
    fake, session, url = cloud
    lkapi = api.LiveKitAPI(url, "key", SECRET, session=session)
    await _transfer(lkapi)
    assert len(fake.transfers()) == 3


async def test_the_routers_api_sends_a_failed_transfer_once(
    cloud: tuple[FakeLiveKitAPI, aiohttp.ClientSession, str],
) -> None:
    fake, session, url = cloud
    lkapi = call_api(session, url=url, api_key="key", api_secret=SECRET)
    result = await _transfer(lkapi)
    assert len(fake.transfers()) == 1
    assert isinstance(result, TransferFailed) and result.sip_status is None
