"""Caller rules over the real stack: the number on the SIP INVITE's From (the bridge's
`sip.phoneNumber`) reaches its rule before the dialled number's entry menu.

A router of its own (agent, number, menu file) on the session's stack, so the rules
never touch the callers of the other end-to-end tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.stack.sipphone import CallOutcome, place_call
from tests.e2e.conftest import Stack, record_in, router_of_its_own

AGENT = "menu-router-e2e-callers"
NUMBER = "+15550100014"

MENUS = """\
version: 1
defaults:
  timeouts: {first_digit: 20s}
destinations:
  operator: "tel:+15105550100"
  vip_desk: "tel:+15105550177"
callers:
  - from: "+15550990001"
    name: blocked
    hangup: "Sorry, we do not take calls from your number. Goodbye."
  - from: ["+1555099*"]
    name: vip
    transfer: vip_desk
  - from: anonymous
    menu: withheld
numbers:
  default: {menu: main}
menus:
  main:
    greeting: "Main menu. For sales, press 1."
    options:
      "1": {transfer: "tel:+15105550101"}
  withheld:
    greeting: "Your number is withheld. For the operator, press 0."
    options:
      "0": {transfer: operator}
"""


@pytest.fixture(scope="module")
def callers_router(e2e: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with router_of_its_own(
        e2e.stack, tmp_path_factory.mktemp("callers"), AGENT, NUMBER, MENUS
    ) as folder:
        yield folder / "calls.jsonl"


async def test_a_prefix_rule_transfers_at_once(e2e: Stack, callers_router: Path) -> None:
    caller = "+15550990042"
    report = await place_call(e2e.uri(NUMBER), caller_id=caller, timeout_s=30.0)
    assert report.answered
    assert report.refer is not None
    assert report.refer.refer_to.strip("<>") == "tel:+15105550177"
    record = await asyncio.to_thread(record_in, callers_router, caller)
    assert record["menus"] == [] and record["end"] == "transferred"
    assert "0990042" not in str(record["caller"]), "the caller's number stays masked"


async def test_a_blocked_number_hears_its_goodbye(e2e: Stack, callers_router: Path) -> None:
    caller = "+15550990001"
    report = await place_call(e2e.uri(NUMBER), caller_id=caller, keys="1", timeout_s=30.0)
    assert report.answered
    assert report.refer is None
    assert report.outcome is CallOutcome.REMOTE_BYE, "the router ends the call"
    assert report.audio.voiced_s > 1.0, "the goodbye is heard"
    record = await asyncio.to_thread(record_in, callers_router, caller)
    assert record["end"] == "hangup" and record["menus"] == []


async def test_a_withheld_caller_reaches_its_menu(e2e: Stack, callers_router: Path) -> None:
    report = await place_call(e2e.uri(NUMBER), caller_id="anonymous", keys="0", timeout_s=30.0)
    assert report.answered
    assert report.refer is not None
    assert report.refer.refer_to.strip("<>") == "tel:+15105550100"


async def test_any_other_caller_starts_at_the_number_s_entry(
    e2e: Stack, callers_router: Path
) -> None:
    report = await place_call(e2e.uri(NUMBER), caller_id="+15550770001", keys="1", timeout_s=30.0)
    assert report.answered
    assert report.refer is not None
    assert report.refer.refer_to.strip("<>") == "tel:+15105550101"
