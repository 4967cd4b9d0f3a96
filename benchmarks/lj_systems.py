"""Lennard-Jones test systems from LAMMPS for open-set identification: a vapour, a thermal polycrystal and slab.

Lennard-Jones (epsilon = sigma = 1, cut at 3 sigma, no shift: as ``thermal_crystals.py``), serial
LAMMPS, dumps cached in ``--cache`` under a hash of their input (``lammps_cache.cached_dump``):

* Vapour: density 0.02 at T = 1.0 (below the coexisting vapour density, ~0.03-0.04 for this cut)
  and 0.05 at T = 1.3 (above the critical temperature, ~1.2): gases that must not be called
  crystals. A simple-cubic start at the density, Nose-Hoover NVT for ``VAPOUR_EQUILIBRATE`` steps (a
  molecule crosses the box many times), then ``FRAMES`` frames ``VAPOUR_SPACING`` steps apart.
* Thermal polycrystal and slab: ``simssl.library.defects.polycrystal`` (16 random fcc grains) and
  ``defects.slab`` (fcc (001), two free surfaces, not periodic along z: LAMMPS boundary ``p p f``),
  scaled to the nearest-neighbor distance of the LJ crystal near zero pressure (``SCALE``),
  energy-minimized (the construction's grain boundaries are far from relaxed), then held at
  T = 0.35 (about half the zero-pressure melting temperature, ~0.69) at zero pressure (NPT; the
  slab's barostat acts on x and y only) for ``THERMAL_EQUILIBRATE`` steps before ``FRAMES``
  frames. Atom ids keep the construction's order, so its truth (grain, distance to the nearest
  boundary plane, depth below the surface) still names every atom; in these short runs the
  boundaries and surfaces move little (the benchmark also shows adaptive CNA on the same atoms).

    python benchmarks/lj_systems.py          # a few minutes of serial MD the first time
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from lammps_cache import cached_dump

from simssl.library.defects import polycrystal, slab

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".thermal_cache"
SETUP = "mass 1 1.0\npair_style lj/cut 3.0\npair_coeff 1 1 1.0 1.0\ntimestep 0.005"  # as thermal_crystals.LJ
#: (number density, temperature) of the vapours
VAPOURS = ((0.02, 1.0), (0.05, 1.3))
VAPOUR_ATOMS = 2000
VAPOUR_EQUILIBRATE = 10000
VAPOUR_SPACING = 2000
FRAMES = 3
#: the thermal defect runs: temperature, steps before the first frame, between frames
THERMAL_T = 0.35
THERMAL_EQUILIBRATE = 4000
THERMAL_SPACING = 1000
#: nearest-neighbor distance (sigma) of the LJ fcc crystal near zero pressure and T = 0.35
SCALE = 1.09
POLYCRYSTAL = dict(n_grains=16, n_particles=32000)
SLAB = dict(n_particles=8000, layers=24)


def _dump_and_run(spacing: int) -> str:
    return (
        "reset_timestep 0\n"
        f"dump frames all custom {spacing} {{dump}} id type x y z\n"
        "dump_modify frames format float %.17g sort id\n"
        f"run {(FRAMES - 1) * spacing}\n"
    )


def vapour(density: float, temperature: float, cache: Path = CACHE, atoms: int = VAPOUR_ATOMS, seed: int = 0):
    """The cached dump of a Lennard-Jones vapour (made now if missing) and the seconds of MD spent."""
    cells = round(atoms ** (1 / 3))
    commands = "\n".join(
        [
            "units lj",
            "atom_style atomic",
            f"lattice sc {density}",
            f"region box block 0 {cells} 0 {cells} 0 {cells}",
            "create_box 1 box",
            "create_atoms 1 box",
            SETUP,
            f"velocity all create {temperature} {seed + 11} mom yes dist gaussian",
            f"fix md all nvt temp {temperature} {temperature} 0.5",
            f"run {VAPOUR_EQUILIBRATE}",
            "",
        ]
    )
    return cached_dump(cache, f"vapour-{density:g}-{temperature:g}", commands, _dump_and_run(VAPOUR_SPACING))


def data_file(frame, scale: float, cache: Path) -> Path:
    """A LAMMPS data file (atomic, one type) of ``frame`` scaled by ``scale``, named by its content's hash.

    The box is the frame's (centered; freud's orthorhombic boxes only): a padded, non-periodic direction
    keeps its padding, so LAMMPS's fixed boundary there lies far from every atom.
    """
    box = frame.box
    if box.xy or box.xz or box.yz:
        raise SystemExit("data_file writes orthorhombic boxes only")
    half = scale * np.array([box.Lx, box.Ly, box.Lz]) / 2
    lines = ["LAMMPS data file of a simssl test system", "", f"{frame.n_particles} atoms", "1 atom types", ""]
    lines += [f"{-h:.10f} {h:.10f} {axis}lo {axis}hi" for h, axis in zip(half, "xyz")]
    lines += ["", "Atoms # atomic", ""]
    points = scale * frame.positions.astype(np.float64)
    lines += [f"{i + 1} 1 {x:.10f} {y:.10f} {z:.10f}" for i, (x, y, z) in enumerate(points)]
    text = "\n".join(lines) + "\n"
    path = Path(cache) / f"system-{hashlib.sha1(text.encode()).hexdigest()[:12]}.data"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def thermalized(stem: str, frame, boundary: str, barostat: str, cache: Path = CACHE, seed: int = 0):
    """The cached dump of ``frame`` relaxed and held at THERMAL_T (made now if missing), and the seconds spent."""
    commands = "\n".join(
        [
            "units lj",
            "atom_style atomic",
            f"boundary {boundary}",
            f"read_data {data_file(frame, SCALE, cache)}",
            SETUP,
            "minimize 1.0e-6 1.0e-8 1000 10000",
            f"velocity all create {2 * THERMAL_T} {seed + 17} mom yes dist gaussian",
            f"fix md all npt temp {THERMAL_T} {THERMAL_T} 0.5 {barostat}",
            f"run {THERMAL_EQUILIBRATE}",
            "",
        ]
    )
    return cached_dump(cache, stem, commands, _dump_and_run(THERMAL_SPACING))


def thermal_polycrystal(cache: Path = CACHE, seed: int = 0):
    """The thermalized 16-grain polycrystal: (dump path, seconds of MD, the construction's ``Polycrystal`` truth)."""
    grains = polycrystal(**POLYCRYSTAL, seed=seed)
    path, seconds = thermalized("polycrystal", grains.frame, "p p p", "iso 0.0 0.0 5.0", cache, seed)
    return path, seconds, grains


def thermal_slab(cache: Path = CACHE, seed: int = 0):
    """The thermalized (001) slab: (dump path, seconds of MD, the construction's ``Slab`` truth)."""
    film = slab(**SLAB)
    path, seconds = thermalized("slab", film.frame, "p p f", "x 0.0 0.0 5.0 y 0.0 0.0 5.0 couple xy", cache, seed)
    return path, seconds, film


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"folder of the cached dumps (default: {CACHE})")
    args = parser.parse_args(argv)
    runs = {f"vapour rho {d:g} T {t:g}": vapour(d, t, args.cache)[:2] for d, t in VAPOURS}
    runs["polycrystal"] = thermal_polycrystal(args.cache)[:2]
    runs["slab"] = thermal_slab(args.cache)[:2]
    for label, (path, seconds) in runs.items():
        print(f"{label}: {path.name} ({f'MD {seconds:.0f} s' if seconds else 'cached'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
