"""`ROUTER_MEMORY_DUMP`: SIGUSR1 writes where the worker's memory is (docs/runtime.md)."""

from __future__ import annotations

import gc
import os
import signal
import threading
from pathlib import Path

import pytest

from router.runtime import memdebug


class Ring:
    """Garbage only the cycle collector frees: it refers to itself."""

    def __init__(self) -> None:
        self.me = self


def test_sigusr1_writes_the_objects_by_type_and_glibcs_heap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(memdebug.DUMP_ENV, str(tmp_path / "dumps"))
    before = signal.getsignal(signal.SIGUSR1)
    gc.collect()  # earlier tests' garbage would crowd the rings out of the dump's top types
    gc.disable()  # the rings stay garbage until the dump collects them
    try:
        for _ in range(3):
            Ring()
        memdebug.install()
        os.kill(os.getpid(), signal.SIGUSR1)
        for thread in threading.enumerate():
            if thread.name == "memory-dump":
                thread.join()
    finally:
        gc.enable()
        signal.signal(signal.SIGUSR1, before)
    text = (tmp_path / "dumps" / "mem-0.txt").read_text()
    assert text.startswith("rss ")
    assert "gc collections by generation so far" in text
    assert "  cyclic       3 Ring\n" in text  # named by type before they are freed
    assert "watched CallSession: 0" in text
    assert "live rtc FFI handles" in text
    assert "after malloc_trim(0)" in text  # glibc here: in use and free, trimmed


def test_without_the_variable_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(memdebug.DUMP_ENV, raising=False)
    before = signal.getsignal(signal.SIGUSR1)
    memdebug.install()
    assert signal.getsignal(signal.SIGUSR1) is before
