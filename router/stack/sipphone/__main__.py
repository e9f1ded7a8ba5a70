"""``python -m router.stack.sipphone``: place one scripted call (see :mod:`.cli`)."""

import sys

from router.stack.sipphone.cli import main

sys.exit(main())
