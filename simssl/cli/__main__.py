"""``python -m simssl.cli ...`` (also ``torchrun -m simssl.cli pretrain ...``)."""

import sys

from . import main

sys.exit(main())
