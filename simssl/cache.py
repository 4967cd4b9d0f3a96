"""Where simssl caches what it builds once: identification references of other models, disordered references."""

from __future__ import annotations

import os
from pathlib import Path


def cache_directory() -> Path:
    """Where references of models other than the shipped one, and the disordered reference frames, are
    cached: ``$SIMSSL_CACHE``, else ``$XDG_CACHE_HOME/simssl``, else ``~/.cache/simssl``."""
    if os.environ.get("SIMSSL_CACHE"):
        return Path(os.environ["SIMSSL_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "simssl"
