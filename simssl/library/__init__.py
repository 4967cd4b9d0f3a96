"""The structure library: what identification compares particles with, and what pretraining learns from.

* :mod:`.structures`: one-component crystal prototypes (``prototypes.json``) and random crystals of
  all 230 space groups, as noisy :class:`~simssl.frame.Frame` objects;
* :mod:`.binaries`: binary prototypes (``binary_prototypes.json``) with noise and antisites, and
  random solid solutions: chemical ordering;
* :mod:`.liquids`: disordered reference configurations (liquids, glasses, gases), a catalog of kinds of
  disorder made by :mod:`.md` (numpy pair-potential MD, LAMMPS) from ``potentials/`` (Stillinger-Weber
  files) and verified by :mod:`.checks`;
* :mod:`.defects`: systems with known per-particle answers (stacking faults and twins, polycrystals,
  free surfaces, ideal gases, jammed packings);
* ``default_references.npz``: the shipped identification references of the default model
  (rebuilt by ``benchmarks/make_references.py``).

The runtime (identification) reads this package and never :mod:`simssl.training`.
"""

from importlib import resources
from pathlib import Path

#: file name of the default model's shipped identification references
DEFAULT_REFERENCES = "default_references.npz"


def shipped_references_path() -> Path:
    """Where the default model's identification references ship: ``simssl/library/default_references.npz``."""
    return Path(str(resources.files(__name__).joinpath(DEFAULT_REFERENCES)))
