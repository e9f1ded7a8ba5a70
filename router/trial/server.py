"""The trial page's web server: the page, short-lived tokens for trial rooms, the menu graph.

aiohttp (it comes with livekit-api), on 127.0.0.1 only. Routes:

- `GET /`: the page; `GET /static/...`: its ES modules and style sheet (router/trial/web);
  `GET /vendor/livekit-client.mjs`: livekit-client's ESM build, from the npm packages the
  install step put in the stack cache (`npm ci` of router/trial/web's lock file);
- `GET /api/menus`: the menu file as the page needs it: version, numbers, time zones, the
  graph's nodes and edges (`router graph`'s), and the checker's messages if the file on
  disk is broken (the last good version is kept, as the router does);
- `GET /api/graph.svg?version=V`: the graph of that version, drawn by Graphviz's `dot`;
- `POST /api/call` (JSON `{"number", "at", "timezone"}`): a token to join a fresh trial
  room as a browser caller (valid for a few minutes, for that room only, data and
  subscribe only) whose room configuration dispatches the router: the page's join creates
  the room and LiveKit sends the router in, as for a SIP bridge's participant.

Requests must name this server in `Host` (no DNS rebinding), and a call must be asked for
with a JSON body (no cross-site form posts).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from livekit import api

from router.admin import graph as graphs
from router.core.errors import MenuFileError, StackError
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.settings import DEFAULT_AGENT_NAME, speech_engine
from router.trial.caller import (
    AT_ATTRIBUTE,
    CALLER_ATTRIBUTE,
    CALLER_VALUE,
    ROOM_PREFIX,
)

__all__ = ["HOST", "TOKEN_TTL", "PageConfig", "TrialPage", "web_modules_dir"]

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
TOKEN_TTL = timedelta(minutes=5)
"""How long a page's token can be used to join its room."""
ROOM_EMPTY_TIMEOUT_S = 30
"""LiveKit closes a trial room this long after its last participant left."""
WEB_DIR = Path(__file__).resolve().parent / "web"
LIVEKIT_CLIENT = Path("node_modules/livekit-client/dist/livekit-client.esm.mjs")
VERSIONS_KEPT = 8


def web_modules_dir() -> Path:
    """Where the install step put the page's npm packages (keyed by the lock file)."""
    from router.stack.install import web_packages_dir

    return web_packages_dir()


@dataclass(frozen=True, slots=True)
class PageConfig:
    menus: Path
    livekit_url: str
    """The URL browsers join (ws:// or wss://)."""
    api_key: str
    api_secret: str
    agent_name: str = DEFAULT_AGENT_NAME
    port: int = 0
    """0: a free port."""
    modules: Path | None = None
    """The folder holding node_modules/ (default: the install step's)."""


@dataclass(frozen=True, slots=True)
class _Version:
    menu_file: MenuFile
    graph: graphs.Graph


