"""The trial page in a real browser: headless Chromium (Debian's) on the real local stack.

The page joins a fresh room on livekit-server with livekit-client, the router (started for
trying, on the repository's own menus.yaml) is dispatched into it, keys go out as DTMF
and a transfer is answered on the page. Nothing is mocked: the audio level is measured
in the page, the graph is the SVG `router graph` draws, the call record is the router's.
If Chromium cannot start, the tests fail (they never skip).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from livekit import api, rtc

from router.stack.harness import RouterProcess
from router.stack.local import free_port
from router.trial.events import ATTR_MENU, TOPIC
from router.trial.server import PageConfig, PageThread, TrialPage
from tests.e2e.conftest import Stack, eventually, written_records

REPO = Path(__file__).resolve().parents[2]
AGENT = "menu-router-trial-e2e"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OPEN_HOURS = "2026-12-01T10:00"  # a Tuesday morning in New York: the office is open
HEARD = 0.01
"""RMS level (of full scale 1.0) above which the page is hearing speech; silence is 0."""


@dataclass
class Trial:
    page: PageThread
    router: RouterProcess
    menus: Path
    records: Path

    @property
    def url(self) -> str:
        return self.page.page.url


@pytest.fixture(scope="module")
def trial(e2e: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trial]:
    """A router started for trying (`router dev`) on a copy of menus.yaml, and the page."""
    folder = tmp_path_factory.mktemp("trial")
    menus = folder / "menus.yaml"
    shutil.copy(REPO / "menus.yaml", menus)
    records = folder / "calls.jsonl"
    router = RouterProcess(
        e2e.stack.env,
        menus=menus,
        log_path=folder / "router.log",
        agent_name=AGENT,
        records=str(records),
    ).start()
    stack = e2e.stack
    page = PageThread(PageConfig(menus, stack.url, stack.api_key, stack.api_secret, AGENT))
    try:
        page.start()
        yield Trial(page, router, menus, records)
    finally:
        page.stop()
        router.stop()
    assert "Traceback" not in router.log(), router.log()[-4000:]


@pytest.fixture
async def browser_page(trial: Trial) -> AsyncIterator[Any]:
    from playwright.async_api import Error, async_playwright

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=["--autoplay-policy=no-user-gesture-required"],
            )
        except Error as exc:
            pytest.fail(f"Chromium ({CHROMIUM}) cannot start; `make stack` installs it: {exc}")
        page = await browser.new_page(viewport={"width": 1400, "height": 950})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(trial.url)
        await page.wait_for_selector("#graph svg g.node", timeout=15_000)
        yield page
        await browser.close()
        assert not errors, f"the page raised: {errors}"


async def events(page: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate("window.trialPage.state.events")
    return found


async def wait_js(page: Any, condition: str, what: str, timeout_s: float = 20.0) -> None:
    try:
        await page.wait_for_function(condition, timeout=timeout_s * 1000)
    except Exception:
        log = await page.inner_text("#log")
        raise AssertionError(
            f"{what}: not within {timeout_s:.0f} s; the page's log:\n{log}"
        ) from None


async def call_office_hours(page: Any) -> None:
    await page.select_option("#number", "+15105550150")
    await page.fill("#at", OPEN_HOURS)
    await page.fill("#timezone", "America/New_York")
    assert await page.evaluate("window.trialPage.peak()") == 0, "silence before the call"
    await page.click("#call")
    await wait_js(page, f"window.trialPage.peak() > {HEARD}", "the greeting heard in the page")


async def test_a_browser_call_through_support_to_a_busy_desk_and_back(
    trial: Trial, browser_page: Any
) -> None:
    page = browser_page
    await call_office_hours(page)
    greeting = await events(page)
    assert [e["type"] for e in greeting[:3]] == ["call_started", "menu_entered", "prompt"]
    assert greeting[0]["dialled"] == "+15105550150"
    assert greeting[0]["at"].startswith("2026-12-01T10:00:00-05:00")
    assert greeting[1]["menu"] == "main", "open hours lead to main, not after_hours"

    await page.keyboard.press("2")  # from the keyboard
    await wait_js(page, "window.trialPage.graph.litMenus().includes('support')", "support lit")
    lit = await page.eval_on_selector("#graph g.node.current title", "t => t.textContent")
    nodes = await page.evaluate("window.trialPage.graph.graph.nodes")
    lit_ids = {nodes[k]["id"] for k in ("menu:main", "menu:support", "schedule:+15105550150")}
    assert lit == nodes["menu:support"]["id"], "the SVG's highlighted node is support's"
    assert "2" in await page.evaluate("window.trialPage.graph.takenLabels()")
    drawn = await page.eval_on_selector_all(
        "#graph g.edge.taken", "els => els.map(e => e.querySelector('title').textContent)"
    )
    main, support = nodes["menu:main"]["id"], nodes["menu:support"]["id"]
    assert f"{main}->{support}" in drawn, "the SVG's lit edge is main's key 2 to support"
    assert all(title.split("->")[1] in lit_ids for title in drawn)

    await page.click("#pad button[data-key='1']")  # from the dial pad
    await page.wait_for_selector("#transfer:not([hidden])", timeout=20_000)
    panel = await page.inner_text("#transfer")
    assert "support_desk" in panel and "sip:support@pbx.example.com;transport=tcp" in panel
    assert "X-Topic:" in panel and "orders" in panel
    screenshot = os.environ.get("ROUTER_TRIAL_SCREENSHOT")
    if screenshot:
        await page.screenshot(path=screenshot)
    # The request reaches the page as an RPC while the event log comes on the data topic,
    # sent from the reporter's queue: the panel may open before the event arrives.
    await wait_js(
        page,
        "window.trialPage.state.events.some(e => e.type === 'transfer_requested')",
        "the transfer_requested event",
    )
    requested = [e for e in await events(page) if e["type"] == "transfer_requested"]
    assert requested[-1]["headers"]["X-Topic"] == "orders"
    assert requested[-1]["destination"] == "support_desk"

    await page.evaluate("window.trialPage.resetPeak()")
    await page.click("#transfer button[data-outcome='busy']")
    await wait_js(
        page,
        "window.trialPage.state.events.some(e => e.type === 'transfer_result')",
        "the transfer's result",
    )
    await wait_js(page, f"window.trialPage.peak() > {HEARD}", "the busy message heard")
    after = await events(page)
    result = next(e for e in after if e["type"] == "transfer_result")
    assert (result["result"], result["kind"], result["sip_status"]) == ("failed", "busy", 486)
    prompts = [e["texts"] for e in after if e["type"] == "prompt" and e["t"] >= result["t"]]
    assert prompts and prompts[0][0] == "That line is busy.", prompts
    assert prompts[0][1].startswith("Support."), "then the support menu again"
    log = await page.inner_text("#log")
    assert "Transfer failed: busy (SIP 486)" in log
    assert "with X-Routed-By: menu-router, X-Department: support, X-Topic: orders" in log

    await page.click("#call")  # hang up
    await wait_js(page, "document.querySelector('#state').dataset.state === 'ended'", "ended")
    room = await page.evaluate("window.trialPage.state.roomName")
    record = await asyncio.to_thread(record_of, trial.records, room)
    assert record["dialled"] == "+15105550150" and record["end"] == "caller_hangup"
    assert [m["menu"] for m in record["menus"]] == ["main", "support"]
    assert [k["key"] for k in record["keys"]] == ["2", "1"]
    transfer = record["transfer"]
    assert transfer["target"] == "sip:support@pbx.example.com;transport=tcp"
    assert (transfer["result"], transfer["sip_status"]) == ("failed", 486)


async def test_a_transfer_answered_by_itself_ends_the_call_as_transferred(
    trial: Trial, browser_page: Any
) -> None:
    page = browser_page
    await call_office_hours(page)
    await page.keyboard.press("3")  # billing, after "Connecting you to billing."
    await page.wait_for_selector("#transfer:not([hidden])", timeout=20_000)
    # nobody clicks: the page answers "answered" after its countdown
    await wait_js(page, "document.querySelector('#state').dataset.state === 'ended'", "ended")
    seen = await events(page)
    assert any(e["type"] == "transfer_result" and e["result"] == "succeeded" for e in seen)
    room = await page.evaluate("window.trialPage.state.roomName")
    record = await asyncio.to_thread(record_of, trial.records, room)
    assert record["end"] == "transferred"
    assert record["transfer"]["target"] == "tel:+15105550103"


async def test_the_graph_follows_edits_of_the_menu_file(trial: Trial, browser_page: Any) -> None:
    page = browser_page
    before = await page.evaluate("window.trialPage.graph.version")
    text = trial.menus.read_text()
    try:
        news = '\nmenus:\n  news:\n    greeting: "No news today."\n    options:\n      "*": back\n'
        trial.menus.write_text(  # the new menu first in `menus`, whatever section follows
            text.replace('"8": {menu: info}', '"8": {menu: info}\n      "4": {menu: news}').replace(
                "\nmenus:\n", news, 1
            )
        )
        await wait_js(
            page,
            f"window.trialPage.graph.version !== {json.dumps(before)}"
            " && 'menu:news' in window.trialPage.graph.graph.nodes",
            "the new version's graph",
        )
        assert await page.locator("#graph g.node title", has_text="n").count() > 0
        broken = text.replace("menu: support}", "menu: suport}")
        trial.menus.write_text(broken)
        await page.wait_for_selector("#problems:not([hidden])", timeout=10_000)
        assert "suport" in await page.inner_text("#problems")
    finally:
        trial.menus.write_text(text)


def record_of(records: Path, room: str, timeout: float = 15.0) -> dict[str, Any]:
    """The call record of the trial call in `room` (its call id is `TRY_` and the room's)."""
    call_id = "TRY_" + room.removeprefix("try-")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for record in written_records(records):
            if record.get("call_id") == call_id:
                return record
        time.sleep(0.2)
    raise AssertionError(f"no call record for {call_id} in {records}")


# --- without a browser: the token endpoint and `router start` ----------------------------------


async def ask_call(trial: Trial, body: object, **headers: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(trial.url + "api/call", json=body, headers=headers) as response:
            return response.status, await response.json()


async def test_the_token_is_short_lived_for_one_trial_room_and_data_only(trial: Trial) -> None:
    status, answer = await ask_call(trial, {"number": "default"})
    assert status == 200, answer
    stack_secret = trial.page.page.config.api_secret
    claims = api.TokenVerifier(trial.page.page.config.api_key, stack_secret).verify(answer["token"])
    assert claims.video is not None
    assert claims.video.room == answer["room"] and answer["room"].startswith("try-")
    assert claims.video.room_join and claims.video.can_publish is False
    assert claims.video.room_create in (None, False) and claims.video.room_admin in (None, False)
    assert claims.attributes["trial.caller"] == "browser"
    assert "sip.trunkPhoneNumber" not in claims.attributes, "default: no number dialled"

    status, answer = await ask_call(trial, {"number": "+19995550000"})
    assert status == 400 and "not one of the menu file's numbers" in answer["error"]
    status, answer = await ask_call(trial, {"number": "default", "at": "tomorrow"})
    assert status == 400 and "is not a date and time" in answer["error"]
    async with aiohttp.ClientSession() as http:
        async with http.post(trial.url + "api/call", data="number=default") as response:
            assert response.status == 415, "no form posts (cross-site)"
        async with http.get(trial.url, headers={"Host": "attacker.example:80"}) as response:
            assert response.status == 403, "no other Host (DNS rebinding)"


async def join_as_browser(
    trial: Trial, agent: str | None = None
) -> tuple[rtc.Room, asyncio.Queue[dict[str, Any]]]:
    """Join a trial room as the page does (its token, `sip.callStatus` active), from Python:
    a listener of the `router.events` topic that is not a browser."""
    page = trial.page.page
    if agent is not None:
        config = page.config
        page = TrialPage(
            PageConfig(trial.menus, config.livekit_url, config.api_key, config.api_secret, agent)
        )
        await page.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(page.url + "api/call", json={"number": "default"}) as response:
                answer = await response.json()
    finally:
        if agent is not None:
            await page.stop()
    room = rtc.Room()
    heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_data(packet: rtc.DataPacket) -> None:
        if packet.topic == TOPIC:
            heard.put_nowait(json.loads(packet.data))

    room.on("data_received", on_data)
    await room.connect(answer["url"], answer["token"])
    await room.local_participant.set_attributes({"sip.callStatus": "active"})
    return room, heard


async def test_other_tools_can_follow_a_call_on_the_topic_and_attributes(trial: Trial) -> None:
    room, heard = await join_as_browser(trial)
    try:
        first = await asyncio.wait_for(heard.get(), 20)
        assert first["type"] == "call_started" and first["dialled"] is None
        entered = await asyncio.wait_for(heard.get(), 5)
        # the note's own fields (router/core/events.py `MenuEntered`), as the page reads them
        assert entered == {
            "type": "menu_entered",
            "t": entered["t"],
            "menu": entered["menu"],
            "how": "start",
            "dialled": None,
        }

        def router_menu() -> str:
            for participant in room.remote_participants.values():
                if participant.attributes.get(ATTR_MENU):
                    return participant.attributes[ATTR_MENU]
            return ""

        await eventually(lambda: router_menu() == entered["menu"], within=5, what="router.menu")
        await room.local_participant.publish_dtmf(code=10, digit="*")  # main: * repeats
        while (event := await asyncio.wait_for(heard.get(), 10))["type"] != "key":
            pass
        assert event["key"] == "*"
    finally:
        await room.disconnect()


async def test_router_start_never_serves_a_browser_caller(
    e2e: Stack, trial: Trial, tmp_path: Path
) -> None:
    agent = "menu-router-start-e2e"
    records = tmp_path / "calls.jsonl"
    router = RouterProcess(
        e2e.stack.env,
        menus=trial.menus,
        log_path=tmp_path / "router.log",
        agent_name=agent,
        records=str(records),
        extra_args=["--metrics-port", "0", "--health-port", str(free_port())],
        command="start",
    )
    await asyncio.to_thread(router.start)
    try:
        room, heard = await join_as_browser(trial, agent)
        try:
            # dispatched, the router comes, finds no SIP caller and records the call so
            await eventually(
                lambda: records.exists() and bool(records.read_text().strip()),
                within=20,
                what="the router's record of the dispatched call",
            )
            record = json.loads(records.read_text().splitlines()[0])
            assert record["end"] == "left_before_join", record
            assert not record["menus"] and not record["keys"]
            await asyncio.sleep(1)
            assert heard.empty(), "router start published call events"
        finally:
            await room.disconnect()
    finally:
        await asyncio.to_thread(router.stop)
