"""The router as a child process, for `router local`, the end-to-end tests and the benchmarks.

All three run the router exactly as an operator would (``python -m router dev``),
its output kept in a log file, ready once it has registered with LiveKit.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from router.core.errors import ConfigError, MenuFileError, StackError
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.settings import DEFAULT_AGENT_NAME, speech_engine

__all__ = [
    "RTC_CLOSE_NOISE",
    "RouterProcess",
    "checked_menus",
    "errors_in",
    "stop_on_sigterm",
    "wait_while_running",
]

READY = re.compile(r"registered worker")

RTC_CLOSE_NOISE = ("failed to send dc_event buffer_amount_change",)
"""Error lines the rtc library's native side (its stderr `env_logger`, router/runtime/rtclogs.py)
writes as a room closes, about nothing that went wrong for a call: webrtc reports a data
channel's buffered amount after the session has dropped the receiver of its events
(livekit/rust-sdks `livekit/src/rtc_engine/rtc_session.rs`,
`RtcEvent::DataChannelBufferedAmountChange`, logged at `error!` when `dc_emitter.send`
fails). A race of the library's own teardown,
seen once in CI after a caller hung up mid-prompt."""

_PYTHON_ERROR = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")
_NATIVE_ERROR = re.compile(r"^\[\S+ ERROR ")


def errors_in(log: str) -> list[str]:
    """The lines of a router log that say something went wrong: the router's own ERROR
    and CRITICAL records (`%(asctime)s %(levelname)s ...`), tracebacks, and the rtc
    library's native error lines (`[<time> ERROR <target>] ...`) other than
    `RTC_CLOSE_NOISE`. Empty when the log is clean."""
    found = []
    for line in log.splitlines():
        if line.startswith("Traceback") or _PYTHON_ERROR.match(line):
            found.append(line)
        elif _NATIVE_ERROR.match(line) and not any(n in line for n in RTC_CLOSE_NOISE):
            found.append(line)
    return found


class RouterProcess:
    """The router worker as a child process, its output kept in a log file.

    Used by `router local`, the end-to-end tests and the benchmarks, so all three
    run the router exactly as an operator would.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        menus: str | os.PathLike[str],
        log_path: str | os.PathLike[str],
        agent_name: str = DEFAULT_AGENT_NAME,
        records: str | None = None,
        extra_args: Sequence[str] = (),
        command: str = "dev",
    ) -> None:
        self.log_path = Path(log_path)
        self.args = [
            sys.executable,
            "-m",
            "router",
            command,
            "--menus",
            str(menus),
            "--agent-name",
            agent_name,
            "--records",
            records if records is not None else "",
            *extra_args,
        ]
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> RouterProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StackError(
                    f"the router exited with status {self.proc.returncode} while starting:\n"
                    + self.tail()
                )
            if READY.search(self.log()):
                return self
            time.sleep(0.1)
        self.stop()
        raise StackError(
            f"the router did not register with LiveKit within {timeout_s:.0f} s:\n" + self.tail()
        )

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout_s: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(5)


# --- what `router local` and `router try` do around the router they start ----------------


def checked_menus(menus: Path) -> MenuFile:
    """The menu file a command starts a router on, loaded as the worker will load it (its
    voices judged for `ROUTER_VOICE`). Raises ConfigError, one sentence, when it does not
    exist or has errors (every error printed on stderr first, as `router check` words them)."""
    if not menus.is_file():
        raise ConfigError(f"the menu file {menus} does not exist (see --menus)")
    try:
        return load_menu_file(menus, engine=speech_engine()).menu_file
    except MenuFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise ConfigError(f"{menus} has errors; `router check {menus}` lists them") from None


def stop_on_sigterm() -> threading.Event:
    """An event SIGTERM sets (a command started in the background stops as on Ctrl-C)."""
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    return stopping


def wait_while_running(router: RouterProcess | None, stopping: threading.Event) -> int:
    """Wait until `stopping` is set (0), or until `router` exits on its own (1, its log's
    last lines on stderr). Checks twice a second."""
    while not stopping.is_set():
        if router is not None and router.proc is not None and router.proc.poll() is not None:
            print("The router stopped:\n" + router.tail(), file=sys.stderr)
            return 1
        stopping.wait(0.5)
    return 0
