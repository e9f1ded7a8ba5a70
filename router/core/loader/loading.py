"""From a path or a text to a checked `MenuFile`, or every reason it cannot be one."""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from router.core import format as fmt
from router.core.checker import check
from router.core.errors import Location, MenuFileError, Problem, Severity
from router.core.loader.document import MenuReader
from router.core.loader.nodes import MAX_PROBLEMS
from router.core.loader.source import MAX_BYTES, MENU_FILE, compose_source, read_bytes, too_big
from router.core.model import MenuFile
from router.core.patterns import compiled
from router.core.voices import SpeechEngine

__all__ = ["MAX_BYTES", "Loaded", "load_menu_file", "load_menu_text", "read_menu_text"]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A menu file that passed every check, and the warnings it still deserves."""

    menu_file: MenuFile
    warnings: tuple[Problem, ...]


def load_menu_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_BYTES,
    engine: SpeechEngine = SpeechEngine.ESPEAK,
) -> Loaded:
    """Read, convert and check a menu file; raise `MenuFileError` with every problem found.

    `engine` is what will speak the menus: the voices are checked as it names them (the
    caller passes its `voice` setting's, router/settings.py; default the built-in espeak-ng).
    """
    name = os.fspath(path)
    data = read_bytes(name, MENU_FILE, max_bytes)
    if isinstance(data, Problem):
        raise MenuFileError([data])
    return load_menu_text(
        data,
        filename=name,
        base_dir=Path(name).resolve().parent,
        max_bytes=max_bytes,
        engine=engine,
    )


def load_menu_text(
    text: str | bytes,
    *,
    filename: str,
    base_dir: Path,
    max_bytes: int = MAX_BYTES,
    engine: SpeechEngine = SpeechEngine.ESPEAK,
) -> Loaded:
    """Convert and check the text of a menu file; raise `MenuFileError` with every problem found.

    `filename` is only used in messages; audio paths are resolved against `base_dir`;
    `engine` as for `load_menu_file`.
    """
    menu_file, problems = read_menu_text(
        text, filename=filename, base_dir=base_dir, max_bytes=max_bytes, engine=engine
    )
    if menu_file is None or any(p.severity is Severity.ERROR for p in problems):
        raise MenuFileError(problems)
    return Loaded(menu_file, tuple(problems))


def read_menu_text(
    text: str | bytes,
    *,
    filename: str,
    base_dir: Path,
    max_bytes: int = MAX_BYTES,
    engine: SpeechEngine = SpeechEngine.ESPEAK,
) -> tuple[MenuFile | None, list[Problem]]:
    """Like `load_menu_text`, but return the problems (errors and warnings) instead of raising.

    The menu file is None when nothing usable could be read; otherwise it is the best
    reading of the file, which is only safe to use if no problem is an error.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if len(data) > max_bytes:
        return None, [too_big(Location(filename, 1, 1), len(data), max_bytes)]
    with _no_gc():
        source = compose_source(data, filename, MENU_FILE)
        if source.root is None:
            if source.syntax_error:  # `#:` above an indented action breaks the YAML: name it first
                return None, [*_unquoted_pound_keys(source.text, filename), *source.problems]
            return None, source.problems
        problems = [*source.problems, *_unquoted_pound_keys(source.text, filename)]
        reader = MenuReader(filename, base_dir)
        menu_file = reader.read(source.root, hashlib.sha256(data).hexdigest()[:12])
        problems.extend(reader.ctx.problems)
        incomplete = frozenset(reader.ctx.incomplete)
        # Drop the node tree while the collector is still off: freed by reference counting,
        # it never has to be walked by a collection (a quarter of the time for big files).
        del source, reader
        if menu_file is not None:
            problems.extend(
                check(menu_file, incomplete=incomplete, base_dir=base_dir, engine=engine)
            )
    problems.sort(key=lambda p: (p.location.line, p.location.column))
    if len(problems) > MAX_PROBLEMS:
        errors = sum(p.severity is Severity.ERROR for p in problems[MAX_PROBLEMS:])
        last = problems[MAX_PROBLEMS - 1].location
        problems = problems[:MAX_PROBLEMS] + [
            Problem(
                last,
                f"... and {len(problems) - MAX_PROBLEMS:,} more problems ({errors:,} errors) "
                "after this line",
                severity=Severity.ERROR if errors else Severity.WARNING,
                hint="fix these first; is this the right file?",
                code="too-many-problems",
            )
        ]
    return menu_file, problems


_POUND_KEY = r"^(\s*)#\s*:(.*)$"
_POUND_COLON = r"#\s*:"
"""What every `_POUND_KEY` line holds: a file without it has none."""
_ACTION_START = rf"(?i)^(?:{'|'.join(fmt.SHORT_ACTIONS)})\b|^[{{\"']"
"""An action after `#:`: a short action's word (`format.SHORT_ACTIONS`), or a mapping or
a quoted word."""


def _unquoted_pound_keys(text: str, filename: str) -> Iterator[Problem]:
    """`#: hangup` is a YAML comment, not an option: the caller's # would do nothing.

    An error when what follows is an action (`#: hangup`, `#: {transfer: x}`, or `#:`
    with the action indented on the lines below); a warning when it reads like prose
    (`#: see the wiki`), which may be a comment the admin meant.
    """
    if "#" not in text or not compiled(_POUND_COLON).search(text):
        return  # one scan of the text; most files quote their "#" keys
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        m = compiled(_POUND_KEY).match(line)
        if m is None:
            continue
        indent, rest = m.group(1), m.group(2).strip()
        if rest:
            action = bool(compiled(_ACTION_START).match(rest))
        else:
            below = next((n for n in lines[number:] if n.strip()), "")
            action = len(below) - len(below.lstrip()) > len(indent)
            if not action:
                continue  # `#:` alone, nothing under it: a comment, nothing was lost
        yield Problem(
            Location(filename, number, len(indent) + 1),
            "this line is a comment, so it defines no option: an unquoted # starts a YAML comment",
            severity=Severity.ERROR if action else Severity.WARNING,
            hint='to use the # key, quote it: "#":',
            code="pound-comment",
        )


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cycle collector while building hundreds of thousands of acyclic objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
