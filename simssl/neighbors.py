"""Neighborhoods: freud neighbor queries turned into padded per-particle bond arrays, with no Python loops."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import freud
import numpy as np

from . import native
from .defaults import ENCODER_NEIGHBORS, SCALE_NEIGHBORS, SHELL_MAX_NEIGHBORS
from .errors import SimsslError
from .frame import Frame, nonperiodic_axes
from .smooth import envelope


@dataclass(frozen=True)
class Neighborhoods:
    """Each particle's bonds, padded to a common width ``k``.

    Row ``i`` lists particle ``i``'s neighbors in no particular order (consumers are permutation
    invariant); ``mask`` marks real entries, and padded entries hold zero vectors and index -1.
    """

    vectors: np.ndarray  # float32 (N, k, 3): r_ij = x_j - x_i, minimum image
    mask: np.ndarray  # bool (N, k)
    indices: np.ndarray  # int64 (N, k), -1 for padding
    center_types: np.ndarray  # int32 (N,)
    neighbor_types: np.ndarray  # int32 (N, k), -1 for padding
    #: the frame's length unit for unit-free models: :func:`shell_scale` (the median over particles of the mean
    #: distance to their 12 nearest) for cutoff neighborhoods; the median nearest-neighbor distance for k nearest
    scale: float
    n_types: int
    nlist: freud.locality.NeighborList | None = field(default=None, repr=False, compare=False)
    #: unit-free ball radius (in units of ``scale``) of a cutoff query; None for k nearest or an absolute r_max
    cutoff: float | None = None
    #: float32 (N, F) shell spectra (:mod:`simssl.shells`) of models that read them, else None
    shells: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: (radii, degrees, taper) of ``shells``
    shell_spec: tuple | None = None

    @property
    def n_particles(self) -> int:
        return self.vectors.shape[0]

    @property
    def k(self) -> int:
        return self.vectors.shape[1]

    def neighbor_list(self, num_neighbors: int | None = None) -> freud.locality.NeighborList:
        """A freud NeighborList of every particle's ``num_neighbors`` nearest (default: all) neighbors."""
        if num_neighbors is None or num_neighbors >= self.k:
            if self.nlist is not None:
                return self.nlist
            num_neighbors = self.k
        distances = np.where(self.mask, np.linalg.norm(self.vectors, axis=-1), np.inf)
        nearest = (
            np.argpartition(distances, num_neighbors - 1, axis=1)[:, :num_neighbors]
            if num_neighbors < self.k
            else np.broadcast_to(np.arange(self.k), (self.n_particles, self.k))
        )
        rows = np.broadcast_to(np.arange(self.n_particles)[:, None], nearest.shape)
        keep = self.mask[rows, nearest]
        return freud.locality.NeighborList.from_arrays(
            self.n_particles,
            self.n_particles,
            rows[keep],
            self.indices[rows, nearest][keep],
            self.vectors[rows, nearest][keep],
        )


@dataclass(frozen=True)
class Nearest:
    """What a computation reads: every particle's ``k`` nearest neighbors (a wider shared query is fine:
    consumers take the nearest ``k``). ``Neighborhoods.scale`` is then the median nearest-neighbor distance."""

    k: int


@dataclass(frozen=True)
class Ball:
    """What a computation reads: every neighbor closer than ``radius`` length units (the frame's
    :func:`shell_scale`), the nearest ``max_neighbors`` of them when there are more (None: all)."""

    radius: float
    max_neighbors: int | None = None


@dataclass(frozen=True)
class ModelView:
    """What an encoder reads: its neighborhoods (a :class:`Ball` of its ``cutoff``, or its ``k`` nearest) with
    the shell spectra (:mod:`simssl.shells`) of models that read them.

    ``config`` is a :class:`simssl.model.EncoderConfig` (frozen, so specs compare and hash by value).
    """

    config: object


@dataclass(frozen=True)
class VoronoiCells:
    """What a computation reads: Voronoi neighbors weighted by facet area (freud's Voronoi; periodic cells only)."""


#: every kind of neighborhood a computation can declare (see :func:`plan_neighborhoods`)
NeighborSpec = Nearest | Ball | ModelView | VoronoiCells


