"""Steinhardt bond-order baselines computed by freud (``simssl.steinhardt``), returned as named per-particle columns.

Column names are stable: ``q4``, ``q6``, ``w6`` (normalized w_l), and ``q6_avg``, ``w6_avg`` for the
Lechner-Dellago neighbor averages.
"""

from __future__ import annotations

from collections.abc import Sequence

import freud
import numpy as np

from .defaults import AVERAGE_SUFFIX, STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .errors import SimsslError
from .frame import Frame
from .neighbors import Neighborhoods, VoronoiCells, plan_neighborhoods, query_neighbor_list


def column_names(
    l: Sequence[int] = STEINHARDT_DEGREES, wl: bool = False, average: bool = False, raw: bool = True
) -> list[str]:
    """The columns :func:`steinhardt` returns for these options, in order."""
    groups = ([""] if raw else []) + ([AVERAGE_SUFFIX] if average else [])
    kinds = ["q"] + (["w"] if wl else [])
    return [f"{kind}{degree}{suffix}" for suffix in groups for kind in kinds for degree in l]


def parse_degrees(l) -> tuple[int, ...]:
    """``4``, ``"4,6,8"`` or ``[4, 6]`` -> a tuple of distinct spherical-harmonic degrees >= 1."""
    if isinstance(l, str):
        try:
            l = [int(part) for part in l.split(",") if part.strip()]
        except ValueError:
            raise SimsslError(f"cannot read the Steinhardt degrees {l!r}; give integers like '4,6,8'") from None
    degrees = tuple(int(x) for x in np.atleast_1d(l))
    if not degrees or min(degrees) < 1 or len(set(degrees)) != len(degrees):
        raise SimsslError(f"Steinhardt degrees must be distinct positive integers, got {l!r}")
    return degrees


def steinhardt(
    frame: Frame,
    l=STEINHARDT_DEGREES,
    wl: bool = False,
    average: bool = False,
    raw: bool = True,
    weighted: bool = False,
    num_neighbors: int = STEINHARDT_NEIGHBORS,
    neighbors: Neighborhoods | freud.locality.NeighborList | None = None,
) -> dict[str, np.ndarray]:
    """Per-particle Steinhardt order parameters of ``frame`` as ``{name: float32 (N,)}``.

    Parameters
    ----------
    frame : Frame
    l : sequence of int or str
        Degrees, e.g. ``(4, 6)`` or ``"4,6,8"``.
    wl : bool
        Also return normalized w_l (``w4``, ...).
    average : bool
        Also return Lechner-Dellago averages (``q6_avg``, ...); ``raw=False`` returns only those.
    raw : bool
        Return the plain q_l (and w_l).
    weighted : bool
        Use Voronoi neighbors weighted by facet area instead of nearest neighbors.
    num_neighbors : int
        Nearest neighbors per particle (12 by default: FCC's first shell).
    neighbors : Neighborhoods or freud.locality.NeighborList, optional
        Reuse a :class:`Neighborhoods` (its ``num_neighbors`` nearest are taken; ignored with ``weighted``)
        or a freud NeighborList (taken as is, e.g. Voronoi neighbors with their weights) instead of querying.

    Returns
    -------
    dict of str to numpy.ndarray
        float32 (N,) columns in the order of :func:`column_names`.

    Examples
    --------
    >>> import simssl
    >>> sorted(simssl.steinhardt(simssl.read(simssl.example_path()), l=(6,), average=True))
    ['q6', 'q6_avg']
    """
    degrees = parse_degrees(l)
    if not (raw or average):
        raise SimsslError("nothing to compute: both raw and average are off")
    nlist = _neighbor_list(frame, weighted, num_neighbors, neighbors)
    system = (frame.box, frame.positions)
    columns: dict[str, np.ndarray] = {}
    for averaged in [a for a, wanted in ((False, raw), (True, average)) if wanted]:
        computer = freud.order.Steinhardt(list(degrees), average=averaged, wl=wl, weighted=weighted, wl_normalize=True)
        computer.compute(system, neighbors=nlist)
        suffix = AVERAGE_SUFFIX if averaged else ""
        q = np.asarray(computer.ql, dtype=np.float32).reshape(frame.n_particles, -1)
        for position, degree in enumerate(degrees):
            columns[f"q{degree}{suffix}"] = q[:, position]
        if wl:
            w = np.asarray(computer.particle_order, dtype=np.float32).reshape(frame.n_particles, -1)
            for position, degree in enumerate(degrees):
                columns[f"w{degree}{suffix}"] = w[:, position]
    return {name: columns[name] for name in column_names(degrees, wl, average, raw)}


def _neighbor_list(frame, weighted, num_neighbors, neighbors):
    """The freud NeighborList Steinhardt reads: a given one as is, the nearest ``num_neighbors`` of given
    Neighborhoods, or the frame's own k-nearest (or, ``weighted``, Voronoi) neighbors."""
    if isinstance(neighbors, freud.locality.NeighborList):
        return neighbors
    if weighted:
        return plan_neighborhoods(frame, [VoronoiCells()])[VoronoiCells()].nlist
    if neighbors is None:
        return query_neighbor_list(frame, k=num_neighbors)
    if neighbors.k < num_neighbors:
        raise SimsslError(
            frame.where(
                f"the neighborhoods hold {neighbors.k} neighbors, fewer than the {num_neighbors} Steinhardt needs"
            )
        )
    return neighbors.neighbor_list(num_neighbors)
