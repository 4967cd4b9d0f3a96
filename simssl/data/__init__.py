"""Files shipped inside the package: the bundled example trajectory (and, later, the default model)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE = "example.gsd"


def example_path() -> Path:
    """Path of the bundled example: a LAMMPS Lennard-Jones melt crystallizing (see ``make_example.py``)."""
    return Path(str(resources.files(__name__).joinpath(EXAMPLE)))
