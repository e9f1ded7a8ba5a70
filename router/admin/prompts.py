"""`router prompts [PATH]`: render every prompt of a menu file into the prompt cache.

Run where the router will run (or while building its image) so that the worker
starts without synthesising anything: the cache folder is `--cache` or
`$ROUTER_PROMPT_CACHE`, the voice `--voice` or `$ROUTER_VOICE`, as for `router start`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from router.core.errors import ConfigError
from router.core.loader import load_menu_file
from router.runtime.prompts import PromptCache, voice_from_spec, voices_of
from router.settings import flag_default, speech_engine

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=flag_default("menus"))
    parser.add_argument("--cache", default=flag_default("prompt_cache"))
    parser.add_argument("--voice", default=flag_default("voice"))


def run(args: argparse.Namespace) -> int:
    if not args.cache:
        raise ConfigError("no prompt cache folder: give --cache or set ROUTER_PROMPT_CACHE")
    path = Path(args.path)
    if not path.is_file():
        raise ConfigError(f"the menu file {path} does not exist")
    menu_file = load_menu_file(path, engine=speech_engine(args.voice)).menu_file
    cache = PromptCache(voice_from_spec(args.voice), store=args.cache)
    started = time.monotonic()
    count = asyncio.run(cache.render_file(menu_file))
    if cache.store_error is not None:
        raise ConfigError(f"cannot keep rendered prompts in {args.cache}: {cache.store_error}")
    voices = sorted({v or cache.voice.name for v in voices_of(menu_file)})
    print(
        f"{count} prompts of {path} (version {menu_file.version}) in {args.cache}, "
        f"in voices {', '.join(voices)}, {time.monotonic() - started:.1f} s"
    )
    return 0
