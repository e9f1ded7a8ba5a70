"""Where a model value was written: `NOWHERE` for built-in defaults, and the empty
maps a value without written parts shares (read-only, one each)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from router.core.errors import Location

__all__ = ["EMPTY", "NOWHERE", "NO_PLACES"]

NOWHERE = Location("<builtin>", 0, 0)
"""The location of values that come from built-in defaults, not from the file."""

EMPTY: Mapping[str, str] = MappingProxyType({})
"""No headers (a transfer's default)."""
NO_PLACES: Mapping[str, Location] = MappingProxyType({})
"""No parts written (a value's `where` by default)."""
