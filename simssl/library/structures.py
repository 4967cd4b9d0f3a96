"""Training structures for self-supervised pretraining: AFLOW crystal prototypes and random crystals.

Every structure comes out as a validated :class:`~simssl.frame.Frame` in reduced units: rescaled so the
shortest interparticle distance is 1, replicated to about ``n_particles`` particles and optionally
perturbed by Gaussian noise whose standard deviation (per Cartesian component) is given in those
units, as in the seed paper (Spellings et al.), which trained on such frames.
"""

from __future__ import annotations

import functools
import itertools
import json
import warnings
from collections.abc import Iterator, Sequence
from importlib import resources

import numpy as np

from ..errors import SimsslError
from ..frame import Frame, frame_from_lattice
from ..neighbors import query_neighbor_list

PROTOTYPES = "prototypes.json"
SUBSETS = ("all", "paper", "train", "held_out", "pretrain")
# Random crystals: sites closer than MIN_SEPARATION * (volume per particle)^(1/3) count as merged.
MIN_SEPARATION = 0.4
SYMPREC = 1e-3  # spglib tolerance, in units of the shortest distance
MAX_ATTEMPTS = 64
CANDIDATES = 256  # random sites tried at once when placing one orbit
# Last space-group number of each crystal system, in order: triclinic ... cubic.
SYSTEM_ENDS = (2, 15, 74, 142, 167, 194, 230)
SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic")
#: space groups never used for pretraining (no random crystals of them; no pretraining prototype has them):
#: the zero-shot test set of ``benchmarks/zero_shot_space_groups.py``, three or more per crystal system
#: (triclinic has only groups 1 and 2, both used)
HELD_OUT_SPACE_GROUPS: tuple[int, ...] = (
    4, 9, 13, 20, 33, 62, 70, 88, 122, 129, 139, 141, 148, 160, 161, 176, 187, 191, 217, 227, 230
)  # fmt: skip


@functools.cache
def _prototypes() -> dict[str, dict]:
    """The bundled prototype table (see ``benchmarks/make_prototypes.py``), keyed by name."""
    text = resources.files("simssl.library").joinpath(PROTOTYPES).read_text()
    return {entry["name"]: entry for entry in json.loads(text)["prototypes"]}


def prototype_names(subset: str = "all") -> list[str]:
    """Sorted prototype names of a subset of the bundled AFLOW table.

    Parameters
    ----------
    subset : {"all", "paper", "train", "held_out", "pretrain"}
        ``"all"``: 60 one-component AFLOW cells; ``"paper"``: the seed paper's 50, or its
        ``"train"`` (6) and ``"held_out"`` (44) parts; ``"pretrain"`` (16): every cell but the
        held-out ones (what the default model trains on, so held-out tests stay unseen).

    Returns
    -------
    list of str

    Raises
    ------
    SimsslError
        For an unknown subset.
    """
    if subset not in SUBSETS:
        raise SimsslError(f"unknown prototype subset {subset!r}; choose one of {', '.join(SUBSETS)}")
    table = _prototypes()
    if subset == "all":
        return sorted(table)
    if subset == "pretrain":
        return sorted(name for name, entry in table.items() if entry["paper"] != "held_out")
    return sorted(
        name for name, entry in table.items() if entry["paper"] is not None and subset in ("paper", entry["paper"])
    )


def _entry(name: str) -> dict:
    try:
        return _prototypes()[name]
    except KeyError:
        raise SimsslError(
            f"unknown crystal prototype {name!r}; prototype_names() lists the {len(_prototypes())} available"
        ) from None


