"""The worker's configuration: one typed value, one table of its settings.

Each setting is a row of `SETTINGS`: its field of `WorkerConfig`, its flag, its
environment variable and its default per command (`router start` is production; `dev`
and `connect` differ where a developer wants otherwise, as livekit-agents declares
`dev_default` and `prod_default`). A flag wins over its variable, the variable over the
default. `WorkerConfig.from_args()` reads them once in the parent; `export()` writes
every setting to the environment in the same form, and job threads and job processes
read it back with `WorkerConfig.from_env()`: no second copy of a name or a default.

`DIAGNOSTICS` is the second, smaller table: switches for benchmarks and investigations
(traces, the rtc library's log, memory dumps), read from the environment only, each by
`diagnostic()` once, where it acts (docs/runtime.md, "Diagnostic switches").
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Self

from router.core.errors import ConfigError

__all__ = [
    "DIAGNOSTICS",
    "SETTINGS",
    "TRIAL_ENV",
    "Diagnostic",
    "Setting",
    "WorkerConfig",
    "add_arguments",
    "agent_name",
    "diagnostic",
]

DEFAULT_AGENT_NAME = "menu-router"

CREDENTIALS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")

TRIAL_ENV = "ROUTER_TRIAL_CALLERS"
"""Browser callers (the trial page) are served only when started for trying."""


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Setting:
    """One row of the table: a field of `WorkerConfig` and how it is set."""

    name: str
    """The field of `WorkerConfig`."""
    flag: str | None
    """The command-line flag; None for a setting read from the environment only."""
    env: str
    help: str
    default: object
    """The default under `router start`."""
    dev_default: object | None = None
    """The default under `router dev` (and `connect`, unless `connect_default`); None:
    the same as `default`."""
    connect_default: object | None = None
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    metavar: str | None = None

    def default_for(self, command: str) -> object:
        if command == "connect" and self.connect_default is not None:
            return self.connect_default
        if command in ("dev", "connect") and self.dev_default is not None:
            return self.dev_default
        return self.default


SETTINGS: tuple[Setting, ...] = (
    Setting("menus", "--menus", "ROUTER_MENUS", "menu file", "menus.yaml", parse=Path),
    Setting(
        "max_calls",
        "--max-calls",
        "ROUTER_MAX_CALLS",
        "calls per process before it reports itself full",
        # the rule: the largest level of the latest rtc ramp (`python -m bench --only rtc`)
        # with no call failed and its new calls' p95 greeting wait within 1.5 s, the 2 s
        # goal less a quarter for margin: 25 in run-20261130T175014-rtc.json (p95 1.19 s;
        # 50: 2.58 s), 2 cores shared with LiveKit and the callers (docs/benchmarks.md)
        25,
        parse=int,
    ),
    Setting(
        "target_load",
        "--target-load",
        "ROUTER_TARGET_LOAD",
        "the LiveKit server's agents.target_load, where its dispatch stops",
        0.7,  # livekit-server pkg/agent/config.go, DefaultTargetLoad
        parse=float,
    ),
    Setting(
        "executor",
        "--executor",
        "ROUTER_EXECUTOR",
        "thread: many calls per process; process: one process per call",
        "thread",
        choices=("thread", "process"),
    ),
    Setting(
        "records",
        "--records",
        "ROUTER_RECORDS",
        "call records (JSON lines): a file, '-' for stdout, '' for none",
        "-",
    ),
    Setting(
        "metrics_port",
        "--metrics-port",
        "ROUTER_METRICS_PORT",
        "Prometheus metrics port (0: off)",
        9464,
        dev_default=0,
        parse=int,
    ),
    Setting(
        "metrics_host",
        "--metrics-host",
        "ROUTER_METRICS_HOST",
        "where the metrics port binds",
        "127.0.0.1",
    ),
    Setting(
        "health_port",
        "--health-port",
        "ROUTER_HEALTH_PORT",
        "livekit-agents' health server: GET / answers 200 while the worker is connected to "
        "LiveKit (503 when it cannot connect), GET /worker its status (0: a free port)",
        8081,  # livekit-agents' ServerOptions.port, prod default
        dev_default=0,
        parse=int,
    ),
    Setting(
        "health_host",
        "--health-host",
        "ROUTER_HEALTH_HOST",
        "where the health port binds",
        "127.0.0.1",
    ),
    Setting(
        "voice",
        "--voice",
        "ROUTER_VOICE",
        "espeak[:VOICE] or module:Class of a livekit-agents TTS plugin",
        "espeak",
    ),
    Setting(
        "prompt_cache",
        "--prompt-cache",
        "ROUTER_PROMPT_CACHE",
        "a folder of rendered prompts, read at start and filled by `router prompts` ('' for none)",
        "",
    ),
    Setting(
        "drain_timeout_s",
        "--drain-timeout",
        "ROUTER_DRAIN_TIMEOUT",
        "on SIGTERM, take no new calls and let calls in progress go on this long; "
        "a second signal stops at once",
        60.0,  # most menu calls end within a minute
        dev_default=0.0,
        connect_default=60.0,
        parse=float,
        metavar="SECONDS",
    ),
    Setting(
        "recycle_after",
        "--recycle-after",
        "ROUTER_RECYCLE_AFTER",
        "after this many calls, take no new ones, let those in progress end and exit 0, "
        "for the supervisor to start a fresh process (the rtc library keeps memory per "
        "call; docs/runtime.md); 0: never",
        0,
        parse=int,
        metavar="CALLS",
    ),
    Setting(
        "gc_interval_s",
        "--gc-interval",
        "ROUTER_GC_INTERVAL",
        "a full collection of Python's garbage this often, which frees ended calls' rtc "
        "rooms (docs/runtime.md); 0: Python's own collections only",
        5.0,
        parse=float,
        metavar="SECONDS",
    ),
    Setting(
        "mask_caller",
        None,
        "ROUTER_MASK_CALLER",
        "callers' numbers masked in records and logs (--show-caller-numbers turns it off)",
        True,
        parse=_flag,
    ),
    Setting(
        "trial_callers",
        None,
        TRIAL_ENV,
        "serve browser callers (set by `router dev`, never under `router start`)",
        False,
        parse=_flag,
    ),
)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One row of `DIAGNOSTICS`: a switch for a benchmark or an investigation.

    Not a `WorkerConfig` field, and no flag: each is read where it acts, once, and
    some before any configuration exists (the rtc library's log level must be set
    before the library's first use; a trace switch at the import of the module that
    traces). The environment carries it to job threads and job processes as it is."""

    env: str
    help: str
    read_by: str
    """The module that reads it, once (when: at import, or at `router start`)."""
    parse: Callable[[str], Any] = _flag
    """A switch by default: on unless empty, 0, false, no or off."""
    default: object = False
    """The value when the variable is not set."""