def _half_plane_distance(box: freud.box.Box) -> float:
    """Half the smallest distance between opposite box faces: the largest radius freud can query."""
    a, b, c = (box.get_box_vector(i) for i in range(3))
    return (
        0.5
        * box.volume
        / max(np.linalg.norm(np.cross(b, c)), np.linalg.norm(np.cross(c, a)), np.linalg.norm(np.cross(a, b)))
    )


def query_neighbor_list(
    frame: Frame, k: int | None = ENCODER_NEIGHBORS, r_max: float | None = None, tree=None
) -> freud.locality.NeighborList:
    """freud's k-nearest (or, with ``r_max``, ball) neighbor list of a frame, excluding self-bonds.

    Parameters
    ----------
    frame : Frame
    k : int
        Nearest neighbors per particle (ignored with ``r_max``); the frame needs more than ``k`` particles.
    r_max : float, optional
        Ball radius, below half the box's smallest width.
    tree : freud.locality.AABBQuery, optional
        The frame's search tree, when the caller queries it more than once.

    Returns
    -------
    freud.locality.NeighborList
    """
    n = frame.n_particles
    if r_max is not None:
        limit = _half_plane_distance(frame.box)
        if not 0 < r_max < limit:
            raise SimsslError(frame.where(f"r_max={r_max} must be positive and below half the box width ({limit:.4g})"))
        arguments = dict(r_max=float(r_max), exclude_ii=True)
    else:
        if k is None or k < 1:
            raise SimsslError(frame.where(f"k must be a positive number of neighbors, got {k}"))
        if n <= k:
            raise SimsslError(
                frame.where(f"the frame has {n} particles, fewer than the {k + 1} that k={k} neighbors need")
            )
        arguments = dict(num_neighbors=int(k), exclude_ii=True)
    try:
        tree = freud.locality.AABBQuery(frame.box, frame.positions) if tree is None else tree
        return tree.query(frame.positions, arguments).toNeighborList()
    except (RuntimeError, ValueError) as error:
        raise SimsslError(frame.where(f"freud could not build the neighbor list: {error}")) from None


def _padded(nlist, center_types, width, scale, n_types, cutoff=None) -> Neighborhoods:
    """Scatter a freud NeighborList into (N, width) padded arrays, vectorized over all bonds."""
    n = len(center_types)
    counts = nlist.neighbor_counts
    if len(counts) == n and np.all(counts == width):  # k nearest: bonds are already (N, k) in order
        vectors = np.asarray(nlist.vectors, dtype=np.float32).reshape(n, width, 3)
        indices = np.asarray(nlist.point_indices, dtype=np.int64).reshape(n, width)
    else:
        owners = nlist.query_point_indices
        slots = np.arange(len(owners)) - nlist.segments[owners]
        vectors = np.zeros((n, width, 3), dtype=np.float32)
        indices = np.full((n, width), -1, dtype=np.int64)
        vectors[owners, slots] = nlist.vectors
        indices[owners, slots] = nlist.point_indices
    mask = indices >= 0
    neighbor_types = np.where(mask, center_types[np.maximum(indices, 0)], -1).astype(np.int32)
    return Neighborhoods(vectors, mask, indices, center_types, neighbor_types, scale, n_types, nlist, cutoff)


#: query points per freud ball query in :func:`_ball_blocks`: bounds freud's temporary bond lists
QUERY_CHUNK = 16384


