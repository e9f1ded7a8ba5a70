"""The router as a LiveKit agent worker: `router start`, `router dev`, `router connect`.

How calls map to threads and processes (see docs/runtime.md): by default one worker
process holds many calls, each in a thread of livekit-agents' THREAD executor with
its own event loop and its own `rtc.Room`. A waiting call still costs CPU in the rtc
library (its prompt track's encoder and capture timer), so a process holds a bounded
number of calls (`--max-calls`), reported to LiveKit through the load function
(scaled to the server's `agents.target_load`, see `reported_load`); more capacity
comes from more processes (on one machine or many) registered under the same agent
name: LiveKit's dispatch spreads calls across them.
`--executor process` gives the stock one-process-per-call shape, for comparison.

Configuration reaches job threads and job processes through `ROUTER_*` environment
variables, so both executors see the same settings. The worker's end (the drain on a
signal, the recycling after N calls) is `router.runtime.stopping`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp
from livekit import api, rtc
from livekit.rtc.participant import PublishTrackError

from router.core.errors import ConfigError, MenuFileError
from router.core.voices import SpeechEngine
from router.runtime import collector, fanout, memdebug, procpool, rtclogs, tracing
from router.runtime.call import CallSession, SessionOptions
from router.runtime.call.keys import EARLY_KEYS_HELD
from router.runtime.config import WorkerConfig, agent_name
from router.runtime.config import add_arguments as add_settings
from router.runtime.exiting import exit_now
from router.runtime.jobend import serve_whole
from router.runtime.menustore import MenuStore
from router.runtime.metrics import METRICS
from router.runtime.prompts import PromptCache, voice_from_spec
from router.runtime.records import RecordSink, mask_digits
from router.runtime.stopping import CALLS_TAKEN, drain, recycle_after
from router.runtime.transfer import SipTransferrer, Transferrer, call_api
from router.settings import diagnostic, hosted_by_livekit
from router.trial.caller import is_trial_caller

__all__ = ["ProcessState", "WorkerConfig", "add_arguments", "agent_name", "reported_load", "run"]

log = logging.getLogger("router.worker")

TRACE_SETUP = diagnostic("ROUTER_TRACE_SETUP")
"""`ROUTER_TRACE_SETUP=1`: one log line per call with the wall-clock times of its set-up
steps (job request received, accepted, assigned, entrypoint, joined, published) and the
job thread's CPU from entrypoint to published (`cpu_ms`), read by bench/setup_cost.py;
the job id names the call (no room name, no number)."""

LOOP_MONITOR_ENV = "LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS"
"""livekit-agents' blocked-loop warning threshold; 0 turns its per-job loop monitor off."""


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    add_settings(parser, command)
    if command == "connect":
        parser.add_argument("--room", required=True, help="room to join")


class ProcessState:
    """What every call in one process shares: the menu store, prompt cache and record sink.

    Created once per process (job threads share it; a job process makes its own).
    """

    _lock = threading.Lock()
    _instance: ProcessState | None = None

    def __init__(self) -> None:
        self.config = WorkerConfig.from_env()  # what `export()` wrote, in every process
        self.cache = PromptCache(
            voice_from_spec(self.config.voice), store=self.config.prompt_cache or None
        )
        self.store = MenuStore(
            str(self.config.menus), self.cache, SpeechEngine.of(self.config.voice)
        )
        records = self.config.records
        self.sink = RecordSink(self.config.record_path) if records else None
        if self.sink is not None:
            self.sink.check()
        self.mask_caller = self.config.mask_caller
        self.store.load()
        self.store.watch()
        tracing.setup()  # each process exports its own calls' spans (job processes too)

    @classmethod
    def get(cls) -> ProcessState:
        with cls._lock:
            if cls._instance is None:
                cls._instance = ProcessState()
            return cls._instance

    @classmethod
    async def for_call(cls) -> ProcessState:
        """The state, from a call's event loop: the thread executor's calls find the one
        `run` made before registering; a job process makes its own off its loop (loading
        and rendering take seconds). A thread hop per call would cost each call a wait
        for the interpreter lock twice while the process's calls are being set up."""
        made = cls._instance
        return made if made is not None else await asyncio.to_thread(cls.get)


JOIN_SETTLE_S = 30.0
"""How long a cancelled job waits for its room connection to finish (seconds): longer
than the rtc library's own connection attempts, so the handshake always ends first."""


