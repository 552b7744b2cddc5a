"""``python -m trainability``: see :mod:`trainability.cli`."""

import sys

from trainability.cli import main

sys.exit(main())
