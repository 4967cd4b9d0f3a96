"""GSD (HOOMD-blue) trajectories, read with the ``gsd`` package; boxes are already in freud's convention."""

from __future__ import annotations

import gsd.hoomd
import numpy as np

from ..errors import SimsslError, located
from ..frame import box_from_parameters, make_frame


def open_gsd(path: str, selection: slice):
    """Return (number of selected frames, lazy iterator of Frames, frames in the file) for a GSD file.

    Parameters
    ----------
    path : str
        The ``.gsd`` file.
    selection : slice
        Frames to read (:func:`~simssl.io.selection.parse_frames`).

    Returns
    -------
    n_frames : int
    frames : iterator of Frame
        Raises :class:`SimsslError` for a frame that cannot be read or is invalid.
    total : int
        Frames in the file.

    Raises
    ------
    SimsslError
        If the file is not a readable GSD file.
    """
    try:
        trajectory = gsd.hoomd.open(path, "r")
        n_total = len(trajectory)
    except Exception as error:  # gsd raises RuntimeError/OSError/KeyError for damaged files
        raise SimsslError(located(f"not a readable GSD file (truncated or corrupt?): {error}", path)) from None
    indices = range(n_total)[selection]
    return len(indices), _iterate(trajectory, path, indices), n_total


def _iterate(trajectory, path, indices):
    with trajectory:
        for index in indices:
            try:
                snapshot = trajectory[index]
            except Exception as error:
                raise SimsslError(
                    located(f"cannot read this frame (truncated or corrupt file?): {error}", path, index)
                ) from None
            yield _to_frame(snapshot, path, index, _carried(trajectory, snapshot, index))


#: per-particle GSD data (besides positions and types) that outputs carry through
CARRIED = ("velocity", "image", "orientation", "diameter", "charge", "mass", "body", "moment_inertia", "angmom")


def _carried(trajectory, snapshot, index: int) -> dict:
    """The per-particle data the file really holds for this frame (or frame 0, GSD's default) and its log."""
    stored = trajectory.file
    particles = {
        name: getattr(snapshot.particles, name)
        for name in CARRIED
        if stored.chunk_exists(frame=index, name=f"particles/{name}")
        or stored.chunk_exists(frame=0, name=f"particles/{name}")
    }
    return {"particles": particles, "log": dict(snapshot.log)}


def _to_frame(snapshot, path, index, extra=None):
    configuration = snapshot.configuration
    if configuration.dimensions == 2:
        raise SimsslError(located("the data is two-dimensional; simssl analyses 3D systems only", path, index))
    box = box_from_parameters(configuration.box, path, index)
    n = snapshot.particles.N
    positions = snapshot.particles.position if n else np.empty((0, 3), np.float32)
    types = snapshot.particles.typeid if n else np.empty(0, np.int32)
    return make_frame(
        box,
        positions,
        types,
        tuple(snapshot.particles.types),
        step=configuration.step,
        source=path,
        index=index,
        extra=extra,
    )