class TrialPage:
    """The server; `start()` in a running loop, `url` once started, `stop()` to end."""

    def __init__(self, config: PageConfig) -> None:
        self.config = config
        modules = config.modules or web_modules_dir()
        self._client = modules / LIVEKIT_CLIENT
        if not self._client.is_file():
            raise StackError(
                "the trial page's JavaScript (livekit-client) is not installed; "
                "run `make stack` (python -m router.stack.install)"
            )
        self._versions: OrderedDict[str, _Version] = OrderedDict()
        self._svgs: dict[str, str] = {}
        self._stamp: tuple[int, int] | None = None
        self._problems: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    async def start(self) -> str:
        app = web.Application(middlewares=[self._guard], client_max_size=16 * 1024)
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/static/{name}", self._static),
                web.get("/vendor/livekit-client.mjs", self._vendor),
                web.get("/api/menus", self._menus),
                web.get("/api/graph.svg", self._graph_svg),
                web.post("/api/call", self._call),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.config.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- guards ----------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        allowed = {f"{HOST}:{self.port}", f"localhost:{self.port}"}
        if request.host not in allowed:
            return _error(403, "This page answers on 127.0.0.1 only.")
        response: web.StreamResponse = await handler(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    # --- static ----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(WEB_DIR / "index.html")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = WEB_DIR / name
        if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
            return _error(404, "No such file.")
        return web.FileResponse(path, headers={"Content-Type": _TYPES[path.suffix]})

    async def _vendor(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(self._client, headers={"Content-Type": _TYPES[".js"]})

    # --- the menu file -----------------------------------------------------------------------

    def _current(self) -> _Version | None:
        """The file's last good version, reloaded when the file changed on disk."""
        path = self.config.menus
        try:
            info = path.stat()
            stamp = (info.st_mtime_ns, info.st_size)
        except OSError:
            self._problems = [f"{path}: the menu file is missing"]
            return next(reversed(self._versions.values()), None)
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                menu_file = load_menu_file(path, engine=speech_engine()).menu_file
            except MenuFileError as exc:
                self._problems = [str(p) for p in exc.problems]
            except OSError as exc:
                self._problems = [f"{path}: {exc.strerror or exc}"]
            else:
                self._problems = []
                if menu_file.version not in self._versions:
                    self._versions[menu_file.version] = _Version(menu_file, graphs.build(menu_file))
                self._versions.move_to_end(menu_file.version)
                while len(self._versions) > VERSIONS_KEPT:
                    old, _ = self._versions.popitem(last=False)
                    self._svgs.pop(old, None)
        return next(reversed(self._versions.values()), None)

    async def _menus(self, request: web.Request) -> web.StreamResponse:
        current = self._current()
        body: dict[str, Any] = {"problems": self._problems, "file": self.config.menus.name}
        if current is not None:
            menu_file, graph = current.menu_file, current.graph
            body.update(
                version=menu_file.version,
                numbers=sorted(menu_file.entries, key=lambda n: (n == "default", n)),
                timezones=sorted({s.timezone for s in menu_file.schedules.values()}),
                menus=sorted(menu_file.menus),
                graph=_graph_json(graph),
            )
        return web.json_response(body)

    async def _graph_svg(self, request: web.Request) -> web.StreamResponse:
        current = self._current()
        version = request.query.get("version") or (current.menu_file.version if current else "")
        found = self._versions.get(version)
        if found is None:
            return _error(404, "That version of the menu file is no longer known.")
        svg = self._svgs.get(version)
        if svg is None:
            svg = await _draw(graphs.dot(found.graph))
            self._svgs[version] = svg
        return web.Response(text=svg, content_type="image/svg+xml")

    # --- a call ----------------------------------------------------------------------------

    async def _call(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return _error(415, "Ask for a call with a JSON body.")
        try:
            asked = await request.json()
            if not isinstance(asked, dict):
                raise ValueError
        except ValueError:
            return _error(400, "The request is not a JSON object.")
        current = self._current()
        if current is None:
            return _error(409, "The menu file has errors; fix them first.")
        number = str(asked.get("number") or "default")
        if number not in current.menu_file.entries:
            return _error(400, f"{number} is not one of the menu file's numbers.")
        try:
            at = _call_at(str(asked.get("at") or ""), str(asked.get("timezone") or ""))
        except ValueError as exc:
            return _error(400, str(exc))
        room = f"{ROOM_PREFIX}{secrets.token_hex(6)}"
        identity = f"browser-{secrets.token_hex(4)}"
        attributes = {
            CALLER_ATTRIBUTE: CALLER_VALUE,
            "sip.callStatus": "ringing",  # the page sets `active` once it hears the router
            "sip.callID": f"TRY_{room.removeprefix(ROOM_PREFIX)}",
        }
        if number != "default":
            attributes["sip.trunkPhoneNumber"] = number
        if at is not None:
            attributes[AT_ATTRIBUTE] = at.isoformat()
        # the page's join creates the room and LiveKit dispatches the router in the same
        # step, as when a SIP bridge's participant creates a call's room
        dispatch = api.RoomConfiguration(
            empty_timeout=ROOM_EMPTY_TIMEOUT_S,
            departure_timeout=ROOM_EMPTY_TIMEOUT_S,
            agents=[api.RoomAgentDispatch(agent_name=self.config.agent_name)],
        )
        token = (
            api.AccessToken(self.config.api_key, self.config.api_secret)
            .with_identity(identity)
            .with_name("Browser caller")
            .with_ttl(TOKEN_TTL)
            .with_attributes(attributes)
            .with_room_config(dispatch)
            .with_grants(
                api.VideoGrants(
                    room_join=True,
                    room=room,
                    can_publish=False,
                    can_publish_data=True,
                    can_subscribe=True,
                    can_update_own_metadata=True,
                )
            )
            .to_jwt()
        )
        log.info("trial call in room %s (number %s)", room, number)
        return web.json_response(
            {
                "url": self.config.livekit_url,
                "token": token,
                "room": room,
                "identity": identity,
                "agent": self.config.agent_name,
                "version": current.menu_file.version,
                "at": at.isoformat() if at is not None else None,
            }
        )


_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def _error(status: int, sentence: str) -> web.Response:
    return web.json_response({"error": sentence}, status=status)


def _call_at(at: str, timezone: str) -> datetime | None:
    """The time to call at: `at` as a local date and time (`2026-12-06T10:00`) in
    `timezone` (IANA, default UTC), or an ISO time with its offset; None for now."""
    if not at:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise ValueError(f"{at[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM).") from None
    if when.tzinfo is None:
        try:
            zone = ZoneInfo(timezone) if timezone else UTC
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{timezone[:60]!r} is not a known time zone.") from None
        when = when.replace(tzinfo=zone)
    return when


def _graph_json(graph: graphs.Graph) -> dict[str, Any]:
    """Nodes by what they stand for, and edges in the order `dot` draws them (the SVG's
    n-th `g.edge` is the n-th edge here)."""
    return {
        "nodes": {key: {"id": n.id, "kind": n.kind} for key, n in graph.nodes.items()},
        "edges": [
            {"source": e.source, "target": e.target, "label": e.label, "dashed": e.dashed}
            for e in graph.edges
        ],
    }


async def _draw(dot_text: str) -> str:
    program = shutil.which("dot")
    if program is None:
        return _no_drawing("Graphviz's dot is not installed (make stack installs it)")
    proc = await asyncio.create_subprocess_exec(
        program,
        "-Tsvg",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(dot_text.encode())
    if proc.returncode != 0:
        return _no_drawing(f"dot failed: {err.decode(errors='replace').strip()[:200]}")
    return out.decode()


def _no_drawing(why: str) -> str:
    text = why.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40">'
        f'<text x="10" y="25">{text}</text></svg>'
    )


class PageThread:
    """The page served from a thread of its own (for `router local`, `router try` and
    tests, whose main thread does other things): `start()` returns the URL."""

    def __init__(self, config: PageConfig) -> None:
        self.page = TrialPage(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> str:
        self._thread = threading.Thread(target=self._run, name="trial-page", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise StackError("the trial page's server did not start")
        if self._error is not None:
            if isinstance(self._error, OSError):
                raise StackError(
                    f"the trial page cannot listen on {HOST}:{self.page.config.port}: "
                    f"{self._error.strerror or self._error}"
                )
            raise self._error
        return self.page.url

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self.page.start())
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.page.stop())
            loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
