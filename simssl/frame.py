"""The Frame: one validated snapshot (freud box, wrapped float32 positions, type ids) that every reader produces."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import freud
import numpy as np

from .errors import SimsslError, SimsslWarning, located

#: every direction periodic: the default of every Frame
ALL_PERIODIC = (True, True, True)
#: how far positions may reach past a box the user gave (``--box``), in box lengths along each box
#: vector: wrapped positions span at most one box length, from any origin (centered or from 0 as in
#: LAMMPS); engines that wrap lazily (LAMMPS, at reneighboring) leave particles a fraction of the
#: neighbor skin outside. A wider spread means the box is wrong (or the coordinates unwrapped).
BOX_SLACK = 0.25


@dataclass(frozen=True)
class Frame:
    """One 3D snapshot in freud's centered convention, periodic or not along each axis.

    Build frames with :func:`make_frame` (or :func:`frame_from_lattice`), which validate the data;
    everything downstream of the readers relies on a Frame being finite, non-empty and 3D.
    A direction that is not periodic (``periodic[i]`` False: a cluster, a slab) is stored inside a
    padded box whose images are farther than any neighbor query can reach (see :func:`make_frame`).

    Attributes
    ----------
    box : freud.box.Box
        The 3D box (padded along non-periodic directions).
    positions : numpy.ndarray, (N, 3) float32
        Wrapped into the box, centered on the origin.
    types : numpy.ndarray, (N,) int32
        Indices into ``type_names``.
    type_names : tuple of str
        Name of each type id.
    step : int or None
        Simulation timestep, when the format has one.
    source : str or None
        File the frame came from, for error messages.
    index : int or None
        Frame number in that file.
    periodic : tuple of 3 bool
        Per box vector a, b, c; False: padded, no images (default: all True).
    ids : numpy.ndarray, (N,) int64, or None
        The file's own particle ids (LAMMPS ``id``); None: the rows.
    extra : dict or None
        Input data an output carries through (GSD inputs):
        ``{"particles": {attribute: (N, ...)}, "log": {key: array}}``.
    """

    box: freud.box.Box
    positions: np.ndarray  # float32 (N, 3), wrapped into the box, centered on the origin
    types: np.ndarray  # int32 (N,), indices into type_names
    type_names: tuple[str, ...]
    step: int | None = None
    source: str | None = None  # file the frame came from, for error messages
    index: int | None = None  # frame number in that file
    periodic: tuple[bool, bool, bool] = ALL_PERIODIC  # per box vector a, b, c; False: padded, no images
    ids: np.ndarray | None = None  # int64 (N,): the file's own particle ids (LAMMPS ``id``), None: rows
    #: input data an output carries through (GSD inputs): ``{"particles": {attribute: (N, ...)}, "log": {key: array}}``
    extra: dict | None = field(default=None, repr=False)

    @property
    def output_step(self) -> int:
        """The step outputs record: :attr:`step`, or for formats without steps (plain XYZ) the frame's
        index in its file (0 for a frame made in memory). One convention for GSD, NPZ and adapters."""
        return self.step if self.step is not None else (self.index or 0)

    @property
    def particle_ids(self) -> np.ndarray:
        """int64 (N,): the file's particle ids, or the row index when the format has none (GSD, XYZ)."""
        return self.ids if self.ids is not None else np.arange(self.n_particles, dtype=np.int64)

    @property
    def dimensions(self) -> int:
        """Always 3: simssl analyses 3D systems only."""
        return 3

    @property
    def n_particles(self) -> int:
        """The number of particles N."""
        return len(self.positions)

    @property
    def fully_periodic(self) -> bool:
        """True when every direction is periodic."""
        return all(self.periodic)

    def __len__(self) -> int:
        return self.n_particles

    def where(self, message: str) -> str:
        """``message`` prefixed with this frame's file and index.

        Parameters
        ----------
        message : str
            The problem, one sentence.

        Returns
        -------
        str
        """
        return located(message, self.source, self.index)


def nonperiodic_axes(periodic) -> str:
    """``"z"``, ``"x, y, z"``: the directions that are not periodic.

    Parameters
    ----------
    periodic : sequence of 3 bool
        Periodicity along x, y, z.

    Returns
    -------
    str
    """
    return ", ".join(axis for axis, flag in zip("xyz", periodic) if not flag)


