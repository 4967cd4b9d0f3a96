"""Neighborhoods: freud neighbor queries turned into padded per-particle bond arrays, with no Python loops."""

from __future__ import annotations

from dataclasses import dataclass, field

import freud
import numpy as np

from .defaults import ENCODER_NEIGHBORS
from .errors import SimsslError
from .frame import Frame


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


def _padded(nlist, center_types, width, scale, n_types) -> Neighborhoods:
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
    return Neighborhoods(vectors, mask, indices, center_types, neighbor_types, scale, n_types, nlist)


def nearest_distance_median(nlist: freud.locality.NeighborList) -> float:
    """Median over particles (with neighbors) of the distance to their nearest neighbor: the frame's length unit."""
    counts = nlist.neighbor_counts
    starts = nlist.segments[counts > 0]
    return float(np.median(np.minimum.reduceat(nlist.distances, starts)))


def compute_neighborhoods(
    frame: Frame, k: int | None = ENCODER_NEIGHBORS, r_max: float | None = None, max_neighbors: int | None = None
) -> Neighborhoods:
    """Padded bonds of every particle: its ``k`` nearest neighbors, or all within ``r_max``.

    For a ball query the width is the largest neighbor count (capped at ``max_neighbors``, keeping
    the nearest); bond vectors are exactly freud's ``NeighborList.vectors``.

    Parameters
    ----------
    frame : Frame
    k : int
        Nearest neighbors per particle (default 16, an encoder's neighborhood).
    r_max : float, optional
        Ball query radius instead of ``k`` nearest.
    max_neighbors : int, optional
        Cap on the width of a ball query.

    Returns
    -------
    Neighborhoods
        ``vectors`` float32 (N, k, 3), ``mask`` (N, k), ``indices`` (N, k), types and ``scale``.

    Examples
    --------
    >>> import simssl
    >>> hood = simssl.compute_neighborhoods(simssl.read(simssl.example_path()), k=12)
    >>> hood.vectors.shape[1:]
    (12, 3)
    """
    nlist = query_neighbor_list(frame, k=k, r_max=r_max)
    if len(nlist.distances) == 0:
        raise SimsslError(frame.where(f"no particle has a neighbor within r_max={r_max}"))
    width = int(nlist.neighbor_counts.max())
    neighborhoods = _padded(nlist, frame.types, width, nearest_distance_median(nlist), len(frame.type_names))
    if max_neighbors is not None and width > max_neighbors:
        return truncate(neighborhoods, max_neighbors)
    return neighborhoods


def truncate(neighborhoods: Neighborhoods, num_neighbors: int) -> Neighborhoods:
    """Neighborhoods (N, ``num_neighbors``) with only each particle's ``num_neighbors`` nearest bonds."""
    nlist = neighborhoods.neighbor_list(num_neighbors)
    return _padded(nlist, neighborhoods.center_types, num_neighbors, neighborhoods.scale, neighborhoods.n_types)


def neighbor_average(values, neighborhoods: Neighborhoods):
    """Per particle, the mean of its own row of ``values`` and its neighbors' rows (Lechner-Dellago style).

    The one neighbor averaging of simssl (``embedding_avg``, ``model.embed(average=True)``).

    Parameters
    ----------
    values : numpy.ndarray or torch.Tensor, (N, ...)
        Per-particle values (a torch tensor may live on a GPU).
    neighborhoods : Neighborhoods
        Whose ``indices``/``mask`` (N, k) name each particle's neighbors.

    Returns
    -------
    Same type and shape as ``values``. The loop runs over the k neighbor slots, not particles, so
    memory stays O(N x D) whatever k.
    """
    indices, mask = np.maximum(neighborhoods.indices, 0), neighborhoods.mask
    if not isinstance(values, np.ndarray):  # a torch tensor, possibly on a GPU
        import torch

        indices, mask = torch.as_tensor(indices, device=values.device), torch.as_tensor(mask, device=values.device)
    total = values.clone() if not isinstance(values, np.ndarray) else values.copy()
    for slot in range(neighborhoods.k):
        weight = mask[:, slot].reshape((-1,) + (1,) * (values.ndim - 1))
        total += values[indices[:, slot]] * weight
    counts = 1 + mask.sum(1)
    counts = counts.to(values.dtype) if not isinstance(values, np.ndarray) else counts.astype(values.dtype)
    return total / counts.reshape((-1,) + (1,) * (values.ndim - 1))  # same dtype as ``values``


def model_inputs(neighborhoods: Neighborhoods, rows=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What an encoder reads: ``(bonds, mask, center_types, neighbor_types)`` of (a subset of) the particles.

    The one place where Neighborhoods become model inputs. ``bonds`` are float32 (n, k, 3) bond
    vectors divided by the frame's length ``scale`` (unit-free, so models transfer between unit
    systems); ``mask`` bool (n, k); ``center_types`` int32 (n,); ``neighbor_types`` int32 (n, k),
    -1 on padding. ``rows`` (an index array or slice) selects particles; default all.
    """
    rows = slice(None) if rows is None else rows
    bonds = neighborhoods.vectors[rows] / np.float32(neighborhoods.scale)
    return bonds, neighborhoods.mask[rows], neighborhoods.center_types[rows], neighborhoods.neighbor_types[rows]
