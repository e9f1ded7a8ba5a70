"""Instructions a load of the loader benchmark's file takes, counted by callgrind.

The loader's figure (10,000 menus read, converted and checked in under a second) was
measured on a machine that ran three times the instructions a second this one runs
today, so it is held as instructions, which a busy machine does not change: 945 million
per 1,000 menus at the figure's own commit, cd0875f (docs/benchmarks.md §6).

    python -m bench.instructions [--menus 1000] [--stages load compose read check]

Each stage runs under valgrind's callgrind in a child Python that makes the stage's call
twice inside one `functools.reduce`, the only place instructions are collected
(`--toggle-collect=functools_reduce`); half the count is printed, in millions. A stage
includes freeing what the call before it made, as a load frees its node tree. Needs
valgrind (Debian: `apt-get install valgrind`); a stage takes about a minute.
"""

from __future__ import annotations

import argparse
import functools
import gc
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.bench_loader import menu_file_text

STAGES = ("load", "compose", "read", "check")
"""A whole `load_menu_text`; the text to a node tree; the tree to a `MenuFile`; the checks."""


def stage_call(stage: str, menus: int) -> Callable[[], object]:
    """The call one stage makes, everything before it done already."""
    from router.core.checker import check
    from router.core.loader import load_menu_text
    from router.core.loader.document import MenuReader
    from router.core.loader.source import compose_source

    data = menu_file_text(menus).encode()
    folder = Path(tempfile.gettempdir())
    source = compose_source(data, "bench.yaml")
    assert source.root is not None
    root = source.root
    menu_file = MenuReader("bench.yaml", folder).read(root, "bench")
    assert menu_file is not None

    def checks() -> object:
        menu_file._objects.clear()  # the walk of `values_of` is the checks' own work
        return check(menu_file, base_dir=folder)

    return {
        "load": lambda: load_menu_text(data, filename="bench.yaml", base_dir=folder),
        "compose": lambda: compose_source(data, "bench.yaml"),
        "read": lambda: MenuReader("bench.yaml", folder).read(root, "bench"),
        "check": checks,
    }[stage]


def count(stage: str, menus: int) -> float:
    """Millions of instructions one call of `stage` takes (callgrind)."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                "--toggle-collect=functools_reduce",
                f"--callgrind-out-file={tmp}/callgrind.out",
                sys.executable,
                "-m",
                "bench.instructions",
                "--child",
                stage,
                "--menus",
                str(menus),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    collected = re.search(r"Collected : (\d+)", proc.stderr)
    if collected is None:
        raise RuntimeError(f"callgrind said no count: {proc.stderr[-500:]}")
    return int(collected.group(1)) / 2 / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--menus", type=int, default=1000)
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=["load"])
    parser.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        work = stage_call(args.child, args.menus)
        gc.disable()  # as `read_menu_text` runs: the collector paused
        functools.reduce(lambda _, __: work(), [0, 0], None)
        return 0
    for stage in args.stages:
        print(f"{stage:>8}: {count(stage, args.menus):,.1f} M instructions, {args.menus} menus")
    return 0


if __name__ == "__main__":
    sys.exit(main())
