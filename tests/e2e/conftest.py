"""The real stack for end-to-end tests: Redis, livekit-server, the SIP bridge, the router.

Started once per test session on free loopback ports. If any part cannot start, the
fixture fails with the reason and the tail of its log: end-to-end tests never skip.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from router.stack.harness import RouterProcess
from router.stack.local import LocalStack, free_port

HERE = Path(__file__).parent
AGENT = "menu-router-e2e"
NUMBER = "+15550100001"


@dataclass
class Stack:
    stack: LocalStack
    router: RouterProcess
    menus: Path
    records: Path
    metrics_url: str
    health_url: str

    def uri(self, number: str = NUMBER) -> str:
        return self.stack.sip_uri(number)

    def record_for(self, caller_id: str, timeout: float = 10.0) -> dict[str, Any]:
        return record_in(self.records, caller_id, timeout)


def written_records(records: Path) -> list[dict[str, Any]]:
    """The call records written to `records` so far: its complete lines only. A running
    router appends a record while the test reads (CI read a line cut at its 224th
    character); the line's newline is written with it, so a line without one is not
    yet whole."""
    if not records.exists():
        return []
    text = records.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def record_in(records: Path, caller_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The call record of the call placed from `caller_id` (matched on its last 4 digits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in written_records(records):
            if (record.get("caller") or "").endswith(caller_id[-4:]):
                return record
        time.sleep(0.1)
    raise AssertionError(f"no call record for {caller_id} in {records}")


async def eventually(
    predicate: Callable[[], bool], *, within: float, what: str, strict: bool = True
) -> bool:
    """Poll `predicate` (a log or file condition: nothing to await) until true or `within`."""
    deadline = time.monotonic() + within
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            if strict:
                raise AssertionError(f"{what}: not within {within:.0f} s")
            return False
        await asyncio.sleep(0.2)


HOLDING_MENU = """\
version: 1
defaults:
  timeouts: {first_digit: 120s}
destinations:
  operator: "tel:+15105550100"
numbers:
  default: {menu: main}
menus:
  main:
    greeting: "Hold on."
    options:
      "0": {transfer: operator}
"""
"""Callers wait in this menu for as long as a test needs them held; 0 transfers."""


async def holding_router(
    stack: LocalStack, folder: Path, agent: str, number: str, *args: str, command: str = "dev"
) -> RouterProcess:
    """A router of its own (agent name and number) on `HOLDING_MENU`, for tests that load,
    stop or cut it without disturbing the session's router; log and records in `folder`."""
    await stack.aprovision(agent, [number])
    router = _router(stack, folder, agent, HOLDING_MENU, list(args), command)
    await asyncio.to_thread(router.start)
    return router


def _router(
    stack: LocalStack,
    folder: Path,
    agent: str,
    menus_text: str,
    args: list[str] | None = None,
    command: str = "dev",
) -> RouterProcess:
    """A router (not started yet) on `menus_text`, its files in `folder`."""
    menus = folder / "menus.yaml"
    menus.write_text(menus_text)
    return RouterProcess(
        stack.env,
        menus=menus,
        log_path=folder / "router.log",
        agent_name=agent,
        records=str(folder / "calls.jsonl"),
        extra_args=args or [],
        command=command,
    )


@contextmanager
def own_router(
    stack: LocalStack, folder: Path, agent: str, numbers: list[str], menus_text: str
) -> Iterator[Path]:
    """A router of its own (agent name, numbers, menu file) for one test module, so its
    menus never touch the callers of the other tests; yields `folder`, where its log and
    `calls.jsonl` are kept. Its log must hold no traceback."""
    stack.provision(agent, numbers)
    router = _router(stack, folder, agent, menus_text)
    router.start()
    try:
        yield folder
    finally:
        router.stop()
    assert "Traceback" not in router.log(), router.log()[-4000:]


_callers = itertools.count(1000)


def sip_participant_token(stack: LocalStack, room: str, *, status: str) -> str:
    """A token for a real rtc participant of kind SIP in `room` with livekit-sip's
    attributes (`sip.callStatus` = `status`), where the bridge itself is the boundary a
    test fakes: no SIP call behind it (its transfer fails on the server for its call id)."""
    return stack.token(
        "sip_caller",
        room,
        kind="sip",
        attributes={
            "sip.trunkPhoneNumber": "+15550100001",
            "sip.phoneNumber": "+15550209999",
            "sip.callID": f"SCL_{room}",
            "sip.callStatus": status,
        },
    )


async def connected_router(
    stack: LocalStack, menus: Path, folder: Path, room: str
) -> RouterProcess:
    """`router connect --room ROOM` on `menus`, started: a router that joins one given
    room and serves its SIP participant (no dispatch); its log and `calls.jsonl` in
    `folder`."""
    router = RouterProcess(
        stack.env,
        menus=menus,
        log_path=folder / "router.log",
        agent_name="not-dispatched",  # only the explicit --room brings it there
        records=str(folder / "calls.jsonl"),
        command="connect",
        extra_args=["--room", room],
    )
    await asyncio.to_thread(router.start)
    return router


def new_caller_id() -> str:
    """A caller number unique to one test call, so its record can be found."""
    return f"+1555020{next(_callers):04d}"


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("e2e")
    menus = work / "menus.yaml"
    shutil.copy(HERE / "menus.yaml", menus)
    records = work / "calls.jsonl"
    stack = LocalStack(workdir=work / "stack", quiet=True)
    stack.start()
    router: RouterProcess | None = None
    try:
        stack.provision(AGENT, [NUMBER])
        metrics_port = free_port()
        health_port = free_port()
        router = RouterProcess(
            stack.env,
            menus=menus,
            log_path=work / "router.log",
            agent_name=AGENT,
            records=str(records),
            extra_args=["--metrics-port", str(metrics_port), "--health-port", str(health_port)],
        ).start()
        yield Stack(
            stack,
            router,
            menus,
            records,
            f"http://127.0.0.1:{metrics_port}/metrics",
            f"http://127.0.0.1:{health_port}",
        )
    finally:
        if router is not None:
            router.stop()
        stack.stop()
    log = router.log() if router else ""
    assert "Traceback" not in log, f"the router logged a traceback:\n{log[-4000:]}"