def warn_nonperiodic(periodic, source: str | None = None, index: int | None = None) -> None:
    """One :class:`SimsslWarning` saying which directions are analyzed without periodic images.

    Parameters
    ----------
    periodic : sequence of 3 bool
        Periodicity along x, y, z.
    source, index : str or None, int or None
        File and frame named in the warning.

    Warns
    -----
    SimsslWarning
        Always.
    """
    warnings.warn(
        located(
            f"the cell is not periodic along {nonperiodic_axes(periodic)}; those directions are analyzed in a "
            "padded box with no periodic images (positions there are centered, not wrapped)",
            source,
            index,
        ),
        SimsslWarning,
        stacklevel=3,
    )


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

    Raises
    ------
    SimsslError
        If the parameters are not six finite numbers, or a length is not positive.
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
    box: freud.box.Box | None,
    positions,
    types=None,
    type_names=None,
    step: int | None = None,
    source: str | None = None,
    index: int | None = None,
    periodic=ALL_PERIODIC,
    ids=None,
    extra: dict | None = None,
    given_box: bool = False,
) -> Frame:
    """Validate raw arrays and wrap positions into ``box`` (freud's centered convention).

    Parameters
    ----------
    box : freud.box.Box or None
        A 3D box with positive volume (None only when no direction is periodic).
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
    periodic : bool or sequence of 3 bool
        Periodicity along the box vectors a, b, c (default: all). Along a non-periodic direction
        the box is replaced by a padded one (see :func:`frame_from_lattice`): no particle sees a
        periodic image there, and positions are centered, not wrapped.
    ids : array_like of int, (N,), optional
        The file's own particle ids (e.g. LAMMPS ``id``): stored (:attr:`Frame.ids`), written to
        ``.npz`` outputs, and used to name particles in error messages (default: the row index).
    extra : dict, optional
        Input data that outputs carry through (:attr:`Frame.extra`).
    given_box : bool
        The box comes from the user, not from the file (``--box`` for plain XYZ): positions must
        then fit it, spreading over at most ``1 + BOX_SLACK`` box lengths along each box vector
        (:data:`BOX_SLACK`); a box too small for the particles would otherwise be silently wrapped
        into overlapping images.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        Naming the file and frame, for 2D data, degenerate boxes, empty frames, non-finite
        coordinates, coincident particles, mismatched array shapes, and positions far outside a
        given box.

    Examples
    --------
    >>> import freud, numpy as np
    >>> frame = make_frame(freud.box.Box.cube(10), np.zeros((1, 3)))
    >>> frame.n_particles, frame.type_names
    (1, ('0',))
    """

    def fail(problem: str):
        raise SimsslError(located(problem, source, index))

    periodic = _periodic_flags(periodic, fail)
    if box is None:
        if any(periodic):
            fail(f"no box is given for the periodic direction(s) {nonperiodic_axes([not p for p in periodic])}")
    else:
        if box.is2D:
            fail("the data is two-dimensional; simssl analyses 3D systems only")
        lengths = np.array([box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz], dtype=float)
        if not np.all(np.isfinite(lengths)):
            fail(f"the box {lengths.tolist()} has non-finite entries")
        if box.volume <= 0 or min(box.Lx, box.Ly, box.Lz) <= 0:
            fail(f"the box (Lx, Ly, Lz) = ({box.Lx}, {box.Ly}, {box.Lz}) has zero volume")
    positions = _checked_positions(positions, fail, ids)
    if given_box and box is not None:
        _refuse_far_outside(box, positions, fail)
    if not all(periodic):
        columns = np.zeros((3, 3)) if box is None else np.asarray(box.to_matrix(), dtype=np.float64)
        columns, positions = _padded(columns, np.asarray(positions, dtype=np.float64), periodic, fail)
        box, positions = _upper_triangular(columns, positions, fail)
    return _finish(box, positions, types, type_names, step, source, index, periodic, fail, ids, extra)


