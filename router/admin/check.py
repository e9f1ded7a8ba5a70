"""`router check [PATH]`: every problem of a menu file, before any call reaches it.

Exit 0 when the file is usable (warnings, if any, on stderr); exit 1 with every
error as `FILE:LINE:COL: error: message (hint)` on stderr and a one-line summary,
the format editors and CI annotate from.
"""

from __future__ import annotations

import argparse
import os
import sys

from router.core.errors import MenuFileError, Severity
from router.core.loader import MAX_BYTES, load_menu_file

__all__ = ["add_arguments", "default_path", "run"]


def default_path() -> str:
    """`$ROUTER_MENUS` if set, else `menus.yaml` in the current folder."""
    return os.environ.get("ROUTER_MENUS") or "menus.yaml"


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
        loaded = load_menu_file(path, max_bytes=args.max_bytes)
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
