"""Prometheus metrics of the router process, fed by the navigator's notes.

One registry per process; calls in every thread update it (prometheus_client is
thread-safe). The HTTP endpoint binds where the operator says (127.0.0.1 by default).
Every label is bounded by the menu file or an enum: menu names, destination names or
directory entries (never digits dialled), end reasons, failure kinds.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

from router.core.errors import ConfigError
from router.core.events import AnyNote, CallFinished, InvalidEntry, KeyPressed, MenuEntered, NoInput
from router.runtime.outcomes import TransferOutcome

__all__ = ["METRICS", "Metrics"]

log = logging.getLogger(__name__)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.calls = Counter("router_calls", "Calls routed, by how they ended", ["end"], registry=r)
        self.active = Gauge("router_active_calls", "Calls in progress", registry=r)
        self.transfers = Counter(
            "router_transfers",
            "Transfer attempts by destination, result (succeeded, failed) and, for a failure, "
            "its kind (busy, no_answer, rejected, error)",
            ["destination", "result", "kind"],
            registry=r,
        )
        self.menu_entries = Counter(
            "router_menu_entries", "Times callers entered each menu", ["menu"], registry=r
        )
        self.calls_ended = Counter(
            "router_calls_ended",
            "Calls by the menu they ended in and how they ended (with router_menu_entries: "
            "a funnel)",
            ["menu", "end"],
            registry=r,
        )
        Info("router_build", "The router's version", registry=r).info({"version": _version()})
        # the process's CPU, memory, open files and the interpreter's GC: what the default
        # registry of prometheus_client exports, on this one
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.invalid = Counter("router_invalid_keys", "Invalid entries", ["menu"], registry=r)
        self.timeouts = Counter("router_timeouts", "No-input time-outs", ["menu"], registry=r)
        self.keys = Counter("router_keys", "Keys received from callers", registry=r)
        self.transfer_seconds = Histogram(
            "router_transfer_seconds",
            "Time from the transfer request to LiveKit's answer",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
            registry=r,
        )
        self.menu_reloads = Counter(
            "router_menu_reloads", "Menu file reloads by result", ["result"], registry=r
        )
        self._server_lock = threading.Lock()
        self._serving: tuple[str, int] | None = None

    def note(self, note: AnyNote) -> None:
        menu = note.menu or ""
        match note:
            case KeyPressed():
                self.keys.inc()
            case InvalidEntry():
                self.invalid.labels(menu).inc()
            case NoInput():
                self.timeouts.labels(menu).inc()
            case MenuEntered():
                self.menu_entries.labels(menu).inc()
            case CallFinished(reason=reason):
                self.calls_ended.labels(menu, reason.value).inc()
            case _:
                pass

    def call_ended(self, end: str) -> None:
        """One call over, however it ended (`end` of its record, an `EndReason` value)."""
        self.calls.labels(end).inc()

    def transfer_ended(self, destination: str, outcome: TransferOutcome, seconds: float) -> None:
        """One transfer answered: `destination` as records name it (`destination_label`),
        `outcome` as records write it (`router.runtime.outcomes`)."""
        self.transfer_seconds.observe(seconds)
        self.transfers.labels(destination, *outcome.labels).inc()

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Start the HTTP endpoint once per process (later calls are no-ops)."""
        with self._server_lock:
            if self._serving is not None or port <= 0:
                return
            try:
                start_http_server(port, addr=host, registry=self.registry)
            except OSError as exc:
                raise ConfigError(
                    f"cannot serve metrics on {host}:{port}: {exc.strerror or exc} "
                    "(choose another --metrics-port, or 0 for none)"
                ) from None
            self._serving = (host, port)
            log.info("metrics on http://%s:%d/metrics", host, port)


def _version() -> str:
    try:
        return version("livekit-menu-router")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


METRICS = Metrics()
