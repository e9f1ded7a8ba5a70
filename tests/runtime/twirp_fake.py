"""A recorded fake of LiveKit's Twirp API, the only fake in the runtime tests.

It stands at the HTTP boundary (the router's `api.LiveKitAPI` talks to it over real
HTTP on 127.0.0.1) and answers with bodies recorded from livekit-server v1.13.5 and
the SIP bridge, so the runtime's handling of each answer is exercised without a
server. The end-to-end tests cover the same paths against the real stack.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from livekit import api

# Recorded answers (status, body). Success of TransferSIPParticipant is an empty
# protobuf message in v1.13.5; errors are Twirp JSON.
TRANSFER_OK = (200, b"")
NOT_FOUND = (
    404,
    json.dumps(
        {"code": "not_found", "msg": "twirp error unknown: participant does not exist"}
    ).encode(),
)
NO_SIP_SERVICE = (
    503,
    json.dumps(
        {"code": "unavailable", "msg": "twirp error unknown: no response from servers"}
    ).encode(),
)

SERVER_WITHOUT_REDIS = (
    500,
    json.dumps(
        {"code": "unknown", "msg": "dial tcp 127.0.0.1:46891: connect: connection refused"}
    ).encode(),
)
"""What livekit-server v1.13.5 answers RoomService calls while its Redis is down (the soak)."""
ROOM_GONE = (
    500,
    json.dumps({"code": "unknown", "msg": "could not find object"}).encode(),
)
"""What livekit-server v1.13.5 answers DeleteRoom for a room it is closing or lost (the soak)."""


def participant(identity: str, call_status: str) -> tuple[int, bytes]:
    """GetParticipant's answer: a SIP participant in the room with this `sip.callStatus`."""
    info = api.ParticipantInfo(
        identity=identity,
        state=api.ParticipantInfo.State.ACTIVE,
        attributes={"sip.callStatus": call_status},
    )
    return 200, info.SerializeToString()


def sip_failure(status: int, reason: str) -> tuple[int, bytes]:
    """A failed REFER as LiveKit reports it: the SIP status in the Twirp metadata."""
    body = {
        "code": "unavailable" if status >= 500 else "failed_precondition",
        "msg": f"twirp error unknown: transfer failed: {status} {reason}",
        "meta": {"sip_status_code": str(status), "sip_status": reason},
    }
    return 400, json.dumps(body).encode()


@dataclass
class FakeLiveKitAPI:
    """Answers queued per method; every request is kept, decoded, in `requests`."""

    answers: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    requests: list[tuple[str, Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    _TYPES = {
        "livekit.SIP/TransferSIPParticipant": api.TransferSIPParticipantRequest,
        "livekit.RoomService/RemoveParticipant": api.RoomParticipantIdentity,
        "livekit.RoomService/DeleteRoom": api.DeleteRoomRequest,
        "livekit.RoomService/GetParticipant": api.RoomParticipantIdentity,
    }

    def answer(self, method: str, *answers: tuple[int, bytes], delay: float = 0.0) -> None:
        self.answers.setdefault(method, []).extend(answers)
        if delay:
            self.delays[method] = delay

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.read()
        message_type = self._TYPES.get(method)
        self.requests.append((method, message_type.FromString(body) if message_type else body))
        if method in self.delays:
            await asyncio.sleep(self.delays[method])
        queue = self.answers.get(method) or [(200, b"")]
        status, payload = queue.pop(0) if len(queue) > 1 else queue[0]
        content_type = "application/protobuf" if status == 200 else "application/json"
        return web.Response(status=status, body=payload, content_type=content_type)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/twirp/{method:.+}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def transfers(self) -> list[api.TransferSIPParticipantRequest]:
        return [r for m, r in self.requests if m == "livekit.SIP/TransferSIPParticipant"]

    def removals(self) -> list[api.RoomParticipantIdentity]:
        return [r for m, r in self.requests if m == "livekit.RoomService/RemoveParticipant"]

    def lookups(self) -> list[api.RoomParticipantIdentity]:
        return [r for m, r in self.requests if m == "livekit.RoomService/GetParticipant"]

    def deletions(self) -> list[api.DeleteRoomRequest]:
        return [r for m, r in self.requests if m == "livekit.RoomService/DeleteRoom"]
