"""What `router try` and `router local` do around the router they start, written once
(router/stack/harness.py): the menu check, the credentials, the wait."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from router.cli import main
from router.core.errors import ConfigError
from router.runtime.config import agent_name
from router.stack.harness import RouterProcess, checked_menus, wait_while_running
from tests.menus import SMALL_YAML

NO_CREDENTIALS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def test_try_without_credentials_says_what_router_start_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in NO_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:1")
    assert main(["try", "--menus", str(tmp_path / "menus.yaml"), "--no-router"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "router try: LIVEKIT_API_KEY, LIVEKIT_API_SECRET are not set; set them to your LiveKit"
        " server's URL and API key and secret (for a local stack: `router local`)\n"
    )


def test_a_menu_file_with_errors_is_refused_with_each_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        checked_menus(tmp_path / "menus.yaml")
    (tmp_path / "menus.yaml").write_text(SMALL_YAML.replace("version: 1", "version: 2"))
    with pytest.raises(ConfigError, match=r"has errors; `router check .*` lists them"):
        checked_menus(tmp_path / "menus.yaml")
    assert "menus.yaml:1:10: error:" in capsys.readouterr().err
    (tmp_path / "menus.yaml").write_text(SMALL_YAML)
    assert checked_menus(tmp_path / "menus.yaml").menus


def test_the_wait_ends_when_the_router_exits_or_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    router = RouterProcess({}, menus="menus.yaml", log_path=tmp_path / "router.log")
    (tmp_path / "router.log").write_text("the last line of its log\n")
    router.proc = subprocess.Popen([sys.executable, "-c", "pass"])  # a real process that exits
    router.proc.wait()
    assert wait_while_running(router, threading.Event()) == 1
    assert capsys.readouterr().err == "The router stopped:\nthe last line of its log\n"
    stopping = threading.Event()
    stopping.set()
    assert wait_while_running(None, stopping) == 0


def test_local_names_the_agent_as_router_start_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """`router local --agent-name` defaults to nothing, so `ROUTER_AGENT_NAME` counts."""
    from router.cli import _parser

    args = _parser("local").parse_args(["local"])
    assert args.agent_name is None
    monkeypatch.delenv("LIVEKIT_AGENT_NAME_OVERRIDE", raising=False)
    monkeypatch.setenv("ROUTER_AGENT_NAME", "clinic-router")
    assert agent_name(args.agent_name) == "clinic-router"
