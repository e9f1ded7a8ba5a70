"""How fast `router test` refuses hostile test files, and how much work it does for each.

The test (tests/admin/test_menutest.py) holds the work to a count that does not depend
on the machine: the Python calls the reader makes (a profiler's count) and the bytes it
reads. The time each takes is measured here, a median of `--repeat` runs, with the
machine's load beside it:

    python -m bench.hostile_test_files [--repeat 21]
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
from dataclasses import dataclass
from pathlib import Path

from router.admin.menutest import TestFile, read_test_file
from router.core.errors import Problem

__all__ = ["HOSTILE_TEST_FILES", "Work", "count_work", "main"]


def _laughs() -> bytes:
    """Ten lists of ten aliases of the list before: 10^10 values if expanded."""
    lines = [b'a: &a ["l","l","l","l","l","l","l","l","l","l"]\n']
    for i in range(9):
        name, before = chr(98 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [{','.join([f'*{before}'] * 10)}]\n".encode())
    return b"".join(lines)


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
    "billion laughs": (_laughs, "aliases expand this file beyond"),
    "over the size limit": (
        lambda: b"#" * 1_100_000,
        "the file is larger than 1,000,000 bytes",
    ),
    "empty": (lambda: b"", "the file is empty"),
}
"""Each hostile test file, by name: how to make its bytes, and what the refusal says."""


@dataclass(frozen=True, slots=True)
class Work:
    """What reading one test file took, counted rather than timed."""

    calls: int
    """Python function calls made (cProfile's count; libyaml's C work is not included)."""
    test_file: TestFile | None
    problems: list[Problem]


def count_work(path: str) -> Work:
    """Read the test file at `path` under a profiler: its result and the calls it made."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        test_file, problems = read_test_file(path)
    finally:
        profile.disable()
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return Work(calls, test_file, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile_test_files")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    read_test_file(os.devnull)  # imports and first-use costs out of the figures
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| file | bytes | median ms | max ms | Python calls |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name, (make, _) in HOSTILE_TEST_FILES.items():
            path = Path(folder) / "evil.test.yaml"
            data = make()
            path.write_bytes(data)
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                read_test_file(str(path))
                times.append((time.perf_counter() - start) * 1000)
            calls = count_work(str(path)).calls
            print(
                f"| {name} | {len(data):,} | {statistics.median(times):.2f} | "
                f"{max(times):.2f} | {calls} |"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
