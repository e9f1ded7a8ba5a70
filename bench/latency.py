"""Key to REFER, its floor, the router's own share, and answer to first audio.

Key to REFER: SIP calls through the stack with the scripted caller. Each call waits
for the greeting, then presses `1` (an unambiguous key, a direct transfer) three
times; the caller refuses each REFER with 403, so the router applies the failure
policy (a message, the menu again) and the next press causes the next REFER. Three
is the router's cap of transfer attempts per call. Per press:

- end to end: the caller sending the key's first RTP packet -> the REFER arriving at
  the caller (both `time.monotonic()` in this process);
- floor: the same key reaching a plain rtc participant that only listens, joined to
  the call's room (the SIP bridge -> livekit-server -> a Python rtc client leg that
  the router's path shares);
- inside the router: the `sip_dtmf_received` callback -> the transfer request handed
  to livekit-api (the router logs it with ``ROUTER_TRACE_KEYS=1``);
- livekit-api and aiohttp to the wire: measured apart against a local stub server,
  with a fresh HTTP session per request as in a new call.

Answer to first audio: the caller's 200 OK -> the first RTP packet of the greeting
above the silence threshold, over calls that hang up right after it.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

from livekit import api, rtc

from bench.common import NUMBER, log, summary, wait_for
from router.stack.local import LocalStack
from router.stack.sipphone import CallScript, SipCall, place_call

PRESSES_PER_CALL = 3
"""The router's cap on transfer attempts per call (CallCaps.max_transfers)."""


async def _find_room(lk: api.LiveKitAPI, caller_id: str, limit_s: float = 10.0) -> str | None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        rooms = await lk.room.list_rooms(api.ListRoomsRequest())
        for room in rooms.rooms:
            if caller_id in room.name:
                return str(room.name)
        await asyncio.sleep(0.1)
    return None


async def _latency_call(
    i: int, stack: LocalStack, lk: api.LiveKitAPI, presses: int, out: dict[str, list[Any]]
) -> None:
    caller_id = f"+1555031{i:04d}"
    options = CallScript(caller_id=caller_id, refer_status=403, timeout_s=90.0)
    call = SipCall(stack.sip_uri(NUMBER), options)
    listener = rtc.Room()
    arrivals: list[float] = []
    listener.on("sip_dtmf_received", lambda _d: arrivals.append(time.monotonic()))
    try:
        async with call:
            await call.start()
            if not await call.wait_answered(30):
                out["failures"].append(f"call {i}: not answered ({call.state})")
                return
            room = await _find_room(lk, caller_id)
            if room is None:
                out["failures"].append(f"call {i}: no room found")
                return
            await listener.connect(
                stack.url,
                stack.token(f"listener-{i}", room),
                rtc.RoomOptions(auto_subscribe=False),
            )
            if await call.wait_first_audio(15) is None:
                out["failures"].append(f"call {i}: no greeting heard")
                return
            # LiveKit may drop data sent in the first seconds of a participant
            await asyncio.sleep(2.0 + random.uniform(0, 0.5))
            for k in range(presses):
                seen = len(call.report().refers)
                sent = await call.send_key("1")
                got = await wait_for(lambda s=seen: len(call.report().refers) > s, 5.0, 0.02)
                report = call.report()
                if not got:
                    out["failures"].append(f"call {i} press {k}: no REFER within 5 s")
                    break
                refer = report.refers[seen]
                out["key_to_refer_ms"].append((refer.received_at - sent.sent_at) * 1000)
                heard = [a for a in arrivals if sent.sent_at <= a <= sent.sent_at + 2.0]
                floor = (heard[0] - sent.sent_at) * 1000 if heard else None
                out["presses"].append(
                    {
                        "sent": sent.sent_at,
                        "refer": refer.received_at,
                        "listener": heard[0] if heard else None,
                    }
                )
                if floor is not None:
                    out["key_to_listener_ms"].append(floor)
                else:
                    out["listener_missed"].append(f"call {i} press {k}")
                # the refusal reaches the router, which plays the failure message
                await asyncio.sleep(random.uniform(0.6, 1.0))
            await call.hangup()
            report = call.report()
            if report.answered_at and report.audio.first_audio_at:
                out["first_audio_ms"].append(
                    (report.audio.first_audio_at - report.answered_at) * 1000
                )
    finally:
        await listener.disconnect()


