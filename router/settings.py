"""The router's settings: one table of environment names and defaults, for every command.

Each setting is a row: its name, its flag, its environment variable and its default per
command (`router start` is production; `dev` and `connect` differ where a developer wants
otherwise, as livekit-agents declares `dev_default` and `prod_default`). A flag wins over
its variable, the variable over the default. `SETTINGS` are the worker's (each a field of
`router.runtime.config.WorkerConfig`, which reads them once and exports them to its job
threads and processes); the admin commands read the same rows (`router check` and
`router simulate` the menu file and voice, `router prompts` also the prompt cache), so a
name and its default are written here once. `COMMAND_SETTINGS` are read by every command
(the log format) or by the local stack's tools (their build cache), not by a worker.

`DIAGNOSTICS` is the second, smaller table: switches for benchmarks and investigations
(traces, the rtc library's log, memory dumps), read from the environment only, each by
`diagnostic()` once, where it acts (docs/runtime.md, "Diagnostic switches").

Why here and not in `router.core` or `router.runtime`: it reads the environment, which the
sans-I/O core never does, and the admin commands import it, which must start without
`router.runtime` (livekit, aiohttp: 0.7 s of a 0.25 s budget, issue 13 item 6). So it
imports the standard library and `router.logs` (the log formats) only; `speech_engine()`
imports `router.core.voices` when asked (`router schema` reads no menu file: it need not).
`tests/runtime/test_diagnostics.py` holds that every `ROUTER_*` variable the router reads
is a row here and that no other module reads one with a default of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from router.logs import LOG_FORMATS

if TYPE_CHECKING:
    from router.core.voices import SpeechEngine

__all__ = [
    "COMMAND_SETTINGS",
    "DEFAULT_AGENT_NAME",
    "DIAGNOSTICS",
    "SETTINGS",
    "TRIAL_ENV",
    "WORKER_TOKEN_ENV",
    "Diagnostic",
    "Setting",
    "default",
    "diagnostic",
    "flag_default",
    "hosted_by_livekit",
    "setting",
    "speech_engine",
    "value",
]

DEFAULT_AGENT_NAME = "menu-router"

TRIAL_ENV = "ROUTER_TRIAL_CALLERS"
"""Browser callers (the trial page) are served only when started for trying."""

WORKER_TOKEN_ENV = "LIVEKIT_WORKER_TOKEN"
"""The token LiveKit Cloud injects into an agent it hosts; livekit-agents registers with it
(livekit/agents/worker.py, `_worker_token`). Its value is a secret: only its presence is read."""


def hosted_by_livekit(env: Mapping[str, str] = os.environ) -> bool:
    """Whether LiveKit Cloud hosts this worker: `WORKER_TOKEN_ENV` set (non-empty) in `env`."""
    return bool(env.get(WORKER_TOKEN_ENV))


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "no", "off")


def _folder(value: str) -> Path:
    return Path(value).expanduser()


@dataclass(frozen=True, slots=True)
class Setting:
    """One row of the table: a setting and how it is set."""

    name: str
    """Its name: for a row of `SETTINGS`, the field of `WorkerConfig`."""
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
    blank_is_default: bool = False
    """An empty variable means the default (a path or a name), not an empty value (as
    `ROUTER_RECORDS=''`: no records)."""

    def default_for(self, command: str) -> object:
        if command == "connect" and self.connect_default is not None:
            return self.connect_default
        if command in ("dev", "connect") and self.dev_default is not None:
            return self.dev_default
        return self.default

    def text(self, command: str = "start", env: Mapping[str, str] = os.environ) -> str:
        """The variable's text if set, else the default for `command` as text: what the
        flag defaults to (argparse converts and checks it as it does a flag's value)."""
        raw = env.get(self.env)
        if raw is None or (self.blank_is_default and not raw.strip()):
            return str(self.default_for(command))
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "menus",
        "--menus",
        "ROUTER_MENUS",
        "menu file",
        "menus.yaml",
        parse=Path,
        blank_is_default=True,
    ),
    Setting(
        "agent_name",
        None,  # `--agent-name` keeps livekit-agents' order (router.runtime.config.agent_name)
        "ROUTER_AGENT_NAME",
        "name dispatch rules send calls to, after LIVEKIT_AGENT_NAME_OVERRIDE and the flag",
        DEFAULT_AGENT_NAME,
    ),
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
        blank_is_default=True,
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

COMMAND_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "log_format",
        "--log-format",
        "ROUTER_LOG_FORMAT",
        "text, or json: one object a line, as livekit-agents writes in production",
        "text",
        choices=LOG_FORMATS,
        blank_is_default=True,
    ),
    Setting(
        "stack_cache",
        None,
        "ROUTER_STACK_CACHE",
        "where the local stack's binaries are built and kept (router/stack/install.py)",
        "~/.cache/livekit-menu-router",
        parse=_folder,
        blank_is_default=True,
    ),
)

_ROWS = {s.name: s for s in (*SETTINGS, *COMMAND_SETTINGS)}


def setting(name: str) -> Setting:
    """The row of setting `name` (`menus`, `voice`, `log_format`, ...); KeyError for a
    name the tables do not declare."""
    return _ROWS[name]


def default(name: str, command: str = "start") -> Any:
    """The declared default of setting `name` under `command`."""
    return _ROWS[name].default_for(command)


def flag_default(name: str, command: str = "start", env: Mapping[str, str] = os.environ) -> str:
    """The text a flag of setting `name` defaults to: its variable, else its default."""
    return _ROWS[name].text(command, env)


def value(name: str, command: str = "start", env: Mapping[str, str] = os.environ) -> Any:
    """Setting `name` as a command without its flag reads it: the variable parsed as its
    row says, else the default for `command`. Raises ValueError for a value the row's
    parser refuses (the worker's flags give argparse's sentence instead)."""
    row = _ROWS[name]
    return row.parse(row.text(command, env))


def speech_engine(voice: str | None = None, env: Mapping[str, str] = os.environ) -> SpeechEngine:
    """The speech engine of `voice` (a `--voice` value), else of `ROUTER_VOICE` or the
    default: the engine the checker judges menus' voices for (`router.core.voices`)."""
    from router.core.voices import SpeechEngine

    return SpeechEngine.of(voice if voice is not None else flag_default("voice", env=env))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One row of `DIAGNOSTICS`: a switch for a benchmark or an investigation.

    Not a setting, and no flag: each is read where it acts, once, and
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
        "router/runtime/fanout.py, once per process, as its first call joins",
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
