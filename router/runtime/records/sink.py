"""Where call records go: one JSON line each, to a file or stdout, written whole."""

from __future__ import annotations

import json
import logging
import sys
import threading

from router.core.errors import ConfigError
from router.runtime.records.schema import CallRecord

log = logging.getLogger(__name__)

__all__ = ["RecordSink"]


class RecordSink:
    """Where call records go: a file (appended) or stdout; `None` path means stdout.

    The file is opened for each record: a rotated or deleted file is simply created
    again, and a write that fails (disk full, permissions changed) loses nothing: the
    record goes to the log instead.
    """

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def check(self) -> None:
        """Fail now, in one sentence, if records cannot be written: at start, not at the
        end of the first call."""
        if not self.path:
            return
        try:
            open(self.path, "a", encoding="utf-8").close()  # noqa: SIM115
        except OSError as exc:
            raise ConfigError(
                f"cannot write call records to {self.path}: {exc.strerror or exc}"
            ) from None

    def write(self, record: CallRecord) -> None:
        """Append `record` as its JSON line (`CallRecord.as_dict`: the one place a record
        becomes JSON on its way out)."""
        line = json.dumps(record.as_dict(), separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if not self.path:
                sys.stdout.write(line)
                sys.stdout.flush()
                return
            try:
                with open(self.path, "a", encoding="utf-8") as out:
                    out.write(line)
            except OSError as exc:
                log.error(
                    "cannot write a call record to %s (%s); the record: %s",
                    self.path,
                    exc.strerror or exc,
                    line.rstrip(),
                )

    def close(self) -> None:
        """Nothing stays open between records; kept for callers that close sinks."""
