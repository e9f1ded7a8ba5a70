"""`router graph`: the options, which numbers to draw (by number or voice), the picture written.

Graphviz's `dot` is run only for svg and png; mermaid and dot are text."""

from __future__ import annotations

import argparse
import os
import sys

from router.admin.check import default_path, load_or_report, number_argument
from router.admin.graph.building import build
from router.admin.graph.nodes import Graph
from router.admin.graph.writers import dot, mermaid
from router.core.model import (
    Entry,
    MenuFile,
)
from router.core.suggest import suggest
from router.core.voices import is_english

__all__ = ["EXTENSIONS", "FORMATS", "add_arguments", "run"]

FORMATS = ("mermaid", "dot", "svg", "png")
"""The formats `--format` takes."""

EXTENSIONS = {
    ".svg": "svg",
    ".png": "png",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}
"""The format `-o FILE` implies, by the file's extension."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", help="the menu file (default: $ROUTER_MENUS or ./menus.yaml)"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--number",
        type=number_argument,
        metavar="E164",
        help="draw only what callers of this number reach, e.g. +15105550151 (or default)",
    )
    which.add_argument(
        "--voice",
        "--language",
        metavar="VOICE",
        help="draw only the numbers whose first menu speaks this voice (es: es, es-419, ...; "
        "en: also menus with the router's own voice)",
    )
    parser.add_argument(
        "--failures",
        action="store_true",
        help="also draw what happens after a failed transfer (busy, no answer, ...)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the picture to FILE, in the format its extension names "
        "(.svg, .png, .dot or .gv, .mmd or .mermaid)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="mermaid (paste into Markdown; the default), dot (Graphviz), or svg and png "
        "(need Graphviz's dot); wins over the extension of -o",
    )


def run(args: argparse.Namespace) -> int:
    output: str | None = args.output
    fmt: str | None = args.format
    if fmt is None and output:
        fmt = EXTENSIONS.get(os.path.splitext(output)[1].lower())
        if fmt is None:
            *most, last = EXTENSIONS
            known = f"{', '.join(most)} or {last}"
            print(
                f"router graph: cannot tell the format from {output!r}: "
                f"end its name in {known}, or give --format.",
                file=sys.stderr,
            )
            return 2
    fmt = fmt or "mermaid"
    if fmt == "png" and output is None and sys.stdout.isatty():
        print(
            "router graph: a PNG is not text: write it to a file with -o graph.png.",
            file=sys.stderr,
        )
        return 2
    menu_file = load_or_report(args.path or default_path(), "graph")
    if menu_file is None:
        return 1
    numbers = _chosen(menu_file, args.number, args.voice)
    if numbers is None:
        return 1
    graph = build(menu_file, numbers=numbers, failures=args.failures, lines=True)
    picture = _render(graph, fmt)
    if picture is None:
        return 1
    if output is not None:
        _write(output, picture.encode() if isinstance(picture, str) else picture)
    elif isinstance(picture, bytes):
        sys.stdout.buffer.write(picture)
    else:
        sys.stdout.write(picture)
    return 0


def _write(path: str, data: bytes) -> None:
    """The picture to a file; an OSError becomes `router graph: <reason>: <path>`."""
    with open(path, "wb") as f:
        f.write(data)


def _chosen(menu_file: MenuFile, number: str | None, voice: str | None) -> list[str] | None:
    """The entries to draw (every one when neither is given); None after saying why not."""
    if number is not None:
        entry = menu_file.entry_for(None if number == "default" else number)
        if entry.number == "default" and number != "default":
            close = suggest(number, menu_file.entries)
            hint = f" (did you mean {close}?)" if close else ""
            print(
                f"router graph: {number} is not one of the numbers in the file: calls to it "
                f"start as the 'default' entry says, which is drawn{hint}",
                file=sys.stderr,
            )
        return [entry.number]
    if voice is None:
        return list(menu_file.entries)
    chosen = [
        n for n, entry in menu_file.entries.items() if _speaks(_voice_of(menu_file, entry), voice)
    ]
    if chosen:
        return chosen
    spoken: dict[str, list[str]] = {}
    for n, entry in menu_file.entries.items():
        spoken.setdefault(_voice_of(menu_file, entry) or "the router's voice", []).append(n)
    said = "; ".join(f"{v}: {', '.join(ns)}" for v, ns in spoken.items())
    print(
        f"router graph: no number's first menu speaks {voice!r} (the numbers speak {said})",
        file=sys.stderr,
    )
    return None


def _voice_of(menu_file: MenuFile, entry: Entry) -> str | None:
    """The voice a number's calls start in: its language's (a file with `languages`), else
    its first menu's."""
    language = menu_file.languages.get(entry.language or menu_file.default_language or "")
    if language is not None:
        return language.voice
    menu = menu_file.menus.get(entry.menu)
    return menu.voice if menu else None


def _speaks(voice: str | None, wanted: str) -> bool:
    """Whether a menu's voice is the one asked for: the same name, or the same language
    when only a language is asked for (`es` picks `es-419`); no voice is the router's
    own, English."""
    want = wanted.strip().lower().replace("_", "-")
    if voice is None:
        return is_english(want)
    have = voice.strip().lower().replace("_", "-")
    return have == want or ("-" not in want and have.split("-")[0] == want)


def _render(graph: Graph, fmt: str) -> str | bytes | None:
    """The picture in `fmt`; None after saying why it cannot be drawn."""
    if fmt == "mermaid":
        return mermaid(graph)
    text = dot(graph)
    if fmt == "dot":
        return text
    import shutil  # only to draw: mermaid and dot are text (docs/benchmarks.md §7)
    import subprocess

    program = shutil.which("dot")
    if program is None:
        print(
            f"router graph: {fmt} needs Graphviz's `dot`, which is not installed "
            "(apt-get install graphviz, or use --format dot or mermaid).",
            file=sys.stderr,
        )
        return None
    done = subprocess.run(
        [program, f"-T{fmt}"], input=text.encode(), capture_output=True, check=False
    )
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()
        print(f"router graph: dot failed: {error}", file=sys.stderr)
        return None
    return done.stdout if fmt == "png" else done.stdout.decode()
