"""``python -m simssl ...``: the ``simssl`` command."""

import sys

from .cli import main

sys.exit(main())
