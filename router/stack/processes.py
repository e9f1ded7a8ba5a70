"""The stack's processes: each started in its own group, waited for until healthy, its
log's tail, its health page, its end."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from router.core.errors import StackError

__all__ = ["Process", "http_ok", "log_tail", "spawn", "terminate_group", "wait_healthy"]


def log_tail(path: Path, lines: int = 30) -> str:
    """The last `lines` lines of a log, for an error message ("(no log)" if unreadable)."""
    try:
        data = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(data[-lines:]) or "(empty log)"


@dataclass
class Process:
    """One process the stack started, with the log its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path


def http_ok(host: str, port: int) -> bool:
    """Whether `http://host:port/` answers 200 now (a part's health check)."""
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    finally:
        conn.close()


def terminate_group(p: subprocess.Popen[bytes], timeout_s: float = 8.0) -> None:
    """End `p`'s process group (it was started in its own): SIGTERM, then SIGKILL after
    `timeout_s` seconds. Only that group: never processes the stack did not start."""
    if p.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout_s)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        p.wait(5)


def spawn(name: str, cmd: Sequence[str], log: Path, cwd: Path | None) -> Process:
    """Start `cmd` in a process group of its own (so that stopping it ends exactly that
    group), its output appended to `log`."""
    with open(log, "ab") as out:
        popen = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    return Process(name, popen, log)


def wait_healthy(proc: Process, what: str, check: Callable[[], bool], timeout_s: float) -> None:
    """Poll `check` every 0.1 s until it holds (an OSError counts as not yet).

    Raises StackError, naming `what` and ending with the log's tail, if the process exits
    first or `timeout_s` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        rc = proc.popen.poll()
        if rc is not None:
            raise StackError(
                f"{what} exited with status {rc} while starting; last lines of {proc.log}:\n"
                + log_tail(proc.log)
            )
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise StackError(
                f"{what} did not become healthy within {timeout_s:.0f} s; "
                f"last lines of {proc.log}:\n" + log_tail(proc.log)
            )
        time.sleep(0.1)
