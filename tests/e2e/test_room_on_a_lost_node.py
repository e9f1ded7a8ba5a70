"""A call's room that a livekit-server crash left on a node that no longer exists.

The soak's run 10 left one room on the server for good: its call ended as livekit-server
restarted, and the room stayed in the server's store (Redis) on the node that went away.
DeleteRoom asks that node (livekit/livekit v1.13.5 `pkg/service/roomservice.go`): "no
response from servers", then, once the node is forgotten, "could not find object",
whenever it is asked. The router moves the room to a live node (CreateRoom) and deletes
it there (`router.runtime.call.hangup.delete_room_on_server`). Real Redis and
livekit-server, a stack of its own (the server is killed).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from livekit import api

from router.runtime.call.hangup import delete_room_on_server
from router.stack.local import LocalStack

ROOM = "call-_+15557700490_lost"


async def _rooms(stack: LocalStack) -> list[str]:
    async with api.LiveKitAPI(stack.url, stack.api_key, stack.api_secret) as lk:
        return [r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms]


async def test_a_room_left_on_a_crashed_node_is_deleted(tmp_path: Path) -> None:
    stack = LocalStack(workdir=tmp_path / "stack", quiet=True)
    await asyncio.to_thread(stack.start)
    try:
        async with api.LiveKitAPI(stack.url, stack.api_key, stack.api_secret) as lk:
            await lk.room.create_room(api.CreateRoomRequest(name=ROOM, empty_timeout=600))
        await asyncio.to_thread(stack.stop_part, "livekit", crash=True)
        await asyncio.to_thread(stack.start_part, "livekit")
        assert ROOM in await _rooms(stack), "the crash did not leave the room in the store"

        async with api.LiveKitAPI(stack.url, stack.api_key, stack.api_secret) as lk:
            # what a plain DeleteRoom gets: the room stays (the router's old way)
            with pytest.raises(api.ServerError) as refused:
                await lk.room.delete_room(api.DeleteRoomRequest(room=ROOM))
            assert refused.value.code != api.ServerErrorCode.NOT_FOUND
            assert ROOM in await _rooms(stack)

            await delete_room_on_server(lk, ROOM, "lost-node")
        assert ROOM not in await _rooms(stack)
    finally:
        await asyncio.to_thread(stack.stop)
