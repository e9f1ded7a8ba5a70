"""The `router` command: one entry point, one sub-command per job.

Each sub-command lives in its own module and exposes `add_arguments(parser)` and
`run(args) -> int`; this module only wires them up and turns the router's own
errors into one clear sentence on stderr (details go to the log, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from router.core.errors import RouterError
from router.logs import LOG_FORMATS
from router.logs import setup as setup_logging
from router.settings import setting

__all__ = ["main"]

log = logging.getLogger("router")

COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("router.admin.check", "check a menu file; exit 1 with every error"),
    "simulate": ("router.admin.simulate", "walk a call through the menus from the terminal"),
    "graph": ("router.admin.graph", "draw the menu tree (mermaid, dot, svg or png)"),
    "schema": ("router.admin.schema", "print a JSON Schema of the menu file"),
    "test": ("router.admin.menutest", "run the admin's expected call paths"),
    "report": ("router.admin.report", "how callers used the menus, from call records"),
    "prompts": ("router.admin.prompts", "render a menu file's prompts into the prompt cache"),
    "start": ("router.runtime.worker", "run the router as a LiveKit agent worker"),
    "dev": ("router.runtime.worker", "the worker with development defaults"),
    "connect": ("router.runtime.worker", "join one given room and route its caller"),
    "local": ("router.stack.local_cli", "bring up a local LiveKit stack with the router"),
    "try": ("router.trial.cli", "try the menus in the browser against any LiveKit"),
}


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named in `argv` (the first word that is one), before parsing."""
    return next((word for word in argv if word in COMMANDS), None)


def _alone(argv: Sequence[str], chosen: str | None) -> bool:
    """Whether the parser needs `chosen` only: nothing before it asks for the list of
    commands (`-h`) or could be a mistyped command; `--log-format`'s value is its own."""
    if chosen is None:
        return False
    before = list(argv[: list(argv).index(chosen)])
    for i, word in enumerate(before):
        if word in ("-h", "--help"):
            return False
        if not word.startswith("-") and (i == 0 or before[i - 1] != "--log-format"):
            return False
    return True


def _parser(chosen: str | None = None, alone: bool = False) -> argparse.ArgumentParser:
    """The parser, with the options of `chosen` only: a command's module is imported only
    when it runs, so `router check` does not pay for livekit's import (0.7 s). `alone`:
    the other commands are left out too (each sub-parser costs a millisecond or so of a
    start that admins wait for; `_alone` says when nothing needs them)."""
    parser = argparse.ArgumentParser(prog="router", description=__doc__.splitlines()[0])
    # its own name: a command's own -v (simulate's, test's details) must not turn the
    # log to debug, nor this one a command's details
    parser.add_argument(
        "-v", "--verbose", dest="log_debug", action="store_true", help="log debug detail"
    )
    log_format = setting("log_format")
    parser.add_argument(
        "--log-format",
        choices=log_format.choices,
        default=log_format.text(),
        help=f"{log_format.help} (default %(default)s; env {log_format.env}; "
        "level: -v, else env LIVEKIT_LOG_LEVEL)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        if alone and name != chosen:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name != chosen:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(_missing=True)
            continue
        add = getattr(mod, "add_arguments", None)
        if add is not None:
            add(p, name) if add.__code__.co_argcount == 2 else add(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = _chosen(words)
    parser = _parser(chosen, _alone(words, chosen))
    args = parser.parse_args(words)
    if args.log_format not in LOG_FORMATS:
        parser.error(f"{setting('log_format').env} must be one of {', '.join(LOG_FORMATS)}")
    setup_logging(verbose=args.log_debug, log_format=args.log_format)
    if getattr(args, "_missing", False):
        print(f"router {args.command}: not available in this build", file=sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    try:
        result: int = module.run(args)
    except RouterError as exc:
        print(f"router {args.command}: {exc}", file=sys.stderr)
        log.debug("details", exc_info=True)
        return 1
    except OSError as exc:  # a file or socket the command needed: one sentence, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"router {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        log.debug("details", exc_info=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
