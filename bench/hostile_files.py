"""Hostile files, and how fast the router refuses them: menu files and `router test` files.

The tests (tests/hardening/test_hostile.py, tests/admin/test_menutest.py) hold the
work each refusal takes to a count that does not depend on the machine: the Python
calls made (`count_calls`, a profiler's count; libyaml's C work is not included),
the bytes read, the memory traced. The time each takes is measured here, a median of
`--repeat` runs, with the machine's load beside it (docs/benchmarks.md §6):

    python -m bench.hostile_files [--repeat 21]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from router.core.loader import MAX_BYTES, read_menu_text

__all__ = [
    "HOSTILE",
    "HOSTILE_TEST_FILES",
    "WORST_LEGAL",
    "count_calls",
    "laughs",
    "main",
]

T = TypeVar("T")


def laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _merge_bomb() -> str:
    """Merge keys (`<<`) that each pull in ten copies of the previous mapping."""
    text = "m0: &m0 {k: v}\n"
    for i in range(1, 10):
        text += f"m{i}: &m{i}\n  <<: [{', '.join([f'*m{i - 1}'] * 10)}]\n  k{i}: v\n"
    return text


HOSTILE: dict[str, tuple[Callable[[], str | bytes], str]] = {
    "deep flow nesting": (
        lambda: "x: " + "[" * 450_000 + "]" * 450_000,
        "nested more than 64 levels deep",
    ),
    "deep block nesting": (
        lambda: "".join(f"{' ' * i}k{i}:\n" for i in range(1_000)),
        "nested more than 64 levels deep",
    ),
    "billion laughs": (laughs, "aliases expand this file beyond 100,000 extra values"),
    "merge-key bomb": (_merge_bomb, "aliases expand this file beyond 100,000 extra values"),
    "an alias repeating a large list": (
        lambda: "a: &a [" + ",".join(["1"] * 60_000) + "]\nb: *a\nc: *a\n",
        "aliases expand this file beyond 100,000 extra values",
    ),
    "recursive alias": (lambda: "a: &a [*a]\n", "refers to a node that contains it"),
    "binary junk": (lambda: os.urandom(900_000), "binary data"),
    "a NUL byte after text": (
        lambda: "version: 1\n" * 1000 + "\x00" + "menus: {}\n",
        "this is not a text file (it contains binary data)",
    ),
    "non-UTF-8 (Latin-1)": (
        lambda: ("version: 1\n" + "# caf\xe9\n" * 50_000).encode("latin-1"),
        "the file is not UTF-8 text (byte 0xE9 here)",
    ),
    "UTF-16": (lambda: ("version: 1\n" * 1000).encode("utf-16"), "UTF-16, not UTF-8"),
    "over the size limit": (lambda: "#" * (MAX_BYTES + 1), "menu files are limited"),
    "a Python object tag": (
        lambda: (
            "version: 1\nmenus: !!python/object/apply:os.system\n"
            '  {m: {greeting: hi, options: {"#": hangup}}}\n'
        ),
        "custom YAML tag",
    ),
}


"""Each hostile menu file, by name: how to make it, and what the refusal says."""

WORST_LEGAL: dict[str, Callable[[], str]] = {
    "a megabyte of keys": lambda: "".join(f"k{i}: v\n" for i in range(130_000))[:MAX_BYTES],
    "a megabyte of empty lists": lambda: "x: [" + "[]," * 333_000 + "]\n",
    "a megabyte of anchors": lambda: "".join(f"a{i}: &x{i} v\n" for i in range(70_000))[:MAX_BYTES],
}
"""Menu files as costly as the limits let through (each loads, with many problems)."""


HOSTILE_TEST_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "binary": (lambda: b"\x00\x01\x02" * 1000, "this is not a text file"),
    "a C1 control character": (
        lambda: "cases:\n  - name: \x80\n".encode(),
        "this is not a text file (control character U+0080)",
    ),
    "a non-character": (lambda: "cases: \ufffe\n".encode(), "(control character U+FFFE)"),
    "Latin-1": (
        lambda: "cases:\n  - name: caf\xe9\n".encode("latin-1"),
        "the file is not UTF-8 text (byte 0xE9",
    ),
    "100,000 nested lists": (
        lambda: b"x: " + b"[" * 100_000 + b"]" * 100_000,
        "nested more than 64 levels deep",
    ),
    "billion laughs": (lambda: laughs().encode(), "aliases expand this file beyond"),
    "over the size limit": (
        lambda: b"#" * 1_100_000,
        "the file is 1,100,000 bytes; test files are limited to 1,000,000 bytes",
    ),
    "empty": (lambda: b"", "the file is empty"),
}
"""Each hostile test file, by name: how to make its bytes, and what the refusal says."""


def count_calls(read: Callable[[], T]) -> tuple[int, T]:
    """`read()` under a profiler: the Python function calls it made, and its result."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        result = read()
    finally:
        profile.disable()
    return pstats.Stats(profile).total_calls, result  # type: ignore[attr-defined]


def _median_ms(read: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    from router.admin.menutest import read_test_file  # not needed by the tests' imports

    parser = argparse.ArgumentParser(prog="python -m bench.hostile_files")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    read_test_file(os.devnull)  # imports and first-use costs out of the figures
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| file | bytes | median ms | max ms | Python calls |")
    print("| --- | --- | --- | --- | --- |")
    for name, (make, _) in HOSTILE.items():
        data = make()

        def read_menu(data: str | bytes = data) -> object:
            return read_menu_text(data, filename="evil.yaml", base_dir=Path("."))

        median, most = _median_ms(read_menu, args.repeat)
        calls, _ = count_calls(read_menu)
        print(f"| menu file: {name} | {len(data):,} | {median:.2f} | {most:.2f} | {calls:,} |")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "evil.test.yaml"
        for name, (make_bytes, _) in HOSTILE_TEST_FILES.items():
            data = make_bytes()
            path.write_bytes(data)

            def read_test(path: str = str(path)) -> object:
                return read_test_file(path)

            median, most = _median_ms(read_test, args.repeat)
            calls, _ = count_calls(read_test)
            print(f"| test file: {name} | {len(data):,} | {median:.2f} | {most:.2f} | {calls:,} |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
