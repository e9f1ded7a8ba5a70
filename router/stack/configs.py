"""What each part of the local stack is told: Redis's command line, livekit-server's
config file, a SIP stand-in's config file; every part on 127.0.0.1 only.

Pure text from the stack's ports and keys (`router.stack.local.LocalStack` writes the
files and starts the parts). The keys are those of livekit-server's `config-sample.yaml`
and of the stand-in's `config.go` (router/stack/sipstandin/).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from router.stack.ports import HOST

__all__ = ["StackKeys", "livekit_config", "redis_command", "sip_config"]


@dataclass(frozen=True, slots=True)
class StackKeys:
    """What every part that speaks to livekit-server shares."""

    api_key: str
    api_secret: str
    redis_address: str
    """``127.0.0.1:PORT``."""
    log_level: str


def redis_command(redis_server: Path, port: int, data_dir: Path) -> list[str]:
    """Redis's command line: loopback, its data in `data_dir`, in the foreground."""
    return [
        str(redis_server),
        "--bind",
        HOST,
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        # one save point, never reached in a test's time, so that a stop (SIGTERM) writes
        # the data and `start_part("redis")` reads it back: trunks, dispatch rules and
        # rooms outlive a restart as they do with a deployed Redis (found by the soak)
        "--save",
        "3600 1",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]


def livekit_config(keys: StackKeys, port: int, rtc_ports: tuple[int, int]) -> str:
    """livekit-server's YAML: signalling on `port`, media on the UDP `rtc_ports` range."""
    return "\n".join(
        [
            f"port: {port}",
            "bind_addresses: [127.0.0.1]",
            "keys:",
            f"  {keys.api_key}: {keys.api_secret}",
            "redis:",
            f"  address: {keys.redis_address}",
            "rtc:",
            # no ICE over TCP: its listener would bind every interface
            "  tcp_port: 0",
            f"  port_range_start: {rtc_ports[0]}",
            f"  port_range_end: {rtc_ports[1]}",
            "  node_ip: 127.0.0.1",
            "  use_external_ip: false",
            "  enable_loopback_candidate: true",
            "  stun_servers: [127.0.0.1:3478]",
            "  interfaces:",
            "    includes: [lo]",
            "  ips:",
            "    includes: [127.0.0.0/8]",
            "logging:",
            f"  level: {keys.log_level}",
            "",
        ]
    )


def sip_config(
    keys: StackKeys,
    ws_url: str,
    sip_port: int,
    health_port: int,
    rtp_ports: tuple[int, int],
    settings: Mapping[str, str],
) -> str:
    """A SIP stand-in's YAML: SIP on UDP `sip_port`, RTP on `rtp_ports`, its health page
    on `health_port`; `settings` are extra keys of its own (JSON-quoted values)."""
    return "\n".join(
        [
            f"api_key: {keys.api_key}",
            f"api_secret: {keys.api_secret}",
            f"ws_url: {ws_url}",
            "redis:",
            f"  address: {keys.redis_address}",
            f"sip_port: {sip_port}",
            "listen_ip: 127.0.0.1",
            "nat_1_to_1_ip: 127.0.0.1",
            "use_external_ip: false",
            f"rtp_port: {rtp_ports[0]}-{rtp_ports[1]}",
            f"health_port: {health_port}",
            "logging:",
            f"  level: {keys.log_level}",
            *(f"{key}: {json.dumps(value)}" for key, value in settings.items()),
            "",
        ]
    )
