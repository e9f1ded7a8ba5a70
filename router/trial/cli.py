"""`router try`: try a menu file in the browser against any LiveKit server.

Starts the router for trying (`router dev`: it serves browser callers) under its own agent
name, so that no production worker is ever sent a browser caller, and the page on
127.0.0.1; prints the page's URL. Ctrl-C stops both. `router local` does the same on the
local stack it brings up.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from router.core.errors import StackError
from router.settings import flag_default
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
    from router.runtime.config import credentials
    from router.stack.harness import (
        RouterProcess,
        checked_menus,
        stop_on_sigterm,
        wait_while_running,
    )

    url, api_key, api_secret = credentials()
    menus = Path(args.menus)
    checked_menus(menus)
    page = start_page(menus, url, api_key, api_secret, args.agent_name, args.port)
    stopping = stop_on_sigterm()
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
        return wait_while_running(router, stopping)
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