def unit_cell(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A prototype's AFLOW unit cell.

    Parameters
    ----------
    name : str
        A name from :func:`prototype_names`; unknown names raise ``SimsslError``.

    Returns
    -------
    lattice : numpy.ndarray
        Lattice vectors as rows, (3, 3) float64, in Angstrom.
    positions : numpy.ndarray
        Fractional positions, (n, 3) float64, in [0, 1).
    """
    entry = _entry(name)
    return np.array(entry["lattice"], dtype=np.float64), np.array(entry["positions"], dtype=np.float64)


def prototype_space_group(name: str) -> int:
    """The prototype's space-group number (International Tables), as AFLOW lists it.

    Parameters
    ----------
    name : str
        A name from :func:`prototype_names`.

    Returns
    -------
    int
        1-230.
    """
    return int(_entry(name)["space_group"])


def crystal(name: str, n_particles: int = 4096, noise: float = 0.0, seed=None) -> Frame:
    """The prototype ``name`` with shortest distance 1, replicated to about ``n_particles`` particles.

    Parameters
    ----------
    name : str
        A name from :func:`prototype_names`.
    n_particles : int
        Approximate number of particles (whole unit cells are replicated).
    noise : float
        Standard deviation of the Gaussian noise per Cartesian component, in units of the shortest
        distance; must be finite and non-negative.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Makes the noise reproducible.

    Returns
    -------
    Frame
        One-component (type ``"A"``) periodic frame, positions (N, 3) float32.

    Examples
    --------
    >>> from simssl.library.structures import crystal
    >>> frame = crystal("cF4-Cu", n_particles=500, noise=0.05, seed=1)
    >>> frame.n_particles, frame.type_names
    (500, ('A',))
    """
    lattice, positions = unit_cell(name)
    return replicated(lattice, positions, n_particles, noise, seed, source=f"prototype {name}")


def _widths(lattice: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell spanned by the rows of ``lattice``."""
    return 1.0 / np.linalg.norm(np.linalg.inv(lattice), axis=0)


def _cartesian_grid(lattice: np.ndarray, positions: np.ndarray, repeats) -> np.ndarray:
    """Cartesian positions of the cell's particles in a ``repeats`` supercell, cell by cell."""
    cells = np.stack(np.meshgrid(*(np.arange(n) for n in repeats), indexing="ij"), axis=-1).reshape(-1, 1, 3)
    return ((cells + positions).reshape(-1, 3)) @ lattice


def shortest_distance(lattice: np.ndarray, positions: np.ndarray) -> float:
    """Shortest distance between two particles of the periodic crystal (periodic images included).

    Parameters
    ----------
    lattice : array_like
        Lattice vectors as rows, (3, 3).
    positions : array_like
        Fractional positions, (n, 3).

    Returns
    -------
    float
        In the lattice's length unit.
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    # Every particle's nearest neighbor is no farther than its image one shortest lattice vector away,
    # so a supercell more than twice that wide in every direction holds it.
    reach = np.linalg.norm(lattice, axis=1).min()
    repeats = np.ceil(2.5 * reach / _widths(lattice)).astype(int)
    frame = frame_from_lattice(lattice * repeats[:, None], _cartesian_grid(lattice, positions, repeats))
    return float(query_neighbor_list(frame, k=1).distances.min())


def replication(lattice: np.ndarray, n_basis: int, n_particles: int) -> np.ndarray:
    """Integer repeats along a, b, c that give close to ``n_particles`` particles.

    The box's face distances are made as equal as possible (score: |log count ratio| + 0.5 log
    anisotropy).

    Parameters
    ----------
    lattice : numpy.ndarray
        Lattice vectors as rows, (3, 3).
    n_basis : int
        Particles per unit cell.
    n_particles : int
        Target number of particles.

    Returns
    -------
    numpy.ndarray
        Repeats, (3,) int, each >= 1.
    """
    widths = _widths(lattice)
    ideal = np.cbrt(n_particles / n_basis * np.prod(widths)) / widths
    ranges = [np.arange(max(1, int(v) - 1), int(np.ceil(v)) + 2) for v in ideal]
    candidates = np.array(list(itertools.product(*ranges)))
    extents = candidates * widths
    score = np.abs(np.log(n_basis * candidates.prod(axis=1) / n_particles)) + 0.5 * np.log(
        extents.max(axis=1) / extents.min(axis=1)
    )
    return candidates[np.argmin(score)]


def supercell(lattice, positions, n_particles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A crystal rescaled to shortest distance 1 and replicated to about ``n_particles`` particles.

    Parameters
    ----------
    lattice : array_like
        Lattice vectors as rows, (3, 3).
    positions : array_like
        Fractional positions, (n, 3).
    n_particles : int
        Approximate number of particles; must be positive.

    Returns
    -------
    box : numpy.ndarray
        The supercell's vectors as rows, (3, 3) float64.
    points : numpy.ndarray
        Cartesian positions, (N, 3) float64, cell by cell.
    basis : numpy.ndarray
        (N,) int: the unit-cell site (row of ``positions``) of every particle.
    """
    if int(n_particles) < 1:
        raise SimsslError(f"n_particles must be positive, got {n_particles}")
    lattice = np.asarray(lattice, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64)
    lattice = lattice / shortest_distance(lattice, positions)
    repeats = replication(lattice, len(positions), n_particles)
    points = _cartesian_grid(lattice, positions, repeats)
    return lattice * repeats[:, None], points, np.tile(np.arange(len(positions)), int(np.prod(repeats)))


