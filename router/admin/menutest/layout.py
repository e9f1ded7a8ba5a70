"""The test file's layout: the keys each of its mappings takes, and the words admins use instead.

What `router test` reads (docs/menu-tests.md), written once like the menu file's format
(`router.core.format`), in the same spec language so that one reader checks both.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.core import format as fmt
from router.core.events import EndReason
from router.core.loader.source import FileKind

__all__ = [
    "CASE",
    "DEFAULTS",
    "END_REASONS",
    "EXPECT",
    "HINTS",
    "SETTINGS_KEYS",
    "TEST_FILE",
    "TOP",
]

END_REASONS = {
    r.value: r for r in EndReason if r not in (EndReason.TRANSFERRED, EndReason.CALLER_HANGUP)
}
"""Ways a simulated call can end without a transfer (a simulated caller never hangs up)."""
_TOP_KEYS = ("menu_file", "defaults", "cases")
_DEFAULT_KEYS = ("number", "caller", "language", "at", "transfer_results")
_CASE_KEYS = ("name", "number", "caller", "language", "at", "keys", "transfer_results", "expect")
_EXPECT_KEYS = (
    "transfer",
    "hangup",
    "menus",
    "ringing_timeout",
    "play_dialtone",
    "headers",
    "hears",
    "voice",
    "language",
)
SETTINGS_KEYS = ("ringing_timeout", "play_dialtone", "headers")
"""Expectations about the transfer's settings: they go with `transfer`."""
HINTS: Mapping[str, str] = {
    "time": "at",
    "when": "at",
    "date": "at",
    "dialled": "number",
    "dialed": "number",
    "called": "number",
    "to": "number",
    "from": "caller",
    "calling": "caller",
    "caller_id": "caller",
    "digits": "keys",
    "results": "transfer_results",
    "transfer_result": "transfer_results",
    "expected": "expect",
    "expects": "expect",
    "menu": "menu_file",
    "menus": "menu_file",
    "file": "menu_file",
    "tests": "cases",
    "calls": "cases",
    "path": "menus",
    "via": "menus",
    "says": "hears",
    "hear": "hears",
    "heard": "hears",
    "message": "hears",
    "lang": "language",
    "timeout": "ringing_timeout",
    "ringing": "ringing_timeout",
    "header": "headers",
    "dialtone": "play_dialtone",
}
"""Words an admin may reach for, and the key they meant (used in hints only)."""
TEST_FILE = FileKind("test file", "menus.test.yaml", "cases:")


def _keys(*names: str) -> fmt.Obj:
    """The keys a mapping of the test file may have, in the format's spec language."""
    return fmt.Obj(tuple(fmt.Field(name, fmt.TEXT) for name in names))


TOP = _keys(*_TOP_KEYS)
"""The test file's top level."""
DEFAULTS = _keys(*_DEFAULT_KEYS)
"""`defaults`: what a case that does not say otherwise uses."""
CASE = _keys(*_CASE_KEYS)
"""One case of `cases`."""
EXPECT = _keys(*_EXPECT_KEYS)
"""A case's `expect`."""
