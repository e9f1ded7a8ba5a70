"""`router local`: the whole stack on 127.0.0.1 with the router, for a first try.

Installs what is missing, starts Redis, livekit-server and the SIP bridge, creates
the inbound trunk and dispatch rule for every number in the menu file, starts the
router on the menu file, and prints how to call it. Ctrl-C stops what it started,
and nothing else.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from router.core.model import MenuFile
from router.runtime.config import agent_name
from router.settings import flag_default
from router.stack.harness import RouterProcess, checked_menus, stop_on_sigterm, wait_while_running
from router.trial.cli import DEFAULT_PAGE_PORT, start_page

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--menus", default=flag_default("menus"), help="menu file")
    parser.add_argument(
        "--agent-name",
        default=None,
        help="the agent name the router registers under and the dispatch rule names (default:"
        " as `router start`: $ROUTER_AGENT_NAME, $LIVEKIT_AGENT_NAME, else menu-router)",
    )
    parser.add_argument(
        "--workdir", default=None, help="where logs and records go (default: a temporary folder)"
    )
    parser.add_argument(
        "--page-port",
        type=int,
        default=DEFAULT_PAGE_PORT,
        help="the port of the page to try the menus in the browser (another if taken)",
    )


def run(args: argparse.Namespace) -> int:
    from router.stack.install import ensure_stack
    from router.stack.local import LocalStack

    menus = Path(args.menus)
    menu_file = checked_menus(menus)
    name = agent_name(args.agent_name)  # the name the router will register under
    numbers = [n for n in menu_file.entries if n != "default"] or ["+15105550000"]

    print("Checking the local stack (the first run builds it: a few minutes) ...", flush=True)
    binaries = ensure_stack()  # its errors are one sentence each (StackError)
    stack = LocalStack(fixed_ports=True, binaries=binaries, workdir=args.workdir, quiet=True)
    stopping = stop_on_sigterm()
    router: RouterProcess | None = None
    page = None
    try:
        print("Starting Redis, livekit-server and the SIP bridge on 127.0.0.1 ...", flush=True)
        stack.start()
        stack.provision(name, numbers)
        assert stack.workdir is not None
        records = stack.workdir / "calls.jsonl"
        router = RouterProcess(
            stack.env,
            menus=menus,
            log_path=stack.workdir / "router.log",
            agent_name=name,
            records=str(records),
        )
        print("Starting the router ...", flush=True)
        router.start()
        page = start_page(menus, stack.url, stack.api_key, stack.api_secret, name, args.page_port)
        _print_welcome(
            stack,
            numbers,
            menus,
            records,
            router.log_path,
            page.page.url,
            entry_menus_now(menu_file, numbers),
        )
        return wait_while_running(router, stopping)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nStopping ...", flush=True)
        if page is not None:
            page.stop()
        if router is not None:
            router.stop()
        stack.stop()
    return 0


def entry_menus_now(
    menu_file: MenuFile, numbers: Sequence[str], now: datetime | None = None
) -> list[str]:
    """Where a phone call to each number starts right now: phone calls follow the real
    clock (opening hours), so after hours "press 1" reaches the after-hours menu."""
    now = now or datetime.now(UTC)
    lines = []
    for number in numbers:
        entry = menu_file.entry_for(number)
        schedule = menu_file.schedules.get(entry.schedule or "")
        if schedule is None or entry.closed is None:
            continue
        if schedule.is_open(now):
            state = f"open: calls start in '{entry.menu}'"
        else:
            state = f"closed: calls start in '{entry.closed}'"
        local = now.astimezone(ZoneInfo(schedule.timezone)).strftime("%a %H:%M")
        lines.append(
            f"  {number}: it is {local} in {schedule.timezone}, so '{schedule.name}' is {state}"
        )
    if lines:
        lines.append(
            "  (phone calls follow the clock; to try another time of day, set it on the page)"
        )
        lines.append("")
    return lines


def _print_welcome(
    stack: object,
    numbers: Sequence[str],
    menus: Path,
    records: Path,
    router_log: Path,
    page_url: str,
    now: Sequence[str] = (),
) -> None:
    from router.stack.local import LocalStack

    assert isinstance(stack, LocalStack)
    first = numbers[0]
    lines = [
        "",
        "The router is answering calls on 127.0.0.1.",
        "",
        "  Try it in your browser (a dial pad, the prompts, the menu graph):",
        f"    {page_url}",
        "",
        "  Call it from a softphone (UDP, no account needed):",
        *[f"    {stack.sip_uri(n)}" for n in numbers],
        "",
        "  Or place a scripted call (press 1 after the greeting starts):",
        f"    python -m router.stack.caller {stack.sip_uri(first)} --keys 1",
        "",
        *now,
        f"  Menu file:     {menus} (edit it: new calls use the new version)",
        f"  Call records:  {records}",
        f"  Router log:    {router_log}",
        f"  LiveKit:       {stack.url}  (API key {stack.api_key})",
        "",
        "Press Ctrl-C (or send SIGTERM) to stop everything; the records and logs stay.",
    ]
    print("\n".join(lines), flush=True)