def displaced(points: np.ndarray, noise: float, seed=None) -> np.ndarray:
    """``points`` plus Gaussian noise of standard deviation ``noise`` per Cartesian component.

    Parameters
    ----------
    points : numpy.ndarray
        (N, 3).
    noise : float
        Finite, non-negative; 0 returns ``points`` unchanged.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        (N, 3) float64.
    """
    if not np.isfinite(noise) or noise < 0:
        raise SimsslError(f"noise must be a finite non-negative standard deviation, got {noise}")
    if noise == 0:
        return points
    return points + np.random.default_rng(seed).normal(scale=noise, size=points.shape)


def replicated(
    lattice, positions, n_particles: int = 4096, noise: float = 0.0, seed=None, source: str | None = None
) -> Frame:
    """A Frame of a crystal, rescaled to shortest distance 1, replicated and displaced by Gaussian noise.

    Parameters
    ----------
    lattice : array_like
        Lattice vectors as rows, (3, 3).
    positions : array_like
        Fractional positions, (n, 3).
    n_particles : int
        Approximate number of particles; must be positive.
    noise : float
        Gaussian noise standard deviation in units of the shortest distance; finite, non-negative.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the noise.
    source : str or None
        Description stored in the Frame (for messages).

    Returns
    -------
    Frame
        One-component (type ``"A"``).
    """
    box, points, _ = supercell(lattice, positions, n_particles)
    return frame_from_lattice(box, displaced(points, noise, seed), type_names=("A",), source=source)


def _group_number(space_group) -> int:
    """``space_group`` as an int, refusing numbers outside 1-230."""
    if not 1 <= int(space_group) <= 230:
        raise SimsslError(f"space groups are numbered 1 to 230, got {space_group}")
    return int(space_group)


def crystal_system(space_group: int) -> str:
    """The crystal system (``"triclinic"`` ... ``"cubic"``) of a space-group number 1-230.

    Parameters
    ----------
    space_group : int
        1-230; other numbers raise ``SimsslError``.

    Returns
    -------
    str
        One of :data:`SYSTEMS`.
    """
    return SYSTEMS[int(np.searchsorted(SYSTEM_ENDS, _group_number(space_group)))]


def _random_cellpar(space_group: int, rng: np.random.Generator) -> list[float]:
    """Random (a, b, c, alpha, beta, gamma) obeying the group's crystal system, in the standard
    setting ase uses (monoclinic unique axis b; trigonal and rhombohedral on hexagonal axes)."""
    b, c = rng.uniform(0.75, 1.35, size=2)
    system = crystal_system(space_group)
    if system == "triclinic":
        return [1.0, b, c, *rng.uniform(75.0, 105.0, size=3)]
    if system == "monoclinic":
        return [1.0, b, c, 90.0, rng.uniform(95.0, 120.0), 90.0]
    if system == "orthorhombic":
        return [1.0, b, c, 90.0, 90.0, 90.0]
    if system == "tetragonal":
        return [1.0, 1.0, c, 90.0, 90.0, 90.0]
    if system in ("trigonal", "hexagonal"):
        return [1.0, 1.0, c, 90.0, 90.0, 120.0]
    return [1.0, 1.0, 1.0, 90.0, 90.0, 90.0]


