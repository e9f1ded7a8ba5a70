"""`router report`: how callers used the menus, from the router's call records.

The command reads every file (`reading`), folds the records into counters (`counting`,
through the typed `CallRecord`) and makes one `Report` (`figures`), written as text for
the terminal (`terminal`), JSON for scripts (schema in docs/report.md), or the menu
graph of `router graph` drawn with the calls on it (`picture`: SVG or a self-contained
HTML page).

This package imports neither LiveKit nor aiohttp: the command starts in a blink.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from router.admin.check import aware_time
from router.admin.report.counting import NOT_RECORDED, PATH_TABLE, ReportBuilder
from router.admin.report.figures import (
    SCHEMA,
    Damaged,
    DestinationReport,
    MenuReport,
    OptionCount,
    PathCount,
    Report,
    VersionCount,
)
from router.admin.report.reading import read_records
from router.admin.report.terminal import text
from router.core.model import MenuFile

__all__ = [
    "NOT_RECORDED",
    "PATH_TABLE",
    "SCHEMA",
    "Damaged",
    "DestinationReport",
    "MenuReport",
    "OptionCount",
    "PathCount",
    "Report",
    "ReportBuilder",
    "VersionCount",
    "add_arguments",
    "read_records",
    "run",
    "text",
]


# --- the command -----------------------------------------------------------------------

FORMATS = ("text", "json", "svg", "html")
EXTENSIONS = {".txt": "text", ".json": "json", ".svg": "svg", ".html": "html", ".htm": "html"}


def _zone(value: str) -> tzinfo:
    if value.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"not a time zone: {value!r} (an IANA name, e.g. America/New_York)"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="CALLS.jsonl", help="call records, JSON lines (- for stdin)"
    )
    parser.add_argument(
        "--since",
        type=aware_time,
        metavar="ISO-8601",
        help="only calls started at or after this time",
    )
    parser.add_argument(
        "--until", type=aware_time, metavar="ISO-8601", help="only calls started before this time"
    )
    parser.add_argument(
        "--menus",
        metavar="PATH",
        help="the menu file: draws the picture, names menus that are no longer in it",
    )
    parser.add_argument(
        "--tz", type=_zone, default=UTC, metavar="ZONE", help="zone of the hours of day (UTC)"
    )
    parser.add_argument(
        "--paths", type=int, default=10, metavar="N", help="most common paths shown (10)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="text (the default), json (docs/report.md), svg or html (need --menus for the "
        "graph); wins over the extension of -o",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (format from its extension)"
    )


def run(args: argparse.Namespace) -> int:
    fmt: str | None = args.format
    if fmt is None and args.output:
        fmt = EXTENSIONS.get(os.path.splitext(args.output)[1].lower())
        if fmt is None:
            print(
                f"router report: cannot tell the format from {args.output!r}: end its name in "
                ".txt, .json, .svg or .html, or give --format.",
                file=sys.stderr,
            )
            return 2
    fmt = fmt or "text"
    if args.since and args.until and args.until <= args.since:
        print("router report: --until must be later than --since.", file=sys.stderr)
        return 2
    menu_file: MenuFile | None = None
    if args.menus:
        from router.admin.check import load_or_report

        menu_file = load_or_report(args.menus, "report")
        if menu_file is None:
            return 1
    if fmt == "svg" and menu_file is None:
        print(
            "router report: the picture is the menu graph: give the menu file with --menus.",
            file=sys.stderr,
        )
        return 2
    missing = [p for p in args.files if p != "-" and not os.path.isfile(p)]
    if missing:
        print(f"router report: no such file: {missing[0]}", file=sys.stderr)
        return 1
    builder = ReportBuilder(since=args.since, until=args.until, zone=args.tz, menu_file=menu_file)
    read_records(args.files, builder, progress=sys.stderr)
    report = builder.report(top_paths=args.paths)
    if builder.records == 0 and builder.damaged:
        print(
            f"router report: no call records in {', '.join(builder.files)}: "
            f"{builder.damaged:,} damaged line(s), the first at {builder.damaged_lines[0].where}.",
            file=sys.stderr,
        )
        return 1
    output: str | bytes
    if fmt == "json":
        output = json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "text":
        output = text(report)
    else:
        from router.admin.report import picture as drawing

        picture = drawing.svg(report, menu_file) if menu_file is not None else None
        if fmt == "svg":
            if picture is None:
                return 1
            output = picture
        else:
            output = drawing.page(report, picture)
    if report.damaged and fmt != "text":
        print(
            f"router report: {report.damaged:,} damaged line(s) skipped, the first at "
            f"{report.damaged_lines[0].where} ({report.damaged_lines[0].why})",
            file=sys.stderr,
        )
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(output)
    else:
        sys.stdout.write(output)
    return 0