async def _held_calls(
    stack: LocalStack, n: int, up: list[int], stop: asyncio.Event, rate: float = 2.0
) -> None:
    """`n` SIP calls that are answered, hear the greeting and wait in the menu until `stop`."""

    async def one(i: int) -> None:
        options = CallScript(caller_id=f"+1555033{i:04d}", timeout_s=3600.0)
        async with SipCall(stack.sip_uri(NUMBER), options) as call:
            await call.start()
            if await call.wait_answered(60) and await call.wait_first_audio(30) is not None:
                up.append(i)
            await stop.wait()

    tasks = []
    for i in range(n):
        tasks.append(asyncio.ensure_future(one(i)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks, return_exceptions=True)


async def key_to_refer(
    stack: LocalStack, presses: int, concurrency: int = 2, background: int = 0
) -> dict[str, Any]:
    """Key-to-REFER figures over `presses` presses; with `background` other calls held in
    the same router process meanwhile (answered, greeted, waiting in the menu)."""
    calls = -(-presses // PRESSES_PER_CALL)
    out: dict[str, list[Any]] = {
        "key_to_refer_ms": [],
        "key_to_listener_ms": [],
        "first_audio_ms": [],
        "failures": [],
        "listener_missed": [],
        "presses": [],
    }
    sem = asyncio.Semaphore(concurrency)
    held: list[int] = []
    stop_held = asyncio.Event()
    holder = None
    if background:
        holder = asyncio.ensure_future(_held_calls(stack, background, held, stop_held))
        await wait_for(lambda: len(held) >= background or holder.done(), 60 + background)
        await asyncio.sleep(6.0)  # the greetings end; the calls wait in the menu
        log(f"key to REFER: {len(held)} calls held in the router meanwhile")
    out["background_calls_up"] = [len(held)]

    async with stack.api() as lk:

        async def one(i: int) -> None:
            async with sem:
                await asyncio.sleep(random.uniform(0, 0.3))
                await _latency_call(i, stack, lk, PRESSES_PER_CALL, out)
                done = len(out["key_to_refer_ms"])
                if i % 10 == 9:
                    log(f"key to REFER: {done} presses measured")

        await asyncio.gather(*(one(i) for i in range(calls)))
    if holder is not None:
        stop_held.set()
        await holder
    return out


async def first_audio(stack: LocalStack, calls: int, concurrency: int = 2) -> dict[str, Any]:
    """Answer to the greeting's first voiced RTP packet, over short calls."""
    sem = asyncio.Semaphore(concurrency)
    first: list[float] = []
    invite_to_answer: list[float] = []
    failures: list[str] = []

    async def one(i: int) -> None:
        async with sem:
            report = await place_call(
                stack.sip_uri(NUMBER),
                caller_id=f"+1555032{i:04d}",
                hangup_after_audio_s=0.3,
                timeout_s=30.0,
            )
        if report.answered_at is None:
            failures.append(f"call {i}: {report.outcome} {report.status}")
            return
        invite_to_answer.append((report.answered_at - report.started_at) * 1000)
        if report.audio.first_audio_at is None:
            failures.append(f"call {i}: no greeting heard")
            return
        first.append((report.audio.first_audio_at - report.answered_at) * 1000)

    await asyncio.gather(*(one(i) for i in range(calls)))
    return {
        "answer_to_first_audio_ms": first,
        "invite_to_answer_ms": invite_to_answer,
        "failures": failures,
    }


# ---------------------------------------------------------------- livekit-api's own share


def api_to_wire(requests: int = 200) -> dict[str, Any]:
    """`transfer_sip_participant` handed to livekit-api -> the request at a local stub.

    The stub (aiohttp, its own thread and loop) notes when its handler starts; the
    client does what the router does: a fresh aiohttp session per call (its first
    request opens the TCP connection), `asyncio.wait_for` around the call. The figure
    is an upper bound of the time the request needs to leave the router (it also
    holds the stub's parsing).
    """
    from aiohttp import web

    arrivals: list[float] = []
    ready = threading.Event()
    port_box: list[int] = []
    stop_box: list[Any] = []

    def serve() -> None:
        async def handler(request: web.Request) -> web.Response:
            arrivals.append(time.perf_counter())
            await request.read()
            return web.Response(body=b"", content_type="application/protobuf")

        async def main() -> None:
            app = web.Application()
            app.router.add_post("/twirp/livekit.SIP/TransferSIPParticipant", handler)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port_box.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
            stop = asyncio.Event()
            stop_box.append((asyncio.get_running_loop(), stop))
            ready.set()
            await stop.wait()
            await runner.cleanup()

        asyncio.run(main())

    thread = threading.Thread(target=serve, name="twirp-stub", daemon=True)
    thread.start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port_box[0]}"

    async def client() -> tuple[list[float], list[float]]:
        import aiohttp

        fresh: list[float] = []
        warm: list[float] = []
        for i in range(requests):
            async with aiohttp.ClientSession() as session:
                lk = api.LiveKitAPI(url, "devkey", "secret" * 6, session=session)
                for target in (fresh, warm):
                    req = api.TransferSIPParticipantRequest(
                        room_name=f"call-{i}",
                        participant_identity="sip_+15550000000",
                        transfer_to="tel:+15105550101",
                        play_dialtone=False,
                        headers={"X-Routed-By": "menu-router"},
                    )
                    req.ringing_timeout.FromMilliseconds(10_000)
                    n = len(arrivals)
                    t0 = time.perf_counter()
                    await asyncio.wait_for(lk.sip.transfer_sip_participant(req), 20)
                    if len(arrivals) > n:
                        target.append((arrivals[n] - t0) * 1000)
        return fresh, warm

    try:
        fresh, warm = asyncio.run(client())
    finally:
        loop, stop = stop_box[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
    return {
        "fresh_session_ms": summary(fresh, 4),
        "warm_session_ms": summary(warm, 4),
    }


def prompt_lead_in_ms(threshold_rms: float = 200.0) -> float | None:
    """How far into the benchmark's greeting its first 20 ms above the caller's threshold lies.

    The caller times the first RTP packet above `threshold_rms`; a greeting that opens
    softly (a fricative) would add its own lead-in to the figure. The greeting is
    rendered as the router renders it (espeak-ng) and band-limited to 3.8 kHz, as the
    8 kHz leg to the caller does.
    """
    import numpy as np
    import yaml

    from bench.common import MENUS
    from router.runtime.prompts import EspeakSynthesizer

    text = yaml.safe_load(MENUS.read_text())["menus"]["main"]["greeting"]
    pcm, rate = EspeakSynthesizer().speak_sync(text)
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    spectrum = np.fft.rfft(samples)
    spectrum[np.fft.rfftfreq(len(samples), 1 / rate) > 3800] = 0
    band = np.fft.irfft(spectrum, len(samples))
    window = int(rate * 0.02)
    for start in range(0, len(band) - window, window):
        if float(np.sqrt(np.mean(band[start : start + window] ** 2))) > threshold_rms:
            return round(start / rate * 1000, 1)
    return None


def breakdown(presses: list[dict[str, Any]], traces: list[Any]) -> dict[str, Any]:
    """Split each press's key-to-REFER with the router's own timestamps (same clock).

    A trace belongs to the press whose [sent, REFER] window holds its callback time.
    """
    to_router: list[float] = []
    inside: list[float] = []
    after: list[float] = []
    timed = [t for t in traces if t.key_at is not None and t.request_at is not None]
    matched = 0
    for p in presses:
        hits = [t for t in timed if p["sent"] <= t.key_at <= p["refer"]]
        if len(hits) != 1:
            continue
        t = hits[0]
        matched += 1
        to_router.append((t.key_at - p["sent"]) * 1000)
        inside.append((t.request_at - t.key_at) * 1000)
        after.append((p["refer"] - t.request_at) * 1000)
    return {
        "matched": matched,
        "key_to_router_callback_ms": summary(to_router),
        "router_callback_to_request_ms": summary(inside, 4),
        "request_to_refer_at_caller_ms": summary(after),
    }
