"""``python -m bench.report RESULTS.json [--doc PATH]``: rewrite the report from a results file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.common import ROOT
from bench.report import write
from bench.schema import ResultError, load_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    try:
        results = load_run(args.results)
    except ResultError as exc:
        print(f"python -m bench.report: {exc}", file=sys.stderr)
        return 2
    write(results, args.results.resolve(), args.doc)
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