DIAGNOSTICS: tuple[Diagnostic, ...] = (
    Diagnostic(
        "ROUTER_TRACE_SETUP",
        "one log line per call with the times of its set-up steps and the job thread's CPU "
        "(read by bench/setup_cost.py)",
        "router/runtime/worker.py, at import",
    ),
    Diagnostic(
        "ROUTER_TRACE_KEYS",
        "one log line per key-caused transfer with the DTMF callback's and the request's "
        "times on the monotonic clock (read by bench/latency.py)",
        "router/runtime/transfer_watch.py, at import",
    ),
    Diagnostic(
        "ROUTER_RTC_LOGS",
        "the rtc library's log records handed to Python one by one, as the SDK does "
        "(default: kept in the library, its warnings on stderr as RUST_LOG says)",
        "router/runtime/rtclogs.py, before the library's first use",
    ),
    Diagnostic(
        "ROUTER_RTC_FANOUT",
        "every FFI event of the process woken into every call's Room loop, as the SDK "
        "does (default: a call's Room takes its own room's events only)",
        "router/runtime/fanout.py, as each call joins",
    ),
    Diagnostic(
        "ROUTER_MEMORY_DUMP",
        "a folder: on SIGUSR1 the worker writes where its memory is there (mem-N.txt)",
        "router/runtime/memdebug.py, at `router start`",
        parse=str,
        default="",
    ),
    Diagnostic(
        "ROUTER_MEMORY_TRACE",
        "with ROUTER_MEMORY_DUMP: tracemalloc on, each dump adds the allocations grown "
        "since the first (slow: for a test machine)",
        "router/runtime/memdebug.py, at `router start`",
    ),
)

