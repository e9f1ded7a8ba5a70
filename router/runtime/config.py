"""The worker's configuration: one typed value, built from the one table of settings.

The names, flags, variables and defaults per command are rows of `SETTINGS`
(router/settings.py, which the admin commands read too); each row is a field of
`WorkerConfig`. `WorkerConfig.from_args()` reads them once in the parent; `export()`
writes every setting to the environment in the same form, and job threads and job
processes read it back with `WorkerConfig.from_env()`: no second copy of a name or a
default. The diagnostic switches are the settings module's too (`DIAGNOSTICS`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

from router.core.errors import ConfigError
from router.settings import DEFAULT_AGENT_NAME, SETTINGS, default, setting, value

__all__ = ["WorkerConfig", "add_arguments", "agent_name", "credentials"]

CREDENTIALS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Everything a worker needs; built from flags and the environment, checked once.

    A value built in code (tests) takes the table's `router start` defaults, except where
    `router dev`'s keep it off fixed ports (metrics, health) and records, which it keeps
    nowhere (None)."""

    menus: Path
    url: str
    api_key: str
    api_secret: str
    agent_name: str = DEFAULT_AGENT_NAME
    max_calls: int = default("max_calls")
    """Calls one process takes before it reports itself full to LiveKit (the default's
    rule: `SETTINGS`' `max_calls`)."""
    target_load: float = default("target_load")
    """The LiveKit server's `agents.target_load`: it stops dispatching to a worker there."""
    executor: str = default("executor")
    records: str | None = None
    """Where call records go: a file path, `-` for stdout, or None for none."""
    metrics_port: int = default("metrics_port", "dev")
    metrics_host: str = default("metrics_host")
    health_port: int = default("health_port", "dev")
    """livekit-agents' health server (`GET /`, `GET /worker`); 0: a free port."""
    health_host: str = default("health_host")
    voice: str = default("voice")
    prompt_cache: str = default("prompt_cache")
    """A folder of rendered prompts (`router prompts`); empty: none."""
    mask_caller: bool = default("mask_caller")
    drain_timeout_s: float = default("drain_timeout_s")
    """On SIGTERM, how long calls in progress may go on before they are hung up."""
    recycle_after: int = default("recycle_after")
    """Calls after which the worker drains and exits for its supervisor to restart it; 0:
    never (the rtc library keeps memory per call, docs/runtime.md)."""
    gc_interval_s: float = default("gc_interval_s")
    """Seconds between full collections of the cycle collector (`router.runtime.collector`);
    0: Python's own collections only."""
    trial_callers: bool = default("trial_callers")
    """Browser callers (the trial page) are served; only when started for trying."""
    dev: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Self:
        """The configuration of the command `args` parsed; raises ConfigError (one
        sentence, never a secret's value)."""
        url, key, secret = credentials(env)
        values: dict[str, Any] = {s.name: getattr(args, s.name) for s in SETTINGS if s.flag}
        values["mask_caller"] = not args.show_caller_numbers and value("mask_caller", env=env)
        values["records"] = values["records"] or None
        dev = args.command == "dev"
        values["trial_callers"] = dev  # whatever the environment said
        config = cls(
            url=url,
            api_key=key,
            api_secret=secret,
            agent_name=agent_name(args.agent_name, env),
            dev=dev,
            **values,
        )
        config.check()
        return config

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Self:
        """The configuration a job thread or job process finds (`export()` wrote it)."""
        values: dict[str, Any] = {s.name: value(s.name, env=env) for s in SETTINGS}
        values["records"] = values["records"] or None
        values["agent_name"] = agent_name(None, env)  # livekit-agents' order, as the parent's
        return cls(
            url=env.get("LIVEKIT_URL", ""),
            api_key=env.get("LIVEKIT_API_KEY", ""),
            api_secret=env.get("LIVEKIT_API_SECRET", ""),
            **values,
        )

    def check(self) -> None:
        if self.max_calls < 1:
            raise ConfigError("--max-calls must be at least 1")
        if not 0 < self.target_load <= 1:
            raise ConfigError(
                "--target-load must be above 0 and at most 1 (LiveKit's agents.target_load)"
            )
        if not 0 <= self.drain_timeout_s <= 3600:
            raise ConfigError("--drain-timeout must be between 0 and 3600 seconds")
        if not 0 <= self.gc_interval_s <= 3600:
            raise ConfigError("--gc-interval must be between 0 and 3600 seconds")
        if self.recycle_after < 0:
            raise ConfigError("--recycle-after must be a number of calls, 0 for never")
        if self.recycle_after and self.executor != "thread":
            raise ConfigError(
                "--recycle-after is for the thread executor (a job process ends with its call)"
            )

    @property
    def record_path(self) -> str | None:
        """None for stdout (`-`); the file otherwise (only when `records` is set)."""
        return None if self.records in (None, "-") else self.records

    def export(self, env: MutableMapping[str, str] = os.environ) -> None:
        """Put every setting where job threads and job processes will find them."""
        env.update(
            {
                "LIVEKIT_URL": self.url,
                "LIVEKIT_API_KEY": self.api_key,
                "LIVEKIT_API_SECRET": self.api_secret,
            }
        )
        for row in SETTINGS:
            field = getattr(self, row.name)
            if isinstance(field, bool):
                text = "1" if field else "0"
            elif field is None:
                text = ""
            else:
                text = str(field)
            env[row.env] = text


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The table's flags, each defaulting to its variable, else its default for `command`;
    argparse converts and checks a variable's value as it does a flag's."""
    for row in SETTINGS:
        if row.flag is None:
            continue
        parser.add_argument(
            row.flag,
            dest=row.name,
            default=row.text(command),
            type=row.parse,
            choices=row.choices,
            metavar=row.metavar,
            help=f"{row.help} (default %(default)s; env {row.env})",
        )
    parser.add_argument(
        "--agent-name",
        default=None,
        help="name dispatch rules send calls to (default: env LIVEKIT_AGENT_NAME_OVERRIDE, "
        f"else ROUTER_AGENT_NAME, else LIVEKIT_AGENT_NAME, else {DEFAULT_AGENT_NAME}; "
        "LIVEKIT_AGENT_NAME_OVERRIDE wins even over this flag, as in livekit-agents)",
    )
    parser.add_argument(
        "--show-caller-numbers",
        action="store_true",
        help="write callers' numbers unmasked in call records",
    )


def agent_name(flag: str | None, env: Mapping[str, str] = os.environ) -> str:
    """The agent name, in livekit-agents' order (`AgentServer.rtc_session`, worker.py):
    `LIVEKIT_AGENT_NAME_OVERRIDE` (set by platforms), then the explicit setting (the
    flag, or this router's `ROUTER_AGENT_NAME`), then `LIVEKIT_AGENT_NAME`, then
    `menu-router`."""
    return (
        env.get("LIVEKIT_AGENT_NAME_OVERRIDE")
        or flag
        or env.get(setting("agent_name").env)
        or env.get("LIVEKIT_AGENT_NAME")
        or DEFAULT_AGENT_NAME
    )


def credentials(env: Mapping[str, str] = os.environ) -> tuple[str, str, str]:
    """(LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET) from `env`; ConfigError (one
    sentence naming what is missing or wrong, never a value) otherwise. `router start`,
    `router dev` and `router try` read them so."""
    missing = [name for name in CREDENTIALS if not env.get(name)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; "
            "set them to your LiveKit server's URL and API key and secret "
            "(for a local stack: `router local`)"
        )
    url = env["LIVEKIT_URL"]
    if not url.startswith(("ws://", "wss://", "http://", "https://")):
        # never echo the value: a secret pasted into the wrong variable would be printed
        raise ConfigError("LIVEKIT_URL must start with ws://, wss://, http:// or https://")
    return url, env["LIVEKIT_API_KEY"], env["LIVEKIT_API_SECRET"]


_FIELDS = {f.name for f in fields(WorkerConfig)}
assert all(s.name in _FIELDS for s in SETTINGS), "every setting is a field of WorkerConfig"
