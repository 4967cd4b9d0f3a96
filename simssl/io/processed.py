"""Reading simssl's outputs: the one place that knows where a processed file keeps its quantities.

A ``.gsd`` output keeps each quantity as the per-frame log array ``particles/simssl/<name>`` (a HOOMD
``OrderAnalyzer`` logged by HOOMD's GSD writer: ``particles/simssl/plugins/hoomd/OrderAnalyzer/<name>``)
and its run record in the first frame (:mod:`simssl.io.records`); an ``.npz`` output keeps one array
per quantity with a leading frame axis (:class:`simssl.io.writers.NPZWriter`). ``simssl info``,
``simssl plot`` and ``--resume`` read them through here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..defaults import LOG_PREFIX
from ..errors import SimsslError
from .records import NPZ_RECORD, record_from_log, record_from_npz, structure_names

#: quantities renamed since they were first written: old name -> name (files of 0.2 stay readable)
RENAMED = {"cluster": "nucleus"}
#: arrays of an .npz output that are not quantities: per frame, or the input's own per-particle data
NPZ_META = ("step", "frame", "n_particles", "box", "layout", "frame_offsets", NPZ_RECORD, "type_names")
#: per-particle data an .npz output holds besides the quantities (rows as in the input frame)
PER_PARTICLE_META = ("positions", "types", "ids")


@dataclass
class Processed:
    """Per-frame quantities of a processed file, its run record, and its frames' positions and boxes.

    Attributes
    ----------
    steps : numpy.ndarray
        (frames,) timestep of every frame.
    columns : dict of str to list of numpy.ndarray
        Per quantity name, one (N, ...) array per frame.
    last_positions : numpy.ndarray or None
        (N, 3) positions of the last frame.
    record : dict or None
        The run record (:mod:`simssl.io.records`); None when the file holds none.
    positions : list of numpy.ndarray or None
        (N, 3) positions of every frame (None when the file holds none).
    boxes : numpy.ndarray or None
        (frames, 6) boxes ``[Lx, Ly, Lz, xy, xz, yz]`` (GSD/HOOMD convention) of every frame.
    """

    steps: np.ndarray
    columns: dict[str, list[np.ndarray]]
    last_positions: np.ndarray | None
    record: dict | None = None
    positions: list[np.ndarray] | None = None
    boxes: np.ndarray | None = None

    @property
    def structure_names(self) -> tuple[str, ...] | None:
        """Names of the ``structure`` indices (index 0 ``"liquid"``); None for a file without identification."""
        return structure_names(self.record)


def read_processed(path, frames: slice | None = None) -> Processed:
    """Read a simssl output (.gsd or .npz): its quantities by name, run record, positions and boxes.

    Parameters
    ----------
    path : str or PathLike
        A file written by ``simssl process``, ``simssl identify``, the LAMMPS driver or HOOMD's GSD
        writer logging an ``OrderAnalyzer``.
    frames : slice, optional
        The frames to read (default: all).

    Returns
    -------
    Processed
        Quantities of an older release under their current names (:data:`RENAMED`).

    Raises
    ------
    SimsslError
        If the file is missing, of another format, unreadable, or holds no simssl quantities.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such file")
    read = {".npz": _read_npz, ".gsd": _read_gsd}.get(os.path.splitext(path)[1].lower())
    if read is None:
        raise SimsslError(f"{path}: simssl reads its outputs from the .gsd or .npz files that simssl process writes")
    try:
        processed = read(path, slice(None) if frames is None else frames)
    except SimsslError:
        raise
    except Exception as error:
        raise SimsslError(f"{path}: not a readable simssl output ({error})") from None
    for old, new in RENAMED.items():
        if old in processed.columns and new not in processed.columns:
            processed.columns[new] = processed.columns.pop(old)
    return processed


def log_quantities(log: dict) -> dict[str, np.ndarray]:
    """``{name: array}`` of the simssl quantities in a GSD frame's ``log``.

    ``particles/simssl/<name>`` is simssl's own; a HOOMD logger's ``particles/simssl/.../<name>`` is
    read under its last part, unless simssl's own has that name.
    """
    keys = sorted((key for key in log if key.startswith(LOG_PREFIX)), key=lambda key: -key.count("/"))
    return {key.rsplit("/", 1)[-1]: log[key] for key in keys}


def _read_gsd(path: str, frames: slice) -> Processed:
    import gsd.hoomd

    with gsd.hoomd.open(path, "r") as trajectory:
        record = record_from_log(trajectory[0].log) if len(trajectory) else None
        selected = list(trajectory[frames])
    if not selected:
        raise SimsslError(f"{path}: has no frames")
    quantities = [log_quantities(f.log) for f in selected]
    if not quantities[0]:
        raise SimsslError(
            f"{path}: holds no simssl quantities (particles/simssl/...); was it written by simssl process?"
        )
    columns = {name: [np.asarray(q[name]) for q in quantities] for name in quantities[0]}
    positions = [np.asarray(f.particles.position, dtype=np.float32) for f in selected]
    return Processed(
        np.array([f.configuration.step for f in selected]),
        columns,
        positions[-1],
        record,
        positions,
        np.array([np.asarray(f.configuration.box, dtype=np.float64) for f in selected]),
    )


def _read_npz(path: str, frames: slice) -> Processed:
    with np.load(path) as data:
        offsets = data["frame_offsets"]
        ragged = str(data["layout"]) == "ragged"
        indices = range(len(offsets) - 1)[frames]
        columns = {}
        for name in (key for key in data.files if key not in NPZ_META):
            values = data[name]
            columns[name] = [values[offsets[i] : offsets[i + 1]] if ragged else values[i] for i in indices]
        record = record_from_npz(data)
        steps = data["step"][frames]
        boxes = np.asarray(data["box"], dtype=np.float64)[frames] if "box" in data.files else None
    positions = columns.pop("positions", None)
    for name in PER_PARTICLE_META:
        columns.pop(name, None)
    if positions is None:
        boxes = None
    last = None if positions is None or not positions else np.asarray(positions[-1], dtype=np.float32)
    return Processed(steps, columns, last, record, positions, boxes)
