"""Where a worker's memory is: an operator's tool for a router whose RSS grows.

`ROUTER_MEMORY_DUMP=DIR` (read at `router start`): on SIGUSR1 the worker writes
`DIR/mem-N.txt` with its RSS, the garbage in reference cycles by type and the RSS once it
is collected, the live Python objects by type (the router's and the
SDK's own named first: rooms, sessions, FFI handles), and glibc's heap figures before and
after `malloc_trim(0)` (``mallinfo2``: in use vs free). Python objects that grow with the
calls served point at a reference kept; glibc "in use" growing while they do not points
at native memory (the rtc library); "free" growing, or RSS falling after the trim, at
fragmentation. `ROUTER_MEMORY_TRACE=1` also starts `tracemalloc` (slow: for a test
machine) and adds the allocations grown since the first dump. Found the soak's growth
(issue 18, docs/reliability.md).
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import gc
import signal
import threading
import tracemalloc
from pathlib import Path

from router.settings import diagnostic

__all__ = ["install"]

DUMP_ENV = "ROUTER_MEMORY_DUMP"
TRACE_ENV = "ROUTER_MEMORY_TRACE"
"""Both declared in `router.settings.DIAGNOSTICS`."""
WATCHED = (
    "CallSession", "Player", "Room", "JobContext", "FfiHandle", "AudioSource",
    "LocalAudioTrack", "Task", "Thread", "ClientSession", "LiveKitAPI",
)  # fmt: skip
"""Types counted by name in every dump, whether or not they are among the most numerous."""
TOP_TYPES = 40
TOP_ALLOCATIONS = 25


class _Mallinfo2(ctypes.Structure):
    """glibc's `struct mallinfo2` (malloc.h), every field in bytes or counts."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


class _Dumper:
    def __init__(self, where: Path) -> None:
        self.where = where
        self.first: tracemalloc.Snapshot | None = None
        self.serial = 0
        self.lock = threading.Lock()
        libc = ctypes.util.find_library("c")
        self.libc = ctypes.CDLL(libc) if libc else None
        if self.libc is not None and not hasattr(self.libc, "mallinfo2"):
            self.libc = None  # not glibc 2.33+: the Python figures only
        if self.libc is not None:
            self.libc.mallinfo2.restype = _Mallinfo2

    def dump(self) -> None:
        with self.lock:
            lines = [f"rss {_rss_kb()} kB"]
            runs = ", ".join(str(g["collections"]) for g in gc.get_stats())
            lines += [
                f"gc collections by generation so far {runs}; frozen {gc.get_freeze_count()}",
                *_cycles(),
            ]
            counts = collections.Counter(type(o).__name__ for o in gc.get_objects())
            lines += [f"watched {name}: {counts.get(name, 0)}" for name in WATCHED]
            lines += [f"{n:9d} {name}" for name, n in counts.most_common(TOP_TYPES)]
            lines += self._native()
            lines += self._allocations()
            self.where.mkdir(parents=True, exist_ok=True)
            (self.where / f"mem-{self.serial}.txt").write_text("\n".join(lines) + "\n")
            self.serial += 1

    def _native(self) -> list[str]:
        lines = []
        try:
            from livekit.rtc import _ffi_client

            lines.append(f"live rtc FFI handles {len(_ffi_client._live_handles)}")
        except (ImportError, AttributeError):  # another livekit version: skip that line
            pass
        if self.libc is None:
            return lines
        lines.append("glibc " + _mallinfo_line(self.libc.mallinfo2()))
        self.libc.malloc_trim(0)
        lines.append(
            f"after malloc_trim(0): rss {_rss_kb()} kB, glibc "
            + _mallinfo_line(self.libc.mallinfo2())
        )
        return lines

    def _allocations(self) -> list[str]:
        if not tracemalloc.is_tracing():
            return []
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        now, peak = tracemalloc.get_traced_memory()
        lines = [f"python traced {now // 1024} kB (peak {peak // 1024} kB)"]
        if self.first is None:
            self.first = snapshot
            return lines
        for stat in snapshot.compare_to(self.first, "traceback")[:TOP_ALLOCATIONS]:
            lines.append(str(stat))
            lines += ["    " + line for line in stat.traceback.format()[-12:]]
        return lines


def _cycles() -> list[str]:
    """Collect the garbage in reference cycles, naming it by type first, and the RSS
    after: objects the collector alone frees (an FFI handle's native memory goes with
    them) show as a fall here, which the counts below, taken after, no longer show."""
    flags = gc.get_debug()
    gc.set_debug(flags | gc.DEBUG_SAVEALL)  # keep what it finds in gc.garbage to count it
    try:
        found = gc.collect()
        counts = collections.Counter(type(o).__name__ for o in gc.garbage)
    finally:
        gc.garbage.clear()
        gc.set_debug(flags)
    gc.collect()  # now free them
    lines = [f"in reference cycles {found} objects; rss after collecting them {_rss_kb()} kB"]
    lines += [f"  cyclic {n:7d} {name}" for name, n in counts.most_common(TOP_TYPES // 2)]
    return lines


def _mallinfo_line(m: _Mallinfo2) -> str:
    mb = 1 << 20
    return (
        f"heap {m.arena // mb} MB: in use {m.uordblks // mb} MB, free {m.fordblks // mb} MB; "
        f"mmapped {m.hblkhd // mb} MB in {m.hblks}"
    )


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def install() -> None:
    """Dump on SIGUSR1 if `ROUTER_MEMORY_DUMP` names a directory (main thread only).

    The dump runs in its own thread: a handler must not hold the worker's loop for the
    second or more that `gc.get_objects()` takes with many calls up."""
    where = diagnostic(DUMP_ENV)
    if not where:
        return
    if diagnostic(TRACE_ENV):
        tracemalloc.start(12)
    dumper = _Dumper(Path(where))
    signal.signal(
        signal.SIGUSR1,
        lambda *_: threading.Thread(target=dumper.dump, name="memory-dump", daemon=True).start(),
    )
