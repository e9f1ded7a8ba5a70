"""`router try`: try a menu file in the browser against any LiveKit server.

Starts the router for trying (`router dev`: it serves browser callers) under its own agent
name, so that no production worker is ever sent a browser caller, and the page on
127.0.0.1; prints the page's URL. Ctrl-C stops both. `router local` does the same on the
local stack it brings up.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from router.core.errors import ConfigError, MenuFileError, StackError
from router.core.loader import load_menu_file
from router.settings import flag_default, speech_engine
from router.trial.server import PageConfig, PageThread

__all__ = ["DEFAULT_PAGE_PORT", "add_arguments", "run"]

DEFAULT_PAGE_PORT = 7890
"""The page's port when free (another free port otherwise)."""
TRY_AGENT = "menu-router-try"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--menus", default=flag_default("menus"), help="menu file")
    parser.add_argument(
        "--agent-name",
        default=TRY_AGENT,
        help=f"the agent name the trial router registers under (default {TRY_AGENT})",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PAGE_PORT, help="the page's port on 127.0.0.1"
    )
    parser.add_argument(
        "--no-router",
        action="store_true",
        help="serve the page only, for a router already started with `router dev`",
    )


def run(args: argparse.Namespace) -> int:
    from router.stack.harness import RouterProcess

    missing = [
        n for n in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not os.environ.get(n)
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; set them to "
            "your LiveKit server's URL and API key and secret (or use `router local`)"
        )
    menus = Path(args.menus)
    if not menus.is_file():
        raise ConfigError(f"the menu file {menus} does not exist (see --menus)")
    try:
        load_menu_file(menus, engine=speech_engine())
    except MenuFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise ConfigError(f"{menus} has errors; `router check {menus}` lists them") from None
    url = os.environ["LIVEKIT_URL"]
    page = start_page(
        menus,
        url,
        os.environ["LIVEKIT_API_KEY"],
        os.environ["LIVEKIT_API_SECRET"],
        args.agent_name,
        args.port,
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    router = None
    try:
        if not args.no_router:
            folder = Path(tempfile.mkdtemp(prefix="router-try-"))
            router = RouterProcess(
                {},
                menus=menus,
                log_path=folder / "router.log",
                agent_name=args.agent_name,
                records=str(folder / "calls.jsonl"),
            )
            print("Starting the router for trying ...", flush=True)
            router.start()
            print(f"  Router log:    {router.log_path}")
            print(f"  Call records:  {folder / 'calls.jsonl'}")
        print(
            f"\nTry the menu in your browser:  {page.page.url}\n\nPress Ctrl-C to stop.", flush=True
        )
        while not stopping.is_set():
            if router is not None and router.proc is not None and router.proc.poll() is not None:
                print("The router stopped:\n" + router.tail(), file=sys.stderr)
                return 1
            stopping.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if router is not None:
            router.stop()
        page.stop()
    return 0


def start_page(
    menus: Path, url: str, api_key: str, api_secret: str, agent_name: str, port: int
) -> PageThread:
    """The page on `port`, or on a free port if that one is taken."""
    for chosen in (port, 0) if port else (0,):
        page = PageThread(PageConfig(menus, url, api_key, api_secret, agent_name, chosen))
        try:
            page.start()
            return page
        except StackError:
            if chosen == 0:
                raise
    raise AssertionError("unreachable")
