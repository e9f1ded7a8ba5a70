"""compose.yaml: its shape, its agreement with the local stack, and its provisioning script.

Docker Compose cannot run here (no Docker engine, no compose plugin), so this checks
what can be checked without it: the file is YAML with the expected services, the
images are the versions the local stack runs (and livekit-sip's real image), the
LiveKit and SIP settings match router/stack/local.py's fixed ports and key, the
router gets its menu file where the image expects it. That the one-shot `provision`
script really provisions, against the local stack's livekit-server, is an e2e test
(tests/e2e/test_compose_provision.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped,unused-ignore]

from router.stack import local
from router.stack.install import SERVER_VERSION

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


def _config(service: str, variable: str) -> dict[str, Any]:
    """A service's inline YAML configuration, with the secret's placeholder filled in."""
    body = SERVICES[service]["environment"][variable].replace("${LIVEKIT_API_SECRET}", "s3cr3t")
    parsed: dict[str, Any] = yaml.safe_load(body)
    return parsed


def test_the_stack_has_its_four_services_and_a_setup_step() -> None:
    assert set(SERVICES) == {"redis", "livekit", "sip", "router", "provision"}
    assert SERVICES["livekit"]["image"] == f"livekit/livekit-server:{SERVER_VERSION}"
    assert SERVICES["sip"]["image"] == "livekit/sip:v1.11.0"
    assert SERVICES["provision"]["profiles"] == ["setup"]
    for name, service in SERVICES.items():
        assert service["network_mode"] == "host", name
        for dependency in service.get("depends_on", []):
            assert dependency in SERVICES


def test_livekit_and_sip_settings_match_the_local_stack() -> None:
    livekit = _config("livekit", "LIVEKIT_CONFIG")
    assert livekit["port"] == local.FIXED_LIVEKIT_PORT
    assert livekit["bind_addresses"] == [local.HOST]
    assert livekit["keys"] == {local.DEFAULT_API_KEY: "s3cr3t"}
    rtc = livekit["rtc"]
    assert (rtc["port_range_start"], rtc["port_range_end"]) == local.FIXED_RTC_PORTS
    assert rtc["tcp_port"] == 0 and rtc["node_ip"] == local.HOST and not rtc["use_external_ip"]
    redis = SERVICES["redis"]["command"]
    assert livekit["redis"]["address"] == f"{local.HOST}:{redis[redis.index('--port') + 1]}"

    sip = _config("sip", "SIP_CONFIG_BODY")
    assert (sip["api_key"], sip["api_secret"]) == (local.DEFAULT_API_KEY, "s3cr3t")
    assert sip["ws_url"] == f"ws://{local.HOST}:{local.FIXED_LIVEKIT_PORT}"
    assert sip["redis"] == livekit["redis"]
    assert sip["sip_port"] == local.FIXED_SIP_PORT
    assert sip["rtp_port"] == "{}-{}".format(*local.FIXED_RTP_PORTS)
    assert sip["listen_ip"] == sip["nat_1_to_1_ip"] == local.HOST
    assert sip["use_external_ip"] is False


def test_the_router_service_matches_the_image() -> None:
    router = SERVICES["router"]
    dockerfile = (ROOT / router["build"]["context"] / "Dockerfile").read_text()
    assert "ENV" in dockerfile and "ROUTER_MENUS=/etc/router/menus.yaml" in dockerfile
    assert router["environment"]["ROUTER_MENUS"] == "/etc/router/menus.yaml"
    assert "./menus.yaml:/etc/router/menus.yaml:ro" in router["volumes"]
    assert router["command"] == ["start"] and router["init"] is True
    assert router["environment"]["LIVEKIT_URL"] == f"ws://{local.HOST}:{local.FIXED_LIVEKIT_PORT}"
    assert router["environment"]["LIVEKIT_API_KEY"] == local.DEFAULT_API_KEY
    # the secret comes from the environment, never from the file
    assert re.fullmatch(
        r"\$\{LIVEKIT_API_SECRET:\?[^}]+\}", router["environment"]["LIVEKIT_API_SECRET"]
    )
    assert router["build"]["args"]["BASE_IMAGE"] == "python:3.11-slim"
    # Docker waits longer than the router drains, so the router hangs up what is left itself
    grace = router["stop_grace_period"]
    assert (
        grace.endswith("s")
        and int(grace[:-1]) >= int(router["environment"]["ROUTER_DRAIN_TIMEOUT"]) + 15
    )


def test_the_provision_script_is_python() -> None:
    ast.parse(SERVICES["provision"]["command"][0])
