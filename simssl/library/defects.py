"""Test systems beyond perfect crystals: stacking faults, grain boundaries, free surfaces, gases and glasses.

Each generator returns a validated :class:`~simssl.frame.Frame` in reduced units (nearest-neighbor
distance, or particle diameter, 1) and, where the construction defines one, the per-particle truth:

* :func:`close_packed_stack`: close-packed layers in any stacking sequence (``"ABCABAB..."``), with
  every particle's first-shell structure, fcc or hcp, from the layers above and below it;
  :func:`random_stacking` draws a random sequence (a random-stacked close-packed crystal);
* :func:`polycrystal`: a periodic Voronoi polycrystal of randomly oriented fcc grains, with each
  particle's grain and distance to the nearest grain-boundary plane;
* :func:`slab`: an fcc (001) slab with two free surfaces (not periodic along z), with each
  particle's depth below the nearer surface;
* :func:`ideal_gas`: uniformly random points;
* :func:`amorphous_packing`: a dense random packing of soft spheres (jammed by energy minimization
  from random points, so it has no time to crystallize).

These are what structure identification must get right where no reference crystal applies: the
boundary and surface particles, the gas and the glass are no crystal of the library, and the
stacking of close-packed layers decides fcc or hcp particle by particle.
"""

from __future__ import annotations

from typing import NamedTuple

import freud
import numpy as np

from ..errors import SimsslError
from ..frame import Frame, frame_from_lattice, make_frame
from .structures import displaced

#: the three positions of a close-packed layer, in the layer's rectangular cell (1, sqrt 3)
STACKING_SHIFTS = {"A": (0.0, 0.0), "B": (0.5, np.sqrt(3) / 6), "C": (0.0, np.sqrt(3) / 3)}
#: an fcc block, an hcp block and a twinned fcc block (...ABC|ABAB|CBA...; its wrap is a twin plane too):
#: stacking faults and twins in one periodic stack
FCC_HCP_TWIN = "ABCABCABCABC" + "ABABABAB" + "CBACBACBACB"
#: spacing of close-packed layers for nearest-neighbor distance 1
LAYER_SPACING = np.sqrt(2.0 / 3.0)
#: cubic lattice constant of fcc with nearest-neighbor distance 1
FCC_CUBIC = np.sqrt(2.0)
FCC_BASIS = np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]])
#: polycrystal: of two particles closer than this (nearest-neighbor distances), one is deleted
MIN_DISTANCE = 0.7
#: amorphous packing: FIRE minimization of the harmonic soft-sphere energy (diameter 1)
FIRE_STEPS = 1000
FIRE_TOLERANCE = 1e-4  # stop when no force component is larger (overlaps below about 1e-4)


class Stack(NamedTuple):
    """Close-packed layers and the first-shell truth of every particle.

    Attributes
    ----------
    frame : Frame
    stacking : numpy.ndarray
        (N,) str: ``"fcc"`` where the layers below and above differ, ``"hcp"`` where they are the same.
    layer : numpy.ndarray
        (N,) int32: the particle's layer, 0 at the bottom.
    """

    frame: Frame
    stacking: np.ndarray
    layer: np.ndarray


class Polycrystal(NamedTuple):
    """A Voronoi polycrystal and the construction's truth.

    Attributes
    ----------
    frame : Frame
    grain : numpy.ndarray
        (N,) int32: the grain (Voronoi cell) of every particle.
    boundary_distance : numpy.ndarray
        (N,) float32: distance of the particle's lattice site to the nearest grain-boundary plane
        (the bisector of its grain's seed and another's), in nearest-neighbor distances. Below 1 its
        first shell crosses the boundary.
    """

    frame: Frame
    grain: np.ndarray
    boundary_distance: np.ndarray


class Slab(NamedTuple):
    """An fcc slab with two free surfaces and the depth of every particle.

    Attributes
    ----------
    frame : Frame
        Periodic along x and y, not along z.
    depth : numpy.ndarray
        (N,) float32: distance of the particle's lattice site below the nearer outermost layer, in
        nearest-neighbor distances (0 on the surface, multiples of 1 / sqrt 2 below it).
    """

    frame: Frame
    depth: np.ndarray


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _positive(value: int, what: str) -> int:
    if int(value) < 1:
        raise SimsslError(f"{what} must be positive, got {value}")
    return int(value)


