"""Disordered reference configurations: what "none of the crystals" looks like, made without an engine.

Structure identification (:mod:`simssl.identify`) needs a disordered reference next to the crystal
library, or every liquid particle would be forced onto its nearest crystal. Two kinds, both
one-component, periodic and in reduced units (particle diameter ~1):

* :func:`lennard_jones_liquid`: a short velocity-Verlet run of the Lennard-Jones fluid (cut at 2.5,
  velocity rescaling every 10 steps) melted from a simple-cubic start: a real, thermal liquid.
* :func:`soft_sphere_packing`: random points pushed apart by a harmonic repulsion until no two are
  closer than 1: a hard-sphere-like fluid; at low packing fractions its loose, low-coordination
  environments are closer to network liquids (silicon) than the Lennard-Jones fluid is.

:func:`liquid_frames` returns the set identification uses. numpy and freud only: a few seconds each.
"""

from __future__ import annotations

import freud
import numpy as np

from ..frame import Frame, frame_from_lattice

#: (number density, temperature) of the Lennard-Jones liquids: near the triple point, along the melting
#: line, hot and dense, expanded, and deeply supercooled (T_m ~ 1.0 at density 1.0: these do not nucleate
#: within the run, but their dense, locally ordered structure is what a quenched melt shows before it does)
LENNARD_JONES_STATES: tuple[tuple[float, float], ...] = (
    (0.85, 1.0),
    (0.92, 1.3),
    (1.0, 2.0),
    (0.8, 0.8),
    (1.0, 0.6),
    (0.97, 0.5),
)
#: every Lennard-Jones run first melts its lattice start at this temperature for MELT_STEPS
MELT_TEMPERATURE = 2.5
MELT_STEPS = 300
#: packing fractions (diameter 1) of the soft-sphere packings
PACKING_FRACTIONS: tuple[float, ...] = (0.40, 0.45, 0.50)
LENNARD_JONES_CUTOFF = 2.5
#: steps between neighbor-list rebuilds of the Lennard-Jones runs
REBUILD = 10


def _cube_frame(edge: float, points: np.ndarray) -> Frame:
    return frame_from_lattice(np.eye(3) * edge, points, type_names=("A",), source="reference liquid")


def _pair_vectors(box: freud.box.Box, points: np.ndarray, r_max: float):
    """Every ordered pair closer than ``r_max``: (first indices, minimum-image vectors first -> second)."""
    bonds = freud.locality.AABBQuery(box, points).query(points, dict(r_max=r_max, exclude_ii=True)).toNeighborList()
    first = bonds.query_point_indices
    return first, box.wrap(points[bonds.point_indices] - points[first])


def lennard_jones_liquid(
    n_particles: int = 1000, density: float = 0.85, temperature: float = 1.0, steps: int = 1000, seed: int = 0
) -> Frame:
    """A Lennard-Jones liquid (epsilon = sigma = 1): a cubic lattice melted for :data:`MELT_STEPS` at
    :data:`MELT_TEMPERATURE`, then ``steps`` of velocity Verlet (dt 0.004) at ``temperature``.

    Parameters
    ----------
    n_particles : int
        Particles (a cubic box at ``density``).
    density, temperature : float
        Number density and temperature in reduced units.
    steps : int
        Time steps (1000 = 4 time units: several structural relaxation times of these liquids).
    seed : int
        Seed of the initial velocities.

    Returns
    -------
    Frame
    """
    rng = np.random.default_rng(seed)
    edge = (n_particles / density) ** (1 / 3)
    box = freud.box.Box.cube(edge)
    side = int(np.ceil(n_particles ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n_particles]
    points = (grid + 0.5) * edge / side - edge / 2
    velocities = rng.normal(scale=np.sqrt(MELT_TEMPERATURE), size=points.shape)
    velocities -= velocities.mean(0)

    def forces(points, first, second):
        vectors = box.wrap(points[second] - points[first])
        inverse_squared = 1 / (vectors**2).sum(1)
        inverse_sixth = np.where(inverse_squared > 1 / LENNARD_JONES_CUTOFF**2, inverse_squared**3, 0)
        pair = (24 * inverse_sixth * (2 * inverse_sixth - 1) * inverse_squared)[:, None] * vectors
        return -np.stack([np.bincount(first, pair[:, a], minlength=n_particles) for a in range(3)], axis=1)

    dt = 0.004
    for step in range(MELT_STEPS + steps):
        target = MELT_TEMPERATURE if step < MELT_STEPS else temperature
        if step % REBUILD == 0:  # a skin of 0.4 outlasts REBUILD steps of any particle at these temperatures
            bonds = freud.locality.AABBQuery(box, points).query(
                points, dict(r_max=LENNARD_JONES_CUTOFF + 0.4, exclude_ii=True)
            )
            bonds = bonds.toNeighborList()
            first, second = bonds.query_point_indices, bonds.point_indices
            if step == 0:
                force = forces(points, first, second)
        velocities += 0.5 * dt * force
        points = box.wrap(points + dt * velocities)
        force = forces(points, first, second)
        velocities += 0.5 * dt * force
        if step % 10 == 0:
            velocities *= np.sqrt(target / ((velocities**2).sum() / (3 * n_particles)))
    return _cube_frame(edge, points)


def soft_sphere_packing(n_particles: int = 1500, packing_fraction: float = 0.45, seed: int = 0) -> Frame:
    """Random points relaxed by a harmonic repulsion (diameter 1) until no pair overlaps (at most 3,000 steps).

    Parameters
    ----------
    n_particles : int
    packing_fraction : float
        Below random close packing (~0.64), so that the relaxation ends without overlaps.
    seed : int

    Returns
    -------
    Frame
    """
    rng = np.random.default_rng(seed)
    edge = (n_particles * np.pi / 6 / packing_fraction) ** (1 / 3)
    box = freud.box.Box.cube(edge)
    points = rng.uniform(-edge / 2, edge / 2, (n_particles, 3))
    for _ in range(3000):
        first, vectors = _pair_vectors(box, points, 1.0)
        lengths = np.linalg.norm(vectors, axis=1)
        if not len(lengths) or lengths.min() > 0.999:
            break
        push = -((1 - lengths) / lengths)[:, None] * vectors
        points = box.wrap(
            points + 0.2 * np.stack([np.bincount(first, push[:, a], minlength=n_particles) for a in range(3)], 1)
        )
    return _cube_frame(edge, points)


def liquid_frames(seed: int = 0) -> list[Frame]:
    """The disordered references: one Lennard-Jones liquid per :data:`LENNARD_JONES_STATES` and one packing
    per :data:`PACKING_FRACTIONS` (~7,000 particles in all).

    Parameters
    ----------
    seed : int

    Returns
    -------
    list of Frame
    """
    frames = [
        lennard_jones_liquid(density=density, temperature=temperature, seed=seed * 100 + index)
        for index, (density, temperature) in enumerate(LENNARD_JONES_STATES)
    ]
    return frames + [
        soft_sphere_packing(packing_fraction=fraction, seed=seed * 100 + index)
        for index, fraction in enumerate(PACKING_FRACTIONS)
    ]
