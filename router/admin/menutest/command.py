"""`router test [FILE]`: the options, the run over every case, PASS/FAIL and coverage."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from functools import cache
from typing import TextIO

from router.admin.check import load_menus, load_or_report
from router.admin.menutest.cases import DEFAULT_TEST_FILE
from router.admin.menutest.coverage import Coverage
from router.admin.menutest.names import check_names
from router.admin.menutest.reading import read_test_file
from router.admin.menutest.running import CaseResult, run_case

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path",
        nargs="?",
        default=DEFAULT_TEST_FILE,
        help=f"the test file (default: ./{DEFAULT_TEST_FILE})",
    )
    parser.add_argument(
        "--menus",
        metavar="PATH",
        help="test this menu file instead of the one the test file names",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only failures and the summary"
    )
    parser.add_argument(
        "--transcript",
        action="store_true",
        help="print each call as `router simulate` does, under its result",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with --transcript: also the router's bookkeeping, as `router simulate -v`",
    )


def run(args: argparse.Namespace) -> int:
    out: TextIO = sys.stdout
    load = cache(load_menus)  # read once: for the cases' time zones, then for the run
    test_file, problems = read_test_file(args.path, args.menus, load=load)
    for problem in problems:
        print(problem, file=sys.stderr)
    if test_file is None:
        print(f"router test: {args.path} cannot be used", file=sys.stderr)
        return 1
    menu_path = args.menus or test_file.menu_file
    menu_file = load_or_report(menu_path, "test", load)
    if menu_file is None:
        return 1
    names = check_names(test_file, menu_file)
    for problem in names:
        print(problem, file=sys.stderr)
    if names:
        print(f"router test: {len(names)} error(s) in {args.path}", file=sys.stderr)
        return 1
    print(
        f"{args.path}: {len(test_file.cases)} cases for {menu_path} (version {menu_file.version})",
        file=out,
    )
    coverage = Coverage()
    failed = 0
    for case in test_file.cases:
        result = run_case(
            menu_file, case, coverage, verbose=args.verbose, transcript=args.transcript
        )
        failed += not result.passed
        for line in _report(result, quiet=args.quiet, transcript=args.transcript):
            print(line, file=out)
    total = len(test_file.cases)
    print(f"{total - failed} passed, {failed} failed", file=out)
    counts, gaps = coverage.gaps(menu_file)
    summary = ", ".join(f"{kind} {got}/{of}" for kind, (got, of) in counts.items())
    print(f"coverage: {summary}", file=out)
    for line in gaps:
        print(f"  {line}", file=out)
    return 1 if failed else 0


def _report(result: CaseResult, *, quiet: bool, transcript: bool) -> Iterator[str]:
    case = result.case
    if result.passed:
        if quiet:
            return
        yield f"PASS  {case.name}"
    else:
        yield f"FAIL  {case.loc}: {case.name}"
        for mismatch in result.mismatches:
            yield f"      {mismatch}"
    yield f"      path: {result.path}"
    if transcript:
        for line in result.transcript.splitlines():
            yield f"      | {line}"