def _density(value: float, what: str) -> float:
    if not np.isfinite(value) or value <= 0:
        raise SimsslError(f"{what} must be a positive number, got {value}")
    return float(value)


def stacking_truth(sequence: str) -> np.ndarray:
    """The first-shell structure of every layer of a periodic close-packed stacking.

    Parameters
    ----------
    sequence : str
        Layer letters A, B, C, bottom to top; periodic (the last layer lies below the first).

    Returns
    -------
    numpy.ndarray
        (len(sequence),) str: ``"hcp"`` where the layers below and above are the same letter, else ``"fcc"``.

    Examples
    --------
    >>> stacking_truth("ABAC").tolist()  # dhcp
    ['fcc', 'hcp', 'fcc', 'hcp']
    """
    below, above = sequence[-1] + sequence[:-1], sequence[1:] + sequence[0]
    return np.where([b == a for b, a in zip(below, above)], "hcp", "fcc")


def _checked_sequence(sequence: str) -> str:
    sequence = str(sequence).upper()
    if len(sequence) < 2 or set(sequence) - set(STACKING_SHIFTS):
        raise SimsslError(f"a stacking sequence is two or more of the letters A, B, C, got {sequence!r}")
    repeated = [i for i in range(len(sequence)) if sequence[i] == sequence[i - 1]]
    if repeated:
        where = "its last and first layers" if repeated[0] == 0 else f"layers {repeated[0] - 1} and {repeated[0]}"
        raise SimsslError(
            f"the stacking {sequence!r} puts {where} on the same site (periodic along the stacking, the last "
            "layer lies below the first): consecutive close-packed layers must differ"
        )
    return sequence


def close_packed_stack(sequence: str, n_particles: int = 4096, noise: float = 0.0, seed=None) -> Stack:
    """Close-packed layers stacked in ``sequence``, periodic in all directions, nearest-neighbor distance 1.

    Every layer is a triangular lattice in a rectangular cell (``nx`` by ``ny sqrt 3``, two particles per
    cell, ``nx`` close to ``ny sqrt 3``); layers are ``sqrt(2/3)`` apart along z. ``"ABC"`` repeated is
    fcc, ``"AB"`` repeated hcp, ``"ABAC"`` dhcp; an fcc twin is ``"ABCABC" + "BACBAC"``.

    Parameters
    ----------
    sequence : str
        Layer letters A, B, C, bottom to top; no two consecutive letters equal, first and last included.
    n_particles : int
        Approximate number of particles (whole rectangular cells per layer).
    noise : float
        Gaussian noise standard deviation per Cartesian component, in nearest-neighbor distances.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the noise.

    Returns
    -------
    Stack
        The frame and the per-particle first-shell truth.

    Raises
    ------
    SimsslError
        For letters other than A, B, C, equal neighboring layers, a negative noise.

    Examples
    --------
    >>> stack = close_packed_stack("ABCAB", n_particles=500)
    >>> stack.frame.n_particles, sorted(set(stack.stacking[stack.layer == 4].tolist()))
    (500, ['hcp'])
    """
    sequence = _checked_sequence(sequence)
    n_particles = _positive(n_particles, "n_particles")
    per_layer = max(1.0, n_particles / len(sequence) / 2)
    ny = max(1, int(round(np.sqrt(per_layer / np.sqrt(3)))))
    nx = max(1, int(round(per_layer / ny)))
    cell = np.array([[0.0, 0.0], [0.5, np.sqrt(3) / 2]])
    grid = np.stack(np.meshgrid(np.arange(nx), np.arange(ny) * np.sqrt(3), indexing="ij"), -1).reshape(-1, 1, 2)
    plane = (grid + cell).reshape(-1, 2)
    layers = [
        np.column_stack([plane + STACKING_SHIFTS[letter], np.full(len(plane), i * LAYER_SPACING)])
        for i, letter in enumerate(sequence)
    ]
    points = displaced(np.concatenate(layers), noise, seed)
    box = np.diag([nx, ny * np.sqrt(3), len(sequence) * LAYER_SPACING])
    layer = np.repeat(np.arange(len(sequence), dtype=np.int32), len(plane))
    frame = frame_from_lattice(box, points, type_names=("A",), source=f"close-packed stacking {sequence}")
    return Stack(frame, stacking_truth(sequence)[layer], layer)


