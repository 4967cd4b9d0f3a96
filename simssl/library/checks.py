"""Measures that show a disordered reference is what it claims: its density, first coordination shell,
tetrahedrality, bond order, and how much of it OVITO's structure identification calls crystalline.

Used by ``tests/test_liquids.py`` (on short runs) and ``benchmarks/disorder_kinds.py`` (on the full
frames); OVITO, needed only by :func:`crystalline_fractions` and :func:`superheated_fcc`, is imported
when they are called.
"""

from __future__ import annotations

import freud
import numpy as np

from ..bond_order import steinhardt
from ..frame import Frame
from .md import PairDynamics, PairPotential
from .structures import crystal

#: RDF bins of :func:`first_shell`
RDF_BINS = 150
#: bins of the running mean that smooths g(r) in :func:`first_shell`
SMOOTHING = 5
#: half-width (in units of g(r)'s highest peak) of the neighborhood of which g(r)'s first minimum is the lowest
TROUGH_WIDTH = 0.1
#: without a trough below 1, :func:`first_shell` takes g(r)'s lowest point between its highest peak r_p and
#: this many r_p
MINIMUM_WINDOW = 1.6


def number_density(frame: Frame) -> float:
    """Particles per unit volume of the (periodic) box.

    Parameters
    ----------
    frame : Frame

    Returns
    -------
    float
    """
    return frame.n_particles / frame.box.volume


def first_shell(frames) -> tuple[float, float]:
    """The first minimum of the radial distribution function and the mean number of neighbors within it.

    g(r) is averaged over ``frames``, computed out to three median nearest-neighbor distances (at most
    half the box) and smoothed over :data:`SMOOTHING` bins; its first minimum is the first point after
    its highest peak r_p that is below 1 and the lowest within :data:`TROUGH_WIDTH` r_p on either side
    (noise on the falling flank does not count); else the lowest point up to :data:`MINIMUM_WINDOW` r_p.
    Where the first minimum is shallow and broad (liquid silicon at its melting point: g ~ 0.9-1 from
    2.9 to 3.4 A) the number depends on where in it the minimum falls: count within a fixed radius
    (:func:`coordination`) to compare with published values. In an ideal gas g(r) has no peak, and the
    number is not meaningful.

    Parameters
    ----------
    frames : Frame or list of Frame
        Snapshots of one system (same number of particles and density).

    Returns
    -------
    r_min : float
        In the frames' length units.
    coordination : float
        Mean neighbors closer than ``r_min``.
    """
    frames = [frames] if isinstance(frames, Frame) else list(frames)
    first = frames[0]
    query = freud.locality.AABBQuery(first.box, first.positions)
    nearest = query.query(first.positions, dict(num_neighbors=1, exclude_ii=True)).toNeighborList().distances
    r_max = min(3 * float(np.median(nearest)), 0.499 * min(min(frame.box.L) for frame in frames))
    rdf = freud.density.RDF(RDF_BINS, r_max)
    for frame in frames:
        rdf.compute(system=(frame.box, frame.positions), reset=False)
    g = np.convolve(rdf.rdf, np.ones(SMOOTHING) / SMOOTHING, mode="same")
    centers = rdf.bin_centers
    peak = int(np.argmax(g))
    reach = max(1, int(TROUGH_WIDTH * centers[peak] / (centers[1] - centers[0])))
    padded = np.pad(g, reach, constant_values=np.inf)
    lowest = np.min(np.lib.stride_tricks.sliding_window_view(padded, 2 * reach + 1), axis=1)  # over +- reach
    troughs = np.flatnonzero((np.arange(len(g)) > peak) & (g == lowest) & (g < 1))
    if len(troughs):
        r_min = float(centers[troughs[0]])
    else:
        window = np.flatnonzero((centers > centers[peak]) & (centers < MINIMUM_WINDOW * centers[peak]))
        r_min = float(centers[window[np.argmin(g[window])]])
    return r_min, coordination(frames, r_min)


def coordination(frames, radius: float) -> float:
    """Mean number of neighbors closer than ``radius``.

    Parameters
    ----------
    frames : Frame or list of Frame
    radius : float
        In the frames' length units.

    Returns
    -------
    float
    """
    frames = [frames] if isinstance(frames, Frame) else list(frames)
    counts = [
        len(
            freud.locality.AABBQuery(frame.box, frame.positions)
            .query(frame.positions, dict(r_max=radius, exclude_ii=True))
            .toNeighborList()
            .distances
        )
        for frame in frames
    ]
    return sum(counts) / sum(frame.n_particles for frame in frames)


