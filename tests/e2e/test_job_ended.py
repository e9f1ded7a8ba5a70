"""A call whose job livekit-server ends while the call goes on is served to its end.

The soak's run 7 (reliability.md, finding 21): at load the rtc SDK's first signalling
attempt of a job's join timed out on the client's side (5 s) after livekit-server had
started the session; the SDK joined again as a new session of the same identity, the
server removed the first (`SIGNAL_SOURCE_CLOSE`) and ended the job ("agent worker left
the room"), and livekit-agents cancelled the entrypoint 15 s later: three callers hung
up on (`end: shutdown`). Here the router reaches livekit-server through a proxy on
loopback that holds back the server's answer to the first signalling connection for
longer than the SDK waits, as the loaded server did (the one fake: the load; the
server, the SDK, livekit-agents and the bridge are the real ones). The caller presses
`0` well after livekit-agents cancelled the job's entrypoint: served, it is transferred.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from router.stack.harness import RouterProcess
from router.stack.sipphone import place_call
from tests.e2e.conftest import HOLDING_MENU, Stack, new_caller_id, record_in

AGENT = "menu-router-jobend"
NUMBER = "+15550100051"
HELD_S = 7.0
"""How long the proxy holds back the server's answer to the first signalling connection:
longer than the rtc SDK's 5 s per attempt (`RoomOptions.connect_timeout`)."""


class SlowFirstJoin:
    """A TCP proxy to livekit-server: the first `GET /rtc` connection (a job's join) gets
    the server's bytes `HELD_S` late; every other connection passes at once."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.held = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        first = await client_r.read(65536)
        hold = 0.0
        if first.startswith(b"GET /rtc") and not self.held:
            self.held, hold = 1, HELD_S
        server_w.write(first)
        for task in (
            asyncio.ensure_future(self._pipe(client_r, server_w, 0.0)),
            asyncio.ensure_future(self._pipe(server_r, client_w, hold)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold_s: float
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            if hold_s:  # what comes meanwhile is kept, then sent on together
                held: list[bytes] = []
                until = loop.time() + hold_s
                while (left := until - loop.time()) > 0:
                    try:
                        data = await asyncio.wait_for(reader.read(65536), left)
                    except TimeoutError:
                        break
                    if not data:
                        return  # the client gave up and closed: the server sees it go
                    held.append(data)
                writer.write(b"".join(held))
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


async def test_a_call_whose_job_livekit_ends_meanwhile_is_served_to_its_end(
    e2e: Stack, tmp_path: Path
) -> None:
    stack = e2e.stack
    await stack.aprovision(AGENT, [NUMBER])
    url = urlsplit(stack.url)
    proxy = SlowFirstJoin(url.hostname or "127.0.0.1", int(url.port or 7880))
    port = await proxy.start()
    menus = tmp_path / "menus.yaml"
    menus.write_text(HOLDING_MENU)
    router = RouterProcess(
        {**stack.env, "LIVEKIT_URL": f"ws://127.0.0.1:{port}"},
        menus=menus,
        log_path=tmp_path / "router.log",
        agent_name=AGENT,
        records=str(tmp_path / "calls.jsonl"),
    )
    try:
        await asyncio.to_thread(router.start)
        caller = new_caller_id()
        # the job's join takes the SDK's retry (about 6 s); livekit-agents cancels the
        # entrypoint 15 s after the server's termination: the key comes after that
        report = await place_call(
            stack.sip_uri(NUMBER), keys="24s 0", caller_id=caller, timeout_s=90
        )
        assert proxy.held, "the job's first signalling connection was not held back"
        log = router.log()
        server_log = stack.log_paths["livekit"].read_text(errors="replace")
        first_left = [
            line
            for line in server_log.splitlines()
            if caller in line and "SIGNAL_SOURCE_CLOSE" in line and '"kind": "AGENT"' in line
        ]
        assert first_left, "the router's first session was not removed by livekit-server"
        assert "LiveKit ended this call's job while the call goes on" in log, log[-3000:]
        assert report.answered, report.outcome
        assert report.refer_to == "tel:+15105550100", f"not served to its end: {report.outcome}"
        record = await asyncio.to_thread(record_in, tmp_path / "calls.jsonl", caller)
        assert record["end"] == "transferred", record
        assert "Traceback" not in log, log[-3000:]
    finally:
        await asyncio.to_thread(router.stop)
        await proxy.close()
