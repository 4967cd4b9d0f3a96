"""Deprecated alias of :mod:`simssl.training`, which no longer shadows the standard library's ``ssl``.

``simssl.ssl`` and its submodules (``structures``, ``tasks``, ``dataset``, ``trainer``,
``finetune``) keep working for this release and will be removed in the next one.
"""

import importlib
import sys
import warnings

from simssl.training import *  # noqa: F403
from simssl.training import __all__  # noqa: F401

warnings.warn(
    "simssl.ssl is renamed simssl.training; the old name will be removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)

for _name in ("dataset", "finetune", "structures", "tasks", "trainer"):
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(f"simssl.training.{_name}")
