"""`python -m bench.soak`'s options reach the soak's configuration.

The soak itself is replaced here (it would start the whole stack for minutes): these
tests are about the command line only; the short soak in tests/e2e runs the real one."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.soak.__main__ as soak_main
from bench.soak.run import SoakConfig


class _Stop(Exception):
    """Raised by the stand-in soak once it has the configuration."""


def _configured(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> SoakConfig:
    seen: list[SoakConfig] = []

    async def soak(config: SoakConfig, workdir: Path) -> None:
        seen.append(config)
        raise _Stop

    monkeypatch.setattr(soak_main, "soak", soak)
    with pytest.raises(_Stop):
        soak_main.main(argv)
    return seen[0]


def test_the_stack_logs_at_info_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _configured(monkeypatch, ["--calls", "3"]).stack_log_level == "info"


def test_stack_log_level_reaches_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _configured(monkeypatch, ["--calls", "3", "--stack-log-level", "debug"])
    assert config.stack_log_level == "debug"


def test_an_unknown_stack_log_level_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        soak_main.main(["--stack-log-level", "loud"])
    assert exited.value.code == 2
    assert "--stack-log-level" in capsys.readouterr().err