@dataclass(frozen=True)
class _Bonds:
    """The bonds of a block of consecutive particles, grouped by particle (freud's order within each)."""

    counts: np.ndarray  # int64 (n,): bonds of each particle of the block
    points: np.ndarray  # int32 (b,): neighbor indices j into the frame
    vectors: np.ndarray  # float32 (b, 3): r_ij = x_j - x_i, minimum image

    @property
    def width(self) -> int:
        """The largest number of bonds of a particle of the block."""
        return int(self.counts.max(initial=0))

    def owners(self) -> np.ndarray:
        """int64 (b,): each bond's particle, as a row of the block."""
        return np.repeat(np.arange(len(self.counts)), self.counts)

    def slots(self) -> np.ndarray:
        """int64 (b,): each bond's place among its particle's bonds."""
        return np.arange(len(self.points)) - np.repeat(np.cumsum(self.counts) - self.counts, self.counts)

    def padded(self, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, indices)``: float32 (n, width, 3) bond vectors (padding 0) and int64 (n, width)
        neighbor indices (padding -1), left-packed; ``width`` defaults to :attr:`width`."""
        width = self.width if width is None else width
        vectors = np.zeros((len(self.counts), width, 3), dtype=np.float32)
        indices = np.full((len(self.counts), width), -1, dtype=np.int64)
        owners, slots = self.owners(), self.slots()
        vectors[owners, slots] = self.vectors
        indices[owners, slots] = self.points
        return vectors, indices

    def subset(self, keep: np.ndarray) -> _Bonds:
        """The bonds where ``keep`` (bool (b,)) is True, in their order."""
        counts = np.bincount(self.owners()[keep], minlength=len(self.counts))
        return _Bonds(counts, self.points[keep], self.vectors[keep])

    def within(self, radius: float) -> _Bonds:
        """The bonds shorter than ``radius`` (in the frame's units, compared in float32), in their order."""
        return self.subset(np.linalg.norm(self.vectors, axis=-1) < np.float32(radius))

    def nearest(self, num_neighbors: int | None) -> _Bonds:
        """Only each particle's ``num_neighbors`` nearest bonds (all of them when None or fewer), in their order."""
        if num_neighbors is None or self.width <= num_neighbors:
            return self
        order = np.lexsort((np.linalg.norm(self.vectors, axis=-1), self.owners()))  # by particle, then length
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = self.slots()  # the slots of the sorted bonds are their ranks by length
        return self.subset(rank < num_neighbors)


def _ball_blocks(frame: Frame, r_max: float, tree) -> Iterator[_Bonds]:
    """Every particle's bonds within ``r_max`` (no self-bonds), queried and yielded ``QUERY_CHUNK`` particles at a time.

    Only one block's bond list is held at a time, never that of the whole frame (for a million
    particles with ~50 neighbors each that list and its copies take several GB). The query is the
    cell list of the fused C kernels (:class:`simssl.native.CellList`: 4.3x faster than freud's
    AABBQuery at 32,000 particles and radius 1.9, one thread) where they are built, else freud's AABBQuery.

    Raises
    ------
    SimsslError
        After the last block, if no particle has a neighbor within ``r_max``.
    """
    if native.library() is not None and not frame.box.is2D:
        query = native.CellList(frame.box.to_matrix(), frame.positions, r_max)
    else:
        query = tree  # the frame's freud AABBQuery, shared with the k-nearest query
    found = False
    for start in range(0, frame.n_particles, QUERY_CHUNK):
        block = _query_block(query, frame, start, r_max)
        found = found or len(block.points) > 0
        yield block
    if not found:
        raise SimsslError(frame.where(f"no particle has a neighbor within r_max={r_max}"))


def _query_block(query, frame: Frame, start: int, r_max: float) -> _Bonds:
    """The bonds within ``r_max`` of particles ``start`` to ``start + QUERY_CHUNK`` (freud's bond list dies here).

    ``query`` is a :class:`simssl.native.CellList` or a freud AABBQuery of the frame.
    """
    stop = min(frame.n_particles, start + QUERY_CHUNK)
    if isinstance(query, native.CellList):
        return _Bonds(*query.query(start, stop))
    try:
        nlist = query.query(frame.positions[start:stop], dict(r_max=float(r_max))).toNeighborList()
    except (RuntimeError, ValueError) as error:
        raise SimsslError(frame.where(f"freud could not build the neighbor list: {error}")) from None
    owners = nlist.query_point_indices.astype(np.int64)  # sorted: freud groups bonds by query point
    points = nlist.point_indices.astype(np.int32)
    keep = points != owners + start  # no self-bonds (r_max is below half the box width: no self-images)
    return _Bonds(np.bincount(owners[keep], minlength=stop - start), points[keep], nlist.vectors[keep])


def _assemble(frame: Frame, blocks: list[_Bonds], scale: float, cutoff: float) -> Neighborhoods:
    """The Neighborhoods of a cutoff query from its bonds, given as :class:`_Bonds` of consecutive particles.

    The width is the largest number of bonds of a particle (at least 1).
    """
    width = max(1, *(block.width for block in blocks))
    vectors = np.zeros((frame.n_particles, width, 3), dtype=np.float32)
    indices = np.full((frame.n_particles, width), -1, dtype=np.int64)
    start = 0
    for block in blocks:
        stop = start + len(block.counts)
        vectors[start:stop], indices[start:stop] = block.padded(width)
        start = stop
    mask = indices >= 0
    neighbor_types = frame.types[indices]  # padding (-1) reads the last particle's type: reset below
    neighbor_types[~mask] = -1
    return Neighborhoods(
        vectors, mask, indices, frame.types, neighbor_types, scale, len(frame.type_names), None, cutoff
    )


def nearest_distance_median(nlist: freud.locality.NeighborList) -> float:
    """Median over particles (with neighbors) of the distance to their nearest neighbor: the length unit of
    k-nearest neighborhoods (and of the k-nearest encoders shipped before cutoffs)."""
    counts = nlist.neighbor_counts
    starts = nlist.segments[counts > 0]
    return float(np.median(np.minimum.reduceat(nlist.distances, starts)))


def shell_scale(frame: Frame) -> float:
    """The length unit of cutoff neighborhoods: the median over particles of the mean distance to their
    :data:`~simssl.defaults.SCALE_NEIGHBORS` nearest neighbors.

    Unlike the nearest-neighbor distance, which shrinks as thermal noise grows (a minimum over
    noisy distances), a mean over a shell is nearly noise-free (it moves at second order), so a
    hot crystal keeps the shells of its cold self inside the cutoff. It is a continuous function of
    the positions (a sum of the smallest distances does not jump when two of them swap) and needs
    no periodic box, so floating clusters get the same scale as bulk. Inside a frame's neighbor plan
    (:func:`plan_neighborhoods`) it comes from the shared k-nearest query instead of one of its own.

    Parameters
    ----------
    frame : Frame
        With more than :data:`~simssl.defaults.SCALE_NEIGHBORS` particles.
    """
    return _shell_scale(query_neighbor_list(frame, k=SCALE_NEIGHBORS))


def _shell_scale(nlist: freud.locality.NeighborList) -> float:
    """:func:`shell_scale` from a k-nearest neighbor list with k >= :data:`~simssl.defaults.SCALE_NEIGHBORS`."""
    distances = np.asarray(nlist.distances).reshape(len(nlist.neighbor_counts), -1)
    if distances.shape[1] > SCALE_NEIGHBORS:  # a wider shared query: the nearest SCALE_NEIGHBORS of each row
        distances = np.sort(distances, axis=1)[:, :SCALE_NEIGHBORS]
    return float(np.median(distances.mean(1)))


def _ball_radius(spec) -> float | None:
    """The unit-free radius of the ball query a spec needs (None: none)."""
    if isinstance(spec, Ball):
        return spec.radius
    if isinstance(spec, ModelView):
        radii = [*spec.config.shells, *([spec.config.cutoff] if spec.config.cutoff is not None else [])]
        return max(radii) if radii else None
    return None


def nearest_count(spec) -> int:
    """The nearest neighbors a spec reads from the shared k-nearest query (0: none)."""
    if isinstance(spec, Nearest):
        return spec.k
    if isinstance(spec, ModelView) and spec.config.cutoff is None:
        return spec.config.k
    return 0


def _checked_radius(frame: Frame, radius: float, scale: float) -> float:
    """``radius x scale``, the ball query radius of a unit-free ``radius``.

    Raises
    ------
    SimsslError
        If ``radius`` is not positive or the query radius reaches half the box width.
    """
    if not radius > 0:
        raise SimsslError(frame.where(f"the cutoff must be a positive multiple of the length scale, got {radius}"))
    r_max = radius * scale
    limit = _half_plane_distance(frame.box)
    if r_max >= limit:
        raise SimsslError(
            frame.where(
                f"the neighborhood radius {radius} x {scale:.4g} (the frame's length scale) reaches "
                f"half the box width ({limit:.4g}): the box is too small for this model"
            )
        )
    return r_max


def plan_neighborhoods(frame: Frame, specs, k: int | None = None) -> dict:
    """Every neighborhood in ``specs`` for one frame, built once each from at most two freud queries.

    The frame's neighbor plan: one search tree, one k-nearest query (the most neighbors any
    :class:`Nearest` spec or ``k`` asks for, at least :data:`~simssl.defaults.SCALE_NEIGHBORS` when a
    ball is needed, because its nearest give the length unit :func:`shell_scale`) and one ball query
    at the widest radius any :class:`Ball` or :class:`ModelView` needs, read ``QUERY_CHUNK``
    particles at a time. Every narrower ball, each encoder's neighborhoods and its shell spectra are
    filters of that one query. :class:`VoronoiCells` come from freud's Voronoi (not a query).

    Parameters
    ----------
    frame : Frame
    specs : iterable of NeighborSpec or None
        What the computations read (None entries: nothing).
    k : int, optional
        Query at least this many nearest neighbors (``--k``).

    Returns
    -------
    dict
        ``{spec: Neighborhoods}`` for every distinct spec. Every :class:`Nearest` spec gets the one shared
        k-nearest Neighborhoods (consumers take their nearest ``k``).

    Raises
    ------
    SimsslError
        For too few particles, a ball reaching half the box width, or no neighbor within a ball.
    """
    specs = list(dict.fromkeys(spec for spec in specs if spec is not None))
    balls = {spec: radius for spec in specs if (radius := _ball_radius(spec)) is not None}
    width = max([*(nearest_count(spec) for spec in specs), k or 0, SCALE_NEIGHBORS if balls else 0])
    views = {}
    tree = freud.locality.AABBQuery(frame.box, frame.positions) if width else None
    knn = None
    if width:
        nlist = query_neighbor_list(frame, k=width, tree=tree)
        knn = _padded(nlist, frame.types, width, nearest_distance_median(nlist), len(frame.type_names))
    for spec in specs:
        if isinstance(spec, Nearest):
            views[spec] = knn
        elif isinstance(spec, VoronoiCells):
            views[spec] = _voronoi(frame)
        elif isinstance(spec, ModelView) and spec not in balls:  # a k-nearest model without shell spectra
            views[spec] = _nearest_k(knn, spec.config.k)
    if balls:
        views.update(_ball_views(frame, tree, knn, balls))
    return views


def _ball_views(frame: Frame, tree, knn: Neighborhoods, balls: dict) -> dict:
    """The views of every ball-reading spec (``{spec: unit-free radius}``) from one ball query at the widest.

    Block by block: each encoder's shell spectra take their bonds (within their widest window, the
    nearest ``SHELL_MAX_NEIGHBORS``) and only the bonds each view keeps are held for the whole frame,
    never the padded wide bonds (~1.5 GB a million particles). The density coefficients of the spectra
    are released before the padded views are made.
    """
    from .shells import ShellSpectra

    scale = _shell_scale(knn.nlist)
    widest = max(balls.values())
    r_max = _checked_radius(frame, widest, scale)
    spectra, kept = {}, {}  # per spec: ShellSpectra; the bonds its view keeps, block by block
    for spec in balls:
        if isinstance(spec, ModelView) and spec.config.shells:
            config = spec.config
            spectra[spec] = ShellSpectra(
                frame.n_particles, scale, config.shells, config.shell_degrees, config.shell_taper
            )
        if not (isinstance(spec, ModelView) and spec.config.cutoff is None):
            kept[spec] = []
    for block in _ball_blocks(frame, r_max, tree):
        for spec, radius in balls.items():
            bonds = block if radius == widest else block.within(radius * scale)
            if spec in spectra:
                bonds = bonds.nearest(SHELL_MAX_NEIGHBORS)
                spectra[spec].add(*bonds.padded())
            if isinstance(spec, ModelView) and spec in kept:
                cutoff = spec.config.cutoff
                inside = bonds if cutoff == radius else bonds.within(cutoff * scale)
                kept[spec].append(inside.nearest(spec.config.max_neighbors))
            elif spec in kept:
                kept[spec].append(bonds.nearest(spec.max_neighbors))
    shells = {spec: spectrum.spectra() for spec, spectrum in spectra.items()}
    del spectra  # the density coefficients (~1.2 GB for a million particles), before the padded arrays are made
    views = {}
    for spec in balls:
        if isinstance(spec, Ball):
            views[spec] = _assemble(frame, kept[spec], scale, spec.radius)
            continue
        config = spec.config
        hood = (
            _assemble(frame, kept[spec], scale, config.cutoff)
            if config.cutoff is not None
            else _nearest_k(knn, config.k)
        )
        views[spec] = replace(hood, shells=shells.get(spec), shell_spec=shell_spec(config))
    return views


def _nearest_k(knn: Neighborhoods, k: int) -> Neighborhoods:
    """``knn`` itself when it is ``k`` wide, else its ``k`` nearest."""
    return knn if knn.k == k else truncate(knn, k)


def _voronoi(frame: Frame) -> Neighborhoods:
    """Voronoi neighbors (freud) as Neighborhoods whose ``nlist`` carries the facet-area weights.

    Raises
    ------
    SimsslError
        If the frame is not periodic along every axis (surface cells would reach across the padding).
    """
    if not frame.fully_periodic:
        raise SimsslError(
            frame.where(
                "Voronoi-weighted Steinhardt needs a fully periodic cell, and this one is not periodic along "
                f"{nonperiodic_axes(frame.periodic)} (surface cells would reach across the padding)"
            )
        )
    voronoi = freud.locality.Voronoi()
    voronoi.compute((frame.box, frame.positions))
    nlist = voronoi.nlist
    width = int(nlist.neighbor_counts.max(initial=1))
    return _padded(nlist, frame.types, width, nearest_distance_median(nlist), len(frame.type_names))


def compute_neighborhoods(
    frame: Frame,
    k: int | None = ENCODER_NEIGHBORS,
    r_max: float | None = None,
    max_neighbors: int | None = None,
    cutoff: float | None = None,
) -> Neighborhoods:
    """Padded bonds of every particle: its ``k`` nearest neighbors, all within ``r_max``, or all within ``cutoff``.

    ``cutoff`` is unit-free: the ball radius is ``cutoff`` times the frame's length scale
    (:func:`shell_scale`), so the same cutoff means the same shells in any unit system. It is
    what continuous (cutoff) encoders read: members enter and leave at the rim, where the
    encoder's envelope (:func:`envelope`) gives them zero weight. For ball queries the width is the
    largest neighbor count (capped at ``max_neighbors``, keeping the nearest); bond vectors are
    exactly freud's ``NeighborList.vectors``.

    Parameters
    ----------
    frame : Frame
    k : int
        Nearest neighbors per particle (default 16); ignored with ``r_max`` or ``cutoff``.
    r_max : float, optional
        Ball query radius in the frame's units.
    max_neighbors : int, optional
        Cap on the width of a ball query.
    cutoff : float, optional
        Ball query radius in units of :func:`shell_scale` (e.g. 1.6).

    Returns
    -------
    Neighborhoods
        ``vectors`` float32 (N, width, 3), ``mask`` (N, width), ``indices`` (N, width), types and ``scale``
        (:func:`shell_scale` with ``cutoff``; the median nearest-neighbor distance otherwise).

    Examples
    --------
    >>> import simssl
    >>> hood = simssl.compute_neighborhoods(simssl.read(simssl.example_path()), k=12)
    >>> hood.vectors.shape[1:]
    (12, 3)
    """
    if cutoff is not None:
        spec = Ball(cutoff, max_neighbors)
        return plan_neighborhoods(frame, [spec])[spec]
    if r_max is None:
        spec = Nearest(k)
        return plan_neighborhoods(frame, [spec])[spec]
    nlist = query_neighbor_list(frame, r_max=r_max)
    if len(nlist.distances) == 0:
        raise SimsslError(frame.where(f"no particle has a neighbor within r_max={r_max}"))
    width = int(nlist.neighbor_counts.max())
    neighborhoods = _padded(nlist, frame.types, width, nearest_distance_median(nlist), len(frame.type_names))
    return (
        truncate(neighborhoods, max_neighbors) if max_neighbors is not None and width > max_neighbors else neighborhoods
    )


def model_neighborhoods(frame: Frame, config) -> Neighborhoods:
    """The neighborhoods an encoder with ``config`` reads: all within its ``cutoff``, or its ``k`` nearest,
    with the shell spectra (:mod:`simssl.shells`) of models that read them.

    The neighborhoods of one :class:`ModelView` (:func:`plan_neighborhoods`): with shells, one ball
    query at the widest radius serves both the spectra and the encoder's bonds within ``cutoff``.

    Parameters
    ----------
    frame : Frame
    config : simssl.model.EncoderConfig
        Supplies ``cutoff`` and ``max_neighbors`` (or ``k`` when ``cutoff`` is None) and the ``shells``.
    """
    spec = ModelView(config)
    return plan_neighborhoods(frame, [spec])[spec]


def shell_spec(config) -> tuple | None:
    """What identifies a model's shell spectra: ``(radii, degrees, taper)``, or None without shells."""
    return (config.shells, config.shell_degrees, config.shell_taper) if config.shells else None


def reads(neighborhoods: Neighborhoods, config, exact: bool = False) -> bool:
    """Whether an encoder with ``config`` can read ``neighborhoods`` (so a query can be shared).

    Parameters
    ----------
    neighborhoods : Neighborhoods
    config : simssl.model.EncoderConfig
    exact : bool
        For k-nearest models, require exactly ``k`` neighbors (otherwise a wider query, which
        :func:`truncate` narrows, is accepted too).
    """
    if config.shells and neighborhoods.shell_spec != shell_spec(config):
        return False
    if config.cutoff is None:
        return neighborhoods.cutoff is None and (neighborhoods.k == config.k if exact else neighborhoods.k >= config.k)
    return neighborhoods.cutoff == config.cutoff


def bond_weights(neighborhoods: Neighborhoods, taper: float | None) -> np.ndarray:
    """Per-bond weights float32 (N, width): the envelope of a cutoff query, or the mask (1/0) otherwise.

    Parameters
    ----------
    neighborhoods : Neighborhoods
    taper : float or None
        The envelope's taper (unit-free); ignored unless ``neighborhoods.cutoff`` is set.
    """
    if neighborhoods.cutoff is None or taper is None:
        return neighborhoods.mask.astype(np.float32)
    lengths = np.linalg.norm(neighborhoods.vectors, axis=-1) / np.float32(neighborhoods.scale)
    return (envelope(lengths, neighborhoods.cutoff, taper) * neighborhoods.mask).astype(np.float32)


def truncate(neighborhoods: Neighborhoods, num_neighbors: int) -> Neighborhoods:
    """Neighborhoods (N, ``num_neighbors``) with only each particle's ``num_neighbors`` nearest bonds."""
    nlist = neighborhoods.neighbor_list(num_neighbors)
    return _padded(nlist, neighborhoods.center_types, num_neighbors, neighborhoods.scale, neighborhoods.n_types)


def nearest_bonds(neighborhoods: Neighborhoods, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Every particle's ``count`` nearest bonds: float32 (N, count, 3) vectors and int64 (N, count) neighbor
    indices (all rows must have that many).

    Parameters
    ----------
    neighborhoods : Neighborhoods
        At least ``count`` wide (a k-nearest query).
    count : int
    """
    if neighborhoods.k < count:
        raise SimsslError(f"the neighborhoods hold {neighborhoods.k} neighbors, fewer than the {count} needed")
    if neighborhoods.k == count:
        return neighborhoods.vectors, neighborhoods.indices
    lengths = np.where(neighborhoods.mask, np.linalg.norm(neighborhoods.vectors, axis=-1), np.inf)
    nearest = np.argpartition(lengths, count - 1, axis=1)[:, :count]
    vectors = np.take_along_axis(neighborhoods.vectors, nearest[..., None], axis=1)
    return vectors, np.take_along_axis(neighborhoods.indices, nearest, axis=1)


def neighbor_average(values, neighborhoods: Neighborhoods, weights=None):
    """Per particle, the weighted mean of its own row of ``values`` and its neighbors' rows (Lechner-Dellago style).

    The one neighbor averaging of simssl (``embedding_avg``, ``model.embed(average=True)``):
    ``(v_i + sum_j w_ij v_j) / (1 + sum_j w_ij)``. With envelope weights (:func:`bond_weights`)
    a neighbor crossing the cutoff enters with weight 0, so the average is continuous.

    Parameters
    ----------
    values : numpy.ndarray or torch.Tensor, (N, ...)
        Per-particle values (a torch tensor may live on a GPU).
    neighborhoods : Neighborhoods
        Whose ``indices``/``mask`` (N, k) name each particle's neighbors.
    weights : numpy.ndarray, (N, k), optional
        Per-bond weights (default: 1 for every real neighbor).

    Returns
    -------
    Same type and shape as ``values``. The loop runs over the k neighbor slots, not particles, so
    memory stays O(N x D) whatever k.
    """
    indices = np.maximum(neighborhoods.indices, 0)
    weights = neighborhoods.mask.astype(np.float32) if weights is None else np.asarray(weights, np.float32)
    if not isinstance(values, np.ndarray):  # a torch tensor, possibly on a GPU
        import torch

        indices = torch.as_tensor(indices, device=values.device)
        weights = torch.as_tensor(weights, device=values.device).to(values.dtype)
    else:
        weights = weights.astype(values.dtype)
    total = values.clone() if not isinstance(values, np.ndarray) else values.copy()
    for slot in range(neighborhoods.k):
        total += values[indices[:, slot]] * weights[:, slot].reshape((-1,) + (1,) * (values.ndim - 1))
    return total / (1 + weights.sum(1)).reshape((-1,) + (1,) * (values.ndim - 1))  # same dtype as ``values``


def model_inputs(neighborhoods: Neighborhoods, rows=None) -> tuple[np.ndarray, ...]:
    """What an encoder reads: ``(bonds, mask, center_types, neighbor_types, shells)`` of (a subset of) the particles.

    The one place where Neighborhoods become model inputs. ``bonds`` are float32 (n, k, 3) bond
    vectors divided by the frame's length ``scale`` (unit-free, so models transfer between unit
    systems); ``mask`` bool (n, k); ``center_types`` int32 (n,); ``neighbor_types`` int32 (n, k),
    -1 on padding; ``shells`` float32 (n, F) shell spectra ((n, 0) when the neighborhoods carry
    none). ``rows`` (an index array or slice) selects particles; default all.
    """
    rows = slice(None) if rows is None else rows
    bonds = neighborhoods.vectors[rows] / np.float32(neighborhoods.scale)
    shells = neighborhoods.shells[rows] if neighborhoods.shells is not None else np.zeros((len(bonds), 0), np.float32)
    return bonds, neighborhoods.mask[rows], neighborhoods.center_types[rows], neighborhoods.neighbor_types[rows], shells


def concatenate_inputs(parts) -> list[np.ndarray]:
    """Concatenate several :func:`model_inputs` tuples, padding narrower neighborhoods to the widest.

    Parameters
    ----------
    parts : sequence of tuple
        ``(bonds (n, w, 3), mask (n, w), center_types (n,), neighbor_types (n, w), shells (n, F))``
        each; widths may differ.

    Returns
    -------
    list of numpy.ndarray
        The five arrays over all rows; padding is zero bonds, ``False`` mask and type -1.
    """
    width = max(part[0].shape[1] for part in parts)

    def widen(array: np.ndarray, fill) -> np.ndarray:
        padding = np.full((array.shape[0], width - array.shape[1]) + array.shape[2:], fill, array.dtype)
        return np.concatenate([array, padding], axis=1)

    fills = (0, False, None, -1, None)
    return [
        np.concatenate([part[column] if fill is None else widen(part[column], fill) for part in parts])
        for column, fill in enumerate(fills)
    ]
