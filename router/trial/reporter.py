"""Publishes a call's events and state to its room (`router.trial.events`).

A `CallSession` observer: handed every effect the navigator returns, it turns them into
page events (`EventBuilder`) and sends them on the data topic `router.events`, in order,
through one sender task; after each batch it sets the router participant's attributes
(`router.menu`, `router.state`, `router.menuVersion`) when they changed. Sending never
holds the call up, and a failed send is logged and dropped: the call goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from livekit import rtc

from router.core.events import Effect
from router.core.model import MenuFile
from router.core.navigator import Navigator
from router.trial.events import (
    ATTR_MENU,
    ATTR_MENU_VERSION,
    ATTR_STATE,
    TOPIC,
    EventBuilder,
    PageEvent,
    as_json,
)

__all__ = ["CallReporter"]

log = logging.getLogger(__name__)

_Item = tuple[str, str] | dict[str, str]
"""(topic, payload) to publish, or attributes to set."""


class CallReporter:
    """One call's events and state, out to its room."""

    def __init__(self, room: rtc.Room, menu_file: MenuFile) -> None:
        self._room = room
        self._file = menu_file
        self._builder: EventBuilder | None = None
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._navigator: Navigator | None = None
        self._attributes: dict[str, str] = {}
        self._flush_soon = False

    # --- the CallObserver side (called on the call's loop, never awaits) -----------------

    def call_started(self, dialled: str | None, at: datetime, now: float) -> None:
        self._builder = EventBuilder(self._file, now)
        self._send(self._builder.call_started(dialled, at.isoformat(), now))

    def effect(self, effect: Effect, now: float, navigator: Navigator) -> None:
        if self._builder is None:
            self._builder = EventBuilder(self._file, now)
        self._navigator = navigator
        for event in self._builder.on_effect(effect, now, navigator.menu):
            self._send(event)
        if not self._flush_soon:
            # the state once every effect of this event is out
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._flush_state)

    async def aclose(self, within: float = 2.0) -> None:
        """Send what is queued (bounded), then stop."""
        if self._sender is None:
            return
        self._flush_state()
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._sender), within)
        except (TimeoutError, asyncio.CancelledError):
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    # --- out -----------------------------------------------------------------------------

    def _send(self, event: PageEvent) -> None:
        self._put((TOPIC, as_json(event)))

    def _flush_state(self) -> None:
        self._flush_soon = False
        if self._navigator is None:
            return
        wanted = {
            ATTR_MENU: self._navigator.menu or "",
            ATTR_STATE: self._navigator.state.value,
            ATTR_MENU_VERSION: self._file.version,
        }
        if wanted != self._attributes:
            self._attributes = wanted
            self._put(dict(wanted))

    def _put(self, item: _Item) -> None:
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_all())
        self._queue.put_nowait(item)

    async def _send_all(self) -> None:
        participant = self._room.local_participant
        while (item := await self._queue.get()) is not None:
            try:
                if isinstance(item, dict):
                    await participant.set_attributes(item)
                else:
                    topic, payload = item
                    await participant.publish_data(payload, reliable=True, topic=topic)
            except Exception as exc:  # the room may be going away: the call does not care
                log.debug("could not publish a call event: %s", exc)