def tetrahedrality(frame: Frame) -> float:
    """Mean orientational tetrahedral order q = 1 - 3/8 sum_{j<k} (cos psi_jk + 1/3)^2 over each particle's
    four nearest neighbors (Errington & Debenedetti, Nature 409, 318 (2001)): 1 in a perfect tetrahedron,
    0 on average for uncorrelated directions.

    Parameters
    ----------
    frame : Frame

    Returns
    -------
    float
    """
    query = freud.locality.AABBQuery(frame.box, frame.positions)
    bonds = query.query(frame.positions, dict(num_neighbors=4, exclude_ii=True)).toNeighborList()
    order = np.argsort(bonds.query_point_indices, kind="stable")
    vectors = bonds.vectors[order].reshape(frame.n_particles, 4, 3).astype(np.float64)
    units = vectors / np.linalg.norm(vectors, axis=2, keepdims=True)
    cosines = np.einsum("nja,nka->njk", units, units)[:, *np.triu_indices(4, 1)]
    return float(np.mean(1 - 3 / 8 * ((cosines + 1 / 3) ** 2).sum(1)))


def mean_q6(frame: Frame) -> float:
    """Mean Steinhardt q6 over the default 12 nearest neighbors (0.575 in fcc, ~0.3-0.4 in simple liquids).

    Parameters
    ----------
    frame : Frame

    Returns
    -------
    float
    """
    return float(np.mean(steinhardt(frame, l=(6,))["q6"]))


def crystalline_fractions(frame: Frame) -> dict[str, float]:
    """Fractions of particles OVITO calls crystalline, by two independent methods.

    * ``ptm``: polyhedral template matching (default RMSD cutoff 0.1) with the fcc, hcp, bcc, simple
      cubic, cubic and hexagonal diamond templates (icosahedral order is not a crystal);
    * ``cna``: adaptive common neighbor analysis (fcc, hcp, bcc), or diamond identification (cubic or
      hexagonal diamond, or their first or second neighbors) for the particles it leaves out.

    Parameters
    ----------
    frame : Frame
        A periodic frame.

    Returns
    -------
    dict of str to float
    """
    from ovito.data import DataCollection
    from ovito.modifiers import CommonNeighborAnalysisModifier as CNA
    from ovito.modifiers import IdentifyDiamondModifier as Diamond
    from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM

    matrix = np.asarray(frame.box.to_matrix(), dtype=np.float64)
    data = DataCollection()
    data.create_cell(np.column_stack([matrix, -0.5 * matrix.sum(axis=1)]), pbc=(True, True, True))  # centered
    data.create_particles(count=frame.n_particles).create_property("Position", data=frame.positions)
    crystals = {PTM.Type.FCC, PTM.Type.HCP, PTM.Type.BCC, PTM.Type.SC, PTM.Type.CUBIC_DIAMOND, PTM.Type.HEX_DIAMOND}
    ptm = PTM()
    for structure in ptm.structures:
        structure.enabled = structure.id in {int(t) for t in crystals} | {int(PTM.Type.ICO)}
    data.apply(ptm)
    found = {"ptm": np.isin(data.particles["Structure Type"], [int(t) for t in crystals])}
    data.apply(CNA(mode=CNA.Mode.AdaptiveCutoff))
    close_packed = np.isin(data.particles["Structure Type"], [int(CNA.Type.FCC), int(CNA.Type.HCP), int(CNA.Type.BCC)])
    data.apply(Diamond())
    found["cna"] = close_packed | (np.asarray(data.particles["Structure Type"]) != int(Diamond.Type.OTHER))
    return {method: float(np.mean(crystalline)) for method, crystalline in found.items()}


def superheated_fcc(
    potential: PairPotential, density: float, temperature: float, dt: float, steps: int, n_particles: int = 500
) -> tuple[float, float]:
    """Does an fcc crystal of ``potential`` melt at (``density``, ``temperature``) within ``steps`` time steps?

    A perfect periodic crystal has no surface to melt from and survives some superheating, so a crystal
    that melts shows the state lies above the melting line (a sufficient, not a necessary, test).

    Parameters
    ----------
    potential : PairPotential
    density, temperature, dt : float
    steps : int
    n_particles : int
        About this many (whole conventional cells).

    Returns
    -------
    before, after : float
        PTM's crystalline fraction (:func:`crystalline_fractions`) of the start and after the run.
    """
    start = crystal("cF4-Cu", n_particles)
    points = start.positions * (start.n_particles / start.box.volume / density) ** (1 / 3)
    md = PairDynamics(potential, start.n_particles, density, temperature, dt, 0, points=points)
    before = crystalline_fractions(md.frame("fcc"))["ptm"]
    md.run(steps, temperature)
    return before, crystalline_fractions(md.frame("fcc"))["ptm"]
