"""`router start` with wrong or missing credentials: one sentence, never the secret.

Why: a router's stderr ends up in log collectors, CI output and bug reports. A
mistake in the credentials must produce one sentence naming the setting, never the
API secret and never a traceback.

`router start` runs as a real process here (`python -m router start`), the way an
operator starts it, so what is asserted is exactly what lands in their logs: a process
and the worker's connection attempts, hence the runtime tier (no server is started;
the unreachable one is a free port). Call records' masking: tests/hardening/test_secrets.py.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-" + secrets.token_urlsafe(32)
"""Long enough that PyJWT does not warn about it, unique enough to grep for."""
CREDENTIALS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def router_start(
    env: dict[str, str], *, until: str | None = None, timeout: float = 60.0
) -> tuple[int, str, str]:
    """Run `router start`; with `until`, stop it (SIGINT) once stderr shows that text."""
    base = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    base.update(env, PYTHONUNBUFFERED="1", ROUTER_METRICS_PORT="0")
    with subprocess.Popen(
        [sys.executable, "-m", "router", "start", "--menus", str(ROOT / "menus.yaml")],
        env=base,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        out: list[str] = []
        err: list[str] = []
        readers = [
            threading.Thread(target=lambda s=stream, b=buf: b.extend(s), daemon=True)
            for stream, buf in ((proc.stdout, out), (proc.stderr, err))
        ]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if until is not None and until in "".join(err):
                    # let a process that is exiting by itself finish (its exit code counts)
                    deadline = min(deadline, time.monotonic() + 3.0)
                    until = None
                time.sleep(0.1)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            for reader in readers:
                reader.join(10)
        return proc.returncode, "".join(out), "".join(err)


def one_sentence(err: str) -> str:
    """The whole of stderr, which must be one line: `router start: <sentence>`."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("router start: "), err
    assert "Traceback" not in err and "Error:" not in err.split(": ", 1)[1], err
    return lines[0]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"]),
        ({"LIVEKIT_URL": "wss://x.example.com", "LIVEKIT_API_SECRET": SECRET}, ["LIVEKIT_API_KEY"]),
        ({"LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": SECRET}, ["LIVEKIT_URL"]),
        (
            {"LIVEKIT_URL": "wss://x.example.com", "LIVEKIT_API_KEY": "APIkey"},
            ["LIVEKIT_API_SECRET"],
        ),
        (
            {"LIVEKIT_URL": "", "LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": SECRET},
            ["LIVEKIT_URL"],
        ),
    ],
)
def test_missing_settings_are_named_in_one_sentence(env: dict[str, str], named: list[str]) -> None:
    code, out, err = router_start(env)
    assert code == 1 and out == ""
    line = one_sentence(err)
    assert SECRET not in out + err
    for name in named:
        assert name in line
    for name in set(CREDENTIALS) - set(named):
        assert name not in line.split(";")[0]


@pytest.mark.parametrize(
    "url", ["ftp://livekit.example.com", "livekit.example.com", "ws//127.0.0.1:7880"]
)
def test_a_bad_url_is_one_sentence_without_the_secret(url: str) -> None:
    code, out, err = router_start(
        {"LIVEKIT_URL": url, "LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": SECRET}
    )
    assert code == 1
    line = one_sentence(err)
    assert "LIVEKIT_URL" in line
    assert SECRET not in out + err


@pytest.mark.parametrize("url", [SECRET, f"ftp://APIkey:{SECRET}@livekit.example.com"])
def test_a_secret_in_the_url_variable_is_not_echoed(url: str) -> None:
    code, out, err = router_start(
        {"LIVEKIT_URL": url, "LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": "other"}
    )
    assert code == 1
    assert SECRET not in out + err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_server_never_shows_the_secret() -> None:
    """Nothing listens there: the worker retries; its logs name no secret, hold no traceback."""
    code, out, err = router_start(
        {
            "LIVEKIT_URL": f"ws://127.0.0.1:{_free_port()}",
            "LIVEKIT_API_KEY": "APIkey",
            "LIVEKIT_API_SECRET": SECRET,
        },
        until="failed to connect",
    )
    assert "failed to connect" in err, err
    assert SECRET not in out + err
    assert "Traceback" not in err
    assert code == 0  # stopped by SIGINT, cleanly
