"""The Frame: one validated snapshot (freud box, wrapped float32 positions, type ids) that every reader produces."""

from __future__ import annotations

from dataclasses import dataclass

import freud
import numpy as np

from .errors import SimsslError, located


@dataclass(frozen=True)
class Frame:
    """One 3D periodic snapshot in freud's centered convention.

    Build frames with :func:`make_frame` (or :func:`frame_from_lattice`), which validate the data;
    everything downstream of the readers relies on a Frame being finite, non-empty and 3D.
    """

    box: freud.box.Box
    positions: np.ndarray  # float32 (N, 3), wrapped into the box, centered on the origin
    types: np.ndarray  # int32 (N,), indices into type_names
    type_names: tuple[str, ...]
    step: int | None = None
    source: str | None = None  # file the frame came from, for error messages
    index: int | None = None  # frame number in that file

    @property
    def dimensions(self) -> int:
        return 3

    @property
    def n_particles(self) -> int:
        return len(self.positions)

    def __len__(self) -> int:
        return self.n_particles

    def where(self, message: str) -> str:
        """``message`` prefixed with this frame's file and index."""
        return located(message, self.source, self.index)


def box_from_parameters(parameters, source: str | None = None, index: int | None = None) -> freud.box.Box:
    """A 3D freud box from HOOMD-style parameters, refusing non-finite or zero-volume boxes.

    Parameters
    ----------
    parameters : sequence of 6 float
        ``(Lx, Ly, Lz, xy, xz, yz)``, tilts dimensionless (HOOMD/GSD convention).
    source, index : str or None, int or None
        File and frame named in the error message.

    Returns
    -------
    freud.box.Box
    """
    values = np.asarray(parameters, dtype=np.float64).ravel()
    if values.shape != (6,) or not np.all(np.isfinite(values)):
        raise SimsslError(
            located(f"the box {values.tolist()} is not six finite numbers (Lx, Ly, Lz, xy, xz, yz)", source, index)
        )
    if np.any(values[:3] <= 0):
        raise SimsslError(
            located(
                f"the box (Lx, Ly, Lz) = ({values[0]:g}, {values[1]:g}, {values[2]:g}) has zero volume", source, index
            )
        )
    return freud.box.Box(*values.tolist())


def make_frame(
    box: freud.box.Box,
    positions,
    types=None,
    type_names=None,
    step: int | None = None,
    source: str | None = None,
    index: int | None = None,
) -> Frame:
    """Validate raw arrays and wrap positions into ``box`` (freud's centered convention).

    Parameters
    ----------
    box : freud.box.Box
        A 3D box with positive volume.
    positions : array_like, (N, 3)
        Cartesian coordinates, centered on the box origin; stored as wrapped float32.
    types : array_like of int, (N,), optional
        Type ids indexing ``type_names`` (default: all 0).
    type_names : sequence of str, optional
        Names of the type ids (default ``'0'``, ``'1'``, ...).
    step : int, optional
        Simulation timestep.
    source, index : str or None, int or None
        File and frame, for error messages.

    Returns
    -------
    Frame

    Raises :class:`SimsslError` naming the file and frame for 2D data, degenerate boxes, empty
    frames, non-finite coordinates and mismatched array shapes.

    Examples
    --------
    >>> import freud, numpy as np
    >>> frame = make_frame(freud.box.Box.cube(10), np.zeros((1, 3)))
    >>> frame.n_particles, frame.type_names
    (1, ('0',))
    """

    def fail(problem: str):
        raise SimsslError(located(problem, source, index))

    if box.is2D:
        fail("the data is two-dimensional; simssl analyses 3D systems only")
    lengths = np.array([box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz], dtype=float)
    if not np.all(np.isfinite(lengths)):
        fail(f"the box {lengths.tolist()} has non-finite entries")
    if box.volume <= 0 or min(box.Lx, box.Ly, box.Lz) <= 0:
        fail(f"the box (Lx, Ly, Lz) = ({box.Lx}, {box.Ly}, {box.Lz}) has zero volume")

    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 3:
        if positions.ndim == 2 and positions.shape[1] == 2:
            fail("the data is two-dimensional; simssl analyses 3D systems only")
        fail(f"positions have shape {positions.shape}, expected (N, 3)")
    n = len(positions)
    if n == 0:
        fail("the frame has zero particles")
    finite = np.isfinite(positions).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        fail(f"{len(bad)} particle(s) have NaN or infinite coordinates (first: particle {bad[0]})")

    if types is None:
        types = np.zeros(n, dtype=np.int32)
    types = np.asarray(types)
    if types.shape != (n,):
        fail(f"there are {types.shape[0] if types.ndim else 0} type ids for {n} particles")
    types = types.astype(np.int32, copy=False)
    if type_names is None:
        type_names = tuple(str(t) for t in range(int(types.max()) + 1))
    type_names = tuple(str(t) for t in type_names)
    if types.min() < 0 or types.max() >= len(type_names):
        fail(f"type ids span {types.min()}..{types.max()} but only {len(type_names)} type names are given")

    return Frame(
        box=box,
        positions=_wrapped(box, positions),
        types=types,
        type_names=type_names,
        step=None if step is None else int(step),
        source=None if source is None else str(source),
        index=index,
    )


