"""``python -m router.stack.caller``: the scripted SIP phone's command line.

Kept because the command is documented (README.md, ``router.stack.local_cli``'s
hints, ``sipphone.cli``'s usage line). The phone and its public names are the
package :mod:`router.stack.sipphone`: import them from there, not from here.
"""

from __future__ import annotations

import sys

from router.stack.sipphone.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
