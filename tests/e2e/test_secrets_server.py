"""A LiveKit server that refuses the router's secret: the secret is never shown.

The server half of test_secrets.py (`router start` as an operator runs it), apart
because it needs livekit-server (the local stack's build, `make stack`).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.runtime.test_start_secrets import SECRET, _free_port, router_start


@pytest.fixture(scope="module")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """livekit-server v1.13.5 (the local stack's build) on loopback, with another secret."""
    from router.stack.install import ensure_stack

    binary = ensure_stack(quiet=True).livekit_server
    work = tmp_path_factory.mktemp("lk")
    port = _free_port()
    config = work / "livekit.yaml"
    config.write_text(
        f"port: {port}\nbind_addresses: [127.0.0.1]\n"
        f"keys:\n  APIkey: the-right-secret-{secrets.token_urlsafe(24)}\n"
        "rtc:\n  tcp_port: 0\n  port_range_start: 52000\n  port_range_end: 52010\n"
        "  node_ip: 127.0.0.1\n  use_external_ip: false\nlogging:\n  level: warn\n"
    )
    with open(work / "livekit.log", "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (work / "livekit.log").read_text()
                assert time.monotonic() < deadline, "livekit-server did not start"
                time.sleep(0.2)
        yield f"ws://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


@pytest.fixture(scope="module")
def refused(livekit_server: str) -> tuple[int, str, str]:
    """`router start` against the server with a secret it does not know, for up to 20 s."""
    return router_start(
        {"LIVEKIT_URL": livekit_server, "LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": SECRET},
        until="router start: ",
        timeout=20.0,
    )


def test_a_wrong_secret_is_never_shown(refused: tuple[int, str, str]) -> None:
    _, out, err = refused
    assert SECRET not in out + err
    assert "Traceback" not in err


def test_a_wrong_secret_stops_the_router_with_one_sentence(refused: tuple[int, str, str]) -> None:
    code, _, err = refused
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("router start: ") and "LIVEKIT_API_SECRET" in last
