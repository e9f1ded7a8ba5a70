"""Starting the worker with missing or wrong settings: one clear sentence, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-value-that-must-not-leak-0123456789"
UNREACHABLE = {
    "LIVEKIT_URL": "ws://127.0.0.1:9",
    "LIVEKIT_API_KEY": "k",
    "LIVEKIT_API_SECRET": SECRET,
}
"""Complete credentials for a server that is not there: the router gets as far as it can."""


def router(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "ROUTER_"))}
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_missing_credentials_are_named() -> None:
    result = router("start", env={"LIVEKIT_URL": "ws://127.0.0.1:9"})
    assert result.returncode == 1
    assert "LIVEKIT_API_KEY, LIVEKIT_API_SECRET are not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_url_is_refused() -> None:
    result = router("start", env={**UNREACHABLE, "LIVEKIT_URL": "127.0.0.1:7880"})
    assert result.returncode == 1
    assert "LIVEKIT_URL must start with ws://" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_broken_menu_file_is_reported_with_locations(tmp_path: Path) -> None:
    menus = tmp_path / "menus.yaml"
    menus.write_text("version: 1\nmenus:\n  main:\n    greting: hi\n")
    result = router("start", "--menus", str(menus), env=UNREACHABLE)
    assert result.returncode == 1
    assert f"{menus}:4:5:" in result.stderr
    assert "has errors" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_missing_menu_file_is_one_sentence(tmp_path: Path) -> None:
    result = router("start", "--menus", str(tmp_path / "nope.yaml"), env=UNREACHABLE)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "does not exist" in result.stderr or "cannot" in result.stderr


def test_a_malformed_setting_in_the_environment_is_one_line_naming_the_option() -> None:
    result = router("start", env={**UNREACHABLE, "ROUTER_MAX_CALLS": "fifty"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "router start: error: argument --max-calls: invalid int value: 'fifty'"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--drain-timeout", "-5"), "--drain-timeout must be between 0 and 3600 seconds"),
        (("--recycle-after", "-1"), "--recycle-after must be a number of calls, 0 for never"),
        (("--gc-interval", "-1"), "--gc-interval must be between 0 and 3600 seconds"),
        (
            ("--recycle-after", "500", "--executor", "process"),
            "--recycle-after is for the thread executor (a job process ends with its call)",
        ),
    ],
)
def test_the_drain_time_and_the_recycling_are_checked(args: tuple[str, ...], sentence: str) -> None:
    result = router("start", *args, env=UNREACHABLE)
    assert result.returncode == 1
    assert result.stderr.strip() == f"router start: {sentence}"


def test_a_metrics_port_in_use_is_one_sentence() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = router("start", "--metrics-port", str(port), env=UNREACHABLE)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"router start: cannot serve metrics on 127.0.0.1:{port}: Address already in use "
        "(choose another --metrics-port, or 0 for none)"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        (None, {}, "menu-router"),
        (None, {"LIVEKIT_AGENT_NAME": "lk"}, "lk"),
        (None, {"LIVEKIT_AGENT_NAME": "lk", "ROUTER_AGENT_NAME": "ours"}, "ours"),
        ("flag", {"LIVEKIT_AGENT_NAME": "lk", "ROUTER_AGENT_NAME": "ours"}, "flag"),
        ("flag", {"LIVEKIT_AGENT_NAME_OVERRIDE": "platform"}, "platform"),
        (None, {"LIVEKIT_AGENT_NAME_OVERRIDE": "platform", "ROUTER_AGENT_NAME": "x"}, "platform"),
    ],
)
def test_the_agent_name_follows_livekit_agents_order(
    flag: str | None, env: dict[str, str], expected: str
) -> None:
    from router.runtime.worker import agent_name

    assert agent_name(flag, env) == expected


def test_the_health_server_is_on_livekit_agents_port_under_start_and_free_under_dev(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from router.runtime.worker import add_arguments

    monkeypatch.delenv("ROUTER_HEALTH_PORT", raising=False)
    for command, port in (("start", 8081), ("dev", 0)):
        parser = argparse.ArgumentParser()
        add_arguments(parser, command)
        args = parser.parse_args([])
        assert args.health_port == port and args.health_host == "127.0.0.1"
    monkeypatch.setenv("ROUTER_HEALTH_PORT", "9000")
    parser = argparse.ArgumentParser()
    add_arguments(parser, "start")
    assert parser.parse_args([]).health_port == 9000


async def test_a_refused_key_stops_the_start_unless_livekit_cloud_hosts_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hosted agent registers with the worker token LiveKit Cloud injects; the key beside
    it may not be allowed to list rooms. The Twirp API is recorded, at the HTTP boundary."""
    from router.core.errors import ConfigError
    from router.runtime.worker import WorkerConfig, check_credentials
    from tests.runtime.twirp_fake import FakeLiveKitAPI

    denied = b'{"code":"permission_denied","msg":"no permissions to access the room"}'
    fake = FakeLiveKitAPI()
    fake.answer("livekit.RoomService/ListRooms", (403, denied))
    await fake.start()
    try:
        config = WorkerConfig(Path("menus.yaml"), fake.url, "APIkey", SECRET)
        monkeypatch.delenv("LIVEKIT_WORKER_TOKEN", raising=False)
        with pytest.raises(ConfigError, match="refused the API key 'APIkey'") as refused:
            await check_credentials(config)
        assert SECRET not in str(refused.value)
        monkeypatch.setenv("LIVEKIT_WORKER_TOKEN", "a-worker-token")
        await check_credentials(config)  # hosted: registration decides
    finally:
        await fake.close()


def test_one_table_the_parent_exports_and_every_job_reads_back() -> None:
    """What `router start` settles is what a job thread or job process finds: export() and
    from_env() go through the same table, names and defaults written once."""
    import argparse

    from router.runtime.config import WorkerConfig, add_arguments
    from router.settings import SETTINGS

    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    add_arguments(parser, "start")
    env = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "key",
        "LIVEKIT_API_SECRET": SECRET,
    }
    args = parser.parse_args(
        ["start", "--max-calls", "7", "--records", "", "--voice", "espeak:es-419"]
    )
    args.agent_name, args.show_caller_numbers = "front", True
    config = WorkerConfig.from_args(args, env)
    assert (config.metrics_port, config.health_port, config.drain_timeout_s) == (9464, 8081, 60)
    assert config.records is None and config.mask_caller is False
    assert config.trial_callers is False, "browser callers never under `router start`"
    exported: dict[str, str] = {}
    config.export(exported)
    assert {s.env for s in SETTINGS} <= exported.keys()
    assert WorkerConfig.from_env(exported) == config


@pytest.mark.parametrize(
    ("command", "metrics", "health", "drain"),
    [("start", 9464, 8081, 60.0), ("dev", 0, 0, 0.0), ("connect", 0, 0, 60.0)],
)
def test_each_command_has_its_declared_defaults(
    command: str, metrics: int, health: int, drain: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse

    from router.runtime.config import add_arguments
    from router.settings import SETTINGS

    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    parser = argparse.ArgumentParser()
    add_arguments(parser, command)
    args = parser.parse_args([])
    assert (args.metrics_port, args.health_port, args.drain_timeout_s) == (metrics, health, drain)


def test_a_health_port_in_use_is_one_sentence() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = router("start", "--metrics-port", "0", "--health-port", str(port), env=UNREACHABLE)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"router start: cannot serve the health check on 127.0.0.1:{port}: address already in "
        "use (choose another --health-port, or 0 for a free one)"
    ), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