def random_stacking(n_layers: int, seed=None) -> str:
    """A random close-packed stacking sequence: each layer one of the two sites its lower neighbor leaves.

    Parameters
    ----------
    n_layers : int
        At least 3 (a periodic stacking needs its last layer to differ from the first, too).
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator

    Returns
    -------
    str
        Starting with ``"A"``; every layer, the last included, differs from the next one (periodically).
        Each layer is fcc or hcp with probability 1/2, independently (the wrap excepted).
    """
    if int(n_layers) < 3:
        raise SimsslError(f"a random periodic stacking needs at least 3 layers, got {n_layers}")
    rng = _rng(seed)
    while True:
        steps = rng.choice((1, 2), size=int(n_layers) - 1)  # the next letter, one or two sites on
        letters = np.concatenate([[0], np.cumsum(steps) % 3])
        if letters[-1] != 0:
            return "".join("ABC"[i] for i in letters)


def _random_rotations(count: int, rng: np.random.Generator) -> np.ndarray:
    """(count, 3, 3) rotation matrices, uniform on SO(3) (normalized Gaussian quaternions)."""
    q = rng.normal(size=(4, count))
    w, x, y, z = q / np.linalg.norm(q, axis=0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        axis=1,
    )


def _fcc_points_in_cube(rotation: np.ndarray, edge: float) -> np.ndarray:
    """Sites of an fcc lattice (nearest-neighbor distance 1, one site at the origin) rotated by ``rotation``,
    inside the cube of edge ``edge`` centered on the origin."""
    reach = int(np.ceil(edge * np.sqrt(3) / 2 / FCC_CUBIC)) + 1
    cells = np.stack(np.meshgrid(*[np.arange(-reach, reach + 1)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    points = ((cells + FCC_BASIS) * FCC_CUBIC).reshape(-1, 3) @ rotation.T
    return points[np.all(np.abs(points) < edge / 2, axis=1)]


def polycrystal(
    n_grains: int = 16, n_particles: int = 32000, noise: float = 0.0, seed=None, min_distance: float = MIN_DISTANCE
) -> Polycrystal:
    """A periodic Voronoi polycrystal of randomly oriented fcc grains (nearest-neighbor distance 1).

    ``n_grains`` seeds are placed uniformly at random in a cubic box of fcc density
    (``sqrt 2`` particles per unit volume); around each seed an fcc lattice with a random orientation
    (uniform on SO(3)) and a site on the seed fills the seed's periodic Voronoi cell. Where two grains
    meet, of any two particles closer than ``min_distance`` the one later in order is deleted.

    Parameters
    ----------
    n_grains : int
        Number of grains (Voronoi cells).
    n_particles : int
        Approximate number of particles (the box holds this many at fcc density; boundaries lose a few).
    noise : float
        Gaussian noise standard deviation per Cartesian component, in nearest-neighbor distances,
        added after the truth is taken from the lattice sites.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds the grains, their orientations and the noise.
    min_distance : float
        Closest approach allowed across a boundary, in nearest-neighbor distances.

    Returns
    -------
    Polycrystal
        The frame, the grain of every particle and its distance to the nearest boundary plane.

    Examples
    --------
    >>> grains = polycrystal(n_grains=4, n_particles=2000, seed=1)
    >>> len(set(grains.grain.tolist())), bool(grains.boundary_distance.min() >= 0)
    (4, True)
    """
    n_grains = _positive(n_grains, "n_grains")
    n_particles = _positive(n_particles, "n_particles")
    rng = _rng(seed)
    edge = (n_particles / np.sqrt(2)) ** (1 / 3)
    box = freud.box.Box.cube(edge)
    seeds = rng.uniform(-edge / 2, edge / 2, size=(n_grains, 3))
    points, grains = [], []
    for grain, rotation in enumerate(_random_rotations(n_grains, rng)):
        # A cube of edge L around the seed holds exactly one image of every point of the box, and the
        # seed's Voronoi cell (minimum-image distances) lies inside it.
        candidates = box.wrap(_fcc_points_in_cube(rotation, edge) + seeds[grain])
        nearest = np.argmin(_seed_distances(box, candidates, seeds), axis=1)
        points.append(candidates[nearest == grain])
        grains.append(np.full(len(points[-1]), grain, dtype=np.int32))
    points, grains = np.concatenate(points), np.concatenate(grains)
    pairs = (
        freud.locality.AABBQuery(box, points)
        .query(points, dict(r_max=float(min_distance), exclude_ii=True))
        .toNeighborList()
    )
    later = pairs.point_indices[pairs.point_indices > pairs.query_point_indices]
    keep = np.ones(len(points), dtype=bool)
    keep[later] = False
    points, grains = points[keep], grains[keep]
    distance = _boundary_distance(box, points, grains, seeds)
    frame = make_frame(
        box, displaced(points, noise, rng), type_names=("A",), source=f"fcc polycrystal of {n_grains} grains"
    )
    return Polycrystal(frame, grains, distance.astype(np.float32))


def _seed_distances(box: freud.box.Box, points: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(N, G) minimum-image distances from every point to every seed."""
    return np.stack([np.linalg.norm(box.wrap(points - seed), axis=1) for seed in seeds], axis=1)


def _boundary_distance(box: freud.box.Box, points: np.ndarray, grains: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """(N,) distance of every point to the nearest bisector plane between its grain's seed and another seed
    (each seed's image nearest to the point)."""
    own = box.wrap(points - seeds[grains])  # point - own seed
    distance = np.full(len(points), np.inf)
    for other, seed in enumerate(seeds):
        away = box.wrap(points - seed)  # point - other seed
        gap = np.linalg.norm(own - away, axis=1)  # distance between the two seeds' images
        plane = ((away**2).sum(1) - (own**2).sum(1)) / (2 * np.where(gap > 0, gap, 1))
        distance = np.where(grains == other, distance, np.minimum(distance, plane))
    return np.maximum(distance, 0.0)


def slab(n_particles: int = 8000, layers: int = 24, noise: float = 0.0, seed=None) -> Slab:
    """An fcc (001) slab of ``layers`` atomic layers with two free surfaces, periodic along x and y only.

    The (001) layers are ``1 / sqrt 2`` apart (nearest-neighbor distance 1), each a square lattice
    of side 1 with ``n x n`` cells of two particles; ``n`` is chosen for about ``n_particles``. The frame
    is not periodic along z (:func:`simssl.frame.frame_from_lattice` pads that direction, as for an
    extXYZ file with ``pbc="T T F"``): no particle sees the other surface through a periodic image.

    Parameters
    ----------
    n_particles : int
        Approximate number of particles.
    layers : int
        Atomic (001) layers, at least 2.
    noise : float
        Gaussian noise standard deviation per Cartesian component, in nearest-neighbor distances.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the noise.

    Returns
    -------
    Slab
        The frame and every particle's depth below the nearer surface.

    Examples
    --------
    >>> film = slab(n_particles=800, layers=8)
    >>> film.frame.periodic, film.frame.n_particles, round(float(film.depth.max()), 3)
    ((True, True, False), 784, 2.121)
    """
    n_particles, layers = _positive(n_particles, "n_particles"), _positive(layers, "layers")
    if layers < 2:
        raise SimsslError(f"a slab needs at least 2 layers, got {layers}")
    side = max(1, int(round(np.sqrt(n_particles / layers / 2))))
    a = FCC_CUBIC  # cubic lattice constant; one cubic cell holds two (001) layers
    square = np.stack(np.meshgrid(np.arange(side), np.arange(side), indexing="ij"), -1).reshape(-1, 2) * a
    offsets = np.array([[[0.0, 0.0], [0.5, 0.5]], [[0.0, 0.5], [0.5, 0.0]]]) * a  # even and odd (001) layers
    points = np.concatenate(
        [
            np.column_stack([(square[:, None] + offsets[k % 2]).reshape(-1, 2), np.full(2 * len(square), k * a / 2)])
            for k in range(layers)
        ]
    )
    depth = np.minimum(points[:, 2], (layers - 1) * a / 2 - points[:, 2])
    cell = np.diag([side * a, side * a, layers * a / 2])
    frame = frame_from_lattice(
        cell,
        displaced(points, noise, seed),
        periodic=(True, True, False),
        type_names=("A",),
        source=f"fcc (001) slab of {layers} layers",
    )
    return Slab(frame, depth.astype(np.float32))


def ideal_gas(n_particles: int = 2000, density: float = 0.1, seed=None) -> Frame:
    """``n_particles`` independent uniformly random points in a periodic cube of number density ``density``.

    Parameters
    ----------
    n_particles : int
    density : float
        Particles per unit volume (the unit of every other generator: nearest-neighbor distance 1).
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator

    Returns
    -------
    Frame
    """
    n_particles = _positive(n_particles, "n_particles")
    edge = (n_particles / _density(density, "the density")) ** (1 / 3)
    points = _rng(seed).uniform(-edge / 2, edge / 2, size=(n_particles, 3))
    return make_frame(freud.box.Box.cube(edge), points, type_names=("A",), source=f"ideal gas at density {density:g}")


def amorphous_packing(n_particles: int = 4000, packing_fraction: float = 0.64, seed=None) -> Frame:
    """A dense random packing: soft spheres of diameter 1 jammed from random points by energy minimization.

    Uniformly random points in a cube at ``packing_fraction`` relax under the harmonic repulsion
    ``(1 - r)^2 / 2`` (``r < 1``) by FIRE (Bitzek et al., Phys. Rev. Lett. 97, 170201 (2006)) until no
    force component exceeds ``FIRE_TOLERANCE`` or ``FIRE_STEPS`` steps have passed: O'Hern's jamming
    protocol (Phys. Rev. E 68, 011306 (2003)). A quench this fast from an ideal gas has no time to
    order: near random close packing (~0.64) the result is a glass, not a crystal. At 0.64 the
    minimization creeps (jamming): after ``FIRE_STEPS`` the closest pairs overlap by about 2 % of a
    diameter.

    Parameters
    ----------
    n_particles : int
    packing_fraction : float
        pi / 6 times the number density, in (0, 0.74).
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator

    Returns
    -------
    Frame
    """
    n_particles = _positive(n_particles, "n_particles")
    packing_fraction = _density(packing_fraction, "the packing fraction")
    if packing_fraction >= np.pi / np.sqrt(18):
        raise SimsslError(f"spheres cannot be packed at {packing_fraction}, above close packing (0.7405)")
    edge = (n_particles * np.pi / 6 / packing_fraction) ** (1 / 3)
    box = freud.box.Box.cube(edge)
    points = _rng(seed).uniform(-edge / 2, edge / 2, size=(n_particles, 3))
    velocity, dt, mixing, since_uphill = np.zeros_like(points), 0.05, 0.1, 0
    for _ in range(FIRE_STEPS):
        force = _soft_sphere_forces(box, points)
        if np.abs(force).max() < FIRE_TOLERANCE:
            break
        if np.sum(force * velocity) > 0:
            scale = np.linalg.norm(velocity) / max(np.linalg.norm(force), 1e-300)
            velocity = (1 - mixing) * velocity + mixing * scale * force
            since_uphill += 1
            if since_uphill > 5:
                dt, mixing = min(1.1 * dt, 0.2), 0.99 * mixing
        else:
            velocity[:], dt, mixing, since_uphill = 0.0, 0.5 * dt, 0.1, 0
        velocity += dt * force
        points = box.wrap(points + dt * velocity)
    return make_frame(box, points, type_names=("A",), source=f"soft-sphere packing at {packing_fraction:g}")


def _soft_sphere_forces(box: freud.box.Box, points: np.ndarray) -> np.ndarray:
    """(N, 3) harmonic soft-sphere forces (diameter 1, unit stiffness) on every point."""
    bonds = freud.locality.AABBQuery(box, points).query(points, dict(r_max=1.0, exclude_ii=True)).toNeighborList()
    vectors = bonds.vectors  # neighbor - particle, wrapped
    lengths = np.maximum(bonds.distances, 1e-12)
    push = -((1 - lengths) / lengths)[:, None] * vectors  # away from the neighbor
    first = bonds.query_point_indices
    return np.stack([np.bincount(first, push[:, a], minlength=len(points)) for a in range(3)], axis=1)