def frame_from_lattice(lattice_rows, positions, origin=None, periodic=ALL_PERIODIC, **kwargs) -> Frame:
    """Build a Frame from lattice vectors given as rows (a, b, c) and Cartesian positions.

    Any right-handed cell is accepted: it is rotated into freud's upper-triangular form (QR
    decomposition, the same rotation applied to positions), so arbitrarily oriented cells such as
    ase's or rotated extXYZ lattices give exactly the same structure.

    Non-periodic directions (``periodic``: extXYZ ``pbc``, LAMMPS boundaries other than ``p``) keep
    the periodic lattice vectors exactly and replace each non-periodic one by a vector orthogonal to
    all the others, as long as the particles' extent along it plus a padding ``pad`` (their lattice
    vector may be degenerate, or zero for a cluster without a cell). The particles are centered
    along it, so every periodic image across it lies more than ``pad`` away from every particle.
    ``pad`` is twice ``D``, the bounding-box diagonal of the particles including the periodic
    lengths (half of each periodic vector plus the extents along the padded directions): every
    other particle has an image within ``D`` of any particle, so a k-nearest query (k < N) never
    reaches a padded image, and any ``r_max`` freud accepts (under half the smallest face distance,
    at most ``(extent + pad) / 2 <= pad``) does not either.

    Parameters
    ----------
    lattice_rows : array_like, (3, 3)
        Lattice vectors a, b, c as rows.
    positions : array_like, (N, 3)
        Cartesian positions in the same frame as the lattice, measured from ``origin``.
    origin : array_like, (3,), optional
        The cell's lower corner (LAMMPS ``xlo ylo zlo``); positions are then centered and wrapped.
    periodic : bool or sequence of 3 bool
        Periodicity along a, b, c (default: all).
    **kwargs
        ``types``, ``type_names``, ``step``, ``source``, ``index``, ``ids``, ``extra`` as in
        :func:`make_frame`.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        For a cell that is not a finite 3x3 matrix, degenerate or left-handed, and for everything
        :func:`make_frame` refuses.
    TypeError
        For an unknown keyword argument.
    """
    unknown = set(kwargs) - {"types", "type_names", "step", "source", "index", "ids", "extra"}
    if unknown:
        raise TypeError(f"frame_from_lattice() got unexpected keyword arguments {sorted(unknown)}")
    source, index = kwargs.get("source"), kwargs.get("index")

    def fail(problem: str):
        raise SimsslError(located(problem, source, index))

    periodic = _periodic_flags(periodic, fail)
    cell = np.asarray(lattice_rows, dtype=np.float64)
    if cell.shape != (3, 3) or not np.all(np.isfinite(cell)):
        fail(f"the cell {cell.tolist()} is not a finite 3x3 matrix")
    columns = cell.T
    ids = kwargs.get("ids")
    positions = _checked_positions(positions, fail, ids).astype(np.float64)
    shift = columns.sum(axis=1) / 2 + (0 if origin is None else np.asarray(origin, dtype=np.float64))
    positions = positions - shift
    if not all(periodic):
        columns, positions = _padded(columns, positions, periodic, fail)
    scale = max(np.abs(columns).max(), 1e-300)
    determinant = np.linalg.det(columns)
    if abs(determinant) <= 1e-10 * scale**3:
        fail("the box has zero volume (its lattice vectors are degenerate)")
    if determinant < 0:
        fail("the cell is left-handed; reorder its lattice vectors to a right-handed set")
    box, positions = _upper_triangular(columns, positions, fail)
    types, type_names, step = (kwargs.get(key) for key in ("types", "type_names", "step"))
    return _finish(box, positions, types, type_names, step, source, index, periodic, fail, ids, kwargs.get("extra"))


def _periodic_flags(periodic, fail) -> tuple[bool, bool, bool]:
    flags = tuple(bool(flag) for flag in ((periodic,) * 3 if np.ndim(periodic) == 0 else periodic))
    if len(flags) != 3:
        fail(f"periodic={periodic!r} needs one flag per box vector (three)")
    return flags


def _checked_positions(positions, fail, ids=None) -> np.ndarray:
    """(N, 3) finite positions, or one sentence naming the first bad particle (its file id when known)."""
    positions = np.asarray(positions)
    if positions.ndim != 2 or positions.shape[1] != 3:
        if positions.ndim == 2 and positions.shape[1] == 2:
            fail("the data is two-dimensional; simssl analyses 3D systems only")
        fail(f"positions have shape {positions.shape}, expected (N, 3)")
    if len(positions) == 0:
        fail("the frame has zero particles")
    finite = np.isfinite(positions).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        first = f"particle id {np.asarray(ids)[bad[0]]}" if ids is not None else f"particle index {bad[0]}"
        fail(f"{len(bad)} particle(s) have NaN or infinite coordinates (first: {first})")
    return positions


def _refuse_far_outside(box: freud.box.Box, positions: np.ndarray, fail) -> None:
    """One sentence when positions spread over more than ``1 + BOX_SLACK`` lengths of a given box along a box vector."""
    fractional = np.asarray(box.make_fractional(np.asarray(positions, dtype=np.float32)), dtype=np.float64)
    spread = fractional.max(axis=0) - fractional.min(axis=0)
    axis = int(np.argmax(spread))
    if spread[axis] > 1 + BOX_SLACK:
        lengths = ", ".join(f"{length:g}" for length in (box.Lx, box.Ly, box.Lz))
        fail(
            f"the positions spread over {spread[axis]:.1f} box lengths along {'xyz'[axis]}, far outside the given box "
            f"({lengths}); wrapped positions fit in one: check --box (box=), or wrap unwrapped coordinates first"
        )


