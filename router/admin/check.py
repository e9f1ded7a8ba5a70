"""`router check [PATH]`: every problem of a menu file, before any call reaches it.

Exit 0 when the file is usable (warnings, if any, on stderr); exit 1 with every
error as `FILE:LINE:COL: error: message (hint)` on stderr and a one-line summary,
the format editors and CI annotate from.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime

from router.core.errors import MenuFileError, Problem, Severity
from router.core.loader import MAX_BYTES, Loaded, load_menu_file
from router.core.model import MenuFile
from router.core.values import Finding, caller_number_problem, number_key_problem
from router.settings import flag_default, speech_engine

__all__ = [
    "add_arguments",
    "aware_time",
    "caller_argument",
    "default_path",
    "load_menus",
    "load_or_report",
    "number_argument",
    "run",
]


def default_path() -> str:
    """`$ROUTER_MENUS` if set, else `menus.yaml` in the current folder (router/settings.py)."""
    return flag_default("menus")


def load_menus(path: str, *, max_bytes: int = MAX_BYTES) -> Loaded:
    """`load_menu_file`, the voices judged for the engine `ROUTER_VOICE` names, as the
    worker will judge them (an admin command has no `--voice`; `router prompts` does)."""
    return load_menu_file(path, max_bytes=max_bytes, engine=speech_engine())


def load_or_report(
    path: str, command: str, load: Callable[[str], Loaded] | None = None
) -> MenuFile | None:
    """Load and check a menu file (with `load`, else `load_menus`: `router test`
    passes one that keeps what it read); on errors print every one on stderr, as `router
    check` words them, and return None so that the command exits 1."""
    try:
        loaded = (load or load_menus)(path)
    except MenuFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"router {command}: {len(exc.errors)} error(s) in {path}", file=sys.stderr)
        return None
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    return loaded.menu_file


def _argument(problem: Callable[[str], Finding | None]) -> Callable[[str], str]:
    """An argparse type from a value rule: the value stripped, or
    argparse.ArgumentTypeError with the rule's message and hint (one sentence)."""

    def parse(text: str) -> str:
        found = problem(text.strip())
        if found is not None:
            hint = f": {found.hint}" if found.hint else ""
            raise argparse.ArgumentTypeError(found.message + hint)
        return text.strip()

    return parse


number_argument = _argument(number_key_problem)
"""An argparse type for `--number`: the menu file's rule for the keys of `numbers`
(`router.core.values.number_key_problem`), so `router simulate --number`, `router graph
--number` and test files refuse what `router check` refuses, in the same words."""
caller_argument = _argument(caller_number_problem)
"""An argparse type for `--caller`: the core's rule for one caller's number
(`router.core.values.caller_number_problem`: E.164, or `anonymous`)."""


def aware_time(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with its zone (`--at`, `--since`, `--until`);
    argparse.ArgumentTypeError (one sentence) for anything else."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone; add one, e.g. {text}+01:00 or {text}Z"
        )
    return at


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default=None,
        help="the menu file (default: $ROUTER_MENUS or ./menus.yaml)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing when the file is valid"
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=MAX_BYTES,
        help=f"refuse larger files (default: {MAX_BYTES:,})",
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def run(args: argparse.Namespace) -> int:
    path: str = args.path or default_path()
    try:
        loaded = load_menus(path, max_bytes=args.max_bytes)
        _audio_plays(loaded.menu_file, loaded.warnings)
    except MenuFileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity is Severity.ERROR for p in exc.problems)
        warnings = len(exc.problems) - errors
        counts = f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
        print(f"{path}: {counts}; the file cannot be used", file=sys.stderr)
        return 1
    for warning in loaded.warnings:
        print(warning, file=sys.stderr)
    if not args.quiet:
        mf = loaded.menu_file
        print(
            f"{path}: OK, {_count(len(mf.menus), 'menu')}, {_count(len(mf.entries), 'number')}, "
            f"{_count(len(mf.destinations), 'destination')}, "
            f"{_count(len(loaded.warnings), 'warning')} "
            f"(version {mf.version})"
        )
    return 0


def _audio_plays(menu_file: MenuFile, warnings: tuple[Problem, ...]) -> None:
    """Decode the audio files, as the router will when it loads the file: a file that
    exists but cannot be played is refused here, not at start or reload."""
    prompts = [p for p in menu_file.prompts() if p.audio]
    if not prompts:
        return  # no need to load the decoder
    from router.runtime.audiofile import audio_problems

    found = audio_problems(prompts)
    if found:
        raise MenuFileError(sorted([*found, *warnings], key=lambda p: p.location))
