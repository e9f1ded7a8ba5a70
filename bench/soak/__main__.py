"""``python -m bench.soak [--calls N] [--router-env NAME=VALUE] [--out FILE] [--keep]``:
run the soak, print its figures.

Exit status 1 if anything that must hold did not (the failures are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from bench.common import BENCH, log, machine_info, now_iso, versions
from bench.schema import Machine, SoakResult, Versions
from bench.soak.run import SoakConfig, soak
from bench.soak.scenarios import Behaviour


def _assignment(parser: argparse.ArgumentParser, text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        parser.error(f"--router-env wants NAME=VALUE, not {text!r}")
    return name, value


GROWTH_FROM_CALLS = 300
"""Calls from which the router's RSS, descriptors and threads are held to their limits."""

_IN_THE_FILE_ONLY = ("machine", "versions", "samples", "each_call", "processes")
"""What the results file keeps but the printed summary leaves out (hundreds of lines)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument(
        "--calls",
        type=int,
        default=1000,
        help=f"calls to place (default 1000; memory, descriptors and threads are judged "
        f"from {GROWTH_FROM_CALLS} calls on: a slope over fewer is noise)",
    )
    parser.add_argument("--min-calls", type=int, default=10, help="fewest calls in progress")
    parser.add_argument("--max-calls", type=int, default=30, help="most calls in progress")
    parser.add_argument("--save-every", type=float, default=30.0, help="menu saves, seconds")
    parser.add_argument("--warmup", type=int, default=100, help="calls before the RSS slope")
    parser.add_argument(
        "--outages",
        default="redis,livekit,sip",
        help="parts stopped and started once each, comma-separated ('' for none)",
    )
    parser.add_argument(
        "--kinds",
        default=",".join(Behaviour),
        help="kinds of caller drawn from, comma-separated (default: all twelve)",
    )
    parser.add_argument(
        "--router-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set in the router's environment only (repeatable), e.g. MALLOC_ARENA_MAX=2",
    )
    parser.add_argument(
        "--stack-log-level",
        choices=("debug", "info", "warn"),
        default="info",
        help="livekit-server's and the SIP bridge's log level (default info)",
    )
    parser.add_argument("--out", type=Path, help="figures (default bench/results/soak-*.json)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and records")
    args = parser.parse_args(argv)
    router_env = dict(_assignment(parser, a) for a in args.router_env)
    outages = tuple(p for p in args.outages.split(",") if p)
    if unknown := set(outages) - {"redis", "livekit", "sip"}:
        parser.error(f"--outages: no part named {', '.join(sorted(unknown))}")
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if not kinds or (unknown := set(kinds) - set(Behaviour)):
        parser.error(f"--kinds: choose among {', '.join(Behaviour)}")
    config = SoakConfig(
        kinds=tuple(Behaviour(k) for k in kinds),
        calls=args.calls,
        min_calls=args.min_calls,
        max_calls=args.max_calls,
        save_every_s=args.save_every,
        warmup_calls=args.warmup,
        stack_log_level=args.stack_log_level,
        judge_growth=args.calls >= GROWTH_FROM_CALLS,
        outages=outages,
        router_env=router_env,
    )
    workdir = Path(tempfile.mkdtemp(prefix="soak-"))
    started = now_iso()
    try:
        figures = asyncio.run(soak(config, workdir))
    finally:
        if args.keep:
            log(f"soak: logs and records kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result = SoakResult(
        started=started,
        command="python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
        machine=Machine.from_json(machine_info(), "this machine"),
        versions=Versions.from_json(versions(), "the versions"),
        **dict(figures),
    )
    out = result.to_json()
    stamp = datetime.fromisoformat(started).strftime("%Y%m%dT%H%M%S")
    path = args.out or BENCH / "results" / f"soak-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    shown = {k: v for k, v in out.items() if k not in _IN_THE_FILE_ONLY}
    print(json.dumps(shown, indent=2))
    log(f"soak: figures in {path}")
    if args.calls < GROWTH_FROM_CALLS:
        log(
            f"soak: memory, descriptors and threads not judged (fewer than "
            f"{GROWTH_FROM_CALLS} calls: their figures above are noise)"
        )
    if result.failures:
        log(f"soak: FAILED, {len(result.failures)} checks: " + "; ".join(result.failures[:3]))
        return 1
    log("soak: every check held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