def _refuse_coincident(positions: np.ndarray, fail, ids=None) -> None:
    """One sentence naming particles that sit exactly on another (wrapped float32 positions, bit for bit).

    Coincident particles have no defined bond directions, so no order parameter means anything for
    them. A hash of each position is sorted (fast, about 0.1 s per million particles); only equal
    hashes are compared exactly.
    """
    bits = (positions + np.float32(0)).view(np.uint32)  # + 0 turns -0.0 into 0.0: the same point
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
    hashes = np.bitwise_xor.reduce(bits.astype(np.uint64) * mix, axis=1)
    if len(np.unique(hashes)) == len(hashes):
        return
    _, first, counts = np.unique(bits, axis=0, return_index=True, return_counts=True)
    if counts.max() == 1:  # a hash collision, no shared position
        return
    shared = counts > 1
    order = np.argsort(first[shared])
    groups, sizes = first[shared][order], counts[shared][order]
    who = f"particle id {np.asarray(ids)[groups[0]]}" if ids is not None else f"particle index {groups[0]}"
    where = ", ".join(f"{float(x):g}" for x in positions[groups[0]])
    fail(
        f"{int(sizes.sum())} particles are coincident, at {len(groups)} shared position(s) (first: {sizes[0]} at "
        f"({where}), {who} and others); remove duplicated particles: their bonds have no direction"
    )


def _padded(columns: np.ndarray, positions: np.ndarray, periodic, fail) -> tuple[np.ndarray, np.ndarray]:
    """Lattice columns and centered positions with every non-periodic direction padded (see frame_from_lattice)."""
    scale = max(np.abs(columns).max(), np.abs(positions).max(), 1e-300)
    basis: list[np.ndarray] = []  # orthonormal: the periodic vectors' span first, then one axis per padded vector

    def residual(vector):
        return vector - sum((vector @ unit) * unit for unit in basis) if basis else vector

    for axis in (i for i in range(3) if periodic[i]):
        rest = residual(columns[:, axis])
        if np.linalg.norm(rest) <= 1e-10 * scale:
            fail("the box has zero volume (its periodic lattice vectors are degenerate)")
        basis.append(rest / np.linalg.norm(rest))
    padded_axes = [i for i in range(3) if not periodic[i]]
    normals = []
    for axis in padded_axes:  # the lattice vector's own direction if it has one, else a Cartesian axis
        for candidate in (columns[:, axis], *np.eye(3)):
            rest = residual(candidate)
            if np.linalg.norm(rest) > 1e-6 * max(np.linalg.norm(candidate), 1e-300):
                break
        normals.append(rest / np.linalg.norm(rest))
        basis.append(normals[-1])
    normals = np.array(normals)  # (m, 3)
    along = positions @ normals.T  # (N, m)
    low, high = along.min(axis=0), along.max(axis=0)
    extent = high - low
    # D bounds the distance from any particle to the nearest image of any other one (module docstring
    # of frame_from_lattice): half of each periodic vector plus the diagonal of the padded extents.
    reach = 0.5 * sum(np.linalg.norm(columns[:, i]) for i in range(3) if periodic[i]) + np.linalg.norm(extent)
    pad = 2.0 * reach if reach > 0 else 1.0
    columns = columns.copy()
    for axis, normal, length in zip(padded_axes, normals, extent + pad):
        columns[:, axis] = length * normal
    if np.linalg.det(columns) < 0:  # keep the cell right-handed: flip one padded vector (positions are centered)
        columns[:, padded_axes[0]] *= -1
    positions = positions - ((low + high) / 2) @ normals
    return columns, positions


def _upper_triangular(columns: np.ndarray, positions: np.ndarray, fail) -> tuple[freud.box.Box, np.ndarray]:
    """freud's box for lattice columns in any orientation, and the positions rotated with it."""
    scale = max(np.abs(columns).max(), 1e-300)
    rotation, upper = np.linalg.qr(columns)
    signs = np.sign(np.diag(upper))  # make the diagonal positive so the rotation stays proper
    rotation, upper = rotation * signs, upper * signs[:, None]
    upper[np.abs(upper) < 1e-12 * scale] = 0.0  # QR round-off, not real tilt
    return freud.box.Box.from_matrix(upper), positions @ rotation


def _finish(box, positions, types, type_names, step, source, index, periodic, fail, ids=None, extra=None) -> Frame:
    """The Frame from checked positions: type ids and names validated, positions wrapped."""
    n = len(positions)
    if ids is not None:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.shape != (n,) or len(np.unique(ids)) != n:
            fail(f"the {ids.size} particle ids are not {n} distinct integers")
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
    positions = _wrapped(box, positions)
    _refuse_coincident(positions, fail, ids)
    return Frame(
        box=box,
        positions=positions,
        types=types,
        type_names=type_names,
        step=None if step is None else int(step),
        source=None if source is None else str(source),
        index=index,
        periodic=periodic,
        ids=ids,
        extra=extra,
    )


def _wrapped(box: freud.box.Box, positions) -> np.ndarray:
    """float32 positions inside ``box``; particles already inside keep their exact coordinates."""
    positions = np.array(positions, dtype=np.float32, order="C")
    fractional = box.make_fractional(positions)
    outside = np.any((fractional < 0) | (fractional >= 1), axis=1)
    if outside.any():
        positions[outside] = box.wrap(positions[outside])
    return positions
