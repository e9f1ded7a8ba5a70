"""The faults of a real day, injected while the soak's calls run.

- `MenuSaver`: the menu file saved every `every_s` seconds, alternating two valid
  versions (A, B) and, once, a broken one (an option that transfers to a destination
  the file does not define: `router check` refuses it with FILE:LINE:COL).
- `Outage`: one part of the stack (`redis`, `livekit`, `sip`) stopped while calls are up
  and started again; the window it was down, and how long after the start the first
  new call was served again (`recovered_s`, filled in by the soak's probe calls).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path

from router.core.events import EndReason
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.runtime.outcomes import TransferResult
from router.runtime.records import CallRecord

__all__ = ["FAULT_ENDS", "MenuSaver", "MenuVersions", "Outage", "fault_told", "menu_versions"]

HERE = Path(__file__).parent

FAULT_ENDS: dict[str, frozenset[EndReason]] = {
    # the server went away: the router loses its room and says so; or it rejoins, the
    # caller's keys lost meanwhile, and the menu's own limit hangs up (run 5)
    "livekit": frozenset({EndReason.CONNECTION_LOST, EndReason.HANGUP}),
    # the bridge says goodbye to its callers on SIGTERM (BYE, sip.callStatus=hangup): to the
    # router that is the caller hanging up; a transfer out then fails as an error; after
    # LiveKit gave up on a transfer it is the REFER completing late (run 7: a ring-out),
    # a success the record says was only inferred (`fault_told`)
    "sip": frozenset({EndReason.CALLER_HANGUP, EndReason.HANGUP, EndReason.TRANSFERRED}),
    # Redis carries psrpc (the bridge's transfers, the server's dispatch): transfers
    # asked while it is down fail as errors, and the error policy hangs up
    "redis": frozenset({EndReason.HANGUP}),
}
"""The `end` a call cut by each fault may have instead of its expected one."""

SAID_BY_THE_END = frozenset({"sip"})
"""Faults whose reason is the record's `end` itself: the SIP bridge stopping says goodbye
to its callers as a caller's BYE does (`sip.callStatus` `hangup`, then it leaves: livekit/sip
`pkg/sip/types.go`, `CallStatus.Attribute`), so the router cannot tell them apart."""


def fault_told(record: CallRecord, parts: Set[str]) -> bool:
    """Whether a record cut by the outages of `parts` says why, never silently: the
    router's `errors` (the connection to LiveKit lost: Redis carries the server's
    signalling, livekit-server is its host) or a failed transfer's `detail` (what LiveKit
    answered while a part was down), or a fault whose reason is the end itself. A
    `transferred` end counts only as the SIP bridge's, with the success the router inferred
    from the caller leaving after LiveKit gave up, and said so (the transfer's `detail`):
    a success LiveKit answered during an outage is no fault's doing."""
    if record.end is EndReason.TRANSFERRED:
        inferred = [t for t in record.transfers if t.result is TransferResult.SUCCEEDED]
        return bool(parts & SAID_BY_THE_END) and any(t.detail for t in inferred)
    if parts & SAID_BY_THE_END:
        return True
    failed = [t for t in record.transfers if t.result is TransferResult.FAILED]
    return bool(record.errors) or any(t.detail for t in failed)


FAULT_MARGIN_S = 2.0
"""A call that ended this little before a part was stopped counts as up during the outage:
the caller's BYE was answered, but the bridge's news of it may not have reached the router."""


@dataclass(frozen=True)
class MenuVersions:
    """The texts the soak saves and the versions the router reports for the valid two."""

    a: str
    b: str
    broken: str
    version_a: str
    version_b: str
    files: dict[str, MenuFile]
    """Version -> the loaded file, to simulate a call on the version it was served with."""


def menu_versions(workdir: Path) -> MenuVersions:
    """Versions A (bench/soak/menus.yaml), B (sales on another number, another greeting)
    and the broken one; A and B are loaded once here to learn their versions."""
    a = (HERE / "menus.yaml").read_text()
    b = a.replace('"tel:+15105550101"', '"tel:+15105550102"').replace(
        "Soak. For sales", "Soak, version B. For sales"
    )
    broken = a.replace('"9": repeat', '"9": repeat\n      "3": {transfer: nowhere}')
    files = {}
    for name, text in (("a", a), ("b", b)):
        path = workdir / f"menus-{name}.yaml"
        path.write_text(text)
        loaded = load_menu_file(path).menu_file
        files[loaded.version] = loaded
    va, vb = list(files)
    return MenuVersions(a, b, broken, va, vb, files)


@dataclass
class SaveEntry:
    at: float
    """Monotonic time of the save."""
    version: str | None
    """The version saved; None for the broken file."""


@dataclass
class MenuSaver:
    """Saves the menu file every `every_s` s: A, B, A, ... with the broken file once,
    as save number `broken_at` (counting from 1)."""

    path: Path
    versions: MenuVersions
    every_s: float = 30.0
    broken_at: int = 3
    saves: list[SaveEntry] = field(default_factory=list)

    def write(self, text: str, version: str | None) -> None:
        # as an editor saves: a new file renamed over the old one
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)
        self.saves.append(SaveEntry(time.monotonic(), version))

    async def run(self, stop: asyncio.Event) -> None:
        v = self.versions
        n = valid = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.every_s)
                return
            except TimeoutError:
                pass
            n += 1
            if n == self.broken_at:
                self.write(v.broken, None)
                continue
            valid += 1
            if valid % 2:
                self.write(v.b, v.version_b)
            else:
                self.write(v.a, v.version_a)

    def good_versions_between(self, start: float, end: float) -> set[str]:
        """The versions the router may rightly serve a call it took between monotonic
        `start` and `end`: the good one at `start` and every good save up to `end`."""
        good = {self.good_version_at(start)}
        good.update(s.version for s in self.saves if start < s.at <= end and s.version)
        return good

    def good_version_at(self, t: float) -> str:
        """The version the router should serve at monotonic time `t` (the last good save
        before it: a broken save keeps the one before)."""
        good = self.versions.version_a
        for s in self.saves:
            if s.at > t:
                break
            if s.version is not None:
                good = s.version
        return good


@dataclass
class Outage:
    """One part stopped and started again."""

    part: str
    down_at: float = 0.0
    up_at: float = 0.0
    """Monotonic: stop began / the part was healthy again."""
    calls_up: int = 0
    """Calls in progress when it was stopped."""
    recovered_s: float | None = None
    """From `up_at` to the answer of the first probe call that was then served to its end."""
    probes: int = 0
    """Probe calls placed after the restart until one was served."""

    def cut(self, placed: float, ended: float) -> bool:
        """Whether a call placed and ended at these monotonic times was up during it (or
        ended just before: its last messages were still on their way through the stack)."""
        return placed < self.up_at and ended > self.down_at - FAULT_MARGIN_S
