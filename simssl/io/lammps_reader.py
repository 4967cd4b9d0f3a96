"""LAMMPS text dumps, read through MDAnalysis (scaled ``xs ys zs`` or unscaled ``x y z``, triclinic too)."""

from __future__ import annotations

import warnings

from ..errors import SimsslError, located
from .convert import frame_from_mdanalysis
from .types import type_ids


def open_lammps_dump(path: str, selection: slice):
    """Return (number of selected frames, lazy iterator of Frames) for a LAMMPS dump."""
    import MDAnalysis

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MDAnalysis guesses masses and dt; irrelevant here
            universe = MDAnalysis.Universe(path, format="LAMMPSDUMP")
        n_total = universe.trajectory.n_frames
    except Exception as error:
        raise SimsslError(
            located(f"not a readable LAMMPS dump (it needs 'id', 'type' and x/y/z or xs/ys/zs columns): {error}", path)
        ) from None
    indices = range(n_total)[selection]
    return len(indices), _iterate(universe, path, indices)


def _iterate(universe, path, indices):
    types, type_names = type_ids(universe.atoms.types)
    for index in indices:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                timestep = universe.trajectory[index]
        except Exception as error:
            raise SimsslError(located(f"cannot read this frame (truncated file?): {error}", path, index)) from None
        # (for scaled xs/ys/zs dumps MDAnalysis subtracts the box's lower corner once more: a uniform
        # translation, invisible to every simssl quantity)
        yield frame_from_mdanalysis(timestep, timestep.positions, types, type_names, source=path, index=index)
