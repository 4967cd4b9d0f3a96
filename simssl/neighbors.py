"""Neighborhoods: freud neighbor queries turned into padded per-particle bond arrays, with no Python loops."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import freud
import numpy as np

from .defaults import ENCODER_NEIGHBORS, SCALE_NEIGHBORS, SHELL_MAX_NEIGHBORS
from .errors import SimsslError
from .frame import Frame
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
    scale: float  # median nearest-neighbor distance: the frame's length unit for unit-free models
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


def _half_plane_distance(box: freud.box.Box) -> float:
    """Half the smallest distance between opposite box faces: the largest radius freud can query."""
    a, b, c = (box.get_box_vector(i) for i in range(3))
    return (
        0.5
        * box.volume
        / max(np.linalg.norm(np.cross(b, c)), np.linalg.norm(np.cross(c, a)), np.linalg.norm(np.cross(a, b)))
    )


def query_neighbor_list(
    frame: Frame, k: int | None = ENCODER_NEIGHBORS, r_max: float | None = None
) -> freud.locality.NeighborList:
    """freud's k-nearest (or, with ``r_max``, ball) neighbor list of a frame, excluding self-bonds.

    Parameters
    ----------
    frame : Frame
    k : int
        Nearest neighbors per particle (ignored with ``r_max``); the frame needs more than ``k`` particles.
    r_max : float, optional
        Ball radius, below half the box's smallest width.

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
        return freud.locality.AABBQuery(frame.box, frame.positions).query(frame.positions, arguments).toNeighborList()
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


#: query points per freud ball query in :func:`_ball_neighborhoods`: bounds freud's temporary bond lists
QUERY_CHUNK = 65536


def _ball_neighborhoods(frame: Frame, r_max: float, scale: float, cutoff: float) -> Neighborhoods:
    """Every particle's neighbors within ``r_max`` as padded arrays, queried ``QUERY_CHUNK`` particles at a time.

    Only the padded arrays of the whole frame are ever held, not freud's bond list of the whole frame
    (for a million particles with ~50 neighbors each that list and its copies take several GB).
    Rows keep freud's order of each particle's neighbors.
    """
    n = frame.n_particles
    query = freud.locality.AABBQuery(frame.box, frame.positions)
    parts = []
    for start in range(0, n, QUERY_CHUNK):
        stop = min(n, start + QUERY_CHUNK)
        try:
            nlist = query.query(frame.positions[start:stop], dict(r_max=float(r_max))).toNeighborList()
        except (RuntimeError, ValueError) as error:
            raise SimsslError(frame.where(f"freud could not build the neighbor list: {error}")) from None
        owners = nlist.query_point_indices.astype(np.int64)
        points = nlist.point_indices.astype(np.int64)
        keep = points != owners + start  # no self-bonds (r_max is below half the box width: no self-images)
        owners, points, vectors = owners[keep], points[keep], nlist.vectors[keep]
        del nlist
        counts = np.bincount(owners, minlength=stop - start)
        slots = np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts)  # bonds come sorted by owner
        width = int(counts.max(initial=0))
        chunk_vectors = np.zeros((stop - start, width, 3), dtype=np.float32)
        chunk_indices = np.full((stop - start, width), -1, dtype=np.int64)
        chunk_vectors[owners, slots] = vectors
        chunk_indices[owners, slots] = points
        parts.append((chunk_vectors, chunk_indices))
    width = max(part[1].shape[1] for part in parts)
    if width == 0:
        raise SimsslError(frame.where(f"no particle has a neighbor within r_max={r_max}"))
    vectors = np.zeros((n, width, 3), dtype=np.float32)
    indices = np.full((n, width), -1, dtype=np.int64)
    for start, (chunk_vectors, chunk_indices) in zip(range(0, n, QUERY_CHUNK), parts):
        vectors[start : start + len(chunk_indices), : chunk_indices.shape[1]] = chunk_vectors
        indices[start : start + len(chunk_indices), : chunk_indices.shape[1]] = chunk_indices
    del parts
    mask = indices >= 0
    neighbor_types = np.where(mask, frame.types[np.maximum(indices, 0)], -1).astype(np.int32)
    return Neighborhoods(
        vectors, mask, indices, frame.types, neighbor_types, scale, len(frame.type_names), None, cutoff
    )


