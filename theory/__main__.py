"""``python -m theory``: the command line (see :mod:`theory.cli`)."""

import sys

from theory.cli import main

if __name__ == "__main__":
    sys.exit(main())