async def join_whole(
    connect: Awaitable[None],
    leave: Callable[[], Awaitable[None]],
    *,
    settle_s: float = JOIN_SETTLE_S,
) -> None:
    """Join a room (`connect`, e.g. `JobContext.connect(...)`) without ever abandoning
    the join half-way.

    The rtc library's `Room.connect` sends `ReadyForRoomEventRequest` as the last step of
    its body; cancelled before that (livekit-agents cancels an entrypoint 15 s after a
    job is told to stop: ipc/job_proc_lazy_main.py `_shutdown_job`), the FFI waits 15 s,
    panics, and `_ffi_client.py` answers every panic with SIGTERM to the whole process:
    every call of the process is lost (livekit/python-sdks#784, rust-sdks#1261; found by
    the soak while livekit-server restarted). So the join runs as its own task: a
    cancellation lets it finish (up to `settle_s`), leaves the room if it got in, and
    then goes on as a cancellation.

    Raises what `connect` raises (`rtc.ConnectError`), or `CancelledError`.
    """
    joining = asyncio.ensure_future(connect)
    try:
        await asyncio.shield(joining)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(joining), settle_s)
            await leave()  # in after all: the job is ending, so out again
        raise


async def serve_call(ctx: object) -> None:
    """The job entrypoint: one call in one room."""
    from livekit.agents import AutoSubscribe, JobContext
    from livekit.agents.utils import http_context

    assert isinstance(ctx, JobContext)
    CALLS_TAKEN.add()
    entered, entered_cpu = time.time(), time.thread_time()
    state = await ProcessState.for_call()
    menu_file = state.store.current  # the call keeps this version to its end
    try:
        await join_whole(
            ctx.connect(auto_subscribe=AutoSubscribe.SUBSCRIBE_NONE),
            lambda: ctx.room.disconnect(),  # looked up when needed: the room of the join
        )
    except rtc.ConnectError as exc:
        # the server took the job but would not let us in (livekit-server answers 500
        # while its Redis is down; the SDK has already retried): no call was served, the
        # bridge answers a caller only once we are in, so there is nothing to record
        _refused(ctx, state.mask_caller, "join the room", exc)
        return
    # this call's loop wakes for its own room's events only; its keys stamped on arrival
    key_arrivals: deque[float] = deque(maxlen=EARLY_KEYS_HELD)
    fanout.narrow(ctx.room, key_arrivals=key_arrivals)
    joined = time.time()
    # ctx.api with livekit-api's failover off: a transfer must never be sent twice
    lkapi = call_api(http_context.http_session())
    trial = state.config.trial_callers
    reporter = None
    if trial:  # started for trying: browser callers, and the call's state out to the room
        from router.trial.reporter import CallReporter

        reporter = CallReporter(ctx.room, menu_file)
    session = CallSession(
        ctx.room,
        menu_file,
        state.cache,
        lkapi,
        sink=state.sink,
        # a job LiveKit dispatched (not `router connect`): its caller created the room
        options=SessionOptions(
            mask_caller=state.mask_caller,
            dispatched=bool(ctx.job.dispatch_id),
            trial_callers=trial,
        ),
        observer=reporter,
        transferrer_for=_transferrers(ctx.room, lkapi) if trial else None,
        key_arrivals=key_arrivals,
    )
    try:
        await session.publish()
    except PublishTrackError as exc:
        # the server did not answer the publication (it is going away): as for a join
        _refused(ctx, state.mask_caller, "publish the menu's audio in the room", exc)
        return
    if TRACE_SETUP:
        cpu_ms = (time.thread_time() - entered_cpu) * 1000
        _trace_setup(ctx, entered=entered, joined=joined, published=time.time(), cpu_ms=cpu_ms)
    thread = state.config.executor == "thread"
    try:
        # LiveKit may end the job of a call that goes on (an earlier session of ours in
        # the room removed): the call is served to its end unless the router is stopping
        await serve_whole(
            session.run(),
            keep=lambda: thread and not session.over and ctx.room.isconnected(),
            label=session.label,
        )
    finally:
        if reporter is not None:
            await reporter.aclose()
        ctx.shutdown("call ended")


