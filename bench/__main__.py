"""``python -m bench [--quick]``: see bench/run.py."""

import sys

from bench.run import main

if __name__ == "__main__":  # importing the package's modules (a test, a check) runs nothing
    sys.exit(main())
