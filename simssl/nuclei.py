"""Nuclei and grains: ordered particles that are neighbors, clustered per frame (what nucleation studies measure).

A particle is ordered when its identified structure is a crystal (``structure > 0``: not the liquid,
0, nor ``other``, -1; see :mod:`simssl.identify`). Two ordered particles are bonded when they are closer than
:data:`NUCLEUS_CUTOFF` times the frame's length unit (:func:`simssl.neighbors.shell_scale`, the
median mean distance to the 12 nearest): FCC's and HCP's first shell, BCC's first two, diamond's first
two. Clusters are the connected components of these bonds (freud's cluster module), numbered by
decreasing size: cluster 0 is the largest nucleus; disordered particles get -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import freud
import numpy as np

from .frame import Frame
from .neighbors import Ball, Neighborhoods, plan_neighborhoods

#: bond length between ordered particles of one nucleus, in units of :func:`~simssl.neighbors.shell_scale`
NUCLEUS_CUTOFF = 1.2
#: per-frame figures of :func:`order_summary`
SUMMARY_NAMES: tuple[str, ...] = ("ordered_fraction", "n_nuclei", "largest_nucleus")


def nuclei(frame: Frame, ordered: np.ndarray, neighborhoods: Neighborhoods | None = None) -> np.ndarray:
    """(N,) int32 nucleus id of every particle: 0 the largest cluster of ordered neighbors, -1 disordered.

    Parameters
    ----------
    frame : Frame
    ordered : numpy.ndarray
        (N,) bool.
    neighborhoods : Neighborhoods or None
        Every particle's neighbors within :data:`NUCLEUS_CUTOFF` length units (the view of
        ``Ball(NUCLEUS_CUTOFF)``; None: built here).
    """
    ordered = np.asarray(ordered, dtype=bool)
    result = np.full(frame.n_particles, -1, dtype=np.int32)
    chosen = np.flatnonzero(ordered)
    if len(chosen) == 0:
        return result
    if len(chosen) == 1:
        result[chosen] = 0
        return result
    if neighborhoods is None:
        spec = Ball(NUCLEUS_CUTOFF)
        neighborhoods = plan_neighborhoods(frame, [spec])[spec]
    bonded = neighborhoods.mask & ordered[:, None] & ordered[np.maximum(neighborhoods.indices, 0)]
    bonded[~ordered] = False
    rows, slots = np.nonzero(bonded)  # row-major: bonds grouped by particle, as freud wants them
    renumber = np.full(frame.n_particles, -1, dtype=np.int64)
    renumber[chosen] = np.arange(len(chosen))
    bonds = freud.locality.NeighborList.from_arrays(
        len(chosen),
        len(chosen),
        renumber[rows],
        renumber[neighborhoods.indices[rows, slots]],
        neighborhoods.vectors[rows, slots],
    )
    clusters = freud.cluster.Cluster().compute((frame.box, frame.positions[chosen]), neighbors=bonds).cluster_idx
    sizes = np.bincount(clusters)
    rank = np.empty_like(sizes)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
    result[chosen] = rank[clusters]
    return result


@dataclass(frozen=True)
class Nuclei:
    """Nuclei of ordered neighbors as a compute object: reads ``structure`` of the identification before it.

    Returns ``nucleus``, int32 (N,): 0 the largest nucleus, 1 the next, ..., -1 disordered (:func:`nuclei`).
    """

    #: bond length between ordered particles of one nucleus, in length units (shell_scale)
    radius: float = NUCLEUS_CUTOFF
    #: the quantity of the identification before it that it reads
    requires = ("structure",)
    #: what it returns
    names = ("nucleus",)

    @property
    def neighbors(self) -> Ball:
        """What it reads: every neighbor within :attr:`radius` length units."""
        return Ball(self.radius)

    def parameters(self) -> dict:
        """Everything that decides the results (JSON-like), for a run's record."""
        return {"kind": "Nuclei", "radius": self.radius}

    def compute(self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None) -> dict:
        """``{'nucleus': (N,) int32}`` from ``upstream['structure']`` (ordered: structure > 0).

        Parameters
        ----------
        frame : Frame
        neighborhoods : Neighborhoods or None
            The view of :attr:`neighbors` (None: built here).
        upstream : dict of str to numpy.ndarray
            Holds ``structure`` (N,).
        """
        if neighborhoods is None:
            neighborhoods = plan_neighborhoods(frame, [self.neighbors])[self.neighbors]
        return {"nucleus": nuclei(frame, np.asarray(upstream["structure"]) > 0, neighborhoods)}


def order_summary(structure: np.ndarray, nucleus: np.ndarray) -> dict[str, float]:
    """One frame's ``ordered_fraction``, ``n_nuclei`` and ``largest_nucleus`` (in particles).

    Parameters
    ----------
    structure : numpy.ndarray
        (N,) identified structure (0: liquid, -1: other; ordered: > 0).
    nucleus : numpy.ndarray
        (N,) nucleus ids (:func:`nuclei`).
    """
    structure, nucleus = np.asarray(structure), np.asarray(nucleus)
    sizes = np.bincount(nucleus[nucleus >= 0])
    return {
        "ordered_fraction": float(np.mean(structure > 0)) if len(structure) else 0.0,
        "n_nuclei": int(len(sizes)),
        "largest_nucleus": int(sizes.max()) if len(sizes) else 0,
    }


def evenly_spaced(count: int, rows: int) -> np.ndarray:
    """Indices of at most ``rows`` of ``count`` frames, evenly spaced, first and last included (for tables)."""
    return np.unique(np.linspace(0, count - 1, min(count, rows)).round().astype(int)) if count else np.zeros(0, int)


def shown_note(shown: int, count: int) -> list[str]:
    """The line every table of sampled frames ends with when it leaves frames out (none when it shows them all).

    Parameters
    ----------
    shown : int
        Rows shown (:func:`evenly_spaced`).
    count : int
        Frames there are.

    Returns
    -------
    list of str
        ``["(20 of 21 frames shown, evenly spaced)"]``, or ``[]``.
    """
    return [f"({shown} of {count} frames shown, evenly spaced)"] if shown < count else []
