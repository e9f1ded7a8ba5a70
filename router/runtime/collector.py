"""The worker's garbage collection: native memory that only Python's cycle collector frees.

A call's `rtc.Room`, its tracks and its audio source sit in reference cycles (the memory
dump's garbage of a soak: bound methods, futures, events, FFI handles), so when a call
ends, refcounting alone does not free them; the collector does, and with them their
FFI handles, whose `__del__` releases the native room, peer connection and audio
buffers (livekit `rtc/_ffi_client.py`, `FfiHandle.__del__`). CPython 3.11 runs a full
collection only once the objects promoted since the last one exceed a quarter of those
that survived it (`Modules/gcmodule.c`, `long_lived_pending`); a worker holds some
165,000 objects from its imports, so a full collection (0.6 s) came about once in 150
calls here, each call's native memory kept meanwhile (issue 18, the soak's RSS slope).

So, once the worker has loaded (`install`): `gc.freeze()` moves everything alive then
into the permanent generation, where the collector never looks again (no import-time
object is garbage), and a daemon thread runs a full collection every `interval_s`,
which then walks only what calls created: 1-2 ms with 20 calls up (about 340
objects a call).
"""

from __future__ import annotations

import gc
import logging
import threading
import time

__all__ = ["INTERVAL_S", "Collector", "install"]

log = logging.getLogger(__name__)

INTERVAL_S = 5.0
"""Seconds between full collections unless the worker's settings say otherwise."""


class Collector:
    """A daemon thread running `gc.collect()` every `interval_s` seconds until `stop()`."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-collect", daemon=True)

    def start(self) -> Collector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            started = time.perf_counter()
            found = gc.collect()
            self.runs += 1
            log.debug(
                "collected %d objects in cycles in %.1f ms",
                found,
                (time.perf_counter() - started) * 1e3,
            )


def install(interval_s: float = INTERVAL_S) -> Collector | None:
    """Freeze what is alive now and start the collector, a full collection every
    `interval_s` seconds (`--gc-interval`, `ROUTER_GC_INTERVAL`, checked by
    `WorkerConfig.check`); 0: Python's own collections only, nothing frozen. Call once,
    in the worker's parent, after the imports and the menu load."""
    if interval_s <= 0:
        return None
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()
    return Collector(interval_s).start()