def _trace_setup(ctx: object, **steps: float) -> None:
    """The `ROUTER_TRACE_SETUP` line: `set-up of job AJ_x: {"received": 1764500000.123, ..}`
    (seconds, wall clock; livekit-agents' `RunningJobInfo` times, then the entrypoint's;
    `cpu_ms`, the job thread's CPU in milliseconds)."""
    from livekit.agents import JobContext

    assert isinstance(ctx, JobContext)
    info = ctx._info  # livekit-agents keeps the request's times only there
    times = {
        "received": info.received_at,
        "accepted": info.accepted_at,
        "assigned": info.assigned_at,
        **steps,
    }
    log.info("set-up of job %s: %s", ctx.job.id, json.dumps(times))


def _refused(ctx: object, mask_caller: bool, what: str, exc: Exception) -> None:
    """A call LiveKit would not let the router serve (found by the soak, docs/reliability.md):
    one log line, its caller's number masked, and the job ends. Before the router is in
    with its audio the bridge has not answered the caller: there is no call to record."""
    from livekit.agents import JobContext

    assert isinstance(ctx, JobContext)
    room = ctx.job.room.name
    log.error(
        "could not %s of a call (%s); LiveKit answered: %s",
        what,
        mask_digits(room) if mask_caller else room,
        exc,
    )
    ctx.shutdown(f"could not {what}")


def _transferrers(
    room: rtc.Room, lkapi: api.LiveKitAPI
) -> Callable[[rtc.Participant], Transferrer]:
    """A SIP caller is REFERred through LiveKit; a browser caller's page answers itself."""

    def choose(caller: rtc.Participant) -> Transferrer:
        if is_trial_caller(caller.kind, caller.attributes):
            from router.trial.transfer import PageTransferrer

            return PageTransferrer(room)
        return SipTransferrer(lkapi, room.name)

    return choose


def reported_load(active: int, max_calls: int, target_load: float) -> float:
    """The load to report with `active` calls, so that dispatch stops exactly at the cap.

    livekit-server sends a job only to a worker whose load is below its
    `agents.target_load` (0.7 by default), not below 1: a plain `active / max_calls`
    would stop new calls at 70 % of `--max-calls`. Below the cap the load climbs to
    just under the target; at the cap it is 1.0, full whatever the server's target.
    """
    if active >= max_calls:
        return 1.0
    return target_load * active / max_calls


def _setup_job_process(_proc: object) -> None:
    """livekit-agents' `setup_fnc` for the process executor, run in each job process
    before its job: a job process starts its own rtc library, whose log records stay
    there too. Module-level: a job process gets it pickled. Not for the thread executor:
    livekit-agents runs it in every job thread (`ipc/job_thread_executor.py`), once per
    call, for the one library `run` has already set."""
    rtclogs.keep_native()


def _build_server(config: WorkerConfig) -> object:
    from livekit.agents import AgentServer, JobExecutorType

    procpool.install()  # jobs arriving together each get a runner (finding 29)
    executor = JobExecutorType.THREAD if config.executor == "thread" else JobExecutorType.PROCESS
    max_calls, target = config.max_calls, config.target_load

    def load(server: AgentServer) -> float:
        return reported_load(len(server.active_jobs), max_calls, target)

    server = AgentServer(
        job_executor_type=executor,
        setup_fnc=None if executor is JobExecutorType.THREAD else _setup_job_process,
        load_fnc=load,
        # the worker's own check (and its "full" status) agrees with the server's:
        # available below the cap, full at it
        load_threshold=target * (max_calls - 0.5) / max_calls,
        num_idle_processes=2 if executor is JobExecutorType.THREAD else 1,
        ws_url=config.url,
        api_key=config.api_key,
        api_secret=config.api_secret,
        port=config.health_port,
        host=config.health_host,
        initialize_process_timeout=60.0,
        shutdown_process_timeout=10.0,
    )
    server.rtc_session(serve_call, agent_name=config.agent_name)
    return server


def run(args: argparse.Namespace) -> int:
    config = WorkerConfig.from_args(args)
    if not config.menus.is_file():
        raise ConfigError(f"the menu file {config.menus} does not exist (see --menus)")
    config.export()
    memdebug.install()  # ROUTER_MEMORY_DUMP: a dump on SIGUSR1 (docs/runtime.md)
    # livekit-agents watches every job's event loop with a 20 ms heartbeat and a watchdog
    # thread: 100 wake-ups a second per call, each taking the GIL. A call's loop does next
    # to nothing, and with 50 calls in a process the watch cost as much as the calls
    # (docs/benchmarks.md). Off unless the operator sets it.
    os.environ.setdefault(LOOP_MONITOR_ENV, "0")
    # the rtc library's log records, thousands per call, each a Python callback otherwise:
    # its level now, before rendering starts the library; the records kept on its side
    # once the operator's input is checked (an error exit after its start may abort)
    rtclogs.native_level()
    try:
        state = ProcessState.get()  # load, check and render before registering
    except MenuFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise ConfigError(
            f"the menu file {config.menus} has errors; fix them and start again"
        ) from None
    rtclogs.keep_native()
    asyncio.run(check_credentials(config))
    METRICS.serve(config.metrics_port, config.metrics_host)
    log.info(
        "router: agent %r, menu version %s, up to %d calls per process (%s executor)",
        config.agent_name,
        state.store.current.version,
        config.max_calls,
        config.executor,
    )
    code = asyncio.run(_serve(config, getattr(args, "room", None)))
    exit_now(code)  # drained: the rtc library's teardown at exit may abort (exiting.py)


