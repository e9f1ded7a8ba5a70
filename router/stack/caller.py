"""``python -m router.stack.caller``: the scripted SIP phone's command line.

The phone itself is the package :mod:`router.stack.sipphone`; this module keeps
the documented command and re-exports the phone's public names (its `__all__`).
"""

from __future__ import annotations

import sys

from router.stack import sipphone
from router.stack.sipphone import *  # noqa: F403
from router.stack.sipphone import main

__all__ = sipphone.__all__

if __name__ == "__main__":
    sys.exit(main())
