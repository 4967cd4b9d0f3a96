"""Files shipped inside the package: the bundled example trajectory and the default model with its card."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE = "example.gsd"


def example_path() -> Path:
    """Path of the bundled example: a LAMMPS Lennard-Jones melt crystallizing (see ``benchmarks/make_example.py``).

    Returns
    -------
    pathlib.Path
        ``simssl/data/example.gsd``.
    """
    return Path(str(resources.files(__name__).joinpath(EXAMPLE)))