def _min_image_distances(difference: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Lengths of fractional differences (..., 3) after wrapping each component into [-1/2, 1/2)."""
    return np.linalg.norm((difference - np.round(difference)) @ cell, axis=-1)


def _place_sites(rotations, translations, cell, n_orbits, rng) -> list[np.ndarray] | None:
    """Representatives of ``n_orbits`` general-position orbits, each well separated from its own
    images and from the sites placed before it; None when some orbit finds no room."""
    generic = ~(np.all(rotations == np.eye(3), axis=(1, 2)) & np.all(translations == 0, axis=1))
    limit = MIN_SEPARATION * np.cbrt(abs(np.linalg.det(cell)) / (n_orbits * len(rotations)))
    sites, placed = [], np.empty((0, 3))
    for _ in range(n_orbits):
        x = rng.random((CANDIDATES, 3))
        orbits = np.einsum("mij,kj->kmi", rotations, x) + translations  # (K, m, 3)
        own = _min_image_distances(orbits[:, generic] - x[:, None], cell).min(axis=1, initial=np.inf)
        other = _min_image_distances(placed[None] - x[:, None], cell).min(axis=1, initial=np.inf)
        good = np.flatnonzero(np.minimum(own, other) >= limit)
        if len(good) == 0:
            return None
        sites.append(x[good[0]])
        placed = np.concatenate([placed, orbits[good[0]] % 1.0])
    return sites


def space_group_number(lattice, positions, symprec: float = SYMPREC) -> int | None:
    """spglib's space-group number of a one-component crystal.

    Parameters
    ----------
    lattice : array_like
        Lattice vectors as rows, (3, 3).
    positions : array_like
        Fractional positions, (n, 3).
    symprec : float
        spglib tolerance, in the lattice's length unit.

    Returns
    -------
    int or None
        None when spglib finds no symmetry.
    """
    import spglib

    cell = (
        np.asarray(lattice, dtype=np.float64),
        np.asarray(positions, dtype=np.float64),
        np.zeros(len(positions), dtype=np.int32),
    )
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", DeprecationWarning
        )  # spglib 2.7+ announces its error-handling change on every call
        dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return None if dataset is None else int(dataset.number)


def random_unit_cell(space_group: int, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """A random one-component crystal whose space group is exactly ``space_group`` (1-230).

    Random lattice parameters of the group's crystal system and one or more random general (generic,
    Wyckoff-free) positions, expanded by ``ase.spacegroup.crystal``; cells whose shortest distance
    collapses below ``MIN_SEPARATION`` or that spglib finds to have another group are redrawn. Single
    orbits of small or polar groups gain symmetry (e.g. a mirror), so each redraw adds an orbit.
    Returns lattice rows (3, 3) and fractional positions (n, 3) like :func:`unit_cell`.

    Parameters
    ----------
    space_group : int
        1-230.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seed of the random draws.

    Returns
    -------
    lattice : numpy.ndarray
        (3, 3) float64, rows.
    positions : numpy.ndarray
        (n, 3) float64, fractional.

    Raises
    ------
    SimsslError
        If no valid cell is found after ``MAX_ATTEMPTS`` draws, or the group number is out of range.
    """
    from ase.geometry import cellpar_to_cell  # ase.spacegroup takes seconds to import: only load it here
    from ase.spacegroup import Spacegroup
    from ase.spacegroup import crystal as ase_crystal

    space_group = _group_number(space_group)
    rng = np.random.default_rng(seed)
    group = Spacegroup(space_group)
    rotations, translations = (np.asarray(op, dtype=np.float64) for op in group.get_op())
    n_orbits = int(np.ceil(4 / len(rotations)))
    for _ in range(MAX_ATTEMPTS):
        cellpar = _random_cellpar(space_group, rng)
        sites = _place_sites(rotations, translations, cellpar_to_cell(cellpar), n_orbits, rng)
        if sites is None:
            continue
        # The element is arbitrary (one component); merged duplicates are kept so the distance check sees them.
        atoms = ase_crystal(["H"] * n_orbits, basis=sites, spacegroup=group, cellpar=cellpar, onduplicates="keep")
        lattice, positions = atoms.cell.array, atoms.get_scaled_positions()
        distance = shortest_distance(lattice, positions)
        if distance < MIN_SEPARATION * np.cbrt(atoms.cell.volume / len(atoms)):
            continue
        if space_group_number(lattice / distance, positions) == space_group:
            return lattice, positions
        n_orbits += 1
    raise SimsslError(f"no random crystal of space group {space_group} after {MAX_ATTEMPTS} attempts")


def random_crystal(space_group: int, n_particles: int = 4096, seed=None, noise: float = 0.0) -> Frame:
    """A random crystal of ``space_group`` (see :func:`random_unit_cell`) as a Frame like :func:`crystal`.

    Parameters
    ----------
    space_group : int
        1-230.
    n_particles : int
        Approximate number of particles.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Seeds both the cell and the noise.
    noise : float
        Gaussian noise standard deviation in units of the shortest distance.

    Returns
    -------
    Frame
    """
    rng = np.random.default_rng(seed)
    lattice, positions = random_unit_cell(space_group, rng)
    return replicated(
        lattice, positions, n_particles, noise, rng, source=f"random crystal of space group {space_group}"
    )


def library_frames(
    prototypes: Sequence[str],
    space_groups: Sequence[int],
    noise: Sequence[float] = (0.0,),
    draws: int = 1,
    n_particles: int = 4096,
    seed=None,
) -> Iterator[tuple[str, float, int, Frame]]:
    """Lazily yield ``(name, noise, frame_seed, frame)`` for every noise level, draw, prototype and space group.

    The one crystal-library iterator (pretraining data and :func:`library` both use it). Every
    frame's integer seed is drawn in turn from one generator (``seed``: an int, None or a
    ``numpy.random.Generator``) and returned, so any frame can be rebuilt on its own
    (``crystal(name, n, noise, frame_seed)``). Space groups whose random crystal cannot be built
    are skipped.

    Parameters
    ----------
    prototypes : sequence of str
        Prototype names.
    space_groups : sequence of int
        Space-group numbers (1-230) that each get a random crystal.
    noise : sequence of float
        Noise levels (standard deviations in shortest distances).
    draws : int
        Frames per structure and noise level.
    n_particles : int
        Approximate particles per frame.
    seed : None, int or numpy.random.Generator
        Generator of the per-frame seeds.

    Yields
    ------
    tuple of (str, float, int, Frame)
        ``(name, noise, frame_seed, frame)``; random crystals are named ``"spacegroup-<n>"``.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    for level in noise:
        for _ in range(draws):
            for name in prototypes:
                frame_seed = int(rng.integers(2**31))
                yield name, level, frame_seed, crystal(name, n_particles=n_particles, noise=level, seed=frame_seed)
            for group in space_groups:
                frame_seed = int(rng.integers(2**31))
                try:
                    frame = random_crystal(group, n_particles=n_particles, seed=frame_seed, noise=level)
                except (SimsslError, ValueError, RuntimeError):
                    continue
                yield f"spacegroup-{group}", level, frame_seed, frame


def library(
    noise: float = 0.0,
    seed=None,
    include_random: bool = True,
    n_particles: int = 4096,
    names: Sequence[str] | None = None,
) -> Iterator[tuple[str, Frame]]:
    """Lazily yield ``(name, frame)`` for every prototype (or ``names``), then random crystals.

    With ``include_random``, one random crystal per space group, named ``"spacegroup-<n>"``
    (see :func:`library_frames`, which this reads).

    Parameters
    ----------
    noise : float
        Gaussian noise standard deviation in shortest distances.
    seed : None, int or numpy.random.Generator
        Seed of the per-frame seeds.
    include_random : bool
        Also yield one random crystal per space group 1-230.
    n_particles : int
        Approximate particles per frame.
    names : sequence of str or None
        Prototype names (default: all).

    Yields
    ------
    tuple of (str, Frame)
    """
    names = prototype_names() if names is None else list(names)
    groups = range(1, 231) if include_random else ()
    for name, _, _, frame in library_frames(names, groups, (noise,), 1, n_particles, seed):
        yield name, frame
