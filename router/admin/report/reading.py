"""Reading call records: every line of every file streamed into the counters.

The records (JSON lines, docs/runtime.md "Call records") are read line by line and
handed on as they stream by (`ReportBuilder.line`); none is kept. Progress goes to
stderr on long runs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import IO

from router.admin.report.counting import ReportBuilder

PROGRESS_AFTER_S = 2.0
"""Seconds after which progress is shown on stderr (then about once a second)."""
PROGRESS_EVERY_S = 1.0


# --- reading ---------------------------------------------------------------------------


def read_records(
    paths: Iterable[str], builder: ReportBuilder, *, progress: IO[str] | None = None
) -> None:
    """Stream every line of every file (`-`: stdin) into `builder`."""
    started = time.monotonic()
    shown = started
    lines = 0
    for path in paths:
        name = "stdin" if path == "-" else path
        size = 0 if path == "-" else os.path.getsize(path)
        source = sys.stdin if path == "-" else open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
        try:
            read = 0  # characters: about the bytes (a text file cannot tell() while iterated)
            for number, line in enumerate(source, 1):
                builder.line(name, number, line)
                lines += 1
                read += len(line)
                if progress is not None and lines % 8192 == 0:
                    now = time.monotonic()
                    if now - started >= PROGRESS_AFTER_S and now - shown >= PROGRESS_EVERY_S:
                        shown = now
                        done = f", {min(1.0, read / size):.0%} of {name}" if size else ""
                        print(
                            f"router report: {lines:,} lines read{done} ({now - started:.0f} s)",
                            file=progress,
                            flush=True,
                        )
        finally:
            if source is not sys.stdin:
                source.close()
