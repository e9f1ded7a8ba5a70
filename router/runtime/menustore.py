"""The menu file the worker serves, kept current while it runs.

A watcher thread polls the file (cheap, works on every filesystem and inside
containers with bind mounts, where inotify often does not). A changed file is
loaded and checked; only a valid one replaces the current version, and only after
its prompts are rendered, so a new call never waits for synthesis. An invalid edit
is refused with the checker's messages in the log and the last good version stays.
Calls hold on to the `MenuFile` they started with, so they are never affected.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from router.core.errors import ConfigError, MenuFileError, Severity
from router.core.loader import load_menu_file
from router.core.model import MenuFile
from router.core.voices import SpeechEngine
from router.runtime.metrics import METRICS
from router.runtime.prompts import PromptCache

__all__ = ["MenuStore"]

log = logging.getLogger(__name__)


class MenuStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        cache: PromptCache,
        engine: SpeechEngine = SpeechEngine.ESPEAK,
    ) -> None:
        """The file at `path`, its prompts rendered into `cache`; its voices checked as
        `engine` (the one that speaks them, the worker's `voice` setting) names them."""
        self.path = Path(path)
        self.cache = cache
        self.engine = engine
        self._current: MenuFile | None = None
        self._stamp: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[MenuFile], None]] = []

    @property
    def current(self) -> MenuFile:
        if self._current is None:
            raise RuntimeError("MenuStore.load() was not called")
        return self._current

    def on_change(self, listener: Callable[[MenuFile], None]) -> None:
        self._listeners.append(listener)

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def load(self) -> MenuFile:
        """Load, check and render the file; raises `MenuFileError` if it is refused."""
        stamp = self._file_stamp()
        loaded = load_menu_file(self.path, engine=self.engine)
        for warning in loaded.warnings:
            log.warning("%s", warning)
        menu_file = loaded.menu_file
        count = asyncio.run(self.cache.render_file(menu_file))
        log.info(
            "menu file %s version %s: %d menus, %d prompts rendered",
            self.path,
            menu_file.version,
            len(menu_file.menus),
            count,
        )
        self._current, self._stamp = menu_file, stamp
        for listener in self._listeners:
            listener(menu_file)
        return menu_file

    def poll(self) -> bool:
        """Reload if the file changed; True when a new version was taken."""
        stamp = self._file_stamp()
        if stamp is None:
            if self._stamp is not None:  # say it once; a file put back is read again
                log.warning(
                    "menu file %s is gone; still serving version %s",
                    self.path,
                    self._current.version if self._current else "none",
                )
                self._stamp = None
            return False
        if stamp == self._stamp:
            return False
        try:
            old = self._current.version if self._current else None
            new = self.load()
        except (MenuFileError, ConfigError) as exc:
            self._stamp = stamp  # do not re-report the same broken edit every second
            METRICS.menu_reloads.labels("refused").inc()
            log.error(
                "menu file %s changed but was refused; still serving version %s",
                self.path,
                self._current.version if self._current else "none",
            )
            for problem in getattr(exc, "problems", None) or [exc]:
                warning = getattr(problem, "severity", None) is Severity.WARNING
                log.log(logging.WARNING if warning else logging.ERROR, "%s", problem)
            return False
        if new.version == old:
            return False
        METRICS.menu_reloads.labels("ok").inc()
        log.info("menu file reloaded: version %s -> %s", old, new.version)
        return True

    def watch(self, interval: float = 1.0) -> None:
        """Poll in a daemon thread until `close()`."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.poll()
                except Exception:  # the watcher must outlive any surprise
                    log.exception("menu file watcher failed; will retry")

        self._thread = threading.Thread(target=loop, name="menu-watcher", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
