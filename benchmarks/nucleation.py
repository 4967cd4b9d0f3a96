"""A Lennard-Jones liquid that crystallizes by homogeneous nucleation: real LAMMPS, cached.

The potential of ``thermal_crystals.py`` (Lennard-Jones cut at 3 sigma, no shift, no tail; ``units lj``,
time step 0.005). An fcc lattice of ``--atoms`` (~4,000) at rho sigma^3 = 0.98 is melted at T = 2.0 (4,000
steps), its velocities are scaled to T = 0.6, and it runs for 72,000 steps at constant volume (Nose-Hoover,
damping 0.5); 40 frames are dumped every 1,800 steps of that quench (the first at step 1,800): a
supercooled liquid, a nucleus that appears and grows, and a crystal (fcc with stacking faults).

State point: rho = 0.98, T = 0.6, where the supercooled liquid's pressure is ~3.4 and the melting
temperature of the 3-sigma potential at that pressure is ~0.9 (between the triple point, T ~ 0.69, and
T_m = 1.0 at P = 4.5 measured in ``thermal_crystals.py``), so T ~ 0.65 T_m: a deep quench. At moderate
undercooling (~20 %) the barrier is ~20 kT and brute-force MD does not see nucleation (ten Wolde,
Ruiz-Montero & Frenkel, J. Chem. Phys. 104, 9932 (1996)); at deep undercooling it becomes fast and
increasingly collective, spinodal-like (Swope & Andersen, Phys. Rev. B 41, 7042 (1990); Trudu, Donadio &
Parrinello, Phys. Rev. Lett. 97, 105701 (2006); Wang, Gould & Klein, Phys. Rev. E 76, 031604 (2007)).
Measured here (4,000 atoms, fraction of particles with Lechner-Dellago <q6> > 0.35, 12 nearest; seeds
0 and 3-5, and three more 64,000-step runs): the crystal appears after 5,000-40,000 steps and fills
the box 15,000-25,000 steps later (final fractions 0.95-1.00; seed 0: 0.00, 0.17, 1.00 at the first,
middle and last frames); at the deeper rho = 0.95, T = 0.5 it appears sooner (15,000-25,000
steps), but one run in four froze into a fine-grained, faulted polycrystal (0.56 after 80,000 steps), and
constant pressure (P = 1, T = 0.5) lowered the liquid's density to 0.94 and delayed nucleation to
~70,000 steps.

Dumps (``id type x y z``, full precision) are cached in ``--cache`` under a hash of their LAMMPS input,
as in ``thermal_crystals.py``; LAMMPS runs serially (~4-6 minutes of MD for 4,000 atoms on a busy core).

    python benchmarks/nucleation.py                       # prints the dump, the MD time, <q6> fractions
    python benchmarks/nucleation.py --atoms 4000 --seed 1 --cache /tmp/nucleation
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from lammps_cache import cached_dump

import simssl
from simssl.compute import Steinhardt

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".thermal_cache"
SETUP = "mass 1 1.0\npair_style lj/cut 3.0\npair_coeff 1 1 1.0 1.0\ntimestep 0.005"  # as thermal_crystals.LJ
MELT = (2.0, 4000)  # temperature and steps of the melt
DENSITY = 0.98
TEMPERATURE = 0.6
FRAMES = 40
SPACING = 1800  # steps between frames
QUENCH = FRAMES * SPACING
CRYSTAL_Q6 = 0.35  # Lechner-Dellago <q6> (12 nearest) above which a particle counts as crystalline


def lammps_input(atoms: int, seed: int) -> str:
    """The LAMMPS commands of the melt and the quench, up to (not including) the dump and the quench run."""
    cells = max(3, round((atoms / 4) ** (1 / 3)))
    hot, melt = MELT
    return (
        "\n".join(
            [
                "units lj",
                "atom_style atomic",
                f"lattice fcc {DENSITY}",
                f"region box block 0 {cells} 0 {cells} 0 {cells}",
                "create_box 1 box",
                "create_atoms 1 box",
                SETUP,
                f"velocity all create {2 * hot} {seed + 1} mom yes dist gaussian",
                f"fix md all nvt temp {hot} {hot} 0.5",
                f"run {melt}",
                "unfix md",
                f"velocity all scale {TEMPERATURE}",
                f"fix md all nvt temp {TEMPERATURE} {TEMPERATURE} 0.5",
            ]
        )
        + "\n"
    )


def simulate(cache: Path, atoms: int = 4000, seed: int = 0) -> tuple[Path, float]:
    """The cached dump (made now if missing) and the seconds of MD spent on it (0 if cached)."""
    return cached_dump(
        cache,
        "nucleation",
        lammps_input(atoms, seed),
        "reset_timestep 0\n"
        f"dump frames all custom {SPACING} {{dump}} id type x y z\n"
        f"dump_modify frames format float %.17g sort id delay {SPACING}\n"
        f"run {QUENCH}\n",
    )


def nucleation_trajectory(cache: Path, atoms: int = 4000, seed: int = 0) -> Path:
    """The LAMMPS dump of one quench (FRAMES frames, supercooled liquid to crystal), simulated if not cached."""
    return simulate(cache, atoms, seed)[0]


def crystalline_fraction(frame) -> float:
    """The fraction of a frame's particles whose averaged q6 (12 nearest) exceeds CRYSTAL_Q6."""
    q6 = Steinhardt(l=(6,), average=True).compute(frame)["q6_avg"]
    return float(np.mean(q6 > CRYSTAL_Q6))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--atoms", type=int, default=4000, help="atoms (an fcc lattice of 4 n^3; default: 4000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial velocities (default: 0)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"folder of the cached dumps (default: {CACHE})")
    args = parser.parse_args(argv)
    path, seconds = simulate(args.cache, args.atoms, args.seed)
    print(path)
    print(f"MD: {f'{seconds:.1f} s (serial LAMMPS)' if seconds else 'none (cached)'}")
    frames = list(simssl.read_frames(path))
    picks = (0, len(frames) // 2, len(frames) - 1)
    fractions = ", ".join(f"{index}: {crystalline_fraction(frames[index]):.2f}" for index in picks)
    print(f"fraction with <q6> > {CRYSTAL_Q6} (frame: fraction): {fractions}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
