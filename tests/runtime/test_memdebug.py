"""`ROUTER_MEMORY_DUMP`: SIGUSR1 writes where the worker's memory is (docs/runtime.md)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from router.runtime import memdebug


def test_sigusr1_writes_the_objects_by_type_and_glibcs_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memdebug.DUMP_ENV, str(tmp_path / "dumps"))
    before = signal.getsignal(signal.SIGUSR1)
    try:
        memdebug.install()
        os.kill(os.getpid(), signal.SIGUSR1)
        for thread in threading.enumerate():
            if thread.name == "memory-dump":
                thread.join()
    finally:
        signal.signal(signal.SIGUSR1, before)
    text = (tmp_path / "dumps" / "mem-0.txt").read_text()
    assert text.startswith("rss ")
    assert "watched CallSession: 0" in text
    assert "live rtc FFI handles" in text
    assert "after malloc_trim(0)" in text  # glibc here: in use and free, trimmed


def test_without_the_variable_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memdebug.DUMP_ENV, raising=False)
    before = signal.getsignal(signal.SIGUSR1)
    memdebug.install()
    assert signal.getsignal(signal.SIGUSR1) is before