_DIAGNOSTICS = {d.env: d for d in DIAGNOSTICS}


def diagnostic(name: str, env: Mapping[str, str] = os.environ) -> Any:
    """The value of the diagnostic switch `name` (`ROUTER_TRACE_KEYS`, ...), parsed as
    its row says, or its default when unset. Raises KeyError for a name the table does
    not declare: every diagnostic variable the router reads is declared there."""
    row = _DIAGNOSTICS[name]
    raw = env.get(name)
    return row.default if raw is None else row.parse(raw)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Everything a worker needs; built from flags and the environment, checked once."""

    menus: Path
    url: str
    api_key: str
    api_secret: str
    agent_name: str = DEFAULT_AGENT_NAME
    max_calls: int = 25
    """Calls one process takes before it reports itself full to LiveKit (the default's
    rule: `SETTINGS`' `max_calls`)."""
    target_load: float = 0.7
    """The LiveKit server's `agents.target_load`: it stops dispatching to a worker there."""
    executor: str = "thread"
    records: str | None = None
    """Where call records go: a file path, `-` for stdout, or None for none."""
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    health_port: int = 0
    """livekit-agents' health server (`GET /`, `GET /worker`); 0: a free port."""
    health_host: str = "127.0.0.1"
    voice: str = "espeak"
    prompt_cache: str = ""
    """A folder of rendered prompts (`router prompts`); empty: none."""
    mask_caller: bool = True
    drain_timeout_s: float = 60.0
    """On SIGTERM, how long calls in progress may go on before they are hung up."""
    recycle_after: int = 0
    """Calls after which the worker drains and exits for its supervisor to restart it; 0:
    never (the rtc library keeps memory per call, docs/runtime.md)."""
    gc_interval_s: float = 5.0
    """Seconds between full collections of the cycle collector (`router.runtime.collector`);
    0: Python's own collections only."""
    trial_callers: bool = False
    """Browser callers (the trial page) are served; only when started for trying."""
    dev: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> Self:
        """The configuration of the command `args` parsed; raises ConfigError (one
        sentence, never a secret's value)."""
        url, key, secret = _credentials(env)
        values: dict[str, Any] = {s.name: getattr(args, s.name) for s in SETTINGS if s.flag}
        values["mask_caller"] = not args.show_caller_numbers and _flag(
            env.get("ROUTER_MASK_CALLER", "1")
        )
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
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.env)
            values[setting.name] = (
                setting.parse(raw) if raw is not None else setting.default_for("start")
            )
        values["records"] = values["records"] or None
        return cls(
            url=env.get("LIVEKIT_URL", ""),
            api_key=env.get("LIVEKIT_API_KEY", ""),
            api_secret=env.get("LIVEKIT_API_SECRET", ""),
            agent_name=agent_name(None, env),
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
                "ROUTER_AGENT_NAME": self.agent_name,
            }
        )
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if isinstance(value, bool):
                text = "1" if value else "0"
            elif value is None:
                text = ""
            else:
                text = str(value)
            env[setting.env] = text


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The table's flags, each defaulting to its variable, else its default for `command`;
    argparse converts and checks a variable's value as it does a flag's."""
    for setting in SETTINGS:
        if setting.flag is None:
            continue
        default = setting.default_for(command)
        parser.add_argument(
            setting.flag,
            dest=setting.name,
            default=os.environ.get(setting.env, str(default)),
            type=setting.parse,
            choices=setting.choices,
            metavar=setting.metavar,
            help=f"{setting.help} (default %(default)s; env {setting.env})",
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
        or env.get("ROUTER_AGENT_NAME")
        or env.get("LIVEKIT_AGENT_NAME")
        or DEFAULT_AGENT_NAME
    )


def _credentials(env: Mapping[str, str]) -> tuple[str, str, str]:
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