def nearest_distance_median(nlist: freud.locality.NeighborList) -> float:
    """Median over particles (with neighbors) of the distance to their nearest neighbor: the frame's length unit."""
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
    no periodic box, so floating clusters get the same scale as bulk.

    Parameters
    ----------
    frame : Frame
        With more than :data:`~simssl.defaults.SCALE_NEIGHBORS` particles.
    """
    nlist = query_neighbor_list(frame, k=SCALE_NEIGHBORS)
    return float(np.median(np.asarray(nlist.distances).reshape(-1, SCALE_NEIGHBORS).mean(1)))


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
        ``vectors`` float32 (N, width, 3), ``mask`` (N, width), ``indices`` (N, width), types and ``scale``.

    Examples
    --------
    >>> import simssl
    >>> hood = simssl.compute_neighborhoods(simssl.read(simssl.example_path()), k=12)
    >>> hood.vectors.shape[1:]
    (12, 3)
    """
    scale = None
    if cutoff is not None:
        if not cutoff > 0:
            raise SimsslError(frame.where(f"the cutoff must be a positive multiple of the length scale, got {cutoff}"))
        scale = shell_scale(frame)
        r_max = cutoff * scale
        limit = _half_plane_distance(frame.box)
        if r_max >= limit:
            raise SimsslError(
                frame.where(
                    f"the neighborhood radius {cutoff} x {scale:.4g} (the frame's length scale) reaches "
                    f"half the box width ({limit:.4g}): the box is too small for this model"
                )
            )
    if cutoff is not None:
        neighborhoods = _ball_neighborhoods(frame, r_max, scale, cutoff)
    else:
        nlist = query_neighbor_list(frame, k=k, r_max=r_max)
        if len(nlist.distances) == 0:
            raise SimsslError(frame.where(f"no particle has a neighbor within r_max={r_max}"))
        width = int(nlist.neighbor_counts.max())
        scale = nearest_distance_median(nlist) if scale is None else scale
        neighborhoods = _padded(nlist, frame.types, width, scale, len(frame.type_names), cutoff)
    width = neighborhoods.k
    if max_neighbors is not None and width > max_neighbors:
        return replace(truncate(neighborhoods, max_neighbors), cutoff=cutoff)
    return neighborhoods


def model_neighborhoods(frame: Frame, config) -> Neighborhoods:
    """The neighborhoods an encoder with ``config`` reads: all within its ``cutoff``, or its ``k`` nearest,
    with the shell spectra (:mod:`simssl.shells`) of models that read them.

    The one place where a model's neighborhood definition becomes a freud query (inference,
    pretraining data, fine-tuning and the compute objects all come here). With shells, one query
    at the widest radius serves both: the encoder's neighborhoods are its bonds within ``cutoff``.

    Parameters
    ----------
    frame : Frame
    config : simssl.model.EncoderConfig
        Supplies ``cutoff`` and ``max_neighbors`` (or ``k`` when ``cutoff`` is None) and the ``shells``.
    """
    if not config.shells:
        if config.cutoff is None:
            return compute_neighborhoods(frame, k=config.k)
        return compute_neighborhoods(frame, cutoff=config.cutoff, max_neighbors=config.max_neighbors)
    from .shells import shell_spectra

    wide = compute_neighborhoods(
        frame, cutoff=max(max(config.shells), config.cutoff or 0), max_neighbors=SHELL_MAX_NEIGHBORS
    )
    spectra = shell_spectra(wide, config.shells, config.shell_degrees, config.shell_taper)
    hood = (
        compute_neighborhoods(frame, k=config.k)
        if config.cutoff is None
        else within(wide, config.cutoff, config.max_neighbors)
    )
    return replace(hood, shells=spectra, shell_spec=shell_spec(config))


def shell_spec(config) -> tuple | None:
    """What identifies a model's shell spectra: ``(radii, degrees, taper)``, or None without shells."""
    return (config.shells, config.shell_degrees, config.shell_taper) if config.shells else None


def within(neighborhoods: Neighborhoods, cutoff: float, max_neighbors: int | None = None) -> Neighborhoods:
    """The bonds of a wider cutoff query that lie within ``cutoff`` (unit-free), left-packed, as their own query.

    Parameters
    ----------
    neighborhoods : Neighborhoods
        A cutoff query at least ``cutoff`` wide.
    cutoff : float
        The narrower radius, in units of ``neighborhoods.scale``.
    max_neighbors : int or None
        Cap on the width (the nearest are kept).
    """
    lengths = np.linalg.norm(neighborhoods.vectors, axis=-1)
    keep = neighborhoods.mask & (lengths < np.float32(cutoff * neighborhoods.scale))
    width = max(1, int(keep.sum(1).max()))
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]
    indices = np.where(np.take_along_axis(keep, order, 1), np.take_along_axis(neighborhoods.indices, order, 1), -1)
    mask = indices >= 0
    narrow = replace(
        neighborhoods,
        vectors=np.take_along_axis(neighborhoods.vectors, order[..., None], 1) * mask[..., None],
        mask=mask,
        indices=indices,
        neighbor_types=np.where(mask, np.take_along_axis(neighborhoods.neighbor_types, order, 1), -1),
        nlist=None,
        cutoff=cutoff,
    )
    if max_neighbors is not None and width > max_neighbors:
        return replace(truncate(narrow, max_neighbors), cutoff=cutoff)
    return narrow


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
