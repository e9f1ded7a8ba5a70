"""`router schema`: the JSON Schema (draft 2020-12) of the menu file, for editors.

It is generated from `router.core.format`, the same description the loader reads
files by, so the editor and the router cannot disagree. The repository keeps a copy
as `menus.schema.json`; a test checks it is current. Point an editor at it with the
first line of menus.yaml: `# yaml-language-server: $schema=./menus.schema.json`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from router.core.format import schema_text

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write the schema to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
