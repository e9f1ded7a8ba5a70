"""Ending a call on LiveKit: the caller hung up on (its SIP participant removed) and a
dispatched call's room deleted, each asked again while LiveKit fails
(`router.runtime.retries.until_done`).
"""

from __future__ import annotations

import logging

from livekit import api

from router.runtime.call.presence import CallerPresence
from router.runtime.retries import until_done

log = logging.getLogger("router.runtime.call")

__all__ = [
    "CALLER_LEAVES_FIRST_S",
    "REMOVAL_SEEN_S",
    "delete_room",
    "delete_room_on_server",
    "remove_caller",
]

REMOVAL_SEEN_S = 3.0
"""How long a removal LiveKit accepted may take to reach our connection (the caller's
departure) before it is taken as lost and asked again."""

CALLER_LEAVES_FIRST_S = 5.0
"""How long an ended dispatched call waits for its caller to leave the room before the
router leaves it (issue 18). livekit 1.1.21's rtc library keeps about 0.5 MB of every room
closed while a remote participant's track is in it (its publications' callbacks hold the
participant and the engine: rust-sdks#1435, open), and 40 KiB when that participant left
first (docs/upstream/rtc-native-memory.md). After a completed transfer the SIP bridge
leaves a second after the NOTIFY 200 (livekit-sip's `referByeTimeout`, 1 s: the caller
may hang up first); a hang-up or the caller's BYE has the caller gone already."""


async def remove_caller(
    lkapi: api.LiveKitAPI, presence: CallerPresence, identity: str, label: str
) -> None:
    """Hang up on the caller `identity` in `presence`'s room: remove the SIP participant;
    a removal LiveKit accepted counts once our connection sees the caller leave (within
    `REMOVAL_SEEN_S`, else it is asked again). `label` names the call in logs."""
    room = presence.room
    request = api.RoomParticipantIdentity(room=room.name, identity=identity)

    async def left() -> bool:
        return await presence.gone_within(identity, within_s=REMOVAL_SEEN_S)

    await until_done(
        label,
        "hang up on the caller",
        lambda: lkapi.room.remove_participant(request),
        left,
        gone=lambda: room.isconnected() and presence.seen_gone(identity),
    )


async def delete_room(
    lkapi: api.LiveKitAPI, presence: CallerPresence, caller: str | None, label: str
) -> None:
    """A dispatched call's room ends with its call: left, then deleted at once, rather
    than left for the server to close after its departure timeout. A server stopped
    within that time keeps the room in Redis for good (livekit-server v1.13.5, found by
    the soak), and a caller still in it would be served a second time. The `caller`
    (identity) is let leave first, within `CALLER_LEAVES_FIRST_S`."""
    room = presence.room
    if caller is not None:  # issue 18: the caller leaves first (`CALLER_LEAVES_FIRST_S`)
        await presence.gone_within(caller, within_s=CALLER_LEAVES_FIRST_S)
    if room.isconnected():
        # leave first: a room deleted under us ends our connection as a failure
        # (the rtc engine logs its data channels "closed unexpectedly")
        await room.disconnect()

    await delete_room_on_server(lkapi, room.name, label)


async def delete_room_on_server(lkapi: api.LiveKitAPI, name: str, label: str) -> None:
    """Delete the room `name` on the server, asked again while LiveKit fails (`until_done`).

    A room whose node went away in a livekit-server restart stays in the server's store
    (Redis) on that node: DeleteRoom finds the room and asks its node (livekit/livekit
    v1.13.5 `pkg/service/roomservice.go` `DeleteRoom`, `pkg/routing/redisrouter.go`
    `CreateRoom`), and answers 500 "could not find object" once the node is forgotten,
    "no response from servers" before that, for good: the room is listed until Redis
    forgets it (the soak, run 10). CreateRoom gives such a room a live node
    (`pkg/service/roomallocator.go` `SelectRoomNode` replaces a node no longer
    available), and then it can be deleted; for a room on a live node it changes nothing."""
    request = api.DeleteRoomRequest(room=name)

    async def delete() -> None:
        try:
            await lkapi.room.delete_room(request)
        except api.ServerError as exc:
            if exc.code == api.ServerErrorCode.NOT_FOUND:
                raise
            log.info("call %s: the room's node did not answer (%s); moving it", label, exc)
            await lkapi.room.create_room(api.CreateRoomRequest(name=name))
            await lkapi.room.delete_room(request)

    async def deleted() -> bool:
        return True

    await until_done(label, "close the call's room", delete, deleted)
