"""The stack's processes: each in its own group, its log's tail, its health page, its end."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Process", "http_ok", "log_tail", "terminate_group"]


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


def terminate_group(p: subprocess.Popen[bytes], timeout: float = 8.0) -> None:
    """End `p`'s process group (it was started in its own): SIGTERM, then SIGKILL after
    `timeout` seconds. Only that group: never processes the stack did not start."""
    if p.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(p.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        p.wait(5)