async def check_credentials(config: WorkerConfig, within: float = 5.0) -> None:
    """Ask LiveKit once before registering: a refused key or secret is a clear error now
    (unless LiveKit Cloud hosts the worker: `LIVEKIT_WORKER_TOKEN` set).

    livekit-agents would otherwise retry "failed to connect" for ever. A server that
    cannot be reached yet is only a warning: the worker keeps trying, as it should
    when the router starts before LiveKit does.
    """
    hosted = hosted_by_livekit()
    try:
        async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
            await asyncio.wait_for(lk.room.list_rooms(api.ListRoomsRequest()), within)
    except api.TwirpError as exc:
        refused = exc.status in (401, 403) or exc.code in ("unauthenticated", "permission_denied")
        if refused and hosted:
            # LiveKit Cloud's hosted agents register with the worker token it injects
            # (livekit-agents sends LIVEKIT_WORKER_TOKEN), and the key it injects beside it
            # need not list rooms: registration is the check that counts there
            log.info("hosted agent: LiveKit answered the credentials check with %s", exc.code)
            return
        if refused:
            raise ConfigError(
                f"LiveKit at {_safe_url(config.url)} refused the API key {config.api_key!r} "
                "or its secret; check LIVEKIT_API_KEY and LIVEKIT_API_SECRET"
            ) from None
        log.warning("LiveKit answered the credentials check with %s; going on", exc.code)
    except (TimeoutError, OSError, aiohttp.ClientError) as exc:
        log.warning(
            "cannot reach LiveKit at %s yet (%s); the worker keeps trying",
            _safe_url(config.url),
            type(exc).__name__,
        )


def _safe_url(url: str) -> str:
    """The URL without any user:password@ part, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


async def _serve(config: WorkerConfig, room: str | None) -> int:
    from livekit.agents import AgentServer

    server = _build_server(config)
    assert isinstance(server, AgentServer)
    collector.install(
        config.gc_interval_s
    )  # calls' rooms are freed by the cycle collector (issue 18)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)

    if room is not None:
        joining: set[asyncio.Task[None]] = set()

        @server.once("worker_started")
        def _join() -> None:
            task = loop.create_task(_connect_room(server, config, room))
            joining.add(task)
            task.add_done_callback(joining.discard)

    run_task = loop.create_task(server.run(devmode=config.dev))
    stop_task = loop.create_task(stop.wait())
    if config.recycle_after:
        recycling = loop.create_task(recycle_after(config.recycle_after, stop))
        run_task.add_done_callback(lambda _: recycling.cancel())
    done, _ = await asyncio.wait({run_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    if run_task in done:
        exc = run_task.exception()
        stop_task.cancel()
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"cannot serve the health check on {config.health_host}:{config.health_port}: "
                "address already in use (choose another --health-port, or 0 for a free one)"
            ) from exc
        if exc is not None:
            raise ConfigError(f"the worker stopped: {exc}") from exc
        return 0
    await drain(server, config.drain_timeout_s, stop)
    await server.aclose()
    return 0


async def _connect_room(server: object, config: WorkerConfig, room: str) -> None:
    from livekit.agents import AgentServer

    assert isinstance(server, AgentServer)
    async with api.LiveKitAPI(config.url, config.api_key, config.api_secret) as lk:
        rooms = await lk.room.list_rooms(api.ListRoomsRequest(names=[room]))
        info = (
            rooms.rooms[0]
            if rooms.rooms
            else await lk.room.create_room(api.CreateRoomRequest(name=room))
        )
    await server.simulate_job(
        room=room, fake_job=False, room_info=info, agent_identity=f"{config.agent_name}-{room}"
    )
