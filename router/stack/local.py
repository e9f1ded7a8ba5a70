"""A local LiveKit telephony stack on 127.0.0.1: Redis, livekit-server, the SIP stand-in.

    from router.stack.local import LocalStack

    with LocalStack() as stack:            # free ports, a private temp dir
        stack.provision("menu-router", ["+15550100"])
        ...                                # call sip:+15550100@{stack.sip_host}:{stack.sip_port}

`LocalStack(fixed_ports=True)` uses the well-known ports instead (livekit-server on 7880,
SIP on 5060) for the interactive stack: ``python -m router.stack.local``.

Every process runs in its own process group; `stop()` ends those groups and nothing else,
also on Ctrl-C (the context manager) and at interpreter exit.

This module is the parts' lifecycle (started in order and healthy, stopped, one part
stopped and started again as in an outage); what each part is told is `configs.py`'s,
its processes `processes.py`'s, free ports `ports.py`'s, the trunk and dispatch rule
`provision.py`'s.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from router.core import errors
from router.stack.configs import StackKeys, livekit_config, redis_command, sip_config
from router.stack.install import InstallError, StackBinaries, ensure_stack
from router.stack.ports import HOST, free_port, free_port_both, free_udp_range, port_free
from router.stack.processes import Process, http_ok, spawn, terminate_group, wait_healthy
from router.stack.provision import Provisioned, provision, run_sync

__all__ = [
    "DEFAULT_API_KEY",
    "FIXED_LIVEKIT_PORT",
    "FIXED_RTC_PORTS",
    "FIXED_RTP_PORTS",
    "FIXED_SIP_PORT",
    "HOST",
    "LocalStack",
    "Provisioned",
    "SipBridge",
    "StackError",
    "free_port",
    "free_port_both",
    "free_udp_range",
    "main",
]

DEFAULT_API_KEY = "devkey"
FIXED_LIVEKIT_PORT = 7880
FIXED_RTC_PORTS = (50000, 50100)
FIXED_SIP_PORT = 5060
FIXED_RTP_PORTS = (10000, 10100)


StackError = errors.StackError
"""A part of the stack did not start; the message names it and ends with its log tail."""


_live_stacks: set[LocalStack] = set()
_live_lock = threading.Lock()


@atexit.register
def _stop_all_at_exit() -> None:
    with _live_lock:
        stacks = list(_live_stacks)
    for s in stacks:
        s.stop()


@dataclass(frozen=True)
class SipBridge:
    """One more SIP stand-in of a `LocalStack` (`LocalStack.add_sip_bridge`)."""

    name: str
    host: str
    port: int
    rtp_ports: tuple[int, int]

    def sip_uri(self, number: str) -> str:
        """The SIP URI that reaches `number` through this bridge."""
        return f"sip:{number}@{self.host}:{self.port}"


class LocalStack:
    """Redis + livekit-server v1.13.5 + the SIP stand-in, all on 127.0.0.1.

    Ports are chosen free at `start()` unless ``fixed_ports=True`` (livekit-server 7880 and
    RTC UDP 50000-50100, SIP 5060, RTP 10000-10100; Redis and the health port stay free
    ports). Everything listens on 127.0.0.1 only (ICE over TCP is off, since livekit-server
    would bind its TCP port on every interface). The attributes are valid after `start()`.
    """

    def __init__(
        self,
        *,
        fixed_ports: bool = False,
        api_key: str = DEFAULT_API_KEY,
        api_secret: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        binaries: StackBinaries | None = None,
        log_level: str = "info",
        startup_timeout_s: float = 60.0,
        quiet: bool = False,
    ) -> None:
        self.fixed_ports = fixed_ports
        self.api_key = api_key
        self.api_secret = api_secret or secrets.token_urlsafe(32)
        self.log_level = log_level
        self.startup_timeout_s = startup_timeout_s
        self.quiet = quiet
        self._binaries = binaries
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self._own_workdir = False
        self.workdir: Path | None = None
        self._procs: list[Process] = []
        self._lock = threading.Lock()
        self.started = False

        self.livekit_port = 0
        self.rtc_ports = (0, 0)
        self.redis_port = 0
        self.sip_host = HOST
        self.sip_port = 0
        self.sip_health_port = 0
        self.rtp_ports = (0, 0)

    # -- addresses --

    @property
    def url(self) -> str:
        """WebSocket URL for rtc clients (``ws://127.0.0.1:PORT``)."""
        return f"ws://{HOST}:{self.livekit_port}"

    @property
    def http_url(self) -> str:
        """HTTP URL for the server API (``http://127.0.0.1:PORT``)."""
        return f"http://{HOST}:{self.livekit_port}"

    @property
    def redis_address(self) -> str:
        return f"{HOST}:{self.redis_port}"

    def sip_uri(self, number: str) -> str:
        """The SIP URI that reaches `number` through the stand-in."""
        return f"sip:{number}@{self.sip_host}:{self.sip_port}"

    @property
    def log_paths(self) -> dict[str, Path]:
        """Log file of each part: ``redis``, ``livekit``, ``sip``."""
        assert self.workdir is not None, "stack not started"
        return {n: self.workdir / f"{n}.log" for n in ("redis", "livekit", "sip")}

    @property
    def env(self) -> dict[str, str]:
        """LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET for workers and the CLI."""
        return {
            "LIVEKIT_URL": self.url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
        }

    @property
    def _keys(self) -> StackKeys:
        return StackKeys(self.api_key, self.api_secret, self.redis_address, self.log_level)

    # -- lifecycle --

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Self:
        """Start Redis, livekit-server and the stand-in; wait until each is healthy."""
        if self.started:
            return self
        try:
            binaries = self._binaries = self._binaries or ensure_stack(quiet=self.quiet)
        except InstallError as e:
            raise StackError(f"the stack is not installed: {e}") from e
        if self._workdir_arg is not None:
            self.workdir = self._workdir_arg
            self.workdir.mkdir(parents=True, exist_ok=True)
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix="lk-stack-"))
            self._own_workdir = True
        with _live_lock:
            _live_stacks.add(self)
        self.started = True
        attempts = 1 if self.fixed_ports else 3
        for attempt in range(attempts):
            try:
                self._choose_ports()
                self._start_redis(binaries)
                self._start_livekit(binaries)
                self._start_sip(binaries)
                return self
            except StackError as e:
                self.stop()
                # free ports are picked before the processes bind them: retry on a race
                if attempt + 1 < attempts and "in use" in str(e).lower():
                    with _live_lock:
                        _live_stacks.add(self)
                    self.started = True
                    continue
                raise
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Terminate every process this stack started (process groups), newest first."""
        with self._lock:
            procs, self._procs = self._procs, []
        for p in reversed(procs):
            terminate_group(p.popen)
        with _live_lock:
            _live_stacks.discard(self)
        self.started = False

    def stop_part(self, name: str, *, crash: bool = False) -> None:
        """Stop one part ("redis", "livekit" or "sip") while the rest runs, as in an outage;
        `crash` kills it outright instead of letting it shut down (Redis then loses what it
        held: a stop saves it, and `start_part` reads it back)."""
        with self._lock:
            proc = next(p for p in self._procs if p.name == name)
            self._procs.remove(proc)
        if crash:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
        terminate_group(proc.popen)

    def start_part(self, name: str) -> None:
        """Start a stopped part again, on the same ports with the same configuration."""
        assert self._binaries is not None, "start() first"
        start = {"redis": self._start_redis, "livekit": self._start_livekit, "sip": self._start_sip}
        start[name](self._binaries)

    def remove_workdir(self) -> None:
        """Delete the temp dir with configs and logs (only one this stack created)."""
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- internals --

    def _choose_ports(self) -> None:
        if self.fixed_ports:
            self.livekit_port = FIXED_LIVEKIT_PORT
            self.rtc_ports = FIXED_RTC_PORTS
            self.sip_port = FIXED_SIP_PORT
            self.rtp_ports = FIXED_RTP_PORTS
            busy = [p for p in (self.livekit_port,) if not port_free(p, socket.SOCK_STREAM)]
            if not port_free(self.sip_port, socket.SOCK_DGRAM):
                busy.append(self.sip_port)
            if busy:
                raise StackError(
                    f"port(s) {', '.join(map(str, busy))} on 127.0.0.1 are in use: is another "
                    "local stack running? (LocalStack() without fixed_ports picks free ports)"
                )
        else:
            self.livekit_port = free_port()
            # both ranges below Linux's ephemeral ports (32768+), which other sockets take
            self.rtc_ports = free_udp_range(60, lo=20000, hi=32000)
            self.sip_port = free_port(socket.SOCK_DGRAM)
            self.rtp_ports = free_udp_range(20, lo=12000, hi=19500)
        self.redis_port = free_port()
        self.sip_health_port = free_port()

    def _spawn(self, name: str, cmd: Sequence[str], log: Path) -> Process:
        proc = spawn(name, cmd, log, self.workdir)
        with self._lock:
            self._procs.append(proc)
        return proc

    def _start_redis(self, b: StackBinaries) -> None:
        assert self.workdir is not None
        data = self.workdir / "redis"
        data.mkdir(exist_ok=True)
        cmd = redis_command(b.redis_server, self.redis_port, data)
        proc = self._spawn("redis", cmd, self.log_paths["redis"])

        def ping() -> bool:
            with socket.create_connection((HOST, self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")

        wait_healthy(proc, f"Redis (port {self.redis_port})", ping, min(self.startup_timeout_s, 20))

    def _start_livekit(self, b: StackBinaries) -> None:
        assert self.workdir is not None
        conf = self.workdir / "livekit.yaml"
        conf.write_text(livekit_config(self._keys, self.livekit_port, self.rtc_ports))
        proc = self._spawn(
            "livekit", [str(b.livekit_server), "--config", str(conf)], self.log_paths["livekit"]
        )
        wait_healthy(
            proc,
            f"livekit-server (port {self.livekit_port})",
            lambda: http_ok(HOST, self.livekit_port),
            self.startup_timeout_s,
        )

    def _start_sip(self, b: StackBinaries) -> None:
        self._start_sip_bridge(b, "sip", self.sip_port, self.sip_health_port, self.rtp_ports, {})

    def add_sip_bridge(self, name: str, **settings: str) -> SipBridge:
        """Start one more SIP stand-in beside the stack's, on ports of its own, with extra
        settings of its config file (e.g. ``standin_transfer_errors="v1.0.0"`` to answer
        transfers as livekit-sip v1.0.0 does). It shares Redis and livekit-server, so the
        same trunks and dispatch rules serve it; its log is ``<name>.log``; `stop()` ends it."""
        assert self._binaries is not None and self.workdir is not None, "start() first"
        bridge = SipBridge(
            name, HOST, free_port(socket.SOCK_DGRAM), free_udp_range(20, lo=12000, hi=19500)
        )
        self._start_sip_bridge(
            self._binaries, name, bridge.port, free_port(), bridge.rtp_ports, settings
        )
        return bridge

    def _start_sip_bridge(
        self,
        b: StackBinaries,
        name: str,
        sip_port: int,
        health_port: int,
        rtp_ports: tuple[int, int],
        settings: dict[str, str],
    ) -> None:
        assert self.workdir is not None
        conf = self.workdir / f"{name}.yaml"
        conf.write_text(
            sip_config(self._keys, self.url, sip_port, health_port, rtp_ports, settings)
        )
        proc = self._spawn(
            name, [str(b.sip_standin), "--config", str(conf)], self.workdir / f"{name}.log"
        )
        wait_healthy(
            proc,
            f"the SIP stand-in {name!r} (udp {sip_port})",
            lambda: http_ok(HOST, health_port),
            self.startup_timeout_s,
        )

    # -- API helpers --

    def api(self) -> Any:
        """A `livekit.api.LiveKitAPI` for this stack (use ``async with``; needs a running loop)."""
        from livekit import api

        return api.LiveKitAPI(url=self.http_url, api_key=self.api_key, api_secret=self.api_secret)

    def token(
        self,
        identity: str,
        room: str,
        *,
        name: str | None = None,
        kind: str | None = None,
        attributes: dict[str, str] | None = None,
        agent: bool = False,
    ) -> str:
        """An access token to join `room` (``kind="sip"`` makes a fake SIP participant)."""
        from livekit import api

        t = (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(name or identity)
            .with_grants(
                api.VideoGrants(
                    room_join=True, room=room, can_update_own_metadata=True, agent=agent
                )
            )
        )
        if kind:
            t = t.with_kind(kind)  # type: ignore[arg-type]
        if attributes:
            t = t.with_attributes(attributes)
        return t.to_jwt()

    async def aprovision(self, agent_name: str, numbers: Sequence[str]) -> Provisioned:
        """Create an inbound trunk for `numbers` (no auth, from 127.0.0.1) and a dispatch rule
        (a room per call, prefix ``call-``) that dispatches the agent `agent_name`."""
        async with self.api() as lk:
            return await provision(lk, agent_name, numbers)

    def provision(self, agent_name: str, numbers: Sequence[str]) -> Provisioned:
        """Sync `aprovision` (safe to call even while an event loop runs in this thread)."""
        return run_sync(lambda: self.aprovision(agent_name, numbers))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m router.stack.local",
        description="Run Redis, livekit-server and the SIP stand-in on 127.0.0.1 until Ctrl-C.",
    )
    parser.add_argument(
        "--free-ports",
        action="store_true",
        help="pick free ports instead of 7880 (LiveKit) and 5060 (SIP)",
    )
    parser.add_argument(
        "--agent", help="provision an inbound trunk + dispatch rule for this agent name"
    )
    parser.add_argument(
        "--number",
        action="append",
        default=[],
        help="phone number for the trunk (repeatable; default +15550100)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    stack = LocalStack(fixed_ports=not args.free_ports, log_level=args.log_level, quiet=False)
    try:
        with stack:
            print(f"LiveKit:     {stack.url}  (API {stack.http_url})")
            print(f"API key:     {stack.api_key}")
            print(f"API secret:  {stack.api_secret}")
            print(f"SIP:         udp {stack.sip_host}:{stack.sip_port}")
            print(f"Redis:       {stack.redis_address}")
            for name, path in stack.log_paths.items():
                print(f"log {name + ':':8} {path}")
            if args.agent:
                numbers = args.number or ["+15550100"]
                p = stack.provision(args.agent, numbers)
                print(
                    f"provisioned: trunk {p.trunk_id}, rule {p.dispatch_rule_id}, "
                    f"agent {args.agent!r}"
                )
                for n in numbers:
                    print(f"  call {stack.sip_uri(n)}")
            print("export " + " ".join(f"{k}={v}" for k, v in stack.env.items()))
            print("Ctrl-C to stop.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping.", file=sys.stderr)
        return 0
    except StackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
