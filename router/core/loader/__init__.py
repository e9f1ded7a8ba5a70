"""Turning an untrusted `menus.yaml` into a `MenuFile`, or into every reason it cannot be one.

The loader reads bytes, not objects: it refuses oversized, binary and non-UTF-8
files with one sentence, builds a YAML node tree with line and column (see
`router.core.yamlsafe` for why it is not `yaml.safe_load`), and converts that tree
itself, following `router.core.format`. It never stops at the first mistake: each
finding becomes a `Problem` and conversion carries on, so an admin fixes the whole
file in one go. Finally the checker (`router.core.checker.check`) looks at the
file as a whole: references, reachability, shadowed keys, loops.

Inheritance is resolved here, so nothing downstream needs to know about it:

    built-in < defaults < menu              timeouts, limits, messages, on_limit,
                                            on_transfer_failure (per kind)
    defaults.transfer < destination < option   play_dialtone, ringing_timeout,
                                            headers (merged by name), say/audio

One module per concept, each concept a reader of its own, composed, not inherited:
every reader is given one `Context` (the file, the problem sink, the languages it
declares, and the shared value readers: keys, leaves, transfers, actions) and finds
another concept's reader on it, as a protocol engine's frame handlers are each given
the connection:

    source       bytes -> text -> node tree, or the one reason why not (shared with
                 `router test`'s reader of test files)
    nodes        the problem sink (`Sink`) and a node tree's mappings (`Keys`): keys
                 checked against their spec, did-you-mean, duplicates, merge keys
                 (shared likewise)
    context      what one file's readers share, and how they are put together
    leaves       names, words, numbers, durations, prompts, headers
    transfers    transfer settings, destinations, failure policies, and their inheritance
    actions      the verbs, one reader each, in one table
    directories  extensions callers may dial
    schedules    time zones, opening hours, holidays
    menus        menus and the defaults they inherit
    numbers      the first menu per number, a number's own defaults
    document     the whole file, in dependency order
    loading      a path or a text -> a checked `MenuFile` (`load_menu_file` and friends)
"""

from __future__ import annotations

from router.core.loader.leaves import MAX_PROMPT_CHARS
from router.core.loader.loading import (
    MAX_BYTES,
    Loaded,
    load_menu_file,
    load_menu_text,
    read_menu_text,
)
from router.core.loader.menus import BUILTIN_ON_LIMIT, GOODBYE
from router.core.loader.transfers import APOLOGY, BUILTIN_FAILURE_POLICY

__all__ = [
    "APOLOGY",
    "BUILTIN_FAILURE_POLICY",
    "BUILTIN_ON_LIMIT",
    "GOODBYE",
    "MAX_BYTES",
    "MAX_PROMPT_CHARS",
    "Loaded",
    "load_menu_file",
    "load_menu_text",
    "read_menu_text",
]
