"""Free ports on 127.0.0.1, for stacks and routers started side by side (tests, benchmarks)."""

from __future__ import annotations

import random
import socket

from router.core.errors import StackError

__all__ = ["HOST", "free_port", "free_port_both", "free_udp_range", "port_free"]

HOST = "127.0.0.1"
"""Everything the local stack starts listens here only."""


def port_free(port: int, kind: int) -> bool:
    """Whether `port` can be bound on 127.0.0.1 now (`kind`: SOCK_STREAM or SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free right now on 127.0.0.1 (TCP by default, or SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def free_port_both() -> int:
    """A port free for both TCP and UDP."""
    for _ in range(200):
        p = free_port(socket.SOCK_STREAM)
        if port_free(p, socket.SOCK_DGRAM):
            return p
    raise StackError("cannot find a free port on 127.0.0.1")


def free_udp_range(size: int, lo: int = 20000, hi: int = 60000) -> tuple[int, int]:
    """A run of `size` consecutive UDP ports that are free now: (first, last)."""
    rnd = random.Random()
    for _ in range(200):
        start = rnd.randrange(lo, hi - size)
        if all(port_free(p, socket.SOCK_DGRAM) for p in range(start, start + size)):
            return start, start + size - 1
    raise StackError(f"cannot find {size} free consecutive UDP ports on 127.0.0.1")