def frame_from_lattice(lattice_rows, positions, origin=None, **kwargs) -> Frame:
    """Build a Frame from lattice vectors given as rows (a, b, c) and Cartesian positions.

    Any right-handed cell is accepted: it is rotated into freud's upper-triangular form (QR
    decomposition, the same rotation applied to positions), so arbitrarily oriented cells such as
    ase's or rotated extXYZ lattices give exactly the same structure.

    Parameters
    ----------
    lattice_rows : array_like, (3, 3)
        Lattice vectors a, b, c as rows.
    positions : array_like, (N, 3)
        Cartesian positions in the same frame as the lattice, measured from ``origin``.
    origin : array_like, (3,), optional
        The cell's lower corner (LAMMPS ``xlo ylo zlo``); positions are then centered and wrapped.
    **kwargs
        ``types``, ``type_names``, ``step``, ``source``, ``index`` as in :func:`make_frame`.
    """
    source, index = kwargs.get("source"), kwargs.get("index")
    cell = np.asarray(lattice_rows, dtype=np.float64)
    if cell.shape != (3, 3) or not np.all(np.isfinite(cell)):
        raise SimsslError(located(f"the cell {cell.tolist()} is not a finite 3x3 matrix", source, index))
    columns = cell.T
    determinant = np.linalg.det(columns)
    scale = max(np.abs(columns).max(), 1e-300)
    if abs(determinant) <= 1e-10 * scale**3:
        raise SimsslError(located("the box has zero volume (its lattice vectors are degenerate)", source, index))
    if determinant < 0:
        raise SimsslError(
            located("the cell is left-handed; reorder its lattice vectors to a right-handed set", source, index)
        )
    rotation, upper = np.linalg.qr(columns)
    signs = np.sign(np.diag(upper))  # make the diagonal positive so the rotation stays proper
    rotation, upper = rotation * signs, upper * signs[:, None]
    upper[np.abs(upper) < 1e-12 * scale] = 0.0  # QR round-off, not real tilt
    box = freud.box.Box.from_matrix(upper)
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim == 2 and positions.shape[1] == 3:
        shift = columns.sum(axis=1) / 2 + (0 if origin is None else np.asarray(origin, dtype=np.float64))
        positions = (positions - shift) @ rotation
    return make_frame(box, positions, **kwargs)


def _wrapped(box: freud.box.Box, positions) -> np.ndarray:
    """float32 positions inside ``box``; particles already inside keep their exact coordinates."""
    positions = np.array(positions, dtype=np.float32, order="C")
    fractional = box.make_fractional(positions)
    outside = np.any((fractional < 0) | (fractional >= 1), axis=1)
    if outside.any():
        positions[outside] = box.wrap(positions[outside])
    return positions
