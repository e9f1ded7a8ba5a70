"""Logging for every command: text for people, JSON lines for log pipelines.

`setup()` is called once by the CLI. JSON logs use livekit-agents' own formatter
(`livekit.agents.cli.log.JsonFormatter`, what its workers write in production), so a
pipeline that reads LiveKit agents' logs reads the router's: one object a line with
`level`, `name`, `message`, `timestamp`, and any fields given with `extra=`. Lines
logged while a call is served also carry that call's `call_id`, `room` and
`menu_version` (`bind_call`); callers' numbers are masked where the line is written,
as in the text logs.

The level is `-v` (debug), else `LIVEKIT_LOG_LEVEL` (as livekit-agents reads it:
`debug`, `info`, `warn`, `error`), else info. The format is `--log-format`, else
`ROUTER_LOG_FORMAT`, else text (the container image sets json).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping

__all__ = ["LOG_FORMATS", "CallFields", "bind_call", "log_level", "setup", "unbind_call"]

LOG_FORMATS = ("text", "json")

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "router"

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

_call = threading.local()
"""The call served by this thread. livekit-agents runs each job (one call) on a thread
of its own (thread executor) or in a process of its own, and rtc callbacks run on the
job's loop, so the thread names the call for every line it logs."""


def bind_call(**fields: str) -> None:
    """Name the call this thread serves in its log lines (JSON logs: as fields)."""
    _call.fields = dict(fields)


def unbind_call() -> None:
    _call.fields = {}


class CallFields(logging.Filter):
    """Adds the fields of the call the logging thread serves to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in getattr(_call, "fields", {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def log_level(verbose: bool, env: Mapping[str, str] = os.environ) -> int:
    """-v, else LIVEKIT_LOG_LEVEL in `env`, else info; an unknown name is info (`setup`
    says so once)."""
    if verbose:
        return logging.DEBUG
    return _LEVELS.get(_level_name(env), logging.INFO)


def _level_name(env: Mapping[str, str]) -> str:
    return env.get("LIVEKIT_LOG_LEVEL", "").strip().lower()


def setup(
    *, verbose: bool = False, log_format: str = "text", env: Mapping[str, str] = os.environ
) -> None:
    """Send logs to stderr, in `log_format` ("text" or "json"), at `log_level(verbose, env)`;
    a level name in `env` that is none is said once, as a warning."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        from livekit.agents.cli.log import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    handler.addFilter(CallFields())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    if root.handlers:
        return  # configured by whoever runs us in-process (a test harness): as basicConfig
    root.addHandler(handler)
    root.setLevel(log_level(verbose, env))
    name = _level_name(env)
    if name and name not in _LEVELS:
        logging.getLogger("router").warning(
            "LIVEKIT_LOG_LEVEL=%r is not a log level (debug, info, warn, error); using info",
            name[:20],
        )
